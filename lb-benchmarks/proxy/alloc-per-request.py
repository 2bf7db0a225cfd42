#!/usr/bin/env python3
"""Bytes the edge proxy allocated per request, from a JFR recording of a steady load.

    alloc-per-request.py RECORDING.jfr REQUESTS

Sums, over the proxy's threads, jdk.ThreadAllocationStatistics' `allocated` between the first and
the last event of the recording (JFR emits one per thread at the start and the end of a chunk), and
divides by REQUESTS: the requests wrk counted while the recording ran (its req/s times the
recording's length). The recording should lie wholly inside one measured wrk run, e.g. with
`-XX:StartFlightRecording=delay=20s,duration=15s,filename=edge.jfr,settings=profile` and
`run-proxy-bench.sh --targets edge -w 10 -d 30 -r 1` (lb-benchmarks/README.md). Needs the JDK's
`jfr` tool (on PATH, or in $JAVA_HOME/bin).
"""
import collections
import json
import os
import shutil
import subprocess
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    recording, requests = sys.argv[1], float(sys.argv[2])
    if requests <= 0:
        sys.exit("alloc-per-request: REQUESTS must be positive, was " + sys.argv[2])
    jfr = shutil.which("jfr") or os.path.join(os.environ.get("JAVA_HOME", ""), "bin", "jfr")
    out = subprocess.run(
        [jfr, "print", "--json", "--events", "jdk.ThreadAllocationStatistics", recording],
        capture_output=True, text=True, check=True).stdout
    by_thread = collections.defaultdict(list)
    for event in json.loads(out)["recording"]["events"]:
        v = event["values"]
        thread = v.get("thread") or {}
        name = thread.get("javaName") or str(thread.get("osThreadId"))
        by_thread[name].append((v["startTime"], v["allocated"]))
    total = 0
    for name, samples in sorted(by_thread.items()):
        samples.sort()
        grown = samples[-1][1] - samples[0][1]
        if grown > 0:
            total += grown
            print(f"  {name}: {grown / 1e6:.1f} MB")
    print(f"total {total / 1e6:.1f} MB over {requests:.0f} requests = {total / requests:.0f} B/request")


if __name__ == "__main__":
    main()
