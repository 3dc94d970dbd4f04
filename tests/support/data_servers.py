"""Real servers holding data for the data-by-pointer tests: an HTTPS file server on 127.0.0.1
with a throwaway CA, and an S3-compatible server (moto's server mode), one per test session.

Nothing is mocked: mlgate reads through requests and s3fs exactly as it would from a real
server; the tests only point it there (``REQUESTS_CA_BUNDLE``, ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


@dataclass
class FileServer:
    """An HTTPS server answering GET ``/<name>`` from ``files`` (with a content ETag);
    ``/denied/...`` answers 403, ``/redirect/<where>`` redirects to ``/<where>`` (or to the URL
    ``<where>``)."""

    url: str
    ca: Path
    files: dict[str, bytes] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

    def put(self, name: str, content: bytes) -> str:
        self.files[name] = content
        return f"{self.url}/{name}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _handler(files: dict[str, bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            name = self.path.split("?", 1)[0].lstrip("/")
            if name.startswith("denied/"):
                self._send(403, b"no")
                return
            if name.startswith("redirect/"):  # /redirect/<where>: 302 to /<where> or a URL
                where = name.split("/", 1)[1]
                self.send_response(302)
                self.send_header("Location", where if "://" in where else f"/{where}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            content = files.get(name)
            if content is None:
                self._send(404, b"not found")
                return
            self._send(200, content, hashlib.md5(content).hexdigest())

        def _send(self, code: int, body: bytes, etag: str | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", f'"{etag}"')
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def make_certificate(where: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (it is its own CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mlgate test data")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = where / "ca.pem", where / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def start_file_server(certificate: tuple[Path, Path]) -> FileServer:
    files: dict[str, bytes] = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(files))
    server.daemon_threads = True
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*certificate)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return FileServer(f"https://127.0.0.1:{server.server_address[1]}", certificate[0], files,
                      server)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def data_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("data-tls"))


@pytest.fixture
def https_files(data_certificate: tuple[Path, Path],
                monkeypatch: pytest.MonkeyPatch) -> Iterator[FileServer]:
    """An HTTPS file server whose CA requests trusts (through REQUESTS_CA_BUNDLE only)."""
    server = start_file_server(data_certificate)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One S3-compatible server (moto's server mode) per test session (per xdist worker)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Bucket:
    name: str
    client: Any

    def put(self, key: str, content: bytes) -> str:
        self.client.put_object(Bucket=self.name, Key=key, Body=content)
        return f"s3://{self.name}/{key}"


def s3_environment(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """Fake credentials and the local endpoint, nothing from the developer's own AWS setup."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE",
                 "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)


@pytest.fixture
def s3_bucket(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A fresh bucket on the session's S3 server, with the environment pointing at it."""
    import boto3

    s3_environment(monkeypatch, moto_endpoint)
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    name = f"data-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return Bucket(name, client)




@pytest.fixture
def denying_s3_endpoint() -> Iterator[str]:
    """An S3-compatible server that checks credentials (moto with authentication on, in its own
    process: the setting is global to a moto process) and so refuses the tests' fake keys."""
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "Running on http://" in line:
                yield "http://" + line.split("http://", 1)[1].split()[0]
                break
        else:
            pytest.fail(f"moto's server did not start (exit {proc.wait()})")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
