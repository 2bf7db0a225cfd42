#!/usr/bin/env python3
"""Turns JMH JSON results (-rf json, with -prof gc) into markdown tables.

Usage: jmh-table.py T1.json [T2.json]
Each time cell is the median of the measurement iterations, with their min-max range.
One row per (strategy, endpoints); when the benchmark has a `health` parameter, one column per
value of it ("off", "on") for each thread count, so both configurations sit side by side.
Missing values (no t=2 file, no -prof gc) show as "-".
"""
import json
import sys
from pathlib import Path


def load(path):
    """{(method, strategy, endpoints, health): (score, error, alloc_norm)} from one JMH JSON file."""
    if path is None or not Path(path).is_file():
        return {}
    rows = {}
    for r in json.loads(Path(path).read_text() or "[]"):
        p = r.get("params", {})
        method = ".".join(r["benchmark"].rsplit(".", 2)[-2:])
        variant = next((f"{k} {p[k]}" for k in VARIANT_PARAMS if k in p), "-")
        key = (method, p.get("strategy", "-"), p.get("endpoints", "-"), variant)
        m = r["primaryMetric"]
        raw = sorted(x for fork in m.get("rawData", []) for x in fork)
        alloc = next((v["score"] for k, v in r.get("secondaryMetrics", {}).items()
                      if k.endswith("gc.alloc.rate.norm")), None)
        rows[key] = (median(raw) if raw else m["score"], raw, alloc)
    return rows


VARIANT_PARAMS = ("health", "metrics")  # on/off parameters shown side by side as columns


def median(xs):
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def ns(v):
    """The median of the measurement iterations, with their range."""
    if v is None:
        return "-"
    med, raw = v[0], v[1]
    return f"{med:.1f} ({raw[0]:.1f}-{raw[-1]:.1f})" if len(raw) > 1 else f"{med:.1f}"


def alloc(v):
    return "-" if v is None or v[2] is None else f"{v[2]:.1f}"


def main(argv):
    if not 2 <= len(argv) <= 3:
        sys.exit(__doc__)
    t1 = load(argv[1])
    if not t1:
        sys.exit(f"no results in {argv[1]}")
    t2 = load(argv[2] if len(argv) == 3 else None)
    keys = list(dict.fromkeys([*t1, *t2]))
    healths = list(dict.fromkeys(k[3] for k in keys))
    methods = list(dict.fromkeys(k[0] for k in keys))
    for method in methods:
        if len(methods) > 1:
            print(f"\n### {method}\n")
        rows = list(dict.fromkeys((k[1], k[2]) for k in keys if k[0] == method))
        if healths == ["-"]:
            print("| strategy | endpoints | ns/op t=1 | ns/op t=2 | B/op t=1 |")
            print("|---|---:|---:|---:|---:|")
            for s, e in rows:
                a, b = t1.get((method, s, e, "-")), t2.get((method, s, e, "-"))
                print(f"| {s} | {e} | {ns(a)} | {ns(b)} | {alloc(a)} |")
            continue
        head = " | ".join(f"ns/op t=1 {h}" for h in healths)
        head += " | " + " | ".join(f"ns/op t=2 {h}" for h in healths)
        head += " | " + " | ".join(f"B/op t=1 {h}" for h in healths)
        n = 3 * len(healths)
        print(f"| strategy | endpoints | {head} |")
        print("|---|---:|" + "---:|" * n)
        for s, e in rows:
            cells = [ns(t1.get((method, s, e, h))) for h in healths]
            cells += [ns(t2.get((method, s, e, h))) for h in healths]
            cells += [alloc(t1.get((method, s, e, h))) for h in healths]
            print(f"| {s} | {e} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv)
