"""Measure both versions by sending the traffic ourselves: a split of one arrival rate.

The baseline gets ``rate * (1 - canary_share)`` requests per second and the canary the rest
(typically 1-5 %), both on mlgate's open-model generator (:mod:`mlgate.load.generator`), at the
same time so both see the same machine and network. Latency is taken from each request's
intended send time, as in the load gate. The generator's histogram (values below 256 µs exact,
above that buckets under 0.8 % wide) stands in for the raw samples: bootstrapping it is
bootstrapping the samples rounded to their bucket.
"""

from __future__ import annotations

import threading
from typing import Any

from mlgate.canary.sample import VersionSample
from mlgate.canary.settings import CanarySettings
from mlgate.canary.stats import Buckets
from mlgate.errors import InputError
from mlgate.load.generator import Plan, run_native
from mlgate.load.histogram import Histogram
from mlgate.load.runner import preflight
from mlgate.load.stats import LoadStats
from mlgate.provenance import url_input


def measure(settings: CanarySettings) -> tuple[VersionSample, VersionSample, dict[str, Any]]:
    """(baseline, canary, facts about the run) from one split run of the generator."""
    direct = settings.direct
    assert direct is not None
    plans = {
        "baseline": Plan(url=direct.baseline_url, method=direct.method,
                         rate=direct.rate * (1 - direct.canary_share), duration=direct.duration,
                         warmup=direct.warmup, timeout=direct.timeout),
        "canary": Plan(url=direct.canary_url, method=direct.method,
                       rate=direct.rate * direct.canary_share, duration=direct.duration,
                       warmup=direct.warmup, timeout=direct.timeout),
    }
    for role, plan in plans.items():
        try:
            preflight(plan, external=True)
        except InputError as exc:
            raise InputError(exc.message, settings.where(f"direct.{role}_url")) from None
    results: dict[str, LoadStats] = {}
    failures: list[BaseException] = []

    def run(role: str) -> None:
        try:
            results[role] = run_native(plans[role])
        except BaseException as exc:  # re-raised in the calling thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(role,), name=f"canary-{role}")
               for role in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    top = max(settings.quantiles)
    baseline = _sample(settings.baseline, results["baseline"], top)
    canary = _sample(settings.canary, results["canary"], top)
    facts = {"baseline_url": url_input(direct.baseline_url)["url"],
             "canary_url": url_input(direct.canary_url)["url"],
             "rate": direct.rate, "canary_share": direct.canary_share,
             "duration_s": direct.duration, "warmup_s": direct.warmup,
             "bootstrap": "multinomial redraws of the generator's fine latency histogram "
                          "(equivalent to resampling the raw latencies, rounded to < 0.8 %)"}
    return baseline, canary, facts


def _sample(version: str, stats: LoadStats, top: float) -> VersionSample:
    histogram = stats.latency or Histogram()
    rows = histogram.buckets_ms()
    buckets = Buckets(tuple(r[0] for r in rows), tuple(r[1] for r in rows),
                      tuple(int(r[2]) for r in rows))
    errors = sum(stats.errors.values())
    return VersionSample(
        version=version, requests=stats.measured, errors=errors, latency=buckets,
        reported={f"p{q:g}": histogram.percentile_ms(q) for q in (50.0, 95.0, 99.0)},
        timeline=_timeline(stats, top),
    )


def _timeline(stats: LoadStats, q: float) -> list[tuple[float, float | None]]:
    """The highest compared quantile per time window of the run, for the figure."""
    series = stats.window_latency_ms(q) or []
    return [(round(i * stats.window_s, 3), value) for i, value in enumerate(series)]
