#!/usr/bin/env bash
# Side-by-side benchmark of this webhook (the packaged jar with the deployment's JAVA_OPTS) and the plain-Go peer in
# ../shared/peers/go-webhook, both over HTTPS on loopback with the same certificate and the same recorded
# AdmissionReview: HTTP/1.1 with wrk, HTTP/2 with h2load. Everything runs on this machine, load generators included.
# Prints each round and the medians; BENCHMARKS.md has the results.
#
#   bench/run.sh          # needs wrk, h2load, openssl, curl, python3, go (Debian: wrk nghttp2-client golang-go)
#   ROUNDS=7 DURATION=15 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}            # measured rounds per webhook, alternating A/B
DURATION=${DURATION:-10}       # seconds per round
WARMUP=${WARMUP:-15}           # seconds of warm-up load per webhook before the rounds
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
STARTS=${STARTS:-5}            # cold starts measured for time-to-ready
H2_REQUESTS=${H2_REQUESTS:-200000}   # per HTTP/2 round: h2load -n $H2_REQUESTS -c 4 -m 16
# The flags deploy/base/deployment.yaml runs the jar with (read from it); the AppCDS archive is made by `./mvnw package`.
env_of() { sed -n "/name: $1/{n;s/^ *value: \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p}" deploy/base/deployment.yaml; }
JAVA_OPTS=${JAVA_OPTS:-$(env_of JAVA_OPTS)}
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-$(env_of MALLOC_ARENA_MAX)}
GO_PEER_DIR=${GO_PEER_DIR:-../shared/peers/go-webhook}
FIXTURE=${FIXTURE:-src/test/resources/admission/update-kubectl-edit-password-only.json}
JAVA_PORT=18443 JAVA_MGMT_PORT=19000 GO_PORT=19462

for tool in wrk h2load openssl curl python3 go; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install wrk nghttp2-client openssl curl python3 golang-go)" >&2; exit 2; }
done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

[ -f target/quarkus-app/quarkus-run.jar ] || ./mvnw -B -q package -DskipTests
cp "$GO_PEER_DIR/main.go" "$work/" && (cd "$work" && GO111MODULE=off go build -o go-webhook main.go)

# One throw-away certificate for both servers (CN/SAN localhost).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null

start_java() {
  WEBHOOK_TLS_CERT="$work/tls.crt" WEBHOOK_TLS_KEY="$work/tls.key" WEBHOOK_CA_BUNDLE_KEEP=false \
  QUARKUS_HTTP_SSL_PORT=$JAVA_PORT QUARKUS_MANAGEMENT_PORT=$JAVA_MGMT_PORT \
    bash -c 'cd target/quarkus-app && exec java '"$JAVA_OPTS"' -jar quarkus-run.jar' >"$work/java.log" 2>&1 &
  java_pid=$!; pids+=("$java_pid")
}
handshake() { curl -s -o /dev/null --cacert "$work/tls.crt" --max-time 1 "https://localhost:$1/" ; }
wait_for() { # port: first the TCP port (bash built-in, cheap), then one TLS handshake
  for _ in $(seq 1 2000); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && break; sleep 0.005; done
  for _ in $(seq 1 500); do handshake "$1" && return 0; sleep 0.005; done; echo "port $1 never answered" >&2; exit 1; }

echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "# $(java -version 2>&1 | head -1); $(go version); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); $(h2load --version | head -1)"
echo "# JAVA_OPTS=$JAVA_OPTS MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX"
echo "# HTTP/1.1: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency; HTTP/2: h2load -n $H2_REQUESTS -c 4 -m 16; body $FIXTURE"

ready() { curl -sf -o /dev/null "http://localhost:$JAVA_MGMT_PORT/q/health/ready"; }
echo; echo "## from process start to ready (/q/health/ready 200) and to the first TLS handshake (java, $STARTS cold starts)"
readies=(); handshakes=()
for i in $(seq 1 "$STARTS"); do
  t0=$(date +%s%N); start_java
  until ready; do sleep 0.01; done; t1=$(date +%s%N)
  wait_for $JAVA_PORT; t2=$(date +%s%N)
  readies+=($(( (t1 - t0) / 1000000 ))); handshakes+=($(( (t2 - t0) / 1000000 )))
  [ "$i" = "$STARTS" ] && idle_rss=$(sleep 5; awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$java_pid/status)
  kill "$java_pid"; wait "$java_pid" 2>/dev/null || true
done
printf 'ready_ms: %s\n' "${readies[*]}"
printf 'first_handshake_ms: %s\n' "${handshakes[*]}"
echo "median_ready_ms: $(printf '%s\n' "${readies[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
echo "idle RSS 5 s after ready: ${idle_rss} MiB"

start_java; wait_for $JAVA_PORT
"$work/go-webhook" "$work/tls.crt" "$work/tls.key" "127.0.0.1:$GO_PORT" >"$work/go.log" 2>&1 &
go_pid=$!; pids+=("$go_pid"); wait_for $GO_PORT

# Both must give a correct answer before they are timed: allowed, and both patching or neither (the default fixture
# needs a patch; FIXTURE=src/test/resources/admission/create-kubectl-create-docker-registry.json is allowed unchanged).
patches=()
for port in $JAVA_PORT $GO_PORT; do
  answer=$(curl -s --cacert "$work/tls.crt" -H 'Content-Type: application/json' --data-binary @"$FIXTURE" \
    "https://localhost:$port/mutate")
  grep -q '"allowed":true' <<<"$answer" || { echo "port $port did not allow the review" >&2; exit 1; }
  patches+=("$(grep -c '"patchType":"JSONPatch"' <<<"$answer" || true)")
done
[ "${patches[0]}" = "${patches[1]}" ] || { echo "the peers disagree on whether $FIXTURE needs a patch" >&2; exit 1; }
echo "# answer: $([ "${patches[0]}" = 1 ] && echo "a patch" || echo "allowed unchanged"), from both"

# RSS of the Java process, sampled every 0.5 s while load runs.
rss_samples="$work/rss"
( while kill -0 "$java_pid" 2>/dev/null; do awk '/VmRSS/ {print $2}' /proc/$java_pid/status >>"$rss_samples" 2>/dev/null; sleep 0.5; done ) &
pids+=($!)

load() { # port seconds -> "req/s p50_ms p99_ms errors"
  BODY_FILE="$FIXTURE" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2"s --latency -s bench/post.lua "https://localhost:$1/mutate" >"$work/wrk.out"
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ {rps=$2} / 50%/ {p50=ms($2)} / 99%/ {p99=ms($2)}
    /Non-2xx/ {err+=$5} /Socket errors/ {gsub(",","");err+=$4+$6+$8+$10}
    END {printf "%.0f %.3f %.3f %d\n", rps, p50, p99, err}' "$work/wrk.out"
}

h2() { # port -> "req/s mean_ms max_ms failed" (h2load reports no percentiles; failed counts every request not 2xx)
  h2load -n "$H2_REQUESTS" -c 4 -m 16 -d "$FIXTURE" -H 'Content-Type: application/json' \
    "https://localhost:$1/mutate" >"$work/h2.out" 2>&1
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^finished in/ {rps=$4} /^requests:/ {failed=$10+$12+$14} /^status codes:/ {non2xx=$5+$7+$9}
    /^time for request:/ {mean=ms($6); max=ms($5)}
    END {printf "%.0f %.3f %.3f %d\n", rps, mean, max, failed+non2xx}' "$work/h2.out"
}

echo; echo "## warm-up: ${WARMUP}s each over HTTP/1.1, one HTTP/2 run each"
load $JAVA_PORT "$WARMUP" >/dev/null; load $GO_PORT "$WARMUP" >/dev/null
h2 $JAVA_PORT >/dev/null; h2 $GO_PORT >/dev/null
warmup_rss_peak=$(sort -n "$rss_samples" | tail -1)
: >"$rss_samples"

rounds() { # results-file-suffix command...: $ROUNDS rounds, the peers alternating which goes first
  : >"$work/java.$1"; : >"$work/go.$1"
  local suffix=$1; shift
  for r in $(seq 1 "$ROUNDS"); do
    if (( r % 2 )); then order="java go"; else order="go java"; fi
    for peer in $order; do
      port=$JAVA_PORT; [ "$peer" = go ] && port=$GO_PORT
      result=$("$@" $port)
      echo "$result" >>"$work/$peer.$suffix"
      printf '%-6s %-5s %10s %9s %9s %7s\n' "$r" "$peer" $result
    done
  done
}
wrk_round() { load "$1" "$DURATION"; }

echo; echo "## rounds (req/s, p50 ms, p99 ms, errors)"
printf '%-6s %-5s %10s %9s %9s %7s\n' round peer req/s p50_ms p99_ms errors
rounds rounds wrk_round

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$2" '{print $c}' "$work/$1.rounds" | median; }
j_rps=$(col java 1); g_rps=$(col go 1); j_p99=$(col java 3); g_p99=$(col go 3)
j_err=$(awk '{s+=$4} END {print s}' "$work/java.rounds"); g_err=$(awk '{s+=$4} END {print s}' "$work/go.rounds")
echo; echo "## medians"
echo "java: ${j_rps} req/s, p50 $(col java 2) ms, p99 ${j_p99} ms, errors ${j_err}"
echo "go:   ${g_rps} req/s, p50 $(col go 2) ms, p99 ${g_p99} ms, errors ${g_err}"
echo "throughput ratio java/go: $(awk -v a="$j_rps" -v b="$g_rps" 'BEGIN {printf "%.2f", a/b}')"
echo "p99 ratio java/go:        $(awk -v a="$j_p99" -v b="$g_p99" 'BEGIN {printf "%.2f", a/b}')"
echo "java RSS during the measured rounds: max $(sort -n "$rss_samples" | tail -1 | awk '{printf "%.0f MiB", $1/1024}'), median $(median <"$rss_samples" | awk '{printf "%.0f MiB", $1/1024}')"
echo "java RSS peak during start-up and warm-up (JIT compilation): $(awk '{printf "%.0f MiB", $1/1024}' <<<"$warmup_rss_peak")"

echo; echo "## HTTP/2 rounds (h2load: req/s, mean ms, max ms, failed)"
printf '%-6s %-5s %10s %9s %9s %7s\n' round peer req/s mean_ms max_ms failed
rounds h2 h2
h2col() { awk -v c="$2" '{print $c}' "$work/$1.h2" | median; }
echo "java: $(h2col java 1) req/s, mean $(h2col java 2) ms, failed $(awk '{s+=$4} END {print s}' "$work/java.h2")"
echo "go:   $(h2col go 1) req/s, mean $(h2col go 2) ms, failed $(awk '{s+=$4} END {print s}' "$work/go.h2")"
echo "HTTP/2 throughput ratio java/go: $(awk -v a="$(h2col java 1)" -v b="$(h2col go 1)" 'BEGIN {printf "%.2f", a/b}')"
echo "java RSS 10 s after the load: $(sleep 10; awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' /proc/$java_pid/status)"

echo; echo "## latency by secret size (java, one connection, ${DURATION}s each, after warm-up)"
printf '%-11s %12s %9s %9s %9s\n' registries data_bytes req/s p50_ms p99_ms
for n in 1 100 1000 10000; do  # 10000 registries make a 1 MiB document: the Secret size limit
  body="$work/review-$n.json"
  python3 bench/make-review.py "$n" "$body" 2>"$work/size.txt"
  bytes=$(sed -E 's/.*data ([0-9]+) bytes/\1/' "$work/size.txt")
  curl -s --cacert "$work/tls.crt" -H 'Content-Type: application/json' --data-binary @"$body" \
    "https://localhost:$JAVA_PORT/mutate" | grep -q '"patchType":"JSONPatch"' || { echo "no patch for $n registries" >&2; exit 1; }
  BODY_FILE="$body" wrk -t1 -c1 -d3s -s bench/post.lua "https://localhost:$JAVA_PORT/mutate" >/dev/null
  BODY_FILE="$body" wrk -t1 -c1 -d"$DURATION"s --latency -s bench/post.lua "https://localhost:$JAVA_PORT/mutate" >"$work/wrk.out"
  awk -v n="$n" -v b="$bytes" '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ {rps=$2} / 50%/ {p50=ms($2)} / 99%/ {p99=ms($2)}
    END {printf "%-11s %12s %9.0f %9.3f %9.3f\n", n, b, rps, p50, p99}' "$work/wrk.out"
done
