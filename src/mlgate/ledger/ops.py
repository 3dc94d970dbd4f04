"""register, promote and rollback: check against valid entries, then write atomically.

Every write is judged by the default branch's policy (:mod:`mlgate.ledger.policy_source`),
decides from valid ledger entries only (:mod:`mlgate.ledger.validate`), and records what a
later reader needs to judge it again: the policy blob it used, the evidence digest, the facts.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import __version__
from mlgate.config import Config
from mlgate.data.pointer import is_uri, location
from mlgate.default_branch import read_file
from mlgate.errors import InputError
from mlgate.ledger import artifacts, data_pointer, gitio
from mlgate.ledger.approval import Approval, promotion_subject
from mlgate.ledger.policy import (
    LedgerConfig,
    PromotionFacts,
    StagePolicy,
    evaluate,
    rollback_check,
)
from mlgate.ledger.policy_source import PolicyInForce
from mlgate.ledger.publish import NewTag, Plan, transact
from mlgate.ledger.record import canonical_digest, compose, now_iso, run_url, sha256_hex
from mlgate.ledger.record import parse as parse_record
from mlgate.ledger.signing import key_source, keyless_policy, private_key_file
from mlgate.ledger.state import Index, load_index
from mlgate.ledger.tags import SemVer, stage_tag, version_tag
from mlgate.ledger.validate import FUTURE_SLACK_S, Ledger, binding_problems
from mlgate.result import CheckResult, GateResult, Status

if TYPE_CHECKING:
    from mlgate.ledger.sources import Gathered

LEDGER_GATES = frozenset({"register", "promote", "rollback", "pipeline", "ledger", "verify",
                          "status", "history", "github"})


def actor_name(repo: Path, explicit: str | None = None) -> str:
    """Who is acting: ``--actor``, then GITHUB_ACTOR, then git's user.name."""
    if explicit and explicit.strip():
        return explicit.strip()
    if os.environ.get("GITHUB_ACTOR", "").strip():
        return os.environ["GITHUB_ACTOR"].strip()
    try:
        return gitio.git(repo, "config", "user.name").strip() or "unknown"
    except gitio.GitError:
        return "unknown"


def gate_summary(results: list[GateResult]) -> dict[str, dict[str, Any]]:
    """What a version tag records per gate: status, digest and check counts."""
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        out[r.gate] = {
            "status": r.status.value,
            "digest": r.digest(),
            "checks": len(r.checks),
            "failed": [c.name for c in r.failures],
        }
    return out


def evidence_entry(entry: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The note entry as it will read back from JSON, and its digest for the tag's record."""
    normal: dict[str, Any] = json.loads(json.dumps(entry, sort_keys=True))
    return normal, canonical_digest(normal)


@dataclass
class RegisterRequest:
    name: str
    artifact: str | None
    version: str | None
    bump: str | None
    results: list[GateResult]
    push: bool
    actor: str
    results_dir: Path | None = None  # where to look for this commit's results (no --evidence)
    ignored: list[str] = field(default_factory=list)
    # Files training writes (train.outputs, repository-relative): such an artifact may be
    # recorded from the work tree, in a commit of its own on top of HEAD (ledger/trained.py).
    trained: frozenset[str] = frozenset()


def register(repo: Path, policy: PolicyInForce, req: RegisterRequest) -> GateResult:
    """Tag HEAD as ``NAME@vX.Y.Z`` with the artifact digest and evidence bound to it (a
    trained artifact: a commit of HEAD plus the artifact, see :mod:`mlgate.ledger.trained`)."""
    lc = policy.config
    if gitio.head_branch(repo) is None:
        raise InputError("HEAD is detached; check out a branch before registering", repo)
    if req.version is not None:
        SemVer.parse(req.version)
    path_arg = req.artifact or lc.artifact
    if not path_arg:
        raise InputError("no artifact to register: pass --artifact or set ledger.artifact",
                         "--artifact")
    rel = gitio.repo_relative(repo, path_arg)
    trained = rel in req.trained
    dirty = [f for f in gitio.dirty_files(repo) if not (trained and f == rel)]
    if dirty:
        shown = ", ".join(dirty[:3]) + (" ..." if len(dirty) > 3 else "")
        raise InputError(f"work tree has uncommitted changes ({shown}); commit them first",
                         repo)
    head = gitio.git(repo, "rev-parse", "HEAD^{commit}").strip()
    commit, content = _artifact_at(repo, head, rel, path_arg, trained)
    digest = sha256_hex(content)
    data = data_record(repo, commit, lc.data, lc.data_digest)
    _check_new_version(load_index(repo), req, commit)  # bad input first (exit 2)
    results = [r for r in req.results if r.gate not in LEDGER_GATES]
    if not req.results and req.results_dir is not None:
        results = this_commits_results(req.results_dir, head, req.ignored)
    refusal = _refuse_evidence(repo, commit, lc, results, digest, data, req.name)
    if refusal is not None:
        return refusal
    gates = gate_summary(results)
    entry: dict[str, Any] = {"event": "register", "gates": [r.to_dict() for r in results]}
    if lc.artifact_signing is not None:
        entry["artifact_signature"] = artifacts.sign(repo, policy.branch, lc.artifact_signing,
                                                     lc.signing, content, rel)
    note, evidence = evidence_entry(entry)

    def build(ledger: Ledger) -> Plan:
        version = _check_new_version(ledger.index, req, commit) or ""
        if not version:
            state = ledger.index.artifacts.get(req.name)
            latest = state.latest_name() if state else None
            base = SemVer.parse(latest) if latest else SemVer(0, 0, 0)
            version = str(base.bump(req.bump or lc.bump))
        tag = version_tag(req.name, version)
        rec: dict[str, Any] = {
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
            "evidence": evidence,
            "mlgate": __version__,
        }
        if policy.ref is not None:
            rec["policy"] = policy.ref.to_dict()
        summary = f"Register {req.name} {version}: {rel} {digest[:19]}…"
        if gates:
            summary += " (" + ", ".join(f"{g} {v['status']}" for g, v in gates.items()) + ")"
        return Plan(tags=[NewTag(tag, commit, compose(summary, rec))],
                    notes={commit: {tag: note}})

    with signing_key(policy, repo, None) as key:
        plan, attempts = transact(repo, lc.remote, req.push, lc.retries, build, req.actor,
                                  policy.path, key, keyless_attestation(policy, repo))
    tag = plan.tags[0]
    version = tag.name.rsplit("@", 1)[1]
    pushed = push_state(req.push, lc.remote)
    where = (commit[:12] if commit == head
             else f"{commit[:12]} (HEAD {head[:12]} + trained {rel})")
    result = GateResult(gate="register", summary=f"{tag.name} at {where}")
    result.add(CheckResult("registered", Status.PASS, f"{tag.name} → {rel} {digest} ({pushed})",
                           value=version, details={"attempts": attempts,
                                                   "gates": sorted(gates),
                                                   "ignored": req.ignored}))
    result.data["outputs"] = {"name": req.name, "version": version, "tag": tag.name,
                              "commit": commit}
    result.data["wrote"] = [f"tag {tag.name} on {where}, {pushed}"]
    result.data["artifact"] = {"path": rel, "sha256": digest}
    return result


def trained_files(repo: Path, config: Config | None) -> frozenset[str]:
    """``train.outputs`` of ``config`` as repository-relative paths (empty without one)."""
    if config is None:
        return frozenset()
    from mlgate.train.settings import trained_paths

    return frozenset(gitio.repo_relative(repo, p) for p in trained_paths(config))


def _artifact_at(repo: Path, head: str, rel: str, path_arg: str,
                 trained: bool) -> tuple[str, bytes]:
    """The commit to tag and the artifact's bytes in it: HEAD's, or for a training output that
    HEAD does not hold as it is in the work tree, a commit of HEAD plus the work-tree file."""
    content = gitio.blob_bytes(repo, head, rel)
    if trained:
        local = repo / rel
        if not local.is_file():
            raise InputError("does not exist: run `mlgate train` first (it is a training "
                             "output, train.outputs)", path_arg)
        produced = local.read_bytes()
        if content != produced:
            from mlgate.ledger.trained import artifact_commit

            return artifact_commit(repo, head, rel, produced, sha256_hex(produced)), produced
    if content is None:
        why = "is not committed" if (repo / rel).exists() else "does not exist"
        hint = ("; commit it, or produce it with a train section whose outputs name it"
                if why == "is not committed" else "")
        raise InputError(f"artifact {why} at HEAD ({head[:12]}){hint}", path_arg)
    return head, content


def _check_new_version(index: Index, req: RegisterRequest, commit: str) -> str | None:
    """The explicit version (None to bump), after refusing a name or commit already taken."""
    state = index.artifacts.get(req.name)
    version = str(SemVer.parse(req.version)) if req.version is not None else None
    if version is not None and state is not None and version in state.versions:
        raise InputError("tag exists already (versions are immutable; pick another "
                         "--version or use --bump)", version_tag(req.name, version))
    at_commit = state.versions_at(commit) if state else []
    if at_commit:
        raise InputError(f"commit {commit[:12]} is already registered as "
                         f"{version_tag(req.name, at_commit[0])}; commit a new artifact", "HEAD")
    return version


def _refuse_evidence(repo: Path, commit: str, lc: LedgerConfig, results: list[GateResult],
                     digest: str, data: dict[str, Any] | None, name: str) -> GateResult | None:
    """A refusal (exit 1) when the evidence failed, is about other files, or misses a gate the
    first stage requires; None when the version may be written."""
    checks: list[CheckResult] = []
    failed = [r.gate for r in results if not r.passed]
    if failed:
        checks.append(CheckResult("gates passed", Status.FAIL,
                                  f"not registering {name}: gate(s) {', '.join(failed)} "
                                  "failed; only passing candidates become versions",
                                  value=failed))
    unbound = []
    for r in results:
        problems = binding_problems(r.to_dict().get("inputs"), r.gate, digest, data,
                                    lambda path: _committed_sha(repo, commit, path))
        unbound += [f"{r.gate}: {p}" for p in problems]
    if unbound:
        checks.append(CheckResult("evidence bound to the artifact", Status.FAIL,
                                  f"not registering {name}: the evidence is about other files: "
                                  + "; ".join(unbound), value=unbound))
    first = entry_stage(lc)
    if first is not None and first.gates:
        have = {r.gate for r in results if r.passed}
        missing = [g for g in first.gates if g not in have]
        if missing:
            checks.append(CheckResult(
                "required gates", Status.FAIL,
                f"not registering {name}: {first.name} (the first stage) requires "
                f"{', '.join(first.gates)} and there is no passing result of "
                f"{', '.join(missing)} for this artifact; run the gates on this commit "
                "(mlgate run) or pass --evidence", value=missing, threshold=first.gates))
    if not checks:
        return None
    return GateResult(gate="register", checks=checks,
                      summary=f"{name}: nothing registered at {commit[:12]}")


def entry_stage(lc: LedgerConfig) -> StagePolicy | None:
    """The stage a new version enters first: ``release_to``, else the only stage that accepts
    any version (None when that is ambiguous)."""
    if lc.release_to is not None and lc.release_to in lc.stages:
        return lc.stages[lc.release_to]
    open_stages = [s for s in lc.stages.values() if s.promotes_from is None]
    return open_stages[0] if len(open_stages) == 1 else None


def this_commits_results(results_dir: Path, commit: str, ignored: list[str]) -> list[GateResult]:
    """The newest result per gate under ``results_dir`` that was produced on ``commit``."""
    from mlgate.report.json_report import read_json

    best: dict[str, GateResult] = {}
    for path in sorted(results_dir.rglob("*.json")):
        try:
            found = read_json(path)
        except InputError:
            continue  # evidence files (model-metrics.json, ...) are not reports
        for r in found:
            meta = r.to_dict().get("meta") or {}
            if r.gate in LEDGER_GATES:
                continue
            if meta.get("commit") != commit:
                ignored.append(f"{path.name}: {r.gate} ran on another commit")
                continue
            old = best.get(r.gate)
            old_time = (old.to_dict().get("meta") or {}).get("time", "") if old else ""
            if old is None or str(meta.get("time", "")) >= str(old_time):
                best[r.gate] = r
    return list(best.values())


def _committed_sha(repo: Path, commit: str, path: str) -> str | None:
    blob = gitio.blob_bytes(repo, commit, path)
    return sha256_hex(blob) if blob is not None else None


def data_record(repo: Path, commit: str, data_path: str | None,
                 mode: str = "content") -> dict[str, Any] | None:
    """What the version records about ``ledger.data``: a file of the commit (or of the work
    tree) by sha256, a committed DVC pointer with the md5 it names, or a URI with the digest
    ``mode`` asks for (:mod:`mlgate.ledger.data_pointer`)."""
    if not data_path:
        return None
    if data_pointer.is_remote(data_path):
        return data_pointer.pointer_record(data_path, mode)
    if is_uri(data_path):  # file://
        data_path = str(location(data_path))
    rel = gitio.repo_relative(repo, data_path)
    content = gitio.blob_bytes(repo, commit, rel)
    if content is None:
        path = repo / rel
        if not path.is_file():
            raise InputError("data file does not exist", f"ledger.data: {data_path}")
        content = path.read_bytes()
        return {"path": rel, "sha256": sha256_hex(content), "committed": False}
    record: dict[str, Any] = {"path": rel, "sha256": sha256_hex(content), "committed": True}
    dvc = data_pointer.dvc_details(rel, content)
    if dvc is not None:
        record["dvc"] = dvc
    return record


def usable_version(ledger: Ledger, name: str, version: str) -> None:
    """InputError unless ``name@version`` is registered and not deregistered."""
    state = ledger.artifact(name)
    SemVer.parse(version)
    if version not in state.versions or version in state.deregistered:
        known = ", ".join(v for v in state.versions_sorted() if v not in state.deregistered)
        raise InputError(f"version {version} of {name!r} does not exist (registered: "
                         f"{known or 'none'})", "--version")


@dataclass
class PromoteRequest:
    name: str
    version: str
    stage: str
    approvals: Callable[[Ledger], Gathered]
    push: bool
    actor: str


def promotion_facts(ledger: Ledger, name: str, version: str, policy: StagePolicy,
                    approvals: list[Approval], actor: str, now: datetime,
                    consulted: str = "") -> PromotionFacts:
    """The facts the rules judge, from valid entries only."""
    entry = ledger.version(name, version)
    previous = None
    if policy.promotes_from is not None:
        previous = ledger.active_since(name, policy.promotes_from, version)
    rec = entry.record or {}
    return PromotionFacts(
        version=version,
        version_record=rec if entry.valid else None,
        artifact_sha256=(rec.get("artifact") or {}).get("sha256"),
        previous_assignment_time=previous.time if previous else None,
        now=now,
        approvals=approvals,
        authors=ledger.authors(entry.commit),
        actor=actor,
        version_valid=None if entry.valid else entry.reason,
        eligible_since=previous.time if previous else entry.time,
        subject=promotion_subject(name, version, policy.name),
        consulted=consulted,
    )


def promote(repo: Path, policy: PolicyInForce, req: PromoteRequest) -> GateResult:
    """Assign a version to a stage (``NAME#STAGE#N``) if every rule of the policy passes."""
    lc = policy.config
    rules = lc.stage(req.stage)
    if policy.ref is None:
        raise InputError("no ledger policy on the default branch", lc.where)
    with Ledger(repo, remote=lc.remote, config_path=policy.path) as first:
        usable_version(first, req.name, req.version)
        gathered = req.approvals(first)
        approvals = gathered.approvals

    def build(ledger: Ledger) -> Plan:
        usable_version(ledger, req.name, req.version)
        view = ledger.stage(req.name, req.stage)
        if view.version == req.version:
            raise InputError(f"{req.name} {req.version} is already in {req.stage}"
                             + (f" ({view.entry.tag})" if view.entry else ""), "--to")
        now = datetime.now(UTC)
        facts = promotion_facts(ledger, req.name, req.version, rules, approvals, req.actor, now,
                                gathered.consulted)
        checks = evaluate(rules, facts)
        gate = GateResult(gate="promote", checks=checks)
        if not gate.passed:
            gate.summary = f"{req.name} {req.version} → {req.stage} refused"
            return Plan(result=gate)
        state = ledger.artifact(req.name)
        ref = state.versions[req.version]
        counter = state.max_counter + 1
        tag = stage_tag(req.name, req.stage, counter)
        vrec = facts.version_record or {}
        recorded = [a.to_dict() for a in approvals]
        note, evidence = evidence_entry({"event": "assign",
                                         "checks": [c.to_dict() for c in checks],
                                         "approvals": recorded})
        assert policy.ref is not None
        rec = {
            "event": "assign",
            "name": req.name,
            "version": req.version,
            "stage": req.stage,
            "counter": counter,
            "commit": ref.commit,
            "artifact": vrec.get("artifact"),
            "gates": {g: (vrec.get("gates") or {}).get(g) for g in rules.gates
                      if (vrec.get("gates") or {}).get(g)},
            "approvals": note["approvals"],
            "actor": req.actor,
            "time": now_iso(),
            "run_url": run_url(),
            "policy": policy.ref.to_dict(),
            "evidence": evidence,
            "rules": {c.name: c.status.value for c in checks},
            "mlgate": __version__,
        }
        approvers = ", ".join(a.login for a in approvals if a.state == "approved")
        summary = f"Promote {req.name} {req.version} to {req.stage}" + (
            f" (approved by {approvers})" if approvers else "")
        when = next_event_time(ledger, req.name, int(now.timestamp()))
        return Plan(tags=[NewTag(tag, ref.commit, compose(summary, rec), when)],
                    notes={ref.commit: {tag: note}}, result=gate)

    with signing_key(policy, repo, req.stage) as key:
        plan, attempts = transact(repo, lc.remote, req.push, lc.retries, build, req.actor,
                                  policy.path, key, keyless_attestation(policy, repo))
    result = plan.result or GateResult(gate="promote")
    if not plan.tags:
        return result
    tag = plan.tags[0].name
    pushed = push_state(req.push, lc.remote)
    result.summary = f"{req.name} {req.version} → {req.stage} ({tag})"
    result.add(CheckResult("assigned", Status.PASS, f"{tag} ({pushed})",
                           value=tag, details={"attempts": attempts}))
    result.data["outputs"] = {"version": req.version, "stage": req.stage, "tag": tag}
    result.data["wrote"] = [f"tag {tag} ({req.name} {req.version} in {req.stage}), {pushed}"]
    return result


def push_state(push: bool, remote: str) -> str:
    """Whether a write left this machine: a tag only here is invisible to CI, GTO and
    everyone else, so the terminal says which it is."""
    return f"pushed to {remote}" if push else "local only, not pushed"


def next_event_time(ledger: Ledger, name: str, now: int) -> int:
    """A tagger time later than every plausibly dated tag of this artifact.

    GTO orders events by tag time (whole seconds); keeping each artifact's tags strictly
    increasing in time makes GTO's order the counter order even within one second. Tags dated
    in the future (anyone can write one) are ignored so they cannot push our clock.
    """
    state = ledger.index.artifacts.get(name)
    if state is None:
        return now
    names = [s.ref.name for s in state.stage_refs] + [r.name for r in state.versions.values()]
    times = [t for t in (ledger.tag_time(n) for n in names)
             if t is not None and t <= now + FUTURE_SLACK_S]
    return max([now, *(t + 1 for t in times)])


def rollback(repo: Path, policy: PolicyInForce, name: str, stage: str, to: str | None,
             reason: str, push: bool, actor: str) -> GateResult:
    """Put the previous good version back into ``stage``: unassign the current one
    (``NAME#STAGE!#N``) and assign the previous one (``NAME#STAGE#N+1``); nothing is deleted."""
    lc = policy.config
    rules = lc.stage(stage, "--stage")
    if not reason.strip():
        raise InputError("a rollback needs a reason", "--reason")
    if policy.ref is None:
        raise InputError("no ledger policy on the default branch", lc.where)
    allowed = rollback_check(rules, actor)
    if allowed.status is not Status.PASS:
        return GateResult(gate="rollback", checks=[allowed],
                          summary=f"{name} {stage}: rollback refused")

    def build(ledger: Ledger) -> Plan:
        state = ledger.artifact(name)
        current = ledger.stage(name, stage).version
        if current is None:
            raise InputError(f"no version of {name!r} is (validly) in stage {stage!r}",
                             "--stage")
        counter = state.max_counter + 1
        if to is not None:
            usable_version(ledger, name, to)
            target = to
            if target == current:
                raise InputError(f"{name} {to} is already the version in {stage}", "--to")
            if ledger.ever_assigned(name, stage, target, before=counter) is None:
                raise InputError(f"{name} {to} was never (validly) in {stage}; a rollback only "
                                 "returns to a version that was there (promote it instead)",
                                 "--to")
        else:
            previous = [v for v in active_versions(ledger, name, stage) if v != current]
            if not previous:
                raise InputError(f"{stage} has no previous version of {name!r} to roll back to",
                                 "--stage")
            target = previous[-1]
        stamp = now_iso()
        cur_ref, tgt_ref = state.versions[current], state.versions[target]
        unassign = stage_tag(name, stage, counter, unassign=True)
        assign = stage_tag(name, stage, counter + 1)
        assert policy.ref is not None
        base = {"name": name, "stage": stage, "reason": reason, "actor": actor, "time": stamp,
                "run_url": run_url(), "policy": policy.ref.to_dict(), "mlgate": __version__}
        unote, uevidence = evidence_entry({"event": "unassign", "reason": reason})
        anote, aevidence = evidence_entry({"event": "rollback", "reason": reason})
        urec = {**base, "event": "unassign", "version": current, "counter": counter,
                "commit": cur_ref.commit, "replaced_by": target, "evidence": uevidence}
        arec = {**base, "event": "rollback", "version": target, "counter": counter + 1,
                "commit": tgt_ref.commit, "rolled_back_from": current, "evidence": aevidence}
        when = next_event_time(ledger, name, int(datetime.now(UTC).timestamp()))
        tags = [
            NewTag(unassign, cur_ref.commit,
                   compose(f"Roll back {name} {current} from {stage}: {reason}", urec), when),
            NewTag(assign, tgt_ref.commit,
                   compose(f"Roll back {name} {stage} to {target}: {reason}", arec), when + 1),
        ]
        notes: dict[str, dict[str, dict[str, Any]]] = {}
        notes.setdefault(cur_ref.commit, {})[unassign] = unote
        notes.setdefault(tgt_ref.commit, {})[assign] = anote
        return Plan(tags=tags, notes=notes, result=GateResult(
            gate="rollback", checks=[allowed], data={"outputs": {"version": target}}))

    with signing_key(policy, repo, stage) as key:
        plan, attempts = transact(repo, lc.remote, push, lc.retries, build, actor,
                                  policy.path, key, keyless_attestation(policy, repo))
    unassign, assign = plan.tags[0].name, plan.tags[1].name
    result = plan.result or GateResult(gate="rollback")
    target_version = str(result.data.get("outputs", {}).get("version", ""))
    pushed = push_state(push, lc.remote)
    result.summary = f"{name} {stage}: {unassign}, {assign}"
    result.add(CheckResult("rolled back", Status.PASS,
                           f"{unassign} then {assign}: {reason} ({pushed})",
                           value=assign, details={"attempts": attempts}))
    result.data["outputs"] = {"version": target_version, "stage": stage, "tag": assign}
    result.data["wrote"] = [f"tags {unassign} and {assign} ({name} {target_version} back in "
                            f"{stage}), {pushed}"]
    return result


@contextlib.contextmanager
def signing_key(policy: PolicyInForce, repo: Path, stage: str | None) -> Iterator[Path | None]:
    """The SSH key this write signs with (None: unsigned). Writing an entry of a stage whose
    entries must be signed without the key is refused before anything is written: the entry
    would be invalid the moment it exists."""
    signing = policy.config.signing
    if signing is None or signing.method != "ssh":
        yield None
        return
    with private_key_file(signing, repo) as key:
        if key is None and stage is not None and stage in signing.required_for:
            raise InputError(
                f"{stage} entries must be signed (required_for) and there is no signing key "
                f"here: expected {key_source(signing)}", signing.where)
        yield key


def keyless_attestation(policy: PolicyInForce,
                        repo: Path) -> Callable[[Plan, Ledger], None] | None:
    """With ``method: sigstore``: sign each new tag's event with this job's OIDC identity
    (the bundle goes to the evidence note), and check the bundle as a reader will before
    anything is written. Without an OIDC credential, entries of required stages are refused
    and the rest stay unsigned."""
    signing = policy.config.signing
    if signing is None or signing.method != "sigstore":
        return None
    from mlgate.signing import keyless

    def attest(plan: Plan, ledger: Ledger) -> None:
        try:
            token: str | None = keyless.ambient_identity_token()
            missing = ""
        except InputError as exc:
            token, missing = None, exc.one_line()
        who = keyless_policy(signing, repo)
        with branch_file(repo, policy, signing.trust_config) as config, \
                branch_file(repo, policy, signing.trusted_root) as root:
            for tag in plan.tags:
                rec = parse_record(tag.message, tag.name) or {}
                stage = rec.get("stage")
                if token is None:
                    if stage in signing.required_for:
                        raise InputError(f"{stage} entries must be signed by {who.identity} "
                                         f"(Sigstore) and this run cannot sign: {missing}",
                                         signing.where)
                    continue
                artifact = rec.get("artifact") or (
                    ledger.version(str(rec["name"]), str(rec["version"])).record or {}
                ).get("artifact")
                event = keyless.LedgerEvent.from_record(tag.name, rec, artifact=artifact)
                claim = keyless.statement(event)
                bundle = keyless.sign(claim, token, trust_config=config, policy=who)
                try:
                    keyless.verify(bundle, claim, who, root)
                except keyless.SignatureRefused as exc:
                    raise InputError(f"this run's signature would not count, so nothing was "
                                     f"written: {exc}", signing.where) from exc
                plan.signatures[tag.name] = bundle

    return attest


@contextlib.contextmanager
def branch_file(repo: Path, policy: PolicyInForce, path: str | None) -> Iterator[Path | None]:
    """A file of the default branch (``path`` in the repository) as a temporary file."""
    if not path:
        yield None
        return
    found = read_file(repo, policy.branch, path)
    if found is None:
        raise InputError(f"{path} is not on the default branch ({policy.branch.name})",
                         policy.config.where)
    with tempfile.TemporaryDirectory(prefix="mlgate-") as tmp:
        target = Path(tmp) / Path(path).name
        target.write_bytes(found.content)
        yield target


def active_versions(ledger: Ledger, name: str, stage: str) -> list[str]:
    """Versions valid entries have in ``stage`` now, oldest assignment first."""
    active: list[str] = []
    for sref in ledger.artifact(name).stage_events(stage):
        entry = ledger.stage_entry(name, sref)
        if not entry.valid or entry.version is None:
            continue
        if entry.version in active:
            active.remove(entry.version)
        if entry.kind != "unassign":
            active.append(entry.version)
    return active
