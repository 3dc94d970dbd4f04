"""``mlgate verify``: recompute every digest a tag records and re-check the stage policy.

What is caught, and how:

* a tag moved to another commit, or a tag recreated with a copied message: the commit and the
  artifact's sha256 recomputed from the blob in the tagged commit differ from the record;
* edited evidence: each gate report in ``refs/notes/mlgate`` is re-digested and must equal the
  digest the (immutable, pushed) tag recorded, with the same status;
* a promotion that the policy would not allow: the rules are evaluated again from what the
  stage tag recorded (approvals, actor) and the ledger's state when it was written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.approval import Approval
from mlgate.ledger.ops import author_identities
from mlgate.ledger.policy import LedgerConfig, PromotionFacts, evaluate
from mlgate.ledger.publish import read_evidence
from mlgate.ledger.record import sha256_hex
from mlgate.ledger.state import ArtifactState, Registry, load_registry
from mlgate.ledger.tags import ASSIGN, REGISTER, UNASSIGN, parse_tag, version_tag
from mlgate.result import CheckResult, GateResult, Status


def verify(repo: Path, target: str, lc: LedgerConfig | None) -> GateResult:
    registry = load_registry(repo)
    tag = resolve(registry, target)
    parsed = parse_tag(tag)
    assert parsed is not None
    result = GateResult(gate="verify", summary=f"verify {tag}")
    state = registry.artifact(parsed.artifact, target)
    if parsed.action == REGISTER:
        result.checks.extend(_verify_version(registry, tag))
    elif parsed.action in (ASSIGN, UNASSIGN):
        result.checks.extend(_verify_stage(registry, state, tag, lc))
    else:
        raise InputError("only version and stage tags can be verified", target)
    result.data["outputs"] = {"tag": tag}
    return result


def resolve(registry: Registry, target: str) -> str:
    """A tag name from ``NAME@vX.Y.Z``, ``NAME#STAGE#N`` or ``NAME#STAGE`` (current)."""
    if target in registry.tags:
        return target
    parsed = parse_tag(target)
    if parsed is not None:
        raise InputError("no such tag", target)
    if "#" in target:
        name, _, stage = target.partition("#")
        state = registry.artifact(name, target)
        version = state.current(stage)
        event = state.assignment_of(version, stage) if version else None
        if event is None:
            raise InputError(f"no version of {name!r} is in stage {stage!r}", target)
        return event.tag.name
    raise InputError("expected NAME@vX.Y.Z, NAME#STAGE#N or NAME#STAGE", target)


def _verify_version(registry: Registry, tag: str, prefix: str = "") -> list[CheckResult]:
    ref = registry.tags[tag]
    rec = registry.record(tag)
    if rec is None:
        return [CheckResult(f"{prefix}record", Status.FAIL,
                            f"{tag} carries no mlgate record (not written by mlgate)")]
    checks = [_commit_check(prefix, tag, rec, ref.commit)]
    artifact = rec.get("artifact") or {}
    blob = gitio.blob_bytes(registry.repo, ref.commit, str(artifact.get("path")))
    actual = sha256_hex(blob) if blob is not None else None
    checks.append(CheckResult(
        f"{prefix}artifact digest",
        Status.PASS if actual == artifact.get("sha256") else Status.FAIL,
        f"{artifact.get('path')} at {ref.commit[:12]} is {actual}"
        + ("" if actual == artifact.get("sha256") else
           f", but {tag} records {artifact.get('sha256')} (tampered or moved tag)"),
        value=actual, threshold=artifact.get("sha256"),
    ))
    data = rec.get("data")
    if isinstance(data, dict) and data.get("committed"):
        blob = gitio.blob_bytes(registry.repo, ref.commit, str(data.get("path")))
        dsha = sha256_hex(blob) if blob is not None else None
        checks.append(CheckResult(
            f"{prefix}data digest", Status.PASS if dsha == data.get("sha256") else Status.FAIL,
            f"{data.get('path')} is {dsha}" + ("" if dsha == data.get("sha256") else
                                             f", but {tag} records {data.get('sha256')}"),
            value=dsha, threshold=data.get("sha256"),
        ))
    checks.append(_evidence_check(registry, tag, ref.commit, rec, prefix))
    return checks


def _commit_check(prefix: str, tag: str, rec: dict[str, Any], commit: str) -> CheckResult:
    ok = rec.get("commit") == commit
    return CheckResult(
        f"{prefix}tagged commit", Status.PASS if ok else Status.FAIL,
        f"{tag} points at {commit[:12]}" + ("" if ok else
                                           f", but its record was written for "
                                           f"{str(rec.get('commit'))[:12]} (tag moved)"),
        value=commit, threshold=rec.get("commit"),
    )


def _evidence_check(registry: Registry, tag: str, commit: str, rec: dict[str, Any],
                    prefix: str) -> CheckResult:
    name = f"{prefix}evidence"
    try:
        doc = read_evidence(registry.repo, commit)
    except InputError as exc:
        return CheckResult(name, Status.FAIL, exc.one_line())
    entry = doc["tags"].get(tag)
    if entry is None:
        return CheckResult(name, Status.FAIL,
                           f"no evidence for {tag} in refs/notes/mlgate on {commit[:12]} "
                           "(fetch it with `git fetch origin refs/notes/mlgate:refs/notes/mlgate`)")
    recorded = rec.get("gates") or {}
    if not recorded:
        return CheckResult(name, Status.PASS, "evidence note present (no gates recorded)")
    from mlgate.result import GateResult as _GR

    reports = {g.get("gate"): g for g in entry.get("gates") or [] if isinstance(g, dict)}
    problems = []
    for gate, summary in recorded.items():
        report = reports.get(gate)
        if report is None:
            problems.append(f"{gate}: report missing")
            continue
        try:
            digest = _GR.from_dict(report).digest()
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{gate}: unreadable report ({exc})")
            continue
        if digest != summary.get("digest"):
            problems.append(f"{gate}: report digest {digest} != recorded {summary.get('digest')}")
    if problems:
        return CheckResult(name, Status.FAIL, "evidence does not match the tag: "
                           + "; ".join(problems), details={"problems": problems})
    return CheckResult(name, Status.PASS,
                       f"{len(recorded)} gate report(s) match their recorded digests",
                       value=sorted(recorded))


def _verify_stage(registry: Registry, state: ArtifactState, tag: str,
                  lc: LedgerConfig | None) -> list[CheckResult]:
    ref = registry.tags[tag]
    parsed = parse_tag(tag)
    assert parsed is not None and parsed.stage is not None and parsed.counter is not None
    rec = registry.record(tag)
    if rec is None:
        return [CheckResult("record", Status.FAIL,
                            f"{tag} carries no mlgate record (not written by mlgate)")]
    version = str(rec.get("version"))
    checks = [_commit_check("", tag, rec, ref.commit)]
    vtag = version_tag(state.name, version)
    if vtag not in registry.tags:
        checks.append(CheckResult("version", Status.FAIL, f"{vtag} does not exist"))
        return checks
    same = registry.tags[vtag].commit == ref.commit
    checks.append(CheckResult(
        "version", Status.PASS if same else Status.FAIL,
        f"{tag} is {vtag}" if same else f"{tag} and {vtag} point at different commits",
    ))
    checks.extend(_verify_version(registry, vtag, prefix=f"{version}: "))
    if parsed.action == UNASSIGN or rec.get("event") == "rollback":
        ok = bool(str(rec.get("reason", "")).strip())
        checks.append(CheckResult("reason", Status.PASS if ok else Status.FAIL,
                                  f"reason: {rec.get('reason')!r}"))
        return checks
    if lc is None or not lc.stages:
        checks.append(CheckResult("policy", Status.WARN,
                                  "no ledger policy configured; rules not re-checked"))
        return checks
    policy = lc.stages.get(parsed.stage)
    if policy is None:
        checks.append(CheckResult("policy", Status.FAIL,
                                  f"stage {parsed.stage!r} is not in the policy"))
        return checks
    previous = None
    if policy.promotes_from:
        active: list[tuple[str, int]] = []
        for e in state.events_of(policy.promotes_from):
            if (e.counter or 0) >= parsed.counter or e.version is None:
                continue
            active = [a for a in active if a[0] != e.version]
            if e.action == ASSIGN:
                active.append((e.version, e.tag.time))
        times = [t for v, t in active if v == version]
        previous = datetime.fromtimestamp(times[-1], UTC) if times else None
    vref = registry.tags[vtag]
    vrec = registry.record(vtag)
    blob = gitio.blob_bytes(registry.repo, vref.commit,
                            str(((vrec or {}).get("artifact") or {}).get("path")))
    facts = PromotionFacts(
        version=version,
        version_record=vrec,
        artifact_sha256=sha256_hex(blob) if blob is not None else None,
        previous_assignment_time=previous,
        now=datetime.fromtimestamp(ref.time, UTC),
        approvals=[Approval.from_dict(a) for a in rec.get("approvals") or []],
        authors=author_identities(registry.repo, vref.commit),
        actor=str(rec.get("actor", "")),
    )
    for check in evaluate(policy, facts):
        check.name = f"policy: {check.name}"
        checks.append(check)
    doc = read_evidence(registry.repo, ref.commit)
    present = tag in doc["tags"]
    checks.append(CheckResult("evidence", Status.PASS if present else Status.FAIL,
                              "promotion evidence present in refs/notes/mlgate" if present
                              else f"no evidence for {tag} in refs/notes/mlgate"))
    return checks
