"""Fixtures for the signing tests: a private Sigstore instance served on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.sigstore_local import LocalSigstore


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
