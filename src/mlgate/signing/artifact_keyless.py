"""Sigstore (keyless) specifics: where the OIDC token comes from, and who a certificate names.

Signing never starts model-signing's interactive OAuth flow (a browser, in CI: a hang): the
token is given explicitly or read from GitHub Actions, else the caller gets one line saying
what the job needs. The token is checked against the expected signer *before* signing, so a
release never writes a signature its own verifier will refuse.

On verification, the leaf certificate's identity, issuer and source repository are read
before model-signing runs. Refusing on them early is safe even though they are not yet
authenticated; accepting needs model-signing's verification, which checks the same
certificate against Fulcio's root, the transparency log and the exact identity and issuer.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from mlgate.errors import InputError
from mlgate.signing.errors import SignatureMismatch
from mlgate.signing.methods import GITHUB_ACTIONS_ISSUER, SigstoreMethod

# Fulcio's certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md)
_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"  # raw string
_GITHUB_REPOSITORY_V1 = "1.3.6.1.4.1.57264.1.5"  # raw string "OWNER/REPO"
_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"  # DER UTF8String
_SOURCE_REPOSITORY_URI = "1.3.6.1.4.1.57264.1.12"  # DER UTF8String

OIDC_HELP = (
    "Sigstore signing needs an OIDC identity token: in GitHub Actions give the signing job "
    "`permissions: id-token: write` (pull requests from forks never get one)"
)


def identity_token(method: SigstoreMethod) -> str:
    """The OIDC token to sign with: the method's, else this GitHub Actions job's; checked."""
    token = method.identity_token or _github_actions_token()
    check_token(token, method)
    return token


def _github_actions_token() -> str:
    if not os.environ.get("GITHUB_ACTIONS"):
        raise InputError(OIDC_HELP + "; outside GitHub Actions pass an identity token", "sigstore")
    if not (os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")
            and os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")):
        raise InputError(OIDC_HELP, "sigstore")
    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import detect_credential

    try:
        token = detect_credential("sigstore")
    except SigstoreError as exc:
        raise InputError(f"cannot get this job's OIDC token: {exc}", "sigstore") from None
    if not token:
        raise InputError(OIDC_HELP, "sigstore")
    return token


def check_token(token: str, method: SigstoreMethod) -> None:
    """Refuse a token Fulcio would reject (malformed, expired, wrong audience) or one whose
    certificate the verifier would refuse (another issuer, workflow or repository)."""
    from sigstore.oidc import IdentityError, IdentityToken

    try:
        parsed = IdentityToken(token)
    except IdentityError as exc:
        raise InputError(f"the OIDC identity token is unusable: {exc}", "sigstore") from None
    claims = _claims(token)
    if parsed.issuer != method.issuer:
        raise InputError(
            f"the OIDC token is from {parsed.issuer}, the verifier expects {method.issuer}",
            "sigstore",
        )
    if method.identity is not None:
        if parsed.issuer == GITHUB_ACTIONS_ISSUER:
            subject = f"https://github.com/{claims.get('job_workflow_ref', '')}"
        else:
            subject = parsed.identity
        if subject != method.identity:
            raise InputError(
                f"this run would sign as {subject}; the verifier expects {method.identity}",
                "sigstore",
            )
    if method.repository is not None:
        repository = str(claims.get("repository", ""))
        if repository.casefold() != method.repository.casefold():
            raise InputError(
                f"this run is in repository {repository or '(none)'}; the verifier expects "
                f"{method.repository}",
                "sigstore",
            )


def _claims(token: str) -> dict[str, Any]:
    """The token's claims, unverified (Fulcio verifies the token; this only avoids signing as
    the wrong identity). ``IdentityToken`` has already checked it is a well-formed JWT."""
    try:
        part = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError, binascii.Error):
        raise InputError("the OIDC identity token is not a JWT", "sigstore") from None
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class CertificateIdentity:
    """What a Fulcio certificate says about its holder (unauthenticated until verified)."""

    subjects: tuple[str, ...]
    issuer: str | None
    repository: str | None


def certificate_identity(bundle: dict[str, Any], source: str) -> CertificateIdentity:
    """Read the leaf certificate of a Sigstore bundle: SANs, OIDC issuer, source repository."""
    material = bundle.get("verificationMaterial")
    raw: object = None
    if isinstance(material, dict):
        cert = material.get("certificate")
        chain = material.get("x509CertificateChain")
        if isinstance(cert, dict):
            raw = cert.get("rawBytes")
        elif isinstance(chain, dict) and isinstance(chain.get("certificates"), list):
            first = chain["certificates"][0] if chain["certificates"] else None
            raw = first.get("rawBytes") if isinstance(first, dict) else None
    if not isinstance(raw, str):
        raise InputError("the Sigstore bundle has no signing certificate", source)
    try:
        leaf = x509.load_der_x509_certificate(base64.b64decode(raw, validate=True))
    except (ValueError, binascii.Error):
        raise InputError("the Sigstore bundle's certificate is not a DER certificate",
                         source) from None
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        subjects = tuple(
            [str(v) for v in names.get_values_for_type(x509.UniformResourceIdentifier)]
            + [str(v) for v in names.get_values_for_type(x509.RFC822Name)]
        )
    except x509.ExtensionNotFound:
        subjects = ()
    issuer = _utf8_extension(leaf, _ISSUER_V2) or _raw_extension(leaf, _ISSUER_V1)
    repository = _utf8_extension(leaf, _SOURCE_REPOSITORY_URI)
    if repository is None:
        legacy = _raw_extension(leaf, _GITHUB_REPOSITORY_V1)
        repository = f"https://github.com/{legacy}" if legacy else None
    return CertificateIdentity(subjects, issuer, repository)


def check_certificate(found: CertificateIdentity, method: SigstoreMethod, artifact: str) -> None:
    """Refuse a certificate of another identity, issuer or repository than the policy's."""
    if method.identity not in found.subjects:
        raise SignatureMismatch(
            f"signed by {', '.join(found.subjects) or 'an unnamed identity'}, not by "
            f"{method.identity}",
            artifact,
            "identity",
        )
    if found.issuer != method.issuer:
        raise SignatureMismatch(
            f"the signing certificate's OIDC issuer is {found.issuer or '(none)'}, not "
            f"{method.issuer}",
            artifact,
            "identity",
        )
    if method.repository is not None:
        expected = f"https://github.com/{method.repository}"
        if found.repository is None or found.repository.casefold() != expected.casefold():
            raise SignatureMismatch(
                f"the signing certificate names source repository "
                f"{found.repository or '(none)'}, not {expected}",
                artifact,
                "identity",
            )


def _extension_value(cert: x509.Certificate, oid: str) -> bytes | None:
    try:
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid))
    except x509.ExtensionNotFound:
        return None
    value = ext.value
    return value.value if isinstance(value, x509.UnrecognizedExtension) else None


def _raw_extension(cert: x509.Certificate, oid: str) -> str | None:
    data = _extension_value(cert, oid)
    return data.decode("utf-8", "replace") if data else None


def _utf8_extension(cert: x509.Certificate, oid: str) -> str | None:
    """Decode a DER UTF8String extension value (tag 0x0C, short or long form length)."""
    data = _extension_value(cert, oid)
    if not data or len(data) < 2 or data[0] != 0x0C:
        return None
    length, offset = data[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(data[2 : 2 + count], "big"), 2 + count
    return data[offset : offset + length].decode("utf-8", "replace")
