#!/usr/bin/env python3
"""Summarizes run-proxy-bench.sh's measurements: medians over rounds, ratios against nginx.

Reads the JSON lines the script wrote (one per shape, target and round, with wrk's numbers from
wrk-report.lua), prints one markdown table per request shape on stdout and writes every raw number
plus the medians, per shape, to --json-out. Exit status 3 when any run saw socket errors or non-2xx
answers (those numbers are not a measurement), 0 otherwise.

The run's settings come from BENCH_* environment variables set by the script.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

TARGET_ORDER = ["backend", "edge", "edge-before", "nginx", "haproxy"]
TARGET_LABEL = {
    "backend": "backend, direct (ceiling)",
    "edge": "edge proxy",
    "edge-before": "edge proxy, before (baseline jar)",
    "nginx": "nginx",
    "haproxy": "HAProxy",
}
SHAPE_ORDER = ["small", "c1", "c256", "16k", "1m", "upload1m"]
# Measurements written before shapes existed are the small shape.
DEFAULT_SHAPE = "small"
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


def summarize_shape(runs):
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
            # Absent in measurements written before RSS was recorded.
            "rss_mb_median": (
                statistics.median(r["target_rss_kb"] / 1024 for r in rs)
                if all("target_rss_kb" in r for r in rs)
                else None
            ),
        }
    nginx = summary.get("nginx")
    backend = summary.get("backend")
    for s in summary.values():
        s["rps_vs_nginx"] = s["rps_median"] / nginx["rps_median"] if nginx else None
        s["p99_vs_nginx"] = s["p99_us_median"] / nginx["p99_us_median"] if nginx else None
        # What a proxy adds to a request's latency; meaningful at one connection (the c1 shape),
        # where no request queues behind another.
        s["p50_overhead_us"] = s["p50_us_median"] - backend["p50_us_median"] if backend else None
    return summary


def shape_of(run):
    return run.get("shape", DEFAULT_SHAPE)


def summarize(runs):
    """Per shape: per-target medians, and the edge proxy against its baseline when both ran."""
    by_shape = {}
    for run in runs:
        by_shape.setdefault(shape_of(run), []).append(run)
    result = {}
    for shape, rs in by_shape.items():
        targets = summarize_shape(rs)
        result[shape] = {"settings": shape_settings(rs[0]), "targets": targets}
        edge, before = targets.get("edge"), targets.get("edge-before")
        if edge and before:
            result[shape]["edge_vs_before"] = {
                "rps": edge["rps_median"] / before["rps_median"],
                "cpu_us_per_request": (
                    edge["cpu_us_per_request_median"] / before["cpu_us_per_request_median"]
                    if before["cpu_us_per_request_median"]
                    else None
                ),
                "p99": edge["p99_us_median"] / before["p99_us_median"],
            }
    return result


def shape_settings(run):
    keys = ["threads", "connections", "method", "path", "request_body_bytes", "response_body_bytes"]
    return {k: run[k] for k in keys if k in run}


def ordered_shapes(summary):
    return sorted(summary, key=lambda s: SHAPE_ORDER.index(s) if s in SHAPE_ORDER else len(SHAPE_ORDER))


def ms(us):
    return f"{us / 1000:.2f}"


def ratio(value):
    return "-" if value is None else f"{value:.2f}x"


def table(summary, with_overhead):
    overhead_head, overhead_align = (" p50 overhead over direct µs |", " ---: |") if with_overhead else ("", "")
    lines = [
        "| target | req/s, median (min-max) | p50 ms |" + overhead_head + " p99 ms, median (min-max)"
        " | req/s vs nginx | p99 vs nginx | non-2xx / socket errors | upstream connections opened"
        " | target CPU µs per request | RSS MB at end |",
        "| --- | ---: | ---: |" + overhead_align + " ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for target in TARGET_ORDER:
        s = summary.get(target)
        if s is None:
            continue
        errors = ", ".join(f"{k} {v}" for k, v in s["errors"].items() if v) or "0"
        connects = "- (wrk connects directly)" if target == "backend" else f"{s['upstream_connects_median']:.0f}"
        overhead = ""
        if with_overhead:
            overhead = " - |" if target == "backend" or s["p50_overhead_us"] is None else f" {s['p50_overhead_us']:.0f} |"
        rss = "-" if s["rss_mb_median"] is None else f"{s['rss_mb_median']:.0f}"
        lines.append(
            f"| {TARGET_LABEL[target]} | {s['rps_median']:,.0f} ({s['rps_min']:,.0f}-{s['rps_max']:,.0f})"
            f" | {ms(s['p50_us_median'])} |{overhead}"
            f" {ms(s['p99_us_median'])} ({ms(s['p99_us_min'])}-{ms(s['p99_us_max'])})"
            f" | {ratio(s['rps_vs_nginx'])} | {ratio(s['p99_vs_nginx'])} | {errors} | {connects}"
            f" | {s['cpu_us_per_request_median']:.1f} | {rss} |"
        )
    return "\n".join(lines)


def shape_heading(shape, settings):
    body = settings.get("response_body_bytes")
    upload = settings.get("request_body_bytes")
    what = f"{settings.get('method', 'GET')} {settings.get('path', '')}"
    if upload:
        what += f" with a {upload:,}-byte body"
    if body is not None:
        what += f", {body:,}-byte answer"
    threads, connections = settings.get("threads"), settings.get("connections")
    wrk = f"wrk -t{threads} -c{connections}" if threads else "wrk"
    return f"### {shape}: {wrk}, {what}"


def baseline_line(comparison):
    cpu = comparison["cpu_us_per_request"]
    return (
        f"edge proxy against its baseline (edge-before): {comparison['rps']:.2f}x the req/s, "
        f"{'-' if cpu is None else f'{cpu:.2f}x'} the CPU µs per request, {comparison['p99']:.2f}x the p99"
    )


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
        "shapes": ordered_shapes(summary),
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
        "baseline_jar": env.get("BENCH_BASELINE_JAR") or None,
        "baseline_java_opts": env.get("BENCH_BASELINE_JAVA_OPTS") or None,
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
        f"wrk -d{settings['duration_s']}s per run, {settings['rounds']} rounds per shape after "
        f"{settings['warmup_s']} s warm-up per target and shape; medians over rounds; "
        f"{machine['cpus']} CPUs ({machine['cpu_model']}) shared by wrk, backend and proxy"
    )
    for shape in ordered_shapes(summary):
        section = summary[shape]
        print()
        print(shape_heading(shape, section["settings"]))
        print()
        print(table(section["targets"], with_overhead=section["settings"].get("connections") == 1))
        print()
        print(verdict(section["targets"]))
        if "edge_vs_before" in section:
            print(baseline_line(section["edge_vs_before"]))
    failed = any(
        sum(s["errors"].values()) for section in summary.values() for s in section["targets"].values()
    )
    if failed:
        print()
        print("!!! wrk saw socket errors or non-2xx answers (see the errors column): not a valid measurement")
    return 3 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
