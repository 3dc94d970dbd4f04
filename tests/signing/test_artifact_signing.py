"""Signing and verifying a real skops model with real EC keys and the real model-signing library.

No mocks: every key is generated here (cryptography, ssh-keygen), the model is the example
churn model trained and saved with skops, and both directions run model-signing end to end.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from mlgate.errors import InputError
from mlgate.signing.artifact import (
    KeyMethod,
    SignatureMismatch,
    SigstoreMethod,
    sign_artifact,
    verify_artifact,
)
from tests.signing.conftest import FIXTURES, KeyPair, write_ec_keypair

NOTE = "refs/notes/mlgate:churn@v0.3.0"  # where the ledger will say a signature came from


def _statement(signature: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(signature["dsseEnvelope"]["payload"]))


def _with_statement(signature: dict[str, Any], statement: dict[str, Any]) -> dict[str, Any]:
    edited = copy.deepcopy(signature)
    payload = json.dumps(statement, indent=2).encode()
    edited["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
    return edited


def _stored(signature: dict[str, Any]) -> dict[str, Any]:
    """What the ledger reads back: the document after a round trip through JSON text."""
    return json.loads(json.dumps(signature, sort_keys=True))


# --- the happy path -------------------------------------------------------------------------


def test_a_signed_skops_model_verifies_with_the_matching_public_key(
    model: Path, keypair: KeyPair
) -> None:
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))

    who = verify_artifact(model, _stored(signature), KeyMethod(public_key=keypair.public))

    key = serialization.load_pem_public_key(keypair.public.read_bytes())
    pem = key.public_bytes(serialization.Encoding.PEM,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    assert who == f"ECDSA P-256 key sha256:{hashlib.sha256(pem).hexdigest()}"


def test_the_document_is_a_sigstore_bundle_over_exactly_the_files_bytes(
    model: Path, keypair: KeyPair
) -> None:
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))

    assert signature["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert set(signature) == {"mediaType", "verificationMaterial", "dsseEnvelope"}
    assert len(signature["verificationMaterial"]["publicKey"]["hint"]) == 64
    assert "certificate" not in signature["verificationMaterial"]  # nothing online
    envelope = signature["dsseEnvelope"]
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert len(envelope["signatures"]) == 1
    statement = _statement(signature)
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert statement["predicateType"] == "https://model_signing/signature/v1.0"
    assert statement["predicate"]["resources"] == [
        {"name": ".", "algorithm": "sha256", "digest": digest}
    ]
    assert statement["predicate"]["serialization"] == {
        "method": "files", "hash_type": "sha256", "allow_symlinks": False
    }
    # The subject records the file name, and a digest over the resource digests.
    assert statement["subject"][0]["name"] == "candidate.skops"
    assert statement["subject"][0]["digest"]["sha256"] == hashlib.sha256(
        bytes.fromhex(digest)).hexdigest()


def test_a_copy_under_another_name_verifies(model: Path, keypair: KeyPair, tmp_path: Path) -> None:
    """The ledger copies the artifact's bytes out of git into a temporary file of another name."""
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    copy_dir = tmp_path / "elsewhere"
    copy_dir.mkdir()
    renamed = copy_dir / "tmpa8f3k2.blob"
    shutil.copyfile(model, renamed)
    link = copy_dir / "current-model"
    link.symlink_to(renamed)

    method = KeyMethod(public_key=keypair.public)
    assert verify_artifact(renamed, signature, method).startswith("ECDSA P-256 key")
    assert verify_artifact(link, signature, method).startswith("ECDSA P-256 key")


@pytest.mark.parametrize(("curve", "label"), [
    (ec.SECP256R1(), "P-256"), (ec.SECP384R1(), "P-384"), (ec.SECP521R1(), "P-521"),
])
def test_every_curve_model_signing_supports(
    model: Path, tmp_path: Path, curve: ec.EllipticCurve, label: str
) -> None:
    pair = write_ec_keypair(tmp_path / label, curve)
    signature = sign_artifact(model, KeyMethod(private_key=pair.private))
    assert verify_artifact(model, signature, KeyMethod(public_key=pair.public)).startswith(
        f"ECDSA {label} key sha256:")


def test_an_encrypted_private_key_needs_its_password(model: Path, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private = tmp_path / "encrypted.key"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.BestAvailableEncryption(b"s3cret")))
    public = tmp_path / "encrypted.pub"
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    signature = sign_artifact(model, KeyMethod(private_key=private, password="s3cret"))
    assert verify_artifact(model, signature, KeyMethod(public_key=public))
    with pytest.raises(InputError, match="password") as no_password:
        sign_artifact(model, KeyMethod(private_key=private))
    with pytest.raises(InputError, match="wrong password") as wrong:
        sign_artifact(model, KeyMethod(private_key=private, password="guess"))
    for raised in (no_password, wrong):
        assert raised.value.source == str(private)
        assert not isinstance(raised.value, SignatureMismatch)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_openssh_ecdsa_keys_work_and_match_their_pem_export(model: Path, tmp_path: Path) -> None:
    key = tmp_path / "id_ecdsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-b", "384", "-N", "", "-C", "release",
                    "-f", str(key)], check=True)
    pem_public = tmp_path / "id_ecdsa.pem.pub"
    pem_public.write_bytes(subprocess.run(
        ["ssh-keygen", "-e", "-m", "PKCS8", "-f", f"{key}.pub"],
        check=True, capture_output=True).stdout)

    signature = sign_artifact(model, KeyMethod(private_key=key))  # OPENSSH PRIVATE KEY format

    from_ssh = verify_artifact(model, signature, KeyMethod(public_key=Path(f"{key}.pub")))
    from_pem = verify_artifact(model, signature, KeyMethod(public_key=pem_public))
    assert from_ssh == from_pem
    assert from_ssh.startswith("ECDSA P-384 key sha256:")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_the_fingerprint_is_what_the_docs_tell_users_to_compute(
    model: Path, keypair: KeyPair
) -> None:
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    pem = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(keypair.public), "-pubout"],
                         check=True, capture_output=True).stdout
    expected = hashlib.sha256(pem).hexdigest()
    assert signature["verificationMaterial"]["publicKey"]["hint"] == expected
    assert verify_artifact(model, signature, KeyMethod(public_key=keypair.public)).endswith(
        expected)


# --- refusals: well-formed signatures that do not vouch for the file -------------------------


def test_another_key_is_a_refusal_not_bad_input(
    model: Path, keypair: KeyPair, other_keypair: KeyPair
) -> None:
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))

    with pytest.raises(SignatureMismatch, match="signed by another key") as raised:
        verify_artifact(model, signature, KeyMethod(public_key=other_keypair.public))

    assert raised.value.reason == "key"
    assert raised.value.source == str(model)
    assert isinstance(raised.value, InputError)  # fails closed for callers that only know that


def test_a_forged_key_hint_does_not_help_another_key(
    model: Path, keypair: KeyPair, other_keypair: KeyPair
) -> None:
    """The hint is only a label: claiming the other key's fingerprint fails the ECDSA check."""
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    other = sign_artifact(model, KeyMethod(private_key=other_keypair.private))
    forged = copy.deepcopy(signature)
    forged["verificationMaterial"]["publicKey"]["hint"] = (
        other["verificationMaterial"]["publicKey"]["hint"])

    with pytest.raises(SignatureMismatch, match="does not verify") as raised:
        verify_artifact(model, forged, KeyMethod(public_key=other_keypair.public))
    assert raised.value.reason == "signature"


def test_one_appended_byte_is_a_refusal(model: Path, keypair: KeyPair) -> None:
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    signed_digest = hashlib.sha256(model.read_bytes()).hexdigest()
    with model.open("ab") as handle:
        handle.write(b"\0")

    with pytest.raises(SignatureMismatch, match="not the signed ones") as raised:
        verify_artifact(model, signature, KeyMethod(public_key=keypair.public))

    assert raised.value.reason == "content"
    assert signed_digest in str(raised.value)
    assert hashlib.sha256(model.read_bytes()).hexdigest() in str(raised.value)


def test_an_edited_digest_in_the_payload_is_a_refusal(
    model: Path, keypair: KeyPair, tmp_path: Path
) -> None:
    """Swap in another model's digest (a self-consistent statement): the signature breaks."""
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    other_model = tmp_path / "other.skops"
    other_model.write_bytes(model.read_bytes() + b"trojan")
    other_digest = hashlib.sha256(other_model.read_bytes()).hexdigest()
    statement = _statement(signature)
    statement["predicate"]["resources"][0]["digest"] = other_digest
    statement["subject"][0]["digest"]["sha256"] = hashlib.sha256(
        bytes.fromhex(other_digest)).hexdigest()
    edited = _with_statement(signature, statement)

    method = KeyMethod(public_key=keypair.public)
    for target in (other_model, model):
        with pytest.raises(SignatureMismatch, match="does not verify") as raised:
            verify_artifact(target, edited, method)
        assert raised.value.reason == "signature"


def test_edited_signature_bytes_are_a_refusal(model: Path, keypair: KeyPair) -> None:
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    raw = bytearray(base64.b64decode(signature["dsseEnvelope"]["signatures"][0]["sig"]))
    raw[-1] ^= 0x01
    edited = copy.deepcopy(signature)
    edited["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()

    with pytest.raises(SignatureMismatch) as raised:
        verify_artifact(model, edited, KeyMethod(public_key=keypair.public))
    assert raised.value.reason == "signature"


def test_a_key_signature_never_satisfies_a_sigstore_policy(model: Path, keypair: KeyPair) -> None:
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    method = SigstoreMethod.github_workflow("octo-org/models", "mlgate-release.yml")
    with pytest.raises(SignatureMismatch, match="signed with a key") as raised:
        verify_artifact(model, signature, method)
    assert raised.value.reason == "identity"


def test_a_sigstore_signature_never_satisfies_a_key_policy(keypair: KeyPair) -> None:
    bundle = json.loads((FIXTURES / "model-transparency-v1.1.0-sigstore.sig").read_text())
    with pytest.raises(SignatureMismatch, match="Sigstore certificate") as raised:
        verify_artifact(FIXTURES / "signme-1", bundle, KeyMethod(public_key=keypair.public))
    assert raised.value.reason == "key"


# --- bad input: one line naming the file -----------------------------------------------------


def test_a_missing_private_key_is_bad_input_naming_it(model: Path, tmp_path: Path) -> None:
    missing = tmp_path / "secrets" / "mlgate-signing.key"
    with pytest.raises(InputError) as raised:
        sign_artifact(model, KeyMethod(private_key=missing))
    assert not isinstance(raised.value, SignatureMismatch)
    assert raised.value.source == str(missing)
    assert raised.value.one_line().startswith(f"{missing}: cannot read the private key")
    assert "\n" not in raised.value.one_line()


def test_a_missing_public_key_is_bad_input_naming_it(
    model: Path, keypair: KeyPair, tmp_path: Path
) -> None:
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    missing = tmp_path / "keys" / "nope.pub"
    with pytest.raises(InputError) as raised:
        verify_artifact(model, signature, KeyMethod(public_key=missing))
    assert not isinstance(raised.value, SignatureMismatch)
    assert raised.value.source == str(missing)


def test_methods_without_their_key_are_bad_input(model: Path, keypair: KeyPair) -> None:
    with pytest.raises(InputError, match="needs the private key"):
        sign_artifact(model, KeyMethod(public_key=keypair.public))
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    with pytest.raises(InputError, match="needs the public key"):
        verify_artifact(model, signature, KeyMethod(private_key=keypair.private))


def test_keys_swapped_are_bad_input_and_say_so(model: Path, keypair: KeyPair) -> None:
    with pytest.raises(InputError, match="this is a public key") as raised:
        sign_artifact(model, KeyMethod(private_key=keypair.public))
    assert raised.value.source == str(keypair.public)
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    with pytest.raises(InputError, match="holds a private key") as raised:
        verify_artifact(model, signature, KeyMethod(public_key=keypair.private))
    assert raised.value.source == str(keypair.private)


def _write_private(path: Path, key: Any) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def _write_public(path: Path, key: Any) -> Path:
    path.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


@pytest.mark.parametrize(("make", "kind"), [
    (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSA"),
    (ed25519.Ed25519PrivateKey.generate, "Ed25519"),
    (lambda: ec.generate_private_key(ec.SECP256K1()), "secp256k1"),
])
def test_key_types_model_signing_cannot_use_are_bad_input(
    model: Path, keypair: KeyPair, tmp_path: Path, make: Any, kind: str
) -> None:
    key = make()
    private = _write_private(tmp_path / f"{kind}.key", key)
    public = _write_public(tmp_path / f"{kind}.pub", key)
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))

    with pytest.raises(InputError, match=kind) as on_sign:
        sign_artifact(model, KeyMethod(private_key=private))
    with pytest.raises(InputError, match=kind) as on_verify:
        verify_artifact(model, signature, KeyMethod(public_key=public))

    assert on_sign.value.source == str(private)
    assert on_verify.value.source == str(public)
    for raised in (on_sign, on_verify):
        assert not isinstance(raised.value, SignatureMismatch)
        assert "P-256, P-384 or P-521" in str(raised.value)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_an_ed25519_ssh_key_is_bad_input(model: Path, tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    with pytest.raises(InputError, match="Ed25519") as raised:
        sign_artifact(model, KeyMethod(private_key=key))
    assert raised.value.source == str(key)


def test_garbage_key_files_are_bad_input(model: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.key"
    empty.write_text("")
    junk = tmp_path / "junk.key"
    junk.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    for path, message in ((empty, "empty"), (junk, "not a PEM or OpenSSH private key")):
        with pytest.raises(InputError, match=message) as raised:
            sign_artifact(model, KeyMethod(private_key=path))
        assert raised.value.source == str(path)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: [s], "not a JSON object"),
    (lambda s: {}, "not a Sigstore bundle"),
    (lambda s: {**s, "mediaType": "application/json"}, "not a Sigstore bundle"),
    (lambda s: {k: v for k, v in s.items() if k != "dsseEnvelope"}, "no DSSE envelope"),
    (lambda s: {**s, "dsseEnvelope": {**s["dsseEnvelope"], "payload": "%%%"}}, "not base64"),
    (lambda s: {**s, "dsseEnvelope": {**s["dsseEnvelope"],
                                      "payload": base64.b64encode(b"{not json").decode()}},
     "not JSON"),
    (lambda s: {**s, "dsseEnvelope": {**s["dsseEnvelope"],
                                      "signatures": s["dsseEnvelope"]["signatures"] * 2}},
     "exactly one signature"),
    (lambda s: {**s, "dsseEnvelope": {**s["dsseEnvelope"], "payloadType": "text/plain"}},
     "not an in-toto statement"),
    (lambda s: {**s, "verificationMaterial": {"publicKey": {}}}, "hint"),
    (lambda s: {**s, "verificationMaterial": {}}, "neither a public key nor a certificate"),
    (lambda s: {**s, "verificationMaterial": {**s["verificationMaterial"], "extra": 1}},
     "malformed Sigstore bundle"),
])
def test_malformed_signature_documents_are_bad_input_naming_their_source(
    model: Path, keypair: KeyPair, edit: Any, message: str
) -> None:
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    with pytest.raises(InputError, match=message) as raised:
        verify_artifact(model, edit(copy.deepcopy(signature)), KeyMethod(public_key=keypair.public),
                        source=NOTE)
    assert not isinstance(raised.value, SignatureMismatch)
    assert raised.value.source == NOTE
    assert "\n" not in raised.value.one_line()


def test_the_artifact_must_be_one_existing_file(model: Path, keypair: KeyPair) -> None:
    with pytest.raises(InputError, match="regular file") as raised:
        sign_artifact(model.parent, KeyMethod(private_key=keypair.private))
    assert raised.value.source == str(model.parent)
    signature = sign_artifact(model, KeyMethod(private_key=keypair.private))
    gone = model.with_name("gone.skops")
    with pytest.raises(InputError, match="does not exist") as raised:
        verify_artifact(gone, signature, KeyMethod(public_key=keypair.public))
    assert raised.value.source == str(gone)


# --- Sigstore without a token ----------------------------------------------------------------


@pytest.mark.parametrize("in_actions", [False, True])
def test_sigstore_signing_without_an_oidc_token_asks_for_id_token_write(
    model: Path, monkeypatch: pytest.MonkeyPatch, in_actions: bool
) -> None:
    for name in ("GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL",
                 "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    if in_actions:  # a job without `permissions: id-token: write` gets no request variables
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
    method = SigstoreMethod.github_workflow("octo-org/models", "mlgate-release.yml")

    with pytest.raises(InputError) as raised:
        sign_artifact(model, method)

    assert not isinstance(raised.value, SignatureMismatch)
    assert "`permissions: id-token: write`" in str(raised.value)
    assert "GitHub Actions" in str(raised.value)


# --- streaming -------------------------------------------------------------------------------


def test_a_100_mb_artifact_is_streamed_not_loaded(keypair: KeyPair, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        for i in range(100):
            handle.write(hashlib.sha512(str(i).encode()).digest() * 16384)  # 1 MiB each
    assert big.stat().st_size == 100 * 1024 * 1024

    tracemalloc.start()
    try:
        started = time.perf_counter()
        signature = sign_artifact(big, KeyMethod(private_key=keypair.private))
        signed = time.perf_counter()
        verify_artifact(big, signature, KeyMethod(public_key=keypair.public))
        verified = time.perf_counter()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 16 * 1024 * 1024, f"peak Python allocation {peak / 2**20:.1f} MiB"
    assert signed - started < 30 and verified - signed < 30


def test_without_the_signing_extra_the_error_says_what_to_install(
    model: Path, keypair: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "model_signing", None)  # as if it were not installed
    with pytest.raises(InputError, match=r"pip install 'mlgate\[signing\]'") as raised:
        sign_artifact(model, KeyMethod(private_key=keypair.private))
    assert raised.value.source == "model-signing"
