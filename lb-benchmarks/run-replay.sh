#!/usr/bin/env bash
# Runs the traffic replay tool on the shipped scenarios (all four by default, or the files given)
# and copies each scenario's summary and success-rate chart to lb-benchmarks/results/replay/<name>/,
# which the READMEs show. Full reports (report.html, CSVs) stay in lb-benchmarks/target/replay/<name>/.
# Builds nothing: first run `mvn -q -pl lb-benchmarks -am package -DskipTests` (no install needed).
# Run from the repository root. Each scenario takes about 1 minute per run it lists.
set -euo pipefail

JAR=lb-benchmarks/target/benchmarks.jar
OUT=lb-benchmarks/target/replay
KEEP=lb-benchmarks/results/replay
[[ -f "$JAR" ]] || { echo "missing $JAR: build lb-benchmarks first (see above)" >&2; exit 1; }
# Run from a copy: a rebuild during a long replay must not swap classes under the running JVM.
RUN_JAR=$(mktemp --suffix=.jar)
trap 'rm -f "$RUN_JAR"' EXIT
cp "$JAR" "$RUN_JAR"

if [[ $# -eq 0 ]]; then
  set -- lb-benchmarks/scenarios/crash.yaml lb-benchmarks/scenarios/slow.yaml \
    lb-benchmarks/scenarios/flap.yaml lb-benchmarks/scenarios/skew.yaml
fi

for scenario in "$@"; do
  name=$(basename "$scenario" .yaml)
  java -cp "$RUN_JAR" io.miniloadbalancer.benchmarks.replay.ReplayCommand -o "$OUT" "$scenario"
  mkdir -p "$KEEP/$name"
  cp "$OUT/$name/summary.md" "$OUT/$name/summary.csv" "$OUT/$name/success.png" "$KEEP/$name/"
done
