"""What one version measured, whichever source measured it."""

from __future__ import annotations

from dataclasses import dataclass, field

from mlgate.canary.stats import Buckets


@dataclass
class VersionSample:
    """Requests, errors, latency histogram (ms) and optionally a business proportion
    (``successes`` of ``trials``, e.g. conversions per visit) of one version.

    ``reported`` are the quantiles the source itself computed (Prometheus's
    ``histogram_quantile``, the generator's percentiles), shown next to ours; ``timeline`` is a
    latency quantile over time for the figure, as (seconds from the start, ms) points
    (Prometheus: ``query_range``; direct: the generator's time windows).
    """

    version: str
    requests: int
    errors: int
    latency: Buckets
    successes: int | None = None
    trials: int | None = None
    reported: dict[str, float | None] = field(default_factory=dict)
    timeline: list[tuple[float, float | None]] = field(default_factory=list)

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None
