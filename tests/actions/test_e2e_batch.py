"""The batch inference template end to end in the workflow harness: a scheduled run scores
the batch with the production version and uploads predictions and lineage; a dispatched run
with a drifted batch fails and uploads only its report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.actions.harness import ROOT, Runner
from tests.predict.conftest import release_to_production, unlabelled_batch
from tests.support.repos import commit_all, git

TEMPLATE = ROOT / "pipeline_templates" / "mlgate-batch.yml"


def runner(repo: Path, github_emulator, setup_from_checkout, event_name: str,
           event: dict[str, object]) -> Runner:
    head = git("rev-parse", "HEAD", cwd=repo)
    return Runner(repo, github={
        "sha": head, "event_name": event_name, "run_id": "909", "event": event,
        "api_url": github_emulator.url, "token": github_emulator.token,
        "repository": github_emulator.repository},
        input_overrides={"setup": {"venv": str(setup_from_checkout.venv),
                                   "python-version": "", "cache": "true"}})


@pytest.mark.slow
def test_scheduled_batch_scores_and_uploads_lineage(churn_repo: Path, github_emulator,
                                                    setup_from_checkout) -> None:
    release_to_production(churn_repo)
    unlabelled_batch(churn_repo, "churn", churn_repo / "data" / "batch.csv")
    commit_all(churn_repo, "tonight's batch", push=True)
    run = runner(churn_repo, github_emulator, setup_from_checkout, "schedule",
                 {"schedule": "17 3 * * *"})
    jobs = run.run_workflow(TEMPLATE)
    log = "\n".join(run.log)
    assert jobs["predict"].outcome == "success", log
    uploaded = run.artifacts_dir / "mlgate-batch"
    scored = pd.read_csv(uploaded / "predictions.csv")
    assert len(scored) == len(pd.read_csv(churn_repo / "data" / "batch.csv"))
    lineage = json.loads((uploaded / "predictions.lineage.json").read_text())
    assert lineage["model"]["tag"] == "churn#production#2"
    origin = churn_repo.parent / "origin.git"
    assert "refs/notes/mlgate-batch" in git("ls-remote", str(origin), cwd=churn_repo)


@pytest.mark.slow
def test_dispatched_drifted_batch_fails_and_uploads_only_the_report(
        churn_repo: Path, github_emulator, setup_from_checkout) -> None:
    release_to_production(churn_repo)
    frame = pd.read_csv(churn_repo / "data" / "holdout.csv").drop(columns=["churned"])
    frame["monthly_charges"] = frame["monthly_charges"] + 60
    frame.to_csv(churn_repo / "data" / "drifted.csv", index=False)
    commit_all(churn_repo, "a drifted batch", push=True)
    run = runner(churn_repo, github_emulator, setup_from_checkout, "workflow_dispatch",
                 {"inputs": {"data": "data/drifted.csv"}, "ref": "refs/heads/main"})
    jobs = run.run_workflow(TEMPLATE)
    log = "\n".join(run.log)
    assert jobs["predict"].outcome == "failure", log
    uploaded = run.artifacts_dir / "mlgate-batch"
    assert sorted(p.name for p in uploaded.iterdir()) == ["report.json"]
    gates = json.loads((uploaded / "report.json").read_text())["gates"]
    assert gates[0]["status"] == "fail"
