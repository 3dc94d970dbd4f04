"""The ``ledger:`` section of mlgate.yaml and the stage-policy rules a promotion must pass.

Each rule is one :class:`~mlgate.result.CheckResult` named after the rule, so a refusal always
says which rule and why. ``promote`` evaluates them before writing a tag; ``verify`` evaluates
them again later from what the tags recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError
from mlgate.ledger.approval import Approval
from mlgate.ledger.record import policy_digest
from mlgate.result import CheckResult, Status

if TYPE_CHECKING:
    from mlgate.config import Config

SOURCES = ("local", "github", "comment")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

RULE_ORDER = "stage order"
RULE_GATES = "required gates"
RULE_SOAK = "soak time"
RULE_APPROVERS = "allowed approvers"
RULE_SELF = "no self-approval"
RULE_APPROVALS = "minimum approvals"


def parse_duration(value: Any, source: str) -> float:
    """``30s``, ``10m``, ``2h``, ``1d`` or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise InputError(f"{value!r} is not a duration like 30s, 10m, 2h or 1d", source)
    return float(match[1]) * _UNITS[match[2] or "s"]


@dataclass
class StagePolicy:
    """The rules for assigning a version to one stage."""

    name: str
    promotes_from: str | None = None
    gates: list[str] = field(default_factory=list)
    soak_s: float = 0.0
    min_approvals: int = 0
    approvers: list[str] | None = None
    source: str = "local"
    self_approval: bool = False
    timeout_s: float = 600.0
    issue: int | None = None
    environment: str | None = None


@dataclass
class LedgerConfig:
    """The ledger settings, with defaults when mlgate.yaml has no ``ledger:`` section."""

    name: str | None = None
    artifact: str | None = None
    data: str | None = None
    remote: str = "origin"
    push: bool = True
    bump: str = "minor"
    retries: int = 3
    release_to: str | None = None
    stages: dict[str, StagePolicy] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    where: str = "mlgate.yaml:ledger"

    def stage(self, name: str, source: str = "--to") -> StagePolicy:
        policy = self.stages.get(name)
        if policy is None:
            known = ", ".join(self.stages) or "none configured"
            raise InputError(
                f"stage {name!r} is not in the policy ({self.where}.stages: {known})", source
            )
        return policy

    @property
    def digest(self) -> str:
        return policy_digest(self.raw.get("stages") or {})


def ledger_config(config: Config | None) -> LedgerConfig:
    """Read and check the ``ledger:`` section (schema-validated already; cross-checks here)."""
    if config is None:
        return LedgerConfig()
    raw = config.section("ledger")
    out = LedgerConfig(
        name=raw.get("name") or config.project,
        artifact=raw.get("artifact"),
        data=raw.get("data"),
        remote=raw.get("remote", "origin"),
        push=bool(raw.get("push", True)),
        bump=raw.get("bump", "minor"),
        retries=int(raw.get("retries", 3)),
        release_to=raw.get("release_to"),
        raw=raw,
        where=config.where("ledger"),
    )
    for name, spec in (raw.get("stages") or {}).items():
        spec = spec or {}
        approvals = spec.get("approvals") or {}
        where = config.where("ledger", "stages", name)
        out.stages[name] = StagePolicy(
            name=name,
            promotes_from=spec.get("promotes_from"),
            gates=list(spec.get("gates") or []),
            soak_s=parse_duration(spec.get("soak", 0), f"{where}.soak"),
            min_approvals=int(approvals.get("min", 0)),
            approvers=list(approvals["approvers"]) if "approvers" in approvals else None,
            source=approvals.get("source", "local"),
            self_approval=bool(approvals.get("self_approval", False)),
            timeout_s=parse_duration(approvals.get("timeout", "10m"), f"{where}.approvals"),
            issue=approvals.get("issue"),
            environment=approvals.get("environment"),
        )
    for name, policy in out.stages.items():
        if policy.promotes_from is not None and policy.promotes_from not in out.stages:
            raise InputError(
                f"promotes_from names stage {policy.promotes_from!r}, which is not configured",
                config.where("ledger", "stages", name, "promotes_from"),
            )
    if out.release_to is not None and out.release_to not in out.stages:
        raise InputError(
            f"stage {out.release_to!r} is not configured under ledger.stages",
            config.where("ledger", "release_to"),
        )
    return out


@dataclass
class PromotionFacts:
    """Everything the rules look at, gathered from git and the approval source."""

    version: str
    version_record: dict[str, Any] | None
    artifact_sha256: str | None  # recomputed from the registered commit
    previous_assignment_time: datetime | None  # when it entered promotes_from (None: never)
    now: datetime
    approvals: list[Approval]
    authors: set[str]  # identities of whoever wrote the registered change
    actor: str


def evaluate(policy: StagePolicy, facts: PromotionFacts) -> list[CheckResult]:
    """One check per rule of ``policy``; all must pass for the promotion."""
    return [
        _order(policy, facts),
        _gates(policy, facts),
        _soak(policy, facts),
        *_approvals(policy, facts),
    ]


def _order(policy: StagePolicy, facts: PromotionFacts) -> CheckResult:
    if policy.promotes_from is None:
        return CheckResult(RULE_ORDER, Status.PASS, f"{policy.name} accepts any registered version")
    if facts.previous_assignment_time is None:
        return CheckResult(
            RULE_ORDER,
            Status.FAIL,
            f"{facts.version} must be in {policy.promotes_from} before {policy.name} "
            f"(promotes_from: {policy.promotes_from}), and it is not",
            threshold=policy.promotes_from,
        )
    return CheckResult(
        RULE_ORDER, Status.PASS, f"{facts.version} is in {policy.promotes_from}",
        threshold=policy.promotes_from,
    )


def _gates(policy: StagePolicy, facts: PromotionFacts) -> CheckResult:
    rec = facts.version_record or {}
    recorded = (rec.get("artifact") or {}).get("sha256")
    gates = rec.get("gates") or {}
    if recorded is None:
        problem = "the version tag carries no mlgate record"
    elif facts.artifact_sha256 != recorded:
        problem = (
            f"the artifact at the registered commit has {facts.artifact_sha256}, but the "
            f"gates were recorded for {recorded}"
        )
    else:
        missing = [g for g in policy.gates if g not in gates]
        failed = [g for g in policy.gates if g in gates and gates[g].get("status") not in
                  ("pass", "warn")]
        if not missing and not failed:
            passed = ", ".join(policy.gates) or "none required"
            return CheckResult(
                RULE_GATES, Status.PASS, f"passed for {recorded}: {passed}",
                value=sorted(gates), threshold=policy.gates,
            )
        parts = []
        if missing:
            parts.append(f"no result recorded for {', '.join(missing)}")
        if failed:
            parts.append(f"{', '.join(failed)} did not pass")
        problem = "; ".join(parts) + f" for artifact {recorded}"
    return CheckResult(
        RULE_GATES, Status.FAIL, f"{policy.name} requires gates {policy.gates}: {problem}",
        value=sorted(gates), threshold=policy.gates,
    )


def _soak(policy: StagePolicy, facts: PromotionFacts) -> CheckResult:
    if policy.soak_s <= 0 or policy.promotes_from is None:
        return CheckResult(RULE_SOAK, Status.PASS, "no soak time required", threshold=0)
    since = facts.previous_assignment_time
    waited = (facts.now - since).total_seconds() if since else 0.0
    if waited >= policy.soak_s:
        return CheckResult(
            RULE_SOAK, Status.PASS,
            f"{waited:.0f}s in {policy.promotes_from} (at least {policy.soak_s:.0f}s)",
            value=round(waited, 1), threshold=policy.soak_s,
        )
    return CheckResult(
        RULE_SOAK, Status.FAIL,
        f"{facts.version} has been in {policy.promotes_from} for {waited:.0f}s; "
        f"{policy.name} requires {policy.soak_s:.0f}s (soak); retry in "
        f"{policy.soak_s - waited:.0f}s",
        value=round(waited, 1), threshold=policy.soak_s,
    )


def _approvals(policy: StagePolicy, facts: PromotionFacts) -> list[CheckResult]:
    approved = [a for a in facts.approvals if a.state == "approved"]
    rejected = [a for a in facts.approvals if a.state == "rejected"]
    out: list[CheckResult] = []

    allowed = policy.approvers
    strangers = [a.login for a in facts.approvals if allowed is not None and
                 a.login.lower() not in {x.lower() for x in allowed}]
    if strangers:
        out.append(CheckResult(
            RULE_APPROVERS, Status.FAIL,
            f"{', '.join(strangers)} may not approve {policy.name} (approvers: "
            f"{', '.join(allowed or [])})", value=strangers, threshold=allowed,
        ))
    else:
        out.append(CheckResult(
            RULE_APPROVERS, Status.PASS,
            "every approver is allowed" if allowed is not None else "anyone may approve",
            threshold=allowed,
        ))

    selfish = []
    if not policy.self_approval:
        for a in approved:
            if a.login.lower() == facts.actor.lower():
                selfish.append(f"{a.login} triggered this promotion")
            elif identity_matches(a.login, facts.authors):
                selfish.append(f"{a.login} authored the registered commit")
    if selfish:
        out.append(CheckResult(
            RULE_SELF, Status.FAIL,
            "self-approval is not allowed: " + "; ".join(selfish), value=selfish,
        ))
    else:
        out.append(CheckResult(
            RULE_SELF, Status.PASS,
            "self-approval allowed" if policy.self_approval else "no approver approved their "
            "own change or run",
        ))

    counted = sorted({a.login for a in approved})
    if rejected:
        out.append(CheckResult(
            RULE_APPROVALS, Status.FAIL,
            f"{policy.name} was denied by {', '.join(a.login for a in rejected)}"
            + (f": {rejected[0].comment}" if rejected[0].comment else ""),
            value=len(counted), threshold=policy.min_approvals,
        ))
    elif len(counted) < policy.min_approvals:
        out.append(CheckResult(
            RULE_APPROVALS, Status.FAIL,
            f"{policy.name} needs {policy.min_approvals} approval(s) and has {len(counted)}"
            + (f" ({', '.join(counted)})" if counted else "")
            + f" from source {policy.source!r}",
            value=len(counted), threshold=policy.min_approvals,
        ))
    else:
        out.append(CheckResult(
            RULE_APPROVALS, Status.PASS,
            f"{len(counted)} approval(s), {policy.min_approvals} required"
            + (f": {', '.join(counted)}" if counted else ""),
            value=len(counted), threshold=policy.min_approvals,
        ))
    return out


def identity_matches(login: str, identities: set[str]) -> bool:
    """Whether a GitHub login is one of a commit author's identities (name, email, email
    local part, or GitHub's ``ID+login@users.noreply.github.com``)."""
    login = login.lower()
    for ident in identities:
        ident = ident.lower()
        local = ident.split("@", 1)[0]
        if login in (ident, local, local.split("+", 1)[-1]):
            return True
    return False


def repo_config_path(repo: Path, config: str | None) -> Path | None:
    """The config file to use: ``--config`` or ``REPO/mlgate.yaml`` when it exists."""
    if config:
        return Path(config)
    candidate = repo / "mlgate.yaml"
    return candidate if candidate.is_file() else None
