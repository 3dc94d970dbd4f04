"""allow_pickle is not enough on a pull request: pickles the PR changed stay refused.

Real git history (base commit on main, PR commit on a branch) and a real pull_request payload
(GitHub's vendored example, with base.sha/head.sha pointed at our commits).
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pytest
import skops.io as sio

from tests.support.cli import run_mlgate
from tests.support.repos import ROOT, commit_all, git

EVENT = ROOT / "tests" / "fixtures" / "events" / "pull_request.synchronize.json"


@pytest.fixture
def pr_repo(churn_repo: Path, tmp_path: Path, clean_github_env: None) -> dict[str, object]:
    """main has trusted.joblib; the PR branch adds pr.joblib and sets allow_pickle: true."""
    model = sio.load(churn_repo / "models" / "candidate.skops")
    joblib.dump(model, churn_repo / "models" / "trusted.joblib")
    base = commit_all(churn_repo, "a pickled model reviewed on main")
    git("checkout", "--quiet", "-b", "pr-branch", cwd=churn_repo)
    joblib.dump(model, churn_repo / "models" / "pr.joblib")
    config = churn_repo / "mlgate.yaml"
    config.write_text(config.read_text().replace("allow_pickle: false", "allow_pickle: true"))
    head = commit_all(churn_repo, "PR: swap in a pickle and allow pickles")
    payload = json.loads(EVENT.read_text())
    payload["pull_request"]["base"]["sha"] = base
    payload["pull_request"]["head"]["sha"] = head
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    env = {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "MLGATE_ALLOW_PICKLE_FROM_PR": None,
    }
    return {"repo": churn_repo, "env": env, "event": event}


def gate(ctx: dict[str, object], model: str, *extra: str, env: dict | None = None):
    return run_mlgate(
        ["gate-model", "--model", model, *extra],
        cwd=ctx["repo"],  # type: ignore[arg-type]
        env={**ctx["env"], **(env or {})},  # type: ignore[dict-item]
    )


def test_pickle_changed_by_the_pr_is_refused_despite_allow_pickle(pr_repo: dict) -> None:
    result = gate(pr_repo, "models/pr.joblib")
    assert result.code == 2
    line = result.error_line
    assert "models/pr.joblib" in line and "changed by this pull request" in line
    assert "--allow-pickle-from-pr" in line


def test_pickle_unchanged_by_the_pr_loads_with_allow_pickle(pr_repo: dict) -> None:
    result = gate(pr_repo, "models/trusted.joblib")
    assert result.code == 0, result.stderr


def test_explicit_extra_opt_in_allows_the_pr_pickle(pr_repo: dict) -> None:
    assert gate(pr_repo, "models/pr.joblib", "--allow-pickle-from-pr").code == 0
    assert gate(pr_repo, "models/pr.joblib", env={"MLGATE_ALLOW_PICKLE_FROM_PR": "1"}).code == 0


def test_outside_a_pull_request_allow_pickle_suffices(pr_repo: dict) -> None:
    result = gate(pr_repo, "models/pr.joblib", env={"GITHUB_EVENT_NAME": "push"})
    assert result.code == 0, result.stderr


def test_unknown_base_commit_fails_closed(pr_repo: dict) -> None:
    payload = json.loads(pr_repo["event"].read_text())  # type: ignore[union-attr]
    payload["pull_request"]["base"]["sha"] = "0" * 40
    pr_repo["event"].write_text(json.dumps(payload))  # type: ignore[union-attr]
    result = gate(pr_repo, "models/trusted.joblib")
    assert result.code == 2
    assert "cannot list the files changed by the pull request" in result.error_line
    assert "fetch-depth: 0" in result.error_line


def test_event_without_shas_fails_closed(pr_repo: dict) -> None:
    pr_repo["event"].write_text(json.dumps({"action": "opened"}))  # type: ignore[union-attr]
    result = gate(pr_repo, "models/trusted.joblib")
    assert result.code == 2
    assert str(pr_repo["event"]) in result.error_line
    assert "base.sha" in result.error_line
