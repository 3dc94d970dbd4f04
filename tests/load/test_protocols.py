"""Payload protocol presets: bodies built from a data file, checked by servers speaking them.

OIP against `mlgate serve` (the example's real model), MLflow against MLflow's own scoring
server when mlflow is installed, TF Serving / TorchServe / BentoML against strict local
servers (tests/load/protocol_servers.py); each runs a short real load test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import mlgate
from mlgate.load.payload import PayloadSpec, build_bodies
from tests.load import protocol_servers as ps
from tests.support.cli import run_mlgate

# Started `mlgate serve` processes run this tree's mlgate, whatever the working directory
# (a relative PYTHONPATH=src would otherwise resolve elsewhere).
SRC = str(Path(mlgate.__file__).resolve().parents[1])
CHILD_ENV = {"PYTHONPATH": SRC}


@pytest.fixture(autouse=True)
def _child_pythonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", SRC)


COLUMNS = ["age", "income", "plan", "active"]
CSV = "age,income,plan,active\n31,50.5,a,True\n52,41.25,b,False\n44,,a,True\n"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(CSV)
    return path


@pytest.fixture
def full_data(tmp_path: Path) -> Path:
    """No missing values: what tensor protocols (oip, tfserving) can carry."""
    path = tmp_path / "full.csv"
    path.write_text(CSV.replace("44,,a", "44,60.0,a"))
    return path


def _bodies(path: Path, protocol: str, rows: int = 2, **extra: str) -> list[dict]:
    spec = PayloadSpec(data=path, protocol=protocol, rows_per_request=rows, **extra)
    bodies = build_bodies(spec)
    assert bodies is not None and len(bodies) == 512
    return [json.loads(b) for b in bodies[:20]]


# --- bodies -------------------------------------------------------------------------------


def test_oip_body_is_one_tensor_per_column_with_datatypes(full_data: Path) -> None:
    body = _bodies(full_data, "oip", rows=3)[0]
    assert list(body) == ["inputs"]
    tensors = body["inputs"]
    assert [t["name"] for t in tensors] == COLUMNS
    assert [t["datatype"] for t in tensors] == ["INT64", "FP64", "BYTES", "BOOL"]
    for tensor in tensors:
        assert tensor["shape"] == [3] and len(tensor["data"]) == 3
    assert all(isinstance(v, bool) for v in tensors[3]["data"])
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in tensors[0]["data"])


def test_mlflow_tfserving_torchserve_bentoml_bodies(data: Path, full_data: Path) -> None:
    split = _bodies(data, "mlflow", rows=3)
    assert all(b["dataframe_split"]["columns"] == COLUMNS for b in split)
    rows = [r for b in split for r in b["dataframe_split"]["data"]]
    assert any(r[1] is None for r in rows)  # NaN -> null: MLflow reads it back as NaN
    assert all(len(r) == 4 for r in rows)

    instances = _bodies(full_data, "tfserving")[0]["instances"]
    assert len(instances) == 2 and list(instances[0]) == COLUMNS

    single = _bodies(data, "torchserve", rows=1)[0]
    assert isinstance(single, dict) and list(single) == COLUMNS
    batch = _bodies(data, "torchserve", rows=4)[0]
    assert isinstance(batch, list) and len(batch) == 4

    bento = _bodies(data, "bentoml", rows=2, api_param="frame")[0]
    assert list(bento) == ["frame"] and len(bento["frame"]) == 2


def test_tensor_protocols_refuse_missing_values_naming_the_column(data: Path) -> None:
    from mlgate.errors import InputError

    for protocol in ("oip", "tfserving"):
        with pytest.raises(InputError, match="column 'income' has missing values"):
            build_bodies(PayloadSpec(data=data, protocol=protocol))


def test_datatypes_from_parquet_dtypes(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    path = tmp_path / "typed.parquet"
    pd.DataFrame({"f32": np.array([1.5, 2.5], dtype="float32"),
                  "u8": np.array([1, 2], dtype="uint8"),
                  "cat": pd.Categorical(["x", "y"]),
                  "flag": [True, False]}).to_parquet(path)
    tensors = _bodies(path, "oip")[0]["inputs"]
    assert [t["datatype"] for t in tensors] == ["FP32", "UINT64", "BYTES", "BOOL"]


def test_column_no_tensor_datatype_fits_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "mixed.parquet"
    import pandas as pd

    pd.DataFrame({"x": [1, 2], "when": pd.to_datetime(["2024-01-01", "2024-01-02"])}).to_parquet(
        path)
    res = run_mlgate(["load-test", "--url", "http://127.0.0.1:9", "--rate", "1",
                      "--data", path, "--protocol", "oip", "--model-name", "m"])
    assert res.code == 2
    assert res.error_line.startswith(f"mlgate: error: {path}: column 'when'")
    assert "fits no tensor datatype" in res.error_line
    assert len(res.stderr.strip().splitlines()) == 1


# --- bad settings ---------------------------------------------------------------------------


def test_unknown_protocol_and_missing_model_name_name_their_field(
    data: Path, tmp_path: Path
) -> None:
    url = ["load-test", "--url", "http://127.0.0.1:9", "--rate", "1", "--data", data]
    res = run_mlgate([*url, "--protocol", "grpc-ish"])
    assert res.code == 2
    assert res.error_line.startswith("mlgate: error: --protocol: unknown protocol 'grpc-ish'")

    for protocol in ("oip", "kserve-v2", "tfserving", "torchserve"):
        res = run_mlgate([*url, "--protocol", protocol])
        assert res.code == 2, protocol
        assert res.error_line.startswith("mlgate: error: --model-name: protocol"), res.stderr

    cfg = tmp_path / "mlgate.yaml"
    cfg.write_text("version: 1\nproject: x\nload:\n  target: {url: 'http://127.0.0.1:9'}\n"
                   f"  rate: 1\n  payload: {{data: {data}, protocol: tfserving}}\n")
    res = run_mlgate(["load-test", "--config", cfg])
    assert res.code == 2
    assert res.error_line.startswith(f"mlgate: error: {cfg}:load.payload.model_name: protocol"), \
        res.error_line

    cfg.write_text("version: 1\nproject: x\nload:\n  target: {url: 'http://127.0.0.1:9'}\n"
                   f"  rate: 1\n  payload: {{data: {data}, protocol: triton-ish}}\n")
    res = run_mlgate(["load-test", "--config", cfg])
    assert res.code == 2 and "load.payload.protocol" in res.error_line
    assert "triton-ish" in res.error_line


def test_template_with_a_protocol_and_serve_with_a_foreign_protocol_are_refused(
    data: Path,
) -> None:
    res = run_mlgate(["load-test", "--url", "http://127.0.0.1:9", "--rate", "1", "--data",
                      data, "--protocol", "mlflow", "--template", '{"x": {{rows}}}'])
    assert res.code == 2 and res.error_line.startswith("mlgate: error: --template: a template")
    res = run_mlgate(["load-test", "--serve", "model.skops", "--rate", "1", "--data", data,
                      "--protocol", "tfserving", "--model-name", "m"])
    assert res.code == 2
    assert res.error_line.startswith("mlgate: error: --protocol: mlgate serve speaks")


# --- real load tests against servers speaking each protocol ---------------------------------


def _load(url: str, data: Path, tmp_path: Path, *extra: str) -> dict:
    report = tmp_path / "load.json"
    res = run_mlgate(["load-test", "--url", url, "--rate", "20", "--duration", "1s",
                      "--data", data, "--json", report, *extra])
    assert res.code == 0, res.stdout + res.stderr
    load: dict = json.loads(report.read_text())["gates"][0]["data"]["load"]
    assert load["errors"] == 0
    return load


@pytest.mark.parametrize("rows", ["1", "3"])
def test_tfserving_torchserve_servers_see_only_valid_requests(
    full_data: Path, data: Path, tmp_path: Path, rows: str
) -> None:
    tf = ps.start(*ps.tfserving("churn", COLUMNS))
    torch = ps.start(*ps.torchserve("churn", COLUMNS))
    try:
        load = _load(tf.url, full_data, tmp_path, "--protocol", "tfserving",
                     "--model-name", "churn", "--rows-per-request", rows)
        assert load["url"] == tf.url + "/v1/models/churn:predict"
        assert tf.invalid == [] and tf.valid >= 20  # the preflight request, then the test
        load = _load(torch.url, data, tmp_path, "--protocol", "torchserve",
                     "--model-name", "churn", "--rows-per-request", rows)
        assert load["url"] == torch.url + "/predictions/churn"
        assert torch.invalid == [] and torch.valid >= 20
    finally:
        tf.shutdown()
        torch.shutdown()


def test_bentoml_and_mlflow_servers_see_only_valid_requests_from_the_config(
    data: Path, tmp_path: Path
) -> None:
    bento = ps.start(*ps.bentoml("classify", "frame", COLUMNS))
    mlf = ps.start(*ps.mlflow(COLUMNS))
    try:
        for server, payload in (
            (bento, "{protocol: bentoml, api: classify, api_param: frame, rows_per_request: 4}"),
            (mlf, "{protocol: mlflow, rows_per_request: 2}"),
        ):
            cfg = tmp_path / "mlgate.yaml"
            cfg.write_text(f"version: 1\nproject: x\nload:\n  target: {{url: '{server.url}/'}}\n"
                           "  rate: 20\n"
                           f"  duration: 1s\n  payload: {payload}\n")
            res = run_mlgate(["load-test", "--config", cfg, "--data", data])
            assert res.code == 0, res.stdout + res.stderr
            assert server.invalid == [] and server.valid >= 20
    finally:
        bento.shutdown()
        mlf.shutdown()


def test_a_url_that_already_is_the_endpoint_is_not_extended(
    full_data: Path, tmp_path: Path
) -> None:
    tf = ps.start(*ps.tfserving("m", COLUMNS))
    try:
        load = _load(tf.url + "/v1/models/m:predict", full_data, tmp_path,
                     "--protocol", "tfserving", "--model-name", "m")
        assert load["url"] == tf.url + "/v1/models/m:predict" and tf.invalid == []
    finally:
        tf.shutdown()


def test_strict_servers_do_reject_the_wrong_protocol(data: Path, tmp_path: Path) -> None:
    """The validators are not vacuous: mlgate's own format to a BentoML API is refused."""
    bento = ps.start(*ps.bentoml("predict", "data", COLUMNS))
    try:
        res = run_mlgate(["load-test", "--url", bento.url + "/predict", "--rate", "10",
                          "--duration", "1s", "--data", data])
        assert res.code == 1
        assert bento.valid == 0 and bento.invalid[0].startswith("body must be {'data'")
    finally:
        bento.shutdown()


# --- MLflow's own scoring server --------------------------------------------------------------


def test_mlflow_preset_against_mlflows_scoring_server(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    venv_bin = Path(sys.executable).parent
    if not (venv_bin / "mlflow").is_file() or not (venv_bin / "uvicorn").is_file():
        pytest.skip("the mlflow and uvicorn scripts are not installed next to python")
    script = """
import sys
import numpy as np, pandas as pd, mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
rng = np.random.default_rng(0)
f = pd.DataFrame({"age": rng.integers(18, 80, 60), "income": rng.normal(50, 10, 60).round(2),
                  "plan": rng.choice(["a", "b"], 60), "active": rng.choice([True, False], 60)})
m = make_pipeline(make_column_transformer((OneHotEncoder(), ["plan"]), remainder="passthrough"),
                  LogisticRegression(max_iter=500)).fit(f, (f.age > 40).astype(int))
mlflow.sklearn.save_model(m, sys.argv[1], signature=infer_signature(f, m.predict(f)))
f.to_csv(sys.argv[2], index=False)
"""
    model, rows = tmp_path / "model", tmp_path / "rows.csv"
    subprocess.run([sys.executable, "-c", script, model, rows], check=True,
                   capture_output=True, timeout=300)
    command = (f"PATH={venv_bin}:$PATH exec {venv_bin / 'mlflow'} models serve -m {model} "
               "--env-manager local -h 127.0.0.1 -p {port}")
    report = tmp_path / "load.json"
    res = run_mlgate(["load-test", "--command", command, "--health",
                      "http://127.0.0.1:{port}/ping", "--startup-timeout", "120s",
                      "--protocol", "mlflow", "--data", rows, "--rows-per-request", "3",
                      "--rate", "10", "--duration", "2s", "--json", report])
    assert res.code == 0, res.stdout + res.stderr
    load = json.loads(report.read_text())["gates"][0]["data"]["load"]
    assert load["url"].endswith("/invocations") and load["errors"] == 0
    assert load["requests"] == 20


# --- mlgate serve over the Open Inference Protocol -------------------------------------------

ROW = {"tenure_months": 8, "monthly_charges": 87.99, "total_charges": 704.09,
       "contract": "one-year", "plan": "premium", "region": "east", "support_calls": 2,
       "partner": "yes"}
TYPES = {"tenure_months": "INT64", "support_calls": "INT64", "monthly_charges": "FP64",
         "total_charges": "FP64"}


def _request(rows: list[dict], **extra: object) -> dict:
    return {**extra, "inputs": [
        {"name": c, "shape": [len(rows)], "datatype": TYPES.get(c, "BYTES"),
         "data": [r[c] for r in rows]} for c in ROW
    ]}


@pytest.fixture(scope="module")
def served(_example_template: Path) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlgate", "serve", "--model", "models/candidate.skops",
         "--port", "0", "--model-name", "churn"],
        cwd=_example_template, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **CHILD_ENV},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "/v2/models/churn/infer" in line, proc.stderr.read() if proc.stderr else line
    yield line.split(" on ")[1].split()[0]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0


def test_oip_health_metadata_and_infer(served: str) -> None:
    assert requests.get(served + "/v2/health/live", timeout=5).json() == {"live": True}
    assert requests.get(served + "/v2/health/ready", timeout=5).json() == {"ready": True}
    assert requests.get(served + "/v2/models/churn/ready", timeout=5).json()["ready"] is True
    meta = requests.get(served + "/v2/models/churn", timeout=5).json()
    assert meta["name"] == "churn"
    assert [o["name"] for o in meta["outputs"]] == ["predict", "predict_proba"]

    rows = [ROW, {**ROW, "plan": "basic", "tenure_months": 40}]
    answer = requests.post(served + "/v2/models/churn/infer", json=_request(rows, id="r-1"),
                           timeout=5)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_name"] == "churn" and body["id"] == "r-1"
    predict, proba = body["outputs"]
    assert predict["name"] == "predict" and predict["shape"] == [2]
    assert predict["datatype"] == "INT64" and set(predict["data"]) <= {0, 1}
    assert proba["shape"] == [2, 2] and len(proba["data"]) == 4
    # the same predictions as mlgate's own format
    legacy = requests.post(served + "/predict", json={"rows": rows}, timeout=5).json()
    assert predict["data"] == legacy["predictions"]

    # nested [n, 1] data, inputs in another order, one requested output, a generated id
    request = _request(rows)
    for tensor in request["inputs"]:
        tensor["shape"] = [2, 1]
        tensor["data"] = [[v] for v in tensor["data"]]
    request["inputs"].reverse()
    request["outputs"] = [{"name": "predict"}]
    body = requests.post(served + "/v2/models/churn/infer", json=request, timeout=5).json()
    assert [o["name"] for o in body["outputs"]] == ["predict"]
    assert body["outputs"][0]["data"] == legacy["predictions"] and len(body["id"]) == 36


def _with(change: dict) -> dict:
    request = _request([ROW, ROW])
    for tensor in request["inputs"]:
        if tensor["name"] == "tenure_months":
            tensor.update(change)
    return request


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"rows": [ROW]}, 'expected {"inputs"'),
        (_with({"shape": [3]}), "holds 3 values, data has 2"),
        (_with({"shape": [2, 2], "data": [1, 2, 3, 4]}), "one tensor per column"),
        (_with({"datatype": "FP128"}), "unknown datatype"),
        (_with({"data": ["8", "9"]}), "is not INT64"),
        (_with({"data": [None, 8]}), "None is not INT64"),
        (_with({"name": "tenure"}), "unknown inputs: tenure"),
        ({"inputs": _request([ROW])["inputs"][:3]}, "missing inputs: support_calls, contract"),
        ({"inputs": [*_request([ROW])["inputs"], _request([ROW])["inputs"][0]]}, "given twice"),
        ({**_request([ROW]), "outputs": [{"name": "explain"}]}, "unknown outputs: explain"),
    ],
)
def test_oip_malformed_requests_are_400_in_the_protocols_error_format(
    served: str, document: dict, fragment: str
) -> None:
    answer = requests.post(served + "/v2/models/churn/infer", json=document, timeout=5)
    assert answer.status_code == 400
    assert list(answer.json()) == ["error"] and fragment in answer.json()["error"]
    assert requests.get(served + "/v2/health/live", timeout=5).status_code == 200


def test_oip_unknown_model_is_404(served: str) -> None:
    answer = requests.post(served + "/v2/models/other/infer", json=_request([ROW]), timeout=5)
    assert answer.status_code == 404 and "serves 'churn'" in answer.json()["error"]
    assert requests.get(served + "/v2/models/other", timeout=5).status_code == 404
    bad = requests.post(served + "/v2/models/churn/infer", data=b"{nope", timeout=5)
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]


def test_oip_load_test_against_mlgate_serve(churn_repo: Path, tmp_path: Path) -> None:
    """A serve target with protocol oip: bodies are tensors, the path names the model."""
    report = tmp_path / "load.json"
    res = run_mlgate(["load-test", "--serve", "models/candidate.skops", "--protocol",
                      "kserve-v2", "--data", "data/serving_sample.csv", "--drop",
                      "customer_id", "--rows-per-request", "4", "--rate", "20",
                      "--duration", "1s", "--json", report], cwd=churn_repo)
    assert res.code == 0, res.stdout + res.stderr
    load = json.loads(report.read_text())["gates"][0]["data"]["load"]
    assert load["url"].endswith("/v2/models/candidate/infer")
    assert load["payload"] == {"protocol": "oip", "rows_per_request": 4,
                               "model_name": "candidate"}
    assert load["errors"] == 0 and load["requests"] == 20
