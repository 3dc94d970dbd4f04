"""The run context against every vendored webhook payload (GitHub's own examples)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate.errors import InputError
from mlgate.github.context import GitHubContext
from tests.support.github_emulator.events import EVENTS_DIR, fixture_names, load


def context_for(name: str, **extra: str) -> GitHubContext:
    event_name = name.split(".")[0]
    env = {
        "GITHUB_EVENT_PATH": str(EVENTS_DIR / f"{name}.json"),
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_SHA": "f" * 40,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_RUN_ID": "123",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_WORKFLOW": "ml-pr-gate",
        **extra,
    }
    return GitHubContext.from_env(env)


def test_every_vendored_payload_is_present() -> None:
    assert set(fixture_names()) == {
        "pull_request.opened", "pull_request.synchronize", "push", "workflow_dispatch",
        "issue_comment.created", "deployment.created", "deployment_review.requested",
        "merge_group.checks_requested", "workflow_run.completed", "pull_request_review.submitted",
        "repository_dispatch",
    }


@pytest.mark.parametrize("name", fixture_names())
def test_common_facts_from_every_payload(name: str) -> None:
    payload = load(name)
    ctx = context_for(name)
    assert ctx.repository == payload["repository"]["full_name"]  # no GITHUB_REPOSITORY set
    assert ctx.run_url == f"https://github.com/{ctx.repository}/actions/runs/123"
    assert ctx.actor == "octocat" and ctx.workflow == "ml-pr-gate"
    assert len(ctx.head_sha) == 40
    assert ctx.event_name == name.split(".")[0]


@pytest.mark.parametrize("name", ["pull_request.opened", "pull_request.synchronize"])
def test_pull_request(name: str) -> None:
    payload = load(name)
    ctx = context_for(name)
    assert ctx.pr_number == payload["number"] == payload["pull_request"]["number"]
    assert ctx.head_sha == payload["pull_request"]["head"]["sha"] != ctx.sha
    assert ctx.issue_number == ctx.pr_number


def test_push() -> None:
    payload = load("push")
    ctx = context_for("push", GITHUB_REF=payload["ref"])
    assert ctx.pr_number is None
    assert ctx.head_sha == payload["after"]
    assert ctx.ref_name == payload["ref"].removeprefix("refs/tags/").removeprefix("refs/heads/")
    assert "/" not in ctx.ref_name


def test_workflow_dispatch() -> None:
    payload = load("workflow_dispatch")
    ctx = context_for("workflow_dispatch")
    assert ctx.inputs == (payload.get("inputs") or {})
    assert ctx.head_sha == "f" * 40
    assert ctx.pr_number is None


def test_issue_comment_on_an_issue() -> None:
    """GitHub's examples are all comments on issues: no PR, but the issue to poll."""
    payload = load("issue_comment.created")
    ctx = context_for("issue_comment.created")
    assert ctx.pr_number is None
    assert ctx.issue_number == payload["issue"]["number"]
    assert ctx.comment_body == payload["comment"]["body"]
    assert ctx.head_sha == "f" * 40  # not in the payload: the default branch's commit


def test_issue_comment_on_a_pull_request(tmp_path: Path) -> None:
    """On a PR, GitHub adds ``issue.pull_request`` (links) to the same payload."""
    payload = load("issue_comment.created")
    number = payload["issue"]["number"]
    payload["issue"]["pull_request"] = {
        "url": f"https://api.github.com/repos/o/r/pulls/{number}",
        "html_url": f"https://github.com/o/r/pull/{number}",
        "diff_url": None, "patch_url": None,
    }
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    ctx = context_for("issue_comment.created", GITHUB_EVENT_PATH=str(event))
    assert ctx.pr_number == number


def test_deployment() -> None:
    payload = load("deployment.created")
    ctx = context_for("deployment.created")
    assert ctx.environment == payload["deployment"]["environment"]
    assert ctx.deployment_id == payload["deployment"]["id"]
    assert ctx.head_sha == payload["deployment"]["sha"]


def test_deployment_review() -> None:
    payload = load("deployment_review.requested")
    ctx = context_for("deployment_review.requested")
    assert ctx.environment == payload["environment"]
    assert ctx.workflow_run_id == payload["workflow_run"]["id"]
    assert ctx.head_sha == payload["workflow_run"]["head_sha"]


def test_outside_actions_everything_is_empty() -> None:
    ctx = GitHubContext.from_env({})
    assert (ctx.repository, ctx.run_url, ctx.pr_number, ctx.head_sha) == ("", "", None, "")


def test_rerun_attempt_in_run_url() -> None:
    ctx = context_for("push", GITHUB_RUN_ATTEMPT="2", GITHUB_REPOSITORY="o/r")
    assert ctx.run_url == "https://github.com/o/r/actions/runs/123/attempts/2"


def test_missing_event_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        GitHubContext.from_env({"GITHUB_EVENT_PATH": str(tmp_path / "none.json")})
    assert info.value.source == "GITHUB_EVENT_PATH"
    assert "not found" in info.value.one_line()


def test_malformed_event_file(tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text("[1, 2")
    with pytest.raises(InputError, match=r"GITHUB_EVENT_PATH: .*not a JSON event payload"):
        GitHubContext.from_env({"GITHUB_EVENT_PATH": str(bad)})


def test_bad_run_id() -> None:
    with pytest.raises(InputError, match="GITHUB_RUN_ID"):
        GitHubContext.from_env({"GITHUB_RUN_ID": "abc"})
