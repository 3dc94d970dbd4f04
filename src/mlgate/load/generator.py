"""The native open-model load generator: one asyncio event loop per process, raw HTTP/1.1.

Requests are sent on a fixed schedule: request *i* is due at ``t0 + i / rate`` (with stages:
when the integral of the ramping rate reaches *i*, :mod:`mlgate.load.schedule`), whatever the
server does. A timer on the event loop sends every request that has fallen due on a free
keep-alive connection (opening another one, up to a bound, when none is free; beyond the bound
it waits for the next free one) and records ``latency = completion - intended send time``. When
the server stalls, the slots that fall due during the stall are sent late (or queue at the
server) and their latency includes that wait, so a slow server cannot hide its queueing behind a
generator that politely waited for it ("coordinated omission", as corrected by wrk2).

The client is a small HTTP/1.1 one on asyncio protocols (no task, future or timer per request:
the requests are pre-built bytes, responses are parsed in ``data_received``, timeouts are found
by a sweep every few milliseconds), which is what lets one process hold several thousand
requests per second; ``benchmarks/RESULTS.md`` compares it with aiohttp and urllib3. It speaks
Content-Length and chunked bodies, reads to the close when a response has neither, honours
``Connection: close``, reconnects when the server closes an idle connection (a request that got
no byte of answer on a reused connection is sent once more on a new one) and speaks TLS for
``https://`` URLs (certificates verified against the system store and certifi's, or
``Plan.ca_file``; ``Plan.insecure`` turns verification off). Environment proxies are not used.

``processes > 1`` splits the schedule round-robin over several processes sharing one start time
on the system-wide monotonic clock, and merges their histograms.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mlgate.load.pacing import Paced
from mlgate.load.schedule import Schedule, schedule_of
from mlgate.load.stats import LoadStats, Recorder

MAX_CONNECTIONS = 1000  # per process
MAX_CONNECTING = 8  # connection attempts under way at once, per process
MAX_HEAD = 64 * 1024  # bytes of status line and headers we accept
# ACK what arrives at once (Linux). A server that writes its headers and its body in two
# sends with Nagle's algorithm on (Python's http.server, mlgate serve) would otherwise wait for
# our delayed ACK (~40 ms) before sending the body on a busy kept-alive connection.
QUICKACK = getattr(socket, "TCP_QUICKACK", None)


@dataclass
class Plan:
    """Everything a worker needs; plain data so it can be sent to a child process."""

    url: str
    method: str = "GET"
    bodies: list[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    rate: float = 10.0
    duration: float = 10.0
    warmup: float = 0.0
    timeout: float = 5.0
    concurrency: int | None = None  # requests in flight in total; default from the rate
    processes: int = 1
    ca_file: str | None = None  # PEM file of certificates to trust for https
    insecure: bool = False  # do not verify the server's certificate
    # Ramping stages as [duration, rate at start, rate at end] over warm-up and duration
    # (mlgate.load.schedule); None: ``rate`` throughout. ``rate`` is then the mean offered rate
    # of the measured window.
    stages: list[list[float]] | None = None
    # The Open Inference Protocol over gRPC (mlgate.load.grpc_client): ``bodies`` are
    # ModelInferRequest messages, ``headers`` go as metadata, ``method`` is not used.
    grpc: bool = False

    def schedule(self) -> Schedule:
        """When each request is due (seconds from the start of the run)."""
        return schedule_of(self.stages, self.rate, self.warmup + self.duration)

    @property
    def total_slots(self) -> int:
        return self.schedule().slots

    def connections_per_process(self) -> int:
        """The most requests one process has in flight (one keep-alive connection each)."""
        if self.concurrency:
            return max(1, math.ceil(self.concurrency / self.processes))
        # Enough to keep sending on time through half a second of server latency.
        per_process_rate = self.schedule().peak_rate / self.processes
        return int(min(MAX_CONNECTIONS, max(4, math.ceil(per_process_rate * 0.5))))

    threads_per_process = connections_per_process  # the name before the asyncio client


def classify(exc: BaseException) -> tuple[str, bool]:
    """(reason, timed) for a failed ``requests`` call; ``timed`` when its latency means
    something. The generator itself uses :func:`classify_os_error`; this serves the preflight."""
    import requests

    if isinstance(exc, requests.Timeout):
        return "timeout", True
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error", False
    if isinstance(exc, requests.ConnectionError):
        text = str(exc).lower()
        if "refused" in text:
            return "connection refused", False
        if "reset" in text or "aborted" in text or "remotedisconnected" in text:
            return "connection reset", False
        return "connection error", False
    return type(exc).__name__, False


def classify_os_error(exc: BaseException | None) -> str:
    """The error reason of a failed connection, in :func:`classify`'s words."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "TLS error"
    if exc is None or isinstance(exc, ConnectionResetError | BrokenPipeError
                                  | ConnectionAbortedError):
        return "connection reset"
    return "connection error"


def new_session(plan: Plan) -> Any:
    """A ``requests`` session that connects as the generator does (for the preflight):
    directly, with the plan's certificate settings."""
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.trust_env = False  # no environment proxy, no .netrc: the generator uses neither
    session.verify = False if plan.insecure else (plan.ca_file or True)
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@dataclass
class Target:
    """Where requests go and the bytes of each request, built once before the clock starts."""

    host: str
    port: int
    ssl: ssl.SSLContext | None
    requests: list[bytes]
    head: bool  # HEAD requests get no body in the answer

    @classmethod
    def from_plan(cls, plan: Plan) -> Target:
        parts = urlsplit(plan.url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// URL, got {plan.url!r}")
        default = 443 if scheme == "https" else 80
        port = parts.port or default
        host = parts.hostname
        host_header = f"[{host}]" if ":" in host else host
        if port != default:
            host_header += f":{port}"
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        given = {k.lower() for k in plan.headers}
        method = plan.method.upper()
        lines = [f"{method} {target} HTTP/1.1"]
        if "host" not in given:
            lines.append(f"Host: {host_header}")
        if "user-agent" not in given:
            lines.append("User-Agent: mlgate")
        if "accept" not in given:
            lines.append("Accept: */*")
        lines += [f"{k}: {v}" for k, v in plan.headers.items() if k.lower() != "content-length"]
        head = "\r\n".join(lines).encode("latin-1")
        bodies: list[bytes | None] = list(plan.bodies) if plan.bodies else [None]
        built = []
        for body in bodies:
            if body is None:
                extra = b"" if method in ("GET", "HEAD", "OPTIONS", "DELETE") else \
                    b"\r\nContent-Length: 0"
                built.append(head + extra + b"\r\n\r\n")
            else:
                built.append(head + b"\r\nContent-Length: " + str(len(body)).encode()
                             + b"\r\n\r\n" + body)
        return cls(host, port, tls_context(plan) if scheme == "https" else None, built,
                   method == "HEAD")


def tls_context(plan: Plan) -> ssl.SSLContext:
    """Certificates verified by default: the system store (``SSL_CERT_FILE`` too) plus
    certifi's, which ``requests`` trusts; or only ``ca_file`` when given."""
    if plan.insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if plan.ca_file:
        return ssl.create_default_context(cafile=plan.ca_file)
    context = ssl.create_default_context()
    try:
        import certifi

        context.load_verify_locations(certifi.where())
    except (ImportError, OSError):
        pass
    return context


# Response parser states
_HEAD, _BODY, _CHUNK_SIZE, _CHUNK_DATA, _TRAILER, _TO_CLOSE = range(6)


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection carrying one request at a time."""

    def __init__(self, client: _Client) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.sock: Any = None
        self.buf = bytearray()
        self.state = _HEAD
        self.remaining = 0
        self.code = 0
        self.keep = True
        self.answered = 0  # responses completed on this connection
        self.got_bytes = False
        self.closed = False
        self.task: asyncio.Task[Any] | None = None
        self.busy = False  # a request is out and not yet answered
        self.slot, self.intended, self.retried = 0, 0.0, False
        self.sent = time.monotonic()  # of the request; of the connection attempt before it

    # the request ------------------------------------------------------------------------
    def send(self, slot: int, intended: float, retried: bool) -> None:
        self.slot, self.intended, self.retried = slot, intended, retried
        self.sent = time.monotonic()
        self.busy = True
        self.got_bytes = False
        self._write()

    def _write(self) -> None:
        requests = self.client.target.requests
        assert self.transport is not None
        self.transport.write(requests[self.slot % len(requests)])

    # asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if QUICKACK is not None:
            self.sock = transport.get_extra_info("socket")

    def data_received(self, data: bytes) -> None:
        if not self.busy:  # bytes nobody asked for: the connection is not reusable
            self.keep = False
            self.close()
            return
        self.got_bytes = True
        if self.sock is not None:
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
            except OSError:
                self.sock = None
        buf = self.buf
        buf += data
        try:
            if self._parse(buf):
                self._complete()
        except (ValueError, IndexError):
            self.client.failed(self, "connection error", False)
            self.close()

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.client.lost(self, exc)

    # parsing ------------------------------------------------------------------------------
    def _parse(self, buf: bytearray) -> bool:
        """Consume what is buffered; True when the response is complete."""
        while True:
            state = self.state
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD:
                        raise ValueError("response head too long")
                    return False
                head = bytes(buf[:end])
                del buf[: end + 4]
                lines = head.split(b"\r\n")
                status = lines[0].split(None, 2)
                code = int(status[1])
                if 100 <= code < 200 and code != 101:
                    continue  # an interim answer (100 Continue): the real one follows
                self.code = code
                http10 = status[0] == b"HTTP/1.0"
                length = -1
                chunked = False
                connection = b""
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"transfer-encoding":
                        chunked = b"chunked" in value.lower()
                    elif name == b"connection":
                        connection = value.strip().lower()
                self.keep = (connection == b"keep-alive") if http10 else connection != b"close"
                if self.client.target.head or code in (204, 304):
                    self.state = _HEAD
                    return True
                if chunked:
                    self.state = _CHUNK_SIZE
                elif length >= 0:
                    self.state, self.remaining = _BODY, length
                else:
                    self.state, self.keep = _TO_CLOSE, False
            elif state == _BODY:
                take = min(self.remaining, len(buf))
                del buf[:take]
                self.remaining -= take
                if self.remaining:
                    return False
                self.state = _HEAD
                return True
            elif state == _CHUNK_SIZE:
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD:
                        raise ValueError("chunk size line too long")
                    return False
                size = int(bytes(buf[:end]).split(b";", 1)[0].strip(), 16)
                del buf[: end + 2]
                if size == 0:
                    self.state = _TRAILER
                else:
                    self.state, self.remaining = _CHUNK_DATA, size + 2  # data and its CRLF
            elif state == _CHUNK_DATA:
                take = min(self.remaining, len(buf))
                del buf[:take]
                self.remaining -= take
                if self.remaining:
                    return False
                self.state = _CHUNK_SIZE
            elif state == _TRAILER:
                end = buf.find(b"\r\n")
                if end < 0:
                    return False
                del buf[: end + 2]
                if end == 0:  # the empty line that ends the trailers
                    self.state = _HEAD
                    return True
            else:  # _TO_CLOSE: the body runs to the end of the connection
                buf.clear()
                return False

    def _complete(self) -> None:
        self.answered += 1
        self.busy = False
        code = self.code
        self.client.answered(self, None if 200 <= code < 300 else f"HTTP {code}")

    def close(self) -> None:
        self.keep = False
        if self.transport is not None and not self.closed:
            self.transport.abort()
        elif self.task is not None:
            self.task.cancel()


class _Client(Paced):
    """This process's share of the schedule over keep-alive HTTP/1.1 connections."""

    def __init__(self, plan: Plan, t0: float, first: int, step: int, recorder: Recorder,
                 tick: Callable[[Recorder], None] | None) -> None:
        super().__init__(plan, t0, first, step, recorder, tick)
        self.target = Target.from_plan(plan)
        self.idle: list[_Conn] = []
        self.conns: set[_Conn] = set()
        self.connections_opened = 0
        self.connecting = 0

    async def shutdown(self) -> None:
        for conn in list(self.conns):
            conn.close()
        await asyncio.sleep(0)  # let the transports close

    def in_flight(self) -> bool:
        return any(c.busy for c in self.conns)

    def dispatch(self, slot: int, intended: float, retried: bool) -> None:
        if self.idle:
            self.idle.pop().send(slot, intended, retried)
        else:
            self.waiting.append((slot, intended, retried))
            self._grow()

    def _grow(self) -> None:
        """Open connections for waiting requests, a few at a time: a burst of due requests
        (after a stall, or a hiccup of the machine) must not turn into a storm of connects
        costlier than waiting for the connections already open to free up."""
        while (self.connecting < min(MAX_CONNECTING, len(self.waiting))
               and len(self.conns) < self.limit):
            conn = _Conn(self)
            self.conns.add(conn)
            self.connecting += 1
            self.connections_opened += 1
            conn.task = self.loop.create_task(self._connect(conn))

    async def _connect(self, conn: _Conn) -> None:
        target = self.target
        try:
            await self.loop.create_connection(
                lambda: conn, target.host, target.port, ssl=target.ssl,
                server_hostname=target.host if target.ssl else None,
            )
        except asyncio.CancelledError:
            return  # timed out (the sweep recorded it) or shutting down
        except (OSError, ssl.SSLError, ValueError) as exc:
            # The request first in line needed this connection: it failed.
            conn.closed = True
            self._forget(conn)
            if self.waiting:
                _, intended, _ = self.waiting.popleft()
                self.recorder.record(intended, conn.sent, time.monotonic(),
                                     classify_os_error(exc), False)
            self._refill()
            return
        finally:
            conn.task = None
            self.connecting -= 1
        if not conn.closed:
            self._release(conn)

    # outcomes -------------------------------------------------------------------------------
    def answered(self, conn: _Conn, error: str | None) -> None:
        self.recorder.record(conn.intended, conn.sent, time.monotonic(), error, True)
        self._release(conn)

    def failed(self, conn: _Conn, reason: str, timed: bool) -> None:
        if not conn.busy:
            return
        conn.busy = False
        conn.keep = False
        self.recorder.record(conn.intended, conn.sent, time.monotonic(), reason, timed)

    def lost(self, conn: _Conn, exc: Exception | None) -> None:
        if conn.busy:
            if conn.state == _TO_CLOSE:  # the body ended with the connection: complete
                conn.state = _HEAD
                conn._complete()
            elif conn.answered and not conn.got_bytes and not conn.retried:
                # The server closed an idle keep-alive connection as we sent on it: once more.
                conn.busy = False
                self._forget(conn)
                self.waiting.appendleft((conn.slot, conn.intended, True))
                self._refill()
                return
            else:
                self.failed(conn, classify_os_error(exc), False)
        self._forget(conn)
        self._refill()

    def _release(self, conn: _Conn) -> None:
        if not conn.keep:
            conn.close()  # connection_lost forgets it and refills
            self.check_done()
            return
        if self.waiting:
            conn.send(*self.waiting.popleft())
        else:
            self.idle.append(conn)
            self.check_done()

    def _forget(self, conn: _Conn) -> None:
        self.conns.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)

    def _refill(self) -> None:
        """A connection went away: requests waiting for one get new ones."""
        while self.waiting and self.idle:
            self.idle.pop().send(*self.waiting.popleft())
        if self.waiting:
            self._grow()
        self.check_done()

    def sweep(self) -> None:
        """Requests without an answer after ``timeout`` are timeouts (timed: they waited)."""
        deadline = time.monotonic() - self.timeout
        for conn in list(self.conns):
            if conn.busy and conn.sent < deadline:
                self.failed(conn, "timeout", True)
                conn.close()
            elif conn.task is not None and conn.sent < deadline:
                # A connection attempt without an answer: the request first in line times out.
                conn.task.cancel()
                self._forget(conn)
                if self.waiting:
                    _, intended, _ = self.waiting.popleft()
                    self.recorder.record(intended, conn.sent, time.monotonic(), "timeout", True)
        self._refill()


def _run_loop(
    plan: Plan,
    t0: float,
    first: int,
    step: int,
    tick: Callable[[Recorder], None] | None = None,
) -> Recorder:
    """Run this process's share of the schedule on a new event loop; its recorder."""
    window = (t0 + plan.warmup, t0 + plan.warmup + plan.duration)
    recorder = Recorder(*window)
    _raise_file_limit(plan.connections_per_process() + 64)

    async def main() -> None:
        if plan.grpc:
            from mlgate.load.grpc_client import GrpcClient

            await GrpcClient(plan, t0, first, step, recorder, tick).run()
        else:
            await _Client(plan, t0, first, step, recorder, tick).run()

    asyncio.run(main())
    return recorder


def _raise_file_limit(needed: int) -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < needed:
            top = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))
    except (ImportError, ValueError, OSError):
        pass


def _encode_plan(plan: Plan) -> str:
    data = asdict(plan)
    data["bodies"] = None if plan.bodies is None else [
        base64.b64encode(b).decode("ascii") for b in plan.bodies
    ]
    return json.dumps(data)


def _decode_plan(text: str) -> Plan:
    data = json.loads(text)
    if data["bodies"] is not None:
        data["bodies"] = [base64.b64decode(b) for b in data["bodies"]]
    return Plan(**data)


def child_main() -> int:
    """A generator process (``python -m mlgate.load.generator``), driven over stdin/stdout.

    Reads one line of plan JSON with its slot share, says ``ready``, reads the common start
    time, runs, and writes its recorder as one JSON line. Plain subprocesses rather than
    multiprocessing, so nothing depends on how the parent's ``__main__`` can be re-imported.
    """
    header = json.loads(sys.stdin.readline())
    plan = _decode_plan(header["plan"])
    print("ready", flush=True)
    t0 = float(sys.stdin.readline())
    try:
        recorder = _run_loop(plan, t0, header["first"], header["step"])
    except KeyboardInterrupt:
        return 130
    sys.stdout.write(json.dumps(recorder.to_dict()) + "\n")
    sys.stdout.flush()
    return 0


def run_native(plan: Plan, tick: Callable[[float, int], None] | None = None) -> LoadStats:
    """Run the schedule and return its figures. ``tick(elapsed_s, sent)`` reports progress."""
    start_margin = 0.05
    if plan.grpc:  # a bad URL or a missing grpcio fails here, before any process starts
        from mlgate.load.grpc_client import grpc_target

        grpc_target(plan.url)
    else:
        Target.from_plan(plan)
    if plan.processes <= 1:
        t0 = time.monotonic() + start_margin
        last = [0.0]

        def on_tick(recorder: Recorder) -> None:
            now = time.monotonic()
            if tick and now - last[0] >= 0.25:
                last[0] = now
                tick(now - t0, recorder.sent)

        wall0 = time.time() + (t0 - time.monotonic())
        merged = _run_loop(plan, t0, 0, 1, on_tick)
    else:
        merged, wall0 = _run_processes(plan, tick)
    stats = LoadStats.from_recorder(
        merged, "native", plan.url, plan.rate, plan.duration, plan.warmup
    )
    # Wall-clock time of slot 0, so that a calibration (benchmarks/bench_load.py) can compute
    # from the schedule what latency each request truly had.
    stats.extra["schedule_start_unix"] = round(wall0, 6)
    stats.extra["processes"] = plan.processes
    stats.extra["connections_per_process"] = plan.connections_per_process()
    return stats
def _run_processes(
    plan: Plan, tick: Callable[[float, int], None] | None
) -> tuple[Recorder, float]:
    procs: list[subprocess.Popen[str]] = []
    encoded = _encode_plan(plan)
    try:
        for k in range(plan.processes):
            proc = subprocess.Popen(
                [sys.executable, "-m", "mlgate.load.generator"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            procs.append(proc)
            assert proc.stdin is not None
            proc.stdin.write(json.dumps({"plan": encoded, "first": k, "step": plan.processes}))
            proc.stdin.write("\n")
            proc.stdin.flush()
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("a load-generator process did not start")
        t0 = time.monotonic() + 0.1
        wall0 = time.time() + 0.1
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{t0!r}\n")
            proc.stdin.close()
        results: list[str] = [""] * len(procs)
        readers = [
            threading.Thread(target=_read_into, args=(proc, results, n), daemon=True)
            for n, proc in enumerate(procs)
        ]
        for r in readers:
            r.start()
        total = plan.warmup + plan.duration
        schedule = plan.schedule()
        while any(r.is_alive() for r in readers):
            time.sleep(0.25)
            if tick:  # the children report only at the end: what the schedule has sent so far
                elapsed = time.monotonic() - t0
                tick(elapsed, math.ceil(schedule.count_until(min(max(elapsed, 0), total))))
        window = (t0 + plan.warmup, t0 + plan.warmup + plan.duration)
        merged = Recorder(*window)
        for text in results:
            if not text.strip():
                raise RuntimeError("a load-generator process exited without results")
            merged.merge(Recorder.from_dict(json.loads(text)))
        return merged, wall0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(plan.timeout + 2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _read_into(proc: subprocess.Popen[str], results: list[str], n: int) -> None:
    assert proc.stdout is not None
    results[n] = proc.stdout.read()


if __name__ == "__main__":
    raise SystemExit(child_main())
