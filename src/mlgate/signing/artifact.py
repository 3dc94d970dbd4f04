"""Sign one artifact file, and check that a stored signature vouches for a file's bytes.

Both directions go through the real OpenSSF ``model-signing`` library with one fixed hashing
configuration: the artifact is serialized as a single file (model-signing names it ``.``)
hashed with SHA-256, streamed in 1 MiB chunks, symlinks refused, nothing ignored. So:

* the signed content is exactly the file's bytes, and the signed digest equals the ledger's
  ``artifact.sha256``;
* the file's *name* is recorded in the statement's subject but not compared: the ledger
  verifies bytes it copied out of git into a temporary file of another name, and a renamed
  copy of a signed model is still the signed model;
* the verifier fixes the hashing configuration, the method and the expected signer; the
  signature document chooses none of them.

Errors: :class:`~mlgate.errors.InputError` for bad input (exit 2) and
:class:`~mlgate.signing.errors.SignatureMismatch` (a subclass: catch it first) for a
signature that does not verify (a refusal, exit 1).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from cryptography import x509

from mlgate.errors import InputError
from mlgate.signing import document, keys
from mlgate.signing.errors import SignatureMismatch
from mlgate.signing.keyless import signing_token
from mlgate.signing.methods import KeyMethod, SigstoreMethod
from mlgate.signing.workflow_identity import IdentityProblem, certificate_problems

__all__ = ["KeyMethod", "SignatureMismatch", "SigstoreMethod", "sign_artifact", "verify_artifact"]

Method = KeyMethod | SigstoreMethod


def sign_artifact(path: Path, method: Method) -> dict[str, Any]:
    """Sign the bytes of the file at ``path``; return the signature document to store.

    The document is the Sigstore bundle (JSON) model-signing produces: a DSSE envelope around
    an in-toto statement listing the file's SHA-256, plus the public key's fingerprint (key
    method) or the Fulcio certificate and transparency-log entry (Sigstore method).
    """
    artifact = _artifact_file(path)
    lib = _library()
    with tempfile.TemporaryDirectory(prefix="mlgate-sign-") as tmp:
        config = lib.signing.Config().set_hashing_config(_hashing(lib))
        if isinstance(method, KeyMethod):
            if method.private_key is None:
                raise InputError("key signing needs the private key file", "private key")
            key = keys.load_private_key(method.private_key, method.password)
            key_file, password = keys.write_for_library(key, Path(tmp))
            # model-signing annotates the password as str but passes it to cryptography,
            # which needs bytes.
            config.use_elliptic_key_signer(private_key=key_file, password=password)
        else:
            _check_trust_config(method)
            token = signing_token(method.identity_token, method.signer)
            try:
                config.use_sigstore_signer(
                    identity_token=token,
                    use_ambient_credentials=False,
                    use_staging=method.staging,
                    trust_config=method.trust_config,
                )
            except Exception as exc:  # TUF / OIDC discovery over the network, or a bad file
                raise _sigstore_unavailable(exc, method) from None
        out = Path(tmp) / "signature.json"
        try:
            config.sign(artifact, out)
        except OSError as exc:
            raise InputError(f"cannot read the artifact: {exc.strerror or exc}", path) from None
        except Exception as exc:
            if isinstance(method, KeyMethod):
                raise
            raise _sigstore_unavailable(exc, method) from None
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result


def verify_artifact(
    path: Path, signature: object, method: Method, *, source: str | Path = "signature"
) -> str:
    """Check that ``signature`` was made over exactly the bytes of ``path`` by the signer
    ``method`` expects; return who signed (key fingerprint, or Sigstore identity).

    ``source`` names where the signature came from (a file, or a git note) in error messages.
    Raises :class:`InputError` for bad input and :class:`SignatureMismatch` for a refusal.
    """
    artifact = _artifact_file(path)
    where = str(source)
    doc = document.parse(signature, where)
    lib = _library()
    certificate = _parse_for_library(doc, where)
    with tempfile.TemporaryDirectory(prefix="mlgate-verify-") as tmp:
        config = lib.verifying.Config().set_hashing_config(_hashing(lib))
        if isinstance(method, KeyMethod):
            who = _key_verifier(config, doc, method, path, Path(tmp))
        else:
            who = _sigstore_verifier(config, certificate, method, path)
        signature_file = Path(tmp) / "signature.json"
        signature_file.write_text(json.dumps(doc.bundle), encoding="utf-8")
        _run_verification(config, artifact, signature_file, doc, path)
    if doc.single_file_sha256() is None:  # unreachable when the library agreed; kept as a guard
        raise _not_single_file(doc, path)
    return who


def _key_verifier(config: Any, doc: document.Document, method: KeyMethod, path: Path,
                  tmp: Path) -> str:
    if method.public_key is None:
        raise InputError("key verification needs the public key file", "public key")
    key = keys.load_public_key(method.public_key)
    if doc.signer != "key":
        raise SignatureMismatch(
            f"signed with a Sigstore certificate, not with the key {method.public_key}",
            path, "key",
        )
    hint = doc.bundle["verificationMaterial"]["publicKey"]["hint"]
    if hint != keys.fingerprint(key):
        raise SignatureMismatch(
            f"signed by another key (sha256:{hint}), not by {method.public_key} "
            f"(sha256:{keys.fingerprint(key)})",
            path, "key",
        )
    pem = tmp / "public-key.pem"
    pem.write_bytes(keys.public_pem(key))
    config.use_elliptic_key_verifier(public_key=pem)
    return keys.describe(key)


def _sigstore_verifier(config: Any, certificate: x509.Certificate | None,
                       method: SigstoreMethod, path: Path) -> str:
    """Refuse a certificate of another signer, then set up model-signing's verification.

    The certificate is checked before model-signing authenticates it: refusing early is safe,
    and accepting needs model-signing's verification too, which checks the same certificate
    against the trust root, the transparency log and the identity and issuer again.
    """
    signer = method.signer
    if signer is None:
        raise InputError("Sigstore verification needs the expected signer identity", "identity")
    if certificate is None:
        raise SignatureMismatch(
            f"signed with a key, not by the Sigstore identity {signer.identity}", path, "identity"
        )
    _check_trust_config(method)
    problems = certificate_problems(certificate, signer)
    if problems:
        refusals = dict.fromkeys(_identity_refusal(problem) for problem in problems)
        raise SignatureMismatch("; ".join(refusals), path, "identity")
    try:
        config.use_sigstore_verifier(
            identity=signer.identity,
            oidc_issuer=signer.issuer,
            use_staging=method.staging,
            trust_config=method.trust_config,
        )
    except Exception as exc:  # the trust root comes from TUF over the network, or a file
        raise _sigstore_unavailable(exc, method) from None
    who = f"Sigstore {signer.identity} (issuer {signer.issuer})"
    return f"{who}, repository {signer.repository}" if signer.repository else who


def _identity_refusal(problem: IdentityProblem) -> str:
    """How an artifact refusal words one identity problem."""
    found = problem.found or ("an unnamed identity" if problem.claim == "identity" else "(none)")
    if problem.claim == "identity":
        return f"signed by {found}, not by {problem.wanted}"
    if problem.claim == "OIDC issuer":
        return f"the signing certificate's OIDC issuer is {found}, not {problem.wanted}"
    return f"the signing certificate names {problem.claim} {found}, not {problem.wanted}"


def _parse_for_library(doc: document.Document, source: str) -> x509.Certificate | None:
    """Parse the bundle with the model the library will use, so that a document it cannot
    read is bad input here, and every later library failure is a verification failure.
    Returns the signing certificate (None for a key-signed document)."""
    try:
        if doc.signer == "key":
            from sigstore_models.bundle.v1 import Bundle as KeyBundle

            bundle = dict(doc.bundle)
            material = dict(bundle["verificationMaterial"])
            material.setdefault("tlogEntries", [])
            bundle["verificationMaterial"] = material
            KeyBundle.from_dict(bundle)
            return None
        from sigstore.models import Bundle as SigstoreBundle

        return SigstoreBundle.from_json(json.dumps(doc.bundle)).signing_certificate
    except Exception as exc:  # pydantic and sigstore raise several types for bad documents
        detail = " ".join(str(exc).split())[:200]
        raise InputError(f"malformed Sigstore bundle: {detail}", source) from None


def _run_verification(config: Any, artifact: Path, signature_file: Path,
                      doc: document.Document, path: Path) -> None:
    from cryptography.exceptions import InvalidSignature
    from sigstore.errors import Error as SigstoreError

    try:
        config.verify(artifact, signature_file)
    except OSError as exc:
        raise InputError(f"cannot read the artifact: {exc.strerror or exc}", path) from None
    except InvalidSignature:
        raise SignatureMismatch(
            "the signature does not verify with the expected key: the signature document was "
            "altered", path, "signature",
        ) from None
    except SigstoreError as exc:
        raise SignatureMismatch(f"Sigstore verification failed: {exc}", path,
                                "signature") from None
    except ValueError as exc:
        raise _classify_mismatch(exc, artifact, doc, path) from None


def _classify_mismatch(exc: ValueError, artifact: Path, doc: document.Document,
                       path: Path) -> SignatureMismatch:
    """After model-signing refused: were the bytes different, or the signature itself?"""
    signed = doc.single_file_sha256()
    if signed is None:
        return _not_single_file(doc, path)
    actual = _sha256(artifact)
    if actual != signed:
        return SignatureMismatch(
            f"the file's bytes are not the signed ones (sha256:{actual}, signed "
            f"sha256:{signed})",
            path, "content",
        )
    detail = " ".join(str(exc).split())[:200]
    return SignatureMismatch(f"the signature does not verify: {detail}", path, "signature")


def _not_single_file(doc: document.Document, path: Path) -> SignatureMismatch:
    names = ", ".join(f.name for f in doc.files[:5]) or "nothing"
    return SignatureMismatch(
        f"the signature covers {len(doc.files)} file(s) of a model directory ({names}), not "
        "one artifact file",
        path, "content",
    )


def _check_trust_config(method: SigstoreMethod) -> None:
    if method.trust_config is not None and not Path(method.trust_config).is_file():
        raise InputError("cannot read the Sigstore trust config file", method.trust_config)


def _sigstore_unavailable(exc: Exception, method: SigstoreMethod) -> InputError:
    cause = exc if str(exc) or exc.__cause__ is None else exc.__cause__
    detail = " ".join(f"{type(exc).__name__}: {cause}".split())[:300]
    where = str(method.trust_config) if method.trust_config else "sigstore"
    return InputError(
        f"Sigstore is unavailable ({detail}); signing needs network access to Sigstore, "
        "verification needs it unless a trust_config file is given",
        where,
    )


def _artifact_file(path: Path) -> Path:
    """The regular file behind ``path`` (symlinks resolved: model-signing refuses them)."""
    try:
        real = Path(path).resolve(strict=True)
    except (OSError, RuntimeError):
        raise InputError("the artifact does not exist", path) from None
    if not real.is_file():
        raise InputError("the artifact is not a regular file (one model file is signed)", path)
    return real


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _hashing(lib: Any) -> Any:
    """The one hashing configuration: a single file, SHA-256, no symlinks, nothing ignored."""
    return (
        lib.hashing.Config()
        .set_ignored_paths(paths=[], ignore_git_paths=False)
        .use_file_serialization(hashing_algorithm="sha256", allow_symlinks=False)
    )


class _Library:
    """The model-signing modules, imported on first use (the dependency is an extra)."""

    def __init__(self, signing: ModuleType, verifying: ModuleType, hashing: ModuleType) -> None:
        self.signing = signing
        self.verifying = verifying
        self.hashing = hashing


def _library() -> _Library:
    try:
        from model_signing import hashing, signing, verifying
    except ImportError as exc:
        raise InputError(
            f"artifact signing needs model-signing ({exc}): pip install 'mlgate[signing]'",
            "model-signing",
        ) from None
    return _Library(signing, verifying, hashing)
