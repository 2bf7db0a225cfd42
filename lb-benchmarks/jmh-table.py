#!/usr/bin/env python3
"""Turns JMH JSON results (-rf json, with -prof gc) into one markdown table.

Usage: jmh-table.py T1.json [T2.json]
One row per (strategy, endpoints); a file with several benchmark methods gets one table each.
Missing values (no t=2 file, no -prof gc) show as "-".
"""
import json
import sys
from pathlib import Path


def load(path):
    """{(method, strategy, endpoints): (score, error, alloc_norm)} from one JMH JSON file."""
    if path is None or not Path(path).is_file():
        return {}
    rows = {}
    for r in json.loads(Path(path).read_text() or "[]"):
        p = r.get("params", {})
        key = (r["benchmark"].rsplit(".", 2)[-2:], p.get("strategy", "-"), p.get("endpoints", "-"))
        key = (".".join(key[0]),) + key[1:]
        m = r["primaryMetric"]
        alloc = next((v["score"] for k, v in r.get("secondaryMetrics", {}).items()
                      if k.endswith("gc.alloc.rate.norm")), None)
        rows[key] = (m["score"], m.get("scoreError"), alloc)
    return rows


def ns(v):
    if v is None:
        return "-"
    score, err = v[0], v[1]
    ok = isinstance(err, (int, float)) and err == err  # NaN with a single iteration
    return f"{score:.1f} ± {err:.1f}" if ok else f"{score:.1f}"


def main(argv):
    if not 2 <= len(argv) <= 3:
        sys.exit(__doc__)
    t1 = load(argv[1])
    if not t1:
        sys.exit(f"no results in {argv[1]}")
    t2 = load(argv[2] if len(argv) == 3 else None)
    order = list(dict.fromkeys([*t1, *t2]))  # JMH's run order: params as declared
    methods = list(dict.fromkeys(k[0] for k in order))
    for method in methods:
        if len(methods) > 1:
            print(f"\n### {method}\n")
        print("| strategy | endpoints | ns/op t=1 | ns/op t=2 | B/op (gc.alloc.rate.norm) t=1 |")
        print("|---|---:|---:|---:|---:|")
        for k in (k for k in order if k[0] == method):
            a = t1.get(k)
            alloc = "-" if a is None or a[2] is None else f"{a[2]:.1f}"
            print(f"| {k[1]} | {k[2]} | {ns(a)} | {ns(t2.get(k))} | {alloc} |")


if __name__ == "__main__":
    main(sys.argv)
