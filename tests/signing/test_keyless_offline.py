"""The Sigstore (keyless) method, as far as it runs without the internet.

What runs here: the signer identity policy for GitHub Actions; the checks of an OIDC token
before signing; fetching the job's token from GitHub Actions' token endpoint and handing it to
Fulcio (a local HTTP server stands in for the token endpoint, the OIDC discovery document and
Fulcio, which refuses); and verification of a *real* Sigstore bundle from the model-signing
project against the public instance's trusted root shipped inside sigstore-python.

What does not run here: a real Fulcio certificate for a GitHub Actions identity, a Rekor
upload, and a successful keyless signature of an mlgate artifact (those need GitHub Actions
and Sigstore's public servers).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mlgate.errors import InputError
from mlgate.signing.artifact import (
    SignatureMismatch,
    SigstoreMethod,
    sign_artifact,
    verify_artifact,
)
from mlgate.signing.workflow_identity import GITHUB_ISSUER as GITHUB_ACTIONS_ISSUER
from mlgate.signing.workflow_identity import KeylessPolicy, SignerIdentity
from tests.signing.conftest import FIXTURES, sigstore_trust_config

IBM_IDENTITY = "stefanb@us.ibm.com"
IBM_ISSUER = "https://sigstore.verify.ibm.com/oauth2"
RELEASE = "https://github.com/octo-org/models/.github/workflows/mlgate-release.yml@refs/heads/main"


@pytest.fixture
def no_actions_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL",
                 "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)


# --- the signer policy -----------------------------------------------------------------------


def test_the_github_workflow_identity_is_fulcios_san_for_the_workflow() -> None:
    method = SigstoreMethod.github_workflow("octo-org/models",
                                            ".github/workflows/mlgate-release.yml")
    assert method.identity == RELEASE
    assert method.issuer == GITHUB_ACTIONS_ISSUER == "https://token.actions.githubusercontent.com"
    assert method.repository == "octo-org/models"


def test_a_reusable_workflow_is_pinned_to_the_calling_repository() -> None:
    method = SigstoreMethod.github_workflow(
        "octo-org/models", "ml-release.yml", "refs/tags/v1", workflow_repository="mlgate/mlgate")
    assert method.identity == (
        "https://github.com/mlgate/mlgate/.github/workflows/ml-release.yml@refs/tags/v1")
    assert method.repository == "octo-org/models"


def test_the_ledger_policy_is_the_artifact_signer() -> None:
    """One configured identity: ``ledger.signing`` builds the artifact method too."""
    policy = KeylessPolicy.from_config(
        {"method": "sigstore", "workflow": ".github/workflows/mlgate-release.yml",
         "ref": "refs/heads/main"}, repository="octo-org/models")
    method = SigstoreMethod.from_policy(policy)
    assert method.signer == policy.signer
    assert method == SigstoreMethod.github_workflow("octo-org/models", "mlgate-release.yml")
    assert method.identity == RELEASE


@pytest.mark.parametrize(("repository", "workflow", "ref", "field"), [
    ("octo-org/models", "release.yml", "refs/pull/7/merge", "ref"),
    ("octo-org/models", "release.yml", "main", "ref"),
    ("octo-org/models", "release.yml", "refs/heads/../x", "ref"),
    ("octo-org/models", "release.txt", "refs/heads/main", "workflow"),
    ("octo-org/models", "../../evil.yml", "refs/heads/main", "workflow"),
    ("octo-org", "release.yml", "refs/heads/main", "repository"),
    ("octo/org/models", "release.yml", "refs/heads/main", "repository"),
])
def test_identity_parts_that_would_widen_trust_are_bad_input(
    repository: str, workflow: str, ref: str, field: str
) -> None:
    with pytest.raises(InputError) as raised:
        SigstoreMethod.github_workflow(repository, workflow, ref)
    assert raised.value.source == field


# --- the OIDC token, checked before anything is signed ---------------------------------------


def _jwt(claims: dict[str, Any]) -> str:
    """A JWT as an OIDC provider shapes it (HS256 with a throwaway key: nobody here checks
    the provider's signature; Fulcio would)."""
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps(claims).encode())
    mac = hmac.new(b"throwaway", f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(mac)}"


def _actions_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": GITHUB_ACTIONS_ISSUER, "aud": "sigstore", "iat": now, "exp": now + 300,
        "sub": "repo:octo-org/models:ref:refs/heads/main", "repository": "octo-org/models",
        "job_workflow_ref": "octo-org/models/.github/workflows/mlgate-release.yml@refs/heads/main",
    }
    claims.update(overrides)
    return claims


@pytest.mark.parametrize(("overrides", "message"), [
    ({"exp": -600}, "unusable"),  # seconds from now: the token expired ten minutes ago
    ({"aud": "some-other-service"}, "unusable"),
    ({"iss": "https://accounts.google.com", "email": "a@b.c"}, "verifier expects"),
    ({"job_workflow_ref": "octo-org/models/.github/workflows/other.yml@refs/heads/main"},
     "would sign as https://github.com/octo-org/models/.github/workflows/other.yml"),
    ({"job_workflow_ref": "octo-org/models/.github/workflows/mlgate-release.yml"
                          "@refs/heads/feature"}, "would sign as"),
    ({"repository": "mallory/models"}, "repository mallory/models"),
])
def test_a_token_for_another_signer_is_refused_before_signing(
    model: Path, no_actions_env: None, overrides: dict[str, Any], message: str
) -> None:
    """The token is made when the test runs (a token made at collection would expire before
    a long suite reaches it)."""
    if "exp" in overrides:
        overrides = {**overrides, "exp": int(time.time()) + overrides["exp"]}
    base = SigstoreMethod.github_workflow("octo-org/models", "mlgate-release.yml")
    method = SigstoreMethod(base.signer, identity_token=_jwt(_actions_claims(**overrides)))
    with pytest.raises(InputError, match=message) as raised:
        sign_artifact(model, method)
    assert not isinstance(raised.value, SignatureMismatch)
    assert raised.value.source == "sigstore"


def test_a_token_that_is_not_a_jwt_is_bad_input(model: Path, no_actions_env: None) -> None:
    with pytest.raises(InputError, match="unusable"):
        sign_artifact(model, SigstoreMethod(SignerIdentity(RELEASE), identity_token="not-a-token"))


class _SigstoreStandIn(BaseHTTPRequestHandler):
    """GitHub's OIDC token endpoint, an OIDC discovery document, and a Fulcio that is down."""

    token = ""
    seen: list[tuple[str, str, str, bytes]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path, self.headers.get("Authorization", ""), b""))
        if self.path.startswith("/actions-token"):
            self._send(200, {"value": self.token})
        elif self.path == "/oidc/.well-known/openid-configuration":
            base = f"http://{self.headers['Host']}/oidc"
            self._send(200, {"authorization_endpoint": f"{base}/auth",
                             "token_endpoint": f"{base}/token"})
        else:
            self._send(404, {})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append(("POST", self.path, self.headers.get("Authorization", ""), body))
        self._send(503, {"code": 503, "message": "Fulcio stand-in: no certificates today"})


@pytest.fixture
def stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SigstoreStandIn)
    _SigstoreStandIn.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_actions_token_is_fetched_checked_and_sent_to_fulcio(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stand_in: str
) -> None:
    token = _jwt(_actions_claims())
    _SigstoreStandIn.token = token
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"{stand_in}/actions-token?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runtime-request-token")
    store = json.loads((sigstore_trust_config(tmp_path / "public.json")).read_text())
    signing_config = store["signingConfig"]
    for field, path in (("caUrls", ""), ("oidcUrls", "/oidc"), ("rekorTlogUrls", "/rekor"),
                        ("tsaUrls", "/tsa")):
        for service in signing_config[field]:
            service["url"] = f"{stand_in}{path}"
    trust = sigstore_trust_config(tmp_path / "stand-in.json", signing_config)
    method = SigstoreMethod.github_workflow("octo-org/models", "mlgate-release.yml",
                                            trust_config=trust)

    with pytest.raises(InputError, match="Sigstore is unavailable") as raised:
        sign_artifact(model, method)

    assert not isinstance(raised.value, SignatureMismatch)
    requests = [(verb, path.split("?")[0], auth) for verb, path, auth, _ in _SigstoreStandIn.seen]
    assert requests[0] == ("GET", "/actions-token", "bearer runtime-request-token")
    assert "audience=sigstore" in _SigstoreStandIn.seen[0][1]
    assert ("POST", "/api/v2/signingCert", f"Bearer {token}") in requests
    csr = json.loads(next(body for verb, *_, body in _SigstoreStandIn.seen if verb == "POST"))
    assert "certificateSigningRequest" in csr


def test_a_trust_config_that_does_not_exist_is_bad_input(
    model: Path, tmp_path: Path, no_actions_env: None
) -> None:
    missing = tmp_path / "trust.json"
    method = SigstoreMethod(SignerIdentity(IBM_IDENTITY, IBM_ISSUER), trust_config=missing)
    bundle = json.loads((FIXTURES / "model-transparency-v1.1.0-sigstore.sig").read_text())
    with pytest.raises(InputError, match="trust config") as raised:
        verify_artifact(model, bundle, method)
    assert raised.value.source == str(missing)


# --- verification of a real Sigstore bundle, offline -----------------------------------------


@pytest.fixture
def real_bundle() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(
        (FIXTURES / "model-transparency-v1.1.0-sigstore.sig").read_text())
    return bundle


@pytest.fixture
def public_trust(tmp_path: Path) -> Path:
    return sigstore_trust_config(tmp_path / "sigstore-public.json")


def test_a_genuine_bundle_passes_sigstore_checks_but_covers_a_directory(
    real_bundle: dict[str, Any], public_trust: Path
) -> None:
    """Certificate chain, Rekor inclusion, identity and issuer all verify (offline), so the
    refusal comes from the content: the bundle signs two files, and mlgate signs one."""
    method = SigstoreMethod(SignerIdentity(IBM_IDENTITY, IBM_ISSUER), trust_config=public_trust)
    with pytest.raises(SignatureMismatch, match="covers 2 file") as raised:
        verify_artifact(FIXTURES / "signme-1", real_bundle, method)
    assert raised.value.reason == "content"


def test_a_tampered_bundle_fails_sigstore_verification(
    real_bundle: dict[str, Any], public_trust: Path
) -> None:
    method = SigstoreMethod(SignerIdentity(IBM_IDENTITY, IBM_ISSUER), trust_config=public_trust)
    sig = bytearray(base64.b64decode(real_bundle["dsseEnvelope"]["signatures"][0]["sig"]))
    sig[-1] ^= 0x01
    tampered = copy.deepcopy(real_bundle)
    tampered["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    with pytest.raises(SignatureMismatch, match="Sigstore verification failed") as raised:
        verify_artifact(FIXTURES / "signme-1", tampered, method)
    assert raised.value.reason == "signature"


@pytest.mark.parametrize(("identity", "issuer", "repository", "message"), [
    ("mallory@example.com", IBM_ISSUER, None, "signed by stefanb@us.ibm.com, not by mallory"),
    (IBM_IDENTITY, GITHUB_ACTIONS_ISSUER, None, "OIDC issuer is https://sigstore.verify.ibm.com"),
    (IBM_IDENTITY, IBM_ISSUER, "octo-org/models", "names source repository \\(none\\)"),
])
def test_a_certificate_of_another_signer_is_a_refusal(
    real_bundle: dict[str, Any], public_trust: Path, identity: str, issuer: str,
    repository: str | None, message: str
) -> None:
    method = SigstoreMethod(SignerIdentity(identity, issuer, repository),
                            trust_config=public_trust)
    with pytest.raises(SignatureMismatch, match=message) as raised:
        verify_artifact(FIXTURES / "signme-1", real_bundle, method)
    assert raised.value.reason == "identity"


def test_sigstore_verification_needs_an_expected_identity(
    real_bundle: dict[str, Any], public_trust: Path
) -> None:
    with pytest.raises(InputError, match="expected signer identity") as raised:
        verify_artifact(FIXTURES / "signme-1", real_bundle,
                        SigstoreMethod(trust_config=public_trust))
    assert not isinstance(raised.value, SignatureMismatch)


def test_a_bundle_without_its_certificate_is_bad_input(
    real_bundle: dict[str, Any], public_trust: Path
) -> None:
    broken = copy.deepcopy(real_bundle)
    broken["verificationMaterial"]["certificate"] = {"rawBytes": "bm90IGEgY2VydA=="}
    method = SigstoreMethod(SignerIdentity(IBM_IDENTITY, IBM_ISSUER), trust_config=public_trust)
    with pytest.raises(InputError, match="malformed Sigstore bundle") as raised:
        verify_artifact(FIXTURES / "signme-1", broken, method, source="notes:churn@v1.0.0")
    assert not isinstance(raised.value, SignatureMismatch)
    assert raised.value.source == "notes:churn@v1.0.0"
