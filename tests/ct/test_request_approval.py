"""``mlgate request-approval`` against the GitHub emulator: one issue per model and stage,
created once, updated for a new candidate (with a comment), never one somebody else opened."""

from __future__ import annotations

from pathlib import Path

from tests.ledger.conftest import new_candidate, register_and_stage
from tests.support.cli import run_mlgate


def request(repo: Path, version: str) -> tuple[int, str]:
    out = run_mlgate(["request-approval", "--version", version, "--config",
                      str(repo / "mlgate.yaml")],
                     env={"GITHUB_RUN_ID": "77", "GITHUB_SERVER_URL": "https://github.com"})
    return out.code, out.stdout + out.stderr


def test_one_issue_created_then_updated(repo: Path, github_emulator) -> None:
    # Somebody pastes the marker into an issue of their own: it is not the request.
    github_emulator.add_issue(title="fake", user="mallory",
                              body="<!-- mlgate:approval-request:churn:production -->\nclick")
    first = register_and_stage(repo)
    code, log = request(repo, first)
    assert code == 0, log
    mine = [i for i in github_emulator.issues.values() if i["user"]["login"] != "mallory"]
    assert len(mine) == 1
    issue = mine[0]
    assert issue["title"] == f"Approve churn {first} for production"
    body = issue["body"]
    assert body.startswith("<!-- mlgate:approval-request:churn:production -->")
    assert "`churn#staging#1`" in body and "| data | pass |" in body and "| model | pass |" in body
    assert f"gh workflow run ml-release.yml -f version={first}" in body
    assert "(<https://github.com/octo-org/churn/actions/workflows/ml-release.yml>)" in body
    assert "(<https://github.com/octo-org/churn/actions/runs/77>)" in body
    assert "data/train.csv sha256 " in body

    code, log = request(repo, first)  # a rerun: the same issue, nothing to change
    assert code == 0 and "(unchanged)" in log, log
    assert not github_emulator.requests("PATCH", "*/issues/*")

    new_candidate(repo, seed=5)
    second = register_and_stage(repo)
    code, log = request(repo, second)
    assert code == 0 and f"#{issue['number']} (updated)" in log, log
    assert len([i for i in github_emulator.issues.values()
                if i["user"]["login"] != "mallory"]) == 1
    assert issue["title"] == f"Approve churn {second} for production"
    assert f"-f version={second}" in issue["body"]
    [note] = github_emulator.comments_on(issue["number"])
    assert f"{second} replaces {first}" in note["body"]


def test_an_invalid_version_asks_for_nothing(repo: Path, github_emulator) -> None:
    code, log = request(repo, "v9.9.9")
    assert code == 2 and "unknown artifact 'churn'" in log
    register_and_stage(repo)
    code, log = request(repo, "v9.9.9")
    assert code == 2 and "version v9.9.9 of 'churn' is not registered" in log
    assert not github_emulator.requests("POST", "*/issues")


def test_without_issues_permission_the_error_names_it(repo: Path, github_emulator,
                                                      monkeypatch) -> None:
    version = register_and_stage(repo)
    monkeypatch.setenv("GITHUB_TOKEN", github_emulator.restricted_token(issues="none"))
    code, log = request(repo, version)
    assert code == 2
    assert "issues: read" in log
