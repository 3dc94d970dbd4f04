"""Signed model artifacts: register signs the artifact, and a version counts, is the champion
and is served only when the signature verifies on the bytes git holds.

Keys are generated here (EC P-256, PEM, as docs/hardening.md tells users); signing and
verifying go through the real OpenSSF model-signing library.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from contextlib import chdir
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mlgate.errors import InputError
from mlgate.ledger.champion import load_stage_artifact
from mlgate.load.serve_source import model_to_serve
from tests.ledger.conftest import bound_evidence, ml, record, register_and_stage, tags
from tests.support.repos import commit_all, git

SIGNING = """  artifact_signing:
    method: key
    private_key: env:MLGATE_ARTIFACT_KEY
    public_key: keys/artifact.pub
"""


def ec_keys(where: Path) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


@pytest.fixture
def signing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """main requires signed artifacts; the release key is in MLGATE_ARTIFACT_KEY."""
    private, public = ec_keys(repo.parent)
    (repo / "keys").mkdir()
    (repo / "keys" / "artifact.pub").write_bytes(public)
    text = (repo / "mlgate.yaml").read_text()
    (repo / "mlgate.yaml").write_text(text.replace("  stages:\n", SIGNING + "  stages:\n", 1))
    commit_all(repo, "registered artifacts must be signed", push=True)
    monkeypatch.setenv("MLGATE_ARTIFACT_KEY", private.decode())
    return repo


def invalid(repo: Path) -> dict[str, str]:
    ml(repo, "status", "--json", str(repo.parent / "s.json"))
    doc = json.loads((repo.parent / "s.json").read_text())["gates"][0]["data"]
    return {e["tag"]: e["reason"] for e in doc["artifacts"]["churn"].get("invalid", [])}


def test_register_signs_and_readers_check(signing: Path) -> None:
    register_and_stage(signing)
    note = json.loads(git("notes", "--ref=mlgate", "show", "churn@v0.1.0^{commit}",
                          cwd=signing))
    signature = note["tags"]["churn@v0.1.0"]["artifact_signature"]
    assert signature["mediaType"].startswith("application/vnd.dev.sigstore.bundle")
    out = ml(signing, "verify", "churn@v0.1.0", "--json", str(signing.parent / "v.json"))
    assert out.code == 0, out.stdout
    checks = {c["name"]: c for c in json.loads((signing.parent / "v.json").read_text())
              ["gates"][0]["checks"]}
    assert checks["artifact signature"]["status"] == "pass"
    assert "models/candidate.skops signed by ECDSA P-256 key" in checks[
        "artifact signature"]["message"]
    assert ml(signing, "promote", "--version", "v0.1.0", "--to", "production",
              "--approved-by", "alice").code == 0
    champion = load_stage_artifact(signing, "churn", "production")
    assert champion is not None and champion.version == "v0.1.0"


def test_register_without_the_key_writes_nothing(signing: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLGATE_ARTIFACT_KEY")
    evidence = bound_evidence(signing, signing.parent / "e")
    out = ml(signing, "register", "--evidence", *map(str, evidence))
    assert out.code == 2
    assert "artifacts must be signed and there is no private key here" in out.error_line
    assert tags(signing) == []


def test_a_tampered_artifact_under_a_copied_signature(signing: Path) -> None:
    """A version tag made by hand for a changed model, with the honest signature and a record
    that names the changed model's digest: the signature does not vouch for those bytes."""
    register_and_stage(signing)
    rec = record(signing, "churn@v0.1.0")
    entry = json.loads(git("notes", "--ref=mlgate", "show", "churn@v0.1.0^{commit}",
                           cwd=signing))["tags"]["churn@v0.1.0"]
    model = signing / "models" / "candidate.skops"
    model.write_bytes(model.read_bytes() + b"\0 a backdoor")
    head = commit_all(signing, "swap the model")
    import hashlib

    from mlgate.ledger.record import canonical_digest

    rec.update(version="v0.2.0", commit=head,
               artifact={**rec["artifact"],
                         "sha256": "sha256:" + hashlib.sha256(model.read_bytes()).hexdigest(),
                         "size": model.stat().st_size})
    (signing.parent / "note.json").write_text(json.dumps(
        {"format": "mlgate.evidence/v1", "tags": {"churn@v0.2.0": entry}}))
    git("notes", "--ref=mlgate", "add", "-f", "-F", str(signing.parent / "note.json"), head,
        cwd=signing)
    rec["evidence"] = canonical_digest(entry)
    (signing.parent / "msg").write_text("Register churn v0.2.0\n\n" + json.dumps(
        {"format": "mlgate.ledger/v1", **rec}))
    git("tag", "-a", "--cleanup=verbatim", "-F", str(signing.parent / "msg"), "churn@v0.2.0",
        head, cwd=signing)
    why = invalid(signing)["churn@v0.2.0"]
    assert "the artifact signature does not verify (content)" in why
    out = ml(signing, "verify", "churn@v0.2.0")
    assert out.code == 1 and "FAIL  artifact signature" in out.stdout
    # serving: the ledger version is refused, the tampered file too; the honest one is served
    with pytest.raises(InputError, match=r"churn@v0\.2\.0 is not a valid ledger version"), \
            chdir(signing), model_to_serve("churn@v0.2.0", False):
        pass
    with pytest.raises(InputError, match="not a valid, signed registered artifact"), \
            chdir(signing), model_to_serve(str(model), True):
        pass
    honest = signing.parent / "honest.skops"
    honest.write_bytes(git_bytes(signing, "churn@v0.1.0:models/candidate.skops"))
    with chdir(signing), model_to_serve(str(honest), True) as served:
        assert served.label == "honest.skops (churn@v0.1.0)" and not served.from_ledger


def test_serve_a_ledger_version_over_http(signing: Path) -> None:
    register_and_stage(signing)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlgate", "serve", "--model", "churn#staging", "--port", "0"],
        cwd=signing, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "mlgate serve: churn@v0.1.0 on http://127.0.0.1:" in line, (
            line + (proc.stderr.read() if proc.stderr else ""))
        url = line.split(" on ")[1].split()[0]
        assert requests.get(url + "/health", timeout=5).json()["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0


def git_bytes(repo: Path, spec: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), "cat-file", "blob", spec],
                          capture_output=True, check=True).stdout
