"""``mlgate canary`` with source prometheus, against a real Prometheus scraping the exporter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate.report.html import render_html
from mlgate.report.markdown import render_markdown
from mlgate.result import GateResult
from tests.canary.conftest import (
    PrometheusServer,
    _free_port,
    checks_by_name,
    run_canary,
    write_config,
)
from tests.support.cli import run_mlgate

# The tests that query the shared Prometheus (one per pytest process or xdist worker) are marked
# slow: starting it costs ~9 s, as Prometheus's first scrape comes ~5 s after it starts (its
# target discovery sends updates at most every 5 s), then the fixture waits for three seconds
# of data.





@pytest.mark.slow
def test_equal_versions_are_promoted(prometheus: PrometheusServer, tmp_path: Path) -> None:
    code, gate, out = run_canary(write_config(tmp_path, prometheus.url, "equal"))
    assert code == 0, out
    checks = checks_by_name(gate)
    assert checks["decision"]["value"] == "promote"
    assert gate["data"]["decision"] == "promote"
    assert {"latency p50", "latency p95", "latency p99", "error rate", "conversion rate",
            "sample size"} <= set(checks)
    data = gate["data"]["canary"]
    # the versions split the traffic about 5:1, as the exporter serves it
    assert data["baseline"]["requests"] > 3 * data["canary"]["requests"] > 0
    # our interpolation is Prometheus's histogram_quantile: both agree on the point estimate
    for name in ("p50", "p95"):
        ours = data["latency_differences_ms"][name]["baseline"]
        theirs = data["baseline"]["reported_quantiles_ms"][name]
        assert ours == pytest.approx(theirs, rel=0.05)
    ids = [f["id"] for f in gate["figures"]]
    assert ids[:3] == ["canary.latency", "canary.latency_difference", "canary.rates"]
    assert "canary.latency_over_time" in ids  # from /api/v1/query_range
    assert "decision: PROMOTE" in out
    # the report layer draws the figures like any gate's
    result = GateResult.from_dict(gate)
    assert render_markdown([result]).count("```mermaid") == len(ids)
    assert "Latency quantiles per version" in render_html([result])


@pytest.mark.slow
def test_slower_canary_is_rolled_back(prometheus: PrometheusServer, tmp_path: Path) -> None:
    code, gate, out = run_canary(write_config(tmp_path, prometheus.url, "slow"))
    assert code == 1, out
    checks = checks_by_name(gate)
    assert checks["decision"]["value"] == "rollback"
    p50 = checks["latency p50"]
    assert p50["status"] == "fail"
    assert p50["details"]["ci_low_ms"] > 0 and p50["value"] > 100  # ~150ms vs ~20ms
    assert checks["error rate"]["status"] == "pass"


@pytest.mark.slow
def test_error_prone_canary_is_rolled_back(prometheus: PrometheusServer,
                                           tmp_path: Path) -> None:
    code, gate, out = run_canary(write_config(tmp_path, prometheus.url, "errors"))
    assert code == 1, out
    checks = checks_by_name(gate)
    assert checks["decision"]["value"] == "rollback"
    errors = checks["error rate"]
    assert errors["status"] == "fail"
    assert errors["details"]["p_value"] < 0.05
    assert errors["details"]["canary"] == pytest.approx(0.25, abs=0.05)
    assert checks["latency p95"]["status"] == "pass"


@pytest.mark.slow
def test_lower_conversion_is_rolled_back(prometheus: PrometheusServer, tmp_path: Path) -> None:
    code, gate, out = run_canary(write_config(tmp_path, prometheus.url, "conversions"))
    assert code == 1, out
    assert checks_by_name(gate)["conversion rate"]["status"] == "fail"
    assert "conversion rate" in checks_by_name(gate)["decision"]["message"]


@pytest.mark.slow
def test_too_little_traffic_is_inconclusive(prometheus: PrometheusServer,
                                            tmp_path: Path) -> None:
    code, gate, out = run_canary(write_config(tmp_path, prometheus.url, "little"))
    assert code == 4, out
    checks = checks_by_name(gate)
    assert checks["decision"]["value"] == "inconclusive"
    assert checks["decision"]["status"] == "warn"
    assert checks["sample size"]["value"] < 60
    assert "canary.min_samples" in checks["decision"]["message"]


@pytest.mark.slow
def test_flags_override_the_config(prometheus: PrometheusServer, tmp_path: Path) -> None:
    """--min-samples above what the window holds turns a promotion into inconclusive."""
    config = write_config(tmp_path, prometheus.url, "equal")
    code, _, out = run_canary(config, "--min-samples", "1000000")
    assert code == 4, out


# -- bad input: exit 2 and one line naming the setting ---------------------------------------

def _error(config: Path, *extra: str) -> str:
    res = run_mlgate(["canary", "--config", config, *extra])
    assert res.code == 2, res.stdout + res.stderr
    assert res.error_line, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    return res.error_line


def test_unreachable_prometheus(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    line = _error(write_config(tmp_path, url, "equal"))
    assert "canary.prometheus.url" in line and "unreachable" in line and url in line


def test_unreachable_prometheus_named_by_its_flag(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://example.invalid", "equal")
    line = _error(config, "--prometheus-url", f"http://127.0.0.1:{_free_port()}")
    assert "--prometheus-url" in line and "unreachable" in line


@pytest.mark.slow
def test_query_rejected_by_prometheus(prometheus: PrometheusServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, prometheus.url, "equal",
                          prometheus={"requests": 'app_requests_total{code=~"("}'})
    line = _error(config)
    assert "canary.prometheus.requests" in line and "rejected the query" in line
    assert "bad_data" in line


@pytest.mark.slow
def test_metric_without_series(prometheus: PrometheusServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, prometheus.url, "equal",
                          prometheus={"latency_histogram": "app_nonexistent_seconds"})
    line = _error(config)
    assert "canary.prometheus.latency_histogram" in line and "returns no series" in line


@pytest.mark.slow
def test_counter_without_series(prometheus: PrometheusServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, prometheus.url, "equal",
                          prometheus={"requests": "app_typo_total"})
    line = _error(config)
    assert "canary.prometheus.requests" in line and "app_typo_total" in line


@pytest.mark.slow
def test_unknown_version_label_value(prometheus: PrometheusServer, tmp_path: Path) -> None:
    line = _error(write_config(tmp_path, prometheus.url, "equal", canary="v9"))
    assert "canary.canary" in line and "'v9'" in line and "v1, v2" in line


@pytest.mark.slow
def test_unknown_version_label(prometheus: PrometheusServer, tmp_path: Path) -> None:
    line = _error(write_config(tmp_path, prometheus.url, "equal", version_label="release"))
    assert "canary.version_label" in line and "'release'" in line


def test_malformed_config_names_file_line_and_field(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", "equal", min_samples="many")
    line = _error(config)
    assert "mlgate.yaml" in line and "canary.min_samples" in line


def test_missing_metric_setting(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", "equal", prometheus={"errors": ""})
    line = _error(config)
    assert "canary.prometheus.errors" in line and "required" in line


def test_same_version_twice(tmp_path: Path) -> None:
    line = _error(write_config(tmp_path, "http://127.0.0.1:9", "equal"), "--canary", "v1")
    assert "--canary" in line and "same version" in line


def test_if_configured_skips_without_a_canary_section(tmp_path: Path) -> None:
    """The release workflow's optional step: no canary: section, nothing to judge, exit 0."""
    config = tmp_path / "mlgate.yaml"
    config.write_text("version: 1\nproject: canary-test\n")
    report = tmp_path / "canary.json"
    res = run_mlgate(["canary", "--if-configured", "--config", config, "--json", report])
    assert res.code == 0, res.stderr
    gate = json.loads(report.read_text())["gates"][0]
    assert gate["data"]["decision"] == "skipped"
    # without --if-configured the missing settings are bad input
    res = run_mlgate(["canary", "--config", config])
    assert res.code == 2 and "canary.baseline" in res.error_line


@pytest.mark.slow
def test_url_that_is_not_prometheus(prometheus: PrometheusServer, tmp_path: Path) -> None:
    """The exporter answers HTTP, but not Prometheus's API: bad input, naming the URL."""
    exporter = f"http://127.0.0.1:{prometheus.exporter.port}"
    line = _error(write_config(tmp_path, exporter, "equal"))
    assert "canary.prometheus.url" in line and "not Prometheus's HTTP API" in line
