"""Keyless signing of ledger events with the release workflow's GitHub identity (Sigstore).

``method: sigstore``. The release job signs an in-toto statement of each ledger event (see
:mod:`mlgate.signing.ledger_statement`) with a short-lived certificate that Fulcio issues for
the job's OIDC token, and the signature is recorded in Rekor's transparency log. No key exists
to steal or leak; what makes the signature mean something is *who* the certificate names, so
:func:`verify` checks that it is the configured workflow of the configured repository and ref
(:mod:`mlgate.signing.workflow_identity`).

Outcomes, for the ledger's validating reader:

* :func:`verify` returns the signer identity: the entry is signed by the release workflow;
* :class:`SignatureRefused`: the bundle was read but proves nothing for this entry (bad
  signature, certificate not from the trust root, log entry missing or forged, another
  workflow/ref/repository/issuer, or a statement other than the recorded event): mark the
  entry invalid with ``str(exc)`` as the reason;
* :class:`BundleUnreadable` (an :class:`InputError`): the bundle is not a Sigstore bundle at
  all. Also tag content anyone can write: mark the entry invalid, do not stop the command;
* any other :class:`InputError`: the configuration or environment is wrong (no trust root, no
  OIDC credential, bad policy): exit 2.

The OIDC token to sign with (:func:`signing_token`: the job's own, :func:`ambient_identity_token`,
checked against the expected signer by :func:`check_token`) is also the one artifact signing
(:mod:`mlgate.signing.artifact`) uses.

``sigstore`` is an optional dependency (``pip install 'mlgate[signing]'``), imported only in
functions.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509

from mlgate.errors import InputError
from mlgate.signing.ledger_statement import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    GateDigest,
    LedgerEvent,
    canonical_bytes,
    statement,
)
from mlgate.signing.workflow_identity import (
    GITHUB_ISSUER,
    CertificateIdentityPolicy,
    IdentityMismatch,
    KeylessPolicy,
    SignerIdentity,
)

if TYPE_CHECKING:
    from sigstore.models import Bundle
    from sigstore.oidc import IdentityToken
    from sigstore.verify import Verifier

__all__ = [
    "GITHUB_ISSUER",
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "BundleUnreadable",
    "GateDigest",
    "KeylessPolicy",
    "LedgerEvent",
    "SignatureRefused",
    "ambient_identity_token",
    "canonical_bytes",
    "check_token",
    "sign",
    "signing_token",
    "statement",
    "verify",
]

MAX_BUNDLE_BYTES = 1 << 20  # a bundle is a few KB; anything this large is not one
MAX_REASON = 600  # refusal reasons are shown in tables; library messages can embed whole proofs
PERMISSION_HINT = "the job needs `permissions: id-token: write`"


class SignatureRefused(Exception):
    """The bundle does not prove that the configured workflow signed this exact event.

    Not an :class:`InputError`: nothing is wrong with the command; the ledger entry is simply
    not validly signed, and the reader records ``reason`` against it.
    """

    def __init__(self, reason: str) -> None:
        text = " ".join(reason.split())
        self.reason = text if len(text) <= MAX_REASON else text[:MAX_REASON - 3] + "..."
        super().__init__(self.reason)


class BundleUnreadable(InputError):
    """The stored signature is not a readable Sigstore bundle (exit 2 when asked for directly;
    the ledger reader treats it as an invalid entry, since notes are anyone's to write)."""


def sign(
    statement: Mapping[str, Any], identity_token: str | None = None, *,
    trust_config: Path | None = None, policy: KeylessPolicy | None = None,
) -> dict[str, Any]:
    """Sign ``statement`` (from :func:`statement`) as a DSSE envelope; return the Sigstore
    bundle (a JSON object, as sigstore writes it).

    ``identity_token`` is an OIDC token for audience ``sigstore``; by default the job's own
    (``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``, present only with ``id-token: write``).
    With ``policy`` (the one :func:`verify` will be given), a token for another workflow,
    ref, repository or issuer is refused before anything is signed (:func:`check_token`).
    Fulcio certifies an ephemeral key for that identity and Rekor logs the signature, so this
    needs network: Sigstore's public-good instance (its trust material fetched with TUF), or
    the instance described by ``trust_config`` (a ``ClientTrustConfig`` JSON file: trusted
    root plus signing config).
    """
    payload = canonical_bytes(statement)
    token = signing_token(identity_token, policy.signer if policy is not None else None)
    identity = _identity_token(token)
    from sigstore import dsse
    from sigstore.sign import SigningContext

    config = _client_trust_config(trust_config)
    try:
        context = SigningContext.from_trust_config(config)
        with context.signer(identity, cache=True) as signer:
            bundle = signer.sign_dsse(dsse.Statement(payload))
    # Fulcio, Rekor and the HTTP layer raise unrelated types (FulcioClientError,
    # RekorClientError, requests errors, ExpiredIdentity, sigstore.errors.Error); each means the
    # signature could not be made, which the caller reports as one line.
    except Exception as exc:
        raise InputError(f"Sigstore signing failed ({type(exc).__name__}): {exc}",
                         "sigstore") from exc
    doc: dict[str, Any] = json.loads(bundle.to_json())
    return doc


def signing_token(identity_token: str | None, signer: SignerIdentity | None) -> str:
    """The OIDC token to sign with: ``identity_token``, else the job's own
    (:func:`ambient_identity_token`); with a ``signer``, checked to be its (:func:`check_token`).
    """
    token = identity_token if identity_token is not None else ambient_identity_token()
    if not token.strip():
        raise InputError("the OIDC identity token is empty", "sigstore")
    if signer is not None:
        check_token(token, signer)
    return token


def check_token(token: str, signer: SignerIdentity) -> None:
    """Refuse a token Fulcio would reject (malformed, expired, wrong audience) or one whose
    certificate the verifier would refuse: another issuer, identity (workflow and its ref),
    repository or ref than ``signer``'s. So a release never signs what its own check rejects.

    The claims are read unverified: Fulcio verifies the token, this only avoids signing as the
    wrong identity. A ``ref`` claim is compared when the token has one.
    """
    parsed = _identity_token(token)
    claims = _claims(token)
    if parsed.issuer != signer.issuer:
        raise InputError(
            f"the OIDC token is from {parsed.issuer}, the verifier expects {signer.issuer}",
            "sigstore",
        )
    workflow_ref = claims.get("job_workflow_ref")  # Fulcio's SAN for a GitHub workflow
    subject = f"{signer.server_url}/{workflow_ref}" if workflow_ref else parsed.identity
    if subject != signer.identity:
        raise InputError(
            f"this run would sign as {subject}; the verifier expects {signer.identity}",
            "sigstore",
        )
    if signer.repository is not None and claims.get("repository") != signer.repository:
        raise InputError(
            f"this run is in repository {claims.get('repository') or '(none)'}; the verifier "
            f"expects {signer.repository}",
            "sigstore",
        )
    if signer.ref is not None and "ref" in claims and claims["ref"] != signer.ref:
        raise InputError(
            f"this run is on {claims['ref']}; the verifier expects {signer.ref}", "sigstore")


def ambient_identity_token() -> str:
    """The running GitHub Actions job's OIDC token for audience ``sigstore``.

    GitHub gives a job the request URL and token only when the workflow grants
    ``permissions: id-token: write``; without them there is no identity to sign with.
    """
    missing = [name for name in ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
               if not os.environ.get(name)]
    if missing:
        raise InputError(
            f"no OIDC credential for keyless signing ({' and '.join(missing)} unset): run it in "
            f"GitHub Actions, where {PERMISSION_HINT}, or pass an identity token",
            missing[0])
    if not os.environ.get("GITHUB_ACTIONS"):
        raise InputError("ACTIONS_ID_TOKEN_REQUEST_URL is set but GITHUB_ACTIONS is not: only "
                         "a GitHub Actions job's own OIDC credential is used", "GITHUB_ACTIONS")
    _require_sigstore()
    from sigstore.oidc import IdentityError, detect_credential

    try:
        token = detect_credential()
    except IdentityError as exc:
        raise InputError(f"GitHub refused the OIDC token ({exc}); {PERMISSION_HINT}",
                         "ACTIONS_ID_TOKEN_REQUEST_URL") from exc
    if not token:
        raise InputError(f"GitHub gave no OIDC token; {PERMISSION_HINT}",
                         "ACTIONS_ID_TOKEN_REQUEST_URL")
    return token


def verify(
    bundle: Mapping[str, Any], statement: Mapping[str, Any], policy: KeylessPolicy,
    trusted_root: Path | None = None,
) -> str:
    """Check that ``bundle`` is ``policy``'s workflow signing exactly ``statement``; return the
    signer identity (the certificate SAN).

    Checked, in the library's order: a verified time from the log entry's signed timestamp;
    the certificate chains to a CA of the trust root at that time; its embedded SCT is signed
    by a CT log of the trust root; it is a code-signing leaf; its identity matches ``policy``;
    the log entry's inclusion proof reaches a checkpoint signed by a log of the trust root
    (and its SET verifies); the signing time is inside the certificate's 10 minutes; the DSSE
    signature verifies with the certificate's key; the log entry records this envelope. Then
    here: the payload is an in-toto statement whose bytes equal ``canonical_bytes(statement)``.

    ``trusted_root``: a ``trusted_root.json`` (sigstore's format) to verify offline; None uses
    Sigstore's public-good root, which sigstore fetches and refreshes with TUF (network).
    """
    expected = canonical_bytes(statement)
    parsed = _read_bundle(bundle)
    verifier = _verifier(trusted_root)
    from cryptography.exceptions import InvalidSignature
    from sigstore.errors import Error as SigstoreError

    try:
        payload_type, payload = verifier.verify_dsse(parsed, CertificateIdentityPolicy(policy))
    except IdentityMismatch as exc:
        raise SignatureRefused(f"not signed by the release workflow: {exc}") from exc
    # Everything the verifier raises on a bundle it could read is about that bundle: a bad
    # signature, chain, SCT, proof or log entry (VerificationError), or a certificate or
    # envelope it cannot use (other sigstore errors, malformed extensions).
    except (SigstoreError, ValueError, InvalidSignature, x509.ExtensionNotFound) as exc:
        raise SignatureRefused(f"the signature does not verify: {exc}") from exc
    if payload_type != PAYLOAD_TYPE:
        raise SignatureRefused(f"the signed payload is {payload_type!r}, not an in-toto statement")
    if payload != expected:
        raise SignatureRefused("the signed statement is not this event: "
                               + _differences(payload, statement))
    return _san(parsed.signing_certificate)


# --- helpers --------------------------------------------------------------------------------


def _require_sigstore() -> None:
    try:
        import sigstore  # noqa: F401
    except ImportError as exc:
        raise InputError("keyless signing needs the sigstore package: "
                         "pip install 'mlgate[signing]'", "ledger.signing") from exc


def _identity_token(token: str) -> IdentityToken:
    """``token`` as sigstore reads it (a JWT for audience ``sigstore``, not expired)."""
    _require_sigstore()
    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import IdentityToken

    try:
        return IdentityToken(token)
    except SigstoreError as exc:
        raise InputError(f"the OIDC identity token is unusable: {exc}", "sigstore") from exc


def _claims(token: str) -> dict[str, Any]:
    """The token's claims, unverified (``IdentityToken`` has checked it is a JWT)."""
    try:
        part = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError, binascii.Error):
        raise InputError("the OIDC identity token is not a JWT", "sigstore") from None
    return data if isinstance(data, dict) else {}


def _read_bundle(bundle: Mapping[str, Any]) -> Bundle:
    if not isinstance(bundle, Mapping):
        raise BundleUnreadable(f"a Sigstore bundle is a JSON object, not {type(bundle).__name__}",
                               "bundle")
    try:
        text = json.dumps(bundle)
    except (TypeError, ValueError, RecursionError) as exc:
        raise BundleUnreadable(f"the bundle is not plain JSON ({exc})", "bundle") from exc
    if len(text) > MAX_BUNDLE_BYTES:
        raise BundleUnreadable(f"the bundle is larger than {MAX_BUNDLE_BYTES} bytes", "bundle")
    _require_sigstore()
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle

    try:
        parsed = Bundle.from_json(text)
    # InvalidBundle (a sigstore Error) for the bundle's own rules; ValueError for malformed
    # base64, DER or protobuf-JSON fields underneath.
    except (SigstoreError, ValueError) as exc:
        raise BundleUnreadable(f"not a readable Sigstore bundle: {_first_line(exc)}",
                               "bundle") from exc
    return parsed


def _verifier(trusted_root: Path | None) -> Verifier:
    _require_sigstore()
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier

    if trusted_root is None:
        try:
            return Verifier.production()
        except (SigstoreError, OSError) as exc:
            raise InputError(
                f"Sigstore's public-good trust root is fetched with TUF and needs network "
                f"({_first_line(exc)}); offline, pass a trusted_root.json", "trusted root",
            ) from exc
    try:
        return Verifier(trusted_root=TrustedRoot.from_file(str(trusted_root)))
    except (SigstoreError, ValueError, OSError) as exc:
        raise InputError(f"not a usable Sigstore trusted root: {_first_line(exc)}",
                         trusted_root) from exc


def _client_trust_config(path: Path | None) -> Any:
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import ClientTrustConfig

    try:
        if path is None:
            return ClientTrustConfig.production()
        return ClientTrustConfig.from_json(path.read_text(encoding="utf-8"))
    except (SigstoreError, ValueError, OSError) as exc:
        where = path if path is not None else "sigstore public-good (TUF, needs network)"
        raise InputError(f"no usable Sigstore signing configuration: {_first_line(exc)}",
                         where) from exc


def _san(cert: x509.Certificate) -> str:
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return str(names.get_values_for_type(x509.UniformResourceIdentifier)[0])


def _differences(payload: bytes, stmt: Mapping[str, Any]) -> str:
    """Name what differs between the signed statement and the recorded event."""
    try:
        signed = json.loads(payload)
    except (ValueError, RecursionError):
        return "the signed payload is not JSON"
    if not isinstance(signed, dict):
        return "the signed payload is not a JSON object"
    diffs: list[str] = []
    for key in sorted(set(signed) | set(stmt)):
        if key == "predicate" and isinstance(signed.get(key), dict):
            predicate = stmt.get("predicate") or {}
            diffs.extend(f"predicate.{k}" for k in sorted(set(signed[key]) | set(predicate))
                         if signed[key].get(k) != predicate.get(k))
        elif key == "subject" and signed.get(key) != stmt.get(key):
            diffs.append("subject (artifact name or sha256)")
        elif signed.get(key) != stmt.get(key):
            diffs.append(key)
    return "differs in " + ", ".join(diffs) if diffs else "same content, other encoding"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
