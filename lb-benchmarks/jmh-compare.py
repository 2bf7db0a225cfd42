#!/usr/bin/env python3
"""Prints the before/after table of compare-jars.sh from its folder of JMH JSON files.

Usage: jmh-compare.py DIR   (DIR holds before-<strategy>.json and after-<strategy>.json)
Times are the median of the measurement iterations; ratio = after / before.
"""
import json
import sys
from pathlib import Path


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def load(path):
    rows = {}
    for r in json.loads(path.read_text() or "[]"):
        p = r.get("params", {})
        raw = [x for fork in r["primaryMetric"].get("rawData", []) for x in fork]
        alloc = next((v["score"] for k, v in r.get("secondaryMetrics", {}).items()
                      if k.endswith("gc.alloc.rate.norm")), None)
        key = (p.get("strategy"), int(p.get("endpoints", 0)), p.get("health", "-"), r["threads"])
        rows[key] = (median(raw), alloc)
    return rows


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    d = Path(argv[1])
    before, after = {}, {}
    for f in sorted(d.glob("before-*.json")):
        before.update(load(f))
    for f in sorted(d.glob("after-*.json")):
        after.update(load(f))
    print("| strategy | endpoints | health | threads | before ns/op | after ns/op | after/before "
          "| B/op before | B/op after |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    ratios = []
    for key in before:
        if key not in after:
            continue
        (b, ba), (a, aa) = before[key], after[key]
        ratios.append(a / b)
        s, e, h, t = key
        fa = lambda v: "-" if v is None else f"{v:.1f}"
        print(f"| {s} | {e} | {h} | {t} | {b:.1f} | {a:.1f} | {a / b:.2f} | {fa(ba)} | {fa(aa)} |")
    if ratios:
        print(f"\nmedian after/before over {len(ratios)} rows: {median(ratios):.2f} "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f})")


if __name__ == "__main__":
    main(sys.argv)
