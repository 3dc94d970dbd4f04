"""The in-toto statement a keyless signature covers: one ledger event, canonically encoded.

What is signed must be re-derivable from the ledger alone, so that a reader can rebuild the
statement from a tag's record and compare it byte for byte with the signed payload. Hence a
fixed shape (every predicate key always present, ``null`` when it does not apply), sorted
approvals, and one encoding: sorted keys, no spaces, ASCII only, no floats. The same event
always gives the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.errors import InputError
from mlgate.ledger.approval import Approval

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://mlgate.dev/ledger-event/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"  # the DSSE payload type of in-toto statements

EVENTS = ("register", "assign", "unassign", "rollback")
_SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")
_OID = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_SOURCE = "ledger event"


@dataclass(frozen=True)
class GateDigest:
    """One gate's verdict as a tag records it: its status and the digest of its full report
    (``GateResult.digest()``), which the evidence note holds."""

    status: str
    digest: str


@dataclass(frozen=True)
class LedgerEvent:
    """One ledger write, as the tag record describes it; the input of :func:`statement`.

    * ``tag``: the tag written (``NAME@vX.Y.Z``, ``NAME#STAGE#N``, ``NAME#STAGE!#N``).
    * ``event``: ``register``, ``assign``, ``unassign`` or ``rollback``.
    * ``name``, ``version``: the artifact and the version the event is about.
    * ``commit``: the commit the tag points at (the registered commit).
    * ``artifact_path``, ``artifact_sha256``: the artifact file in that commit and its digest
      (``sha256:<hex>`` as in the record); the statement's subject.
    * ``evidence``: the record's ``evidence`` digest, the sha256 of the event's entry in
      ``refs/notes/mlgate``; it binds the full gate reports and approval checks.
    * ``stage``: the stage (None for ``register``, required otherwise).
    * ``gates``: gate name to status and report digest (register).
    * ``approvals``: the approvals recorded for a promotion; login, state, source, time and
      subject are signed (comment text and URLs are not: they decide nothing).
    * ``run_url``: the Actions run that wrote the event ("" outside Actions).
    * ``policy_digest``: the digest of the default branch's stage policy that judged it.
    * ``reason``, ``rolled_back_from``, ``replaced_by``: rollback and unassignment details.
    """

    tag: str
    event: str
    name: str
    version: str
    commit: str
    artifact_path: str
    artifact_sha256: str
    evidence: str
    stage: str | None = None
    gates: Mapping[str, GateDigest] = field(default_factory=dict)
    approvals: tuple[Approval, ...] = ()
    run_url: str = ""
    policy_digest: str | None = None
    reason: str | None = None
    rolled_back_from: str | None = None
    replaced_by: str | None = None

    @classmethod
    def from_record(
        cls, tag: str, record: Mapping[str, Any], *, artifact: Mapping[str, Any] | None = None
    ) -> LedgerEvent:
        """The event a (schema-valid) tag record describes.

        ``artifact`` ({"path", "sha256"}) stands in when the record has none, as rollback and
        unassignment records may not: pass the version's artifact from its version tag.
        """
        art = record.get("artifact") or artifact
        if not isinstance(art, Mapping):
            raise InputError("the record names no artifact to sign; pass the version's", tag)
        gates = record.get("gates") or {}
        policy = record.get("policy") or {}
        try:
            return cls(
                tag=tag,
                event=str(record["event"]),
                name=str(record["name"]),
                version=str(record["version"]),
                commit=str(record["commit"]),
                artifact_path=str(art["path"]),
                artifact_sha256=str(art["sha256"]),
                evidence=str(record["evidence"]),
                stage=record.get("stage"),
                gates={str(g): GateDigest(str(v["status"]), str(v["digest"]))
                       for g, v in gates.items()},
                approvals=tuple(Approval.from_dict(a) for a in record.get("approvals") or ()),
                run_url=str(record.get("run_url") or ""),
                policy_digest=policy.get("digest") if isinstance(policy, Mapping) else None,
                reason=record.get("reason"),
                rolled_back_from=record.get("rolled_back_from"),
                replaced_by=record.get("replaced_by"),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"the record cannot be signed: missing or wrong {exc}", tag) from exc


def statement(event: LedgerEvent) -> dict[str, Any]:
    """The in-toto Statement v1 for ``event`` (subject: the artifact and its sha256)."""
    _check(event)
    approvals = sorted(
        ({"login": a.login, "state": a.state, "source": a.source, "time": a.time,
          "subject": a.subject} for a in event.approvals),
        key=lambda a: (a["time"], a["login"], a["state"], a["source"], a["subject"]),
    )
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": event.artifact_path,
                     "digest": {"sha256": event.artifact_sha256.removeprefix("sha256:")}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "tag": event.tag,
            "event": event.event,
            "name": event.name,
            "version": event.version,
            "commit": event.commit,
            "stage": event.stage,
            "gates": {name: {"status": g.status, "digest": g.digest}
                      for name, g in sorted(event.gates.items())},
            "approvals": approvals,
            "run_url": event.run_url,
            "policy_digest": event.policy_digest,
            "evidence": event.evidence,
            "reason": event.reason,
            "rolled_back_from": event.rolled_back_from,
            "replaced_by": event.replaced_by,
        },
    }


def canonical_bytes(stmt: Mapping[str, Any]) -> bytes:
    """The one encoding of a statement that is signed and compared.

    Refuses (InputError) anything that is not an mlgate ledger statement, so neither signing
    nor verification ever works on some other document by mistake.
    """
    if (
        not isinstance(stmt, Mapping)
        or stmt.get("_type") != STATEMENT_TYPE
        or stmt.get("predicateType") != PREDICATE_TYPE
        or not isinstance(stmt.get("predicate"), Mapping)
        or not _one_sha256_subject(stmt.get("subject"))
    ):
        raise InputError(
            f"not an mlgate ledger statement (in-toto {STATEMENT_TYPE}, predicate type "
            f"{PREDICATE_TYPE}, one subject with a sha256 digest)", "statement")
    try:
        text = json.dumps(stmt, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                          allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InputError(f"the statement is not plain JSON ({exc})", "statement") from exc
    return text.encode("ascii")


def _one_sha256_subject(subject: Any) -> bool:
    if not isinstance(subject, list) or len(subject) != 1 or not isinstance(subject[0], Mapping):
        return False
    digest = subject[0].get("digest")
    if not isinstance(digest, Mapping):
        return False
    return _SHA256.match(f"sha256:{digest.get('sha256')}") is not None


def _check(event: LedgerEvent) -> None:
    """Refuse events that could not have come from a valid record, before anything is signed."""
    problems: list[str] = []
    if event.event not in EVENTS:
        problems.append(f"event must be one of {', '.join(EVENTS)}, not {event.event!r}")
    for label, value in (("tag", event.tag), ("name", event.name), ("version", event.version),
                         ("artifact_path", event.artifact_path)):
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{label} is empty")
    if not _OID.match(str(event.commit)):
        problems.append(f"commit {event.commit!r} is not a full object id")
    for label, value in (("artifact_sha256", event.artifact_sha256), ("evidence", event.evidence),
                         *((f"gates.{g}.digest", d.digest) for g, d in event.gates.items())):
        if not _SHA256.match(str(value)):
            problems.append(f"{label} {value!r} is not sha256:<64 hex>")
    if event.policy_digest is not None and not _SHA256.match(str(event.policy_digest)):
        problems.append(f"policy_digest {event.policy_digest!r} is not sha256:<64 hex>")
    if event.event != "register" and not event.stage:
        problems.append(f"a {event.event} event needs its stage")
    for approval in event.approvals:
        if not isinstance(approval, Approval):
            problems.append("approvals must be mlgate.ledger.approval.Approval records")
            break
    if problems:
        raise InputError("; ".join(problems), event.tag or _SOURCE)
