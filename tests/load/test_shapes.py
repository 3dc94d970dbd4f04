"""Shapes of load: ramping stages and the capacity search, end to end against local servers."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from mlgate.figures import Figure
from mlgate.load.capacity import search
from mlgate.load.schedule import Schedule, Stage
from mlgate.load.settings import CapacityOptions
from tests.support.cli import run_mlgate

# Measures rates and latencies: run alone (`-m timing`, see scripts/test.sh), not beside
# other tests competing for the CPU.
pytestmark = pytest.mark.timing


def gate_of(report: Path) -> dict:
    return json.loads(report.read_text())["gates"][0]


def test_stages_ramp_hold_and_step_through_the_native_engine(
    stub_server: Callable[..., str], tmp_path: Path
) -> None:
    url = stub_server()
    report = tmp_path / "r.json"
    # 1 s warm-up inside a 2 s ramp 0 -> 60, hold 60 for 1 s, step to 120 and hold 1 s.
    stages = ["2s:60", "1s:60", "0s:120", "1s:120"]
    args = ["load-test", "--url", url, "--warmup", "1s", "--slo", "error_rate<1%",
            "--slo", "rate>=90%", "--json", report]
    for stage in stages:
        args += ["--stage", stage]
    res = run_mlgate(args)
    assert res.code == 0, res.stdout + res.stderr
    gate = gate_of(report)
    load = gate["data"]["load"]
    schedule = Schedule.from_stages([Stage(2, 60), Stage(1, 60), Stage(0, 120), Stage(1, 120)])
    # due in the measured window [1 s, 4 s): 60 * 2 / 2 = 60 offered in the ramp, 15 of them
    # in its first second; then 60 + 120
    expected = math.ceil(schedule.offered) - math.ceil(schedule.count_until(1))
    assert expected == 45 + 60 + 120
    assert load["requests"] == expected
    assert load["duration_s"] == 3 and load["target_rate"] == pytest.approx(75)
    assert load["offered_rate"] == [45, 60, 120]
    assert load["stages"][2] == {"duration_s": 0, "rate": 120, "ramp": True}
    assert sum(load["throughput"]["responses"]) == pytest.approx(expected, abs=4)
    rate = next(Figure.from_dict(f) for f in gate["figures"] if f["id"] == "load.rate")
    target = next(s.values for s in rate.series if s.name == "target")
    assert target == [45, 60, 120]  # the target line follows the stages
    assert "stages (0->60 req/s over 2s, 60 req/s for 1s, step to 120 req/s" in gate["summary"]


def test_stages_from_the_config_with_a_step_without_ramp(
    stub_server: Callable[..., str], tmp_path: Path
) -> None:
    url = stub_server()
    cfg = tmp_path / "mlgate.yaml"
    cfg.write_text(f"version: 1\nproject: x\nload:\n  target: {{url: '{url}'}}\n"
                   "  stages:\n    - {duration: 1s, rate: 30, ramp: false}\n"
                   "    - {duration: 1s, rate: 50, ramp: false}\n  slo: ['error_rate<1%']\n")
    report = tmp_path / "r.json"
    res = run_mlgate(["load-test", "--config", cfg, "--json", report])
    assert res.code == 0, res.stdout + res.stderr
    load = gate_of(report)["data"]["load"]
    assert load["requests"] == 80 and load["offered_rate"] == [30, 50]


def test_rate_stages_and_capacity_are_mutually_exclusive(tmp_path: Path) -> None:
    url = ["load-test", "--url", "http://127.0.0.1:9/"]
    res = run_mlgate([*url, "--rate", "5", "--stage", "1s:5"])
    assert res.code == 2 and "--stage" in res.error_line and "exclusive" in res.error_line
    res = run_mlgate([*url, "--stage", "1s:5", "--capacity"])
    assert res.code == 2 and "--capacity" in res.error_line
    res = run_mlgate([*url, "--stage", "1s:5", "--duration", "3s"])
    assert res.code == 2 and "--duration" in res.error_line
    res = run_mlgate([*url, "--stage", "ten:5"])
    assert res.code == 2 and "--stage" in res.error_line
    res = run_mlgate([*url, "--stage", "1s:5", "--warmup", "2s"])
    assert res.code == 2 and "--warmup" in res.error_line
    res = run_mlgate([*url, "--stage", "1s:5", "--engine", "locust"])
    assert res.code == 2 and "--engine" in res.error_line and "native" in res.error_line
    cfg = tmp_path / "mlgate.yaml"
    cfg.write_text("version: 1\nproject: x\nload:\n  target: {url: 'http://127.0.0.1:9/'}\n"
                   "  rate: 5\n  stages: [{duration: 1s, rate: 5}]\n")
    res = run_mlgate(["load-test", "--config", cfg])
    assert res.code == 2
    assert "load.stages" in res.error_line and "mutually exclusive" in res.error_line
    cfg.write_text("version: 1\nproject: x\nload:\n  target: {url: 'http://127.0.0.1:9/'}\n"
                   "  stages: [{duration: 1s, rate: -5}]\n")
    res = run_mlgate(["load-test", "--config", cfg])
    assert res.code == 2 and "load.stages[0].rate" in res.error_line
    cfg.write_text("version: 1\nproject: x\nload:\n  target: {url: 'http://127.0.0.1:9/'}\n"
                   "  capacity: {min_rate: 50, max_rate: 10}\n")
    res = run_mlgate(["load-test", "--config", cfg])
    assert res.code == 2 and "load.capacity.max_rate" in res.error_line


@pytest.mark.parametrize("limit", [1.0, 7.3, 137.0, 999.0, 5000.0])
def test_the_search_brackets_a_limit_within_the_precision(limit: float) -> None:
    opts = CapacityOptions(min_rate=2, max_rate=2000, precision=0.05)
    tried: list[float] = []

    def probe(rate: float) -> bool:
        tried.append(rate)
        return rate <= limit

    found = search(probe, opts)
    if limit < opts.min_rate:
        assert found is None and tried == [2]
    elif limit >= opts.max_rate:
        assert found == 2000 and tried[-1] == 2000
    else:
        assert found is not None and found <= limit
        lowest_failure = min(r for r in tried if r > limit)
        assert lowest_failure - found <= opts.precision * found
        assert len(tried) <= math.ceil(math.log2(opts.max_rate / opts.min_rate)) + 6


@pytest.mark.slow
def test_capacity_finds_the_limit_of_a_server_with_k_workers(
    stub_server: Callable[..., str], tmp_path: Path
) -> None:
    # 4 workers x 40 ms each: at most 100 req/s. Below that every request takes ~40 ms; above,
    # a queue grows through the probe and p95 soon exceeds 150 ms.
    url = stub_server("--delay", "0.04", "--max-concurrency", "4")
    cfg = tmp_path / "mlgate.yaml"
    cfg.write_text(f"version: 1\nproject: x\nload:\n  target: {{url: '{url}'}}\n"
                   "  warmup: 0.3s\n  slo: ['p95<150ms', 'error_rate<1%']\n"
                   "  capacity: {min_rate: 25, max_rate: 400, step_duration: 2s, "
                   "precision: 0.1, min_required: 60}\n")
    report = tmp_path / "r.json"
    res = run_mlgate(["load-test", "--config", cfg, "--json", report, "--quiet"])
    assert res.code == 0, res.stdout + res.stderr
    gate = gate_of(report)
    (check,) = gate["checks"]
    assert check["name"] == "capacity" and check["status"] == "pass"
    load = gate["data"]["load"]
    found = load["capacity_rps"]
    assert check["value"] == found
    assert 100 * (1 - 0.1) * 0.9 <= found <= 100 * 1.1, load["probes"]
    probes = load["probes"]
    assert [p["rate"] for p in probes[:3]] == [25, 50, 100] or probes[2]["passed"]
    assert any(not p["passed"] and p["rate"] <= found * 1.1 + 1e-9 for p in probes), probes
    assert gate["data"]["outputs"]["load_capacity_rps"] == found
    figure = next(Figure.from_dict(f) for f in gate["figures"] if f["id"] == "load.capacity")
    assert figure.x == sorted(figure.x) and found in figure.x
    assert {t.name: t.value for t in figure.thresholds} == {
        "p95 SLO (ms)": 150, "error_rate SLO (%)": 1}
    assert [s.name for s in figure.series] == ["p95 (ms)", "error rate (%)"]
    # a higher requirement fails the gate, naming both rates
    cfg.write_text(cfg.read_text().replace("min_required: 60", "min_required: 300"))
    res = run_mlgate(["load-test", "--config", cfg, "--json", report, "--quiet",
                      "--duration", "1s"])
    assert res.code == 1
    (check,) = gate_of(report)["checks"]
    assert check["status"] == "fail" and "required at least 300 req/s" in check["message"]


def test_the_capacity_check_passes_warns_or_fails() -> None:
    from mlgate.load.capacity import Probe, capacity_check

    opts = CapacityOptions(min_rate=10, max_rate=80)
    ok = Probe(10, True, 10, 0, {"p95": 5})
    bad = Probe(20, False, 19, 0, {"p95": 900}, ["p95 < 100ms"])
    check = capacity_check(opts, 10, [ok, bad])
    assert (check.status.value, check.value) == ("pass", 10)
    assert "10 req/s met every SLO, 20 req/s did not (p95 < 100ms)" in check.message
    check = capacity_check(opts, None, [Probe(10, False, 9, 0, {"p95": 900}, ["p95 < 100ms"])])
    assert check.status.value == "warn" and check.value is None
    assert "no rate met every SLO" in check.message
    check = capacity_check(opts, 80, [ok, Probe(80, True, 80, 0, {"p95": 5})])
    assert check.status.value == "pass" and "at least 80 req/s" in check.message
    opts.min_required = 15
    check = capacity_check(opts, 10, [ok, bad])
    assert check.status.value == "fail" and check.threshold == 15


def test_stages_over_several_generator_processes(stub_server: Callable[..., str]) -> None:
    from mlgate.load.generator import Plan, run_native
    from mlgate.load.schedule import as_triples

    url = stub_server()
    stages = [Stage(1, 100), Stage(0, 200), Stage(1, 200)]
    stats = run_native(Plan(url=url, rate=150, duration=2, stages=as_triples(stages),
                            processes=2))
    assert stats.measured == 50 + 200
    assert stats.error_count == 0
    assert stats.extra["processes"] == 2


def test_a_flag_shape_replaces_the_configured_one(tmp_path: Path) -> None:
    import argparse

    from mlgate.config import find_config
    from mlgate.errors import InputError
    from mlgate.load.settings import from_sources

    cfg = tmp_path / "mlgate.yaml"
    cfg.write_text("version: 1\nproject: x\nload:\n  target: {url: 'http://127.0.0.1:9/'}\n"
                   "  warmup: 1s\n  stages: [{duration: 2s, rate: 20}, {duration: 2s, rate: 20}]\n")
    config = find_config(str(cfg))

    def settings(**flags: object):  # type: ignore[no-untyped-def]
        return from_sources(argparse.Namespace(**flags), config)

    staged = settings()
    assert staged.duration == 3 and staged.stages is not None
    assert staged.rate == pytest.approx((15 + 40) / 3)  # 1 s of warm-up inside the ramp
    flat = settings(rate=50.0, duration="2s")
    assert (flat.rate, flat.duration, flat.stages) == (50.0, 2.0, None)
    capacity = settings(capacity=True, duration="3s")
    assert capacity.capacity is not None and capacity.capacity.step_duration == 3
    cfg.write_text(cfg.read_text() + "  duration: 10s\n")
    with pytest.raises(InputError) as err:
        from_sources(None, find_config(str(cfg)))
    assert "load.duration" in str(err.value.source) and "stages set the duration" in str(
        err.value)
