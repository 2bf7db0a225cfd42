#!/usr/bin/env bash
# Runs one JMH benchmark from two builds of lb-benchmarks side by side, interleaved per strategy
# (before, after, before, after, ...) so that machine drift hits both alike, then prints one table:
# median ns/op of each, the ratio after/before, and B/op.
#   bash lb-benchmarks/compare-jars.sh BEFORE.jar AFTER.jar [JMH args, e.g. -t 1 -p health=off]
# Run from the repository root. Builds nothing; each run takes about 1 minute per strategy.
set -euo pipefail
[[ $# -ge 2 ]] || { sed -n 2,6p "$0" >&2; exit 2; }
before=$1 after=$2; shift 2
out=$(mktemp -d)
strategies=(round-robin random least-connections least-connections-p2c p2c-ewma ring-hash maglev)
for s in "${strategies[@]}"; do
  for side in before after; do
    jar=$before; [[ $side == after ]] && jar=$after
    java -jar "$jar" '\.PickBenchmark\.acquireAndComplete$' -p strategy="$s" -prof gc \
      -rf json -rff "$out/$side-$s.json" "$@" >/dev/null
  done
done
python3 "$(dirname "$0")/jmh-compare.py" "$out"
