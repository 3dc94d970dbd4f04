"""``mlgate load-test`` end to end against real local servers and processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import run_mlgate

STUB = f"{sys.executable} -m mlgate.load.stub --port {{port}}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose; check its state.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][:1] != "Z"


def test_passing_run_writes_histogram_and_throughput_json(
    stub_server: Callable[..., str], tmp_path: Path
) -> None:
    url = stub_server()
    report = tmp_path / "load.json"
    res = run_mlgate(["load-test", "--url", url, "--rate", "50", "--duration", "2s",
                      "--warmup", "0.5s", "--slo", "p95<250ms", "--slo", "rate>=95%",
                      "--json", report])
    assert res.code == 0, res.stdout + res.stderr
    gate = json.loads(report.read_text())["gates"][0]
    assert [c["name"] for c in gate["checks"]] == ["p95 < 250ms", "rate >= 95%"]
    load = gate["data"]["load"]
    assert load["requests"] == 100
    assert len(load["throughput"]["responses"]) == 2
    assert 97 <= sum(load["throughput"]["responses"]) <= 103
    buckets = load["histogram"]["buckets"]
    assert sum(b["count"] for b in buckets) == 100
    assert all(b["from_ms"] < b["to_ms"] for b in buckets)
    titles = [c["title"] for c in gate["charts"]]
    assert any("Throughput" in t for t in titles) and any("histogram" in t for t in titles)
    assert gate["data"]["outputs"]["load_p95_ms"] == load["latency_ms"]["p95"]


def test_slo_breach_fails_the_gate_naming_the_percentile(
    stub_server: Callable[..., str],
) -> None:
    url = stub_server("--delay", "0.03")
    res = run_mlgate(["load-test", "--url", url, "--rate", "30", "--duration", "1s",
                      "--slo", "p95<10ms", "--slo", "error_rate<1%"])
    assert res.code == 1
    assert "FAIL  p95 < 10ms" in res.stdout
    assert "p95 = " in res.stdout and "breaches the SLO p95 < 10ms" in res.stdout
    assert "FAIL  error_rate" not in res.stdout  # only the breached SLO is reported failing


def test_server_returning_500s_fails_error_rate(status_server: Callable[[int], str]) -> None:
    url = status_server(500)
    res = run_mlgate(["load-test", "--url", url, "--rate", "20", "--duration", "1s",
                      "--slo", "error_rate<1%", "--slo", "p99<1s"])
    assert res.code == 1
    assert "FAIL  error_rate < 1%" in res.stdout
    assert "HTTP 500" in res.stdout


def test_unreachable_url_is_bad_input_naming_the_url() -> None:
    from mlgate.load.targets import free_port

    url = f"http://127.0.0.1:{free_port()}/predict"
    res = run_mlgate(["load-test", "--url", url, "--rate", "10", "--duration", "1s"])
    assert res.code == 2
    assert res.error_line.startswith(f"mlgate: error: {url}: cannot reach the endpoint")
    assert "connection refused" in res.error_line


@pytest.mark.parametrize("bad", ["p95<<250ms", "latency<1s", "p95<250parsecs"])
def test_unparsable_slo_is_exit_2_naming_it(bad: str) -> None:
    res = run_mlgate(["load-test", "--url", "http://127.0.0.1:9/", "--rate", "1",
                      "--slo", bad])
    assert res.code == 2
    assert "--slo" in res.error_line and repr(bad) in res.error_line


def test_bad_slo_in_config_names_file_and_field(tmp_path: Path) -> None:
    cfg = tmp_path / "mlgate.yaml"
    cfg.write_text("version: 1\nproject: x\nload:\n  target: {url: 'http://127.0.0.1:9/'}\n"
                   "  rate: 5\n  slo: ['p95<1s', 'p99 below 2s']\n")
    res = run_mlgate(["load-test", "--config", cfg])
    assert res.code == 2
    assert f"{cfg}:load.slo[1]" in res.error_line and "'p99 below 2s'" in res.error_line


def test_bad_inputs_name_their_flag(tmp_path: Path) -> None:
    cases = [
        (["--rate", "0"], "--rate"),
        (["--rate", "5", "--duration", "ten"], "--duration"),
        (["--rate", "5", "--data", str(tmp_path / "none.csv")], "none.csv"),
        (["--rate", "5", "--template", '{"x": '], "--template: template does not give valid"),
        (["--rate", "5", "--template", '{"x": {{rows}}}'], "--template: template uses {{rows}}"),
        (["--rate", "5", "--profile", "nosuch"], "--profile"),
    ]
    for extra, named in cases:
        res = run_mlgate(["load-test", "--url", "http://127.0.0.1:9/", *extra])
        assert res.code == 2, (extra, res.stderr)
        assert named in res.error_line, (extra, res.error_line)
    res = run_mlgate(["load-test", "--rate", "5"])
    assert res.code == 2 and "no target" in res.error_line


def test_command_target_is_started_loaded_and_stopped(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    res = run_mlgate(["load-test", "--command", STUB, "--health",
                      "http://127.0.0.1:{port}/health", "--rate", "40", "--duration", "1s",
                      "--json", report])
    assert res.code == 0, res.stderr
    gate = json.loads(report.read_text())["gates"][0]
    load = gate["data"]["load"]
    assert load["target"]["kind"] == "command" and load["requests"] == 40
    assert not _pid_alive(load["target"]["pid"])
    # Evidence: a command target is recorded by the URL that was loaded (no file was read).
    assert list(gate["inputs"]) == ["target"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", gate["inputs"]["target"]["url"])


def test_health_that_never_passes_is_exit_2_and_the_process_is_stopped(
    tmp_path: Path,
) -> None:
    from mlgate.load.targets import free_port

    pidfile = tmp_path / "pid"
    health = f"http://127.0.0.1:{free_port()}/health"
    res = run_mlgate(["load-test", "--command", f"echo $$ > {pidfile}; exec sleep 60",
                      "--health", health, "--startup-timeout", "1s", "--rate", "5"])
    assert res.code == 2
    assert res.error_line.startswith(f"mlgate: error: {health}: health check did not pass")
    pid = int(pidfile.read_text())
    assert not _pid_alive(pid)


def test_command_that_exits_early_is_exit_2_with_its_output(tmp_path: Path) -> None:
    res = run_mlgate(["load-test", "--command", "echo port in use >&2; exit 3",
                      "--health", "http://127.0.0.1:9/health", "--rate", "5"])
    assert res.code == 2
    assert "exited with code 3" in res.error_line and "port in use" in res.error_line


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm-from-a-cancelled-job"]
)
def test_an_interrupt_still_stops_the_started_process(tmp_path: Path, signum: int) -> None:
    pidfile = tmp_path / "pid"
    command = f"echo $$ > {pidfile}; exec {STUB}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlgate", "load-test", "--command", command, "--health",
         "http://127.0.0.1:{port}/health", "--rate", "10", "--duration", "60s"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    time.sleep(2.5)  # healthy and under load by now
    target_pid = int(pidfile.read_text())
    assert _pid_alive(target_pid)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert not _pid_alive(target_pid)


def test_missing_model_for_serve_target_is_exit_2_naming_it(tmp_path: Path) -> None:
    model = tmp_path / "nomodel.skops"
    res = run_mlgate(["load-test", "--serve", model, "--rate", "5"])
    assert res.code == 2
    assert res.error_line == (f"mlgate: error: {model}: mlgate serve failed: model file not "
                              "found (nor a ledger version NAME@vX.Y.Z or NAME#STAGE)")


def _progress_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("load 20 req/s")]


def test_quiet_silences_load_progress_in_every_position(
    stub_server: Callable[..., str], tmp_path: Path
) -> None:
    url = stub_server()
    load = ["load-test", "--url", url, "--rate", "20", "--duration", "1s"]
    loud = run_mlgate(load)
    assert loud.code == 0 and _progress_lines(loud.stderr)  # CI-log progress, on stderr
    for argv in ([*load, "--quiet"], ["--quiet", *load]):
        quiet = run_mlgate(argv)
        assert quiet.code == 0, quiet.stderr
        assert (quiet.stdout, quiet.stderr) == ("", ""), argv


def test_run_quiet_silences_the_load_stage_but_not_its_verdict(
    stub_server: Callable[..., str], tmp_path: Path
) -> None:
    url = stub_server("--delay", "0.03")
    (tmp_path / "mlgate.yaml").write_text(
        "version: 1\nproject: x\npipeline:\n  pr: [load]\n"
        f"load:\n  target: {{url: '{url}'}}\n  rate: 20\n  duration: 1s\n"
        "  slo: ['p95<1ms']\n")
    loud = run_mlgate(["run"], cwd=tmp_path)
    assert loud.code == 1 and _progress_lines(loud.stderr)
    quiet = run_mlgate(["run", "--quiet"], cwd=tmp_path)
    assert quiet.code == 1  # the verdict is the exit code; --quiet prints only errors
    assert (quiet.stdout, quiet.stderr) == ("", "")
    assert json.loads((tmp_path / ".mlgate/results/pr/load.json").read_text())["status"] == "fail"
    bad = run_mlgate(["--quiet", "run", "--config", "missing.yaml"], cwd=tmp_path)
    assert bad.code == 2 and bad.error_line.startswith("mlgate: error: ")  # errors still print


def test_a_generator_that_cannot_keep_up_warns_without_failing(
    stub_server: Callable[..., str], tmp_path: Path
) -> None:
    # One thread against a server that takes 50ms cannot send 40 req/s: sends fall behind.
    url = stub_server("--delay", "0.05")
    report = tmp_path / "load.json"
    res = run_mlgate(["load-test", "--url", url, "--rate", "40", "--duration", "1s",
                      "--concurrency", "1", "--slo", "error_rate<1%", "--json", report])
    assert res.code == 0, res.stdout + res.stderr  # a warning, not a failed gate
    assert "load: WARN (2 checks, 0 failed)" in res.stdout
    [line] = [ln for ln in res.stdout.splitlines() if "generator kept up" in ln]
    assert line.startswith("  WARN  generator kept up value=") and "could not keep up" in line
    gate = json.loads(report.read_text())["gates"][0]
    check = gate["checks"][-1]
    assert (gate["status"], check["name"], check["status"]) == ("warn", "generator kept up",
                                                                 "warn")
    assert check["value"] > check["threshold"] == 50.0  # two 25ms send intervals
    assert check["value"] == round(gate["data"]["load"]["send_lag_ms"]["p99"], 3)


def test_a_generator_on_schedule_adds_no_warning(
    stub_server: Callable[..., str], tmp_path: Path
) -> None:
    url = stub_server()
    res = run_mlgate(["load-test", "--url", url, "--rate", "20", "--duration", "1s",
                      "--slo", "error_rate<1%"])
    assert res.code == 0 and "load: PASS (1 checks, 0 failed)" in res.stdout
    assert "keep up" not in res.stdout
