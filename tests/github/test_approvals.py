"""Approvals read from GitHub: environment reviews and ``/approve`` / ``/deny`` comments."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from mlgate.errors import InputError
from mlgate.github.approvals import comment_approvals, environment_approvals
from mlgate.github.client import GitHubClient, GitHubError
from tests.support.github_emulator import GitHubEmulator


def iso(delta_s: float = 0.0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_environment_approvals(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_run_approval(42, "alice", "approved", "ship it", ["production"])
    github_emulator.add_run_approval(42, "bob", "rejected", "not yet", ["staging"])
    approvals = environment_approvals(GitHubClient.from_env(), 42)
    assert [(a.login, a.state, a.comment, a.source) for a in approvals] == [
        ("alice", "approved", "ship it", "github-environment"),
        ("bob", "rejected", "not yet", "github-environment"),
    ]
    assert all(a.time.endswith("Z") for a in approvals)
    only_prod = environment_approvals(GitHubClient.from_env(), 42, environment="production")
    assert [a.login for a in only_prod] == ["alice"]


def test_environment_approvals_after_review_endpoint(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pending_deployment(50, "production", ["carol"])
    client = GitHubClient.from_env()
    pending = client.get("/repos/{owner}/{repo}/actions/runs/50/pending_deployments")
    env_id = pending[0]["environment"]["id"]
    client.post("/repos/{owner}/{repo}/actions/runs/50/pending_deployments",
                json={"environment_ids": [env_id], "state": "approved", "comment": "lgtm"})
    (approval,) = environment_approvals(client, 50)
    assert (approval.login, approval.state, approval.comment) == (
        "github-actions[bot]", "approved", "lgtm")


def test_environment_approvals_unknown_run(github_emulator: GitHubEmulator) -> None:
    with pytest.raises(GitHubError, match="workflow run 9 does not exist"):
        environment_approvals(GitHubClient.from_env(), 9)


def test_environment_approvals_needs_actions_read(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_run(42)
    token = github_emulator.restricted_token(actions="none")
    client = GitHubClient(token, github_emulator.url, github_emulator.repository)
    with pytest.raises(GitHubError, match="`actions: read`"):
        environment_approvals(client, 42)


def test_comment_approvals_filters_by_permission(github_emulator: GitHubEmulator) -> None:
    since = iso(-60)
    github_emulator.add_pull(5)
    github_emulator.add_collaborator("maintainer", "maintain")
    github_emulator.add_collaborator("reader", "read")
    github_emulator.add_comment(5, "reader", "/approve")  # not allowed to decide
    github_emulator.add_comment(5, "stranger", "/approve please")  # not a collaborator
    github_emulator.add_comment(5, "maintainer", "Looks fine.\n/approve   ship it")
    github_emulator.add_comment(5, "maintainer", "I /approve of this")  # not the first token
    approvals = comment_approvals(GitHubClient.from_env(), 5, since=since, timeout_s=5, poll_s=0.1)
    assert [(a.login, a.state, a.source) for a in approvals] == [
        ("maintainer", "approved", "comment")]
    assert approvals[0].url.endswith(f"#issuecomment-{github_emulator.comments_on(5)[2]['id']}")


def test_comment_deny_and_latest_decision_wins(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pull(5)
    github_emulator.add_collaborator("admin1", "admin")
    github_emulator.add_comment(5, "admin1", "/approve", created_at=iso(-20))
    github_emulator.add_comment(5, "admin1", "/deny found a bug", created_at=iso(-10))
    (approval,) = comment_approvals(GitHubClient.from_env(), 5, since=iso(-60), timeout_s=1,
                                    poll_s=0.1)
    assert approval.state == "rejected"
    assert approval.comment == "/deny found a bug"


def test_comment_before_since_is_ignored_then_timeout(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pull(5)
    github_emulator.add_collaborator("writer", "write")
    github_emulator.add_comment(5, "writer", "/approve", created_at=iso(-3600))
    started = time.monotonic()
    approvals = comment_approvals(GitHubClient.from_env(), 5, since=iso(-60), timeout_s=0.6,
                                  poll_s=0.2)
    assert approvals == []
    assert 0.6 <= time.monotonic() - started < 3
    assert len(github_emulator.requests("GET", "/repos/*/issues/5/comments")) >= 3  # polled


def test_comment_approval_arriving_while_polling(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pull(5)
    github_emulator.add_collaborator("writer", "write")
    since = iso(-1)
    timer = threading.Timer(0.5, github_emulator.add_comment, args=(5, "writer", "/approve"))
    timer.start()
    try:
        approvals = comment_approvals(GitHubClient.from_env(), 5, since=since, timeout_s=10,
                                      poll_s=0.1)
    finally:
        timer.cancel()
    assert [a.login for a in approvals] == ["writer"]
    # The collaborator permission was looked up once, not once per poll.
    assert len(github_emulator.requests("GET", "/repos/*/collaborators/writer/permission")) == 1


def test_comment_approvals_bad_since(github_emulator: GitHubEmulator) -> None:
    github_emulator.add_pull(5)
    with pytest.raises(InputError, match="since"):
        comment_approvals(GitHubClient.from_env(), 5, since="yesterday", timeout_s=0, poll_s=0)


def test_comment_approvals_missing_issue(github_emulator: GitHubEmulator) -> None:
    with pytest.raises(GitHubError, match="issue or pull request #77 does not exist"):
        comment_approvals(GitHubClient.from_env(), 77, since=iso(), timeout_s=0, poll_s=0)
