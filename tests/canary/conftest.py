"""A real Prometheus (Debian's ``prometheus`` binary) scraping the tests' exporter every second.

One server per test session (per xdist worker), on free ports, with its configuration and
storage in a temporary directory. All scenarios run from the start, each under its own
``scenario`` label, so every test judges a different pair of versions on the same server.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.canary.exporter import Behaviour, Exporter

# baseline v1 takes ~10x the canary v2's traffic, as a canary split would give it
SCENARIOS = {
    "equal": {"v1": Behaviour(rate=200), "v2": Behaviour(rate=40)},
    "slow": {"v1": Behaviour(rate=200), "v2": Behaviour(rate=40, median_ms=150)},
    "errors": {"v1": Behaviour(rate=200), "v2": Behaviour(rate=40, error_rate=0.25)},
    "conversions": {"v1": Behaviour(rate=200), "v2": Behaviour(rate=40, conversion=0.01)},
    "little": {"v1": Behaviour(rate=200), "v2": Behaviour(rate=0.5)},  # < 60 in a minute
}
SCRAPED_SECONDS = 3  # of data every test can count on


@dataclass
class PrometheusServer:
    url: str
    exporter: Exporter


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("Debian's prometheus is not installed (scripts/system-deps.sh installs it)")
    exporter = Exporter(SCENARIOS)
    home = tmp_path_factory.mktemp("prometheus")
    (home / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: canary-exporter\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{exporter.port}']}}]\n")
    proc, url = None, ""
    for _ in range(3):  # a port taken between choosing and binding: try another
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = (home / "prometheus.log").open("w")
        proc = subprocess.Popen(
            [binary, f"--config.file={home / 'prometheus.yml'}",
             f"--storage.tsdb.path={home / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
             "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)
        if _wait_ready(proc, url):
            break
        proc.terminate()
        proc.wait(10)
        proc = None
    if proc is None:
        exporter.close()
        pytest.fail(f"prometheus did not start: {(home / 'prometheus.log').read_text()[-2000:]}")
    try:
        _wait_for_data(url)
        yield PrometheusServer(url, exporter)
    finally:
        proc.terminate()
        proc.wait(10)
        exporter.close()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return False


def _wait_for_data(url: str, timeout: float = 30) -> None:
    """Until every series has SCRAPED_SECONDS + 1 scrapes (increase() needs two)."""
    deadline = time.monotonic() + timeout
    query = "min(count_over_time(app_requests_total[1m]))"
    while time.monotonic() < deadline:
        body = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=2).json()
        result = body["data"]["result"]
        if result and float(result[0]["value"][1]) >= SCRAPED_SECONDS + 1:
            return
        time.sleep(0.2)
    raise AssertionError(f"Prometheus scraped too little in {timeout}s")


def write_config(directory: Path, prometheus_url: str, scenario: str, **overrides: object) -> Path:
    """An mlgate.yaml whose canary: section reads ``scenario`` from the test's Prometheus."""
    import yaml

    canary: dict[str, object] = {
        "source": "prometheus", "baseline": "v1", "canary": "v2", "window": "1m",
        "min_samples": 60,
        "prometheus": {
            "url": prometheus_url, "selector": f'scenario="{scenario}"',
            "latency_histogram": "app_request_duration_seconds",
            "requests": "app_requests_total", "errors": 'app_requests_total{code=~"5.."}',
            "business": {"success": "app_conversions_total", "total": "app_requests_total"},
        },
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(canary.get(key), dict):
            canary[key] = {**canary[key], **value}  # type: ignore[dict-item]
        else:
            canary[key] = value
    path = directory / "mlgate.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "project": "canary-test", "canary": canary},
                                   sort_keys=False))
    return path


def run_canary(config: Path, *extra: str) -> tuple[int, dict, str]:
    """``mlgate canary --config CONFIG --json ...``: exit code, gate result, and output."""
    import json

    from tests.support.cli import run_mlgate

    report = config.parent / "canary.json"
    res = run_mlgate(["canary", "--config", config, "--json", report, *extra])
    gate = json.loads(report.read_text())["gates"][0] if report.exists() else {}
    return res.code, gate, res.stdout + res.stderr


def checks_by_name(gate: dict) -> dict[str, dict]:
    return {c["name"]: c for c in gate["checks"]}
