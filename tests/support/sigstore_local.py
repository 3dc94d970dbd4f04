"""A private Sigstore instance on 127.0.0.1 for the keyless-signing tests.

There is no network here (no Fulcio, Rekor, TUF or GitHub OIDC), so the tests run the real
``sigstore`` client against local stand-ins that speak the same protocols:

* an **OIDC issuer** that mints GitHub-Actions-shaped identity tokens (ES256, audience
  ``sigstore``) and serves them the way the runner does (``ACTIONS_ID_TOKEN_REQUEST_URL`` +
  bearer ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``, ``?audience=`` query, ``{"value": token}``);
* a **Fulcio-like CA** (``POST /api/v2/signingCert``): checks the token's signature and the CSR's
  proof of possession, then issues a 10-minute leaf whose SAN is
  ``https://github.com/`` + ``job_workflow_ref`` and whose Sigstore extensions
  (1.3.6.1.4.1.57264.1.*) carry the token's claims, as Fulcio does for GitHub;
* a **CT log** that embeds a precertificate SCT (RFC 6962) in each leaf;
* a **Rekor v1 log** (``POST /api/v1/log/entries``, kind ``dsse`` 0.0.1): checks the envelope
  signature against the certificate, appends the canonical entry to an RFC 6962 Merkle tree and
  answers with an inclusion proof, a signed checkpoint and a signed entry timestamp (SET).

``trusted_root()`` lists the CA, the CT key and the log key in sigstore's ``trusted_root.json``
format and ``client_trust_config()`` adds the service URLs (signing config v0.2), so the real
``sigstore`` Signer and Verifier run unchanged. Written from the formats sigstore-python reads
(``sigstore/models.py``, ``_internal/sct.py``, ``_internal/merkle.py``,
``_internal/rekor/checkpoint.py``) and RFC 6962; no Sigstore code is copied.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
SCT_LIST_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
AUDIENCE = "sigstore"


def _oid(n: int) -> ObjectIdentifier:
    return ObjectIdentifier(f"1.3.6.1.4.1.57264.1.{n}")


def github_claims(
    *,
    repository: str = "octo-org/churn",
    workflow: str = ".github/workflows/ml-release.yml",
    ref: str = "refs/heads/main",
    issuer: str = GITHUB_ISSUER,
    job_workflow_ref: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The claims GitHub puts in a job's OIDC token (a representative subset).

    ``job_workflow_ref`` is the workflow that runs the job: the caller's own file unless a
    reusable workflow of another repository runs it (pass it to model that case).
    """
    now = int(datetime.now(UTC).timestamp())
    owner = repository.split("/")[0]
    sha = "d" * 40
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": f"repo:{repository}:ref:{ref}",
        "iat": now - 5,
        "nbf": now - 5,
        "exp": now + 300,
        "repository": repository,
        "repository_owner": owner,
        "repository_id": "123456",
        "repository_owner_id": "654321",
        "ref": ref,
        "sha": sha,
        "workflow": "ML release",
        "workflow_ref": f"{repository}/{workflow}@{ref}",
        "workflow_sha": sha,
        "job_workflow_ref": job_workflow_ref or f"{repository}/{workflow}@{ref}",
        "job_workflow_sha": sha,
        "event_name": "push",
        "run_id": "4242",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
    }
    claims.update(extra)
    return claims


def _utf8_der(text: str) -> bytes:
    data = text.encode()
    return b"\x0c" + _der_length(len(data)) + data


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    """RFC 6962 key id: sha256 of the DER SubjectPublicKeyInfo."""
    return hashlib.sha256(_spki(key)).digest()


def _spki_b64(key: ec.EllipticCurvePublicKey) -> str:
    return base64.b64encode(_spki(key)).decode()


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- RFC 6962 Merkle tree -------------------------------------------------------------------


def _leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 section 2.1 over already-hashed leaves."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def merkle_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 section 2.1.1: sibling hashes from the leaf up."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*merkle_path(index, leaves[:k]), merkle_root(leaves[k:])]
    return [*merkle_path(index - k, leaves[k:]), merkle_root(leaves[:k])]


# --- the instance ---------------------------------------------------------------------------


class LocalSigstore:
    """One private Sigstore instance: keys, CA, logs and (optionally) an HTTP front end."""

    def __init__(self) -> None:
        self.started = datetime.now(UTC) - timedelta(days=1)
        self.oidc_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_key = ec.generate_private_key(ec.SECP384R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.rekor_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_cert = self._make_ca()
        self.leaves: list[bytes] = []  # hashed leaves of the Rekor tree
        self.tree_id = "4711"
        self.base_url = "http://127.0.0.1:0"
        self.issued: list[x509.Certificate] = []
        self._lock = threading.Lock()

    # OIDC ------------------------------------------------------------------------------------

    def token(self, claims: Mapping[str, Any] | None = None) -> str:
        """A signed identity token (defaults: :func:`github_claims`)."""
        return jwt.encode(dict(claims or github_claims()), self.oidc_key, algorithm="ES256")

    # Fulcio ----------------------------------------------------------------------------------

    def _make_ca(self) -> x509.Certificate:
        name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mlgate-tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, "local-fulcio"),
        ])
        public = self.ca_key.public_key()
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.started)
            .not_valid_after(self.started + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.ca_key, hashes.SHA384())
        )

    def issue(self, public_key: ec.EllipticCurvePublicKey, token: str) -> x509.Certificate:
        """What Fulcio does for a GitHub token: verify it, then certify ``public_key``."""
        claims = jwt.decode(token, self.oidc_key.public_key(), algorithms=["ES256"],
                            audience=AUDIENCE)
        server = "https://github.com/"
        exts: list[tuple[ObjectIdentifier, bytes]] = [
            (_oid(1), claims["iss"].encode()),
            (_oid(2), claims["event_name"].encode()),
            (_oid(3), claims["sha"].encode()),
            (_oid(4), claims["workflow"].encode()),
            (_oid(5), claims["repository"].encode()),
            (_oid(6), claims["ref"].encode()),
            (_oid(8), _utf8_der(claims["iss"])),
            (_oid(9), _utf8_der(server + claims["job_workflow_ref"])),
            (_oid(11), _utf8_der(claims["runner_environment"])),
            (_oid(12), _utf8_der(server + claims["repository"])),
            (_oid(13), _utf8_der(claims["sha"])),
            (_oid(14), _utf8_der(claims["ref"])),
            (_oid(18), _utf8_der(server + claims["workflow_ref"])),
            (_oid(20), _utf8_der(claims["event_name"])),
            (_oid(21), _utf8_der(
                f"{server}{claims['repository']}/actions/runs/{claims['run_id']}"
                f"/attempts/{claims['run_attempt']}")),
        ]
        serial = x509.random_serial_number()
        now = datetime.now(UTC).replace(microsecond=0)

        def build(sct_list: bytes) -> x509.Certificate:
            builder = (
                x509.CertificateBuilder()
                .subject_name(x509.Name([]))
                .issuer_name(self.ca_cert.subject)
                .public_key(public_key)
                .serial_number(serial)
                .not_valid_before(now - timedelta(seconds=30))
                .not_valid_after(now + timedelta(minutes=10))
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=True, content_commitment=False,
                        key_encipherment=False, data_encipherment=False, key_agreement=False,
                        key_cert_sign=False, crl_sign=False, encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]),
                               critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                               critical=False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                    critical=False,
                )
                .add_extension(
                    x509.SubjectAlternativeName([
                        x509.UniformResourceIdentifier(server + claims["job_workflow_ref"])
                    ]),
                    critical=True,
                )
            )
            for oid, value in exts:
                builder = builder.add_extension(x509.UnrecognizedExtension(oid, value),
                                                critical=False)
            builder = builder.add_extension(
                x509.UnrecognizedExtension(SCT_LIST_OID, sct_list), critical=False
            )
            return builder.sign(self.ca_key, hashes.SHA384())

        # The SCT signs the certificate without its SCT list (RFC 6962 3.2), so sign a draft,
        # take its precertificate TBS, and build the final certificate around the SCT.
        draft = build(_octet_string(b"\x00\x00"))
        sct = self._sct(draft.tbs_precertificate_bytes, now)
        sct_list = struct.pack("!HH", len(sct) + 2, len(sct)) + sct  # one SerializedSCT
        cert = build(_octet_string(sct_list))
        assert cert.tbs_precertificate_bytes == draft.tbs_precertificate_bytes
        self.issued.append(cert)
        return cert

    def _sct(self, tbs: bytes, moment: datetime) -> bytes:
        """A v1 SCT for a precertificate entry, signed by the CT log key."""
        millis = int(moment.timestamp() * 1000)
        issuer_key_hash = _key_id(self.ca_key.public_key())
        signed = (
            struct.pack("!BBQH", 0, 0, millis, 1)
            + issuer_key_hash
            + len(tbs).to_bytes(3, "big") + tbs
            + struct.pack("!H", 0)
        )
        signature = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return (
            struct.pack("!B", 0)
            + _key_id(self.ct_key.public_key())
            + struct.pack("!QH", millis, 0)
            + struct.pack("!BBH", 4, 3, len(signature)) + signature
        )

    def sign_cert_request(self, body: Mapping[str, Any], token: str) -> dict[str, Any]:
        """``POST /api/v2/signingCert``: a CSR (PEM, base64) and a bearer token."""
        csr = x509.load_pem_x509_csr(base64.b64decode(body["certificateSigningRequest"]))
        if not csr.is_signature_valid:
            raise ValueError("CSR signature does not verify (no proof of possession)")
        public = csr.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        cert = self.issue(public, token)
        pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in (cert, self.ca_cert)]
        return {"signedCertificateEmbeddedSct": {"chain": {"certificates": pems}}}

    # Rekor -----------------------------------------------------------------------------------

    def log_dsse(self, proposed: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/log/entries`` for a ``dsse`` 0.0.1 proposal: integrate and prove it."""
        if proposed.get("kind") != "dsse":
            raise ValueError(f"this log only takes dsse entries, not {proposed.get('kind')!r}")
        content = proposed["spec"]["proposedContent"]
        envelope = json.loads(content["envelope"])
        verifier_pem = base64.b64decode(content["verifiers"][0])
        cert = x509.load_pem_x509_certificate(verifier_pem)
        payload = base64.b64decode(envelope["payload"])
        payload_type = envelope["payloadType"]
        pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload),
                                       payload)
        sig = base64.b64decode(envelope["signatures"][0]["sig"])
        public = cert.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        try:
            public.verify(sig, pae, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise ValueError("the envelope's signature does not verify") from exc
        body = {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256",
                                 "value": hashlib.sha256(rfc8785.dumps(envelope)).hexdigest()},
                "payloadHash": {"algorithm": "sha256",
                                "value": hashlib.sha256(payload).hexdigest()},
                "signatures": [{"signature": base64.b64encode(sig).decode(),
                                "verifier": base64.b64encode(verifier_pem).decode()}],
            },
        }
        return self.integrate(rfc8785.dumps(body))

    def integrate(self, canonical_body: bytes, *, when: datetime | None = None) -> dict[str, Any]:
        """Append ``canonical_body`` and return the v1 API's answer for it."""
        with self._lock:
            leaf = _leaf_hash(canonical_body)
            self.leaves.append(leaf)
            index, size = len(self.leaves) - 1, len(self.leaves)
            root = merkle_root(self.leaves)
            path = merkle_path(index, self.leaves)
        log_id = _key_id(self.rekor_key.public_key())
        integrated = int((when or datetime.now(UTC)).timestamp())
        body_b64 = base64.b64encode(canonical_body).decode()
        set_payload = rfc8785.dumps({"body": body_b64, "integratedTime": integrated,
                                     "logID": log_id.hex(), "logIndex": index})
        entry_ts = self.rekor_key.sign(set_payload, ec.ECDSA(hashes.SHA256()))
        return {
            leaf.hex(): {
                "body": body_b64,
                "integratedTime": integrated,
                "logID": log_id.hex(),
                "logIndex": index,
                "verification": {
                    "inclusionProof": {
                        "checkpoint": self.checkpoint(size, root),
                        "hashes": [h.hex() for h in path],
                        "logIndex": index,
                        "rootHash": root.hex(),
                        "treeSize": size,
                    },
                    "signedEntryTimestamp": base64.b64encode(entry_ts).decode(),
                },
            }
        }

    def checkpoint(self, size: int, root: bytes) -> str:
        """A signed note over (origin, size, root), key hint = the log id's first 4 bytes."""
        note = f"local-rekor - {self.tree_id}\n{size}\n{base64.b64encode(root).decode()}\n"
        sig = self.rekor_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        hint = _key_id(self.rekor_key.public_key())[:4]
        return f"{note}\n\u2014 local-rekor {base64.b64encode(hint + sig).decode()}\n"

    # Trust material --------------------------------------------------------------------------

    def trusted_root(self) -> dict[str, Any]:
        """sigstore's ``trusted_root.json`` (media type version 0.1) for this instance."""
        start = {"start": _iso(self.started)}

        def log(key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, Any]:
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": _spki_b64(key.public_key()),
                              "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": start},
                "logId": {"keyId": base64.b64encode(_key_id(key.public_key())).decode()},
            }

        ca_der = self.ca_cert.public_bytes(serialization.Encoding.DER)
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(self.rekor_key, self.base_url)],
            "certificateAuthorities": [{
                "subject": {"organization": "mlgate-tests", "commonName": "local-fulcio"},
                "uri": self.base_url,
                "certChain": {"certificates": [{"rawBytes": base64.b64encode(ca_der).decode()}]},
                "validFor": start,
            }],
            "ctlogs": [log(self.ct_key, self.base_url)],
            "timestampAuthorities": [],
        }

    def client_trust_config(self) -> dict[str, Any]:
        """The trusted root plus where to sign (signing config v0.2): this instance's URLs."""

        def service(url: str) -> dict[str, Any]:
            return {"url": url, "majorApiVersion": 1, "operator": "mlgate-tests",
                    "validFor": {"start": _iso(self.started)}}

        return {
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": self.trusted_root(),
            "signingConfig": {
                "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                "caUrls": [service(self.base_url)],
                "oidcUrls": [],
                "rekorTlogUrls": [service(self.base_url)],
                "rekorTlogConfig": {"selector": "ANY"},
                "tsaUrls": [],
                "tsaConfig": {"selector": "ANY"},
            },
        }

    # HTTP ------------------------------------------------------------------------------------

    @contextmanager
    def serve(self, *, oidc_bearer: str = "runner-request-token",
              claims: Mapping[str, Any] | None = None) -> Iterator[LocalSigstore]:
        """Serve Fulcio, Rekor and the runner's OIDC token endpoint on 127.0.0.1."""
        instance = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, doc: Any) -> None:
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path != "/oidc/token":
                    self._send(404, {"message": "not found"})
                elif self.headers.get("Authorization") != f"bearer {oidc_bearer}":
                    self._send(403, {"message": "bad request token"})
                else:
                    audience = parse_qs(url.query).get("audience", [""])[0]
                    token = instance.token({**(claims or github_claims()), "aud": audience})
                    self._send(200, {"count": 1, "value": token})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                try:
                    if self.path == "/api/v2/signingCert":
                        auth = self.headers.get("Authorization", "")
                        token = auth.removeprefix("Bearer ")
                        self._send(201, instance.sign_cert_request(body, token))
                    elif self.path == "/api/v1/log/entries":
                        self._send(201, instance.log_dsse(body))
                    else:
                        self._send(404, {"message": "not found"})
                except (ValueError, KeyError, jwt.PyJWTError) as exc:
                    self._send(400, {"message": str(exc)})

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def actions_env(self, *, oidc_bearer: str = "runner-request-token") -> dict[str, str]:
        """The variables a runner sets for a job with ``permissions: id-token: write``."""
        return {
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.base_url}/oidc/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": oidc_bearer,
        }


def _octet_string(data: bytes) -> bytes:
    return b"\x04" + _der_length(len(data)) + data
