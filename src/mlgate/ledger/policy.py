"""The ``ledger:`` section of mlgate.yaml and the stage-policy rules a promotion must pass.

Each rule is one :class:`~mlgate.result.CheckResult` named after the rule, so a refusal always
says which rule and why. ``promote`` evaluates them before writing a tag; ``verify`` evaluates
them again later from what the tags recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError
from mlgate.ledger.approval import Approval
from mlgate.ledger.record import policy_digest
from mlgate.ledger.signing import (
    ArtifactSigning,
    SigningPolicy,
    artifact_signing,
    signing_policy,
)
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
RULE_SOURCE = "approval source"
RULE_FRESH = "approval times"
RULE_ROLLBACK = "who may roll back"

# What each policy source records as an approval's ``source``.
SOURCE_RECORDS = {"local": "local", "github": "github-environment", "comment": "comment"}
# Clocks differ between a runner and GitHub: times are compared with this slack.
CLOCK_SLACK_S = 120.0


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
    rollback_actors: list[str] | None = None  # who may roll this stage back (None: anyone)


@dataclass
class LedgerConfig:
    """The ledger settings, with defaults when mlgate.yaml has no ``ledger:`` section."""

    name: str | None = None
    artifact: str | None = None
    data: str | None = None
    data_digest: str = "content"  # content | etag: how a URI in ``data`` is identified
    remote: str = "origin"
    push: bool = True
    bump: str = "minor"
    retries: int = 3
    release_to: str | None = None
    stages: dict[str, StagePolicy] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    where: str = "mlgate.yaml:ledger"
    signing: SigningPolicy | None = None
    artifact_signing: ArtifactSigning | None = None
    config_path: str = "mlgate.yaml"  # repository path of the config these came from

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
        data_digest=raw.get("data_digest", "content"),
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
        rollback = spec.get("rollback") or {}
        policy = StagePolicy(
            name=name,
            promotes_from=spec.get("promotes_from"),
            gates=list(spec.get("gates") or []),
            soak_s=parse_duration(spec.get("soak", 0), f"{where}.soak"),
            min_approvals=int(approvals.get("min", 0)),
            approvers=_logins(approvals["approvers"], f"{where}.approvals.approvers")
            if "approvers" in approvals else None,
            source=approvals.get("source", "local"),
            self_approval=bool(approvals.get("self_approval", False)),
            timeout_s=parse_duration(approvals.get("timeout", "10m"), f"{where}.approvals"),
            issue=approvals.get("issue"),
            environment=approvals.get("environment"),
            rollback_actors=_logins(rollback["actors"], f"{where}.rollback.actors")
            if "actors" in rollback else None,
        )
        if policy.source == "local" and policy.min_approvals > 0 and policy.approvers is None:
            raise InputError(
                "local approvals are names typed on a command line: list who may approve "
                "(approvals.approvers) when approvals.min is above 0",
                f"{where}.approvals",
            )
        out.stages[name] = policy
    for name, policy in out.stages.items():
        if policy.promotes_from is not None and policy.promotes_from not in out.stages:
            raise InputError(
                f"promotes_from names stage {policy.promotes_from!r}, which is not configured",
                config.where("ledger", "stages", name, "promotes_from"),
            )
    _check_no_cycle(out, config)
    out.signing = signing_policy(raw.get("signing"), config.where("ledger", "signing"))
    out.artifact_signing = artifact_signing(raw.get("artifact_signing"),
                                            config.where("ledger", "artifact_signing"),
                                            out.signing)
    unknown = [s for s in (out.signing.required_for if out.signing else ()) if s not in out.stages]
    if unknown:
        raise InputError(f"required_for names stage(s) {', '.join(unknown)}, which are not "
                         "configured", config.where("ledger", "signing", "required_for"))
    if out.release_to is not None and out.release_to not in out.stages:
        raise InputError(
            f"stage {out.release_to!r} is not configured under ledger.stages",
            config.where("ledger", "release_to"),
        )
    return out


def normalize_login(login: str) -> str:
    """How logins are compared: trimmed and case-folded (GitHub logins are case-insensitive),
    so ``alice``, ``Alice`` and `` ALICE `` are one person."""
    return login.strip().casefold()


def _logins(values: list[Any], source: str) -> list[str]:
    out = [str(v).strip() for v in values]
    if any(not v for v in out):
        raise InputError("an empty login cannot approve anything", source)
    return out


def _check_no_cycle(config: LedgerConfig, where: Config) -> None:
    """promotes_from must lead back to a stage that accepts any version, never in a circle."""
    for name in config.stages:
        seen = [name]
        current = config.stages[name].promotes_from
        while current is not None:
            if current in seen:
                chain = " -> ".join([*seen, current])
                raise InputError(f"promotes_from forms a cycle ({chain})",
                                 where.where("ledger", "stages", name, "promotes_from"))
            seen.append(current)
            current = config.stages[current].promotes_from


@dataclass
class PromotionFacts:
    """Everything the rules look at, gathered from git and the approval source.

    ``promote`` gathers them live; the validating reader rebuilds them from what the tags
    recorded, so one set of rules decides both when a tag is written and when it is read.
    """

    version: str
    version_record: dict[str, Any] | None
    artifact_sha256: str | None  # recomputed from the registered commit
    previous_assignment_time: datetime | None  # when it entered promotes_from (None: never)
    now: datetime
    approvals: list[Approval]
    authors: set[str]  # identities of whoever wrote the registered change
    actor: str
    version_valid: str | None = None  # why the version's own record is invalid, if it is
    eligible_since: datetime | None = None  # approvals must be newer than this
    subject: str = ""  # the promotion approvals must name ("NAME@vX.Y.Z to STAGE")
    consulted: str = ""  # where the approvals were read, in words (refusals name it)


def evaluate(policy: StagePolicy, facts: PromotionFacts) -> list[CheckResult]:
    """One check per rule of ``policy``; all must pass for the promotion."""
    return [
        _order(policy, facts),
        _gates(policy, facts),
        _soak(policy, facts),
        *_approvals(policy, facts),
    ]


def rollback_check(policy: StagePolicy, actor: str) -> CheckResult:
    """The stage's ``rollback.actors`` rule: who may take a version out of this stage."""
    allowed = policy.rollback_actors
    if allowed is None:
        return CheckResult(RULE_ROLLBACK, Status.PASS,
                           f"anyone who may write ledger tags may roll back {policy.name}")
    if normalize_login(actor) in {normalize_login(a) for a in allowed}:
        return CheckResult(RULE_ROLLBACK, Status.PASS, f"{actor} may roll back {policy.name}",
                           threshold=allowed)
    return CheckResult(RULE_ROLLBACK, Status.FAIL,
                       f"{actor} may not roll back {policy.name} (rollback.actors: "
                       f"{', '.join(allowed)})", value=actor, threshold=allowed)


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
    if facts.version_valid is not None:
        problem = f"the version's record is not valid ({facts.version_valid})"
    elif recorded is None:
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
    return [
        _source(policy, facts),
        _fresh(policy, facts),
        _allowed(policy, facts),
        _not_self(policy, facts, approved),
        _minimum(policy, approved, rejected, facts.consulted),
    ]


def _source(policy: StagePolicy, facts: PromotionFacts) -> CheckResult:
    expected = SOURCE_RECORDS.get(policy.source, policy.source)
    wrong = sorted({a.source for a in facts.approvals if a.source != expected})
    blank = [a for a in facts.approvals if not normalize_login(a.login)]
    if wrong or blank:
        parts = []
        if wrong:
            parts.append(f"approvals came from {', '.join(wrong)}, but the policy of "
                         f"{policy.name} takes them from {policy.source!r} only")
        if blank:
            parts.append("an approval has an empty login")
        return CheckResult(RULE_SOURCE, Status.FAIL, "; ".join(parts), value=wrong,
                           threshold=policy.source)
    return CheckResult(RULE_SOURCE, Status.PASS,
                       f"every approval came from {policy.source!r}", threshold=policy.source)


def _fresh(policy: StagePolicy, facts: PromotionFacts) -> CheckResult:
    """Approvals count only when made for this step: for this version and stage, after the
    version entered the previous stage (or was registered), and not after the promotion."""
    since, until = facts.eligible_since, facts.now
    stale, future = [], []
    other = [f"{a.login} ({a.subject or 'no subject'})" for a in facts.approvals
             if facts.subject and a.subject != facts.subject]
    if other:
        return CheckResult(RULE_FRESH, Status.FAIL,
                           f"approvals given for another promotion than {facts.subject}: "
                           + ", ".join(other), value=other, threshold=facts.subject)
    for a in facts.approvals:
        try:
            when = parse_time(a.time)
        except ValueError:
            stale.append(f"{a.login} (unreadable time {a.time!r})")
            continue
        if since is not None and (since - when).total_seconds() > CLOCK_SLACK_S:
            stale.append(f"{a.login} at {a.time}")
        elif (when - until).total_seconds() > CLOCK_SLACK_S:
            future.append(f"{a.login} at {a.time}")
    if stale or future:
        parts = []
        if stale:
            parts.append("made before the version was eligible"
                         + (f" ({since.isoformat()})" if since else "") + ": " + ", ".join(stale))
        if future:
            parts.append("dated after the promotion: " + ", ".join(future))
        return CheckResult(RULE_FRESH, Status.FAIL, "approvals " + "; ".join(parts),
                           value=stale + future)
    return CheckResult(RULE_FRESH, Status.PASS, "every approval was made for this promotion")


def _allowed(policy: StagePolicy, facts: PromotionFacts) -> CheckResult:
    allowed = policy.approvers
    if allowed is None:
        return CheckResult(RULE_APPROVERS, Status.PASS, "anyone the source accepts may approve")
    permitted = {normalize_login(x) for x in allowed}
    strangers = [a.login for a in facts.approvals if normalize_login(a.login) not in permitted]
    if strangers:
        return CheckResult(
            RULE_APPROVERS, Status.FAIL,
            f"{', '.join(strangers)} may not approve {policy.name} (approvers: "
            f"{', '.join(allowed)})", value=strangers, threshold=allowed,
        )
    return CheckResult(RULE_APPROVERS, Status.PASS, "every approver is allowed",
                       threshold=allowed)


def _not_self(policy: StagePolicy, facts: PromotionFacts,
              approved: list[Approval]) -> CheckResult:
    selfish = []
    if not policy.self_approval:
        for a in approved:
            if normalize_login(a.login) == normalize_login(facts.actor):
                selfish.append(f"{a.login} triggered this promotion")
            elif identity_matches(a.login, facts.authors):
                selfish.append(f"{a.login} authored the registered commit")
    if selfish:
        return CheckResult(RULE_SELF, Status.FAIL,
                           "self-approval is not allowed: " + "; ".join(selfish), value=selfish)
    return CheckResult(
        RULE_SELF, Status.PASS,
        "self-approval allowed" if policy.self_approval else "no approver approved their "
        "own change or run",
    )


def _minimum(policy: StagePolicy, approved: list[Approval], rejected: list[Approval],
             consulted: str) -> CheckResult:
    distinct: dict[str, str] = {}
    for a in approved:
        distinct.setdefault(normalize_login(a.login), a.login.strip())
    counted = sorted(distinct.values())
    if rejected:
        return CheckResult(
            RULE_APPROVALS, Status.FAIL,
            f"{policy.name} was denied by {', '.join(a.login for a in rejected)}"
            + (f": {rejected[0].comment}" if rejected[0].comment else ""),
            value=len(counted), threshold=policy.min_approvals,
        )
    if len(counted) < policy.min_approvals:
        return CheckResult(
            RULE_APPROVALS, Status.FAIL,
            f"{policy.name} needs {policy.min_approvals} approval(s) from distinct people and "
            f"has {len(counted)}" + (f" ({', '.join(counted)})" if counted else "")
            + f" (read from {consulted or f'source {policy.source!r}'})",
            value=len(counted), threshold=policy.min_approvals,
        )
    return CheckResult(
        RULE_APPROVALS, Status.PASS,
        f"{len(counted)} approval(s), {policy.min_approvals} required"
        + (f": {', '.join(counted)}" if counted else ""),
        value=len(counted), threshold=policy.min_approvals,
    )


def parse_time(text: str) -> datetime:
    """An ISO-8601 time as an aware UTC datetime (``Z`` accepted)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def identity_matches(login: str, identities: set[str]) -> bool:
    """Whether a GitHub login is one of a commit author's identities (name, email, email
    local part, or GitHub's ``ID+login@users.noreply.github.com``)."""
    login = normalize_login(login)
    for ident in identities:
        ident = normalize_login(ident)
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
