"""Keyless signing and verification of ledger events, end to end and offline.

The real ``sigstore`` client signs (Fulcio certificate for an OIDC token, DSSE envelope, Rekor
entry) and verifies (chain, SCT, identity, inclusion proof, checkpoint, SET, signature, entry
consistency) against a private Sigstore instance on 127.0.0.1 whose trusted_root.json is the
only thing verification trusts (tests/support/sigstore_local.py). Nothing of the library is
mocked.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mlgate.errors import InputError
from mlgate.ledger.approval import Approval
from mlgate.signing import keyless
from mlgate.signing.keyless import (
    BundleUnreadable,
    GateDigest,
    KeylessPolicy,
    LedgerEvent,
    SignatureRefused,
)
from tests.signing.conftest import ServedSigstore
from tests.support.sigstore_local import LocalSigstore, github_claims

POLICY = KeylessPolicy(workflow=".github/workflows/ml-release.yml", ref="refs/heads/main",
                       repository="octo-org/churn")
IDENTITY = "https://github.com/octo-org/churn/.github/workflows/ml-release.yml@refs/heads/main"
H = {c: f"sha256:{c * 64}" for c in "abcdef0123"}


def promotion() -> LedgerEvent:
    return LedgerEvent(
        tag="churn#production#2",
        event="assign",
        name="churn",
        version="v0.3.0",
        commit="1" * 40,
        artifact_path="models/candidate.skops",
        artifact_sha256=H["a"],
        evidence=H["b"],
        stage="production",
        gates={"model": GateDigest("pass", H["c"]), "data": GateDigest("pass", H["d"])},
        approvals=(Approval(login="alice", state="approved", time="2025-01-07T10:00:00Z",
                            source="github-environment",
                            subject="churn@v0.3.0 to production"),),
        run_url="https://github.com/octo-org/churn/actions/runs/4242",
        policy_digest=H["e"],
    )


def sign(served: ServedSigstore, stmt: dict[str, Any], **claims: Any) -> dict[str, Any]:
    token = served.instance.token(github_claims(**claims))
    return keyless.sign(stmt, token, trust_config=served.trust_config)


@pytest.fixture(scope="module")
def signed(local_sigstore: ServedSigstore) -> tuple[dict[str, Any], dict[str, Any]]:
    """(statement, bundle) for the promotion, signed by the release workflow on main."""
    stmt = keyless.statement(promotion())
    return stmt, sign(local_sigstore, stmt)


# --- what verifies --------------------------------------------------------------------------


def test_bundle_of_the_release_workflow_verifies_offline(
    local_sigstore: ServedSigstore, signed: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    stmt, bundle = signed
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    assert entry["kindVersion"] == {"kind": "dsse", "version": "0.0.1"}
    assert "inclusionPromise" in entry and "checkpoint" in entry["inclusionProof"]
    payload = base64.b64decode(bundle["dsseEnvelope"]["payload"])
    assert payload == keyless.canonical_bytes(stmt)

    assert keyless.verify(bundle, stmt, POLICY, local_sigstore.trusted_root) == IDENTITY


def test_bundle_survives_the_json_round_trip_through_a_git_note(
    local_sigstore: ServedSigstore, signed: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    stmt, bundle = signed
    stored = json.loads(json.dumps({"signature": bundle}, indent=1, sort_keys=True))
    assert keyless.verify(stored["signature"], stmt, POLICY, local_sigstore.trusted_root)


def test_one_of_many_log_entries_verifies(local_sigstore: ServedSigstore) -> None:
    """Inclusion proofs with real audit paths: the log holds several entries by now."""
    stmts = [keyless.statement(replace(promotion(), tag=f"churn#production#{n}"))
             for n in range(3, 7)]
    bundles = [sign(local_sigstore, s) for s in stmts]
    proof = bundles[-1]["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    assert int(proof["treeSize"]) >= 5 and proof["hashes"]
    for stmt, bundle in zip(stmts, bundles, strict=True):
        assert keyless.verify(bundle, stmt, POLICY, local_sigstore.trusted_root) == IDENTITY


def test_signing_uses_the_jobs_own_oidc_credential(
    local_sigstore: ServedSigstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No token passed: the one GitHub gives a job with id-token: write (request URL + token)."""
    for name, value in local_sigstore.instance.actions_env().items():
        monkeypatch.setenv(name, value)
    stmt = keyless.statement(promotion())
    bundle = keyless.sign(stmt, trust_config=local_sigstore.trust_config)
    assert keyless.verify(bundle, stmt, POLICY, local_sigstore.trusted_root) == IDENTITY


# --- identity refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "named"),
    [
        (replace(POLICY, workflow=".github/workflows/other.yml"), "other.yml"),
        (replace(POLICY, ref="refs/heads/release"), "refs/heads/release"),
        (replace(POLICY, repository="octo-org/other"), "octo-org/other"),
        (replace(POLICY, issuer="https://token.actions.example.com"), "OIDC issuer"),
    ],
    ids=["workflow", "ref", "repository", "issuer"],
)
def test_policy_for_another_identity_refuses(
    local_sigstore: ServedSigstore, signed: tuple[dict[str, Any], dict[str, Any]],
    policy: KeylessPolicy, named: str,
) -> None:
    stmt, bundle = signed
    with pytest.raises(SignatureRefused, match="not signed by the release workflow") as info:
        keyless.verify(bundle, stmt, policy, local_sigstore.trusted_root)
    assert named in info.value.reason


@pytest.mark.parametrize(
    ("claims", "named"),
    [
        ({"workflow": ".github/workflows/pr.yml"}, "pr.yml"),
        ({"ref": "refs/heads/feature"}, "refs/heads/feature"),
        ({"repository": "mallory/churn"}, "mallory/churn"),
        ({"issuer": "https://token.actions.example.com"}, "OIDC issuer"),
        # Another repository calling our workflow as a reusable workflow: the SAN is ours,
        # the run is theirs.
        ({"repository": "mallory/fork",
          "job_workflow_ref": "octo-org/churn/.github/workflows/ml-release.yml@refs/heads/main"},
         "source repository"),
    ],
    ids=["workflow", "ref", "repository", "issuer", "reusable-workflow-from-elsewhere"],
)
def test_signature_by_another_identity_refuses(
    local_sigstore: ServedSigstore, claims: dict[str, Any], named: str
) -> None:
    stmt = keyless.statement(promotion())
    bundle = sign(local_sigstore, stmt, **claims)
    with pytest.raises(SignatureRefused, match="not signed by the release workflow") as info:
        keyless.verify(bundle, stmt, POLICY, local_sigstore.trusted_root)
    assert named in info.value.reason


# --- a reusable workflow of another repository --------------------------------------------

REUSABLE = replace(POLICY, workflow_repository="mlgate/mlgate", workflow_ref="refs/tags/v1")
REUSABLE_SAN = "mlgate/mlgate/.github/workflows/ml-release.yml@refs/tags/v1"


def test_reusable_workflow_policy_pins_the_calling_run(local_sigstore: ServedSigstore) -> None:
    """The SAN names the reusable workflow at its ref; source repository and ref are the
    caller's run, so the same workflow called from another repository or ref is refused."""
    stmt = keyless.statement(promotion())
    bundle = sign(local_sigstore, stmt, job_workflow_ref=REUSABLE_SAN)
    assert keyless.verify(bundle, stmt, REUSABLE, local_sigstore.trusted_root) == (
        f"https://github.com/{REUSABLE_SAN}")
    with pytest.raises(SignatureRefused, match="not signed by the release workflow"):
        keyless.verify(bundle, stmt, POLICY, local_sigstore.trusted_root)
    for claims, named in (({"ref": "refs/heads/feature"}, "source ref"),
                          ({"repository": "mallory/churn"}, "source repository")):
        other = sign(local_sigstore, stmt, job_workflow_ref=REUSABLE_SAN, **claims)
        with pytest.raises(SignatureRefused, match=named):
            keyless.verify(other, stmt, REUSABLE, local_sigstore.trusted_root)


# --- with the policy, a token for another identity is refused before signing ----------------


@pytest.mark.parametrize(
    ("policy", "claims", "named"),
    [
        (POLICY, {"workflow": ".github/workflows/pr.yml"}, "would sign as https://github.com/"
         "octo-org/churn/.github/workflows/pr.yml@refs/heads/main"),
        (POLICY, {"ref": "refs/heads/feature"}, "would sign as"),
        (POLICY, {"repository": "mallory/churn"}, "would sign as"),
        (POLICY, {"issuer": "https://token.actions.example.com"}, "the OIDC token is from"),
        (POLICY, {"repository": "mallory/fork", "job_workflow_ref":
                  "octo-org/churn/.github/workflows/ml-release.yml@refs/heads/main"},
         "repository mallory/fork"),
        (REUSABLE, {"ref": "refs/heads/feature", "job_workflow_ref": REUSABLE_SAN},
         "this run is on refs/heads/feature"),
    ],
    ids=["workflow", "ref", "repository", "issuer", "reusable-workflow-from-elsewhere",
         "reusable-workflow-from-another-ref"],
)
def test_signing_with_the_policy_refuses_a_token_for_another_identity(
    local_sigstore: ServedSigstore, policy: KeylessPolicy, claims: dict[str, Any], named: str,
) -> None:
    token = local_sigstore.instance.token(github_claims(**claims))
    with pytest.raises(InputError, match=named) as info:
        keyless.sign(keyless.statement(promotion()), token,
                     trust_config=local_sigstore.trust_config, policy=policy)
    assert info.value.source == "sigstore"


def test_signing_with_the_policy_signs_what_verify_accepts(local_sigstore: ServedSigstore) -> None:
    stmt = keyless.statement(promotion())
    token = local_sigstore.instance.token(github_claims())
    bundle = keyless.sign(stmt, token, trust_config=local_sigstore.trust_config, policy=POLICY)
    assert keyless.verify(bundle, stmt, POLICY, local_sigstore.trusted_root) == IDENTITY


# --- the statement must be the recorded event -----------------------------------------------


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"artifact_sha256": H["f"]}, "subject"),
        ({"approvals": (Approval(login="mallory", state="approved", time="2025-01-07T10:00:00Z",
                                 source="github-environment",
                                 subject="churn@v0.3.0 to production"),)},
         "predicate.approvals"),
        ({"evidence": H["0"]}, "predicate.evidence"),
        ({"tag": "churn#production#9"}, "predicate.tag"),
    ],
    ids=["artifact-digest", "approver", "evidence", "tag"],
)
def test_bundle_for_another_event_refuses(
    local_sigstore: ServedSigstore, signed: tuple[dict[str, Any], dict[str, Any]],
    change: dict[str, Any], named: str,
) -> None:
    _, bundle = signed
    recorded = keyless.statement(replace(promotion(), **change))
    with pytest.raises(SignatureRefused, match="not this event") as info:
        keyless.verify(bundle, recorded, POLICY, local_sigstore.trusted_root)
    assert named in info.value.reason


# --- tampering with what the bundle carries -------------------------------------------------


def _other_payload(bundle: dict[str, Any]) -> None:
    other = keyless.statement(replace(promotion(), artifact_sha256=H["f"]))
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(keyless.canonical_bytes(other)).decode()


def _entry(bundle: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = bundle["verificationMaterial"]["tlogEntries"][0]
    return entry


def _flip_b64(text: str, at: int = 10) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[at] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _forge_checkpoint(bundle: dict[str, Any]) -> None:
    proof = _entry(bundle)["inclusionProof"]
    note, _, signature = proof["checkpoint"]["envelope"].partition("\n\n")
    name, _, sig = signature.strip().rpartition(" ")
    proof["checkpoint"]["envelope"] = f"{note}\n\n{name} {_flip_b64(sig, at=12)}\n"


# name: (change, the verification step that must catch it)
TAMPERING = {
    "payload-swapped": (_other_payload, "DSSE: invalid signature"),
    "signature-flipped": (lambda b: b["dsseEnvelope"]["signatures"][0].update(
        sig=_flip_b64(b["dsseEnvelope"]["signatures"][0]["sig"])), "DSSE: invalid signature"),
    # The library decodes base64 leniently: altered-but-parsable fields are refusals too.
    "payload-not-base64": (lambda b: b["dsseEnvelope"].update(payload="%%%"),
                           "DSSE: invalid signature"),
    "second-signature": (lambda b: b["dsseEnvelope"]["signatures"].append(
        b["dsseEnvelope"]["signatures"][0]), "exactly one signature"),
    "inclusion-proof-root": (lambda b: _entry(b)["inclusionProof"].update(
        rootHash=_flip_b64(_entry(b)["inclusionProof"]["rootHash"])), "inclusion proof"),
    "checkpoint-signature": (_forge_checkpoint, "checkpoint: invalid signature"),
    "signed-entry-timestamp": (lambda b: _entry(b)["inclusionPromise"].update(
        signedEntryTimestamp=_flip_b64(_entry(b)["inclusionPromise"]["signedEntryTimestamp"])),
        "SET: invalid"),
    "integrated-time": (lambda b: _entry(b).update(
        integratedTime=str(int(_entry(b)["integratedTime"]) + 60)), "SET: invalid"),
}


@pytest.mark.parametrize("tamper", list(TAMPERING), ids=list(TAMPERING))
def test_tampered_bundle_refuses(
    local_sigstore: ServedSigstore, signed: tuple[dict[str, Any], dict[str, Any]], tamper: str
) -> None:
    stmt, bundle = signed
    forged = copy.deepcopy(bundle)
    change, caught_by = TAMPERING[tamper]
    change(forged)
    assert forged != bundle
    with pytest.raises(SignatureRefused, match="does not verify") as info:
        keyless.verify(forged, stmt, POLICY, local_sigstore.trusted_root)
    assert caught_by in info.value.reason


def test_log_entry_of_another_signature_refuses(
    local_sigstore: ServedSigstore, signed: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """A genuine, proven entry, but for another envelope (CVE-2022-36056-style mix-up)."""
    stmt, bundle = signed
    other = sign(local_sigstore, keyless.statement(replace(promotion(), tag="churn#staging#1")))
    forged = copy.deepcopy(bundle)
    forged["verificationMaterial"]["tlogEntries"] = other["verificationMaterial"]["tlogEntries"]
    with pytest.raises(SignatureRefused, match="does not verify"):
        keyless.verify(forged, stmt, POLICY, local_sigstore.trusted_root)


def test_certificate_from_an_untrusted_instance_refuses(
    local_sigstore: ServedSigstore, tmp_path: Path
) -> None:
    """Same claims, same protocol, but a CA and logs the trusted root does not list."""
    stmt = keyless.statement(promotion())
    with LocalSigstore().serve() as rogue:
        config = tmp_path / "rogue.json"
        config.write_text(json.dumps(rogue.client_trust_config()), encoding="utf-8")
        bundle = keyless.sign(stmt, rogue.token(), trust_config=config)
    with pytest.raises(SignatureRefused, match="does not verify"):
        keyless.verify(bundle, stmt, POLICY, local_sigstore.trusted_root)


# --- unreadable input -----------------------------------------------------------------------


def _bad_certificate(b: dict[str, Any]) -> None:
    b["verificationMaterial"]["certificate"]["rawBytes"] = base64.b64encode(b"not DER").decode()


CORRUPTIONS = {
    "not-an-object": lambda b: ["a", "list"],
    "empty": lambda b: {},
    "unknown-media-type": lambda b: {**b, "mediaType": "application/json"},
    "no-verification-material": lambda b: {k: v for k, v in b.items()
                                           if k != "verificationMaterial"},
    "no-log-entry": lambda b: {**b, "verificationMaterial": {
        **b["verificationMaterial"], "tlogEntries": []}},
    "certificate-not-der": lambda b: (_bad_certificate(b), b)[1],
    "payload-wrong-type": lambda b: (b["dsseEnvelope"].update(payload=12345), b)[1],
    "too-large": lambda b: {**b, "padding": "x" * (keyless.MAX_BUNDLE_BYTES + 1)},
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS), ids=list(CORRUPTIONS))
def test_corrupted_bundle_is_input_error(
    local_sigstore: ServedSigstore, signed: tuple[dict[str, Any], dict[str, Any]], corrupt: str
) -> None:
    stmt, bundle = signed
    broken = CORRUPTIONS[corrupt](copy.deepcopy(bundle))
    with pytest.raises(BundleUnreadable) as info:
        keyless.verify(broken, stmt, POLICY, local_sigstore.trusted_root)
    assert isinstance(info.value, InputError)
    assert info.value.source == "bundle"
    assert "\n" not in info.value.one_line()


def test_unusable_trusted_root_is_input_error(
    signed: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    stmt, bundle = signed
    missing = tmp_path / "nowhere.json"
    with pytest.raises(InputError) as info:
        keyless.verify(bundle, stmt, POLICY, missing)
    assert info.value.source == str(missing)
    garbage = tmp_path / "trusted_root.json"
    garbage.write_text('{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}')
    with pytest.raises(InputError, match="not a usable Sigstore trusted root"):
        keyless.verify(bundle, stmt, POLICY, garbage)


def test_default_trust_root_is_public_good_and_never_trusts_a_private_instance(
    signed: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a trusted_root file, sigstore's TUF client fetches the public-good root: here
    (no network) that is an InputError saying so; with network the private bundle is refused."""
    for name in ("HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name))
    stmt, bundle = signed
    with pytest.raises((InputError, SignatureRefused)) as info:
        keyless.verify(bundle, stmt, POLICY)
    if isinstance(info.value, InputError):
        assert "needs network" in info.value.message


def test_verify_refuses_a_document_that_is_not_a_ledger_statement(
    local_sigstore: ServedSigstore, signed: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    stmt, bundle = signed
    slsa = {**stmt, "predicateType": "https://slsa.dev/provenance/v1"}
    with pytest.raises(InputError, match="not an mlgate ledger statement"):
        keyless.verify(bundle, slsa, POLICY, local_sigstore.trusted_root)


# --- signing without an identity ------------------------------------------------------------

RUNNER_OIDC = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")


@pytest.mark.parametrize("in_actions", [False, True], ids=["outside-actions", "no-permission"])
def test_signing_without_oidc_credential_names_the_permission(
    monkeypatch: pytest.MonkeyPatch, in_actions: bool
) -> None:
    for name in RUNNER_OIDC:
        monkeypatch.delenv(name, raising=False)
    if in_actions:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
    else:
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    with pytest.raises(InputError, match="id-token: write") as info:
        keyless.sign(keyless.statement(promotion()))
    assert info.value.source == "ACTIONS_ID_TOKEN_REQUEST_URL"


def test_github_refusing_the_token_request_names_the_permission(
    local_sigstore: ServedSigstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = local_sigstore.instance.actions_env(oidc_bearer="a-stale-request-token")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(InputError, match="id-token: write"):
        keyless.sign(keyless.statement(promotion()), trust_config=local_sigstore.trust_config)


def test_token_the_ca_does_not_accept_is_input_error(local_sigstore: ServedSigstore) -> None:
    """A well-formed token signed by an issuer the CA does not trust: Fulcio refuses."""
    stranger = LocalSigstore()  # its own OIDC key
    with pytest.raises(InputError, match="Sigstore signing failed") as info:
        keyless.sign(keyless.statement(promotion()), stranger.token(),
                     trust_config=local_sigstore.trust_config)
    assert info.value.source == "sigstore"


def test_malformed_identity_token_is_input_error(local_sigstore: ServedSigstore) -> None:
    with pytest.raises(InputError, match="identity token"):
        keyless.sign(keyless.statement(promotion()), "not.a.jwt",
                     trust_config=local_sigstore.trust_config)
