"""``--engine locust``: Locust runs headless and its CSV statistics come back as our result."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.cli import run_mlgate

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("workers", [0, 1], ids=["standalone", "master+worker"])
def test_locust_engine_reads_back_into_the_same_result(
    stub_server: Callable[..., str], tmp_path: Path, workers: int
) -> None:
    url = stub_server("--error-every", "10")
    report = tmp_path / "r.json"
    args = ["load-test", "--url", url + "/predict", "--engine", "locust", "--rate", "20",
            "--duration", "2s", "--warmup", "0.5s", "--slo", "p95<500ms",
            "--slo", "error_rate<1%", "--evidence-dir", tmp_path / "ev", "--json", report]
    if workers:
        args += ["--locust-workers", str(workers)]
    res = run_mlgate(args)
    assert res.code == 1, res.stdout + res.stderr  # every 10th answer is a 500
    gate = json.loads(report.read_text())["gates"][0]
    checks = {c["name"]: c["status"] for c in gate["checks"]}
    assert checks == {"p95 < 500ms": "pass", "error_rate < 1%": "fail"}
    load = gate["data"]["load"]
    assert load["engine"] == "locust"
    assert 30 <= load["requests"] <= 50  # 20 req/s for 2 s, warm-up reset away
    assert load["error_reasons"].get("HTTP 500", 0) >= 2
    assert load["latency_ms"]["p95"] is not None
    assert load["locust"]["workers"] == workers
    assert (tmp_path / "ev" / "locust" / "locustfile.py").is_file()
    assert (tmp_path / "ev" / "load-stats.json").is_file()


@pytest.fixture
def counting_server() -> Iterator[Callable[[], tuple[str, Callable[[], int]]]]:
    """An in-process HTTP server that counts the requests it answers (200, tiny body)."""
    servers: list[ThreadingHTTPServer] = []

    def start() -> tuple[str, Callable[[], int]]:
        lock = threading.Lock()
        count = [0]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with lock:
                    count[0] += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/predict", lambda: count[0]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_master_with_two_worker_processes_counts_every_request(
    counting_server: Callable[[], tuple[str, Callable[[], int]]], tmp_path: Path
) -> None:
    url, served = counting_server()
    report = tmp_path / "r.json"
    res = run_mlgate(["load-test", "--url", url, "--engine", "locust", "--rate", "40",
                      "--duration", "3s", "--warmup", "1s", "--locust-workers", "2",
                      "--slo", "error_rate<1%", "--slo", "rate>=80%", "--json", report,
                      "--evidence-dir", tmp_path / "ev", "--quiet"])
    assert res.code == 0, res.stdout + res.stderr
    load = json.loads(report.read_text())["gates"][0]["data"]["load"]
    assert load["locust"] == {"users": 10, "workers": 2, "expect_workers": 0}
    # 40 req/s for 3 s after the warm-up reset, merged by the master from both workers
    assert 100 <= load["requests"] <= 130, load["requests"]
    assert load["errors"] == 0
    # the server saw every measured request (plus the preflight and the warm-up's)
    assert served() >= load["requests"] + 1
    assert served() <= load["requests"] + 1 + 40 * 1 * 1.5 + 20
    log = (tmp_path / "ev" / "locust" / "locust.log").read_text()
    assert "Traceback" not in log


def test_a_worker_started_elsewhere_joins_with_the_locustfile_from_the_master(
    counting_server: Callable[[], tuple[str, Callable[[], int]]], tmp_path: Path
) -> None:
    """As on another host: `locust --worker --master-host H --master-port P -f -`, in a
    directory without our files, gets the locustfile (plan included) from the master."""
    from mlgate.load.targets import free_port, start_process, stop_process

    url, served = counting_server()
    port = free_port()
    cfg = tmp_path / "mlgate.yaml"
    cfg.write_text(f"version: 1\nproject: x\nload:\n  target: {{url: '{url}'}}\n"
                   "  engine: locust\n  rate: 20\n  duration: 2s\n  slo: ['error_rate<1%']\n"
                   f"  locust: {{expect_workers: 1, master_bind_port: {port}}}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    worker = start_process([sys.executable, "-m", "locust", "--worker", "--master-host",
                            "127.0.0.1", "--master-port", str(port), "-f", "-"], {}, elsewhere)
    try:
        report = tmp_path / "r.json"
        res = run_mlgate(["load-test", "--config", cfg, "--json", report, "--quiet"])
    finally:
        stop_process(worker)
        output = worker.stdout.read() if worker.stdout else ""
    assert res.code == 0, res.stdout + res.stderr + output
    load = json.loads(report.read_text())["gates"][0]["data"]["load"]
    assert load["locust"]["expect_workers"] == 1 and load["locust"]["workers"] == 0
    assert 30 <= load["requests"] <= 50, load["requests"]
    assert served() >= load["requests"]
    assert "Traceback" not in output
