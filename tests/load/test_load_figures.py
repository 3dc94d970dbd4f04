"""The load gate's figures (latency and rate over time) against real local servers, and the
per-window latency histograms they are drawn from."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mlgate.figures import Figure
from mlgate.load.generator import Plan, run_native
from mlgate.load.histogram import MAX_WINDOWS, LatencyWindows, window_width
from mlgate.load.stats import Recorder
from tests.support.cli import run_mlgate


def figures_of(report: Path) -> dict[str, Figure]:
    gate = json.loads(report.read_text())["gates"][0]
    for data in gate["figures"]:  # round trip: what a renderer reads back is what was sent
        assert Figure.from_dict(data).to_dict() == data
    return {f["id"]: Figure.from_dict(f) for f in gate["figures"]}


@pytest.mark.timing
def test_latency_and_rate_figures_of_a_run(stub_server: Callable[..., str],
                                           tmp_path: Path) -> None:
    url = stub_server()
    report = tmp_path / "load.json"
    res = run_mlgate(["load-test", "--url", url, "--rate", "50", "--duration", "3s",
                      "--warmup", "0.5s", "--slo", "p95<250ms", "--slo", "p99<500ms",
                      "--slo", "p90<200ms", "--slo", "rate>=90%", "--slo", "error_rate<1%",
                      "--json", report])
    assert res.code == 0, res.stdout + res.stderr
    figures = figures_of(report)
    latency = figures["load.latency"]
    assert latency.kind == "line" and latency.priority == 15
    assert latency.x == [0, 1, 2]  # one point per 1-second window
    series = {s.name: s.values for s in latency.series}
    assert list(series) == ["p50", "p90", "p95", "p99"]  # p90: an SLO asked for it
    for w in range(3):
        p50, p95, p99 = series["p50"][w], series["p95"][w], series["p99"][w]
        assert p50 is not None and p95 is not None and p99 is not None
        assert 0 < p50 <= p95 <= p99
    assert {(t.name, t.value) for t in latency.thresholds} == {
        ("p95 SLO", 250), ("p99 SLO", 500), ("p90 SLO", 200)}
    rate = figures["load.rate"]
    assert rate.kind == "line" and rate.priority == 20 and rate.x == [0, 1, 2]
    values = {s.name: s.values for s in rate.series}
    assert values["target"] == [50, 50, 50]
    assert values["errors"] == [0, 0, 0]
    achieved = [v for v in values["achieved"] if v is not None]
    assert len(achieved) == 3
    assert sum(achieved) / 3 == pytest.approx(50, rel=0.2)
    assert [(t.name, t.value) for t in rate.thresholds] == [("rate SLO", 45)]


@pytest.mark.timing
def test_errors_per_window(status_server: Callable[[int], str], tmp_path: Path) -> None:
    url = status_server(500)
    report = tmp_path / "load.json"
    res = run_mlgate(["load-test", "--url", url, "--rate", "40", "--duration", "2s",
                      "--slo", "error_rate<1%", "--json", report])
    assert res.code == 1, res.stdout + res.stderr
    rate = figures_of(report)["load.rate"]
    values = {s.name: s.values for s in rate.series}
    assert values["errors"] == values["achieved"]
    assert sum(v or 0 for v in values["errors"]) == pytest.approx(80, abs=4)
    assert rate.thresholds == []  # error_rate is a share, not on this chart's scale


@pytest.mark.timing
def test_stalls_show_in_the_windows_they_hit(stub_server: Callable[..., str]) -> None:
    """A server freezing 200 ms of every second: each window's p99 sees the stall, its p50
    does not; with two processes the windows are merged across them."""
    url = stub_server("--stall", "0.2", "--stall-every", "1")
    stats = run_native(Plan(url=url, rate=100, duration=3, warmup=0.5, processes=2))
    assert stats.window_s == 1 and stats.windows == 3
    p50, p99 = stats.window_latency_ms(50), stats.window_latency_ms(99)
    assert p50 is not None and p99 is not None
    assert all(v is not None and v < 50 for v in p50)
    assert all(v is not None and v > 100 for v in p99)
    assert stats.latency_windows is not None
    total = sum(sum(b.values()) for b in stats.latency_windows.counts.values())
    assert total == stats.measured == 300


def test_window_percentiles_are_within_a_sixteenth() -> None:
    """Latencies drawn from a lognormal (a typical service): each window's percentiles are the
    exact ones to within 1/16, never below, and merging two halves changes nothing."""
    rng = np.random.default_rng(0)
    values = rng.lognormal(mean=np.log(0.02), sigma=0.8, size=(4, 2000))  # seconds
    whole, left, right = LatencyWindows(1), LatencyWindows(1), LatencyWindows(1)
    for w in range(4):
        for k, v in enumerate(values[w]):
            offset = w + float(rng.random()) * 0.999
            whole.record(offset, float(v))
            (left if k % 2 else right).record(offset, float(v))
    merged = LatencyWindows.from_dict(json.loads(json.dumps(left.merge(right).to_dict())))
    for w in range(4):
        us = np.round(values[w] * 1e6)
        for q in (50, 95, 99, 100):
            exact = float(np.sort(us)[max(0, int(np.ceil(q / 100 * len(us))) - 1)]) / 1000
            got = whole.percentile_ms(w, q)
            assert got is not None
            assert exact <= got <= exact * (1 + 1 / 16) + 0.001, (w, q, exact, got)
            assert merged.percentile_ms(w, q) == got
    assert whole.percentile_ms(7, 50) is None


def test_long_runs_have_at_most_a_bounded_number_of_windows() -> None:
    assert window_width(3) == 1 and window_width(120) == 1 and window_width(121) == 2
    assert window_width(3600) == 30
    for duration in (1, 59.5, 120, 121, 600, 3600, 86400):
        assert -(-duration // window_width(duration)) <= MAX_WINDOWS
    rec = Recorder(100.0, 100.0 + 600)
    assert rec.windows.width == 5
    rec.record(intended=100.0 + 599.9, sent=699.9, done=700.0, error=None, timed=True)
    assert list(rec.windows.counts) == [119]
    again = Recorder.from_dict(json.loads(json.dumps(rec.to_dict())))
    assert again.windows == rec.windows
