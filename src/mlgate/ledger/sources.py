"""Where a promotion's approvals come from: local flags, GitHub environments, or comments.

The GitHub readers are imported lazily so the ledger works (and ``mlgate --help`` stays fast)
without any GitHub configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

from mlgate.errors import InputError
from mlgate.ledger.approval import Approval, promotion_subject
from mlgate.ledger.policy import SOURCES, StagePolicy, normalize_login
from mlgate.ledger.record import now_iso
from mlgate.ledger.validate import Ledger


@dataclass
class ApprovalRequest:
    """The approval-related flags of ``mlgate promote``."""

    source: str | None = None  # --approvals; None: the stage policy's source
    approved_by: list[str] = field(default_factory=list)
    denied_by: list[str] = field(default_factory=list)
    comment: str = ""
    run_id: int | None = None
    issue: int | None = None
    since: str | None = None
    timeout_s: float | None = None
    poll_s: float = 10.0
    environment: str | None = None


_Place = TypeVar("_Place", str, int)


@dataclass(frozen=True)
class Gathered:
    """The approvals of a promotion and, in words, where they were read: a refusal names the
    place actually consulted (``--environment`` or ``--issue`` may differ from the policy's),
    so whoever fixes it looks where mlgate looked."""

    approvals: list[Approval]
    consulted: str


def gather(
    request: ApprovalRequest, policy: StagePolicy, ledger: Ledger, name: str, version: str
) -> Gathered:
    """Read the approvals for promoting ``name@version`` to ``policy.name``, each stamped with
    the promotion it is for.

    The policy names the one source that counts: ``--approvals`` may repeat it, never replace
    it (a local claim must not stand in for a GitHub review).
    """
    subject = promotion_subject(name, version, policy.name)
    found = _read(request, policy, ledger, name, version)
    return Gathered([replace(a, subject=subject) for a in found.approvals], found.consulted)


def _read(
    request: ApprovalRequest, policy: StagePolicy, ledger: Ledger, name: str, version: str
) -> Gathered:
    source = request.source or policy.source
    if source not in SOURCES:
        raise InputError(f"unknown approval source {source!r} (use {', '.join(SOURCES)})",
                         "--approvals")
    if source != policy.source:
        raise InputError(
            f"--approvals {source}: the policy of {policy.name} takes approvals from "
            f"{policy.source!r} only (ledger.stages.{policy.name}.approvals.source on the "
            "default branch)", "--approvals")
    if source == "local":
        now = now_iso()
        decisions = [*((login, "approved") for login in request.approved_by),
                     *((login, "rejected") for login in request.denied_by)]
        seen: dict[tuple[str, str], Approval] = {}
        for login, state in decisions:
            clean = login.strip()
            if not clean:
                raise InputError("an empty login cannot approve or deny",
                                 "--approved-by" if state == "approved" else "--denied-by")
            seen.setdefault((normalize_login(clean), state),
                            Approval(clean, state, now, "local", request.comment))
        return Gathered(list(seen.values()), "local approvals (--approved-by/--denied-by)")
    if request.approved_by or request.denied_by:
        raise InputError(f"--approved-by/--denied-by only apply to local approvals, not "
                         f"{source!r}", "--approved-by")
    if policy.min_approvals == 0 and request.source is None:
        return Gathered([], f"no source ({policy.name} needs no approval)")
    from mlgate.github.client import GitHubClient

    if source == "github":
        from mlgate.github.approvals import environment_approvals

        run_id = request.run_id or _int_env("GITHUB_RUN_ID")
        if run_id is None:
            raise InputError("GitHub environment approvals need the workflow run id "
                             "(--run-id or GITHUB_RUN_ID)", "--run-id")
        environment = _policy_place(request.environment, policy.environment, policy.name,
                                    "environment", "--environment")
        where = (f"environment {environment!r}" if environment is not None
                 else "any environment")
        return Gathered(
            environment_approvals(GitHubClient.from_env(), run_id, environment=environment),
            f"GitHub environment reviews of workflow run {run_id} ({where})")
    from mlgate.github.approvals import comment_approvals

    issue = _policy_place(request.issue, policy.issue, policy.name, "issue", "--issue")
    if issue is None:
        raise InputError("comment approvals need the issue or pull request number "
                         "(--issue N or approvals.issue)", "--issue")
    since = request.since or _entered_previous_stage(ledger, name, version, policy)
    timeout = policy.timeout_s if request.timeout_s is None else request.timeout_s
    return Gathered(
        comment_approvals(GitHubClient.from_env(), issue, since=since, timeout_s=timeout,
                          poll_s=request.poll_s),
        f"/approve and /deny comments on #{issue} since {since}")


def _entered_previous_stage(
    ledger: Ledger, name: str, version: str, policy: StagePolicy
) -> str:
    """Only decisions made after the version reached the previous stage (or was registered)
    count, so an approval of an earlier step is never reused."""
    when = ledger.version(name, version).time
    if policy.promotes_from:
        event = ledger.active_since(name, policy.promotes_from, version)
        if event is not None:
            when = event.time
    stamp = (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return stamp.isoformat().replace("+00:00", "Z")


def _policy_place(given: _Place | None, configured: _Place | None, stage: str, key: str,
                  flag: str) -> _Place | None:
    """The environment or issue approvals are read from. A flag may name it when the policy
    does not; when the policy does, the flag must agree: whoever runs ``promote`` must not send
    mlgate to read reviews of an environment (or comments on an issue) the policy never trusted,
    where they may have approved themselves."""
    if given is None or configured is None:
        return given if given is not None else configured
    if given != configured:
        raise InputError(f"{flag} {given}: the policy of {stage} reads approvals from {key} "
                         f"{configured!r} only (ledger.stages.{stage}.approvals.{key} on the "
                         "default branch)", flag)
    return given


def _int_env(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise InputError(f"{value!r} is not a run id", name)
    return int(value)
