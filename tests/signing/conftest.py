"""Fixtures for the signing tests: real keys, a real skops model, Sigstore's own trust root,
and a private Sigstore instance served on 127.0.0.1."""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.repos import EXAMPLE, train_candidate
from tests.support.sigstore_local import LocalSigstore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "signing"


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path


def write_ec_keypair(directory: Path, curve: ec.EllipticCurve | None = None,
                     name: str = "signing") -> KeyPair:
    """A fresh EC key pair as the docs tell users to make it: PKCS#8 PEM + SPKI PEM."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(curve or ec.SECP256R1())
    private = directory / f"{name}.key"
    public = directory / f"{name}.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return KeyPair(private, public)


@pytest.fixture
def keypair(tmp_path: Path) -> KeyPair:
    return write_ec_keypair(tmp_path / "keys")


@pytest.fixture
def other_keypair(tmp_path: Path) -> KeyPair:
    return write_ec_keypair(tmp_path / "other-keys", name="other")


@pytest.fixture(scope="session")
def _trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example churn model, trained once per session and saved with skops."""
    return train_candidate(EXAMPLE, tmp_path_factory.mktemp("model") / "candidate.skops")


@pytest.fixture
def model(tmp_path: Path, _trained_model: Path) -> Path:
    """A private copy of the trained model, so a test may tamper with it."""
    target = tmp_path / "models" / "candidate.skops"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_trained_model.read_bytes())
    return target


def sigstore_trust_config(target: Path, signing_config: dict[str, object] | None = None) -> Path:
    """A ClientTrustConfig file holding the public Sigstore instance's trusted root as shipped
    inside sigstore-python, so verification needs no network (no TUF refresh)."""
    store = importlib.resources.files("sigstore._store") / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
    config = {
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": json.loads((store / "trusted_root.json").read_text()),
        "signingConfig": signing_config
        or json.loads((store / "signing_config.v0.2.json").read_text()),
    }
    target.write_text(json.dumps(config))
    return target



@dataclass(frozen=True)
class ServedSigstore:
    """A running instance and the trust files that point at it."""

    instance: LocalSigstore
    trust_config: Path  # ClientTrustConfig: trusted root + where Fulcio and Rekor are
    trusted_root: Path  # trusted_root.json: what verification trusts, nothing else


@pytest.fixture(scope="module")
def local_sigstore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSigstore]:
    directory = tmp_path_factory.mktemp("sigstore")
    with LocalSigstore().serve() as instance:
        config = directory / "trust_config.json"
        config.write_text(json.dumps(instance.client_trust_config()), encoding="utf-8")
        root = directory / "trusted_root.json"
        root.write_text(json.dumps(instance.trusted_root()), encoding="utf-8")
        yield ServedSigstore(instance, config, root)
