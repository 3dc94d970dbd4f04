"""A Prometheus exporter whose traffic the tests script: scenarios x versions, on 127.0.0.1.

Each (scenario, version) serves ``rate`` requests per second from the exporter's start, and
observation *i* is fixed by a low-discrepancy sequence rather than random draws: its latency is
the lognormal quantile of ``frac((i + 0.5) x golden ratio)``, it is an error when
``frac(i x sqrt 2) < error_rate`` and a conversion when ``frac(i x sqrt 3) < conversion``. So
any stretch of observations has (almost exactly) the configured distribution, and two versions
with the same behaviour give the same bucket shares: the tests judge the statistics, not luck.
The exposition text is written here in Prometheus's text format (version 0.0.4).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from statistics import NormalDist

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0)
_NORMAL = NormalDist()
GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass
class Behaviour:
    rate: float  # requests per second
    median_ms: float = 20.0
    sigma: float = 0.3  # of the lognormal
    error_rate: float = 0.01
    conversion: float = 0.10


@dataclass
class _State:
    behaviour: Behaviour
    n: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total_s: float = 0.0
    errors: int = 0
    conversions: int = 0

    def advance(self, elapsed: float) -> None:
        b = self.behaviour
        target = int(b.rate * elapsed)
        while self.n < target:
            i = self.n
            u = ((i + 0.5) * GOLDEN) % 1.0
            seconds = b.median_ms / 1000 * math.exp(b.sigma * _NORMAL.inv_cdf(u))
            self.total_s += seconds
            for k, upper in enumerate(BUCKETS):
                if seconds <= upper:
                    self.buckets[k] += 1
            if (i * math.sqrt(2)) % 1.0 < b.error_rate:
                self.errors += 1
            if (i * math.sqrt(3)) % 1.0 < b.conversion:
                self.conversions += 1
            self.n += 1


class Exporter:
    """Serves ``/metrics`` for ``scenarios`` (scenario -> version -> behaviour)."""

    def __init__(self, scenarios: dict[str, dict[str, Behaviour]]) -> None:
        self.states = {(s, v): _State(b) for s, versions in scenarios.items()
                       for v, b in versions.items()}
        self.started = time.monotonic()
        self.lock = threading.Lock()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.exposition().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def exposition(self) -> str:
        with self.lock:
            elapsed = time.monotonic() - self.started
            lines = ["# TYPE app_request_duration_seconds histogram"]
            counters = ["# TYPE app_requests_total counter"]
            conversions = ["# TYPE app_conversions_total counter"]
            for (scenario, version), state in sorted(self.states.items()):
                state.advance(elapsed)
                labels = f'scenario="{scenario}",version="{version}"'
                for upper, count in zip(BUCKETS, state.buckets, strict=True):
                    lines.append(f'app_request_duration_seconds_bucket{{{labels},le="{upper}"}}'
                                 f" {count}")
                lines.append(f'app_request_duration_seconds_bucket{{{labels},le="+Inf"}} '
                             f"{state.n}")
                lines.append(f"app_request_duration_seconds_sum{{{labels}}} {state.total_s}")
                lines.append(f"app_request_duration_seconds_count{{{labels}}} {state.n}")
                counters.append(f'app_requests_total{{{labels},code="200"}} '
                                f"{state.n - state.errors}")
                counters.append(f'app_requests_total{{{labels},code="500"}} {state.errors}')
                conversions.append(f"app_conversions_total{{{labels}}} {state.conversions}")
            return "\n".join([*lines, *counters, *conversions]) + "\n"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
