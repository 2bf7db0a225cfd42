#!/usr/bin/env bash
# Edge proxy memory and startup benchmark (issue 16): how fast a fresh JVM is ready, and what an idle
# keep-alive client connection costs in memory, with nginx measured the same way for comparison.
#
#   bash lb-benchmarks/proxy/memory-and-startup.sh [--edge-jar PATH] [--connections 10000]
#       [--starts 5] [--port-base 19280] [--transport auto|io_uring|epoll|nio]
#
# Run it from anywhere in the repository, as root (it raises the open-file limit to 65536 for itself
# and its children, or to the hard limit where that is not allowed: the proxy and the client each
# hold one descriptor per connection), on a quiet machine.
#
# What it does, in order:
#   1. ready time: starts the edge proxy --starts times, a fresh JVM each, and takes the time from
#      launching `java -jar` to the first 200 from /readyz on the admin port (polled every 10 ms,
#      up to 30 s). The proxy reports ready once both listeners are bound; it does not wait for a
#      healthy endpoint, but the backend runs anyway so every start sees the same pool;
#   2. idle connections, edge proxy: a fresh JVM, warmed up with wrk (so the young generation has
#      been filled and collected at least once and its pages count in the first RSS, not in the
#      delta), then, each after a forced full GC (jcmd GC.run): RSS, heap used and Netty's direct
#      memory before and after opening --connections idle keep-alive clients (idle-connections.py:
#      one GET answered 200 through the proxy each, then silent). It checks that the proxy holds
#      all of them (ss, and its edge_client_connections_active metric);
#   3. the same idle connections against nginx, configured as in the throughput benchmark
#      (nginx.conf) with worker_connections 20000 and keepalive_timeout 300s; its RSS is the sum
#      over the master and its workers;
#   4. prints a markdown table and writes it, with the raw numbers as JSON, to
#      lb-benchmarks/results/memory-startup-<UTC date-time>.{md,json}.
# Targets (issue 16): ready in <= 1500 ms; <= 4 KB (4096 bytes) of RSS per idle connection.
# Exits 1 on any failure (a start that never got ready, a connection the proxy refused or dropped).
set -euo pipefail
export LC_ALL=C # $EPOCHREALTIME and awk's numbers with a decimal point, whatever the locale

REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$REPO_ROOT/lb-benchmarks/proxy"
SCRIPT_NAME=memory-and-startup
# shellcheck source=common.sh
source "$HERE/common.sh"
cd "$REPO_ROOT"

JAR=lb-edge/target/edge-proxy.jar
CONNECTIONS=10000
STARTS=5
PORT_BASE=19280
TRANSPORT_SETTING=auto
# Fixed heap, the collector the Dockerfile will use: the per-connection numbers depend on the heap
# layout, so every run of this script uses the same one. (Not named EDGE_*: the proxy refuses
# unknown EDGE_* variables, and it inherits this environment.) Add
# -XX:NativeMemoryTracking=summary to also get the JVM's own native-memory diff in the run's logs.
PROXY_BENCH_JAVA_OPTS=${PROXY_BENCH_JAVA_OPTS:-"-XX:+UseParallelGC -Xms256m -Xmx256m -XX:MaxDirectMemorySize=128m -XX:+ExitOnOutOfMemoryError"}
READY_TARGET_MS=1500
BYTES_TARGET=4096
REQUEST_PATH=/proxy/bench/x
BODY='edge-balancer proxy benchmark: fixed 64-byte backend response.'
BODY="$BODY$(printf '%*s' $((63 - ${#BODY})) '' | tr ' ' '.')"

usage() {
  cat <<EOF
usage: $0 [options]
      --edge-jar PATH     the edge proxy jar to measure (default $JAR; built with
                          mvn -pl lb-edge -am package when missing)
      --connections N     idle keep-alive client connections to open (default $CONNECTIONS)
      --starts N          fresh JVM starts for the ready time (default $STARTS)
      --port-base P       backend port; nginx, edge, edge admin use P+1..P+3 (default $PORT_BASE)
      --transport T       the edge proxy's server.transport: auto, io_uring, epoll or nio (default
                          $TRANSPORT_SETTING, the proxy's own default); the per-connection memory is the
                          transport's as much as the proxy's
  PROXY_BENCH_JAVA_OPTS   JVM flags for the edge proxy (default: $PROXY_BENCH_JAVA_OPTS)

Measures the edge proxy's ready time (launch to the first /readyz 200, target <= $READY_TARGET_MS ms) and
its memory per idle keep-alive client connection (target <= $BYTES_TARGET bytes of RSS), with nginx's
memory per idle connection for comparison. About 1-2 minutes.
EOF
}

COMMAND_LINE="bash lb-benchmarks/proxy/memory-and-startup.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --edge-jar | --connections | --starts | --port-base | --transport) [[ $# -ge 2 ]] || die "$1 needs a value" ;;
  esac
  case "$1" in
    --edge-jar) JAR=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --starts) STARTS=$2; shift 2 ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    --transport) TRANSPORT_SETTING=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
positive_int --connections "$CONNECTIONS"
positive_int --starts "$STARTS"
positive_int --port-base "$PORT_BASE"
[[ $TRANSPORT_SETTING =~ ^(auto|io_uring|epoll|nio)$ ]] \
  || die "--transport must be auto, io_uring, epoll or nio, was '$TRANSPORT_SETTING'"
((PORT_BASE + 3 <= 65535)) || die "--port-base must be at most 65532, was $PORT_BASE"
# nginx's two workers share the clients; worker_connections (20000 each here) bounds them.
((CONNECTIONS <= 20000)) || die "--connections must be at most 20000 (nginx's worker_connections here)"

BACKEND_PORT=$PORT_BASE
NGINX_PORT=$((PORT_BASE + 1))
EDGE_PORT=$((PORT_BASE + 2))
EDGE_ADMIN_PORT=$((PORT_BASE + 3))

# ---- tools ---------------------------------------------------------------------------------------

[[ $(id -u) -eq 0 ]] || die "run it as root: it raises the open-file limit to 65536"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v curl >/dev/null || missing+=(curl)
command -v ss >/dev/null || missing+=(iproute2)
if ((${#missing[@]} > 0)); then
  echo "== installing ${missing[*]} with apt-get"
  # Another apt-get may hold the dpkg lock on a shared machine: wait for it (bounded) instead of failing.
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
fi
PATH="$PATH:/usr/sbin"
command -v python3 >/dev/null || die "python3 is needed for the idle clients (idle-connections.py)"
command -v jcmd >/dev/null || die "jcmd is needed (a JDK, not only a JRE) for the forced GC and the heap numbers"
if [[ ! -f $JAR && $JAR == lb-edge/target/edge-proxy.jar ]]; then
  echo "== building $JAR"
  mvn -q -B -pl lb-edge -am package -DskipTests
fi
[[ -f $JAR ]] || die "--edge-jar: no such file '$JAR'"

# Before any child starts: the JVM, nginx and the client inherit it. 10,000 connections are 10,000
# descriptors in the proxy and 10,000 in the client (each process has its own limit); the usual
# default of 1024 is short. Without CAP_SYS_RESOURCE (a container) the hard limit cannot be raised:
# then the soft limit goes up to the hard one, which must leave room for the proxy's own files.
if ! ulimit -n 65536 2>/dev/null; then
  hard=$(ulimit -Hn)
  [[ $hard == unlimited ]] || ((hard >= CONNECTIONS + 1024)) \
    || die "the open-file limit cannot be raised to 65536 and its hard limit ($hard) is below --connections + 1024"
  ulimit -n "$hard" || die "could not raise the open-file limit to its hard limit $hard (ulimit -n)"
  echo "== open-file limit: $hard (the hard limit; 65536 needs CAP_SYS_RESOURCE)"
fi

# ---- processes -----------------------------------------------------------------------------------

RUN_DIR=$(mktemp -d /tmp/memory-startup.XXXXXX)
CHILDREN=()

stop_pids() { # pid... : TERM, up to 10 s, then KILL (bounded either way)
  local pid alive
  for pid in "$@"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for _ in $(seq 100); do
    alive=0
    for pid in "$@"; do
      kill -0 "$pid" 2>/dev/null && alive=1
    done
    ((alive == 0)) && break
    sleep 0.1
  done
  for pid in "$@"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap 'stop_pids "${CHILDREN[@]}"; echo "memory-and-startup: logs and configs kept in $RUN_DIR" >&2' EXIT
trap 'exit 130' INT TERM

for p in $BACKEND_PORT $NGINX_PORT $EDGE_PORT $EDGE_ADMIN_PORT; do
  port_in_use "$p" && die "port $p is in use on 127.0.0.1; pick other ports with --port-base"
done

render() { # template -> $RUN_DIR/template, placeholders as in run-proxy-bench.sh
  sed -e "s|@RUN_DIR@|$RUN_DIR|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" -e "s|@NGINX_PORT@|$NGINX_PORT|g" \
    -e "s|@BODY@|$BODY|g" "$HERE/$1" >"$RUN_DIR/$1"
}
render backend-nginx.conf
render nginx.conf
# The throughput benchmark's nginx, with room for the idle clients: 20,000 connections per worker
# (the client connections plus the upstream ones), and kept alive as long as the edge proxy's here.
sed -i -e 's/worker_connections 4096;/worker_connections 20000;/' \
  -e 's/keepalive_timeout 60s;.*/keepalive_timeout 300s;   # as the edge proxy'"'"'s server.idleTimeout here/' \
  "$RUN_DIR/nginx.conf"
grep -q 'worker_connections 20000;' "$RUN_DIR/nginx.conf" && grep -q 'keepalive_timeout 300s;' "$RUN_DIR/nginx.conf" \
  || die "nginx.conf changed: could not set worker_connections 20000 and keepalive_timeout 300s in it"
mkdir -p "$RUN_DIR/backend-tmp" "$RUN_DIR/nginx-tmp" "$RUN_DIR/www"
# Run as root, nginx's workers drop to an unprivileged user: they must reach the run's directory.
chmod 711 "$RUN_DIR"
chmod 755 "$RUN_DIR/www"

# The throughput benchmark's edge.yaml, with one difference: server.idleTimeout 300s (default 60 s),
# so no idle client is closed while the connections are opened and measured (the same for nginx's
# keepalive_timeout). server.requestHeadTimeout does not apply: it starts at a request's first
# byte, and an idle keep-alive connection is between requests.
cat >"$RUN_DIR/edge.yaml" <<EOF
server:
  bind: 127.0.0.1
  port: $EDGE_PORT
  idleTimeout: 300s
  transport: $TRANSPORT_SETTING
  drainTimeout: 1s           # stopped by the script; nothing is in flight then
admin:
  port: $EDGE_ADMIN_PORT
accessLog:
  enabled: false             # as in the throughput benchmark (nginx runs with access_log off)
pools:
  bench:
    endpoints:
      - {id: backend, host: 127.0.0.1, port: $BACKEND_PORT}
EOF

wait_for() { # name url pid log: up to 30 s for a 200
  local i
  for i in $(seq 300); do
    kill -0 "$3" 2>/dev/null || die "$1 exited at start: $(tail -5 "$4")"
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$2" || true) == 200 ]] && return 0
    sleep 0.1
  done
  die "$1 did not answer 200 on $2 within 30 s: $(tail -5 "$4")"
}

now_us() { echo "${EPOCHREALTIME/./}"; }

echo "== starting the backend (logs and configs in $RUN_DIR)"
nginx -q -t -p "$RUN_DIR" -c "$RUN_DIR/backend-nginx.conf" -e "$RUN_DIR/backend-error.log" \
  || die "backend-nginx.conf is invalid"
nginx -p "$RUN_DIR" -c "$RUN_DIR/backend-nginx.conf" -e "$RUN_DIR/backend-error.log" >"$RUN_DIR/backend.log" 2>&1 &
CHILDREN+=($!)
wait_for backend "http://127.0.0.1:$BACKEND_PORT/backend-status" "$!" "$RUN_DIR/backend.log"

start_edge() { # log -> EDGE_PID
  # shellcheck disable=SC2086 # PROXY_BENCH_JAVA_OPTS is a list of flags
  java $PROXY_BENCH_JAVA_OPTS -jar "$JAR" --config "$RUN_DIR/edge.yaml" >"$1" 2>&1 &
  EDGE_PID=$!
  CHILDREN+=($EDGE_PID)
}

# ---- 1. ready time -------------------------------------------------------------------------------

echo "== ready time: $STARTS fresh starts of $JAR, launch to the first /readyz 200"
READY_MS=()
for ((i = 1; i <= STARTS; i++)); do
  log="$RUN_DIR/edge-start-$i.log"
  t0=$(now_us)
  start_edge "$log"
  ready_at=
  # Bounded by time, not by a count: each curl itself takes a few ms.
  while (($(now_us) - t0 < 30000000)); do
    kill -0 "$EDGE_PID" 2>/dev/null || die "edge proxy start $i exited before it was ready: $(tail -5 "$log")"
    if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$EDGE_ADMIN_PORT/readyz" || true) == 200 ]]; then
      ready_at=$(now_us)
      break
    fi
    sleep 0.01
  done
  [[ -n $ready_at ]] || die "edge proxy start $i: /readyz did not answer 200 within 30 s: $(tail -5 "$log")"
  READY_MS+=($(((ready_at - t0 + 500) / 1000)))
  echo "   start $i: ready in ${READY_MS[-1]} ms"
  stop_pids "$EDGE_PID"
done
TRANSPORT=$(sed -n 's/.*transport \([a-z_]*\),.*/\1/p' "$RUN_DIR/edge-start-1.log" | head -1)
read -r READY_MEDIAN READY_MIN READY_MAX < <(printf '%s\n' "${READY_MS[@]}" | sort -n \
  | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%d %d %d\n", m, v[1], v[NR] }')

# ---- 2. and 3. idle connections ------------------------------------------------------------------

established() { # port: server-side sockets in ESTABLISHED on it (the client's side has another sport)
  ss -Htn state established "( sport = :$1 )" | wc -l
}

# Java heap used (KiB) right after a full collection: the sum of the generations' "used" (a
# generation's line is "NAME total NK, used NK"; its spaces' lines give percentages instead).
heap_used_kb() {
  jcmd "$1" GC.heap_info 2>/dev/null | awk 'match($0, /total [0-9]+K, used [0-9]+K/) {
      s = substr($0, RSTART, RLENGTH); sub(/.*used /, "", s); sub(/K/, "", s); t += s } END { print t + 0 }'
}

# The Netty allocator's direct memory in use (bytes; its own buffers only, not the transport's
# per-channel native memory) and the open client connections, from /metrics.
metric() { # name [label filter]
  curl -s --max-time 5 "http://127.0.0.1:$EDGE_ADMIN_PORT/metrics" \
    | awk -v n="$1" -v f="${2:-}" 'index($0, n) == 1 && (f == "" || index($0, f)) && $1 !~ /^#/ { t += $NF } END { printf "%.0f\n", t }'
}

# A full GC, then a short settle: the numbers are taken with only live objects in the heap.
gc_and_settle() {
  jcmd "$1" GC.run >/dev/null || die "jcmd $1 GC.run failed"
  sleep 1
}

NMT=false
[[ $PROXY_BENCH_JAVA_OPTS != *NativeMemoryTracking* ]] || NMT=true

open_idle() { # name port -> CLIENT_PID, once all are open and idle (or dies)
  local ready="$RUN_DIR/$1-idle.status"
  rm -f "$ready"
  python3 "$HERE/idle-connections.py" --port "$2" --path "$REQUEST_PATH" --count "$CONNECTIONS" \
    --hold 300 --ready-file "$ready" >"$RUN_DIR/$1-idle.log" 2>&1 &
  CLIENT_PID=$!
  CHILDREN+=($CLIENT_PID)
  # Bounded: 10,000 connections open in a few seconds on loopback; 120 s means something is wrong.
  for _ in $(seq 1200); do
    [[ -f $ready ]] && break
    kill -0 "$CLIENT_PID" 2>/dev/null || die "$1: the idle client exited: $(tail -5 "$RUN_DIR/$1-idle.log")"
    sleep 0.1
  done
  [[ -f $ready ]] || die "$1: $CONNECTIONS idle connections were not open within 120 s"
  CLIENT_STATUS=$(cat "$ready")
  grep -q "\"open\": $CONNECTIONS, \"failed\": 0," <<<"$CLIENT_STATUS" \
    || die "$1: not every idle connection got its 200: $CLIENT_STATUS"
  echo "   $1: $CONNECTIONS connections open and idle ($(sed -E 's/.*"open_seconds": ([0-9.]+).*/\1/' <<<"$CLIENT_STATUS") s to open)"
}

close_idle() { # name: stops the client; dies if the target closed any held connection
  stop_pids "$CLIENT_PID"
  local status
  status=$(cat "$RUN_DIR/$1-idle.status")
  grep -q '"closed_by_peer": 0' <<<"$status" || die "$1 closed idle connections while they were held: $status"
}

warm_up() { # name url: the JIT's hot paths compiled, every buffer pool and the young generation used
  timeout 60 wrk -t 2 -c 16 -d 5s "$2" >"$RUN_DIR/$1-warmup.txt" 2>&1 || die "wrk warm-up against $1 failed: $(tail -5 "$RUN_DIR/$1-warmup.txt")"
  grep -q 'Non-2xx\|Socket errors' "$RUN_DIR/$1-warmup.txt" && die "warm-up against $1 had errors: $(cat "$RUN_DIR/$1-warmup.txt")"
  return 0
}

echo "== idle connections, edge proxy: $CONNECTIONS clients, each one GET $REQUEST_PATH and then silent"
start_edge "$RUN_DIR/edge.log"
wait_for edge "http://127.0.0.1:$EDGE_ADMIN_PORT/readyz" "$EDGE_PID" "$RUN_DIR/edge.log"
warm_up edge "http://127.0.0.1:$EDGE_PORT$REQUEST_PATH"
[[ $NMT == false ]] || jcmd "$EDGE_PID" VM.native_memory baseline >/dev/null
gc_and_settle "$EDGE_PID"
E_RSS0=$(rss_kb "$EDGE_PID")
E_HEAP0=$(heap_used_kb "$EDGE_PID")
E_DIRECT0=$(metric netty_allocator_memory_used 'memory_type="direct"')
E_CONN0=$(metric edge_client_connections_active)
open_idle edge "$EDGE_PORT"
gc_and_settle "$EDGE_PID"
E_RSS1=$(rss_kb "$EDGE_PID")
E_HEAP1=$(heap_used_kb "$EDGE_PID")
E_DIRECT1=$(metric netty_allocator_memory_used 'memory_type="direct"')
# The metric's scrape is itself one more connection, on the admin port: not counted here.
E_CONN1=$(metric edge_client_connections_active)
E_HELD=$(established "$EDGE_PORT")
[[ $NMT == false ]] || jcmd "$EDGE_PID" VM.native_memory summary.diff >"$RUN_DIR/edge-nmt-diff.txt"
jcmd "$EDGE_PID" GC.class_histogram >"$RUN_DIR/edge-histogram-idle.txt" 2>/dev/null || true
((E_HELD >= CONNECTIONS)) || die "edge proxy holds $E_HELD established connections, not $CONNECTIONS"
((E_CONN1 - E_CONN0 >= CONNECTIONS)) || die "edge_client_connections_active went from $E_CONN0 to $E_CONN1, not up by $CONNECTIONS"
close_idle edge
echo "   edge: RSS $((E_RSS0 / 1024)) -> $((E_RSS1 / 1024)) MB, heap after GC $((E_HEAP0 / 1024)) -> $((E_HEAP1 / 1024)) MB, Netty allocator direct $((E_DIRECT0 / 1024)) -> $((E_DIRECT1 / 1024)) KB, $E_HELD held"
stop_pids "$EDGE_PID"

echo "== idle connections, nginx: the same $CONNECTIONS clients"
nginx -q -t -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" || die "nginx.conf is invalid"
nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" >"$RUN_DIR/nginx.log" 2>&1 &
NGINX_PID=$!
CHILDREN+=($NGINX_PID)
wait_for nginx "http://127.0.0.1:$NGINX_PORT$REQUEST_PATH" "$NGINX_PID" "$RUN_DIR/nginx-error.log"
warm_up nginx "http://127.0.0.1:$NGINX_PORT$REQUEST_PATH"
N_RSS0=$(rss_kb "$NGINX_PID")
open_idle nginx "$NGINX_PORT"
sleep 1 # the same settle as the edge proxy's after its GC
N_RSS1=$(rss_kb "$NGINX_PID")
N_HELD=$(established "$NGINX_PORT")
((N_HELD >= CONNECTIONS)) || die "nginx holds $N_HELD established connections, not $CONNECTIONS"
close_idle nginx
echo "   nginx: RSS $((N_RSS0 / 1024)) -> $((N_RSS1 / 1024)) MB, $N_HELD held"

# ---- 4. table and results ------------------------------------------------------------------------

RESULTS_DIR=lb-benchmarks/results
mkdir -p "$RESULTS_DIR"
STAMP=$(date -u +%Y-%m-%d-%H%M)
per_conn() { echo $((($2 - $1) * 1024 / CONNECTIONS)); } # KiB before, KiB after -> bytes per connection
E_RSS_PER=$(per_conn "$E_RSS0" "$E_RSS1")
E_HEAP_PER=$(per_conn "$E_HEAP0" "$E_HEAP1")
E_DIRECT_PER=$(((E_DIRECT1 - E_DIRECT0) / CONNECTIONS))
N_RSS_PER=$(per_conn "$N_RSS0" "$N_RSS1")
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
met() { (($1 <= $2)) && echo met || echo "NOT met"; }
{
  echo "# Edge proxy memory and startup $STAMP"
  echo
  echo "command: $COMMAND_LINE"
  echo
  echo "edge jar: $JAR (transport ${TRANSPORT:-unknown}); JVM flags: $PROXY_BENCH_JAVA_OPTS;" \
    "$(nproc) CPUs; $CONNECTIONS idle keep-alive connections (one GET each, then silent);" \
    "memory taken after a forced full GC (edge) and 1 s of settling"
  echo
  echo "| measurement | edge proxy | nginx |"
  echo "| --- | ---: | ---: |"
  echo "| ready time ms, median (min-max) over $STARTS starts | $READY_MEDIAN ($READY_MIN-$READY_MAX) | - |"
  echo "| RSS at start MB (warmed up, no client connection) | $(mb "$E_RSS0") | $(mb "$N_RSS0") |"
  echo "| RSS with $CONNECTIONS idle connections MB | $(mb "$E_RSS1") | $(mb "$N_RSS1") |"
  echo "| RSS bytes per idle connection | $E_RSS_PER | $N_RSS_PER |"
  echo "| Java heap (after GC) bytes per idle connection | $E_HEAP_PER | - |"
  echo "| Netty allocator's direct memory bytes per idle connection | $E_DIRECT_PER | - |"
  echo "| connections held (ss, established) | $E_HELD | $N_HELD |"
  echo
  echo "targets: ready time <= $READY_TARGET_MS ms: $(met "$READY_MEDIAN" "$READY_TARGET_MS");" \
    "<= $BYTES_TARGET bytes of RSS per idle connection: $(met "$E_RSS_PER" "$BYTES_TARGET")"
} >"$RESULTS_DIR/memory-startup-$STAMP.md"
cat >"$RESULTS_DIR/memory-startup-$STAMP.json" <<EOF
{
  "command": "$COMMAND_LINE",
  "stamp": "$STAMP",
  "edge_jar": "$JAR",
  "transport": "${TRANSPORT:-unknown}",
  "java_opts": "$PROXY_BENCH_JAVA_OPTS",
  "git_commit": "$(git rev-parse HEAD 2>/dev/null || echo unknown)",
  "cpus": $(nproc),
  "connections": $CONNECTIONS,
  "ready_ms": [$(IFS=,; echo "${READY_MS[*]}")],
  "ready_ms_median": $READY_MEDIAN,
  "edge": {"rss_kb_before": $E_RSS0, "rss_kb_after": $E_RSS1, "heap_used_kb_before": $E_HEAP0,
    "heap_used_kb_after": $E_HEAP1, "netty_direct_bytes_before": $E_DIRECT0,
    "netty_direct_bytes_after": $E_DIRECT1, "client_connections_metric_before": $E_CONN0,
    "client_connections_metric_after": $E_CONN1, "established": $E_HELD,
    "rss_bytes_per_connection": $E_RSS_PER, "heap_bytes_per_connection": $E_HEAP_PER,
    "direct_bytes_per_connection": $E_DIRECT_PER},
  "nginx": {"rss_kb_before": $N_RSS0, "rss_kb_after": $N_RSS1, "established": $N_HELD,
    "rss_bytes_per_connection": $N_RSS_PER},
  "targets": {"ready_ms": $READY_TARGET_MS, "rss_bytes_per_connection": $BYTES_TARGET}
}
EOF
python3 -m json.tool "$RESULTS_DIR/memory-startup-$STAMP.json" >/dev/null || die "the JSON result is malformed"
echo
cat "$RESULTS_DIR/memory-startup-$STAMP.md"
echo
echo "results: $RESULTS_DIR/memory-startup-$STAMP.md, $RESULTS_DIR/memory-startup-$STAMP.json"
echo "the edge proxy's class histogram with the connections open: $RUN_DIR/edge-histogram-idle.txt"
