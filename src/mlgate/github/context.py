"""The GitHub Actions run we are in: repository, commit, run URL, and the event payload.

GitHub passes most facts as ``GITHUB_*`` variables, but the ones reports need (the pull
request number and *head* SHA — ``GITHUB_SHA`` is the merge commit on pull_request events —,
the deployment, the comment) are only in the event payload file. This module reads both once
and answers those questions for the events mlgate runs on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.bounded import loads_json
from mlgate.errors import InputError

SUPPORTED_EVENTS = (
    "pull_request",
    "pull_request_target",
    "push",
    "workflow_dispatch",
    "issue_comment",
    "deployment",
    "deployment_review",
    "deployment_protection_rule",
)


@dataclass(frozen=True)
class GitHubContext:
    """Facts about the current workflow run (empty strings/None outside GitHub Actions)."""

    repository: str = ""
    sha: str = ""
    ref: str = ""
    run_id: int | None = None
    run_attempt: int = 1
    server_url: str = "https://github.com"
    actor: str = ""
    workflow: str = ""
    event_name: str = ""
    event: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GitHubContext:
        """Read ``GITHUB_*`` variables and the payload at ``GITHUB_EVENT_PATH``."""
        source = env if env is not None else os.environ
        event: dict[str, Any] = {}
        event_path = source.get("GITHUB_EVENT_PATH", "").strip()
        if event_path:
            event = _read_event(Path(event_path))
        run_id = source.get("GITHUB_RUN_ID", "").strip()
        if run_id and not run_id.isdigit():
            raise InputError(f"expected a number, got {run_id!r}", "GITHUB_RUN_ID")
        attempt = source.get("GITHUB_RUN_ATTEMPT", "1").strip() or "1"
        repository = source.get("GITHUB_REPOSITORY", "").strip() or str(
            (event.get("repository") or {}).get("full_name", "")
        )
        return cls(
            repository=repository,
            sha=source.get("GITHUB_SHA", "").strip(),
            ref=source.get("GITHUB_REF", "").strip(),
            run_id=int(run_id) if run_id else None,
            run_attempt=int(attempt) if attempt.isdigit() else 1,
            server_url=(source.get("GITHUB_SERVER_URL", "").strip() or "https://github.com"),
            actor=source.get("GITHUB_ACTOR", "").strip(),
            workflow=source.get("GITHUB_WORKFLOW", "").strip(),
            event_name=source.get("GITHUB_EVENT_NAME", "").strip(),
            event=event,
        )

    # -- derived facts ------------------------------------------------------------------------

    @property
    def run_url(self) -> str:
        """Link to the workflow run (for check-run details, statuses and deployment logs)."""
        if not (self.repository and self.run_id):
            return ""
        base = f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"
        return base + (f"/attempts/{self.run_attempt}" if self.run_attempt > 1 else "")

    @property
    def pull_request(self) -> dict[str, Any]:
        pr = self.event.get("pull_request")
        return pr if isinstance(pr, dict) else {}

    @property
    def pr_number(self) -> int | None:
        """The pull request this run is about: pull_request events, or a comment on a PR."""
        if self.pull_request.get("number"):
            return _number(self.pull_request["number"], "pull_request.number")
        if self.event_name.startswith("pull_request") and self.event.get("number"):
            return _number(self.event["number"], "number")
        issue = self.event.get("issue")
        if isinstance(issue, dict) and issue.get("pull_request") and issue.get("number"):
            return _number(issue["number"], "issue.number")
        return None

    @property
    def issue_number(self) -> int | None:
        """The issue or pull request a comment flow would poll (PR first, then the issue)."""
        if self.pr_number is not None:
            return self.pr_number
        issue = self.event.get("issue")
        if isinstance(issue, dict) and issue.get("number"):
            return _number(issue["number"], "issue.number")
        return None

    @property
    def event_head(self) -> str:
        """The head commit the triggering event names (pull request, workflow run, push), or
        "" when it names none: the commit a run was started for, never one fetched later."""
        head = self.pull_request.get("head")
        if isinstance(head, dict) and head.get("sha"):
            return str(head["sha"])
        run = self.event.get("workflow_run")
        if isinstance(run, dict) and run.get("head_sha"):
            return str(run["head_sha"])
        if self.event_name == "push" and self.event.get("after"):
            return str(self.event["after"])
        return ""

    @property
    def head_sha(self) -> str:
        """The commit reports belong to: the PR head, the deployed or pushed commit, else SHA.

        A deployment event's payload carries no pull request, workflow run or push, so asking
        for the deployment's commit after :attr:`event_head` gives the same answer as before it.
        """
        deployment = self.event.get("deployment")
        deployed = str(deployment["sha"]) if isinstance(deployment, dict) and \
            deployment.get("sha") else ""
        return self.event_head or deployed or self.sha

    @property
    def ref_name(self) -> str:
        for prefix in ("refs/heads/", "refs/tags/"):
            if self.ref.startswith(prefix):
                return self.ref[len(prefix):]
        return self.ref

    @property
    def environment(self) -> str:
        """The deployment environment of deployment / deployment_review events."""
        deployment = self.event.get("deployment")
        if isinstance(deployment, dict) and deployment.get("environment"):
            return str(deployment["environment"])
        env = self.event.get("environment")
        return env if isinstance(env, str) else ""

    @property
    def deployment_id(self) -> int | None:
        deployment = self.event.get("deployment")
        if isinstance(deployment, dict) and deployment.get("id"):
            return _number(deployment["id"], "deployment.id")
        return None

    @property
    def workflow_run_id(self) -> int | None:
        """The run waiting for review (deployment_review), else this run."""
        run = self.event.get("workflow_run")
        if isinstance(run, dict) and run.get("id"):
            return _number(run["id"], "workflow_run.id")
        return self.run_id

    @property
    def comment_body(self) -> str:
        comment = self.event.get("comment")
        return str(comment.get("body") or "") if isinstance(comment, dict) else ""

    @property
    def inputs(self) -> dict[str, Any]:
        """workflow_dispatch inputs (empty for other events)."""
        inputs = self.event.get("inputs")
        return dict(inputs) if isinstance(inputs, dict) else {}


def _number(value: Any, field: str) -> int:
    """A number from the event payload; a payload that says otherwise is bad input (exit 2),
    never a crash."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    text = repr(value)
    raise InputError(f"event payload field {field}: expected a number, got "
                     f"{text if len(text) <= 40 else text[:37] + '...'}", "GITHUB_EVENT_PATH")


def _read_event(path: Path) -> dict[str, Any]:
    try:
        data = loads_json(path.read_bytes(), str(path))
    except FileNotFoundError as exc:
        raise InputError(f"event payload file {path} not found", "GITHUB_EVENT_PATH") from exc
    except OSError as exc:
        raise InputError(f"{path}: not a JSON event payload ({exc})", "GITHUB_EVENT_PATH") from exc
    except InputError as exc:  # malformed or too deep
        raise InputError(
            f"{path}: not a JSON event payload ({exc.message})", "GITHUB_EVENT_PATH"
        ) from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object", "GITHUB_EVENT_PATH")
    return data
