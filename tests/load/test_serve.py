"""``mlgate serve`` on the example's candidate model, and load-testing it as a PR would."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.cli import run_mlgate

ROW = {"customer_id": "C1", "tenure_months": 8, "monthly_charges": 87.99,
       "total_charges": 704.09, "contract": "one-year", "plan": "premium", "region": "east",
       "support_calls": 2, "partner": "yes"}


@pytest.fixture(scope="module")
def served(_example_template: Path) -> Iterator[str]:
    """One server for the module (read-only use of the session's trained example model)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlgate", "serve", "--model", "models/candidate.skops",
         "--port", "0"],
        cwd=_example_template, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "http://127.0.0.1:" in line, proc.stderr.read() if proc.stderr else line
    url = line.split(" on ")[1].split()[0]
    yield url
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0  # SIGTERM is a clean stop


def test_health_and_predict(served: str) -> None:
    health = requests.get(served + "/health", timeout=5)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "model": "candidate.skops"}

    answer = requests.post(served + "/predict", json={"rows": [ROW, {**ROW, "plan": "basic"}]},
                           timeout=5)
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["predictions"]) == 2 and set(body["predictions"]) <= {0, 1}
    assert len(body["probabilities"]) == 2
    assert all(abs(sum(p) - 1) < 1e-9 for p in body["probabilities"])

    bare = requests.post(served + "/predict", json=[ROW], timeout=5)
    assert bare.status_code == 200 and bare.json()["predictions"] == body["predictions"][:1]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"rows": []}', "expected"),
        (b'{"rows": [1, 2]}', "JSON object"),
        (json.dumps({"rows": [{"tenure_months": 3}]}).encode(), "missing columns"),
        (json.dumps({"rows": [{**ROW, "tenure_months": "many"}]}).encode(), "rejected"),
    ],
)
def test_bad_requests_get_400_and_the_server_survives(
    served: str, body: bytes, fragment: str
) -> None:
    answer = requests.post(served + "/predict", data=body,
                           headers={"Content-Type": "application/json"}, timeout=5)
    assert answer.status_code == 400
    assert fragment in answer.json()["error"]
    assert requests.get(served + "/health", timeout=5).status_code == 200


def test_unknown_paths_are_404(served: str) -> None:
    assert requests.get(served + "/nope", timeout=5).status_code == 404
    assert requests.post(served + "/nope", data=b"{}", timeout=5).status_code == 404


def test_pickle_model_is_refused_without_opt_in(tmp_path: Path) -> None:
    model = tmp_path / "m.pkl"
    model.write_bytes(b"not really a pickle")
    res = run_mlgate(["serve", "--model", model, "--port", "0"])
    assert res.code == 2
    assert res.error_line.startswith(f"mlgate: error: {model}: refusing to load")


def test_candidate_is_served_and_load_tested_from_the_config(
    churn_repo: Path, tmp_path: Path
) -> None:
    """What the `load` stage of `make demo` does, shortened: serve, load, gate, stop."""
    report = tmp_path / "load.json"
    # No --config: ./mlgate.yaml is found, and flags override its load: keys.
    res = run_mlgate(["load-test", "--duration", "2s",
                      "--warmup", "0.5s", "--json", report], cwd=churn_repo)
    assert res.code == 0, res.stdout + res.stderr
    gate = json.loads(report.read_text())["gates"][0]
    names = [c["name"] for c in gate["checks"]]
    assert "p95 < 250ms" in names and "error_rate < 1%" in names and "p50 < 100ms" in names
    load = gate["data"]["load"]
    assert load["target"]["kind"] == "serve" and load["url"].endswith("/predict")
    assert load["errors"] == 0 and load["requests"] == 40


def test_load_stage_writes_evidence(churn_repo: Path) -> None:
    from mlgate.config import load_config
    from mlgate.load.stage import load_stage
    from mlgate.pipeline import RunContext

    cfg = churn_repo / "mlgate.yaml"
    text = cfg.read_text().replace("duration: 5s", "duration: 1s")
    cfg.write_text(text)
    config = load_config(cfg)
    result = load_stage(RunContext(config, "pr", churn_repo / ".mlgate" / "results"))
    assert result.passed, [c.to_dict() for c in result.failures]
    evidence = Path(result.evidence[0])
    assert evidence.name == "load-stats.json"
    assert json.loads(evidence.read_text())["requests"] == 20
