#!/usr/bin/env python3
"""Summarizes run-proxy-bench.sh's measurements: medians over rounds, ratios against nginx.

Reads the JSON lines the script wrote (one per target and round, with wrk's numbers from
wrk-report.lua), prints a markdown table on stdout and writes every raw number plus the medians to
--json-out. Exit status 3 when any run saw socket errors or non-2xx answers (those numbers are not
a measurement), 0 otherwise.

The run's settings come from BENCH_* environment variables set by the script.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

TARGET_ORDER = ["backend", "edge", "nginx", "haproxy"]
TARGET_LABEL = {
    "backend": "backend, direct (ceiling)",
    "edge": "edge proxy",
    "nginx": "nginx",
    "haproxy": "HAProxy",
}
# Issue 7's target for the edge proxy, relative to nginx.
MIN_RPS_RATIO = 0.8
MAX_P99_RATIO = 1.5


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def summarize(runs):
    by_target = {}
    for run in runs:
        by_target.setdefault(run["target"], []).append(run)
    summary = {}
    for target, rs in by_target.items():
        rps = [r["wrk"]["rps"] for r in rs]
        p50 = [r["wrk"]["p50_us"] for r in rs]
        p99 = [r["wrk"]["p99_us"] for r in rs]
        errors = {}
        for r in rs:
            for kind, n in r["wrk"]["errors"].items():
                errors[kind] = errors.get(kind, 0) + n
        cpu_per_request_us = [
            r["target_cpu_s"] * 1e6 / r["wrk"]["requests"] if r["wrk"]["requests"] else 0.0 for r in rs
        ]
        summary[target] = {
            "rounds": len(rs),
            "rps_median": statistics.median(rps),
            "rps_min": min(rps),
            "rps_max": max(rps),
            "p50_us_median": statistics.median(p50),
            "p99_us_median": statistics.median(p99),
            "p99_us_min": min(p99),
            "p99_us_max": max(p99),
            "errors": errors,
            "upstream_connects_median": statistics.median(r["upstream_connects"] for r in rs),
            "cpu_us_per_request_median": statistics.median(cpu_per_request_us),
        }
    nginx = summary.get("nginx")
    for s in summary.values():
        s["rps_vs_nginx"] = s["rps_median"] / nginx["rps_median"] if nginx else None
        s["p99_vs_nginx"] = s["p99_us_median"] / nginx["p99_us_median"] if nginx else None
    return summary


def ms(us):
    return f"{us / 1000:.2f}"


def ratio(value):
    return "-" if value is None else f"{value:.2f}x"


def table(summary):
    lines = [
        "| target | req/s, median (min-max) | p50 ms | p99 ms, median (min-max) | req/s vs nginx | p99 vs nginx"
        " | non-2xx / socket errors | upstream connections opened | target CPU µs per request |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for target in TARGET_ORDER:
        s = summary.get(target)
        if s is None:
            continue
        errors = ", ".join(f"{k} {v}" for k, v in s["errors"].items() if v) or "0"
        connects = "- (wrk connects directly)" if target == "backend" else f"{s['upstream_connects_median']:.0f}"
        lines.append(
            f"| {TARGET_LABEL[target]} | {s['rps_median']:,.0f} ({s['rps_min']:,.0f}-{s['rps_max']:,.0f})"
            f" | {ms(s['p50_us_median'])} | {ms(s['p99_us_median'])} ({ms(s['p99_us_min'])}-{ms(s['p99_us_max'])})"
            f" | {ratio(s['rps_vs_nginx'])} | {ratio(s['p99_vs_nginx'])} | {errors} | {connects}"
            f" | {s['cpu_us_per_request_median']:.1f} |"
        )
    return "\n".join(lines)


def verdict(summary):
    edge = summary.get("edge")
    if edge is None or summary.get("nginx") is None:
        return "edge proxy or nginx missing: no verdict"
    rps_ok = edge["rps_vs_nginx"] >= MIN_RPS_RATIO
    p99_ok = edge["p99_vs_nginx"] <= MAX_P99_RATIO
    return (
        f"edge proxy against nginx: {edge['rps_vs_nginx']:.2f}x the req/s (target >= {MIN_RPS_RATIO}x: "
        f"{'met' if rps_ok else 'MISSED'}), {edge['p99_vs_nginx']:.2f}x the p99 (target <= {MAX_P99_RATIO}x: "
        f"{'met' if p99_ok else 'MISSED'})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("measurements", help="the JSON lines written by run-proxy-bench.sh")
    parser.add_argument("--json-out", required=True, help="where to write raw results and medians")
    args = parser.parse_args()

    with open(args.measurements) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    if not runs:
        sys.exit("no measurements in " + args.measurements)
    summary = summarize(runs)
    env = os.environ
    settings = {
        "command": env.get("BENCH_COMMAND"),
        "wrk_threads": int(env.get("BENCH_THREADS", "0")),
        "wrk_connections": int(env.get("BENCH_CONNECTIONS", "0")),
        "duration_s": int(env.get("BENCH_DURATION", "0")),
        "warmup_s": int(env.get("BENCH_WARMUP", "0")),
        "rounds": int(env.get("BENCH_ROUNDS", "0")),
        "request_path": env.get("BENCH_PATH"),
        "body_bytes": int(env.get("BENCH_BODY_BYTES", "0")),
        "edge_java_opts": env.get("BENCH_EDGE_JAVA_OPTS"),
        "edge_jar": env.get("BENCH_EDGE_JAR"),
    }
    machine = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "kernel": platform.release(),
        "load_average_at_end": os.getloadavg(),
        "versions": env.get("BENCH_VERSIONS"),
        "git_commit": env.get("BENCH_GIT_COMMIT"),
        "lb_edge_or_lb_core_uncommitted_changes": env.get("BENCH_GIT_DIRTY") == "true",
    }
    with open(args.json_out, "w") as f:
        json.dump({"settings": settings, "machine": machine, "summary": summary, "runs": runs}, f, indent=2)
        f.write("\n")

    print(
        f"wrk -t{settings['wrk_threads']} -c{settings['wrk_connections']} -d{settings['duration_s']}s, "
        f"{settings['rounds']} rounds after {settings['warmup_s']} s warm-up per target; medians over rounds; "
        f"{machine['cpus']} CPUs ({machine['cpu_model']}) shared by wrk, backend and proxy"
    )
    print()
    print(table(summary))
    print()
    print(verdict(summary))
    failed = any(sum(s["errors"].values()) for s in summary.values())
    if failed:
        print()
        print("!!! wrk saw socket errors or non-2xx answers (see the errors column): not a valid measurement")
    return 3 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
