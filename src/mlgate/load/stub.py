"""A tiny, fast HTTP endpoint with injectable stalls and errors, to calibrate the load gate.

``python -m mlgate.load.stub --port 0 [--stall 0.2 --stall-every 2] [--error-every 10]
[--delay 0.02 --max-concurrency 2]`` prints its URL and answers every path with a small JSON
body over keep-alive HTTP/1.1.
Stalls are aligned on the wall clock (every ``stall_every`` seconds, for ``stall`` seconds,
nothing is answered), so that a benchmark can compute from its own send schedule the latency
every request truly had and compare it with what a load generator reports. asyncio keeps the
endpoint cheap enough that it is not the bottleneck when measuring a generator.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

OK_BODY = b'{"status":"ok"}'


@dataclass
class StubOptions:
    stall: float = 0.0  # seconds the endpoint freezes ...
    stall_every: float = 0.0  # ... every this many seconds (wall clock aligned)
    error_every: int = 0  # answer every n-th request with 500 (0 = never)
    delay: float = 0.0  # fixed service time added to every request
    max_concurrency: int = 0  # serve at most this many requests at once; others queue (0: any)


def stall_remaining(now: float, opts: StubOptions) -> float:
    """Seconds until the current stall ends (0 when not in a stall)."""
    if opts.stall <= 0 or opts.stall_every <= 0:
        return 0.0
    phase = now % opts.stall_every
    return opts.stall - phase if phase < opts.stall else 0.0


class _Counter:
    n = 0
    slots: asyncio.Semaphore | None = None


async def _handle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, opts: StubOptions, count: _Counter
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:].strip() or 0)
            if length:
                await reader.readexactly(length)
            wait = stall_remaining(time.time(), opts)
            if wait > 0:
                await asyncio.sleep(wait)
            if count.slots is not None:  # a server with k workers: capacity k / delay
                async with count.slots:
                    await asyncio.sleep(opts.delay)
            elif opts.delay > 0:
                await asyncio.sleep(opts.delay)
            count.n += 1
            status = b"200 OK"
            body = OK_BODY
            if opts.error_every and count.n % opts.error_every == 0:
                status, body = b"500 Internal Server Error", b'{"error":"injected"}'
            writer.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def serve(host: str, port: int, opts: StubOptions, announce: bool = True) -> None:
    count = _Counter()
    if opts.max_concurrency > 0:
        count.slots = asyncio.Semaphore(opts.max_concurrency)
    server = await asyncio.start_server(
        lambda r, w: _handle(r, w, opts, count), host, port, backlog=1024
    )
    bound = server.sockets[0].getsockname()[1]
    if announce:
        print(f"http://{host}:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlgate.load.stub", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--stall", type=float, default=0.0, help="stall length in seconds")
    parser.add_argument("--stall-every", type=float, default=0.0, help="stall period, seconds")
    parser.add_argument("--error-every", type=int, default=0, help="every n-th answer is a 500")
    parser.add_argument("--delay", type=float, default=0.0, help="added service time, seconds")
    parser.add_argument("--max-concurrency", type=int, default=0,
                        help="serve at most this many requests at once (each taking --delay); "
                        "the rest queue, so the capacity is max-concurrency / delay req/s")
    args = parser.parse_args(argv)
    opts = StubOptions(args.stall, args.stall_every, args.error_every, args.delay,
                       args.max_concurrency)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, opts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
