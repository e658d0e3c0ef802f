#!/usr/bin/env bash
# Memory of the packaged webhook, started exactly as deploy/base/deployment.yaml runs it (its JAVA_OPTS and
# MALLOC_ARENA_MAX, read from that file), under the inputs that used to exhaust its heap. Prints, per phase, in MiB: the
# peak RSS (sampled every 100 ms from /proc), the peak heap in use and the live heap after full GCs (from -Xlog:gc),
# plus the answers' status codes, and the latency of normal reviews sent on another connection meanwhile.
#
#   ./mvnw -B package -DskipTests && bench/memory.sh      # needs curl, openssl, python3 with h2 (Debian: python3-h2)
#   PYTHON=/usr/bin/python3 bench/memory.sh   # the Python that has h2, where python3 is another one
#   PIN=1 bench/memory.sh     # the webhook on core 0, every client on core 1 (needs taskset): the server's own latency
#   CLIENTS_NICE=19 bench/memory.sh   # the attacking clients at nice 19, as if on other machines (as the API server is):
#                             # they get the CPU the webhook leaves; the normal-review probe stays at normal priority
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${PIN:-0}" = 1 ] && [ -z "${PINNED:-}" ]; then PINNED=1 exec taskset -c 1 bash "$0" "$@"; fi
PORT=${PORT:-18443} MGMT_PORT=${MGMT_PORT:-19000}
for tool in curl openssl python3; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }; done
[ -f target/quarkus-app/quarkus-run.jar ] || ./mvnw -B -q package -DskipTests
work=$(mktemp -d); pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

env_of() { sed -n "/name: $1/{n;s/^ *value: \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p}" deploy/base/deployment.yaml; }
JAVA_OPTS=${JAVA_OPTS:-$(env_of JAVA_OPTS)}; export MALLOC_ARENA_MAX=$(env_of MALLOC_ARENA_MAX)  # JAVA_OPTS=... to try other flags
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
python3 bench/make-review.py 10000 "$work/update-1mib.json"
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$work/9mib.json"
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$work/8mib.json"
python3 - "$work/crafted.json" <<'PY'
import base64, json, sys
doc = '{"auths":{' + ','.join(['"a":0'] * 350000) + '}}'
review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "crafted",
          "operation": "CREATE", "name": "crafted", "namespace": "default", "object": {"apiVersion": "v1",
          "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
          "data": {".dockerconfigjson": base64.b64encode(doc.encode()).decode()}}}}
open(sys.argv[1], "w").write(json.dumps(review))
PY

echo "# $(java -version 2>&1 | head -1); JAVA_OPTS=$JAVA_OPTS MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX"
echo "# bodies: $(stat -c %s "$work/update-1mib.json") B (1 MiB secret, UPDATE), $(stat -c %s "$work/crafted.json") B (crafted)"
(cd target/quarkus-app && WEBHOOK_TLS_CERT="$work/tls.crt" WEBHOOK_TLS_KEY="$work/tls.key" QUARKUS_HTTP_SSL_PORT=$PORT WEBHOOK_CA_BUNDLE_KEEP=false \
  QUARKUS_MANAGEMENT_PORT=$MGMT_PORT exec ${PINNED:+taskset -c 0} java $JAVA_OPTS -Xlog:gc:file="$work/gc.log" -jar quarkus-run.jar) \
  >"$work/webhook.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -sf "http://localhost:$MGMT_PORT/q/health/ready" >/dev/null && break; sleep 0.1; done
grep -o "memory budget.*" "$work/webhook.log" | head -1

rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status"; }
post() { send --data-binary @"$1"; }
send() { nice -n "${CLIENTS_NICE:-0}" curl -sk --http1.1 -o /dev/null -w '%{http_code}\n' --max-time 60 -H 'Content-Type: application/json' \
  "$@" "https://localhost:$PORT/mutate"; }
gc_mark() { wc -l <"$work/gc.log"; }
# Since GC log line $1 ("... Pause Young (Allocation Failure) 40M->12M(61M) ..."): the largest heap left after a
# full GC (what was live), and the largest heap in use before any GC (what the heap had to hold, garbage included).
# After a young GC, Serial still counts dead arrays in the old generation, so only full GCs measure live data.
live_after_full_gc() { tail -n +"$1" "$work/gc.log" | grep 'Pause Full' | grep -o -- '->[0-9]*M' | tr -d '>M-' | sort -n | tail -1; }
heap_before_gc() { tail -n +"$1" "$work/gc.log" | grep -o -- ' [0-9]*M->' | tr -d ' M>-' | sort -n | tail -1; }
phase() { # name, command...
  local name=$1; shift
  local mark; mark=$(gc_mark); local peak=0
  ( "$@" >"$work/answers" 2>"$work/phase-note" ) & local job=$!
  while kill -0 "$job" 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.1; done
  wait "$job" || true
  kill -0 "$pid" || { echo "$name: THE WEBHOOK DIED"; tail -5 "$work/webhook.log"; exit 1; }
  printf '%-34s rss_peak=%-4s heap_peak=%-3s live_after_full_gc=%-3s answers: %s\n' "$name" "$peak" \
    "$(heap_before_gc "$mark")" "$(live_after_full_gc "$mark")" \
    "$(sort "$work/answers" | uniq -c | awk '{printf "%s x%s ", $2, $1}')"
  [ -s "$work/phase-note" ] && sed 's/^/    /' "$work/phase-note"; : >"$work/phase-note"
}
# Normal reviews one after another on one kept-alive connection (as the API server calls), every 50 ms while an
# attack runs: each one's latency goes to $work/latency, and the phase line reports their count and the slowest.
normal_meanwhile() {
  python3 - "$PORT" "$work/attack-done" "$work/latency" <<'PY'
import http.client, os, ssl, sys, time
port, done, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = open("src/test/resources/admission/update-kubectl-edit-password-only.json", "rb").read()
context = ssl._create_unverified_context()
connection = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
with open(out, "w") as latencies:
    while not os.path.exists(done):
        start = time.perf_counter()
        connection.request("POST", "/mutate", body, {"Content-Type": "application/json"})
        response = connection.getresponse(); response.read()
        latencies.write("%f\n" % (time.perf_counter() - start if response.status == 200 else 999))
        latencies.flush()
        time.sleep(0.05)
PY
}
with_normal_reviews() {
  rm -f "$work/attack-done" "$work/latency"; normal_meanwhile & local watcher=$!
  sleep 0.5 # connected and sending before the attack starts
  "$@"; sleep 0.2; touch "$work/attack-done"; wait "$watcher"
  sort -n "$work/latency" | awk '{v[NR]=$1} END {printf "normal reviews meanwhile: %d, median %.0f ms, slowest %.0f ms\n",
    NR, v[int((NR+1)/2)]*1000, v[NR]*1000}' >&2
}
# Each waits for its own posts only (a bare `wait` would also wait for the normal-review watcher).
burst() { local p=(); for _ in $(seq 1 16); do post "$work/update-1mib.json" & p+=($!); done; wait "${p[@]}"; }
# The same sixteen as the API server sends them: multiplexed over HTTP/2 by one client (curl -Z: one connection, more
# when the webhook's eight streams per connection are taken).
burst_h2() {
  local urls=(); for _ in $(seq 1 16); do urls+=(-o /dev/null -w '%{http_code}\n' "https://localhost:$PORT/mutate"); done
  nice -n "${CLIENTS_NICE:-0}" curl -sk --http2 -Z --parallel-max 16 --max-time 60 -H 'Content-Type: application/json' \
    --data-binary @"$work/update-1mib.json" "${urls[@]}"
}
crafted() { post "$work/crafted.json" & local a=$!; post "$work/crafted.json" & wait "$a" $!; }
# Bodies sent without a length: refused (411) on their headers. Blank bodies of 8 MiB crawling in at 300 KB/s: as
# many as the budget holds are read until the review deadline (10 s) cuts them, the rest get 503 after the budget wait.
chunked() { local p=(); for _ in $(seq 1 16); do send -H 'Transfer-Encoding: chunked' --data-binary @"$work/9mib.json" & p+=($!); done; wait "${p[@]}"; }
crawling() { local p=(); for _ in $(seq 1 16); do send --limit-rate 300k --data-binary @"$work/8mib.json" & p+=($!); done; wait "${p[@]}"; }
normal() { for _ in $(seq 1 200); do post src/test/resources/admission/update-kubectl-edit-password-only.json; done; }

attack() { "${PYTHON:-python3}" bench/attacks.py "$PORT" "$@" >&2; }
# The first burst comes right after readiness, as it can in a cluster: nothing is warmed up.
phase "idle, after start-up" sleep 5
phase "16 x 1 MiB UPDATE at once" with_normal_reviews burst
phase "16 x 1 MiB UPDATE at once (again)" with_normal_reviews burst
phase "16 x 1 MiB UPDATE over HTTP/2" with_normal_reviews burst_h2
phase "200 normal reviews, one at a time" normal
phase "crafted 2.8 MB document x2" with_normal_reviews crafted
phase "16 chunked bodies over 8 MiB" with_normal_reviews chunked
phase "16 uploads of 8 MiB at 300 KB/s" with_normal_reviews crawling
phase "16 clients that never read" with_normal_reviews attack slow-readers "$work/update-1mib.json"
phase "TLS handshake flood, 5 s" with_normal_reviews attack handshakes
phase "2000 idle connections" with_normal_reviews attack idle 2000
phase "200 pipelined HTTP/1.1 requests" with_normal_reviews attack pipelined 200 src/test/resources/admission/update-kubectl-edit-password-only.json
# Other clients (other loopback addresses) that hold the budget: the normal reviews (127.0.0.1) get their fair share.
phase "HTTP/2 never read, from 127.0.0.2" with_normal_reviews attack h2-never-read "$work/update-1mib.json"
phase "slow small uploads: 8 from one address" with_normal_reviews attack slow-small 8 127.0.0.2
phase "slow small uploads: 3 from each of 4" with_normal_reviews attack slow-small 3 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5
phase "idle, after the attacks" sleep 10
echo "steady RSS after the attacks: $(rss) MiB"

