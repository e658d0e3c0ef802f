#!/usr/bin/env bash
# RSS of the packaged jar at several -Xmx (the deployment's other flags kept): idle, peak and steady 10 s after a load
# of wrk (10 s), h2load (100,000 requests) and two bursts of 16 reviews of a 1 MiB Secret. BENCHMARKS.md, "How -Xmx was
# chosen".
#
#   ./mvnw -B package -DskipTests && bench/heap-sizes.sh 128m 96m 80m     # needs wrk, h2load, curl, python3
#   GC="-XX:+UseG1GC -XX:G1PeriodicGCInterval=5000" bench/heap-sizes.sh 128m
set -euo pipefail
cd "$(dirname "$0")/.."
env_of() { sed -n "/name: $1/{n;s/^ *value: \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p}" deploy/base/deployment.yaml; }
export MALLOC_ARENA_MAX=$(env_of MALLOC_ARENA_MAX)
work=$(mktemp -d); pid=""; sampler=""
cleanup() { for p in $pid $sampler; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
python3 bench/make-review.py 10000 "$work/big.json" 2>/dev/null
small=src/test/resources/admission/update-kubectl-edit-password-only.json
for xmx in "$@"; do
  opts=$(env_of JAVA_OPTS | sed "s/-Xmx[0-9]*[mg]/-Xmx$xmx/")
  [ -n "${GC:-}" ] && opts=$(sed "s/-XX:+UseSerialGC/$GC/" <<<"$opts")
  (cd target/quarkus-app && WEBHOOK_TLS_CERT="$work/tls.crt" WEBHOOK_TLS_KEY="$work/tls.key" WEBHOOK_CA_BUNDLE_KEEP=false \
    QUARKUS_HTTP_SSL_PORT=18443 QUARKUS_MANAGEMENT_PORT=19000 exec java $opts -jar quarkus-run.jar) >"$work/log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null http://localhost:19000/q/health/ready; do sleep 0.05; done
  rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status"; }
  sleep 2; idle=$(rss); echo 0 >"$work/peak"
  ( peak=0; while kill -0 "$pid" 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && { peak=$r; echo "$peak" >"$work/peak"; }; sleep 0.2; done ) &
  sampler=$!
  BODY_FILE=$small wrk -t2 -c16 -d10s -s bench/post.lua https://localhost:18443/mutate >/dev/null
  h2load -n 100000 -c 4 -m 16 -d "$small" -H 'Content-Type: application/json' https://localhost:18443/mutate >/dev/null
  codes=""
  for _ in 1 2; do
    c=(); for _ in $(seq 1 16); do curl -sk --http1.1 -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
      --data-binary @"$work/big.json" https://localhost:18443/mutate >>"$work/codes" & c+=($!); done; wait "${c[@]}"
  done
  sleep 10
  echo "-Xmx$xmx ${GC:-}: idle ${idle} MiB, peak $(cat "$work/peak") MiB, steady $(rss) MiB, bursts: $(sort "$work/codes" | uniq -c | tr -s ' ' | tr '\n' ' ')"
  rm -f "$work/codes"; kill "$sampler" "$pid"; wait "$pid" 2>/dev/null || true; pid=""; sampler=""
done
