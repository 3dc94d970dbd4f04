"""Figures of the load gate: latency and request rate over the measured window.

The SLO checks judge the run as a whole (p95 over every request); the charts show *when*: a
p99 that is fine on average but spikes every ten seconds (a garbage collector, a cron job), a
latency that climbs through the run (a leak, a queue that never drains), a rate that sags when
the server saturates. Both are ``line`` figures over the same evenly spaced windows of
``LoadStats.window_s`` whole seconds (1 s, or coarser so that a run has at most
``histogram.MAX_WINDOWS`` points; Mermaid's xychart spaces points evenly):

* ``load.latency``: p50, p95, p99 per window in ms (and any other percentile an SLO names),
  from the intended send time like every latency figure; each latency SLO is a threshold line
  (``p95<250ms`` -> ``p95 SLO`` at 250). A window without responses is a gap.
* ``load.rate``: responses completed per second in each window against the ``target`` rate
  (constant, or following ``load.stages``), errors per second, and a ``rate`` SLO as a
  threshold line in req/s.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mlgate.figures import Figure, Series, Threshold

if TYPE_CHECKING:
    from mlgate.load.slo import SLO
    from mlgate.load.stats import LoadStats

LATENCY_PRIORITY = 15
RATE_PRIORITY = 20
PERCENTILES = (50.0, 95.0, 99.0)


def load_figures(stats: LoadStats, slos: list[SLO]) -> list[Figure]:
    """``load.latency`` (when the engine recorded latency over time) and ``load.rate``."""
    figures = []
    latency = latency_figure(stats, slos)
    if latency is not None:
        figures.append(latency)
    figures.append(rate_figure(stats, slos))
    return figures


def latency_figure(stats: LoadStats, slos: list[SLO]) -> Figure | None:
    levels = list(PERCENTILES)
    for slo in slos:
        q = slo.percentile
        if q is not None and q not in levels and q < 100:
            levels.append(q)
    series = []
    for q in sorted(levels):
        values = stats.window_latency_ms(q)
        if values is not None:
            series.append(Series(f"p{q:g}", list(values)))
    if not series or all(v is None for s in series for v in s.values):
        return None
    width = stats.window_s
    thresholds = [Threshold(f"{slo.stat} SLO", slo.limit) for slo in slos if slo.is_latency]
    return Figure(
        id="load.latency",
        title="Latency over time",
        kind="line",
        x=[w * width for w in range(len(series[0].values))],
        series=series,
        x_label="seconds since the end of the warm-up",
        y_label="latency (ms)",
        thresholds=thresholds,
        priority=LATENCY_PRIORITY,
        note=f"percentiles per {_seconds(width)} window, from each request's intended send "
             f"time; lines: the latency SLOs",
    )


def rate_figure(stats: LoadStats, slos: list[SLO]) -> Figure:
    width = stats.window_s
    windows = max(1, math.ceil(len(stats.throughput) / width))
    achieved = _per_second(stats.throughput, width, windows)
    target: list[float | None] = [stats.target_rate] * windows
    if stats.offered is not None:  # stages: the offered rate follows them
        target = _per_second_f(stats.offered, width, windows)
    series = [Series("achieved", list(achieved)), Series("target", target)]
    if stats.error_series:
        series.append(Series("errors", list(_per_second(stats.error_series, width, windows))))
    thresholds = [
        Threshold("rate SLO", slo.limit * stats.target_rate if slo.relative else slo.limit)
        for slo in slos if slo.stat == "rate"
    ]
    return Figure(
        id="load.rate",
        title="Request rate over time",
        kind="line",
        x=[w * width for w in range(windows)],
        series=series,
        x_label="seconds since the end of the warm-up",
        y_label="requests/s",
        thresholds=thresholds,
        priority=RATE_PRIORITY,
        note=f"responses (and errors) completed per second, averaged per {_seconds(width)} "
             f"window, against the offered rate",
    )


def _per_second(counts: list[int], width: int, windows: int) -> list[float | None]:
    """Counts per second averaged over each window of ``width`` seconds."""
    out: list[float | None] = []
    for w in range(windows):
        chunk = counts[w * width : (w + 1) * width]
        out.append(sum(chunk) / len(chunk) if chunk else None)
    return out


def _per_second_f(rates: list[float], width: int, windows: int) -> list[float | None]:
    out: list[float | None] = []
    for w in range(windows):
        chunk = rates[w * width : (w + 1) * width]
        out.append(round(sum(chunk) / len(chunk), 3) if chunk else None)
    return out


def _seconds(width: int) -> str:
    return "1-second" if width == 1 else f"{width}-second"
