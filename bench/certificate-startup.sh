#!/usr/bin/env bash
# Start-up with self-managed certificates: two pods (the packaged jar started twice at once with the JAVA_OPTS of
# deploy/base/deployment.yaml, as CertificateTrustIT runs them) from no Secret and no caBundle to both ready, which
# means trusted by the live caBundle, on a real API server (kube-api-test with kube-apiserver 1.20.2, built by
# ../shared/tools/kube-api-test-binaries/install.sh). Each round is timed from launching the two JVMs to the first
# instant both report ready (polled every 10 ms); a pull-secret write is made at that instant and must succeed.
# Prints every round and the median; BENCHMARKS.md has the results.
#
#   bench/certificate-startup.sh              # 7 rounds
#   STARTUPS=15 bench/certificate-startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

STARTUPS=${STARTUPS:-7}
mkdir -p target/it-logs
./mvnw -B -q package -DskipTests > target/certificate-startup-package.log 2>&1 \
  || { echo "the build failed; see target/certificate-startup-package.log" >&2; exit 1; }
rm -f target/it-logs/trust-startup.txt
./mvnw -B -q failsafe:integration-test failsafe:verify -Dit.test='CertificateTrustIT#fromNothing*' -Dstartups="$STARTUPS" \
  > target/it-logs/certificate-startup-maven.log 2>&1 \
  || { echo "the run failed; see target/it-logs/certificate-startup-maven.log" >&2; exit 1; }
cat target/it-logs/trust-startup.txt
sed -n 's/.*: \([0-9]*\) ms.*/\1/p' target/it-logs/trust-startup.txt | sort -n \
  | awk '{v[NR]=$1} END {printf "median of %d rounds: %d ms (min %d, max %d)\n", NR, (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2), v[1], v[NR]}'
