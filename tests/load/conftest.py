"""Fixtures of the load-gate tests: real HTTP servers on 127.0.0.1 and a real Docker image."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.load.local_https import certificate, serve

__all__ = ["certificate", "serve"]  # fixtures shared by the TLS and keep-alive tests

BUSYBOX_IMAGE = "mlgate-test-busybox:latest"
BUSYBOX_PORT = 8080


def _docker_reason() -> str | None:
    """Why Docker cannot be used here, or None when an engine answers."""
    try:
        import docker

        docker.from_env(timeout=10).ping()
    except Exception as exc:  # any failure to reach the engine means: skip, saying why
        return f"no Docker engine reachable ({type(exc).__name__}: {exc})"
    return None


@pytest.fixture(scope="session")
def busybox_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``mlgate-test-busybox:latest``: Debian's static busybox serving /www with httpd.

    Built with ``tar -C rootfs -c . | docker import - IMAGE`` (no registry needed).
    """
    reason = _docker_reason()
    if reason:
        pytest.skip(reason)
    busybox = Path("/bin/busybox")
    if not busybox.is_file():
        pytest.skip("Debian's busybox-static is not installed (/bin/busybox missing)")
    rootfs = tmp_path_factory.mktemp("busybox-rootfs")
    (rootfs / "bin").mkdir()
    shutil.copy2(busybox, rootfs / "bin" / "busybox")
    (rootfs / "bin" / "sh").symlink_to("busybox")
    (rootfs / "www").mkdir()
    (rootfs / "www" / "index.html").write_text("<h1>mlgate test target</h1>\n")
    (rootfs / "www" / "health").write_text("ok\n")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    cmd = f'CMD ["/bin/busybox", "httpd", "-f", "-p", "{BUSYBOX_PORT}", "-h", "/www"]'
    imported = subprocess.run(
        ["docker", "import", "--change", cmd, "-", BUSYBOX_IMAGE],
        stdin=tar.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    tar.wait()
    assert imported.returncode == 0, imported.stderr
    return BUSYBOX_IMAGE


_ = tarfile  # the image is made with the tar command line, as in DESIGN.md


@pytest.fixture
def status_server() -> Iterator[callable]:  # type: ignore[valid-type]
    """An in-process server answering every request with a fixed status (e.g. 500)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    servers: list[ThreadingHTTPServer] = []

    def start(status: int) -> str:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                body = b'{"error": "boom"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
