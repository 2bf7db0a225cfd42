#!/usr/bin/env bash
# CPU profile of the edge proxy under the proxy benchmark's load (issue 16): async-profiler samples
# the edge proxy while wrk drives it, and this writes a flame graph picture (PNG, and its SVG), the
# collapsed stacks and a "where the time goes" summary.
#
#   bash lb-benchmarks/proxy/profile-edge.sh [--edge-jar JAR] [--out DIR]
#       [-w 10] [-d 20] [-t 2] [-c 64] [--shape small] [--event auto|cpu|ctimer|itimer]
#
# Run it on a quiet machine, like the benchmark it drives: it runs Maven (once, to fetch
# async-profiler) and then the load, and any other build or benchmark on the same cores shows up
# in the profile.
#
# What it does, in order:
#   1. fetches async-profiler's Maven artifact (tools.profiler:async-profiler; its jar carries the
#      native library for each platform) into lb-benchmarks/target/async-profiler/ once, and
#      extracts this machine's libasyncProfiler.so from it (target/ is never committed);
#   2. runs run-proxy-bench.sh with --targets edge and one round: backend + edge proxy, -w seconds
#      of warm-up, then one -d second wrk run; the edge proxy gets the benchmark's JVM flags plus
#      -XX:+DebugNonSafepoints (so inlined frames are attributed to the right method);
#   3. when the warm-up is over (the benchmark prints its "rounds" line), loads the profiler into
#      the running edge proxy with jcmd JVMTI.agent_load and starts it; one second before wrk ends
#      it stops it and writes the collapsed stacks, so the profile holds the measured load only,
#      never the warm-up, the start or the shutdown;
#   4. renders the stacks with flamegraph.py (SVG + summary.md) and takes a PNG of the SVG with
#      headless Chromium (installed with apt-get when missing).
# Event: --event auto tries perf events (cpu: kernel stacks too, when perf_event_paranoid and
# the user allow it), then ctimer, then itimer; the one used is printed and written into the
# outputs' subtitle.
#
# Output in --out DIR (default: a new temporary directory, so a quick run leaves the repository
# clean): flamegraph-edge.png, flamegraph-edge.svg, flamegraph-edge.collapsed.txt,
# profile-summary.md, bench.log (the benchmark's own output, with wrk's req/s and latency).
set -euo pipefail

CALLER_DIR=$PWD
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$REPO_ROOT/lb-benchmarks/proxy"
SCRIPT_NAME=profile-edge
# shellcheck source=common.sh
source "$HERE/common.sh"
cd "$REPO_ROOT"

AP_VERSION=4.1
EDGE_JAR=lb-edge/target/edge-proxy.jar
OUT=
WARMUP=10
DURATION=20
THREADS=2
CONNECTIONS=64
SHAPE=small
EVENT=auto
INTERVAL=1ms
# The benchmark's default edge proxy flags (run-proxy-bench.sh), plus exact inlined frames.
JAVA_OPTS=${PROXY_BENCH_JAVA_OPTS:-"-XX:+UseParallelGC -Xms256m -Xmx256m -XX:MaxDirectMemorySize=128m -XX:+ExitOnOutOfMemoryError"}
JAVA_OPTS="$JAVA_OPTS -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints"

usage() {
  cat <<EOF
usage: $0 [options]   (on a quiet machine: nothing else building or benchmarking)
      --edge-jar PATH   edge proxy jar to profile (default $EDGE_JAR, built when missing)
      --out DIR         where to write the outputs (default: a new directory under /tmp)
  -w, --warmup S        seconds of load before profiling starts (default $WARMUP)
  -d, --duration S      seconds of the measured wrk run; profiled for S-1 (default $DURATION)
  -t, --threads N       wrk threads (default $THREADS)
  -c, --connections N   wrk connections (default $CONNECTIONS)
      --shape NAME      one of run-proxy-bench.sh's shapes: small, c1, c256, 16k, 1m, upload1m
                        (default $SHAPE)
      --event E         auto (default: cpu, else ctimer, else itimer), cpu, ctimer or itimer
      --interval I      sampling interval (default $INTERVAL)
      --ap-version V    async-profiler version from Maven (default $AP_VERSION)
  PROXY_BENCH_JAVA_OPTS  the edge proxy's JVM flags (default: the benchmark's)
EOF
}

COMMAND_LINE="bash lb-benchmarks/proxy/profile-edge.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --edge-jar | --out | -w | --warmup | -d | --duration | -t | --threads | -c | --connections | --shape | --event | --interval | --ap-version)
      [[ $# -ge 2 ]] || die "$1 needs a value" ;;
  esac
  case "$1" in
    --edge-jar) EDGE_JAR=$2; [[ $2 == /* ]] || EDGE_JAR=$CALLER_DIR/$2; shift 2 ;;
    --out) OUT=$2; [[ $2 == /* ]] || OUT=$CALLER_DIR/$2; shift 2 ;;
    -w | --warmup) WARMUP=${2%s}; shift 2 ;;
    -d | --duration) DURATION=${2%s}; shift 2 ;;
    -t | --threads) THREADS=$2; shift 2 ;;
    -c | --connections) CONNECTIONS=$2; shift 2 ;;
    --shape) SHAPE=$2; shift 2 ;;
    --event) EVENT=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --ap-version) AP_VERSION=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
positive_int --warmup "$WARMUP"
positive_int --duration "$DURATION"
positive_int --threads "$THREADS"
positive_int --connections "$CONNECTIONS"
[[ $DURATION -ge 3 ]] || die "--duration must be at least 3 seconds, was $DURATION"
[[ $SHAPE =~ ^(small|c1|c256|16k|1m|upload1m)$ ]] \
  || die "--shape must be one of small, c1, c256, 16k, 1m, upload1m, was '$SHAPE'"
[[ $EVENT =~ ^(auto|cpu|ctimer|itimer)$ ]] || die "--event must be auto, cpu, ctimer or itimer, was '$EVENT'"
[[ $INTERVAL =~ ^[0-9]+(ns|us|ms|s)?$ ]] || die "--interval must be a number with ns/us/ms/s, was '$INTERVAL'"
[[ $AP_VERSION =~ ^[0-9][0-9A-Za-z.-]*$ ]] || die "--ap-version looks wrong: '$AP_VERSION'"
[[ $EDGE_JAR == lb-edge/target/edge-proxy.jar || -f $EDGE_JAR ]] || die "--edge-jar: no file '$EDGE_JAR'"
command -v jcmd >/dev/null || die "jcmd not found: a JDK (not a JRE) is needed to load the profiler"
command -v python3 >/dev/null || die "python3 not found: it renders the flame graph"
if [[ -z $OUT ]]; then
  OUT=$(mktemp -d /tmp/profile-edge.XXXXXX)
else
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
fi

# --- 1. async-profiler ------------------------------------------------------------------------
case "$(uname -m)" in
  x86_64 | amd64) AP_PLATFORM=linux-x64 ;;
  aarch64 | arm64) AP_PLATFORM=linux-arm64 ;;
  *) die "async-profiler has no library for $(uname -m)" ;;
esac
AP_DIR="$REPO_ROOT/lb-benchmarks/target/async-profiler/$AP_VERSION"
AP_JAR="$AP_DIR/async-profiler-$AP_VERSION.jar"
AP_LIB="$AP_DIR/$AP_PLATFORM/libasyncProfiler.so"
if [[ ! -f $AP_LIB ]]; then
  mkdir -p "$AP_DIR"
  if [[ ! -f $AP_JAR ]]; then
    echo "== fetching tools.profiler:async-profiler:$AP_VERSION with Maven"
    mvn -B -q dependency:copy -Dartifact="tools.profiler:async-profiler:$AP_VERSION" \
      -DoutputDirectory="$AP_DIR" >"$OUT/mvn.log" 2>&1 \
      || die "could not fetch tools.profiler:async-profiler:$AP_VERSION (see $OUT/mvn.log)"
  fi
  (cd "$AP_DIR" && unzip -q -o "$AP_JAR" "$AP_PLATFORM/libasyncProfiler.so") \
    || die "$AP_JAR has no $AP_PLATFORM/libasyncProfiler.so"
fi

# --- 2. the benchmark ---------------------------------------------------------------------------
BENCH_LOG="$OUT/bench.log"
echo "== profile-edge: output in $OUT; benchmark log $BENCH_LOG"
PROXY_BENCH_JAVA_OPTS=$JAVA_OPTS bash "$HERE/run-proxy-bench.sh" --edge-jar "$EDGE_JAR" \
  --targets edge --shapes "$SHAPE" -w "$WARMUP" -d "$DURATION" -r 1 -t "$THREADS" \
  -c "$CONNECTIONS" >"$BENCH_LOG" 2>&1 &
BENCH_PID=$!
# On any exit, the benchmark (and through its own trap, the proxy and the backend) is stopped.
trap 'kill -TERM "$BENCH_PID" 2>/dev/null || true; wait "$BENCH_PID" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM

# Bounded wait for the end of the warm-up: start-up (a build, installs) + warm-up + a margin.
deadline=$((SECONDS + WARMUP + 600))
until grep -q "== shape $SHAPE: 1 rounds" "$BENCH_LOG" 2>/dev/null; do
  kill -0 "$BENCH_PID" 2>/dev/null || { tail -20 "$BENCH_LOG" >&2; die "the benchmark ended before its measured run"; }
  [[ $SECONDS -lt $deadline ]] || die "no end of warm-up after $((WARMUP + 600)) s (see $BENCH_LOG)"
  sleep 0.2
done
EDGE_PID=$(pgrep -P "$BENCH_PID" -f -- '--config .*/edge\.yaml' | head -1 || true)
[[ -n $EDGE_PID ]] || die "could not find the edge proxy's process under the benchmark ($BENCH_PID)"

# --- 3. profile the measured run ----------------------------------------------------------------
agent() { # command: async-profiler's agent arguments; fails when the agent refuses them
  local out
  # The outer quotes keep jcmd's own parser from splitting the arguments at '='.
  out=$(jcmd "$EDGE_PID" JVMTI.agent_load "$AP_LIB" "\"$1\"" 2>&1) || { echo "$out" >&2; return 1; }
  grep -q "return code: 0" <<<"$out" || { echo "$out" >&2; return 1; }
}
if [[ $EVENT == auto ]]; then
  EVENTS=(cpu ctimer itimer)
  PARANOID=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 3)
  # Above 2 (Debian's 3) perf events are closed to everyone but root (CAP_PERFMON).
  [[ $PARANOID -le 2 || $(id -u) -eq 0 ]] || EVENTS=(ctimer itimer)
else
  EVENTS=("$EVENT")
fi
USED=
for e in "${EVENTS[@]}"; do
  if agent "start,event=$e,interval=$INTERVAL" 2>"$OUT/agent-$e.err"; then
    USED=$e
    break
  fi
  echo "   event $e refused: $(tr '\n' ' ' <"$OUT/agent-$e.err")" >&2
done
[[ -n $USED ]] || die "async-profiler started with none of: ${EVENTS[*]} (see $OUT/agent-*.err)"
rm -f "$OUT"/agent-*.err
PROFILED=$((DURATION - 1))
echo "== profiling the edge proxy (pid $EDGE_PID) with event=$USED, interval $INTERVAL, for $PROFILED s"
sleep "$PROFILED"
COLLAPSED="$OUT/flamegraph-edge.collapsed.txt"
agent "stop,file=$COLLAPSED,collapsed,ann" || die "could not stop the profiler and write $COLLAPSED"
[[ -s $COLLAPSED ]] || die "the profiler wrote no samples to $COLLAPSED"

set +e
wait "$BENCH_PID"
BENCH_RC=$?
set -e
trap - EXIT
[[ $BENCH_RC -eq 0 ]] || echo "profile-edge: the benchmark exited $BENCH_RC (3: wrk saw errors; see $BENCH_LOG)" >&2
WRK_LINE=$(grep -E "^ +$SHAPE, round 1: edge" "$BENCH_LOG" | sed -E 's/^ +//' || true)

# --- 4. picture and summary ---------------------------------------------------------------------
KERNEL=$(grep -q '_\[k\]' "$COLLAPSED" && echo "with kernel stacks" || echo "no kernel stacks")
TITLE="lb-edge CPU flame graph: $(basename "$EDGE_JAR"), shape $SHAPE, wrk -t$THREADS -c$CONNECTIONS"
SUBTITLE="async-profiler $AP_VERSION event=$USED ($KERNEL), interval $INTERVAL, $PROFILED s of a ${DURATION} s wrk run after ${WARMUP} s warm-up; ${WRK_LINE:-wrk result not found}"
SVG="$OUT/flamegraph-edge.svg"
HEIGHT=$(python3 "$HERE/flamegraph.py" "$COLLAPSED" --svg "$SVG" --summary "$OUT/profile-summary.md" \
  --title "$TITLE" --subtitle "$SUBTITLE")
printf '\ncommand: `%s`\n' "$COMMAND_LINE" >>"$OUT/profile-summary.md"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $CHROMIUM ]]; then
  echo "== installing chromium (headless, to take the PNG)"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >"$OUT/apt.log" 2>&1 \
    || die "could not install chromium (see $OUT/apt.log); the SVG is at $SVG"
  CHROMIUM=$(command -v chromium)
fi
# An HTML page around the SVG, with no margin, so the screenshot is the picture exactly.
printf '<!doctype html><html><body style="margin:0"><img src="flamegraph-edge.svg"></body></html>\n' \
  >"$OUT/flamegraph-edge.html"
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size="1600,$HEIGHT" --screenshot="$OUT/flamegraph-edge.png" \
  "file://$OUT/flamegraph-edge.html" >"$OUT/chromium.log" 2>&1 \
  || die "chromium could not take the PNG (see $OUT/chromium.log); the SVG is at $SVG"
rm -f "$OUT/flamegraph-edge.html"
[[ -s $OUT/flamegraph-edge.png ]] || die "chromium wrote no PNG (see $OUT/chromium.log)"

echo "== event: $USED ($KERNEL); $(awk '{ n += $NF } END { print n }' "$COLLAPSED") samples"
echo "== wrote $OUT/flamegraph-edge.png, flamegraph-edge.svg, flamegraph-edge.collapsed.txt, profile-summary.md"
exit "$BENCH_RC"
