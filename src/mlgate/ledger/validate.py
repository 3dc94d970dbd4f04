"""The validating reader: the only place tags and notes become ledger entries.

Nothing a tag *says* is believed. For every entry a decision needs, the reader re-derives its
validity from git alone:

* **version** ``NAME@vX.Y.Z``: an annotated tag whose record validates against its schema and
  names this tag and commit; the artifact and data blobs at that commit still have the recorded
  sha256; the evidence note entry has the recorded digest; each gate report in it re-digests to
  the recorded digest and its own checks give the recorded status; and every report is bound
  to this artifact (its ``model`` input is the artifact's sha256, its inputs that are files of
  the registered commit match those blobs, its ``ledger.data`` input matches).
* **assignment** ``NAME#STAGE#N``: the same record checks; its version is a valid version on
  the same commit; its counter is used by no other tag; its times agree with the tag; its
  evidence entry matches; the policy it recorded is a blob of the default branch's history;
  and that policy's rules hold when evaluated from the recorded facts (stage order and soak from
  the *valid* earlier entries, required gates, approval source, freshness, approvers, no self-
  approval, minimum).
* **rollback** ``NAME#STAGE!#N`` + ``NAME#STAGE#N+1``: checked as a pair; the version returned
  to had a valid earlier assignment to the same stage, the reason is not blank, and the
  policy's ``rollback.actors`` rule holds.

``status``, ``history``, the champion lookup and ``promote`` decide from valid entries only;
invalid ones are listed with their reason and decide nothing. One artifact's bad tag never
touches another's, and no tag content can raise anything but a flagged entry. Expensive digests
are cached by object id (:mod:`mlgate.ledger.digests`); validity never is.

Validation is lazy: ``status`` looks at the newest entries of each stage and what they depend
on, not at the whole history, which keeps it fast on tens of thousands of tags.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from mlgate.default_branch import DefaultBranch, default_branch, read_file
from mlgate.errors import InputError
from mlgate.ledger import gitio
from mlgate.ledger.approval import Approval, promotion_subject
from mlgate.ledger.artifacts import check as check_artifact
from mlgate.ledger.data_pointer import data_binding
from mlgate.ledger.digests import DigestCache
from mlgate.ledger.objects import ObjectStore, TagObject
from mlgate.ledger.policy import (
    CLOCK_SLACK_S,
    LedgerConfig,
    PromotionFacts,
    evaluate,
    parse_time,
    rollback_check,
)
from mlgate.ledger.policy_source import on_default_branch, policy_from_bytes
from mlgate.ledger.record import canonical_digest, read_record
from mlgate.ledger.signing import ArtifactSigning, SigningPolicy, keyless_policy
from mlgate.ledger.state import ArtifactIndex, Index, StageRef, TagRef, load_index
from mlgate.ledger.tags import parse_tag, stage_tag, version_tag
from mlgate.resources import schema_problem
from mlgate.result import CheckResult, Status
from mlgate.signing.sshsig import (
    AllowedSigner,
    SignatureProblem,
    parse_allowed_signers,
    split_signed,
)
from mlgate.signing.sshsig import verify as verify_sshsig

NOTES_REF = gitio.NOTES_REF
REGISTER, ASSIGN, UNASSIGN, ROLLBACK = "register", "assign", "unassign", "rollback"
MAX_DEPTH = 150  # dependency chain between entries (rollback pairs referring back)
FUTURE_SLACK_S = 600.0
_INVALID_POLICY = "invalid"


@dataclass(frozen=True)
class Anchors:
    """The default branch's signing rules and allowed signers (``problem``: why they could
    not be read, which makes every entry that needs a signature invalid)."""

    policy: SigningPolicy | None
    signers: list[AllowedSigner]
    problem: str | None = None
    text: str = ""  # the allowed-signers file as the default branch has it
    keyless: Any = None  # the KeylessPolicy (method: sigstore)
    artifacts: ArtifactSigning | None = None  # ledger.artifact_signing of the default branch
    trusted_root: Path | None = None  # its trusted_root.json, copied out of the default branch


class _TooDeep(Exception):
    """An entry depends on a chain of entries longer than :data:`MAX_DEPTH`."""


@dataclass
class Entry:
    """One ledger tag, read and judged.

    ``checks`` are the rules it was judged by (failed ones say why it is invalid); ``time`` is
    the event time from its (validated) record, used for soak and ordering.
    """

    tag: str
    kind: str
    artifact: str
    version: str | None
    commit: str
    stage: str | None = None
    counter: int | None = None
    record: dict[str, Any] | None = None
    time: datetime | None = None
    tagger_time: int | None = None
    checks: list[CheckResult] = field(default_factory=list)
    raw_tag: bytes = b""

    @property
    def valid(self) -> bool:
        return not any(c.status in (Status.FAIL, Status.ERROR) for c in self.checks)

    @property
    def problems(self) -> list[str]:
        return [c.message for c in self.checks if c.status in (Status.FAIL, Status.ERROR)]

    @property
    def reason(self) -> str:
        return "; ".join(self.problems)

    def ok(self, name: str, message: str, **extra: Any) -> None:
        self.checks.append(CheckResult(name, Status.PASS, message, **extra))

    def fail(self, name: str, message: str, **extra: Any) -> None:
        self.checks.append(CheckResult(name, Status.FAIL, message, **extra))

    def check(self, name: str, passed: bool, good: str, bad: str, **extra: Any) -> bool:
        (self.ok if passed else self.fail)(name, good if passed else bad, **extra)
        return passed


@dataclass
class StageView:
    """What a stage holds: the version valid entries put there, and the invalid entries that
    would have decided otherwise (newest first)."""

    stage: str
    version: str | None
    entry: Entry | None
    ignored: list[Entry] = field(default_factory=list)


class Ledger:
    """A repository's ledger as valid entries (use as a context manager: it holds a git
    process open and saves the digest cache on exit)."""

    def __init__(self, repo: Path, index: Index | None = None, remote: str = "origin",
                 now: datetime | None = None,
                 parsed: dict[str, LedgerConfig] | None = None,
                 config_path: str = "mlgate.yaml") -> None:
        self.repo = repo
        self.index = index if index is not None else load_index(repo)
        self.remote = remote
        self.now = now or datetime.now(UTC)
        self.objects = ObjectStore(repo)
        self.cache = DigestCache(repo)
        self._entries: dict[str, Entry] = {}
        self._notes: dict[str, str] | None = None
        self._branch: DefaultBranch | str | None = None
        self._policies: dict[tuple[str, str, str], LedgerConfig | str] = {}
        self._parsed = dict(parsed or {})  # blob id -> its ledger section, already validated
        self.config_path = config_path  # where mlgate.yaml sits on the default branch
        self._anchors: Anchors | None = None
        self._scratch: Path | None = None
        self._ancestor: dict[str, bool] = {}
        self._authors: dict[str, set[str]] = {}
        self._depth = 0

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.objects.close()
        self.cache.save()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    # -- questions decisions ask -----------------------------------------------------------

    def artifact(self, name: str, source: str = "NAME") -> ArtifactIndex:
        return self.index.artifact(name, source)

    def entry(self, tag: str) -> Entry:
        """The judged entry of any ledger tag (InputError for names that are not ledger tags)."""
        parsed = parse_tag(tag)
        ref = self.index.refs.get(tag)
        if parsed is None or ref is None:
            raise InputError("no such ledger tag", tag)
        state = self.index.artifacts[parsed.artifact]
        if parsed.version is not None:
            if parsed.action == "deregister":
                raise InputError("deregistration tags carry no record to verify", tag)
            return self.version(parsed.artifact, parsed.version)
        sref = next(s for s in state.stage_refs if s.ref.name == tag)
        return self.stage_entry(parsed.artifact, sref)

    def version(self, name: str, version: str) -> Entry:
        """The judged version tag ``NAME@version``."""
        ref = self.index.artifact(name).versions.get(version)
        if ref is None:
            raise InputError(f"version {version} of {name!r} is not registered",
                             version_tag(name, version))
        cached = self._entries.get(ref.name)
        if cached is None:
            cached = self._guarded(ref.name, lambda: self._judge_version(name, version, ref))
        return cached

    def stage_entry(self, name: str, sref: StageRef) -> Entry:
        cached = self._entries.get(sref.ref.name)
        if cached is None:
            cached = self._guarded(sref.ref.name, lambda: self._judge_stage(name, sref))
        return cached

    def stage(self, name: str, stage: str) -> StageView:
        """Which version valid entries put in ``stage`` (newest valid decision wins)."""
        state = self.index.artifacts.get(name)
        view = StageView(stage, None, None)
        if state is None:
            return view
        unassigned: set[str] = set()
        for sref in reversed(state.stage_events(stage)):
            entry = self.stage_entry(name, sref)
            if not entry.valid or entry.version is None:
                view.ignored.append(entry)
                continue
            if entry.kind == UNASSIGN:
                unassigned.add(entry.version)
                continue
            if entry.version in unassigned:
                continue
            view.version, view.entry = entry.version, entry
            return view
        return view

    def prefetch(self, names: list[str], per_stage: int = 2) -> None:
        """Read ahead, in one exchange with git, the tag objects ``status`` will look at first:
        each artifact's newest versions and the newest events of each of its stages."""
        oids: list[str] = []
        for name in names:
            state = self.index.artifacts.get(name)
            if state is None:
                continue
            oids += [state.versions[v].oid for v in state.versions_sorted()[-per_stage:]]
            for stage in state.stages():
                oids += [s.ref.oid for s in state.stage_events(stage)[-per_stage:]]
        self.objects.prefetch(oids)

    def latest_version(self, name: str) -> tuple[str | None, list[Entry]]:
        """The highest valid, not deregistered version, and the invalid ones above it."""
        state = self.index.artifacts.get(name)
        ignored: list[Entry] = []
        if state is None:
            return None, ignored
        for version in reversed(state.versions_sorted()):
            if version in state.deregistered:
                continue
            entry = self.version(name, version)
            if entry.valid:
                return version, ignored
            ignored.append(entry)
        return None, ignored

    def active_since(self, name: str, stage: str, version: str,
                     before: int | None = None) -> Entry | None:
        """The valid assignment that put ``version`` in ``stage`` and is still in force just
        before counter ``before`` (None: now); None when it is not there."""
        active: Entry | None = None
        for sref in self._events_of(name, stage, version):
            if before is not None and sref.counter >= before:
                break
            entry = self.stage_entry(name, sref)
            if not entry.valid or entry.version != version:
                continue
            active = None if entry.kind == UNASSIGN else entry
        return active

    def ever_assigned(self, name: str, stage: str, version: str, before: int) -> Entry | None:
        """A valid assignment of ``version`` to ``stage`` with a counter below ``before``."""
        for sref in reversed(self._events_of(name, stage, version)):
            if sref.counter >= before:
                continue
            entry = self.stage_entry(name, sref)
            if entry.valid and entry.version == version and entry.kind in (ASSIGN, ROLLBACK):
                return entry
        return None

    def entries(self, name: str) -> list[Entry]:
        """Every entry of an artifact, judged (versions first, then stage events by counter)."""
        state = self.index.artifact(name)
        out = [self.version(name, v) for v in state.versions_sorted()]
        out += [self.stage_entry(name, s) for s in sorted(state.stage_refs,
                                                          key=lambda s: s.counter)]
        return out

    def authors(self, commit: str) -> set[str]:
        """Author name and e-mail of a commit (who wrote the registered change)."""
        if commit not in self._authors:
            got = self.objects.read(commit)
            idents: set[str] = set()
            if got is not None and got[1] == "commit":
                for line in got[2].split(b"\n"):
                    if not line:
                        break
                    if line.startswith(b"author "):
                        text = line[7:].decode("utf-8", "replace")
                        person = text.rsplit(" ", 2)[0]
                        who, _, mail = person.partition(" <")
                        idents = {x for x in (who.strip(), mail.rstrip(">").strip()) if x}
            self._authors[commit] = idents
        return self._authors[commit]

    def tag_time(self, tag: str) -> int | None:
        """The tagger time of a tag (None when it is not an annotated tag)."""
        obj = self.objects.tag(f"refs/tags/{tag}")
        return obj.time if obj is not None else None

    def policy(self, ref: dict[str, Any]) -> LedgerConfig | str:
        """The recorded policy, loaded from its blob, or why it cannot be used."""
        key = (str(ref.get("path")), str(ref.get("blob")), str(ref.get("commit")))
        if key not in self._policies:
            self._policies[key] = self._load_policy(*key, digest=ref.get("digest"))
        return self._policies[key]

    # -- judging ---------------------------------------------------------------------------

    def _guarded(self, tag: str, judge: Any) -> Entry:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep
            entry: Entry = judge()
        except _TooDeep:
            self._depth -= 1
            if self._depth:
                raise
            parsed = parse_tag(tag)
            entry = Entry(tag, "?", parsed.artifact if parsed else "", None, "")
            entry.fail("history", f"{tag} depends on a chain of more than {MAX_DEPTH} "
                       "entries; refusing to judge it")
            return entry  # not cached: a shallower start may judge it
        self._depth -= 1
        self._entries[tag] = entry
        return entry

    def _tag_and_record(self, entry: Entry, ref: TagRef) -> TagObject | None:
        """Read the tag object and its record into ``entry``; False checks on any problem."""
        if not ref.annotated:
            entry.fail("tag object", f"{ref.name} is a lightweight tag: it carries no record")
            return None
        obj = self.objects.tag(ref.oid)
        if obj is None:
            entry.fail("tag object", f"{ref.name} does not point at a tag object")
            return None
        if obj.target_type != "commit" or obj.target != ref.commit:
            entry.fail("tag object", f"{ref.name} does not tag a commit directly")
            return None
        if obj.name != ref.name:
            entry.fail("tag object", f"the tag object is named {obj.name!r}, but the ref is "
                       f"{ref.name!r} (a tag copied under another name)")
            return None
        entry.tagger_time = obj.time
        entry.raw_tag = obj.raw
        record, problem = read_record(obj.message)
        if problem is not None:
            entry.fail("record", f"{ref.name}: {problem}")
            return None
        if record is None:
            entry.fail("record", f"{ref.name} carries no mlgate record (not written by mlgate)")
            return None
        entry.record = record
        entry.ok("record", "the record matches its schema")
        return obj

    def _record_names_tag(self, entry: Entry, ref: TagRef) -> bool:
        rec = entry.record or {}
        wrong = []
        if rec.get("name") != entry.artifact:
            wrong.append(f"name {rec.get('name')!r}")
        if entry.stage is not None and rec.get("stage") != entry.stage:
            wrong.append(f"stage {rec.get('stage')!r}")
        if entry.counter is not None and rec.get("counter") != entry.counter:
            wrong.append(f"counter {rec.get('counter')!r}")
        if entry.kind == REGISTER and rec.get("version") != entry.version:
            wrong.append(f"version {rec.get('version')!r}")
        ok = entry.check("record names its tag", not wrong, f"the record is {ref.name}'s",
                         f"the record of {ref.name} was written for another tag ("
                         + ", ".join(wrong) + ")")
        moved = entry.check(
            "tagged commit", rec.get("commit") == ref.commit,
            f"{ref.name} points at {ref.commit[:12]}",
            f"{ref.name} points at {ref.commit[:12]}, but its record was written for "
            f"{str(rec.get('commit'))[:12]} (tag moved)", value=ref.commit,
            threshold=rec.get("commit"))
        return ok and moved

    def _times(self, entry: Entry, not_before: datetime | None) -> bool:
        rec = entry.record or {}
        try:
            when = parse_time(str(rec.get("time")))
        except ValueError:
            entry.fail("time", f"unreadable time {rec.get('time')!r}")
            return False
        entry.time = when
        problems = []
        if entry.tagger_time is not None:
            skew = abs(entry.tagger_time - when.timestamp())
            if skew > FUTURE_SLACK_S:
                problems.append(f"the tag is dated {skew:.0f}s away from its record's time")
        if (when - self.now).total_seconds() > FUTURE_SLACK_S:
            problems.append(f"dated in the future ({rec.get('time')})")
        if not_before is not None and (not_before - when).total_seconds() > CLOCK_SLACK_S:
            problems.append(f"dated {rec.get('time')}, before the event it follows "
                            f"({not_before.isoformat()})")
        return entry.check("time", not problems, f"at {rec.get('time')}", "; ".join(problems))

    # versions

    def _judge_version(self, name: str, version: str, ref: TagRef) -> Entry:
        entry = Entry(ref.name, REGISTER, name, version, ref.commit)
        if self._tag_and_record(entry, ref) is None:
            return entry
        rec = entry.record or {}
        if not entry.check("event", rec.get("event") == REGISTER, "a registration",
                           f"a version tag must record a registration, not {rec.get('event')!r}"):
            return entry
        self._record_names_tag(entry, ref)
        self._times(entry, None)
        artifact = rec["artifact"]
        actual = self._blob_sha256(ref.commit, artifact["path"])
        entry.check(
            "artifact digest", actual == artifact["sha256"],
            f"{artifact['path']} at {ref.commit[:12]} is {actual}",
            f"{artifact['path']} at {ref.commit[:12]} is {actual}, but {ref.name} records "
            f"{artifact['sha256']} (tampered or moved tag)", value=actual,
            threshold=artifact["sha256"])
        data = rec.get("data")
        if isinstance(data, dict) and data.get("committed"):
            dsha = self._blob_sha256(ref.commit, data["path"])
            entry.check("data digest", dsha == data["sha256"], f"{data['path']} is {dsha}",
                        f"{data['path']} is {dsha}, but {ref.name} records {data['sha256']}",
                        value=dsha, threshold=data["sha256"])
        note = self._evidence(entry, REGISTER)
        if note is not None:
            self._gate_reports(entry, note, artifact["sha256"], data)
            self._artifact_signature(entry, note, artifact)
        return entry

    def _artifact_signature(self, entry: Entry, note: dict[str, Any],
                            artifact: dict[str, Any]) -> None:
        """When the default branch requires signed artifacts: the signature stored with the
        version's evidence verifies on the artifact's bytes in the registered commit."""
        anchors = self.signing_anchors()
        rules = anchors.artifacts
        if rules is None:
            return
        name = "artifact signature"
        if anchors.problem is not None:
            entry.fail(name, f"artifacts must be signed, and signatures cannot be checked: "
                       f"{anchors.problem}")
            return
        signature = note.get("artifact_signature")
        if signature is None:
            entry.fail(name, f"artifacts must be signed ({rules.method}) and {entry.tag} "
                       "stores no artifact signature with its evidence")
            return
        content = gitio.blob_bytes(self.repo, entry.commit, str(artifact["path"]))
        branch = self._default_branch()
        if content is None or isinstance(branch, str):
            entry.fail(name, "the artifact or the default branch cannot be read")
            return
        from mlgate.signing.errors import SignatureMismatch

        try:
            who = check_artifact(self.repo, branch, rules, anchors.policy, content,
                                 str(artifact["path"]), signature)
        except SignatureMismatch as exc:
            entry.fail(name, f"the artifact signature does not verify ({exc.reason}): "
                       f"{exc.message}")
            return
        except InputError as exc:
            entry.fail(name, f"the artifact signature cannot be checked: {exc.one_line()}")
            return
        entry.ok(name, f"{artifact['path']} signed by {who}", value=who)

    def _gate_reports(self, entry: Entry, note: dict[str, Any], artifact_sha: str,
                      data: Any) -> None:
        recorded: dict[str, Any] = (entry.record or {}).get("gates") or {}
        reports: dict[str, Any] = note.get("reports") or {}
        problems: list[str] = []
        for gate, summary in recorded.items():
            report = reports.get(gate)
            if report is None:
                problems.append(f"{gate}: report missing from the evidence")
            elif "error" in report:
                problems.append(f"{gate}: unreadable report ({report['error']})")
            else:
                if report["digest"] != summary["digest"]:
                    problems.append(f"{gate}: report digest {report['digest']} != recorded "
                                    f"{summary['digest']}")
                if report["status"] != summary["status"]:
                    problems.append(f"{gate}: the tag records {summary['status']} but its "
                                    f"report says {report['status']}")
        entry.check("gate reports", not problems,
                    f"{len(recorded)} gate report(s) match their digests and statuses",
                    "evidence does not match the tag: " + "; ".join(problems),
                    value=sorted(recorded))
        bound = []
        for gate in recorded:
            report = reports.get(gate) or {}
            bound += [f"{gate}: {p}" for p in self._binding(entry.commit, report.get("inputs"),
                                                            gate, artifact_sha, data)]
        entry.check("evidence bound to the artifact", not bound,
                    "every gate judged this artifact and these files",
                    "; ".join(bound))

    def _binding(self, commit: str, inputs: Any, gate: str, artifact_sha: str,
                 data: Any) -> list[str]:
        """Why a gate report's inputs are not this version's (empty when they are)."""
        return binding_problems(inputs, gate, artifact_sha, data,
                                lambda path: self._blob_sha256(commit, path))

    # stage entries

    def _judge_stage(self, name: str, sref: StageRef) -> Entry:
        if sref.unassign:
            pair = self._pair_of(name, sref.stage, sref.counter + 1, unassign=False)
            return self._judge_rollback_pair(name, sref, pair)[0]
        entry = Entry(sref.ref.name, ASSIGN, name, None, sref.ref.commit, sref.stage,
                      sref.counter)
        if self._tag_and_record(entry, sref.ref) is None:
            return entry
        event = (entry.record or {}).get("event")
        if event == ROLLBACK:
            pair = self._pair_of(name, sref.stage, sref.counter - 1, unassign=True)
            return self._judge_rollback_pair(name, pair, sref)[1]
        if not entry.check("event", event == ASSIGN, "an assignment",
                           f"a stage tag records {event!r}, not an assignment"):
            return entry
        if self._own_stage_checks(name, sref, entry):
            self._assignment_rules(name, sref, entry)
        return entry

    def _own_stage_checks(self, name: str, sref: StageRef, entry: Entry) -> bool:
        """Checks of a stage entry that need nothing but itself and its version; True when
        its version and policy are usable, so its rules can be evaluated (and shown) too."""
        rec = entry.record or {}
        entry.version = str(rec.get("version"))
        self._record_names_tag(entry, sref.ref)
        state = self.index.artifacts[name]
        others = [s.ref.name for s in state.by_counter(sref.counter) if s is not sref]
        entry.check("counter", not others, f"counter {sref.counter} is used once",
                    f"counter {sref.counter} is also used by {', '.join(others)}")
        vref = state.versions.get(entry.version)
        if vref is None:
            entry.fail("version", f"{version_tag(name, entry.version)} does not exist")
            return False
        if not entry.check("version", vref.commit == sref.ref.commit,
                           f"{sref.ref.name} is {vref.name}",
                           f"{sref.ref.name} and {vref.name} point at different commits"):
            return False
        version = self.version(name, entry.version)
        if not entry.check("version valid", version.valid, f"{vref.name} is valid",
                           f"{vref.name} is not valid ({version.reason})"):
            return False
        self._times(entry, version.time)
        self._evidence(entry, str(rec.get("event")))
        self._signature(entry)
        policy = self._policy_check(entry)
        if not isinstance(policy, LedgerConfig):
            return False
        return entry.check("stage in policy", sref.stage in policy.stages,
                           f"{sref.stage} is in the recorded policy",
                           f"stage {sref.stage!r} is not in the recorded policy")

    def _assignment_rules(self, name: str, sref: StageRef, entry: Entry) -> None:
        rec = entry.record or {}
        config = self.policy(rec["policy"])
        assert isinstance(config, LedgerConfig)
        rules = config.stages[sref.stage]
        version = self.version(name, str(entry.version))
        vrec = version.record or {}
        entry.check("artifact", rec.get("artifact") == vrec.get("artifact"),
                    "the record names the version's artifact",
                    "the record's artifact differs from the version's")
        previous = None
        if rules.promotes_from is not None:
            previous = self.active_since(name, rules.promotes_from, str(entry.version),
                                         before=sref.counter)
        approvals = [Approval.from_dict(a) for a in rec.get("approvals") or []]
        facts = PromotionFacts(
            version=str(entry.version),
            version_record=vrec,
            artifact_sha256=vrec["artifact"]["sha256"],
            previous_assignment_time=previous.time if previous else None,
            now=entry.time or self.now,
            approvals=approvals,
            authors=self.authors(entry.commit),
            actor=str(rec.get("actor", "")),
            eligible_since=previous.time if previous else version.time,
            subject=promotion_subject(name, str(entry.version), sref.stage),
            consulted=f"the approvals recorded in {entry.tag}",
        )
        for check in evaluate(rules, facts):
            check.name = f"policy: {check.name}"
            entry.checks.append(check)

    def _pair_of(self, name: str, stage: str, counter: int, unassign: bool) -> StageRef | None:
        for sref in self.index.artifacts[name].by_counter(counter):
            if sref.stage == stage and sref.unassign == unassign:
                return sref
        return None

    def _judge_rollback_pair(self, name: str, undo: StageRef | None,
                             redo: StageRef | None) -> tuple[Entry, Entry]:
        """An unassignment and the rollback assignment after it, judged together."""
        first = self._rollback_half(name, undo, UNASSIGN)
        second = self._rollback_half(name, redo, ROLLBACK)
        if undo is None or redo is None:
            missing = (stage_tag(name, redo.stage, redo.counter - 1, unassign=True)
                       if redo is not None else
                       stage_tag(name, undo.stage, undo.counter + 1) if undo is not None
                       else "?")
            for half in (first, second):
                half.fail("rollback pair", f"a rollback writes two tags; {missing} is missing "
                          "or is not the other half")
        elif first.valid and second.valid:
            self._rollback_rules(name, undo, first, redo, second)
        else:
            for half, other in ((first, second), (second, first)):
                if not other.valid:
                    half.fail("rollback pair", f"its other half {other.tag} is not valid "
                              f"({other.reason})")
        for half in (first, second):
            if half.tag != "?":
                self._entries[half.tag] = half
        return first, second

    def _rollback_half(self, name: str, sref: StageRef | None, kind: str) -> Entry:
        if sref is None:
            return Entry("?", kind, name, None, "")
        entry = Entry(sref.ref.name, kind, name, None, sref.ref.commit, sref.stage,
                      sref.counter)
        if self._tag_and_record(entry, sref.ref) is None:
            return entry
        event = (entry.record or {}).get("event")
        if entry.check("event", event == kind, f"a {kind}",
                       f"{sref.ref.name} records {event!r} where a {kind} belongs"):
            self._own_stage_checks(name, sref, entry)
        return entry

    def _rollback_rules(self, name: str, undo: StageRef, first: Entry, redo: StageRef,
                        second: Entry) -> None:
        urec, rrec = first.record or {}, second.record or {}
        stage = redo.stage
        linked = (urec.get("replaced_by") == second.version
                  and rrec.get("rolled_back_from") == first.version)
        for half in (first, second):
            half.check("rollback pair", linked, f"{undo.ref.name} then {redo.ref.name}",
                       f"{undo.ref.name} and {redo.ref.name} do not name each other's versions")
        active = self.active_since(name, stage, str(first.version), before=undo.counter)
        target = self.ever_assigned(name, stage, str(second.version), before=undo.counter)
        for half in (first, second):
            half.check("rolled-back version", active is not None,
                       f"{first.version} was in {stage}",
                       f"{first.version} was not (validly) in {stage} when it was rolled back")
            half.check("rollback target", target is not None,
                       f"{second.version} was validly in {stage} before",
                       f"{second.version} was never validly assigned to {stage}: a rollback "
                       "only returns to a version that was there (promote it instead)")
        config = self.policy(rrec["policy"])
        if isinstance(config, LedgerConfig) and stage in config.stages:
            for half in (first, second):
                check = rollback_check(config.stages[stage], str(half.record and
                                                                 half.record.get("actor")))
                check.name = f"policy: {check.name}"
                half.checks.append(check)

    # evidence, policy, blobs

    def _evidence(self, entry: Entry, event: str) -> dict[str, Any] | None:
        note = self._note(entry.commit)
        rec = entry.record or {}
        if note is None:
            entry.fail("evidence", f"no evidence for {entry.tag} in {NOTES_REF} on "
                       f"{entry.commit[:12]} (fetch it: git fetch {self.remote} "
                       f"{NOTES_REF}:{NOTES_REF})")
            return None
        if "error" in note:
            entry.fail("evidence", f"the evidence note on {entry.commit[:12]} is unreadable "
                       f"({note['error']})")
            return None
        found = note["tags"].get(entry.tag)
        if found is None:
            entry.fail("evidence", f"no evidence for {entry.tag} in {NOTES_REF} on "
                       f"{entry.commit[:12]}")
            return None
        problems = []
        if found["digest"] != rec.get("evidence"):
            problems.append(f"its digest {found['digest']} is not the recorded "
                            f"{rec.get('evidence')} (edited evidence)")
        if found["event"] != event:
            problems.append(f"it describes a {found['event']!r}, not a {event!r}")
        if event == ASSIGN and found.get("approvals") != rec.get("approvals"):
            problems.append("its approvals differ from the tag's")
        entry.check("evidence", not problems, "the evidence note matches the record",
                    f"the evidence of {entry.tag}: " + "; ".join(problems))
        return found

    def signing_anchors(self) -> Anchors:
        """What signatures are checked against: the current default branch's
        ``ledger.signing`` and allowed signers (loaded once)."""
        if self._anchors is None:
            self._anchors = self._load_anchors()
        return self._anchors

    def _load_anchors(self) -> Anchors:
        branch = self._default_branch()
        if isinstance(branch, str):
            return Anchors(None, [], f"cannot read the default branch ({branch})")
        found = read_file(self.repo, branch, self.config_path)
        if found is None:
            return Anchors(None, [])
        label = f"{branch.name}:{self.config_path}"
        config = self._parsed.get(found.blob)
        if config is None:
            try:
                config = policy_from_bytes(found.content, label)
            except InputError as exc:
                return Anchors(None, [], f"the default branch's policy does not load "
                               f"({exc.one_line()})")
            self._parsed[found.blob] = config
        return replace(self._event_anchors(config.signing, branch),
                       artifacts=config.artifact_signing)

    def _event_anchors(self, signing: SigningPolicy | None, branch: DefaultBranch) -> Anchors:
        if signing is not None and signing.method == "sigstore":
            return self._keyless_anchors(signing, branch)
        if signing is None or signing.method != "ssh" or not signing.allowed_signers:
            return Anchors(signing, [])
        listed = read_file(self.repo, branch, signing.allowed_signers)
        where = f"{branch.name}:{signing.allowed_signers}"
        if listed is None:
            return Anchors(signing, [], f"the allowed-signers file {where} is not on the "
                           "default branch")
        try:
            text = listed.content.decode("utf-8")
            return Anchors(signing, parse_allowed_signers(text, where), text=text)
        except (UnicodeDecodeError, ValueError) as exc:
            return Anchors(signing, [], str(exc))

    def _keyless_anchors(self, signing: SigningPolicy, branch: DefaultBranch) -> Anchors:
        try:
            policy = keyless_policy(signing, self.repo)
        except InputError as exc:
            return Anchors(signing, [], exc.one_line())
        root = None
        if signing.trusted_root:
            found = read_file(self.repo, branch, signing.trusted_root)
            if found is None:
                return Anchors(signing, [], f"the trusted root {branch.name}:"
                               f"{signing.trusted_root} is not on the default branch")
            self._scratch = self._scratch or Path(tempfile.mkdtemp(prefix="mlgate-trust-"))
            root = self._scratch / "trusted_root.json"
            root.write_bytes(found.content)
        return Anchors(signing, [], keyless=policy, trusted_root=root)

    def _keyless_signature(self, entry: Entry, anchors: Anchors) -> None:
        """A Sigstore bundle in the evidence note, by the configured workflow, over exactly
        this entry's statement."""
        from mlgate.signing import keyless

        note = self._note(entry.commit) or {}
        found = (note.get("tags") or {}).get(entry.tag) or {}
        bundle = found.get("signature")
        name = "signature"
        if not isinstance(bundle, dict):
            entry.fail(name, f"{entry.stage} entries must be signed by {anchors.keyless.identity}"
                       f" (Sigstore) and {entry.tag} has no signature in {NOTES_REF}")
            return
        try:
            version = self.version(entry.artifact, str(entry.version))
            artifact = (version.record or {}).get("artifact")
            event = keyless.LedgerEvent.from_record(entry.tag, entry.record or {},
                                                    artifact=artifact)
            identity = keyless.verify(bundle, keyless.statement(event), anchors.keyless,
                                      anchors.trusted_root)
        except keyless.SignatureRefused as exc:
            entry.fail(name, f"{entry.stage} entries must be signed by "
                       f"{anchors.keyless.identity}: {exc}")
            return
        except InputError as exc:
            entry.fail(name, f"the signature of {entry.tag} cannot be checked: "
                       f"{exc.one_line()}")
            return
        entry.ok(name, f"signed by {identity} (Sigstore)", value=identity)

    def _signature(self, entry: Entry) -> None:
        """A stage entry the default branch requires signed must carry a valid signature by
        an allowed signer (checked in-process; ``mlgate verify`` also asks git)."""
        anchors = self.signing_anchors()
        policy = anchors.policy
        if policy is None or not policy.required(entry.artifact, entry.stage, entry.counter):
            return
        if anchors.problem is not None:
            entry.fail("signature", f"{entry.stage} entries must be signed, and signatures "
                       f"cannot be checked: {anchors.problem}")
            return
        if policy.method == "sigstore":
            self._keyless_signature(entry, anchors)
            return
        payload, armored = split_signed(entry.raw_tag)
        try:
            signer = verify_sshsig(payload, armored, anchors.signers, entry.time)
        except SignatureProblem as exc:
            entry.fail("signature", f"{entry.stage} entries must be signed by an allowed "
                       f"signer ({policy.allowed_signers} on the default branch): {exc}")
            return
        entry.ok("signature", f"signed by {', '.join(signer.principals)} "
                 f"({signer.fingerprint})", value=signer.fingerprint)

    def _policy_check(self, entry: Entry) -> LedgerConfig | None:
        ref = (entry.record or {}).get("policy")
        if not isinstance(ref, dict):
            entry.fail("policy", "the record names no policy")
            return None
        loaded = self.policy(ref)
        if isinstance(loaded, str):
            entry.fail("policy", loaded)
            return None
        entry.ok("policy", f"judged by {ref['path']} of the default branch at "
                 f"{str(ref['commit'])[:12]}")
        return loaded

    def _load_policy(self, path: str, blob: str, commit: str, digest: Any) -> LedgerConfig | str:
        branch = self._default_branch()
        if isinstance(branch, str):
            return f"cannot check the recorded policy: {branch}"
        found = self.objects.info(f"{commit}:{path}")
        if found is None or found[0] != blob:
            return (f"the recorded policy {path} (blob {blob[:12]}) is not that file at "
                    f"{commit[:12]}, or the commit is missing (fetch the default branch)")
        if commit not in self._ancestor:
            self._ancestor[commit] = on_default_branch(self.repo, branch, commit)
        if not self._ancestor[commit]:
            return (f"the recorded policy comes from {commit[:12]}, which is not on the default "
                    f"branch ({branch.name}); rules from other branches do not count")
        config = self._parsed.get(blob)
        if config is None:
            got = self.objects.read(blob)
            if got is None or got[1] != "blob":
                return f"the recorded policy blob {blob[:12]} is missing"
            try:
                config = policy_from_bytes(got[2], f"{branch.name}:{path}@{commit[:12]}")
            except InputError as exc:
                return f"the recorded policy does not load ({exc.one_line()})"
            self._parsed[blob] = config
        if digest is not None and digest != config.digest:
            return "the recorded policy digest does not match its blob"
        return config

    def _default_branch(self) -> DefaultBranch | str:
        if self._branch is None:
            try:
                self._branch = default_branch(self.repo, self.remote)
            except InputError as exc:
                self._branch = exc.one_line()
        return self._branch

    def _blob_sha256(self, commit: str, path: str) -> str | None:
        """sha256 of ``path`` at ``commit``, None when absent. Cached by ``commit:path`` (a
        commit id fixes its tree, so this names content as surely as a blob id) and by blob
        id (the same model in many commits is hashed once)."""
        spec = f"{commit}:{path}"
        cached = self.cache.get("path", spec)
        if isinstance(cached, str):
            return cached
        found = self.objects.info(spec)
        if found is None or found[1] != "blob":
            return None
        digest = self.cache.get("blob", found[0])
        if not isinstance(digest, str):
            computed = self.objects.sha256(found[0])
            if computed is None:
                return None
            digest = computed[1]
            self.cache.put("blob", found[0], digest)
        self.cache.put("path", spec, digest)
        return digest

    def _note(self, commit: str) -> dict[str, Any] | None:
        oid = self._notes_index().get(commit)
        if oid is None:
            return None
        cached = self.cache.get("note", oid)
        if isinstance(cached, dict):
            return cached
        got = self.objects.read(oid)
        summary = summarize_note(got[2] if got is not None else b"")
        self.cache.put("note", oid, summary)
        return summary

    def _notes_index(self) -> dict[str, str]:
        if self._notes is None:
            self._notes = {}
            if gitio.rev_parse(self.repo, NOTES_REF):
                out = gitio.git(self.repo, "ls-tree", "-r", NOTES_REF)
                for line in out.splitlines():
                    meta, _, path = line.partition("\t")
                    parts = meta.split()
                    if len(parts) == 3 and parts[1] == "blob":
                        self._notes[path.replace("/", "")] = parts[2]
        return self._notes

    def _events_of(self, name: str, stage: str, version: str) -> list[StageRef]:
        state = self.index.artifacts.get(name)
        if state is None or version not in state.versions:
            return []
        commit = state.versions[version].commit
        return [s for s in state.stage_events(stage) if s.ref.commit == commit]


def binding_problems(inputs: Any, gate: str, artifact_sha: str, data: Any,
                     committed_sha: Any) -> list[str]:
    """Why a gate's recorded inputs are not this version's files (empty list: bound).

    * any ``model`` input must be the registered artifact's sha256, and the model gate must
      have one (a report about predictions alone proves nothing about the artifact);
    * the ``ledger.data`` file, when a gate read it, must be the recorded data (for a URI:
      the same sha256, or version id / ETag with ``data_digest: etag``; for a DVC pointer:
      the same md5);
    * any input that is a file of the registered commit must match that blob.
    ``committed_sha(path)`` gives the sha256 of a path in the registered commit (None: absent).
    """
    items = inputs if isinstance(inputs, dict) else {}
    problems: list[str] = []
    model = items.get("model")
    if gate == "model" and not isinstance(model, dict):
        problems.append("the report names no model file (it cannot vouch for the artifact)")
    for role, spec in items.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("sha256"), str):
            continue
        path = spec.get("path")
        if role == "model" and spec["sha256"] != artifact_sha:
            problems.append(f"it judged model {spec['sha256']}, not the artifact {artifact_sha}")
            continue
        if isinstance(data, dict):
            pointer_problem = data_binding(spec, data)
            if pointer_problem is not None:
                problems.append(pointer_problem)
                continue
        if not isinstance(path, str) or path.startswith("/") or ".." in path.split("/"):
            continue
        if isinstance(data, dict) and path == data.get("path") and spec["sha256"] != data.get(
                "sha256"):
            problems.append(f"it read {path} as {spec['sha256']}, but the version records "
                            f"{data.get('sha256')}")
            continue
        committed = committed_sha(path)
        if committed is not None and committed != spec["sha256"]:
            problems.append(f"it read {path} as {spec['sha256']}, but the registered commit "
                            f"holds {committed}")
    return problems


def summarize_note(content: bytes) -> dict[str, Any]:
    """What validation needs from an evidence note, computed from its bytes alone (so it can
    be cached by the note's blob id): per tag the entry's digest and event, the approvals of an
    assignment, and each gate report's recomputed digest, status and inputs."""
    from mlgate.result import GateResult

    try:
        doc = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return {"error": f"not JSON ({str(exc)[:100]})"}
    problem = schema_problem(doc, "ledger-evidence.schema.json")
    if problem is not None:
        return {"error": f"does not match its schema: {problem}"}
    tags: dict[str, Any] = {}
    for tag, item in doc["tags"].items():
        summary: dict[str, Any] = {"event": item["event"], "digest": canonical_digest(item)}
        signature = (doc.get("signatures") or {}).get(tag)
        if isinstance(signature, dict):
            summary["signature"] = signature
        if item["event"] == ASSIGN:
            summary["approvals"] = item.get("approvals")
        if isinstance(item.get("artifact_signature"), dict):
            summary["artifact_signature"] = item["artifact_signature"]
        reports: dict[str, Any] = {}
        for report in item.get("gates") or []:
            gate = str(report.get("gate"))
            try:
                result = GateResult.from_dict(report)
                reports[gate] = {"digest": result.digest(), "status": result.status.value,
                                 "inputs": report.get("inputs") or {}}
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                reports[gate] = {"error": f"{type(exc).__name__}: {str(exc)[:100]}"}
        summary["reports"] = reports
        tags[tag] = summary
    return {"tags": tags}


def open_ledger(repo: Path, remote: str = "origin") -> Ledger:
    """A :class:`Ledger` on ``repo`` (a context manager)."""
    return Ledger(repo, remote=remote)
