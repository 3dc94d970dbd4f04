"""GitHub deployments and deployment statuses for staging and production.

A promotion in the git ledger is mirrored as a GitHub deployment so the repository's
"Environments" page shows which model version runs where. ``required_contexts`` is always
empty: the gates already decided, and GitHub's own status check would otherwise refuse
(409) a deployment while an unrelated check is pending.
"""

from __future__ import annotations

import re
from typing import Any

from mlgate.errors import InputError
from mlgate.github.client import GitHubClient
from mlgate.github.permissions import DEPLOYMENT
from mlgate.report.text import plain_text

STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
FINAL = frozenset({"error", "failure", "inactive", "success"})
MAX_DESCRIPTION = 140
_ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,254}$")


def create_deployment(
    client: GitHubClient,
    *,
    ref: str,
    environment: str,
    description: str = "",
    payload: dict[str, Any] | None = None,
    task: str = "deploy",
) -> dict[str, Any]:
    """Create a deployment of ``ref`` (a SHA, branch or tag) to ``environment``."""
    check_environment(environment)
    body = {
        "ref": ref,
        "environment": environment,
        "task": task,
        "auto_merge": False,
        "required_contexts": [],
        "description": _short(description),
        "payload": payload or {},
        "production_environment": environment == "production",
        "transient_environment": False,
    }
    made: dict[str, Any] = client.post(client.repo_path("/deployments"), json=body)
    return made


def set_status(
    client: GitHubClient,
    deployment_id: int,
    state: str,
    *,
    environment: str = "",
    log_url: str = "",
    environment_url: str = "",
    description: str = "",
) -> dict[str, Any]:
    """Add a status to a deployment (a success marks earlier ones of the env inactive)."""
    if state not in STATES:
        raise InputError(
            f"expected one of {', '.join(STATES)}, got {state!r}", "--deployment-state"
        )
    body: dict[str, Any] = {"state": state, "description": _short(description)}
    if environment:
        body["environment"] = environment
    if log_url:
        body["log_url"] = log_url
    if environment_url:
        body["environment_url"] = environment_url
    made: dict[str, Any] = client.post(
        client.repo_path(f"/deployments/{int(deployment_id)}/statuses"),
        json=body,
        what=f"deployment {deployment_id}",
    )
    return made


def latest_deployment(
    client: GitHubClient, environment: str, sha: str | None = None,
    permission: str | None = None,
) -> dict[str, Any] | None:
    """The newest deployment to ``environment`` (of ``sha`` when given), or None.
    ``permission``: what a 403 names when the read serves a write (see ``record``)."""
    params = {"environment": environment, "per_page": 1}
    if sha:
        params["sha"] = sha
    items = client.get(client.repo_path("/deployments"), params=params, permission=permission)
    return items[0] if items else None


def statuses(client: GitHubClient, deployment_id: int,
             permission: str | None = None) -> list[dict[str, Any]]:
    """A deployment's statuses, newest first."""
    return list(client.paginate(client.repo_path(f"/deployments/{int(deployment_id)}/statuses"),
                                permission=permission))


def record(
    client: GitHubClient,
    *,
    environment: str,
    state: str,
    sha: str,
    log_url: str = "",
    description: str = "",
    environment_url: str = "",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Report ``state`` for ``sha`` on ``environment``: reuse the open deployment or create one.

    A deployment is "open" while its newest status is not final (queued, pending,
    in_progress), so ``in_progress`` then ``success`` from two steps land on one deployment.
    """
    check_environment(environment)
    deployment = latest_deployment(client, environment, sha, permission=DEPLOYMENT)
    if deployment is not None:
        history = statuses(client, int(deployment["id"]), permission=DEPLOYMENT)
        if history and history[0].get("state") in FINAL:
            deployment = None
    if deployment is None:
        deployment = create_deployment(
            client, ref=sha, environment=environment, description=description
        )
    status = set_status(
        client,
        int(deployment["id"]),
        state,
        environment=environment,
        log_url=log_url,
        environment_url=environment_url,
        description=description,
    )
    return deployment, status


def check_environment(name: str) -> None:
    if not _ENV_NAME.match(name):
        raise InputError(f"not a valid environment name: {name!r}", "--deployment")


def _short(text: str) -> str:
    """A description as GitHub shows it: plain text, one line, at most 140 characters."""
    return plain_text(text, MAX_DESCRIPTION)
