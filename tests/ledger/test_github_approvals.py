"""Approvals from GitHub, end to end through the GitHub API emulator (a real HTTP server that
validates every request and response against GitHub's OpenAPI description)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.ledger.conftest import ml, record, register_and_stage, tags
from tests.support.github_emulator import GitHubEmulator
from tests.support.repos import LOCAL_APPROVALS, commit_all


@pytest.fixture
def staged(repo: Path, evidence: list[Path]) -> Path:
    register_and_stage(repo, evidence)
    return repo


def take_approvals_from(repo: Path, source: str) -> None:
    """The team merges a policy whose production approvals come from ``source``."""
    text = (repo / "mlgate.yaml").read_text().replace(LOCAL_APPROVALS, f"source: {source}")
    (repo / "mlgate.yaml").write_text(text)
    commit_all(repo, f"production approvals from {source}", push=True)


def _later(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_environment_approvals_are_recorded(staged: Path,
                                            github_emulator: GitHubEmulator) -> None:
    take_approvals_from(staged, "github")
    github_emulator.add_run_approval(4242, "alice", "approved", "ship it", ["production"])
    env = github_emulator.env(GITHUB_RUN_ID="4242", GITHUB_ACTOR="release-bot")
    out = ml(staged, "promote", "--version", "v0.1.0", "--to", "production",
             "--approvals", "github", env=env)
    assert out.code == 0, out.stdout + out.stderr
    rec = record(staged, "churn#production#2")
    [approval] = rec["approvals"]
    assert (approval["login"], approval["state"], approval["source"], approval["comment"]) == (
        "alice", "approved", "github-environment", "ship it")
    assert rec["actor"] == "release-bot"
    assert github_emulator.requests("GET", "/repos/*/actions/runs/4242/approvals")


def test_environment_rejection_refuses(staged: Path, github_emulator: GitHubEmulator) -> None:
    take_approvals_from(staged, "github")
    github_emulator.add_run_approval(77, "bob", "rejected", "p95 too high", ["production"])
    out = ml(staged, "promote", "--version", "v0.1.0", "--to", "production",
             "--approvals", "github", "--run-id", "77", env=github_emulator.env())
    assert out.code == 1
    assert "denied by bob: p95 too high" in out.stdout
    assert "churn#production#2" not in tags(staged)


def test_refusal_names_the_environment_actually_read(staged: Path,
                                                    github_emulator: GitHubEmulator) -> None:
    config = staged / "mlgate.yaml"
    config.write_text(config.read_text().replace("        environment: production\n", ""))
    take_approvals_from(staged, "github")  # the policy names no environment: any one counts
    github_emulator.add_run_approval(4242, "alice", "approved", "ship it", ["production"])
    out = ml(staged, "promote", "--version", "v0.1.0", "--to", "production",
             "--approvals", "github", "--run-id", "4242", "--environment", "staging",
             env=github_emulator.env())
    assert out.code == 1, out.stdout + out.stderr  # --environment narrowed it to staging
    [line] = [ln for ln in out.stdout.splitlines() if "minimum approvals" in ln]
    assert line.endswith("production needs 1 approval(s) from distinct people and has 0 (read "
                         "from GitHub environment reviews of workflow run 4242 (environment "
                         "'staging'))")
    out = ml(staged, "promote", "--version", "v0.1.0", "--to", "production",
             "--approvals", "github", "--run-id", "4242", env=github_emulator.env())
    assert out.code == 0, out.stdout + out.stderr  # any environment: alice counts


def test_comment_approvals_count_only_writers_after_staging(
        staged: Path, github_emulator: GitHubEmulator) -> None:
    take_approvals_from(staged, "comment")
    github_emulator.add_issue(7, "Release churn v0.1.0")
    github_emulator.add_collaborator("bob", "write")
    github_emulator.add_collaborator("eve", "read")
    github_emulator.add_comment(7, "bob", "/approve", created_at="2020-01-01T00:00:00Z")  # stale
    github_emulator.add_comment(7, "eve", "/approve", created_at=_later(5))  # no write access
    github_emulator.add_comment(7, "bob", "/approve numbers look right", created_at=_later(1))
    out = ml(staged, "promote", "--version", "v0.1.0", "--to", "production",
             "--approvals", "comment", "--issue", "7", "--timeout", "2s", "--poll", "0.1",
             "--json", str(staged.parent / "p.json"), env=github_emulator.env())
    assert out.code == 0, out.stdout + out.stderr
    approvals = record(staged, "churn#production#2")["approvals"]
    assert [(a["login"], a["source"], a["comment"]) for a in approvals] == [
        ("bob", "comment", "/approve numbers look right")]
    doc = json.loads((staged.parent / "p.json").read_text())
    assert doc["gates"][0]["data"]["outputs"]["tag"] == "churn#production#2"


def test_comment_deny_and_timeout(staged: Path, github_emulator: GitHubEmulator) -> None:
    take_approvals_from(staged, "comment")
    github_emulator.add_issue(8)
    github_emulator.add_collaborator("alice", "admin")
    out = ml(staged, "promote", "--version", "v0.1.0", "--to", "production",
             "--approvals", "comment", "--issue", "8", "--timeout", "0.3s", "--poll", "0.1",
             env=github_emulator.env())
    assert out.code == 1 and "needs 1 approval(s) from distinct people and has 0 (read from " \
        "/approve and /deny comments on #8 since " in out.stdout  # timed out
    github_emulator.add_comment(8, "alice", "/deny drift on tenure", created_at=_later(1))
    out = ml(staged, "promote", "--version", "v0.1.0", "--to", "production",
             "--approvals", "comment", "--issue", "8", "--timeout", "2s", "--poll", "0.1",
             env=github_emulator.env())
    assert out.code == 1 and "denied by alice: /deny drift on tenure" in out.stdout
    out = ml(staged, "promote", "--version", "v0.1.0", "--to", "production",
             "--approvals", "comment", env=github_emulator.env())
    assert out.code == 2 and out.error_line.startswith("mlgate: error: --issue: ")


def with_approval_place(repo: Path, source: str, key: str, value: str) -> None:
    """The team's policy reads approvals from ``source`` at one named environment or issue."""
    text = (repo / "mlgate.yaml").read_text().replace(
        LOCAL_APPROVALS, f"source: {source}\n        {key}: {value}")
    (repo / "mlgate.yaml").write_text(text)
    commit_all(repo, f"production approvals from {source} {key} {value}", push=True)


def test_promote_cannot_read_another_environment_than_the_policys(
        staged: Path, github_emulator: GitHubEmulator) -> None:
    take_approvals_from(staged, "github")  # the policy reads environment `production`
    # the releaser approved themselves on an unprotected environment of the same run
    github_emulator.add_run_approval(4242, "mallory", "approved", "", ["scratch"])
    out = ml(staged, "promote", "--version", "v0.1.0", "--to", "production",
             "--approvals", "github", "--run-id", "4242", "--environment", "scratch",
             env=github_emulator.env())
    assert out.code == 2
    assert out.error_line == (
        "mlgate: error: --environment: --environment scratch: the policy of production reads "
        "approvals from environment 'production' only (ledger.stages.production.approvals."
        "environment on the default branch)")
    assert "churn#production#2" not in tags(staged)
    assert not github_emulator.requests("GET", "/repos/*/actions/runs/4242/approvals")


def test_promote_cannot_read_another_issue_than_the_policys(
        staged: Path, github_emulator: GitHubEmulator) -> None:
    with_approval_place(staged, "comment", "issue", "7")
    github_emulator.add_issue(8, "my own issue")
    out = ml(staged, "promote", "--version", "v0.1.0", "--to", "production",
             "--approvals", "comment", "--issue", "8", "--timeout", "1s",
             env=github_emulator.env())
    assert out.code == 2
    assert "--issue 8: the policy of production reads approvals from issue 7 only" \
        in out.error_line
    assert "churn#production#2" not in tags(staged)
