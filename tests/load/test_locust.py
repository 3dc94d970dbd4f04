"""``--engine locust``: Locust runs headless and its CSV statistics come back as our result."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import run_mlgate

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("workers", [0, 1], ids=["standalone", "master+worker"])
def test_locust_engine_reads_back_into_the_same_result(
    stub_server: Callable[..., str], tmp_path: Path, workers: int
) -> None:
    url = stub_server("--error-every", "10")
    report = tmp_path / "r.json"
    args = ["load-test", "--url", url + "/predict", "--engine", "locust", "--rate", "20",
            "--duration", "2s", "--warmup", "0.5s", "--slo", "p95<500ms",
            "--slo", "error_rate<1%", "--evidence-dir", tmp_path / "ev", "--json", report]
    if workers:
        args += ["--locust-workers", str(workers)]
    res = run_mlgate(args)
    assert res.code == 1, res.stdout + res.stderr  # every 10th answer is a 500
    gate = json.loads(report.read_text())["gates"][0]
    checks = {c["name"]: c["status"] for c in gate["checks"]}
    assert checks == {"p95 < 500ms": "pass", "error_rate < 1%": "fail"}
    load = gate["data"]["load"]
    assert load["engine"] == "locust"
    assert 30 <= load["requests"] <= 50  # 20 req/s for 2 s, warm-up reset away
    assert load["error_reasons"].get("HTTP 500", 0) >= 2
    assert load["latency_ms"]["p95"] is not None
    assert load["locust"]["workers"] == workers
    assert (tmp_path / "ev" / "locust" / "locustfile.py").is_file()
    assert (tmp_path / "ev" / "load-stats.json").is_file()
