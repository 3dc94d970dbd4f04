"""Champions read from a real MLflow registry: a sqlite tracking store in a temporary directory.

Two versions of the example churn model are registered with MLflow itself (v1 trained on 5% of
the rows, v2 on all of them, the same model as the candidate), the alias ``champion`` is moved
between them, and the real ``mlgate gate-model`` compares the candidate with whatever the alias
names. Needs the ``mlflow`` extra, except the test that MLflow's absence is reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import importlib.util
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tests.model.conftest import read_json
from tests.support.cli import CliResult, run_mlgate
from tests.support.mlflow_models import run_without_mlflow
from tests.support.repos import train_candidate

REF = "mlflow:models:/churn@champion"


@dataclass
class Registry:
    uri: str
    db: Path
    client: Any
    files: dict[str, Path]  # version -> its model file in the artifact store

    def point(self, alias: str, version: str) -> None:
        self.client.set_registered_model_alias("churn", alias, version)

    def sha(self, version: str) -> str:
        return "sha256:" + hashlib.sha256(self.files[version].read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, _example_template: Path) -> Registry:
    """A sqlite-backed MLflow tracking store with churn v1 (5% of the data) and v2 (all)."""
    pytest.importorskip("mlflow", reason="the mlflow extra is needed for a registry")
    import mlflow
    import mlflow.sklearn
    import skops.io as sio

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("churn", artifact_location=(root / "artifacts").as_uri())
    files = {}
    with tracking(uri):
        for version, fraction in (("1", 0.05), ("2", 1.0)):
            path = train_candidate(_example_template, root / f"v{version}.skops", fraction)
            with mlflow.start_run(experiment_id=experiment):
                mlflow.sklearn.log_model(sio.load(path), name="model",
                                         registered_model_name="churn")
            found = client.get_model_version("churn", version)
            source = Path(client.get_model_version_download_uri("churn", version)
                          .removeprefix("file://"))
            files[version] = source / "model.skops"
            assert found.version == int(version) and files[version].is_file()
    return Registry(uri, root / "mlflow.db", client, files)


@contextlib.contextmanager
def tracking(uri: str) -> Iterator[None]:
    """MLflow's fluent API (start_run, log_model) on ``uri`` for a while, then as before."""
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    os.environ.update(MLFLOW_TRACKING_URI=uri, MLFLOW_REGISTRY_URI=uri)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def gate(repo: Path, uri: str | None, *extra: str, champion: str = REF) -> CliResult:
    env = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": None}
    return run_mlgate(["gate-model", "--champion", champion, "--json", repo / "model.json",
                       *extra], cwd=repo, env=env)


def champion_check(repo: Path) -> dict[str, Any]:
    gate_result = read_json(repo / "model.json")["gates"][0]
    return next(c for c in gate_result["checks"] if c["name"] == "champion roc_auc")


def auc_of(repo: Path, model_file: Path) -> float:
    import skops.io as sio

    holdout = pd.read_csv(repo / "data" / "holdout.csv")
    model = sio.load(model_file)
    features = holdout.drop(columns=["churned"])
    return float(roc_auc_score(holdout["churned"], model.predict_proba(features)[:, 1]))


def test_alias_decides_which_version_is_the_champion(
    churn_repo: Path, registry: Registry, clean_github_env: None
) -> None:
    registry.point("champion", "1")
    result = gate(churn_repo, registry.uri)
    assert result.code == 0, result.stdout + result.stderr
    inputs = read_json(churn_repo / "model.json")["gates"][0]["inputs"]
    assert inputs["champion"] == {"ref": REF, "version": "1", "sha256": registry.sha("1")}
    check = champion_check(churn_repo)
    assert f"champion {REF} (version 1)" in check["message"]
    v1_auc = auc_of(churn_repo, registry.files["1"])
    assert check["details"]["champion"] == pytest.approx(v1_auc, abs=1e-12)
    assert check["details"]["candidate"] > v1_auc  # the 5%-data model is the weaker one

    registry.point("champion", "2")  # the same model as the candidate: no difference at all
    result = gate(churn_repo, registry.uri)
    assert result.code == 0, result.stdout + result.stderr
    inputs = read_json(churn_repo / "model.json")["gates"][0]["inputs"]
    assert inputs["champion"] == {"ref": REF, "version": "2", "sha256": registry.sha("2")}
    check = champion_check(churn_repo)
    assert check["details"]["champion"] == pytest.approx(auc_of(churn_repo, registry.files["2"]))
    assert check["value"] == 0.0


def test_worse_candidate_is_blocked_by_the_registry_champion(
    churn_repo: Path, registry: Registry, clean_github_env: None
) -> None:
    registry.point("champion", "2")
    train_candidate(churn_repo, churn_repo / "models" / "candidate.skops", fraction=0.05)
    result = gate(churn_repo, registry.uri)
    assert result.code == 1, result.stdout + result.stderr
    check = champion_check(churn_repo)
    assert check["status"] == "fail"
    assert f"vs champion {REF} (version 2)" in check["message"]
    assert "champion roc_auc" in result.stdout


def test_version_reference_and_tracking_uri_from_mlgate_yaml(
    churn_repo: Path, registry: Registry, tmp_path: Path, clean_github_env: None
) -> None:
    """`/NAME/VERSION` form; model.mlflow_tracking_uri relative to mlgate.yaml, not the cwd."""
    copy = churn_repo / "registry.db"
    with sqlite3.connect(registry.db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    config = churn_repo / "mlgate.yaml"
    config.write_text(config.read_text().replace(
        "  champion: production", "  mlflow_tracking_uri: sqlite:///registry.db\n"
        "  champion: production"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_mlgate(["gate-model", "--config", config, "--champion", "mlflow:models:/churn/1",
                         "--json", elsewhere / "model.json"], cwd=elsewhere,
                        env={"MLFLOW_TRACKING_URI": None, "MLFLOW_REGISTRY_URI": None})
    assert result.code == 0, result.stdout + result.stderr
    inputs = read_json(elsewhere / "model.json")["gates"][0]["inputs"]
    assert inputs["champion"] == {"ref": "mlflow:models:/churn/1", "version": "1",
                                  "sha256": registry.sha("1")}
    assert not (elsewhere / "registry.db").exists()


def test_pickled_registry_champion_follows_the_pickle_rules(
    churn_repo: Path, registry: Registry, clean_github_env: None
) -> None:
    """A cloudpickle version needs allow_pickle; in an untrusted run it is a pickle from outside
    the repository, refused unless the workflow opts in with --allow-pickle-from-pr."""
    import mlflow
    import mlflow.sklearn
    import skops.io as sio

    experiment = registry.client.get_experiment_by_name("churn").experiment_id
    with tracking(registry.uri), mlflow.start_run(experiment_id=experiment):
        info = mlflow.sklearn.log_model(
            sio.load(registry.files["1"]), name="model", registered_model_name="churn-pkl",
            serialization_format="cloudpickle")
    version = str(info.registered_model_version)
    ref = f"mlflow:models:/churn-pkl/{version}"
    result = gate(churn_repo, registry.uri, champion=ref)
    assert result.code == 2
    assert result.error_line.endswith(
        "/model.pkl: refusing to load a .pkl file: unpickling runs arbitrary code. Save the "
        "model with skops (skops.io.dump) or opt in with --allow-pickle / model.allow_pickle: "
        "true for files you trust")
    result = gate(churn_repo, registry.uri, "--allow-pickle", champion=ref)
    assert result.code == 0, result.stdout + result.stderr
    assert f"champion {ref} (version {version})" in champion_check(churn_repo)["message"]

    untrusted = {"MLGATE_UNTRUSTED": "1", "MLGATE_DEFAULT_BRANCH": "main"}
    result = run_mlgate(["gate-model", "--champion", ref, "--allow-pickle"], cwd=churn_repo,
                        env={"MLFLOW_TRACKING_URI": registry.uri, **untrusted})
    assert result.code == 2
    assert "is not in a git checkout, so it cannot be shown to be the default branch" in (
        result.error_line)
    assert "--allow-pickle-from-pr" in result.error_line
    result = run_mlgate(["gate-model", "--champion", ref, "--allow-pickle",
                         "--allow-pickle-from-pr"], cwd=churn_repo,
                        env={"MLFLOW_TRACKING_URI": registry.uri, **untrusted})
    assert result.code == 0, result.stdout + result.stderr


# -- bad references: exit 2, one line -------------------------------------------------------------


@pytest.mark.parametrize(
    ("champion", "expected"),
    [
        ("mlflow:models:/churn@nope", "champion mlflow:models:/churn@nope: Registered model "
         "alias nope not found."),
        ("mlflow:models:/no-such-model@champion", "champion mlflow:models:/no-such-model@"
         "champion: Registered Model with name=no-such-model not found"),
        ("mlflow:models:/churn/99", "champion mlflow:models:/churn/99: Model Version "
         "(name=churn, version=99) not found"),
    ],
)
def test_unknown_alias_model_or_version_is_one_line(
    churn_repo: Path, registry: Registry, clean_github_env: None, champion: str, expected: str
) -> None:
    result = gate(churn_repo, registry.uri, champion=champion)
    assert result.code == 2
    assert result.error_line == (
        f"mlgate: error: mlgate.yaml:model: {expected} (MLflow registry "
        f"{registry.uri})"
    )
    assert len([ln for ln in result.stderr.splitlines() if ln.strip()]) == 1, result.stderr


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_registry_fails_fast_in_one_line(
    churn_repo: Path, registry: Registry, closed_port: int, clean_github_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MLflow's own default would retry with backoff for about four minutes."""
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    started = time.monotonic()
    result = gate(churn_repo, f"http://user:secret@127.0.0.1:{closed_port}")
    assert result.code == 2
    assert time.monotonic() - started < 60
    line = result.error_line
    assert line.startswith(f"mlgate: error: mlgate.yaml:model: champion {REF}: ")
    assert "Connection refused" in line or "Max retries exceeded" in line, line
    assert f"(MLflow registry http://127.0.0.1:{closed_port})" in line
    assert "secret" not in result.stderr


def test_missing_sqlite_store_is_refused_not_created(
    churn_repo: Path, registry: Registry, tmp_path: Path, clean_github_env: None
) -> None:
    missing = tmp_path / "typo.db"
    result = gate(churn_repo, f"sqlite:///{missing}")
    assert result.code == 2
    assert f"the MLflow tracking store {missing} does not exist" in result.error_line
    assert not missing.exists()


@pytest.mark.parametrize(
    ("champion", "uri", "expected"),
    [
        (REF, None, f"champion {REF} needs an MLflow tracking URI: set MLFLOW_TRACKING_URI or "
         "model.mlflow_tracking_uri"),
        ("mlflow:models:/churn", "sqlite:///x.db", "champion 'mlflow:models:/churn': expected "
         "mlflow:models:/NAME@ALIAS or mlflow:models:/NAME/VERSION"),
        ("mlflow:runs:/abc/model", "sqlite:///x.db", "champion 'mlflow:runs:/abc/model': "
         "expected mlflow:models:/NAME@ALIAS or mlflow:models:/NAME/VERSION"),
    ],
)
def test_reference_or_tracking_uri_missing_is_one_line(
    churn_repo: Path, clean_github_env: None, champion: str, uri: str | None, expected: str
) -> None:
    """Checked before MLflow is imported: these need no mlflow extra."""
    result = gate(churn_repo, uri, champion=champion)
    assert result.code == 2
    assert result.error_line == f"mlgate: error: mlgate.yaml:model: {expected}"


def test_without_mlflow_installed_the_error_names_the_extra(
    churn_repo: Path, tmp_path: Path, clean_github_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "mlflow.db"
    store.touch()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    proc = run_without_mlflow(["gate-model", "--champion", REF], cwd=churn_repo)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(
        f"mlgate: error: mlgate.yaml:model: champion {REF} reads an MLflow "
        "registry, but MLflow cannot be imported (ModuleNotFoundError: ")
    assert lines[0].endswith(": pip install 'mlgate[mlflow]'")


# -- the tracking URI is a trust setting -----------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path + " " + str(self.headers.get("Authorization")))
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def attacker() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on loopback that records every request (and its credentials)."""
    seen: list[str] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_pull_request_cannot_send_the_registry_credentials_elsewhere(
    churn_repo: Path, attacker: tuple[str, list[str]], clean_github_env: None
) -> None:
    """A run whose code is not the default branch's reads model.mlflow_tracking_uri from the
    default branch, before anything connects (the job's MLFLOW_TRACKING_TOKEN would go along)."""
    from tests.support.repos import commit_all, git

    url, seen = attacker
    git("checkout", "--quiet", "-b", "pr", cwd=churn_repo)
    config = churn_repo / "mlgate.yaml"
    config.write_text(config.read_text().replace(
        "  champion: production", f"  mlflow_tracking_uri: {url}\n  champion: production"))
    commit_all(churn_repo, "PR: our own registry")
    env = {"MLGATE_UNTRUSTED": "1", "MLGATE_DEFAULT_BRANCH": "main",
           "MLFLOW_TRACKING_TOKEN": "job-secret", "MLFLOW_TRACKING_URI": None}
    result = run_mlgate(["gate-model", "--champion", REF], cwd=churn_repo, env=env)
    assert result.code == 2
    line_no = next(i for i, text in enumerate(config.read_text().splitlines(), 1)
                   if "mlflow_tracking_uri" in text)
    assert result.error_line.startswith(
        f"mlgate: error: mlgate.yaml:{line_no}: model.mlflow_tracking_uri: this run's code is "
        "not the default branch's (MLGATE_UNTRUSTED=1)"), result.error_line
    assert seen == []
    # The same run on the default branch's own code may use it (and reaches the server).
    result = run_mlgate(["gate-model", "--champion", REF], cwd=churn_repo,
                        env={**env, "MLGATE_UNTRUSTED": None})
    assert result.code == 2  # our recorder is no registry
    if importlib.util.find_spec("mlflow") is not None:  # connecting needs the mlflow extra
        assert seen and all("job-secret" in s for s in seen), seen

