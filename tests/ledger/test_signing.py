"""SSH-signed ledger events: only entries signed by a key the default branch allows count.

Keys come from ssh-keygen; tags are signed by git itself (gpg.format=ssh) and checked both by
mlgate's in-process reader and by ``git verify-tag``. The forgeries are the strongest a person
with push rights can make without the key: records written by mlgate's own code with the
signing step taken out (consistent in every field), or signed with a key of their own.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate.ledger import ops
from mlgate.ledger.champion import load_stage_artifact
from mlgate.signing.sshsig import SignatureProblem, parse_allowed_signers, split_signed, verify
from tests.ledger.conftest import gto_show, ml, new_candidate, register_and_stage, tags
from tests.support.repos import commit_all, git

SIGNING = """  signing:
    method: ssh
    key: env:MLGATE_SIGNING_KEY
    allowed_signers: keys/allowed_signers
    required_for: [staging, production]
"""


def keygen(where: Path, name: str, kind: str = "ed25519") -> Path:
    where.mkdir(parents=True, exist_ok=True)
    key = where / name
    args = ["-t", kind] + (["-b", "3072"] if kind == "rsa" else [])
    subprocess.run(["ssh-keygen", "-q", *args, "-N", "", "-C", name, "-f", str(key)],
                   check=True)
    return key


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    """The release workflow's key and an attacker's key (both outside the repository)."""
    return {"release": keygen(tmp_path / "keys", "release-bot"),
            "mallory": keygen(tmp_path / "keys", "mallory")}


@pytest.fixture
def signed(repo: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example repo whose main requires signed staging and production entries, with the
    release key in MLGATE_SIGNING_KEY (as a CI secret would be)."""
    (repo / "keys").mkdir()
    public = keys["release"].with_suffix(".pub").read_text().strip()
    (repo / "keys" / "allowed_signers").write_text(f'release-bot namespaces="git" {public}\n')
    text = (repo / "mlgate.yaml").read_text().replace("  stages:\n", SIGNING + "  stages:\n", 1)
    (repo / "mlgate.yaml").write_text(text)
    commit_all(repo, "ledger entries of staging and production must be signed", push=True)
    monkeypatch.setenv("MLGATE_SIGNING_KEY", keys["release"].read_text())
    return repo


def stages(repo: Path) -> dict[str, str]:
    out = ml(repo, "status", "--json", str(repo.parent / "s.json"))
    assert out.code == 0, out.stdout + out.stderr
    doc = json.loads((repo.parent / "s.json").read_text())["gates"][0]["data"]
    found: dict[str, str] = doc["artifacts"]["churn"]["stages"]
    return found


def invalid(repo: Path) -> dict[str, str]:
    ml(repo, "status", "--json", str(repo.parent / "s.json"))
    doc = json.loads((repo.parent / "s.json").read_text())["gates"][0]["data"]
    return {e["tag"]: e["reason"] for e in doc["artifacts"]["churn"].get("invalid", [])}


@contextlib.contextmanager
def key_of(path: Path | None) -> Iterator[Path | None]:
    yield path


def test_signed_flow_verifies_with_mlgate_and_git(signed: Path) -> None:
    register_and_stage(signed)
    out = ml(signed, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "alice")
    assert out.code == 0, out.stdout + out.stderr
    for tag in ("churn@v0.1.0", "churn#staging#1", "churn#production#2"):
        assert "-----BEGIN SSH SIGNATURE-----" in git("cat-file", "tag", tag, cwd=signed)
    assert stages(signed) == {"staging": "v0.1.0", "production": "v0.1.0"}
    out = ml(signed, "verify", "churn#production")
    assert out.code == 0, out.stdout
    out = ml(signed, "verify", "churn#production", "--json", str(signed.parent / "v.json"))
    checks = {c["name"]: c for c in json.loads((signed.parent / "v.json").read_text())
              ["gates"][0]["checks"]}
    assert checks["signature"]["status"] == "pass"
    assert "release-bot" in checks["signature"]["message"]
    assert checks["signature (git verify-tag)"]["status"] == "pass"
    assert 'Good "git" signature for release-bot' in checks["signature (git verify-tag)"][
        "message"]
    assert gto_show(signed)["churn"]["stage"] == {"staging": "v0.1.0", "production": "v0.1.0"}
    champion = load_stage_artifact(signed, "churn", "production")
    assert champion is not None and champion.version == "v0.1.0"


def test_without_the_key_nothing_required_is_written(signed: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLGATE_SIGNING_KEY")
    out = ml(signed, "register", "--evidence", *map(str, _evidence(signed)))
    assert out.code == 0, out.stdout  # versions need no signature here
    out = ml(signed, "promote", "--version", "v0.1.0", "--to", "staging")
    assert out.code == 2
    assert ("staging entries must be signed (required_for) and there is no signing key here: "
            "expected the variable MLGATE_SIGNING_KEY") in out.error_line
    assert [t for t in tags(signed) if "#" in t] == []


def _evidence(repo: Path) -> list[Path]:
    from tests.ledger.conftest import bound_evidence

    return bound_evidence(repo, repo.parent / "evidence-unsigned")


def test_a_consistent_record_without_the_key_is_ignored(
        signed: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """mlgate's own promote, with the signing step taken out: every field is consistent, the
    approvals are fresh and name the right promotion. Without a signature it counts for
    nothing; with an attacker's key neither."""
    register_and_stage(signed)
    assert ml(signed, "promote", "--version", "v0.1.0", "--to", "production",
              "--approved-by", "alice").code == 0
    new_candidate(signed, seed=5)
    register_and_stage(signed)  # v0.2.0, honestly signed into staging
    monkeypatch.setattr(ops, "signing_key", lambda policy, repo, stage: key_of(None))
    out = ml(signed, "promote", "--version", "v0.2.0", "--to", "production",
             "--approved-by", "bob")
    assert out.code == 0, out.stdout  # plain git writes whatever it is told
    forged = "churn#production#4"
    assert forged in tags(signed)
    assert stages(signed)["production"] == "v0.1.0"
    assert "production entries must be signed by an allowed signer" in invalid(signed)[forged]
    assert "the tag is not signed" in invalid(signed)[forged]
    champion = load_stage_artifact(signed, "churn", "production")
    assert champion is not None and champion.version == "v0.1.0"
    out = ml(signed, "verify", forged)
    assert out.code == 1 and "FAIL  signature" in out.stdout
    assert "signature (git verify-tag)" in out.stdout  # git refuses it too

    monkeypatch.setattr(ops, "signing_key",
                        lambda policy, repo, stage: key_of(keys["mallory"]))
    out = ml(signed, "promote", "--version", "v0.2.0", "--to", "production",
             "--approved-by", "bob")
    assert out.code == 0, out.stdout + out.stderr  # the forged entry did not put it there
    mallory = max((t for t in tags(signed) if t.startswith("churn#production#")),
                  key=lambda t: int(t.rsplit("#", 1)[1]))
    assert mallory != forged
    assert "which is not an allowed signer" in invalid(signed)[mallory]
    assert stages(signed)["production"] == "v0.1.0"
    out = ml(signed, "verify", mallory)
    assert out.code == 1
    git_check = [ln for ln in out.stdout.splitlines() if "signature (git verify-tag)" in ln]
    assert git_check and git_check[0].lstrip().startswith("FAIL")


def test_allowed_signers_come_from_the_default_branch(
        signed: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding one's own key to the allowed signers in a work tree or on a branch changes
    nothing: only the default branch's file counts."""
    register_and_stage(signed)
    git("checkout", "--quiet", "-b", "trust-me", cwd=signed)
    public = keys["mallory"].with_suffix(".pub").read_text().strip()
    with (signed / "keys" / "allowed_signers").open("a") as fh:
        fh.write(f"mallory {public}\n")
    commit_all(signed, "mallory may sign")
    git("push", "--quiet", "origin", "trust-me", cwd=signed)
    monkeypatch.setattr(ops, "signing_key",
                        lambda policy, repo, stage: key_of(keys["mallory"]))
    out = ml(signed, "promote", "--version", "v0.1.0", "--to", "production",
             "--approved-by", "alice")
    assert out.code == 0, out.stdout + out.stderr
    assert "which is not an allowed signer" in invalid(signed)["churn#production#2"]
    assert "production" not in stages(signed)


def test_a_signed_tag_edited_after_signing(signed: Path) -> None:
    """Keep the release key's signature, change the record (another approver): the
    signature no longer matches."""
    register_and_stage(signed)
    assert ml(signed, "promote", "--version", "v0.1.0", "--to", "production",
              "--approved-by", "alice").code == 0
    raw = git("cat-file", "tag", "churn#production#2", cwd=signed).encode()
    payload, armored = split_signed(raw + b"\n")
    body = payload.split(b"\n\n", 1)[1].replace(b'"alice"', b'"bob"')
    (signed.parent / "edited").write_bytes(body + armored)
    commit = git("rev-parse", "churn#production#2^{commit}", cwd=signed)
    git("tag", "-d", "churn#production#2", cwd=signed)
    git("tag", "-a", "--cleanup=verbatim", "-F", str(signed.parent / "edited"),
        "churn#production#2", commit, cwd=signed)
    why = invalid(signed)["churn#production#2"]
    assert "the signature does not match the tag" in why
    assert "production" not in stages(signed)


def test_adopting_signing_on_an_existing_ledger(repo: Path, keys: dict[str, Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries from before signing was switched on count when below unsigned_before."""
    register_and_stage(repo)
    assert ml(repo, "promote", "--version", "v0.1.0", "--to", "production",
              "--approved-by", "alice").code == 0
    (repo / "keys").mkdir()
    public = keys["release"].with_suffix(".pub").read_text().strip()
    (repo / "keys" / "allowed_signers").write_text(f"release-bot {public}\n")
    text = (repo / "mlgate.yaml").read_text().replace("  stages:\n", SIGNING + "  stages:\n", 1)
    (repo / "mlgate.yaml").write_text(text)
    commit_all(repo, "sign from now on", push=True)
    assert stages(repo) == {}  # the old, unsigned entries do not count any more
    text = text.replace("    required_for: [staging, production]\n",
                        "    required_for: [staging, production]\n"
                        "    unsigned_before: {churn: 3}\n")
    (repo / "mlgate.yaml").write_text(text)
    commit_all(repo, "entries before churn#*#3 were made before signing", push=True)
    assert stages(repo) == {"staging": "v0.1.0", "production": "v0.1.0"}
    monkeypatch.setenv("MLGATE_SIGNING_KEY", keys["release"].read_text())
    new_candidate(repo, seed=9)
    register_and_stage(repo)
    assert stages(repo)["staging"] == "v0.2.0"
    assert "-----BEGIN SSH SIGNATURE-----" in git("cat-file", "tag", "churn#staging#3", cwd=repo)


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa"])
def test_in_process_verdicts_agree_with_git(tmp_path: Path, kind: str) -> None:
    """For each key type: a good signature, an edited payload, an unknown key; the in-process
    check and git verify-tag say the same."""
    repo = tmp_path / "r"
    repo.mkdir()
    git("init", "--quiet", cwd=repo)
    git("-c", "user.name=a", "-c", "user.email=a@example.com", "commit", "--quiet",
        "--allow-empty", "-m", "x", cwd=repo)
    good, other = keygen(tmp_path / "k", f"good-{kind}", kind), keygen(tmp_path / "k", "other")
    allowed = tmp_path / "allowed"
    allowed.write_text(f"good {good.with_suffix('.pub').read_text()}")
    signers = parse_allowed_signers(allowed.read_text(), "allowed")
    for name, key in (("by-good", good), ("by-other", other)):
        git("-c", "user.name=a", "-c", "user.email=a@example.com", "-c", "gpg.format=ssh",
            "-c", f"user.signingkey={key}", "tag", "-s", "-m", "payload", name, cwd=repo)
    env = {**os.environ}
    for name, expected in (("by-good", True), ("by-other", False)):
        git_ok = subprocess.run(
            ["git", "-C", str(repo), "-c", f"gpg.ssh.allowedSignersFile={allowed}",
             "verify-tag", name], capture_output=True, env=env, check=False).returncode == 0
        payload, armored = split_signed(git("cat-file", "tag", name, cwd=repo).encode() + b"\n")
        try:
            verify(payload, armored, signers)
            ours = True
        except SignatureProblem:
            ours = False
        assert ours == git_ok == expected, (name, ours, git_ok)
        with pytest.raises(SignatureProblem):
            verify(payload.replace(b"payload", b"paylaod"), armored, signers)
