"""In-process HTTP(S) servers on 127.0.0.1 that count their connections, and a self-signed
certificate for ``localhost``: what the generator's TLS and keep-alive tests load."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0

    def get_request(self) -> tuple[socket.socket, object]:
        conn, addr = super().get_request()
        self.connections += 1
        return conn, addr


def handler(answer: Callable[[BaseHTTPRequestHandler], None]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            answer(self)

        do_GET = do_POST = _any

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def start_server(answer: Callable[[BaseHTTPRequestHandler], None],
                 tls: ssl.SSLContext | None = None) -> tuple[str, LocalServer]:
    """A running server answering with ``answer``; its URL (``/p?q=1``) and itself."""
    server = LocalServer(("127.0.0.1", 0), handler(answer))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scheme = "https" if tls else "http"
    return f"{scheme}://localhost:{server.server_address[1]}/p?q=1", server


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    cert, key = certificate
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    return tls


def ok(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "2")
    handler.end_headers()
    handler.wfile.write(b"ok")


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[str, LocalServer]]]:
    """Start in-process servers with :func:`start_server`; all stopped afterwards."""
    servers: list[LocalServer] = []

    def start(answer: Callable[[BaseHTTPRequestHandler], None],
              tls: ssl.SSLContext | None = None) -> tuple[str, LocalServer]:
        url, server = start_server(answer, tls)
        servers.append(server)
        return url, server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key
