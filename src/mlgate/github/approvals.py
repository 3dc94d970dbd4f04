"""Read promotion approvals from GitHub: environment reviews and ``/approve`` comments.

Two sources because not every repository can use environment protection rules (they need a
paid plan for private repositories): the comment flow gives the same guarantee — only people
with write access decide — on any repository.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from mlgate.errors import InputError
from mlgate.github.client import GitHubClient, GitHubError
from mlgate.ledger.approval import Approval

DECIDING_ROLES = frozenset({"write", "maintain", "admin"})
COMMANDS = {"/approve": "approved", "/deny": "rejected"}


def environment_approvals(
    client: GitHubClient, run_id: int, *, environment: str | None = None
) -> list[Approval]:
    """The reviews recorded on a workflow run's protected environments (approved/rejected).

    GitHub's review log has no timestamp per review; ``time`` is when mlgate read it, which is
    after the decision and before the promotion it gates. ``environment`` keeps only reviews
    that covered that environment.
    """
    path = client.repo_path(f"/actions/runs/{int(run_id)}/approvals")
    items = client.get(path, what=f"workflow run {run_id}")
    read_at = _now()
    out: list[Approval] = []
    for item in items or []:
        state = item.get("state")
        if state not in ("approved", "rejected"):
            continue
        envs = [e for e in item.get("environments") or [] if isinstance(e, dict)]
        names = [str(e.get("name", "")) for e in envs]
        if environment is not None and environment not in names:
            continue
        out.append(
            Approval(
                login=str((item.get("user") or {}).get("login", "")),
                state=state,
                time=read_at,
                source="github-environment",
                comment=str(item.get("comment") or ""),
                url=str(envs[0].get("html_url", "")) if envs else "",
            )
        )
    return out


def comment_approvals(
    client: GitHubClient,
    issue_number: int,
    *,
    since: str,
    timeout_s: float,
    poll_s: float,
) -> list[Approval]:
    """Poll an issue/PR for ``/approve`` or ``/deny`` from people with write access.

    Returns as soon as at least one qualifying decision exists (one per person, their latest),
    or an empty list once ``timeout_s`` has passed. Comments older than ``since`` (ISO-8601)
    are ignored so an approval of an earlier promotion is never reused.
    """
    since_dt = _parse_time(since, "since")
    deadline = time.monotonic() + max(0.0, timeout_s)
    roles: dict[str, str] = {}
    path = client.repo_path(f"/issues/{int(issue_number)}/comments")
    while True:
        decisions: dict[str, Approval] = {}
        for comment in client.paginate(
            path, {"since": since}, what=f"issue or pull request #{issue_number}"
        ):
            created = _parse_time(str(comment.get("created_at", "")), "created_at")
            state = _decision(str(comment.get("body") or ""))
            login = str((comment.get("user") or {}).get("login", ""))
            if state is None or not login or created < since_dt:
                continue
            if login not in roles:
                roles[login] = _role(client, login)
            if roles[login] not in DECIDING_ROLES:
                continue
            previous = decisions.get(login)
            if previous is None or previous.time <= comment["created_at"]:
                decisions[login] = Approval(
                    login=login,
                    state=state,
                    time=str(comment["created_at"]),
                    source="comment",
                    comment=str(comment.get("body") or "").strip(),
                    url=str(comment.get("html_url", "")),
                )
        if decisions:
            return sorted(decisions.values(), key=lambda a: a.time)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return []
        time.sleep(min(max(poll_s, 0.05), remaining))


def _decision(body: str) -> str | None:
    """``approved``/``rejected`` when a line starts with ``/approve`` or ``/deny``."""
    for line in body.splitlines():
        words = line.split()
        if words and words[0].lower() in COMMANDS:
            return COMMANDS[words[0].lower()]
    return None


def _role(client: GitHubClient, login: str) -> str:
    try:
        answer = client.get(client.repo_path(f"/collaborators/{login}/permission"))
    except GitHubError as exc:
        if exc.status == 404:
            return "none"
        raise
    return str(answer.get("role_name") or answer.get("permission") or "none")


def _parse_time(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"expected an ISO-8601 time, got {text!r}", field) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
