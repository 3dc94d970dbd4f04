"""What a load test measured, independent of the engine that measured it.

The native generator fills one :class:`Recorder` per worker thread (no locks on the hot path)
and merges them; the Locust engine builds :class:`LoadStats` from Locust's CSV files. SLOs and
reports only ever read :class:`LoadStats`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mlgate.load.histogram import Histogram, LatencyWindows, window_width

STANDARD_PERCENTILES = (50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99)


@dataclass
class Recorder:
    """Per-thread tallies for one measurement window ``[window_start, window_end)``.

    A request counts toward latency and errors when its *intended* send time falls in the
    window (so warm-up requests are excluded however late they complete); it counts toward
    throughput when it *completes* inside the window. ``windows`` holds the latency per time
    window (by intended send time, like ``latency``) for the latency-over-time chart.
    """

    window_start: float
    window_end: float
    latency: Histogram = field(default_factory=Histogram)
    lag: Histogram = field(default_factory=Histogram)
    measured: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    per_second: Counter[int] = field(default_factory=Counter)
    errors_per_second: Counter[int] = field(default_factory=Counter)
    sent: int = 0
    windows: LatencyWindows = field(init=False)

    def __post_init__(self) -> None:
        self.windows = LatencyWindows(window_width(self.window_end - self.window_start))

    def record(
        self, intended: float, sent: float, done: float, error: str | None, timed: bool
    ) -> None:
        """``timed`` is False for failures without an answer to time (connection refused)."""
        self.sent += 1
        if self.window_start <= done < self.window_end:
            second = int(done - self.window_start)
            self.per_second[second] += 1
            if error:
                self.errors_per_second[second] += 1
        if not self.window_start <= intended < self.window_end:
            return
        self.measured += 1
        self.lag.record(max(sent - intended, 0.0))
        if timed:
            self.latency.record(max(done - intended, 0.0))
            self.windows.record(intended - self.window_start, max(done - intended, 0.0))
        if error:
            self.errors[error] += 1
        else:
            self.ok += 1

    def merge(self, other: Recorder) -> Recorder:
        self.latency.merge(other.latency)
        self.lag.merge(other.lag)
        self.measured += other.measured
        self.ok += other.ok
        self.errors.update(other.errors)
        self.per_second.update(other.per_second)
        self.errors_per_second.update(other.errors_per_second)
        self.sent += other.sent
        self.windows.merge(other.windows)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_start": self.window_start,
            "window_end": self.window_end,
            "latency": self.latency.to_dict(),
            "lag": self.lag.to_dict(),
            "measured": self.measured,
            "ok": self.ok,
            "errors": dict(self.errors),
            "per_second": dict(self.per_second),
            "errors_per_second": dict(self.errors_per_second),
            "sent": self.sent,
            "windows": self.windows.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Recorder:
        rec = cls(
            d["window_start"],
            d["window_end"],
            Histogram.from_dict(d["latency"]),
            Histogram.from_dict(d["lag"]),
            d["measured"],
            d["ok"],
            Counter(d["errors"]),
            Counter({int(k): v for k, v in d["per_second"].items()}),
            Counter({int(k): v for k, v in d["errors_per_second"].items()}),
            d["sent"],
        )
        if "windows" in d:
            rec.windows = LatencyWindows.from_dict(d["windows"])
        return rec


@dataclass
class LoadStats:
    """The figures of one finished load test (native or Locust)."""

    engine: str
    url: str
    target_rate: float
    duration: float
    warmup: float
    measured: int
    ok: int
    errors: dict[str, int]
    throughput: list[int]  # responses completed per second of the measured window
    error_series: list[int]
    latency: Histogram | None = None  # native engine
    percentile_table: dict[float, float] = field(default_factory=dict)  # Locust: q -> ms
    mean_ms: float | None = None
    max_ms: float | None = None
    min_ms: float | None = None
    lag_p99_ms: float | None = None
    lag_max_ms: float | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # Latency over time, for charts: windows of ``window_s`` seconds from the start of the
    # measured window; per-window histograms (native), or per-window percentiles q -> ms as an
    # engine reported them (Locust).
    window_s: int = 1
    latency_windows: LatencyWindows | None = None
    window_percentiles: dict[float, list[float | None]] = field(default_factory=dict)
    # The offered (target) rate per second of the measured window when it varies (stages).
    offered: list[float] | None = None

    @classmethod
    def from_recorder(
        cls, rec: Recorder, engine: str, url: str, rate: float, duration: float, warmup: float
    ) -> LoadStats:
        seconds = max(round(duration), 1)
        series = [rec.per_second.get(s, 0) for s in range(seconds)]
        errors = [rec.errors_per_second.get(s, 0) for s in range(seconds)]
        lat = rec.latency
        return cls(
            engine=engine,
            url=url,
            target_rate=rate,
            duration=duration,
            warmup=warmup,
            measured=rec.measured,
            ok=rec.ok,
            errors=dict(rec.errors),
            throughput=series,
            error_series=errors,
            latency=lat,
            mean_ms=lat.mean_ms,
            max_ms=None if lat.max_us is None else lat.max_us / 1000,
            min_ms=None if lat.min_us is None else lat.min_us / 1000,
            lag_p99_ms=rec.lag.percentile_ms(99),
            lag_max_ms=None if rec.lag.max_us is None else rec.lag.max_us / 1000,
            extra={"completed_in_window": sum(rec.per_second.values()), "sent": rec.sent},
            window_s=rec.windows.width,
            latency_windows=rec.windows,
        )

    @property
    def windows(self) -> int:
        """How many ``window_s`` windows the measured window has (the last may be partial)."""
        return max(1, math.ceil(self.duration / self.window_s - 1e-9))

    def window_latency_ms(self, q: float) -> list[float | None] | None:
        """Percentile ``q`` of each window (None for a window without responses), or None when
        the engine did not record it."""
        if self.latency_windows is not None:
            return self.latency_windows.series_ms(self.windows, q)
        series = self.window_percentiles.get(q)
        return None if series is None else list(series[: self.windows])

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def error_rate(self) -> float:
        return self.error_count / self.measured if self.measured else 1.0

    @property
    def achieved_rate(self) -> float:
        """Responses (errors included) completed per second of the measured window."""
        return sum(self.throughput) / self.duration if self.duration else 0.0

    def latency_ms(self, stat: str) -> float | None:
        if stat == "avg":
            return self.mean_ms
        if stat == "max":
            return self.max_ms
        if stat == "min":
            return self.min_ms
        q = 50.0 if stat == "med" else float(stat.lstrip("p"))
        if self.latency is not None:
            return self.latency.percentile_ms(q)
        if not self.percentile_table:
            return None
        # Locust reports fixed percentiles: use the nearest one at or above q (conservative).
        above = [k for k in sorted(self.percentile_table) if k >= q]
        return self.percentile_table[above[0] if above else max(self.percentile_table)]

    def percentiles(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for q in STANDARD_PERCENTILES:
            out[f"p{q:g}"] = self.latency_ms(f"p{q:g}")
        out["max"] = self.max_ms
        out["avg"] = self.mean_ms
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON evidence: figures, HdrHistogram-style buckets, throughput per second."""
        histogram: dict[str, Any] | None = None
        if self.latency is not None:
            histogram = {
                "unit": "ms",
                "scheme": "log-linear, 128 sub-buckets per power of two (HdrHistogram-style)",
                "buckets": [
                    {"from_ms": lo, "to_ms": hi, "count": n}
                    for lo, hi, n in self.latency.buckets_ms()
                ],
                "total": self.latency.total,
            }
        return {
            "engine": self.engine,
            "url": self.url,
            "target_rate": self.target_rate,
            "achieved_rate": round(self.achieved_rate, 3),
            "duration_s": self.duration,
            "warmup_s": self.warmup,
            "requests": self.measured,
            "ok": self.ok,
            "errors": self.error_count,
            "error_rate": round(self.error_rate, 6),
            "error_reasons": dict(self.errors),
            "latency_ms": {k: v for k, v in self.percentiles().items()},
            "histogram": histogram,
            "throughput": {
                "interval_s": 1,
                "responses": self.throughput,
                "errors": self.error_series,
            },
            "send_lag_ms": {"p99": self.lag_p99_ms, "max": self.lag_max_ms},
            **({"offered_rate": self.offered} if self.offered is not None else {}),
            "notes": self.notes,
            **self.extra,
        }
