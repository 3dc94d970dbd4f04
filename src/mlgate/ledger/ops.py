"""register, promote and rollback: build the tags and evidence, then write them atomically."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.approval import Approval
from mlgate.ledger.policy import LedgerConfig, PromotionFacts, StagePolicy, evaluate
from mlgate.ledger.publish import NewTag, Plan, transact
from mlgate.ledger.record import compose, now_iso, run_url, sha256_hex
from mlgate.ledger.state import ArtifactState, Registry
from mlgate.ledger.tags import ASSIGN, SemVer, stage_tag, version_tag
from mlgate.result import CheckResult, GateResult, Status

LEDGER_GATES = frozenset({"register", "promote", "pipeline", "ledger"})


def actor_name(repo: Path, explicit: str | None = None) -> str:
    """Who is acting: ``--actor``, then GITHUB_ACTOR, then git's user.name."""
    if explicit:
        return explicit
    if os.environ.get("GITHUB_ACTOR"):
        return os.environ["GITHUB_ACTOR"]
    try:
        return gitio.git(repo, "config", "user.name").strip() or "unknown"
    except gitio.GitError:
        return "unknown"


def gate_summary(results: list[GateResult]) -> dict[str, dict[str, Any]]:
    """What a version tag records per gate: status, digest and check counts."""
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        if r.gate in LEDGER_GATES:
            continue
        out[r.gate] = {
            "status": r.status.value,
            "digest": r.digest(),
            "checks": len(r.checks),
            "failed": [c.name for c in r.failures],
        }
    return out


@dataclass
class RegisterRequest:
    name: str
    artifact: str | None
    version: str | None
    bump: str | None
    results: list[GateResult]
    push: bool
    actor: str


def register(repo: Path, lc: LedgerConfig, req: RegisterRequest) -> GateResult:
    """Tag HEAD as ``NAME@vX.Y.Z`` with the artifact digest and the gate evidence."""
    if gitio.head_branch(repo) is None:
        raise InputError("HEAD is detached; check out a branch before registering", repo)
    dirty = gitio.dirty_files(repo)
    if dirty:
        shown = ", ".join(dirty[:3]) + (" ..." if len(dirty) > 3 else "")
        raise InputError(f"work tree has uncommitted changes ({shown}); commit them first",
                         repo)
    if req.version is not None:
        SemVer.parse(req.version)
    path_arg = req.artifact or lc.artifact
    if not path_arg:
        raise InputError("no artifact to register: pass --artifact or set ledger.artifact",
                         "--artifact")
    rel = gitio.repo_relative(repo, path_arg)
    commit = gitio.git(repo, "rev-parse", "HEAD^{commit}").strip()
    content = gitio.blob_bytes(repo, commit, rel)
    if content is None:
        why = "is not committed" if (repo / rel).exists() else "does not exist"
        raise InputError(f"artifact {why} at HEAD ({commit[:12]})", path_arg)
    digest = sha256_hex(content)
    data = _data_record(repo, commit, lc.data)
    gates = gate_summary(req.results)
    failed = [g for g, v in gates.items() if v["status"] not in ("pass", "warn")]
    if failed:
        return GateResult(
            gate="register",
            checks=[CheckResult("gates passed", Status.FAIL,
                                f"not registering {req.name}: gate(s) {', '.join(failed)} "
                                "failed; only passing candidates become versions",
                                value=failed)],
        )

    def build(registry: Registry) -> Plan:
        state = registry.artifacts.get(req.name) or ArtifactState(req.name)
        if req.version is not None:
            version = str(SemVer.parse(req.version))
            if version in state.versions:
                raise InputError("tag exists already (versions are immutable; pick another "
                                 "--version or use --bump)", version_tag(req.name, version))
        else:
            latest = state.latest_version()
            base = SemVer.parse(latest) if latest else SemVer(0, 0, 0)
            version = str(base.bump(req.bump or lc.bump))
        at_commit = [v for v, ref in state.versions.items() if ref.commit == commit]
        if at_commit:
            raise InputError(f"commit {commit[:12]} is already registered as "
                             f"{version_tag(req.name, at_commit[0])}; commit a new artifact",
                             "HEAD")
        tag = version_tag(req.name, version)
        rec = {
            "event": "register",
            "name": req.name,
            "version": version,
            "commit": commit,
            "artifact": {"path": rel, "sha256": digest, "size": len(content)},
            "data": data,
            "gates": gates,
            "actor": req.actor,
            "time": now_iso(),
            "run_url": run_url(),
            "policy": lc.digest,
        }
        summary = f"Register {req.name} {version}: {rel} {digest[:19]}…"
        if gates:
            summary += " (" + ", ".join(f"{g} {v['status']}" for g, v in gates.items()) + ")"
        evidence = {"event": "register", "gates": [r.to_dict() for r in req.results
                                                    if r.gate not in LEDGER_GATES]}
        return Plan(tags=[NewTag(tag, commit, compose(summary, rec))],
                    notes={commit: {tag: evidence}})

    plan, attempts = transact(repo, lc.remote, req.push, lc.retries, build, req.actor)
    tag = plan.tags[0]
    version = tag.name.rsplit("@", 1)[1]
    result = GateResult(gate="register", summary=f"{tag.name} at {commit[:12]}")
    result.add(CheckResult("registered", Status.PASS,
                           f"{tag.name} → {rel} {digest}" + (" (pushed)" if req.push else ""),
                           value=version, details={"attempts": attempts}))
    result.data["outputs"] = {"version": version, "tag": tag.name, "commit": commit}
    result.data["artifact"] = {"path": rel, "sha256": digest}
    return result


def _data_record(repo: Path, commit: str, data_path: str | None) -> dict[str, Any] | None:
    if not data_path:
        return None
    rel = gitio.repo_relative(repo, data_path)
    content = gitio.blob_bytes(repo, commit, rel)
    if content is None:
        path = repo / rel
        if not path.is_file():
            raise InputError("data file does not exist", f"ledger.data: {data_path}")
        content = path.read_bytes()
        return {"path": rel, "sha256": sha256_hex(content), "committed": False}
    return {"path": rel, "sha256": sha256_hex(content), "committed": True}


def author_identities(repo: Path, commit: str) -> set[str]:
    out = gitio.git(repo, "log", "-1", "--format=%an%n%ae", commit)
    return {line.strip() for line in out.splitlines() if line.strip()}


def promotion_facts(
    registry: Registry, name: str, version: str, policy: StagePolicy,
    approvals: list[Approval], actor: str, now: datetime,
) -> PromotionFacts:
    state = registry.artifact(name)
    vtag = version_tag(name, version)
    ref = state.versions[version]
    rec = registry.record(vtag)
    path = ((rec or {}).get("artifact") or {}).get("path")
    blob = gitio.blob_bytes(registry.repo, ref.commit, str(path)) if path else None
    previous = None
    if policy.promotes_from is not None:
        event = state.assignment_of(version, policy.promotes_from)
        if event is not None:
            previous = datetime.fromtimestamp(event.tag.time, UTC)
    return PromotionFacts(
        version=version,
        version_record=rec,
        artifact_sha256=sha256_hex(blob) if blob is not None else None,
        previous_assignment_time=previous,
        now=now,
        approvals=approvals,
        authors=author_identities(registry.repo, ref.commit),
        actor=actor,
    )


def check_version(registry: Registry, name: str, version: str) -> ArtifactState:
    state = registry.artifact(name)
    SemVer.parse(version)
    if version not in state.versions or version in state.deregistered:
        known = ", ".join(sorted(state.active_versions(), key=SemVer.parse)) or "none"
        raise InputError(f"version {version} of {name!r} does not exist (registered: {known})",
                         "--version")
    return state


@dataclass
class PromoteRequest:
    name: str
    version: str
    stage: str
    approvals: Callable[[Registry], list[Approval]]
    push: bool
    actor: str


def promote(repo: Path, lc: LedgerConfig, req: PromoteRequest) -> GateResult:
    """Assign a version to a stage (``NAME#STAGE#N``) if every rule of the policy passes."""
    policy = lc.stage(req.stage)
    from mlgate.ledger.publish import sync
    from mlgate.ledger.state import load_registry

    if req.push:  # a CI checkout has no tags: read the remote's ledger before validating
        if not gitio.remote_exists(repo, lc.remote):
            raise InputError(f"remote {lc.remote!r} does not exist (set ledger.remote or use "
                             "--no-push)", repo)
        sync(repo, lc.remote)
    first = load_registry(repo)
    check_version(first, req.name, req.version)
    approvals = req.approvals(first)

    def build(registry: Registry) -> Plan:
        state = check_version(registry, req.name, req.version)
        if state.current(req.stage) == req.version:
            current = state.assignment_of(req.version, req.stage)
            raise InputError(f"{req.name} {req.version} is already in {req.stage}"
                             + (f" ({current.tag.name})" if current else ""), "--to")
        now = datetime.now(UTC)
        facts = promotion_facts(registry, req.name, req.version, policy, approvals,
                                req.actor, now)
        checks = evaluate(policy, facts)
        gate = GateResult(gate="promote", checks=checks)
        if not gate.passed:
            gate.summary = f"{req.name} {req.version} → {req.stage} refused"
            return Plan(result=gate)
        ref = state.versions[req.version]
        counter = state.max_counter + 1
        tag = stage_tag(req.name, req.stage, counter)
        vrec = facts.version_record or {}
        rec = {
            "event": "assign",
            "name": req.name,
            "version": req.version,
            "stage": req.stage,
            "counter": counter,
            "commit": ref.commit,
            "artifact": vrec.get("artifact"),
            "gates": {g: (vrec.get("gates") or {}).get(g) for g in policy.gates},
            "approvals": [a.to_dict() for a in approvals],
            "actor": req.actor,
            "time": now_iso(),
            "run_url": run_url(),
            "policy": lc.digest,
            "rules": {c.name: c.status.value for c in checks},
        }
        approvers = ", ".join(a.login for a in approvals if a.state == "approved")
        summary = f"Promote {req.name} {req.version} to {req.stage}" + (
            f" (approved by {approvers})" if approvers else "")
        evidence = {"event": "assign", "checks": [c.to_dict() for c in checks],
                    "approvals": [a.to_dict() for a in approvals]}
        when = state.next_event_time(int(now.timestamp()))
        return Plan(tags=[NewTag(tag, ref.commit, compose(summary, rec), when)],
                    notes={ref.commit: {tag: evidence}}, result=gate)

    plan, attempts = transact(repo, lc.remote, req.push, lc.retries, build, req.actor)
    result = plan.result or GateResult(gate="promote")
    if not plan.tags:
        return result
    tag = plan.tags[0].name
    result.summary = f"{req.name} {req.version} → {req.stage} ({tag})"
    result.add(CheckResult("assigned", Status.PASS, f"{tag}" + (" (pushed)" if req.push else ""),
                           value=tag, details={"attempts": attempts}))
    result.data["outputs"] = {"version": req.version, "stage": req.stage, "tag": tag}
    return result


def rollback(repo: Path, lc: LedgerConfig, name: str, stage: str, to: str | None,
             reason: str, push: bool, actor: str) -> GateResult:
    """Put the previous good version back into ``stage``: unassign the current one
    (``NAME#STAGE!#N``) and assign the previous one (``NAME#STAGE#N+1``); nothing is deleted."""
    if lc.stages:
        lc.stage(stage, "--stage")
    if not reason.strip():
        raise InputError("a rollback needs a reason", "--reason")

    def build(registry: Registry) -> Plan:
        state = registry.artifact(name)
        current = state.current(stage)
        if current is None:
            raise InputError(f"no version of {name!r} is in stage {stage!r}", "--stage")
        if to is not None:
            check_version(registry, name, to)
            target = to
            if target == current:
                raise InputError(f"{name} {to} is already the version in {stage}", "--to")
            ever = {e.version for e in state.events_of(stage) if e.action == ASSIGN}
            if target not in ever:
                raise InputError(f"{name} {to} was never in {stage}; a rollback only returns "
                                 "to a version that was there (promote it instead)", "--to")
        else:
            previous = [v for v in state.active_in(stage) if v != current]
            if not previous:
                raise InputError(f"{stage} has no previous version of {name!r} to roll back to",
                                 "--stage")
            target = previous[-1]
        counter = state.max_counter + 1
        now = now_iso()
        cur_ref, tgt_ref = state.versions[current], state.versions[target]
        unassign = stage_tag(name, stage, counter, unassign=True)
        assign = stage_tag(name, stage, counter + 1)
        base = {"name": name, "stage": stage, "reason": reason, "actor": actor, "time": now,
                "run_url": run_url(), "policy": lc.digest}
        urec = {**base, "event": "unassign", "version": current, "counter": counter,
                "commit": cur_ref.commit, "replaced_by": target}
        arec = {**base, "event": "rollback", "version": target, "counter": counter + 1,
                "commit": tgt_ref.commit, "rolled_back_from": current}
        when = state.next_event_time(int(datetime.now(UTC).timestamp()))
        tags = [
            NewTag(unassign, cur_ref.commit,
                   compose(f"Roll back {name} {current} from {stage}: {reason}", urec), when),
            NewTag(assign, tgt_ref.commit,
                   compose(f"Roll back {name} {stage} to {target}: {reason}", arec), when + 1),
        ]
        notes: dict[str, dict[str, dict[str, Any]]] = {}
        notes.setdefault(cur_ref.commit, {})[unassign] = {"event": "unassign", "reason": reason}
        notes.setdefault(tgt_ref.commit, {})[assign] = {"event": "rollback", "reason": reason}
        return Plan(tags=tags, notes=notes)

    plan, attempts = transact(repo, lc.remote, push, lc.retries, build, actor)
    unassign, assign = plan.tags[0].name, plan.tags[1].name
    result = GateResult(gate="rollback", summary=f"{name} {stage}: {unassign}, {assign}")
    result.add(CheckResult("rolled back", Status.PASS, f"{unassign} then {assign}: {reason}",
                           value=assign, details={"attempts": attempts}))
    target_version = load_target_version(plan)
    result.data["outputs"] = {"version": target_version, "stage": stage, "tag": assign}
    return result


def load_target_version(plan: Plan) -> str:
    from mlgate.ledger.record import parse

    rec = parse(plan.tags[-1].message, plan.tags[-1].name) or {}
    return str(rec.get("version", ""))
