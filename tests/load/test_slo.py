"""SLO strings: what parses, what does not (exit 2 naming the string), and how they judge."""

from __future__ import annotations

import pytest

from mlgate.errors import InputError
from mlgate.load.histogram import Histogram
from mlgate.load.slo import parse_slo
from mlgate.load.stats import LoadStats
from mlgate.result import Status


@pytest.mark.parametrize(
    ("text", "stat", "op", "limit", "relative"),
    [
        ("p95<250ms", "p95", "<", 250.0, False),
        ("p(95) < 250", "p95", "<", 250.0, False),
        ("p99.9<=1s", "p99.9", "<=", 1000.0, False),
        ("P50 < 500us", "p50", "<", 0.5, False),
        ("avg<100ms", "avg", "<", 100.0, False),
        ("max<2s", "max", "<", 2000.0, False),
        ("med<10", "med", "<", 10.0, False),
        ("error_rate<1%", "error_rate", "<", 0.01, False),
        ("error_rate<=0.05", "error_rate", "<=", 0.05, False),
        ("rate>=95%", "rate", ">=", 0.95, True),
        ("rate>=40", "rate", ">=", 40.0, False),
        ("rate > 40rps", "rate", ">", 40.0, False),
    ],
)
def test_parses_k6_style_strings(
    text: str, stat: str, op: str, limit: float, relative: bool
) -> None:
    slo = parse_slo(text)
    assert (slo.stat, slo.op, slo.relative) == (stat, op, relative)
    assert slo.limit == pytest.approx(limit)


@pytest.mark.parametrize(
    "text",
    ["p95", "p95<", "p95<<250ms", "p95<250kg", "latency<1s", "error_rate<1ms", "rate>=5ms",
     "p0<1ms", "p101<1ms", "error_rate<150%", ""],
)
def test_unparsable_slo_names_the_string(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_slo(text, "--slo")
    line = err.value.one_line()
    assert line.startswith("--slo: ")
    if text:
        assert repr(text) in line


def _stats(latencies_ms: list[float], errors: int = 0, achieved: int = 100) -> LoadStats:
    hist = Histogram()
    for ms in latencies_ms:
        hist.record(ms / 1000)
    n = len(latencies_ms)
    return LoadStats(
        engine="native", url="http://x", target_rate=100.0, duration=1.0, warmup=0.0,
        measured=n, ok=n - errors, errors={"HTTP 500": errors} if errors else {},
        throughput=[achieved], error_series=[errors], latency=hist, mean_ms=hist.mean_ms,
        max_ms=(hist.max_us or 0) / 1000,
    )


def test_breach_names_the_percentile_and_passes_within() -> None:
    stats = _stats([10.0] * 90 + [400.0] * 10)
    breach = parse_slo("p95<250ms").evaluate(stats)
    assert breach.status is Status.FAIL
    assert breach.name == "p95 < 250ms"
    assert "p95" in breach.message and "breaches" in breach.message
    assert breach.value == pytest.approx(400, rel=0.01)
    assert parse_slo("p50<250ms").evaluate(stats).status is Status.PASS


def test_error_rate_and_relative_rate() -> None:
    stats = _stats([5.0] * 100, errors=3, achieved=94)
    assert parse_slo("error_rate<1%").evaluate(stats).status is Status.FAIL
    assert parse_slo("error_rate<5%").evaluate(stats).status is Status.PASS
    assert parse_slo("rate>=95%").evaluate(stats).status is Status.FAIL
    assert parse_slo("rate>=90").evaluate(stats).status is Status.PASS


def test_no_measured_latency_fails_rather_than_passes() -> None:
    stats = _stats([])
    result = parse_slo("p99<1s").evaluate(stats)
    assert result.status is Status.FAIL
    assert "no responses" in result.message
