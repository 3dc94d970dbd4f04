"""The statement a keyless signature covers: shape, canonical bytes, and refusals."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from mlgate.errors import InputError
from mlgate.ledger.approval import Approval
from mlgate.resources import schema_problem
from mlgate.signing.ledger_statement import (
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    GateDigest,
    LedgerEvent,
    canonical_bytes,
    statement,
)

H = {c: f"sha256:{c * 64}" for c in "abcdef"}
ALICE = Approval(login="alice", state="approved", time="2025-01-07T10:00:00Z",
                 source="github-environment", subject="churn@v0.3.0 to production",
                 comment="ship it", url="https://github.com/octo-org/churn/actions/runs/1")
BOB = Approval(login="bob", state="approved", time="2025-01-07T10:01:00Z",
               source="github-environment", subject="churn@v0.3.0 to production")


def assign() -> LedgerEvent:
    return LedgerEvent(
        tag="churn#production#2", event="assign", name="churn", version="v0.3.0",
        commit="1" * 40, artifact_path="models/candidate.skops", artifact_sha256=H["a"],
        evidence=H["b"], stage="production", approvals=(ALICE, BOB),
        run_url="https://github.com/octo-org/churn/actions/runs/4242", policy_digest=H["e"],
    )


def test_statement_is_in_toto_v1_about_the_artifact() -> None:
    stmt = statement(assign())
    assert stmt["_type"] == STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert stmt["predicateType"] == PREDICATE_TYPE == "https://mlgate.dev/ledger-event/v1"
    assert stmt["subject"] == [{"name": "models/candidate.skops", "digest": {"sha256": "a" * 64}}]
    predicate = stmt["predicate"]
    assert set(predicate) == {"tag", "event", "name", "version", "commit", "stage", "gates",
                              "approvals", "run_url", "policy_digest", "evidence", "reason",
                              "rolled_back_from", "replaced_by"}
    assert predicate["approvals"][0] == {
        "login": "alice", "state": "approved", "source": "github-environment",
        "time": "2025-01-07T10:00:00Z", "subject": "churn@v0.3.0 to production"}
    assert predicate["reason"] is None and predicate["evidence"] == H["b"]


def test_same_event_same_bytes_whatever_the_order_of_approvals_and_gates() -> None:
    first = replace(assign(), gates={"model": GateDigest("pass", H["c"]),
                                     "data": GateDigest("pass", H["d"])})
    second = replace(first, approvals=(BOB, ALICE),
                     gates={"data": GateDigest("pass", H["d"]),
                            "model": GateDigest("pass", H["c"])})
    assert canonical_bytes(statement(first)) == canonical_bytes(statement(second))
    encoded = canonical_bytes(statement(first))
    assert encoded == json.dumps(json.loads(encoded), sort_keys=True,
                                 separators=(",", ":")).encode()


def test_every_signed_fact_changes_the_bytes() -> None:
    base = canonical_bytes(statement(assign()))
    for change in ({"artifact_sha256": H["f"]}, {"approvals": (ALICE,)}, {"evidence": H["c"]},
                   {"policy_digest": H["d"]}, {"commit": "2" * 40}, {"stage": "staging"},
                   {"run_url": ""}, {"artifact_path": "models/other.skops"}):
        assert canonical_bytes(statement(replace(assign(), **change))) != base, change


def test_comment_text_is_not_signed() -> None:
    """Comments and URLs decide nothing, so editing them must not break a valid signature."""
    edited = replace(assign(), approvals=(replace(ALICE, comment="edited", url=""), BOB))
    assert canonical_bytes(statement(edited)) == canonical_bytes(statement(assign()))


def test_from_record_reads_a_schema_valid_tag_record() -> None:
    record: dict[str, Any] = {
        "format": "mlgate.ledger/v1", "event": "assign", "name": "churn", "version": "v0.3.0",
        "commit": "1" * 40, "actor": "release-bot", "time": "2025-01-07T10:02:12Z",
        "evidence": H["b"], "stage": "production", "counter": 2,
        "artifact": {"path": "models/candidate.skops", "sha256": H["a"], "size": 10},
        "approvals": [ALICE.to_dict(), BOB.to_dict()],
        "policy": {"path": "mlgate.yaml", "blob": "3" * 40, "commit": "4" * 40,
                   "digest": H["e"]},
        "run_url": "https://github.com/octo-org/churn/actions/runs/4242",
    }
    assert schema_problem(record, "ledger-record.schema.json") is None
    event = LedgerEvent.from_record("churn#production#2", record)
    assert statement(event) == statement(assign())


def test_rollback_record_without_artifact_takes_the_versions() -> None:
    record = {"event": "rollback", "name": "churn", "version": "v0.2.0", "commit": "1" * 40,
              "evidence": H["b"], "stage": "production", "reason": "latency regression",
              "rolled_back_from": "v0.3.0", "policy": {"digest": H["e"]}}
    with pytest.raises(InputError, match="names no artifact"):
        LedgerEvent.from_record("churn#production#4", record)
    event = LedgerEvent.from_record("churn#production#4", record,
                                    artifact={"path": "models/candidate.skops",
                                              "sha256": H["c"]})
    predicate = statement(event)["predicate"]
    assert predicate["reason"] == "latency regression"
    assert predicate["rolled_back_from"] == "v0.3.0"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"artifact_sha256": "a" * 64}, "artifact_sha256"),
        ({"evidence": "sha256:XYZ"}, "evidence"),
        ({"event": "delete"}, "event must be one of"),
        ({"stage": None}, "needs its stage"),
        ({"commit": "HEAD"}, "commit"),
        ({"gates": {"model": GateDigest("pass", "md5:1")}}, "gates.model.digest"),
        ({"policy_digest": "latest"}, "policy_digest"),
        ({"artifact_path": " "}, "artifact_path is empty"),
    ],
)
def test_events_no_valid_record_could_give_are_refused(change: dict[str, Any], named: str) -> None:
    with pytest.raises(InputError, match=named) as info:
        statement(replace(assign(), **change))
    assert info.value.source == "churn#production#2"


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"_type": STATEMENT_TYPE, "predicateType": "https://slsa.dev/provenance/v1",
         "subject": [{"name": "x", "digest": {"sha256": "a" * 64}}], "predicate": {}},
        {"_type": STATEMENT_TYPE, "predicateType": PREDICATE_TYPE,
         "subject": [{"name": "x", "digest": {"sha512": "a" * 128}}], "predicate": {}},
        {"_type": STATEMENT_TYPE, "predicateType": PREDICATE_TYPE,
         "subject": [{"name": "x", "digest": {"sha256": "a" * 64}}], "predicate": {"x": 1.5e400}},
    ],
    ids=["not-a-mapping", "other-predicate", "no-sha256", "not-plain-json"],
)
def test_canonical_bytes_refuses_other_documents(document: Any) -> None:
    with pytest.raises(InputError) as info:
        canonical_bytes(document)
    assert info.value.source == "statement"
