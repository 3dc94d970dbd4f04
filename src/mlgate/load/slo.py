"""Service-level objectives written like k6 thresholds, one string each.

Grammar (spaces optional)::

    p50|p90|p95|p99|p99.9|p(97.5)|avg|med|min|max  <|<=|>|>=  NUMBER [us|ms|s]   (bare = ms)
    error_rate                                    <|<=|>|>=  NUMBER% | FRACTION
    rate                                          <|<=|>|>=  NUMBER%          (of the target rate)
    rate                                          <|<=|>|>=  NUMBER [rps|/s]  (absolute req/s)

The same strings are accepted after ``--slo`` and under ``load.slo`` in mlgate.yaml, so a
threshold reads the same wherever it is written.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mlgate.errors import InputError
from mlgate.load.units import format_ms
from mlgate.result import CheckResult, Status

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_SLO = re.compile(
    r"^\s*(?P<metric>p\(\s*\d+(?:\.\d+)?\s*\)|p\d+(?:\.\d+)?|avg|med|min|max|error_rate|rate)"
    r"\s*(?P<op><=|>=|<|>)\s*(?P<num>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>us|µs|ms|s|%|rps|/s)?\s*$"
)
_LATENCY_UNITS = {None: 1.0, "ms": 1.0, "s": 1000.0, "us": 0.001, "µs": 0.001}


class LatencySource(Protocol):
    """What an SLO needs from a finished load test (native or Locust)."""

    @property
    def target_rate(self) -> float: ...
    @property
    def achieved_rate(self) -> float: ...
    @property
    def error_rate(self) -> float: ...

    def latency_ms(self, stat: str) -> float | None: ...


@dataclass(frozen=True)
class SLO:
    """One parsed objective. ``stat`` is ``p95``/``avg``/... or ``error_rate``/``rate``."""

    text: str
    stat: str
    op: str
    limit: float  # ms for latency, a fraction for error_rate, req/s or a fraction for rate
    relative: bool = False  # rate given in % of the target rate

    @property
    def is_latency(self) -> bool:
        return self.stat not in ("error_rate", "rate")

    @property
    def name(self) -> str:
        """Canonical spelling used as the check name, e.g. ``p95 < 250ms``."""
        return f"{self.stat} {self.op} {self.limit_text}"

    @property
    def limit_text(self) -> str:
        if self.is_latency:
            return format_ms(self.limit)
        if self.stat == "error_rate" or self.relative:
            return f"{_num(self.limit * 100)}%"
        return f"{_num(self.limit)} req/s"

    @property
    def percentile(self) -> float | None:
        """The percentile as a number (``p99.9`` -> 99.9), None for avg/min/max/rates."""
        if self.stat.startswith("p"):
            return float(self.stat[1:])
        return 50.0 if self.stat == "med" else None

    def evaluate(self, stats: LatencySource) -> CheckResult:
        """Compare the measured value with the limit; the check name names the statistic."""
        if self.stat == "error_rate":
            value: float | None = stats.error_rate
            shown = f"{_num(stats.error_rate * 100)}%"
        elif self.stat == "rate":
            value = stats.achieved_rate
            if self.relative:
                value = stats.achieved_rate / stats.target_rate
            shown = f"{_num(stats.achieved_rate)} req/s"
            if self.relative:
                shown += f" ({_num(value * 100)}% of {_num(stats.target_rate)} req/s)"
        else:
            value = stats.latency_ms(self.stat)
            shown = format_ms(value)
        if value is None:
            return CheckResult(
                self.name,
                Status.FAIL,
                f"{self.stat}: no responses were measured, so it cannot meet {self.limit_text}",
                value=None,
                threshold=self.limit_text,
                details={"slo": self.text},
            )
        ok = _OPS[self.op](value, self.limit)
        verdict = "meets" if ok else "breaches"
        return CheckResult(
            self.name,
            Status.PASS if ok else Status.FAIL,
            f"{self.stat} = {shown} {verdict} the SLO {self.stat} {self.op} {self.limit_text}",
            value=round(value, 6),
            threshold=self.limit_text,
            details={"slo": self.text, "measured": shown},
        )


def parse_slo(text: str, source: str = "--slo") -> SLO:
    """Parse one SLO string or raise :class:`InputError` naming it."""
    if not isinstance(text, str):
        raise InputError(f"SLO must be a string such as 'p95<250ms', got {text!r}", source)
    match = _SLO.match(text.lower())
    if not match:
        raise InputError(
            f"cannot parse SLO {text!r}; expected e.g. 'p95<250ms', 'avg<=100ms', "
            "'error_rate<1%' or 'rate>=95%'",
            source,
        )
    metric, op, num, unit = match["metric"], match["op"], float(match["num"]), match["unit"]
    if metric.startswith("p("):
        metric = "p" + metric[2:-1].strip()
    if metric.startswith("p"):
        q = float(metric[1:])
        if not 0 < q <= 100:
            raise InputError(f"percentile in SLO {text!r} must be in (0, 100]", source)
        metric = "p" + _num(q)
    if metric == "error_rate":
        if unit not in (None, "%"):
            raise InputError(f"error_rate in SLO {text!r} takes a % or a fraction", source)
        limit = num / 100 if unit == "%" else num
        if limit > 1:
            raise InputError(f"error_rate in SLO {text!r} cannot exceed 100%", source)
        return SLO(text, metric, op, limit)
    if metric == "rate":
        if unit in (None, "rps", "/s"):
            return SLO(text, metric, op, num, relative=False)
        if unit == "%":
            return SLO(text, metric, op, num / 100, relative=True)
        raise InputError(f"rate in SLO {text!r} takes a % of the target rate or req/s", source)
    if unit not in _LATENCY_UNITS:
        raise InputError(f"latency in SLO {text!r} takes ms, s or us, not {unit!r}", source)
    return SLO(text, metric, op, num * _LATENCY_UNITS[unit])


def parse_slos(texts: list[str], where: Callable[[int], str] | None = None) -> list[SLO]:
    """Parse several SLOs; ``where(i)`` names the i-th one's origin for error messages."""
    return [parse_slo(t, where(i) if where else "--slo") for i, t in enumerate(texts)]


def _num(x: float) -> str:
    return f"{x:.4g}"
