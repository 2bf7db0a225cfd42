#!/usr/bin/env python3
"""Opens N idle HTTP keep-alive client connections to a proxy and holds them (issue 16).

Each connection sends ONE complete GET and reads its whole 200 answer, then stays open and silent:
the state of a real keep-alive client between requests. A connection that never sent a byte would
measure something else (an accepted socket whose decoder has never run), and a proxy may close it
early. At most --concurrency requests are in flight at once, below the edge proxy's 128-connection
upstream pool, so the proxy answers them without queueing and opening N is quick.

When all N are open and idle it writes a JSON status line to --ready-file (the script polls for
it), then holds them until SIGTERM or --hold seconds (a bound, so a forgotten client ends). Every
held connection waits for a read: a connection the proxy closes is counted, and the count is
written to --ready-file again (so the script can tell the proxy dropped idle clients).

usage: idle-connections.py --port P [--host 127.0.0.1] [--path /proxy/bench/x] [--count 10000]
       [--concurrency 64] [--hold 300] --ready-file FILE
Exit 0 after SIGTERM or --hold with every connection still open, 2 when a request failed or the
proxy closed a held connection, 1 on bad arguments.
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description="hold N idle HTTP keep-alive connections")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/proxy/bench/x")
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--hold", type=float, default=300.0, help="seconds to hold at most")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per connect + request")
    p.add_argument("--ready-file", required=True)
    a = p.parse_args()
    if a.count < 1 or a.concurrency < 1 or a.hold <= 0 or a.timeout <= 0:
        p.error("--count, --concurrency, --hold and --timeout must be positive")
    return a


async def one_request(args, request):
    """Connects, sends the GET, reads the whole answer; returns the open (reader, writer)."""
    reader, writer = await asyncio.open_connection(args.host, args.port)
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or parts[1] != "200":
        raise RuntimeError(f"answer was '{status_line}', not 200")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            raise RuntimeError("the answer closes the connection (Connection: close)")
    if length is None:
        # The backend answers with a fixed body and Content-Length; chunked is not expected here.
        raise RuntimeError("the answer has no Content-Length")
    await reader.readexactly(length)
    return reader, writer


async def watch(reader, closed):
    """Waits for the proxy to close an idle connection (or, unasked, send on it); counts it."""
    try:
        await reader.read(1)
    except (ConnectionError, OSError):
        pass
    closed[0] += 1


def write_status(path, status):
    with open(path + ".tmp", "w") as f:
        f.write(json.dumps(status) + "\n")
    # Atomic: the script never reads a half-written line.
    os.replace(path + ".tmp", path)


async def main(args):
    request = (
        f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n"
        "User-Agent: idle-connections\r\nAccept: */*\r\n\r\n"
    ).encode("ascii")
    held = []
    errors = []
    gate = asyncio.Semaphore(args.concurrency)

    async def open_one():
        async with gate:
            try:
                held.append(await asyncio.wait_for(one_request(args, request), args.timeout))
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, RuntimeError,
                    ValueError) as e:
                errors.append(f"{type(e).__name__}: {e}")

    started = time.monotonic()
    await asyncio.gather(*(open_one() for _ in range(args.count)))
    seconds = time.monotonic() - started
    closed = [0]
    watchers = [asyncio.ensure_future(watch(r, closed)) for r, _ in held]
    status = {
        "requested": args.count,
        "open": len(held),
        "failed": len(errors),
        "first_errors": errors[:5],
        "open_seconds": round(seconds, 2),
        "closed_by_peer": 0,
    }
    write_status(args.ready_file, status)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.hold)
    except asyncio.TimeoutError:
        pass
    status["closed_by_peer"] = closed[0]
    write_status(args.ready_file, status)
    for w in watchers:
        w.cancel()
    for _, writer in held:
        writer.transport.abort()  # no FIN handshake per connection: the run is over
    return 0 if not errors and closed[0] == 0 else 2


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
