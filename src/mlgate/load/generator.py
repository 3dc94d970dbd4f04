"""The native open-model load generator (requests sessions, threads, optionally processes).

Requests are sent on a fixed schedule: request *i* is due at ``t0 + i / rate``, whatever the
server does. Each worker thread takes the next free slot, sleeps until it is due, sends it on
its own keep-alive session and records ``latency = completion - intended send time``. When the
server stalls, the slots that fall due during the stall are sent late (or queue at the server)
and their latency includes that wait, so a slow server cannot hide its queueing behind a
generator that politely waited for it ("coordinated omission", as corrected by wrk2).

Beyond a few hundred requests per second one Python process becomes the bottleneck (the GIL);
``processes > 1`` splits the schedule round-robin over several processes sharing one start time
on the system-wide monotonic clock, and merges their histograms.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from mlgate.load.schedule import Schedule, schedule_of
from mlgate.load.stats import LoadStats, Recorder

MAX_THREADS = 256


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
    concurrency: int | None = None  # threads in total; default from the rate
    processes: int = 1
    # Ramping stages as [duration, rate at start, rate at end] over warm-up and duration
    # (mlgate.load.schedule); None: ``rate`` throughout. ``rate`` is then the mean offered rate
    # of the measured window.
    stages: list[list[float]] | None = None

    def schedule(self) -> Schedule:
        """When each request is due (seconds from the start of the run)."""
        return schedule_of(self.stages, self.rate, self.warmup + self.duration)

    @property
    def total_slots(self) -> int:
        return self.schedule().slots

    def threads_per_process(self) -> int:
        if self.concurrency:
            return max(1, math.ceil(self.concurrency / self.processes))
        # Enough threads to keep sending on time through half a second of server latency.
        per_process_rate = self.schedule().peak_rate / self.processes
        return int(min(MAX_THREADS, max(4, math.ceil(per_process_rate * 0.5))))


def classify(exc: BaseException) -> tuple[str, bool]:
    """(reason, timed) for a failed request; ``timed`` when its latency is meaningful."""
    import requests

    if isinstance(exc, requests.Timeout):
        return "timeout", True
    if isinstance(exc, requests.ConnectionError):
        text = str(exc).lower()
        if "refused" in text:
            return "connection refused", False
        if "reset" in text or "aborted" in text or "remotedisconnected" in text:
            return "connection reset", False
        return "connection error", False
    return type(exc).__name__, False


def new_session(url: str) -> Any:
    """A keep-alive session with proxies resolved once (trust_env re-reads netrc per request)."""
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(url))
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _worker(
    plan: Plan,
    t0: float,
    slots: Callable[[], int],
    local_total: int,
    first: int,
    step: int,
    recorder: Recorder,
    stop: threading.Event,
) -> None:
    import requests

    session = new_session(plan.url)
    due = plan.schedule().due
    bodies = plan.bodies
    n_bodies = len(bodies) if bodies else 0
    method = plan.method
    try:
        while not stop.is_set():
            j = slots()
            if j >= local_total:
                return
            i = first + j * step
            intended = t0 + due(i)
            delay = intended - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = bodies[i % n_bodies] if n_bodies and bodies else None
            sent = time.monotonic()
            try:
                response = session.request(
                    method,
                    plan.url,
                    data=body,
                    headers=plan.headers,
                    timeout=plan.timeout,
                    allow_redirects=False,
                )
                done = time.monotonic()
                code = response.status_code
                error = None if 200 <= code < 300 else f"HTTP {code}"
                recorder.record(intended, sent, done, error, True)
            except requests.RequestException as exc:
                reason, timed = classify(exc)
                recorder.record(intended, sent, time.monotonic(), reason, timed)
    finally:
        session.close()


def _run_threads(
    plan: Plan,
    t0: float,
    first: int,
    step: int,
    stop: threading.Event,
    tick: Callable[[list[Recorder]], None] | None = None,
) -> Recorder:
    """Run this process's share of the schedule (slots ``first, first+step, ...``)."""
    local_total = len(range(first, plan.total_slots, step))
    counter = itertools.count()
    lock = threading.Lock()

    def next_slot() -> int:
        with lock:
            return next(counter)

    window = (t0 + plan.warmup, t0 + plan.warmup + plan.duration)
    recorders = [Recorder(*window) for _ in range(plan.threads_per_process())]
    threads = [
        threading.Thread(
            target=_worker,
            args=(plan, t0, next_slot, local_total, first, step, rec, stop),
            daemon=True,
            name=f"mlgate-load-{n}",
        )
        for n, rec in enumerate(recorders)
    ]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.25)
                if tick:
                    tick(recorders)
    except BaseException:
        stop.set()
        for t in threads:
            t.join(plan.timeout + 1)
        raise
    merged = Recorder(*window)
    for rec in recorders:
        merged.merge(rec)
    return merged


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
    stop = threading.Event()
    try:
        recorder = _run_threads(plan, t0, header["first"], header["step"], stop)
    except KeyboardInterrupt:
        return 130
    sys.stdout.write(json.dumps(recorder.to_dict()) + "\n")
    sys.stdout.flush()
    return 0


def run_native(plan: Plan, tick: Callable[[float, int], None] | None = None) -> LoadStats:
    """Run the schedule and return its figures. ``tick(elapsed_s, sent)`` reports progress."""
    start_margin = 0.05
    stop = threading.Event()
    if plan.processes <= 1:
        t0 = time.monotonic() + start_margin

        def on_tick(recorders: list[Recorder]) -> None:
            if tick:
                tick(time.monotonic() - t0, sum(r.sent for r in recorders))

        wall0 = time.time() + (t0 - time.monotonic())
        merged = _run_threads(plan, t0, 0, 1, stop, on_tick)
    else:
        merged, wall0 = _run_processes(plan, tick)
    stats = LoadStats.from_recorder(
        merged, "native", plan.url, plan.rate, plan.duration, plan.warmup
    )
    # Wall-clock time of slot 0, so that a calibration (benchmarks/bench_load.py) can compute
    # from the schedule what latency each request truly had.
    stats.extra["schedule_start_unix"] = round(wall0, 6)
    stats.extra["processes"] = plan.processes
    stats.extra["threads_per_process"] = plan.threads_per_process()
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
        while any(r.is_alive() for r in readers):
            time.sleep(0.25)
            if tick:
                elapsed = time.monotonic() - t0
                tick(elapsed, int(min(max(elapsed, 0), total) * plan.rate))
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
