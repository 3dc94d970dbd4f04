"""Which HTTP client for the native generator's hot path: a closed-loop micro-benchmark.

Each candidate keeps ``--connections`` keep-alive requests in flight against the same local
endpoint (``python -m mlgate.load.stub`` in its own process) for ``--seconds`` and reports the
responses per second and the client's CPU time per response (what bounds an open-model
generator's rate on one core). The candidates time every request with ``time.monotonic()``;
the mlgate client also records every request into its histograms (its real hot path), the
others do not.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_clients.py [--seconds 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mlgate.load.generator import Plan  # noqa: E402


@contextmanager
def stub() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "mlgate.load.stub", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)


def _threads(make: Callable[[], Callable[[], None]], n: int, seconds: float) -> int:
    stop = time.monotonic() + seconds
    counts = [0] * n

    def work(k: int) -> None:
        call = make()
        while time.monotonic() < stop:
            call()
            counts[k] += 1

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts)


def requests_threads(url: str, n: int, seconds: float) -> int:
    from mlgate.load.generator import Plan, new_session

    def make() -> Callable[[], None]:
        session = new_session(Plan(url=url))
        return lambda: session.get(url, timeout=5).content and None

    return _threads(make, n, seconds)


def urllib3_threads(url: str, n: int, seconds: float) -> int:
    import urllib3

    parts = urlsplit(url)

    def make() -> Callable[[], None]:
        pool = urllib3.HTTPConnectionPool(parts.hostname, parts.port, maxsize=1, retries=False)
        return lambda: pool.request("GET", "/", timeout=5).data and None

    return _threads(make, n, seconds)


def aiohttp_tasks(url: str, n: int, seconds: float) -> int:
    import aiohttp

    async def main() -> int:
        count = 0
        stop = time.monotonic() + seconds
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=n)) as session:

            async def work() -> None:
                nonlocal count
                while time.monotonic() < stop:
                    async with session.get(url) as response:
                        await response.read()
                    count += 1

            await asyncio.gather(*(work() for _ in range(n)))
        return count

    return asyncio.run(main())


def asyncio_streams(url: str, n: int, seconds: float) -> int:
    parts = urlsplit(url)
    request = f"GET / HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()

    async def main() -> int:
        count = 0
        stop = time.monotonic() + seconds

        async def work() -> None:
            nonlocal count
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            while time.monotonic() < stop:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                count += 1
            writer.close()

        await asyncio.gather(*(work() for _ in range(n)))
        return count

    return asyncio.run(main())


def mlgate_protocols(url: str, n: int, seconds: float) -> int:
    """mlgate's client in a closed loop: each answer is recorded into the run's histograms
    (as in a load test) and the connection sends the next request at once."""
    from mlgate.load.generator import _Client, _Conn
    from mlgate.load.stats import Recorder

    class Closed(_Client):
        def _release(self, conn: _Conn) -> None:
            now = time.monotonic()
            if now < self.stop_at:
                conn.send(0, now, False)
            else:
                self.idle.append(conn)
                self._check_done()

    async def main() -> int:
        now = time.monotonic()
        recorder = Recorder(now, now + seconds + 60)
        client = Closed(Plan(url=url, rate=1, duration=1, concurrency=n), now, 0, 1,
                        recorder, None)
        client.stop_at = now + seconds  # type: ignore[attr-defined]
        client.next_j = client.local_total  # no schedule: only the closed loop below
        for _ in range(n):  # n connections, each sending its first request once connected
            conn = _Conn(client)
            client.conns.add(conn)
            client.connecting += 1
            conn.task = client.loop.create_task(client._connect(conn))
        sweeper = client.loop.call_later(0.01, client._sweep)
        await client.done
        sweeper.cancel()
        for conn in list(client.conns):
            conn.close()
        await asyncio.sleep(0)
        return recorder.measured

    return asyncio.run(main())


CANDIDATES = {
    "requests sessions on threads (the old generator)": requests_threads,
    "urllib3 connection pools on threads": urllib3_threads,
    "aiohttp ClientSession (one event loop)": aiohttp_tasks,
    "asyncio streams, hand-written HTTP/1.1 (one event loop)": asyncio_streams,
    "asyncio protocols, mlgate's client (one event loop, records histograms)": mlgate_protocols,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="1.5 s per candidate")
    args, _ = parser.parse_known_args(list(argv) if argv is not None else None)  # run_all
    if args.quick:
        args.seconds = 1.5
    print(f"load average {os.getloadavg()[0]:.1f}; {args.connections} connections, "
          f"{args.seconds:g} s each\n")
    print("| Client | Responses/s | Client CPU per response |")
    print("|---|---|---|")
    with stub() as url:
        for name, run in CANDIDATES.items():
            cpu0, t0 = time.process_time(), time.perf_counter()
            count = run(url, args.connections, args.seconds)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
            print(f"| {name} | {count / wall:,.0f} | {cpu / max(count, 1) * 1e6:.0f} µs |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
