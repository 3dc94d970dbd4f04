"""HTTPS targets: the certificate is checked the same way by the preflight, the native engine
and Locust, with the system's CAs, a given CA file (load.target.ca_file, --ca-file) or not at
all when asked (insecure, --insecure)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mlgate.load.generator import Plan
from mlgate.load.locust_engine import LocustOptions, run_locust
from tests.load.local_https import LocalServer, ok, server_tls
from tests.support.cli import run_mlgate

Serve = Callable[..., tuple[str, LocalServer]]


def load_test(url: str, tmp_path: Path, *extra: str) -> tuple[int, dict, str]:
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    res = run_mlgate(["load-test", "--url", url, "--rate", "20", "--duration", "0.5",
                      "--slo", "error_rate<1%", "--json", str(report), "--quiet", *extra])
    gate = json.loads(report.read_text())["gates"][0] if report.exists() else {}
    load = gate.get("data", {}).get("load", {})
    return res.code, load, res.error_line


def test_a_ca_file_is_trusted_and_an_unknown_certificate_is_bad_input(
    serve: Serve, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, _ = certificate
    url, _ = serve(ok, server_tls(certificate))
    code, load, err = load_test(url, tmp_path, "--ca-file", str(cert))
    assert code == 0, err
    assert (load["requests"], load["error_reasons"]) == (10, {})
    code, _, err = load_test(url, tmp_path)
    assert code == 2
    assert "its certificate is not trusted: give its CA with ca_file (--ca-file)" in err
    code, load, err = load_test(url, tmp_path, "--insecure")
    assert code == 0, err
    assert load["error_reasons"] == {}


def test_tls_settings_from_the_config(
    serve: Serve, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, _ = certificate
    url, _ = serve(ok, server_tls(certificate))
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_bytes(cert.read_bytes())
    config = tmp_path / "mlgate.yaml"
    head = f"version: 1\nproject: x\nload:\n  target:\n    url: {url}\n"
    config.write_text(head + "    ca_file: certs/ca.pem\n"
                      "  rate: 20\n  duration: 0.5s\n  slo: [error_rate<1%]\n")
    res = run_mlgate(["load-test", "--config", str(config), "--quiet"])
    assert res.code == 0, res.error_line
    config.write_text(head + "    insecure: 'yes'\n  rate: 20\n")
    res = run_mlgate(["load-test", "--config", str(config), "--quiet"])
    assert res.code == 2 and "load.target.insecure: expected true or false" in res.error_line


@pytest.mark.parametrize(("args", "message"), [
    (["--ca-file", "missing.pem"], "missing.pem: CA file not found"),
    (["--ca-file", "{cert}", "--insecure"], "ca_file and insecure contradict each other"),
])
def test_contradictory_or_missing_tls_settings_are_refused(
    certificate: tuple[Path, Path], args: list[str], message: str
) -> None:
    args = [a.replace("{cert}", str(certificate[0])) for a in args]
    res = run_mlgate(["load-test", "--url", "https://localhost:1/", "--rate", "5", *args])
    assert res.code == 2 and message in res.error_line, res.error_line


@pytest.mark.slow
def test_locust_checks_certificates_like_the_native_engine(
    serve: Serve, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    """Locust's FastHttpUser skips verification unless told: mlgate tells it."""
    cert, _ = certificate
    url, _ = serve(ok, server_tls(certificate))
    trusted = run_locust(Plan(url=url, rate=10, duration=1, ca_file=str(cert)),
                         LocustOptions(workdir=tmp_path / "trusted"))
    assert trusted.measured > 0 and trusted.error_count == 0
    unknown = run_locust(Plan(url=url, rate=10, duration=1), LocustOptions(workdir=tmp_path / "u"))
    assert unknown.measured > 0 and unknown.error_count == unknown.measured
