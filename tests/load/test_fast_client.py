"""The generator's asyncio HTTP/1.1 client against real local servers: keep-alive, chunked
bodies, servers that close, TLS, timeouts, and CO-corrected p99 under stalls."""

from __future__ import annotations

import math
import socket
import ssl
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import numpy as np
import pytest

from mlgate.load.generator import Plan, run_native
from mlgate.load.stub import StubOptions, stall_remaining
from tests.load.local_https import LocalServer as _Server
from tests.load.local_https import ok as _ok


def test_keep_alive_reuses_a_few_connections(serve: Callable[..., tuple[str, _Server]]) -> None:
    url, server = serve(_ok)
    stats = run_native(Plan(url=url, method="POST", bodies=[b"{}", b"[1]"], rate=100,
                            duration=1, warmup=0.2))
    assert (stats.measured, stats.error_count) == (100, 0)
    assert stats.extra["sent"] == 120
    assert server.connections <= 4  # 120 requests, one at a time on kept-alive connections


def test_chunked_answers_are_read_to_their_end(serve: Callable[..., tuple[str, _Server]]) -> None:
    def chunked(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(201)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for part in (b'{"a":', b"1" * 3000, b"}"):
            handler.wfile.write(f"{len(part):x};ext=1\r\n".encode() + part + b"\r\n")
        handler.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")

    url, server = serve(chunked)
    stats = run_native(Plan(url=url, rate=100, duration=1))
    assert (stats.measured, stats.error_count) == (100, 0)
    assert server.connections <= 4


@pytest.mark.parametrize("how", ["header", "silent", "to-close"])
def test_a_server_closing_after_each_answer_costs_no_errors(
    serve: Callable[..., tuple[str, _Server]], how: str
) -> None:
    def once(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        if how != "to-close":
            handler.send_header("Content-Length", "2")
        if how == "header":
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b"ok")
        handler.wfile.flush()
        handler.close_connection = True

    url, server = serve(once)
    stats = run_native(Plan(url=url, rate=100, duration=1))
    assert (stats.measured, stats.error_count, stats.errors) == (100, 0, {})
    assert server.connections >= 100  # a new connection for every request


def test_https_trusts_the_given_ca_and_refuses_an_unknown_certificate(
    serve: Callable[..., tuple[str, _Server]], certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    url, server = serve(_ok, tls)
    trusted = run_native(Plan(url=url, rate=50, duration=1, ca_file=str(cert)))
    assert (trusted.measured, trusted.error_count) == (50, 0)
    assert server.connections <= 4
    refused = run_native(Plan(url=url, rate=20, duration=0.5))
    assert refused.errors == {"TLS error": 10}  # certificate verify failed
    assert refused.latency is not None and refused.latency.total == 0  # nothing to time
    insecure = run_native(Plan(url=url, rate=20, duration=0.5, insecure=True))
    assert insecure.error_count == 0


@pytest.mark.timing
def test_timeouts_are_errors_timed_at_the_timeout(stub_server: Callable[..., str]) -> None:
    url = stub_server("--delay", "0.5")
    stats = run_native(Plan(url=url, rate=20, duration=1, timeout=0.1))
    assert stats.errors == {"timeout": 20}
    p50 = stats.latency_ms("p50")
    assert p50 is not None and 100 <= p50 < 200


def test_refused_connections_are_errors_not_timed() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the run: nothing listens there
    stats = run_native(Plan(url=f"http://127.0.0.1:{port}/", rate=20, duration=0.5))
    assert stats.errors == {"connection refused": 10}


@pytest.mark.timing
def test_p99_under_stalls_is_within_ten_percent_of_the_truth(
    stub_server: Callable[..., str],
) -> None:
    base = run_native(Plan(url=stub_server(), rate=200, duration=1, warmup=0.2))
    base_ms = base.latency_ms("p50") or 0.0
    stall, every = 0.2, 1.0
    url = stub_server("--stall", str(stall), "--stall-every", str(every))
    stats = run_native(Plan(url=url, rate=200, duration=4, warmup=0.5))
    assert stats.error_count == 0
    wall0 = float(stats.extra["schedule_start_unix"])
    first = math.ceil(stats.warmup * stats.target_rate)
    sends = wall0 + (first + np.arange(stats.measured)) / stats.target_rate
    opts = StubOptions(stall=stall, stall_every=every)
    truth = np.array([stall_remaining(float(t), opts) for t in sends]) * 1000 + base_ms
    true_p99 = float(np.percentile(truth, 99))
    p99 = stats.latency_ms("p99")
    assert p99 is not None
    assert abs(p99 - true_p99) / true_p99 <= 0.10, (p99, true_p99)
