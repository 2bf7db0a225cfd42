#!/usr/bin/env bash
# Runs the pick benchmarks with the GC profiler at 1 and 2 threads and writes JMH JSON results to
# lb-benchmarks/target/{pick,bounded,breaker,metrics}-t{1,2}.json, then prints the markdown tables.
# Builds nothing: first run `mvn -o -q -pl lb-benchmarks package`. Run from the repository root.
# Extra arguments go to JMH, e.g. `-p endpoints=100` or `-wi 1 -i 1` for a quick pass.
set -euo pipefail

JAR=lb-benchmarks/target/benchmarks.jar
OUT=lb-benchmarks/target
[[ -f "$JAR" ]] || { echo "missing $JAR: run from the repo root after building lb-benchmarks" >&2; exit 1; }

run() { # name regex threads
  java -jar "$JAR" "$2" -t "$3" -prof gc -rf json -rff "$OUT/$1-t$3.json" "${@:4}"
}

for t in 1 2; do
  run pick '\.PickBenchmark\.acquireAndComplete$' "$t" "$@"
  run bounded '\.BoundedLoadBenchmark\.acquireAndComplete$' "$t" "$@"
  run breaker '\.BreakerBenchmark\.' "$t" "$@"
  run metrics '\.MetricsBenchmark\.' "$t" "$@"
done

run interceptor '\.InterceptorBenchmark\.' 1 "$@"

echo
echo "## PickBenchmark.acquireAndComplete"
python3 lb-benchmarks/jmh-table.py "$OUT/pick-t1.json" "$OUT/pick-t2.json"
echo
echo "## BoundedLoadBenchmark.acquireAndComplete (hashBalanceFactor 150)"
python3 lb-benchmarks/jmh-table.py "$OUT/bounded-t1.json" "$OUT/bounded-t2.json"
echo
echo "## BreakerBenchmark"
python3 lb-benchmarks/jmh-table.py "$OUT/breaker-t1.json" "$OUT/breaker-t2.json"
echo
echo "## MetricsBenchmark (100 endpoints)"
python3 lb-benchmarks/jmh-table.py "$OUT/metrics-t1.json" "$OUT/metrics-t2.json"
echo
echo "## InterceptorBenchmark (µs/op)"
python3 lb-benchmarks/jmh-table.py "$OUT/interceptor-t1.json"
