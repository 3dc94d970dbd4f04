"""Signed model artifacts in the ledger (``ledger.artifact_signing``).

``register`` signs the artifact's bytes, as the registered commit holds them, with OpenSSF
model signing (:mod:`mlgate.signing.artifact`) and stores the signature in the version's
evidence entry (so the tag's ``evidence`` digest, and a signed tag, cover it too). A version
then counts only when that signature verifies on the blob in git with the public key or
workflow identity the **default branch** names; the champion lookup and ``mlgate serve
NAME@vX.Y.Z`` load exactly those verified bytes.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlgate.default_branch import DefaultBranch, read_file
from mlgate.errors import InputError
from mlgate.ledger.signing import ArtifactSigning, SigningPolicy, keyless_policy, secret_file


@contextlib.contextmanager
def as_file(content: bytes, name: str) -> Iterator[Path]:
    """Bytes (an artifact read from git) as a private temporary file named like the original."""
    with tempfile.TemporaryDirectory(prefix="mlgate-artifact-") as tmp:
        path = Path(tmp) / (Path(name).name or "artifact")
        path.write_bytes(content)
        yield path


@contextlib.contextmanager
def _branch_file(repo: Path, branch: DefaultBranch, path: str | None,
                 what: str, where: str) -> Iterator[Path | None]:
    if not path:
        yield None
        return
    found = read_file(repo, branch, path)
    if found is None:
        raise InputError(f"the {what} {branch.name}:{path} is not on the default branch", where)
    with as_file(found.content, path) as copy:
        yield copy


def sign(repo: Path, branch: DefaultBranch, rules: ArtifactSigning,
         events: SigningPolicy | None, content: bytes, name: str) -> dict[str, Any]:
    """The signature document of ``content`` (the registered artifact), or InputError when
    this machine cannot sign (no key, no OIDC credential)."""
    from mlgate.signing.artifact import KeyMethod, sign_artifact

    with as_file(content, name) as artifact:
        if rules.method == "key":
            with secret_file(rules.private_key, repo, "artifact_key") as key:
                if key is None:
                    raise InputError("artifacts must be signed and there is no private key "
                                     f"here (expected {rules.private_key or 'private_key'})",
                                     rules.where)
                return sign_artifact(artifact, KeyMethod(private_key=key))
        assert events is not None
        with _branch_file(repo, branch, events.trust_config, "trust config",
                          events.where) as config:
            return sign_artifact(artifact, _sigstore(events, repo, config))


def check(repo: Path, branch: DefaultBranch, rules: ArtifactSigning,
          events: SigningPolicy | None, content: bytes, name: str, signature: Any) -> str:
    """Who signed ``content`` (the blob in git); SignatureMismatch when the signature does not
    vouch for these bytes, InputError when it cannot be checked."""
    from mlgate.signing.artifact import KeyMethod, verify_artifact

    with as_file(content, name) as artifact:
        if rules.method == "key":
            with _branch_file(repo, branch, rules.public_key, "public key",
                              rules.where) as public:
                return verify_artifact(artifact, signature, KeyMethod(public_key=public),
                                       source="the version's evidence note")
        assert events is not None
        with _branch_file(repo, branch, events.trust_config, "trust config",
                          events.where) as config:
            return verify_artifact(artifact, signature, _sigstore(events, repo, config),
                                   source="the version's evidence note")


def _sigstore(events: SigningPolicy, repo: Path, trust_config: Path | None) -> Any:
    """The artifact-signing method for the ledger's one workflow identity."""
    from mlgate.signing.methods import SigstoreMethod

    return SigstoreMethod.from_policy(keyless_policy(events, repo), trust_config=trust_config)
