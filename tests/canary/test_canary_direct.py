"""``mlgate canary`` with source direct: mlgate splits one arrival rate between two stubs.

Two local ``python -m mlgate.load.stub`` servers stand for the versions; the canary gets 5 % of
the traffic, as it would in production.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.canary.conftest import _free_port, checks_by_name, run_canary
from tests.support.cli import run_mlgate

Stub = Callable[..., str]  # the stub_server fixture (tests/support/load_stub.py)

MIN_SAMPLES = 30


def _config(directory: Path, baseline_url: str, canary_url: str, **direct: object) -> Path:
    canary = {
        "source": "direct", "baseline": "v1", "canary": "v2", "min_samples": MIN_SAMPLES,
        # loopback latencies are about a millisecond, but a busy shared CI machine adds tens of
        # ms of noise to the tail: 20 ms or 50 % is still far below the 100 ms the slow stub adds
        "tolerance": {"latency_ms": 20, "latency": "50%"},
        "direct": {"baseline_url": baseline_url, "canary_url": canary_url, "rate": 400,
                   "canary_share": "5%", "duration": "2s", "warmup": "0.2s", **direct},
    }
    path = directory / "mlgate.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "project": "canary-test", "canary": canary}))
    return path




@pytest.mark.slow  # the first stubs and the generator's first run: about 5 s
@pytest.mark.timing
def test_equal_versions_are_promoted(stub_server: Callable[..., str], tmp_path: Path) -> None:
    code, gate, out = run_canary(_config(tmp_path, stub_server(), stub_server()))
    assert code == 0, out
    data = gate["data"]["canary"]
    assert data["decision"] == "promote"
    # the split: ~5 % of 400 req/s for 2 s to the canary, the rest to the baseline
    assert 36 <= data["canary"]["requests"] <= 44
    assert 740 <= data["baseline"]["requests"] <= 780
    assert data["canary"]["errors"] == data["baseline"]["errors"] == 0
    assert [f["id"] for f in gate["figures"]] == [
        "canary.latency", "canary.latency_difference", "canary.rates",
        "canary.latency_over_time"]


@pytest.mark.timing
def test_slower_canary_is_rolled_back(stub_server: Callable[..., str], tmp_path: Path) -> None:
    code, gate, out = run_canary(_config(tmp_path, stub_server(), stub_server("--delay", "0.1")))
    assert code == 1, out
    checks = checks_by_name(gate)
    assert checks["decision"]["value"] == "rollback"
    p50 = checks["latency p50"]
    assert p50["status"] == "fail" and p50["details"]["ci_low_ms"] > 50
    assert checks["error rate"]["status"] == "pass"


def test_error_prone_canary_is_rolled_back(stub_server: Stub, tmp_path: Path) -> None:
    erroring = stub_server("--error-every", "4")
    code, gate, out = run_canary(_config(tmp_path, stub_server(), erroring))
    assert code == 1, out
    checks = checks_by_name(gate)
    assert checks["decision"]["value"] == "rollback"
    assert checks["error rate"]["status"] == "fail"
    assert checks["error rate"]["details"]["canary"] == pytest.approx(0.25, abs=0.05)


def test_too_little_traffic_is_inconclusive(stub_server: Stub, tmp_path: Path) -> None:
    """40 req/s for 1 s: the canary's 5 % is two requests, far below min_samples, so even a
    canary that fails every second request is not judged."""
    config = _config(tmp_path, stub_server(), stub_server("--error-every", "2"), rate=40,
                     duration="1s")
    code, gate, out = run_canary(config)
    assert code == 4, out
    checks = checks_by_name(gate)
    assert checks["decision"]["value"] == "inconclusive"
    assert checks["sample size"]["value"] < MIN_SAMPLES
    assert gate["data"]["outputs"]["decision"] == "inconclusive"


def test_unreachable_canary_url(stub_server: Callable[..., str], tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/"
    res = run_mlgate(["canary", "--config", _config(tmp_path, stub_server(), dead)])
    assert res.code == 2, res.stderr
    assert "canary.direct.canary_url" in res.error_line and "cannot reach" in res.error_line


def test_canary_share_out_of_range(tmp_path: Path) -> None:
    config = _config(tmp_path, "http://127.0.0.1:9/", "http://127.0.0.1:9/")
    res = run_mlgate(["canary", "--config", config, "--canary-share", "60%"])
    assert res.code == 2, res.stderr
    assert "--canary-share" in res.error_line and "1-5%" in res.error_line
