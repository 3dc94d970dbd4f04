"""Signed ledger events: which entries must be signed, by whom, and the key that signs.

Without signatures, a person with push rights can write a record that is consistent in every
field. A signature made with a key only the release workflow holds stops that: entries of the
stages in ``ledger.signing.required_for`` count only when their tag carries a valid signature
by a key in the allowed-signers file. Both the requirement and the allowed signers are read
from the **current** default branch (never a work tree, never the policy an entry recorded,
which an attacker would pick from before signing was switched on).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.errors import InputError

ENV_PREFIX = "env:"


@dataclass(frozen=True)
class SigningPolicy:
    """``ledger.signing`` of one config."""

    method: str
    key: str | None = None
    allowed_signers: str | None = None
    required_for: tuple[str, ...] = ()
    unsigned_before: dict[str, int] = field(default_factory=dict)
    workflow: str | None = None
    ref: str | None = None
    repository: str | None = None
    issuer: str = "https://token.actions.githubusercontent.com"
    trusted_root: str | None = None
    trust_config: str | None = None
    server_url: str = "https://github.com"
    raw: dict[str, Any] = field(default_factory=dict)
    where: str = "mlgate.yaml:ledger.signing"

    def required(self, artifact: str, stage: str | None, counter: int | None) -> bool:
        """Whether an entry of ``stage`` (at ``counter``) counts only when signed."""
        if stage is None or stage not in self.required_for:
            return False
        cutoff = self.unsigned_before.get(artifact)
        return cutoff is None or counter is None or counter >= cutoff


def signing_policy(raw: dict[str, Any] | None, where: str) -> SigningPolicy | None:
    """Read ``ledger.signing`` (already schema-validated) with its cross-checks."""
    if not raw:
        return None
    policy = SigningPolicy(
        method=str(raw["method"]),
        key=raw.get("key"),
        allowed_signers=raw.get("allowed_signers"),
        required_for=tuple(raw.get("required_for") or ()),
        unsigned_before=dict(raw.get("unsigned_before") or {}),
        workflow=raw.get("workflow"),
        ref=raw.get("ref"),
        repository=raw.get("repository"),
        issuer=str(raw.get("issuer") or "https://token.actions.githubusercontent.com"),
        trusted_root=raw.get("trusted_root"),
        trust_config=raw.get("trust_config"),
        server_url=str(raw.get("server_url") or "https://github.com"),
        raw=dict(raw),
        where=where,
    )
    if policy.method == "ssh" and not policy.allowed_signers:
        raise InputError("ssh signing needs allowed_signers (the file of keys that may sign, "
                         "committed on the default branch)", where)
    if policy.method == "sigstore" and not (policy.workflow and policy.ref):
        raise InputError("sigstore signing needs workflow and ref (the identity that signs, "
                         "e.g. .github/workflows/ml-release.yml and refs/heads/main)", where)
    return policy


@contextlib.contextmanager
def private_key_file(policy: SigningPolicy, repo: Path) -> Iterator[Path | None]:
    """The SSH private key as a file git can use, or None when this machine has none.

    ``env:NAME`` keys (a CI secret) are written to a private temporary file for the duration
    of the write and removed afterwards; a file path is used as it is (it must not be readable
    by others, as ssh-keygen insists).
    """
    with secret_file(policy.key, repo, "signing_key") as path:
        if path is not None and not (policy.key or "").startswith(ENV_PREFIX) and (
                path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)):
            raise InputError("the signing key is readable by others; chmod 600 it", path)
        yield path


def key_source(policy: SigningPolicy) -> str:
    """Where the key is expected, in words for a refusal."""
    spec = policy.key or ""
    if spec.startswith(ENV_PREFIX):
        return f"the variable {spec[len(ENV_PREFIX):]} (a CI secret of the release workflow)"
    return f"the file {spec}" if spec else "ledger.signing.key (not set)"


def keyless_policy(policy: SigningPolicy, repo: Path) -> Any:
    """The workflow identity that may sign (``method: sigstore``); the repository defaults to
    GITHUB_REPOSITORY, then the origin remote's OWNER/REPO."""
    from mlgate.signing.workflow_identity import KeylessPolicy

    fallback = os.environ.get("GITHUB_REPOSITORY", "").strip() or origin_repository(repo)
    section = {k: v for k, v in policy.raw.items()
               if k in ("method", "workflow", "ref", "repository", "issuer", "server_url")}
    return KeylessPolicy.from_config(section, repository=fallback, source=policy.where)


def origin_repository(repo: Path) -> str | None:
    """OWNER/REPO of the origin remote when it is a GitHub-style URL."""
    import re

    from mlgate.ledger import gitio

    try:
        url = gitio.git(repo, "remote", "get-url", "origin").strip()
    except gitio.GitError:
        return None
    match = re.search(r"[:/]([A-Za-z0-9-]+/[A-Za-z0-9._-]+?)(?:\.git)?/?$", url)
    return match.group(1) if match else None


@dataclass(frozen=True)
class ArtifactSigning:
    """``ledger.artifact_signing``: how registered artifacts are signed and checked."""

    method: str
    private_key: str | None = None
    public_key: str | None = None
    where: str = "mlgate.yaml:ledger.artifact_signing"


def artifact_signing(raw: dict[str, Any] | None, where: str,
                     events: SigningPolicy | None) -> ArtifactSigning | None:
    """Read ``ledger.artifact_signing`` (schema-validated) with its cross-checks."""
    if not raw:
        return None
    out = ArtifactSigning(str(raw["method"]), raw.get("private_key"), raw.get("public_key"),
                          where)
    if out.method == "key" and not out.public_key:
        raise InputError("key signing needs public_key (committed on the default branch)",
                         where)
    if out.method == "sigstore" and (events is None or events.method != "sigstore"):
        raise InputError("sigstore artifact signing uses the workflow identity of "
                         "ledger.signing, which must have method: sigstore", where)
    return out


@contextlib.contextmanager
def secret_file(spec: str | None, repo: Path, name: str) -> Iterator[Path | None]:
    """A key given as ``env:NAME`` (written to a private temporary file while needed) or as a
    path; None when this machine does not have it."""
    if not spec:
        yield None
        return
    if spec.startswith(ENV_PREFIX):
        content = os.environ.get(spec[len(ENV_PREFIX):], "")
        if not content.strip():
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="mlgate-key-") as tmp:
            path = Path(tmp) / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(content if content.endswith("\n") else content + "\n")
            yield path
        return
    path = Path(spec).expanduser()
    path = path if path.is_absolute() else repo / path
    yield path if path.is_file() else None
