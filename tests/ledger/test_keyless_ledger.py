"""Keyless (Sigstore) signed ledger events, end to end against a private Sigstore instance.

tests/support/sigstore_local.py serves a Fulcio-like CA, a Rekor-like log and the runner's
OIDC token endpoint on 127.0.0.1; the real ``sigstore`` client signs and verifies against
them. The release job's identity is ``octo-org/churn/.github/workflows/ml-release.yml@
refs/heads/main``; anything else, or no signature at all, makes a required entry invalid.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate.ledger.champion import load_stage_artifact
from tests.ledger.conftest import gto_show, ml, new_candidate, register_and_stage, tags
from tests.support.repos import commit_all, git
from tests.support.sigstore_local import LocalSigstore, github_claims

SIGNING = """  signing:
    method: sigstore
    workflow: .github/workflows/ml-release.yml
    ref: refs/heads/main
    repository: octo-org/churn
    trusted_root: keys/trusted_root.json
    trust_config: keys/trust_config.json
    required_for: [staging, production]
"""


@pytest.fixture
def sigstore(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSigstore]:
    """main requires Sigstore-signed staging and production entries; this process runs as a
    job of the release workflow with ``id-token: write``."""
    instance = LocalSigstore()
    with instance.serve():
        (repo / "keys").mkdir()
        (repo / "keys" / "trusted_root.json").write_text(json.dumps(instance.trusted_root()))
        (repo / "keys" / "trust_config.json").write_text(
            json.dumps(instance.client_trust_config()))
        text = (repo / "mlgate.yaml").read_text()
        (repo / "mlgate.yaml").write_text(text.replace("  stages:\n", SIGNING + "  stages:\n", 1))
        commit_all(repo, "ledger events are signed by the release workflow", push=True)
        for name, value in instance.actions_env().items():
            monkeypatch.setenv(name, value)
        yield instance


def invalid(repo: Path) -> dict[str, str]:
    ml(repo, "status", "--json", str(repo.parent / "s.json"))
    doc = json.loads((repo.parent / "s.json").read_text())["gates"][0]["data"]
    return {e["tag"]: e["reason"] for e in doc["artifacts"]["churn"].get("invalid", [])}


def stages(repo: Path) -> dict[str, str]:
    out = ml(repo, "status", "--json", str(repo.parent / "s.json"))
    assert out.code == 0, out.stdout + out.stderr
    found: dict[str, str] = json.loads((repo.parent / "s.json").read_text())[
        "gates"][0]["data"]["artifacts"]["churn"]["stages"]
    return found


def test_release_job_signs_and_every_reader_checks(repo: Path, sigstore: LocalSigstore) -> None:
    register_and_stage(repo)
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "alice")
    assert out.code == 0, out.stdout + out.stderr
    note = json.loads(git("notes", "--ref=mlgate", "show", "churn@v0.1.0^{commit}", cwd=repo))
    assert set(note["signatures"]) == {"churn@v0.1.0", "churn#staging#1", "churn#production#2"}
    assert stages(repo) == {"staging": "v0.1.0", "production": "v0.1.0"}
    out = ml(repo, "verify", "churn#production", "--json", str(repo.parent / "v.json"))
    assert out.code == 0, out.stdout
    checks = {c["name"]: c for c in json.loads((repo.parent / "v.json").read_text())
              ["gates"][0]["checks"]}
    assert checks["signature"]["message"] == (
        "signed by https://github.com/octo-org/churn/.github/workflows/ml-release.yml"
        "@refs/heads/main (Sigstore)")
    champion = load_stage_artifact(repo, "churn", "production")
    assert champion is not None and champion.version == "v0.1.0"
    assert gto_show(repo)["churn"]["stage"] == {"staging": "v0.1.0", "production": "v0.1.0"}


def test_without_an_oidc_credential_nothing_required_is_written(
        repo: Path, sigstore: LocalSigstore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL")
    out = ml(repo, "register", "--evidence", *map(str, _evidence(repo)))
    assert out.code == 0, out.stdout  # versions are not required to be signed
    out = ml(repo, "promote", "--version", "v0.1.0", "--to", "staging")
    assert out.code == 2
    assert "staging entries must be signed by https://github.com/octo-org/churn/" in (
        out.error_line)
    assert "id-token: write" in out.error_line
    assert [t for t in tags(repo) if "#" in t] == []


def _evidence(repo: Path) -> list[Path]:
    from tests.ledger.conftest import bound_evidence

    return bound_evidence(repo, repo.parent / "evidence-keyless")


def test_another_workflow_cannot_sign_for_the_release(
        repo: Path, sigstore: LocalSigstore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job of the PR workflow (id-token: write there too) tries to sign a promotion: refused
    before anything is written."""
    from mlgate.signing import keyless

    register_and_stage(repo)
    new_candidate(repo, seed=4)
    register_and_stage(repo)
    other = sigstore.token(github_claims(workflow=".github/workflows/pr.yml"))

    monkeypatch.setattr(keyless, "ambient_identity_token", lambda: other)
    out = ml(repo, "promote", "--version", "v0.2.0", "--to", "production",
             "--approved-by", "alice")
    assert out.code == 2
    assert ("this run would sign as https://github.com/octo-org/churn/.github/workflows/pr.yml"
            "@refs/heads/main; the verifier expects https://github.com/octo-org/churn/.github/"
            "workflows/ml-release.yml@refs/heads/main") in out.error_line
    assert not [t for t in tags(repo) if "production" in t]


def test_a_record_without_its_signature_is_ignored(repo: Path, sigstore: LocalSigstore) -> None:
    """Everything consistent, the bundle removed from the note: the entry is invalid."""
    register_and_stage(repo)
    assert ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
              "--approved-by", "alice").code == 0
    commit = git("rev-parse", "churn@v0.1.0^{commit}", cwd=repo)
    note = json.loads(git("notes", "--ref=mlgate", "show", commit, cwd=repo))
    del note["signatures"]["churn#production#2"]
    (repo.parent / "n.json").write_text(json.dumps(note))
    git("notes", "--ref=mlgate", "add", "-f", "-F", str(repo.parent / "n.json"), commit, cwd=repo)
    assert "has no signature in refs/notes/mlgate" in invalid(repo)["churn#production#2"]
    assert stages(repo) == {"staging": "v0.1.0"}
    # a bundle moved over from another entry signs another statement
    note["signatures"]["churn#production#2"] = note["signatures"]["churn#staging#1"]
    (repo.parent / "n.json").write_text(json.dumps(note))
    git("notes", "--ref=mlgate", "add", "-f", "-F", str(repo.parent / "n.json"), commit, cwd=repo)
    assert "the signed statement is not this event" in invalid(repo)["churn#production#2"]
