#!/usr/bin/env bash
# Proxy throughput benchmark (issue 7): wrk against the backend directly, the edge proxy, nginx and
# HAProxy (both configured as reverse proxies to the same backend), in one run, with the same wrk
# threads, connections and duration for every target. Optionally a fifth target, edge-before: a
# baseline edge proxy jar (or the same jar with other JVM flags) measured in the same rounds, so a
# change's before and after come from one run on the same machine state.
#
#   bash lb-benchmarks/proxy/run-proxy-bench.sh [-t 2] [-c 64] [-d 10] [-w 10] [-r 3]
#       [--shapes small,c1,c256,16k,1m,upload1m | --shapes all] [--baseline-jar OLD.jar]
#
# Request shapes (--shapes, default small): each is its own block of warm-up and rounds with its own
# wrk settings, and its own section of the table:
#   small     GET, 63-byte answer, -t/-c as given (the issue 7 measurement);
#   c1        the same with 1 connection and 1 wrk thread: latency, with each proxy's p50 overhead
#             over the direct backend;
#   c256      the same with 256 connections (twice the edge proxy's 128-connection upstream pool);
#   16k, 1m   GET of a fixed 16 KiB / 1 MiB file, -t/-c as given;
#   upload1m  POST of a 1 MiB body answered with the 63-byte body, -t/-c as given.
#
# Run it from anywhere in the repository, as root or with wrk, nginx and haproxy installed (it
# installs the missing ones with apt-get). Run it on a quiet machine: every other process competes
# with wrk, the backend and the proxy for the same cores.
#
# What it does, in order:
#   1. installs wrk, nginx and haproxy when missing; builds lb-edge/target/edge-proxy.jar when missing
#      (--rebuild forces it, e.g. after changing lb-edge);
#   2. starts one backend (a dedicated nginx answering a fixed body, and the fixed files of the
#      big-response shapes, see backend-nginx.conf), then nginx, HAProxy and the edge proxy (and the
#      baseline edge proxy) as reverse proxies to it, each on its own loopback port, all as children
#      of this script that are stopped on exit;
#   3. checks, for every shape, that every target answers 200 with exactly the backend's bytes
#      (fails loudly if not);
#   4. per shape: warms every target up (the edge proxy's JIT needs it, for each shape's code
#      paths; the others get the same), then runs N rounds in which the targets are measured one
#      after another, the order rotated each round so no target always runs first or last; after
#      each run it records the target's CPU time and its resident memory (RSS);
#   5. prints the medians over rounds as a markdown table per shape (ratios against nginx, and the
#      edge proxy against its baseline) and writes the raw results to
#      lb-benchmarks/results/proxy-<UTC date-time>.{json,txt} (with --targets, a subset for quick
#      checks and profiling, to the run's temporary directory instead).
# Exits 3 when wrk saw socket errors or non-2xx answers (the table shows them; the numbers of such
# a run are not a measurement), 1 on any other failure.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$REPO_ROOT/lb-benchmarks/proxy"
SCRIPT_NAME=run-proxy-bench
# shellcheck source=common.sh
source "$HERE/common.sh"
cd "$REPO_ROOT"

# Defaults: wrk's threads = the machine's 2 cores; 64 connections = enough concurrency to keep every
# proxy busy on 2 cores without queueing past the edge proxy's 128-connection upstream pool; 10 s
# per measurement x 3 rounds keeps the whole run near 3 minutes, short enough to hold the shared lock.
THREADS=2
CONNECTIONS=64
DURATION=10
WARMUP=10
ROUNDS=3
PORT_BASE=19080
REBUILD=false
JAR=lb-edge/target/edge-proxy.jar
TARGETS=()
BASELINE_JAR=
SHAPES=(small)
ALL_SHAPES=(small c1 c256 16k 1m upload1m)
# The Dockerfile's JVM flags, with a fixed heap in place of its container-relative one. (Not named
# EDGE_*: the proxy refuses unknown EDGE_* variables, and it inherits this environment.)
PROXY_BENCH_JAVA_OPTS=${PROXY_BENCH_JAVA_OPTS:-"-XX:+UseParallelGC -Xms256m -Xmx256m -XX:MaxDirectMemorySize=128m -XX:+ExitOnOutOfMemoryError"}
# Its own variable: the baseline may be the same jar with other JVM flags.
PROXY_BENCH_BASELINE_JAVA_OPTS=${PROXY_BENCH_BASELINE_JAVA_OPTS:-$PROXY_BENCH_JAVA_OPTS}
REQUEST_PATH=/proxy/bench/hello
# 64 bytes: a small API answer. The edge proxy strips /proxy/bench; the backend answers any path.
BODY='edge-balancer proxy benchmark: fixed 64-byte backend response.'
BODY="$BODY$(printf '%*s' $((63 - ${#BODY})) '' | tr ' ' '.')"
BIG_16K=16384
BIG_1M=1048576

usage() {
  cat <<EOF
usage: $0 [options]
  -t, --threads N       wrk threads (default $THREADS)
  -c, --connections N   wrk connections, the same for every target (default $CONNECTIONS)
  -d, --duration S      seconds per measured run (default $DURATION)
  -w, --warmup S        seconds of warm-up per target before the rounds (default $WARMUP)
  -r, --rounds N        rounds per shape; each measures every target once (default $ROUNDS)
      --shapes LIST     comma-separated request shapes, each its own warm-up, rounds and table
                        section (default small; 'all' = ${ALL_SHAPES[*]}):
                          small     GET, ${#BODY}-byte answer, -t/-c as given
                          c1        the same, 1 connection and 1 wrk thread (latency; the table
                                    shows each proxy's p50 overhead over the direct backend)
                          c256      the same, 256 connections
                          16k, 1m   GET of a fixed $BIG_16K / $BIG_1M-byte file, -t/-c as given
                          upload1m  POST of a $BIG_1M-byte body, ${#BODY}-byte answer, -t/-c as given
      --targets LIST    comma-separated subset of backend,edge,edge-before,nginx,haproxy to measure
                        (default all; a subset is for quick checks and profiling, not for the
                        recorded table)
      --port-base P     backend port; nginx, HAProxy, edge, edge admin use P+1..P+4, the baseline
                        edge and its admin P+5 and P+6 (default $PORT_BASE)
      --rebuild         rebuild lb-edge/target/edge-proxy.jar even if it exists
      --edge-jar PATH   run this edge proxy jar instead (e.g. a copy built before a change)
      --baseline-jar PATH
                        also measure this edge proxy jar, as the target edge-before ("before" in
                        the table, with the edge proxy's req/s and CPU per request against it),
                        in the same rounds; it may be the same jar as --edge-jar with other flags
  PROXY_BENCH_JAVA_OPTS           JVM flags for the edge proxy (default: $PROXY_BENCH_JAVA_OPTS)
  PROXY_BENCH_BASELINE_JAVA_OPTS  JVM flags for edge-before (default: PROXY_BENCH_JAVA_OPTS)

Every shape runs -w seconds of warm-up per target and -r rounds of -d seconds per target: with
--shapes all, five targets and the defaults, about 20 minutes.
EOF
}

COMMAND_LINE="bash lb-benchmarks/proxy/run-proxy-bench.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    -t | --threads | -c | --connections | -d | --duration | -w | --warmup | -r | --rounds | --port-base | --targets | --edge-jar | --baseline-jar | --shapes)
      [[ $# -ge 2 ]] || die "$1 needs a value" ;;
  esac
  case "$1" in
    -t | --threads) THREADS=${2:-}; shift 2 ;;
    -c | --connections) CONNECTIONS=${2:-}; shift 2 ;;
    -d | --duration) DURATION=${2:-}; DURATION=${DURATION%s}; shift 2 ;;
    -w | --warmup) WARMUP=${2:-}; WARMUP=${WARMUP%s}; shift 2 ;;
    -r | --rounds) ROUNDS=${2:-}; shift 2 ;;
    --port-base) PORT_BASE=${2:-}; shift 2 ;;
    --targets) IFS=, read -r -a TARGETS <<<"$2"; shift 2 ;;
    --rebuild) REBUILD=true; shift ;;
    --edge-jar) JAR=$2; shift 2 ;;
    --baseline-jar) BASELINE_JAR=$2; shift 2 ;;
    --shapes) IFS=, read -r -a SHAPES <<<"$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
positive_int --threads "$THREADS"
positive_int --connections "$CONNECTIONS"
positive_int --duration "$DURATION"
positive_int --warmup "$WARMUP"
positive_int --rounds "$ROUNDS"
positive_int --port-base "$PORT_BASE"
DEFAULT_TARGETS=(backend edge nginx haproxy)
if [[ -n $BASELINE_JAR ]]; then
  [[ -f $BASELINE_JAR ]] || die "--baseline-jar: no such file '$BASELINE_JAR'"
  DEFAULT_TARGETS=(backend edge edge-before nginx haproxy)
fi
((${#TARGETS[@]} > 0)) || TARGETS=("${DEFAULT_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
  [[ $t =~ ^(backend|edge|edge-before|nginx|haproxy)$ ]] \
    || die "--targets: unknown target '$t' (known: backend, edge, edge-before, nginx, haproxy)"
  [[ $t != edge-before || -n $BASELINE_JAR ]] || die "--targets: edge-before needs --baseline-jar"
done
# The baseline JVM runs only when measured: an idle JVM still takes memory and some CPU.
RUN_BEFORE=false
[[ " ${TARGETS[*]} " != *" edge-before "* ]] || RUN_BEFORE=true
[[ ${SHAPES[*]} == all ]] && SHAPES=("${ALL_SHAPES[@]}")
((${#SHAPES[@]} > 0)) || die "--shapes is empty"
for s in "${SHAPES[@]}"; do
  [[ " ${ALL_SHAPES[*]} " == *" $s "* ]] || die "--shapes: unknown shape '$s' (known: ${ALL_SHAPES[*]}, or all)"
done
((CONNECTIONS >= THREADS)) || die "--connections ($CONNECTIONS) must be at least --threads ($THREADS)"
((PORT_BASE + 6 <= 65535)) || die "--port-base must be at most 65529, was $PORT_BASE"

BACKEND_PORT=$PORT_BASE
NGINX_PORT=$((PORT_BASE + 1))
HAPROXY_PORT=$((PORT_BASE + 2))
EDGE_PORT=$((PORT_BASE + 3))
EDGE_ADMIN_PORT=$((PORT_BASE + 4))
EDGE_BEFORE_PORT=$((PORT_BASE + 5))
EDGE_BEFORE_ADMIN_PORT=$((PORT_BASE + 6))
declare -A PORT_OF=([backend]=$BACKEND_PORT [edge]=$EDGE_PORT [edge-before]=$EDGE_BEFORE_PORT
  [nginx]=$NGINX_PORT [haproxy]=$HAPROXY_PORT)

# Each shape's wrk settings, path, method, request body size and the file holding the exact bytes
# every target must answer (written in step 3). Shapes other than c1 and c256 take -t and -c.
declare -A SHAPE_THREADS=([small]=$THREADS [c1]=1 [c256]=$((THREADS < 256 ? THREADS : 256))
  [16k]=$THREADS [1m]=$THREADS [upload1m]=$THREADS)
declare -A SHAPE_CONNECTIONS=([small]=$CONNECTIONS [c1]=1 [c256]=256 [16k]=$CONNECTIONS
  [1m]=$CONNECTIONS [upload1m]=$CONNECTIONS)
declare -A SHAPE_PATH=([small]=$REQUEST_PATH [c1]=$REQUEST_PATH [c256]=$REQUEST_PATH
  [16k]=/proxy/bench/files/16k [1m]=/proxy/bench/files/1m [upload1m]=/proxy/bench/upload)
declare -A SHAPE_METHOD=([small]=GET [c1]=GET [c256]=GET [16k]=GET [1m]=GET [upload1m]=POST)
declare -A SHAPE_REQUEST_BYTES=([small]=0 [c1]=0 [c256]=0 [16k]=0 [1m]=0 [upload1m]=$BIG_1M)
declare -A SHAPE_EXPECTED=([small]=expected.body [c1]=expected.body [c256]=expected.body
  [16k]=www/16k [1m]=www/1m [upload1m]=expected.body)

# ---- 1. tools ------------------------------------------------------------------------------------

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]} > 0)); then
  [[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root"
  echo "== installing ${missing[*]} with apt-get"
  # Another apt-get may hold the dpkg lock on a shared machine: wait for it (bounded) instead of failing.
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
fi
PATH="$PATH:/usr/sbin"
command -v python3 >/dev/null || die "python3 is needed for the summary (as for jmh-table.py)"

if [[ $REBUILD == true || ( ! -f $JAR && $JAR == lb-edge/target/edge-proxy.jar ) ]]; then
  echo "== building $JAR"
  mvn -q -B -pl lb-edge -am package -DskipTests
fi
[[ -f $JAR ]] || die "$JAR was not built"

# ---- 2. processes --------------------------------------------------------------------------------

RUN_DIR=$(mktemp -d /tmp/proxy-bench.XXXXXX)
CHILDREN=()

stop_children() {
  local pid
  for pid in "${CHILDREN[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  # Bounded: anything still alive after 5 s is killed.
  for _ in $(seq 50); do
    local alive=0
    for pid in "${CHILDREN[@]}"; do
      kill -0 "$pid" 2>/dev/null && alive=1
    done
    ((alive == 0)) && break
    sleep 0.1
  done
  for pid in "${CHILDREN[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap 'stop_children; echo "run-proxy-bench: logs and configs kept in $RUN_DIR" >&2' EXIT
trap 'exit 130' INT TERM

PORTS=($BACKEND_PORT $NGINX_PORT $HAPROXY_PORT $EDGE_PORT $EDGE_ADMIN_PORT)
[[ $RUN_BEFORE == false ]] || PORTS+=($EDGE_BEFORE_PORT $EDGE_BEFORE_ADMIN_PORT)
for p in "${PORTS[@]}"; do
  port_in_use "$p" && die "port $p is in use on 127.0.0.1; pick other ports with --port-base"
done

render() { # template [output edge-port edge-admin-port] -> $RUN_DIR/output (default: the template's name)
  sed -e "s|@RUN_DIR@|$RUN_DIR|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" -e "s|@NGINX_PORT@|$NGINX_PORT|g" \
    -e "s|@HAPROXY_PORT@|$HAPROXY_PORT|g" -e "s|@EDGE_PORT@|${3:-$EDGE_PORT}|g" \
    -e "s|@EDGE_ADMIN_PORT@|${4:-$EDGE_ADMIN_PORT}|g" -e "s|@BODY@|$BODY|g" "$HERE/$1" >"$RUN_DIR/${2:-$1}"
}
for f in backend-nginx.conf nginx.conf haproxy.cfg edge.yaml; do
  render "$f"
done
# The baseline gets its own copy, the same settings on its own ports.
[[ $RUN_BEFORE == false ]] || render edge.yaml edge-before.yaml "$EDGE_BEFORE_PORT" "$EDGE_BEFORE_ADMIN_PORT"
mkdir -p "$RUN_DIR/backend-tmp" "$RUN_DIR/nginx-tmp" "$RUN_DIR/www"
# Run as root, nginx's workers drop to an unprivileged user: they must be able to reach the
# backend's files through mktemp's private (0700) directory.
chmod 711 "$RUN_DIR"
chmod 755 "$RUN_DIR/www"

# The big-response shapes' files, fixed content (text, so a mismatch shown by step 3 is readable);
# the backend serves them from here, and step 3 compares every target's answer with them.
fixed_bytes() { # count line -> the line repeated, cut at count bytes
  # "|| true": yes ends by SIGPIPE when head has enough, which pipefail would count as a failure.
  { yes "$2" || true; } | head -c "$1"
}
fixed_bytes "$BIG_16K" 'edge-balancer proxy benchmark: fixed file content, the same every run.' >"$RUN_DIR/www/16k"
fixed_bytes "$BIG_1M" 'edge-balancer proxy benchmark: fixed file content, the same every run.' >"$RUN_DIR/www/1m"
# The backend's upload location needs a file to refuse the POST on (see backend-nginx.conf).
printf 'placeholder\n' >"$RUN_DIR/www/upload"
# The upload1m body for step 3's curl (wrk builds its own, of the same size, in wrk-upload.lua).
fixed_bytes "$BIG_1M" 'edge-balancer proxy benchmark: upload body.' >"$RUN_DIR/upload.body"

wait_for() { # name url pid: up to 30 s for a 200
  local i
  for i in $(seq 300); do
    kill -0 "$3" 2>/dev/null || die "$1 exited at start: $(tail -5 "$RUN_DIR/$1.log")"
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$2" || true) == 200 ]] && return 0
    sleep 0.1
  done
  die "$1 did not answer 200 on $2 within 30 s: $(tail -5 "$RUN_DIR/$1.log")"
}

echo "== starting backend, nginx, HAProxy and the edge proxy$([[ $RUN_BEFORE == false ]] || echo ' and its baseline') (logs in $RUN_DIR)"
nginx -q -t -p "$RUN_DIR" -c "$RUN_DIR/backend-nginx.conf" -e "$RUN_DIR/backend-error.log" \
  || die "backend-nginx.conf is invalid"
nginx -p "$RUN_DIR" -c "$RUN_DIR/backend-nginx.conf" -e "$RUN_DIR/backend-error.log" >"$RUN_DIR/backend.log" 2>&1 &
CHILDREN+=($!)
wait_for backend "http://127.0.0.1:$BACKEND_PORT/backend-status" "$!"

nginx -q -t -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" || die "nginx.conf is invalid"
nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" >"$RUN_DIR/nginx.log" 2>&1 &
CHILDREN+=($!)
NGINX_PID=$!

haproxy -q -c -f "$RUN_DIR/haproxy.cfg" || die "haproxy.cfg is invalid"
haproxy -db -f "$RUN_DIR/haproxy.cfg" >"$RUN_DIR/haproxy.log" 2>&1 &
CHILDREN+=($!)
HAPROXY_PID=$!

# shellcheck disable=SC2086 # PROXY_BENCH_JAVA_OPTS is a list of flags
java $PROXY_BENCH_JAVA_OPTS -jar "$JAR" --config "$RUN_DIR/edge.yaml" >"$RUN_DIR/edge.log" 2>&1 &
CHILDREN+=($!)
EDGE_PID=$!
BACKEND_PID=${CHILDREN[0]}
declare -A PID_OF=([backend]=$BACKEND_PID [edge]=$EDGE_PID [nginx]=$NGINX_PID [haproxy]=$HAPROXY_PID)

if [[ $RUN_BEFORE == true ]]; then
  # shellcheck disable=SC2086 # PROXY_BENCH_BASELINE_JAVA_OPTS is a list of flags
  java $PROXY_BENCH_BASELINE_JAVA_OPTS -jar "$BASELINE_JAR" --config "$RUN_DIR/edge-before.yaml" \
    >"$RUN_DIR/edge-before.log" 2>&1 &
  CHILDREN+=($!)
  PID_OF[edge-before]=$!
fi

wait_for nginx "http://127.0.0.1:$NGINX_PORT$REQUEST_PATH" "$NGINX_PID"
wait_for haproxy "http://127.0.0.1:$HAPROXY_PORT$REQUEST_PATH" "$HAPROXY_PID"
wait_for edge "http://127.0.0.1:$EDGE_PORT/readyz" "$EDGE_PID"
[[ $RUN_BEFORE == false ]] || wait_for edge-before "http://127.0.0.1:$EDGE_BEFORE_PORT/readyz" "${PID_OF[edge-before]}"

# ---- 3. every target answers the backend's body ----------------------------------------------------

printf '%s' "$BODY" >"$RUN_DIR/expected.body"
for shape in "${SHAPES[@]}"; do
  method=${SHAPE_METHOD[$shape]}
  expected="$RUN_DIR/${SHAPE_EXPECTED[$shape]}"
  upload=()
  # As wrk sends it: the whole body at once, no "Expect: 100-continue" (curl's default for big bodies).
  [[ $method == GET ]] || upload=(-X "$method" -H 'Expect:' -H 'Content-Type: application/octet-stream'
    --data-binary "@$RUN_DIR/upload.body")
  for t in "${TARGETS[@]}"; do
    url="http://127.0.0.1:${PORT_OF[$t]}${SHAPE_PATH[$shape]}"
    out="$RUN_DIR/verify-$shape-$t"
    code=$(curl -sS --max-time 5 "${upload[@]}" -D "$out.headers" -o "$out.body" -w '%{http_code}' "$url") \
      || die "$t: $method $url failed (shape $shape)"
    [[ $code == 200 ]] || die "$t: $method $url answered $code, not 200 (shape $shape): $(head -c 300 "$out.body")"
    cmp -s "$expected" "$out.body" || die "$t: $method $url did not return the backend's \
$(stat -c %s "$expected") bytes (shape $shape); got $(stat -c %s "$out.body") bytes: $(head -c 300 "$out.body")"
    echo "   $shape, $t: $method $url$([[ $method == GET ]] || echo " with $BIG_1M bytes") -> 200, the backend's $(stat -c %s "$expected") bytes"
  done
done

# ---- 4. warm-up and rounds -----------------------------------------------------------------------

# Connections the backend has accepted so far (nginx stub_status, 3rd line: accepts handled requests).
backend_accepts() {
  curl -s --max-time 5 "http://127.0.0.1:$BACKEND_PORT/backend-status" | awk 'NR == 3 { print $1 }'
}

# CPU time (clock ticks) of a process and its children (nginx's workers are children of its master).
cpu_ticks() {
  local total=0 pid stat
  for pid in "$1" $(pgrep -P "$1" || true); do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) } # fields after the command name, which may contain spaces
    read -r -a f <<<"$stat"
    total=$((total + f[11] + f[12])) # utime + stime (fields 14 and 15 of the full line)
  done
  echo "$total"
}
CLK_TCK=$(getconf CLK_TCK)

# Only full runs (every default target) are results; a --targets subset keeps its files with the logs.
RESULTS_DIR=lb-benchmarks/results
for t in "${DEFAULT_TARGETS[@]}"; do
  [[ " ${TARGETS[*]} " == *" $t "* ]] || RESULTS_DIR=$RUN_DIR
done
mkdir -p "$RESULTS_DIR"
STAMP=$(date -u +%Y-%m-%d-%H%M)
MEASUREMENTS="$RUN_DIR/measurements.jsonl"
WRK_LOG="$RUN_DIR/wrk-output.txt"
: >"$MEASUREMENTS"
: >"$WRK_LOG"

run_wrk() { # shape target seconds label -> the WRK_JSON object on stdout, wrk's text appended to the log
  local shape=$1 t=$2 seconds=$3 label=$4 out script=(-s "$HERE/wrk-report.lua") args=()
  if [[ $shape == upload1m ]]; then
    script=(-s "$HERE/wrk-upload.lua")
    args=(-- "${SHAPE_REQUEST_BYTES[$shape]}")
  fi
  out=$(timeout $((seconds + 30)) wrk -t "${SHAPE_THREADS[$shape]}" -c "${SHAPE_CONNECTIONS[$shape]}" \
    -d "${seconds}s" --latency "${script[@]}" "http://127.0.0.1:${PORT_OF[$t]}${SHAPE_PATH[$shape]}" "${args[@]}") \
    || die "wrk against $t failed (shape $shape): $out"
  printf '### %s, %s: %s\n%s\n\n' "$shape" "$label" "$t" "$out" >>"$WRK_LOG"
  grep '^WRK_JSON ' <<<"$out" | sed 's/^WRK_JSON //' || die "no WRK_JSON line in wrk's output for $t (shape $shape)"
}

for shape in "${SHAPES[@]}"; do
  echo "== shape $shape: ${SHAPE_METHOD[$shape]} ${SHAPE_PATH[$shape]}, warm-up ${WARMUP} s per target"
  for t in "${TARGETS[@]}"; do
    run_wrk "$shape" "$t" "$WARMUP" "warm-up" >/dev/null
  done

  echo "== shape $shape: $ROUNDS rounds x ${#TARGETS[@]} targets, wrk -t${SHAPE_THREADS[$shape]} -c${SHAPE_CONNECTIONS[$shape]} -d${DURATION}s"
  for ((round = 1; round <= ROUNDS; round++)); do
    for ((i = 0; i < ${#TARGETS[@]}; i++)); do
      t=${TARGETS[$(((i + round - 1) % ${#TARGETS[@]}))]}
      accepts_before=$(backend_accepts)
      target_cpu_before=$(cpu_ticks "${PID_OF[$t]}")
      backend_cpu_before=$(cpu_ticks "$BACKEND_PID")
      wrk_json=$(run_wrk "$shape" "$t" "$DURATION" "round $round")
      target_cpu=$(($(cpu_ticks "${PID_OF[$t]}") - target_cpu_before))
      backend_cpu=$(($(cpu_ticks "$BACKEND_PID") - backend_cpu_before))
      # Right after the run: what the target holds having just served it (a JVM's heap grows
      # with garbage until a collection, so this is where it stands, not a peak).
      target_rss=$(rss_kb "${PID_OF[$t]}")
      # Minus one: the status request after the run is itself a new connection.
      upstream_connects=$(($(backend_accepts) - accepts_before - 1))
      printf '{"shape":"%s","threads":%d,"connections":%d,"method":"%s","path":"%s","request_body_bytes":%d,"response_body_bytes":%d,"target":"%s","round":%d,"position":%d,"upstream_connects":%d,"target_cpu_s":%s,"backend_cpu_s":%s,"target_rss_kb":%d,"wrk":%s}\n' \
        "$shape" "${SHAPE_THREADS[$shape]}" "${SHAPE_CONNECTIONS[$shape]}" "${SHAPE_METHOD[$shape]}" \
        "${SHAPE_PATH[$shape]}" "${SHAPE_REQUEST_BYTES[$shape]}" "$(stat -c %s "$RUN_DIR/${SHAPE_EXPECTED[$shape]}")" \
        "$t" "$round" "$((i + 1))" "$upstream_connects" \
        "$(awk -v t="$target_cpu" -v h="$CLK_TCK" 'BEGIN { printf "%.2f", t / h }')" \
        "$(awk -v t="$backend_cpu" -v h="$CLK_TCK" 'BEGIN { printf "%.2f", t / h }')" \
        "$target_rss" "$wrk_json" >>"$MEASUREMENTS"
      echo "   $shape, round $round: $t $(sed -E 's/.*"rps":([0-9.]+).*"p50_us":([0-9]+).*"p99_us":([0-9]+).*/\1 req\/s, p50 \2 us, p99 \3 us/' <<<"$wrk_json"), RSS $((target_rss / 1024)) MB"
    done
  done
done

# ---- 5. summary ----------------------------------------------------------------------------------

export BENCH_COMMAND="$COMMAND_LINE" BENCH_THREADS=$THREADS BENCH_CONNECTIONS=$CONNECTIONS \
  BENCH_DURATION=$DURATION BENCH_WARMUP=$WARMUP BENCH_ROUNDS=$ROUNDS BENCH_PATH=$REQUEST_PATH \
  BENCH_BODY_BYTES=${#BODY} BENCH_EDGE_JAVA_OPTS=$PROXY_BENCH_JAVA_OPTS BENCH_EDGE_JAR=$JAR \
  BENCH_SHAPES="${SHAPES[*]}" BENCH_BASELINE_JAR="$([[ $RUN_BEFORE == false ]] || echo "$BASELINE_JAR")" \
  BENCH_BASELINE_JAVA_OPTS="$([[ $RUN_BEFORE == false ]] || echo "$PROXY_BENCH_BASELINE_JAVA_OPTS")" \
  BENCH_GIT_COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown) \
  BENCH_GIT_DIRTY=$(git status --porcelain -- lb-edge lb-core 2>/dev/null | grep -q . && echo true || echo false) \
  BENCH_VERSIONS="$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $(nginx -v 2>&1); $(haproxy -v | head -1 | cut -d' ' -f1-3); $(java -version 2>&1 | head -1)"

set +e
python3 "$HERE/proxy-table.py" "$MEASUREMENTS" --json-out "$RESULTS_DIR/proxy-$STAMP.json" >"$RUN_DIR/table.md"
status=$?
set -e
((status == 0 || status == 3)) || die "summary failed (exit $status)"
{
  echo "# Proxy benchmark $STAMP"
  echo
  echo "command: $COMMAND_LINE"
  echo
  cat "$RUN_DIR/table.md"
  echo
  echo "## wrk output"
  echo
  cat "$WRK_LOG"
} >"$RESULTS_DIR/proxy-$STAMP.txt"
echo
cat "$RUN_DIR/table.md"
echo
echo "raw results: $RESULTS_DIR/proxy-$STAMP.json, $RESULTS_DIR/proxy-$STAMP.txt"
exit "$status"
