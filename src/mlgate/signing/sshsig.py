"""SSH signatures on git tags (OpenSSH's SSHSIG format), verified in-process.

git signs an annotated tag with ``gpg.format=ssh`` by appending an armored SSHSIG block to
the tag's message; ``git verify-tag`` checks it by running ``ssh-keygen -Y verify`` against
an allowed-signers file. ``mlgate verify`` does exactly that. ``status`` and the champion
lookup judge hundreds of entries, and a process pair per entry would cost seconds, so this
module checks the same signature in-process (one key lookup and one signature check each);
the tests show both agree.

What is checked (PROTOCOL.sshsig): the blob's magic and version, namespace ``git``, that the
signing public key is listed in the allowed-signers file (for namespace ``git``, within any
``valid-after``/``valid-before`` window), and the signature over
``"SSHSIG" || namespace || reserved || hash algorithm || H(payload)`` with that key (Ed25519,
ECDSA P-256/384/521, RSA with SHA-256/512).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

BEGIN = b"-----BEGIN SSH SIGNATURE-----"
END = b"-----END SSH SIGNATURE-----"
MAGIC = b"SSHSIG"
NAMESPACE = b"git"
_HASHES = {b"sha256": hashlib.sha256, b"sha512": hashlib.sha512}


class SignatureProblem(Exception):
    """The signature is missing, malformed, by an unknown key, or does not verify."""


@dataclass(frozen=True)
class AllowedSigner:
    """One line of an allowed-signers file: who, which key (type + base64 blob), where."""

    principals: tuple[str, ...]
    key_type: str
    key_blob: bytes
    namespaces: tuple[str, ...] | None = None
    valid_after: datetime | None = None
    valid_before: datetime | None = None

    @property
    def fingerprint(self) -> str:
        digest = base64.b64encode(hashlib.sha256(self.key_blob).digest()).rstrip(b"=")
        return f"SHA256:{digest.decode()}"


def parse_allowed_signers(text: str, source: str) -> list[AllowedSigner]:
    """Parse git's ``gpg.ssh.allowedSignersFile`` format; ValueError naming the line."""
    signers: list[AllowedSigner] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            signers.append(_signer_line(line))
        except (ValueError, IndexError) as exc:
            raise ValueError(f"{source}:{number}: not an allowed-signers line ({exc})") from exc
    return signers


def _signer_line(line: str) -> AllowedSigner:
    fields = _split_options(line)
    principals = tuple(p for p in fields[0].split(",") if p)
    rest = fields[1:]
    options: dict[str, str] = {}
    if rest and not _is_key_type(rest[0]):
        for option in rest[0].split(","):
            name, _, value = option.partition("=")
            options[name.lower()] = value.strip('"')
        rest = rest[1:]
    key_type, blob = rest[0], base64.b64decode(rest[1], validate=True)
    if _string_at(blob, 0)[0] != key_type.encode():
        raise ValueError("the key blob is not of the named type")
    namespaces = tuple(options["namespaces"].split(",")) if "namespaces" in options else None
    return AllowedSigner(principals, key_type, blob, namespaces,
                         _when(options.get("valid-after")), _when(options.get("valid-before")))


def _split_options(line: str) -> list[str]:
    """Split on whitespace, keeping double-quoted option values (``namespaces="a,b"``) whole."""
    out, current, quoted = [], "", False
    for char in line:
        if char == '"':
            quoted = not quoted
        if char.isspace() and not quoted:
            if current:
                out.append(current)
                current = ""
            continue
        current += char
    if current:
        out.append(current)
    return out


def _is_key_type(word: str) -> bool:
    return word.startswith(("ssh-", "ecdsa-", "sk-", "rsa-"))


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    digits = text.rstrip("Zz")
    fmt = "%Y%m%d%H%M%S" if len(digits) > 8 else "%Y%m%d"
    return datetime.strptime(digits[:14], fmt).replace(tzinfo=UTC)


def split_signed(raw: bytes) -> tuple[bytes, bytes]:
    """(payload git signed, armored signature) of a raw tag object; (raw, b"") if unsigned."""
    at = raw.find(BEGIN)
    if at < 0:
        return raw, b""
    return raw[:at], raw[at:]


def verify(payload: bytes, armored: bytes, signers: list[AllowedSigner],
           when: datetime | None = None) -> AllowedSigner:
    """The allowed signer whose key made ``armored`` over ``payload``; SignatureProblem if
    none did."""
    if not armored:
        raise SignatureProblem("the tag is not signed")
    blob = _dearmor(armored)
    try:
        if blob[:6] != MAGIC or struct.unpack(">I", blob[6:10])[0] != 1:
            raise SignatureProblem("not an SSHSIG signature (version 1)")
        public, at = _string_at(blob, 10)
        namespace, at = _string_at(blob, at)
        reserved, at = _string_at(blob, at)
        algorithm, at = _string_at(blob, at)
        signature, at = _string_at(blob, at)
    except (struct.error, IndexError, ValueError) as exc:
        raise SignatureProblem(f"malformed SSH signature ({exc})") from exc
    if namespace != NAMESPACE:
        raise SignatureProblem(f"signed for namespace {namespace!r}, not 'git'")
    if algorithm not in _HASHES:
        raise SignatureProblem(f"unsupported hash {algorithm!r}")
    matches = [s for s in signers if s.key_blob == public]
    if not matches:
        fingerprint = base64.b64encode(hashlib.sha256(public).digest()).rstrip(b"=").decode()
        raise SignatureProblem(f"signed by SHA256:{fingerprint}, which is not an allowed signer")
    now = when or datetime.now(UTC)
    usable = [s for s in matches if _usable(s, now)]
    if not usable:
        raise SignatureProblem(f"the signing key ({matches[0].fingerprint}) is not allowed for "
                               "git signatures at this time (namespaces/valid-after/before)")
    signed = (MAGIC + _pack(namespace) + _pack(reserved) + _pack(algorithm)
              + _pack(_HASHES[algorithm](payload).digest()))
    _check(public, signature, signed)
    return usable[0]


def _usable(signer: AllowedSigner, now: datetime) -> bool:
    if signer.namespaces is not None and "git" not in signer.namespaces:
        return False
    if signer.valid_after is not None and now < signer.valid_after:
        return False
    return not (signer.valid_before is not None and now > signer.valid_before)


def _check(public: bytes, signature: bytes, signed: bytes) -> None:
    """Verify ``signature`` (an SSH signature blob) over ``signed`` with ``public``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

    try:
        key_type, _ = _string_at(public, 0)
        sig_type, at = _string_at(signature, 0)
        sig, _ = _string_at(signature, at)
        line = key_type + b" " + base64.b64encode(public)
        key = serialization.load_ssh_public_key(line)
    except (ValueError, IndexError, struct.error) as exc:
        raise SignatureProblem(f"unusable signing key ({exc})") from exc
    try:
        if isinstance(key, ed25519.Ed25519PublicKey) and sig_type == b"ssh-ed25519":
            key.verify(sig, signed)
        elif isinstance(key, rsa.RSAPublicKey) and sig_type in (b"rsa-sha2-256", b"rsa-sha2-512"):
            algorithm = hashes.SHA256() if sig_type == b"rsa-sha2-256" else hashes.SHA512()
            key.verify(sig, signed, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and sig_type.startswith(b"ecdsa-sha2-"):
            r, at = _mpint_at(sig, 0)
            s, _ = _mpint_at(sig, at)
            size = key.curve.key_size
            digest: hashes.HashAlgorithm = (hashes.SHA256() if size <= 256 else
                                            hashes.SHA384() if size <= 384 else hashes.SHA512())
            key.verify(utils.encode_dss_signature(r, s), signed, ec.ECDSA(digest))
        else:
            kind = sig_type.decode(errors="replace")
            raise SignatureProblem(f"unsupported signature type {kind}")
    except InvalidSignature as exc:
        raise SignatureProblem("the signature does not match the tag (edited after signing, "
                               "or not made by this key)") from exc


def _dearmor(armored: bytes) -> bytes:
    start, end = armored.find(BEGIN), armored.find(END)
    if start < 0 or end < start:
        raise SignatureProblem("malformed SSH signature armor")
    body = b"".join(armored[start + len(BEGIN):end].split())
    try:
        return base64.b64decode(body, validate=True)
    except ValueError as exc:
        raise SignatureProblem("the SSH signature is not base64") from exc


def _string_at(data: bytes, at: int) -> tuple[bytes, int]:
    (size,) = struct.unpack(">I", data[at:at + 4])
    end = at + 4 + size
    if end > len(data):
        raise ValueError("truncated")
    return data[at + 4:end], end


def _mpint_at(data: bytes, at: int) -> tuple[int, int]:
    raw, end = _string_at(data, at)
    return int.from_bytes(raw, "big", signed=True), end


def _pack(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value
