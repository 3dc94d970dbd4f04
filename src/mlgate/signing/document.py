"""The stored signature document: a Sigstore bundle (v0.3 JSON) as model-signing writes it.

A signature read from git notes is untrusted input. Its *shape* is checked here so that a
broken document is bad input (one line naming where it came from), and only a well-formed
document reaches verification, whose failures are refusals. The statement inside is an in-toto
statement whose predicate lists the signed files: for an mlgate artifact exactly one, named
``.`` (model-signing's name for "the file itself"), with the SHA-256 of its bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Literal

from mlgate.errors import InputError

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"
SINGLE_FILE = "."

SignerKind = Literal["key", "certificate"]


@dataclass(frozen=True)
class SignedFile:
    """One entry of the signed manifest: a path in the model ("." for a single file)."""

    name: str
    algorithm: str
    digest: str


@dataclass(frozen=True)
class Document:
    """A signature document whose shape has been checked (its signature has not)."""

    bundle: dict[str, Any]
    signer: SignerKind
    files: tuple[SignedFile, ...]

    def single_file_sha256(self) -> str | None:
        """The signed SHA-256 when the signature covers exactly one file, else None."""
        if len(self.files) != 1:
            return None
        only = self.files[0]
        return only.digest if only.name == SINGLE_FILE and only.algorithm == "sha256" else None


def parse(signature: object, source: str) -> Document:
    """Check the document's structure and decode its (still unverified) statement."""
    if not isinstance(signature, dict):
        raise InputError("the signature is not a JSON object", source)
    media = signature.get("mediaType")
    if not isinstance(media, str) or not media.startswith("application/vnd.dev.sigstore.bundle"):
        raise InputError(f"not a Sigstore bundle (mediaType {media!r})", source)
    envelope = signature.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        raise InputError("the signature has no DSSE envelope (dsseEnvelope)", source)
    if envelope.get("payloadType") != IN_TOTO_PAYLOAD:
        raise InputError(f"the DSSE payload is not an in-toto statement ({IN_TOTO_PAYLOAD})",
                         source)
    signatures = envelope.get("signatures")
    if (not isinstance(signatures, list) or len(signatures) != 1
            or not isinstance(signatures[0], dict)
            or not isinstance(signatures[0].get("sig"), str)):
        raise InputError("the DSSE envelope must hold exactly one signature", source)
    _base64(signatures[0]["sig"], "dsseEnvelope.signatures[0].sig", source)
    statement = _statement(envelope.get("payload"), source)
    return Document(signature, _signer(signature, source), _manifest(statement, source))


def _signer(bundle: dict[str, Any], source: str) -> SignerKind:
    material = bundle.get("verificationMaterial")
    if not isinstance(material, dict):
        raise InputError("the signature has no verificationMaterial", source)
    if "certificate" in material or "x509CertificateChain" in material:
        return "certificate"
    key = material.get("publicKey")
    if isinstance(key, dict):
        hint = key.get("hint")
        if not isinstance(hint, str) or len(hint) != 64:
            raise InputError("the signature's public key hint is not a SHA-256 hex digest", source)
        return "key"
    raise InputError("the signature names neither a public key nor a certificate", source)


def _statement(payload: object, source: str) -> dict[str, Any]:
    raw = _base64(payload, "dsseEnvelope.payload", source)
    try:
        statement = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError("the signed payload is not JSON", source) from None
    if not isinstance(statement, dict) or statement.get("_type") != "https://in-toto.io/Statement/v1":
        raise InputError("the signed payload is not an in-toto v1 statement", source)
    return statement


def _manifest(statement: dict[str, Any], source: str) -> tuple[SignedFile, ...]:
    subjects = statement.get("subject")
    predicate = statement.get("predicate")
    resources = predicate.get("resources") if isinstance(predicate, dict) else None
    if (not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict)
            or not isinstance(resources, list)):
        raise InputError("the signed statement is not a model-signing manifest", source)
    files = []
    for item in resources:
        fields = [item.get(k) if isinstance(item, dict) else None
                  for k in ("name", "algorithm", "digest")]
        if not all(isinstance(f, str) for f in fields):
            raise InputError("the signed manifest lists a file without name, algorithm and digest",
                             source)
        files.append(SignedFile(*[str(f) for f in fields]))
    return tuple(files)


def _base64(value: object, field: str, source: str) -> bytes:
    if not isinstance(value, str):
        raise InputError(f"{field} is missing", source)
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise InputError(f"{field} is not base64", source) from None
