"""The load gate over the Open Inference Protocol's gRPC service (payload protocol oip-grpc)
against a server built from the protocol's generated code (tests/load/oip_grpc_server.py)."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import grpc
import pandas as pd
import pytest

from mlgate.load.generator import Plan, run_native
from mlgate.load.oip_wire import model_infer_request
from tests.load.oip_grpc_server import Behaviour, oip_grpc_server
from tests.support.cli import run_mlgate


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Every column kind a tabular model gets: integers, floats, strings and booleans."""
    frame = pd.DataFrame({
        "tenure": [1, 24, 60, -3],
        "charges": [19.5, 70.25, 0.1, 1e6],
        "plan": ["basic", "pro", "naïve", "a b"],
        "partner": [True, False, True, False],
        "churned": [0, 1, 0, 1],
    })
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    return path


def load_test(url: str, data: Path, tmp_path: Path, *extra: str) -> tuple[int, dict, str]:
    report = tmp_path / "report.json"
    res = run_mlgate(["load-test", "--url", url, "--protocol", "oip-grpc",
                      "--model-name", "churn", "--data", str(data), "--drop", "churned",
                      "--rate", "20", "--duration", "1", "--slo", "error_rate<1%",
                      "--json", str(report), "--quiet", *extra])
    gate = json.loads(report.read_text())["gates"][0] if report.exists() else {}
    return res.code, gate, res.error_line


def test_rows_arrive_as_typed_tensors_of_the_named_model(data: Path, tmp_path: Path) -> None:
    with oip_grpc_server() as (address, received):
        code, gate, err = load_test(f"grpc://{address}", data, tmp_path,
                                    "--header", "x-team: churn")
    assert code == 0, err
    load = gate["data"]["load"]
    assert load["requests"] == 20 and load["error_reasons"] == {}
    assert received.problems == []
    assert received.calls >= 21  # the preflight call, then the schedule's 20
    assert received.datatypes == {"tenure": "INT64", "charges": "FP64", "plan": "BYTES",
                                  "partner": "BOOL"}
    sent = pd.read_csv(data).drop(columns="churned")
    allowed = {tuple(r) for r in sent.itertuples(index=False)}
    got = {tuple(row[c] for c in sent.columns) for row in received.rows}
    assert got and got <= allowed  # every value arrived as it is in the file
    assert all(m.get("x-team") == "churn" for m in received.metadata)


def test_several_rows_per_request_and_processes(data: Path, tmp_path: Path) -> None:
    with oip_grpc_server() as (address, received):
        code, gate, err = load_test(f"grpc://{address}", data, tmp_path,
                                    "--rows-per-request", "3", "--processes", "2")
    assert code == 0, err
    assert gate["data"]["load"]["requests"] == 20
    assert received.problems == [] and len(received.rows) >= 60


def test_status_errors_are_counted_by_code(data: Path, tmp_path: Path) -> None:
    """The server answers: its statuses are what the load test measures (exit 1, not 2)."""
    with oip_grpc_server(Behaviour(model="other")) as (address, _):
        code, gate, _ = load_test(f"grpc://{address}", data, tmp_path)
    assert code == 1
    assert gate["data"]["load"]["error_reasons"] == {"gRPC NOT_FOUND": 20}
    with oip_grpc_server(Behaviour(status=grpc.StatusCode.RESOURCE_EXHAUSTED)) as (address, _):
        code, gate, _ = load_test(f"grpc://{address}", data, tmp_path)
    assert gate["data"]["load"]["error_reasons"] == {"gRPC RESOURCE_EXHAUSTED": 20}


def test_deadline_is_a_timeout(data: Path) -> None:
    body = model_infer_request({"inputs": [
        {"name": "x", "shape": [1], "datatype": "FP64", "data": [1.0]}]}, "churn")
    with oip_grpc_server(Behaviour(delay=0.5)) as (address, _):
        stats = run_native(Plan(url=f"grpc://{address}", bodies=[body], rate=20, duration=0.5,
                                timeout=0.1, grpc=True))
    assert stats.errors == {"timeout": 10}


def test_nothing_listening_is_bad_input(data: Path, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = load_test(f"grpc://127.0.0.1:{port}", data, tmp_path)
    assert code == 2
    assert err.startswith(f"mlgate: error: grpc://127.0.0.1:{port}: cannot reach the endpoint "
                          "(connection error")


def test_grpcs_verifies_the_server_certificate(
    data: Path, tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    with oip_grpc_server(tls=(cert.read_bytes(), key.read_bytes())) as (address, _):
        url = f"grpcs://localhost:{address.rsplit(':', 1)[1]}"
        code, gate, err = load_test(url, data, tmp_path, "--ca-file", str(cert))
        assert code == 0, err
        assert gate["data"]["load"]["error_reasons"] == {}
        code, _, err = load_test(url, data, tmp_path)  # the self-signed CA is not trusted
        assert code == 2 and "cannot reach the endpoint (connection error" in err
        code, _, err = load_test(url, data, tmp_path, "--insecure")
        assert code == 2 and "gRPC cannot skip certificate verification" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--serve", "model.skops"], "protocol oip-grpc needs a url or command target"),
    (["--url", "grpc://127.0.0.1:1", "--engine", "locust"],
     "protocol oip-grpc needs engine native"),
    (["--url", "grpc://127.0.0.1:1/v2/models/churn"], "a gRPC target is host:port"),
    (["--url", "grpc://127.0.0.1:1", "--path", "/x"], "a gRPC target is host:port"),
])
def test_what_grpc_cannot_do_is_refused_before_anything_starts(
    data: Path, args: list[str], message: str
) -> None:
    res = run_mlgate(["load-test", "--protocol", "oip-grpc", "--model-name", "churn", "--data",
                      str(data), "--rate", "5", "--duration", "1", *args])
    assert res.code == 2 and message in res.error_line, res.error_line


def test_a_grpc_url_with_a_rest_protocol_says_which_protocol(data: Path) -> None:
    res = run_mlgate(["load-test", "--url", "grpc://127.0.0.1:1", "--protocol", "oip",
                      "--model-name", "churn", "--data", str(data), "--rate", "5"])
    assert res.code == 2
    assert "grpc:// targets need load.payload.protocol: oip-grpc" in res.error_line


def test_without_grpcio_the_error_says_which_extra(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "grpc", None)  # import grpc raises ImportError
    res = run_mlgate(["load-test", "--url", "grpc://127.0.0.1:1", "--protocol", "oip-grpc",
                      "--model-name", "churn", "--data", str(data), "--rate", "5"])
    assert res.code == 2
    assert "needs grpcio: pip install 'mlgate[grpc]'" in res.error_line
