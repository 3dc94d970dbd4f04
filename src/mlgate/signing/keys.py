"""Key files for key-based artifact signing: read, check, and hand to model-signing.

model-signing signs with elliptic-curve keys only (NIST P-256, P-384 and P-521; it hashes with
SHA-256, SHA-384 and SHA-512 respectively) and reads PEM files. mlgate reads the key itself
first so that every problem is one line naming the file, and so that OpenSSH key files work
too: ``ssh-keygen -t ecdsa`` keys (private ``OPENSSH PRIVATE KEY`` or public
``ecdsa-sha2-nistp256 AAAA...`` lines) are converted in memory. Ed25519 and RSA keys (of any
format) are refused: model-signing cannot sign with them.

The key fingerprint is the one model-signing writes into the signature
(``verificationMaterial.publicKey.hint``): the SHA-256 of the public key's PEM
SubjectPublicKeyInfo text, which ``openssl pkey -pubin -in KEY.pub -pubout | sha256sum`` prints.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from mlgate.errors import InputError

#: Curves model-signing accepts, with the names people know them by.
CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

_HINT = "model signing takes elliptic-curve keys on P-256, P-384 or P-521 (ssh-keygen -t ecdsa)"


def load_private_key(path: Path, password: str | None = None) -> ec.EllipticCurvePrivateKey:
    """Read a PEM (PKCS#8 or SEC1) or OpenSSH private key and check model-signing can use it."""
    data = _read(path, "private key")
    secret = password.encode() if password is not None else None
    if _is_public(data):
        raise InputError("this is a public key; signing needs the private key", path)
    key: object
    try:
        if b"-----BEGIN OPENSSH PRIVATE KEY-----" in data:
            key = serialization.load_ssh_private_key(data, secret)
        else:
            key = serialization.load_pem_private_key(data, secret)
    except TypeError:  # encrypted without a password, or a password for a plain key
        if secret is None:
            raise InputError("the private key is encrypted: give its password", path) from None
        raise InputError("a password was given but the private key is not encrypted",
                         path) from None
    except UnsupportedAlgorithm as exc:
        raise InputError(f"cannot read the private key: {exc}", path) from None
    except ValueError:
        if secret is not None:
            raise InputError("cannot decrypt the private key (wrong password?)", path) from None
        raise InputError("not a PEM or OpenSSH private key", path) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InputError(f"{_kind(key)} key: {_HINT}", path)
    _check_curve(key.curve, path)
    return key


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    """Read a PEM SubjectPublicKeyInfo or an OpenSSH public key line."""
    data = _read(path, "public key")
    if b"PRIVATE KEY" in data:
        raise InputError(
            "this file holds a private key: give the public key (and never commit the private one)",
            path,
        )
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
        else:
            key = serialization.load_ssh_public_key(data.strip())
    except (ValueError, UnsupportedAlgorithm):
        raise InputError("not a PEM or OpenSSH public key", path) from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise InputError(f"{_kind(key)} key: {_HINT}", path)
    _check_curve(key.curve, path)
    return key


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    """The PEM SubjectPublicKeyInfo text model-signing reads (and fingerprints)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: ec.EllipticCurvePublicKey) -> str:
    """Hex SHA-256 of :func:`public_pem`: model-signing's key hint, so reports can match it."""
    return hashlib.sha256(public_pem(key)).hexdigest()


def describe(key: ec.EllipticCurvePublicKey) -> str:
    """A short, stable name for a key in reports: curve and fingerprint."""
    return f"ECDSA {CURVES[key.curve.name]} key sha256:{fingerprint(key)}"


def write_for_library(key: ec.EllipticCurvePrivateKey, directory: Path) -> tuple[Path, bytes]:
    """Write ``key`` as encrypted PKCS#8 PEM in ``directory`` for model-signing, which only reads
    key *files*; the one-time password exists only in memory, so the copy on disk (deleted with
    the caller's temporary directory) is never a usable plaintext key."""
    password = secrets.token_bytes(32)
    path = directory / "signing-key.pem"
    path.touch(mode=0o600)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
    )
    return path, password


def _read(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {exc.strerror or exc}", path) from None
    if not data.strip():
        raise InputError(f"the {what} file is empty", path)
    return data


def _is_public(data: bytes) -> bool:
    text = data.lstrip()
    pem_public = b"PUBLIC KEY-----" in text and b"PRIVATE KEY-----" not in text
    return pem_public or text.startswith((b"ecdsa-sha2-", b"ssh-", b"sk-"))


def _check_curve(curve: ec.EllipticCurve, path: Path) -> None:
    if curve.name not in CURVES:
        raise InputError(f"elliptic curve {curve.name} is not supported: {_HINT}", path)


def _kind(key: object) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "an RSA"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "an Ed25519"
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return "an Ed448"
    return f"a {type(key).__name__}"
