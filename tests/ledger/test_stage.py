"""The release pipeline's ``register`` and ``promote`` stages (``mlgate run --stage release``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.ledger.conftest import gto_show, record, remote_refs
from tests.support.cli import run_mlgate
from tests.support.repos import commit_all


def test_release_pipeline_registers_and_promotes(repo: Path) -> None:
    text = (repo / "mlgate.yaml").read_text()
    text = re.sub(r"release: \[.*\]", "release: [register, promote]", text)
    text = text.replace("gates: [data, model]\n      approvals: {min: 0}",
                        "gates: []\n      approvals: {min: 0}")
    (repo / "mlgate.yaml").write_text(text)
    commit_all(repo, "release registers and promotes to staging", push=True)

    out = run_mlgate(["run", "--stage", "release"], cwd=repo)
    assert out.code == 0, out.stdout + out.stderr
    assert gto_show(repo)["churn"]["stage"] == {"staging": "v0.1.0"}
    assert record(repo, "churn#staging#1")["version"] == "v0.1.0"
    assert "refs/tags/churn#staging#1" in remote_refs(repo)
    reports = list((repo / ".mlgate" / "results").rglob("register.json"))
    assert reports, "the run writes the register stage's result"
    doc = json.loads(reports[0].read_text())
    assert doc["gates"][0]["data"]["outputs"]["tag"] == "churn@v0.1.0"


def test_promote_stage_needs_release_to(repo: Path) -> None:
    text = (repo / "mlgate.yaml").read_text()
    text = re.sub(r"release: \[.*\]", "release: [register, promote]", text)
    text = text.replace("gates: [data, model]\n      approvals: {min: 0}",
                        "gates: []\n      approvals: {min: 0}")
    text = text.replace("  release_to: staging", "")
    (repo / "mlgate.yaml").write_text(text)
    commit_all(repo, "no release_to", push=True)
    out = run_mlgate(["run", "--stage", "release"], cwd=repo)
    assert out.code == 2 and "ledger.release_to" in out.error_line
