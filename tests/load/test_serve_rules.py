"""`mlgate serve`, `load-test --serve` and `load.target.serve` load under the model gate's rules.

The bug this guards: a tree model saved with skops passed the model gate and then could not be
load-tested, and a model that needed `model.trusted_types` was refused by the server the load
test started. Real models, the real CLI, real `mlgate serve` processes, a real git ledger.
"""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests
import skops.io as sio

from tests.support.cli import run_mlgate
from tests.support.repos import commit_all

FAST_LOAD = ["--duration", "1s", "--warmup", "0s"]


def candidate_parts(repo: Path) -> tuple[object, list[str], pd.DataFrame]:
    base = sio.load(repo / "models" / "candidate.skops")
    return base, list(base.feature_names_in_), pd.read_csv(repo / "data" / "train.csv")


def forest_candidate(repo: Path) -> None:
    """Replace the example's candidate with a random forest on the same features."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline

    base, columns, train = candidate_parts(repo)
    model = Pipeline([("features", base.named_steps["features"]),  # type: ignore[attr-defined]
                      ("classifier", RandomForestClassifier(n_estimators=30, min_samples_leaf=20,
                                                            random_state=0))])
    model.fit(train[columns], train["churned"])
    sio.dump(model, repo / "models" / "candidate.skops")


def custom_model(repo: Path, name: str = "custom.skops") -> Path:
    """The example's pipeline behind FunctionTransformer(copy.copy): needs copy.copy trusted."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    base, columns, train = candidate_parts(repo)
    model = make_pipeline(FunctionTransformer(copy.copy), base)
    model.fit(train[columns], train["churned"])
    path = repo / "models" / name
    sio.dump(model, path)
    return path


def trust(repo: Path, types: str) -> None:
    config = repo / "mlgate.yaml"
    config.write_text(config.read_text().replace(
        "  allow_pickle: false\n", f"  allow_pickle: false\n  trusted_types: [{types}]\n"))


def test_a_tree_model_passes_the_gate_and_is_load_tested(
    churn_repo: Path, tmp_path: Path, clean_github_env: None
) -> None:
    forest_candidate(churn_repo)
    assert sio.get_untrusted_types(file=churn_repo / "models" / "candidate.skops") == [
        "sklearn.tree._tree.Tree"]
    assert "trusted_types" not in (churn_repo / "mlgate.yaml").read_text()
    gated = run_mlgate(["gate-model", "--champion", "models/champion.skops"], cwd=churn_repo)
    assert gated.code in (0, 1), gated.stderr  # judged, not refused
    report = tmp_path / "load.json"
    loaded = run_mlgate(["load-test", *FAST_LOAD, "--json", report], cwd=churn_repo)
    assert loaded.code == 0, loaded.stdout + loaded.stderr
    load = json.loads(report.read_text())["gates"][0]["data"]["load"]
    assert load["target"]["kind"] == "serve" and load["errors"] == 0


def test_the_load_stage_of_mlgate_run_serves_a_tree_model(churn_repo: Path) -> None:
    from mlgate.config import load_config
    from mlgate.load.stage import load_stage
    from mlgate.pipeline import RunContext

    forest_candidate(churn_repo)
    config_file = churn_repo / "mlgate.yaml"
    config_file.write_text(config_file.read_text().replace("duration: 5s", "duration: 1s"))
    result = load_stage(RunContext(load_config(config_file), "pr",
                                   churn_repo / ".mlgate" / "results"))
    assert result.passed, [c.to_dict() for c in result.failures]


def test_load_target_serve_uses_the_model_sections_trusted_types(
    churn_repo: Path, clean_github_env: None
) -> None:
    custom_model(churn_repo, "candidate.skops")
    refused = run_mlgate(["load-test", *FAST_LOAD], cwd=churn_repo)
    assert refused.code == 2
    assert "mlgate serve failed" in refused.error_line
    assert "1 type that is not trusted: copy.copy" in refused.error_line
    trust(churn_repo, "copy.copy")
    passed = run_mlgate(["load-test", *FAST_LOAD], cwd=churn_repo)
    assert passed.code == 0, passed.stdout + passed.stderr
    # the same rules for the model gate
    gated = run_mlgate(["gate-model", "--champion", "models/champion.skops"], cwd=churn_repo)
    assert gated.code in (0, 1), gated.stderr


@pytest.fixture
def server() -> Iterator[callable]:  # type: ignore[valid-type]
    """Start `mlgate serve` processes; yields a factory returning the URL; stops them all."""
    procs: list[subprocess.Popen[str]] = []

    def start(cwd: Path, *args: str) -> str:
        proc = subprocess.Popen([sys.executable, "-m", "mlgate", "serve", *args, "--port", "0"],
                                cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, proc.stderr.read() if proc.stderr else line
        return line.split(" on ")[1].split()[0]

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0


def test_serve_reads_the_rules_from_config(
    churn_repo: Path, tmp_path: Path, server: callable, clean_github_env: None  # type: ignore[valid-type]
) -> None:
    custom_model(churn_repo)
    refused = run_mlgate(["serve", "--model", "models/custom.skops", "--port", "0"],
                         cwd=churn_repo)
    assert refused.code == 2 and "not trusted: copy.copy" in refused.error_line
    # --config names another file; ./mlgate.yaml is the default
    other = tmp_path / "other.yaml"
    other.write_text("version: 1\nproject: churn\nmodel:\n  trusted_types: [copy.copy]\n")
    url = server(churn_repo, "--model", "models/custom.skops", "--config", str(other))
    assert requests.get(url + "/health", timeout=5).json()["model"] == "custom.skops"
    trust(churn_repo, "copy.copy")
    url = server(churn_repo, "--model", "models/custom.skops")
    row = pd.read_csv(churn_repo / "data" / "holdout.csv").drop(columns=["churned"]).head(2)
    answer = requests.post(url + "/predict", json={"rows": row.to_dict("records")}, timeout=5)
    assert answer.status_code == 200 and len(answer.json()["predictions"]) == 2


def test_a_ledger_version_is_served_under_the_same_rules(
    churn_repo: Path, tmp_path: Path, server: callable,  # type: ignore[valid-type]
    clean_github_env: None,
) -> None:
    custom_model(churn_repo, "candidate.skops")
    trust(churn_repo, "copy.copy")
    commit_all(churn_repo, "a candidate that needs copy.copy", push=True)
    evidence = [str(tmp_path / "data.json"), str(tmp_path / "model.json")]
    assert run_mlgate(["validate-data", "--json", evidence[0]], cwd=churn_repo).code == 0
    gated = run_mlgate(["gate-model", "--json", evidence[1]], cwd=churn_repo)
    assert gated.code == 0, gated.stdout + gated.stderr
    registered = run_mlgate(["register", "churn", "--evidence", *evidence], cwd=churn_repo)
    assert registered.code == 0, registered.stdout + registered.stderr
    config = churn_repo / "mlgate.yaml"
    trusting = config.read_text()
    config.write_text(trusting.replace("  trusted_types: [copy.copy]\n", ""))
    refused = run_mlgate(["serve", "--model", "churn@v0.1.0", "--port", "0"], cwd=churn_repo)
    assert refused.code == 2 and "not trusted: copy.copy" in refused.error_line
    config.write_text(trusting)
    url = server(churn_repo, "--model", "churn@v0.1.0")
    assert requests.get(url + "/health", timeout=5).json()["model"] == "churn@v0.1.0"


@pytest.mark.parametrize(
    ("args", "source"),
    [(["serve", "--model", "https://models.example.com/churn.skops"], "--model"),
     (["load-test", "--serve", "s3://bucket/churn.skops", "--rate", "1"], "--serve"),
     (["gate-model", "--model", "gs://bucket/churn.skops"], "--model"),
     (["gate-model", "--champion", "s3://bucket/champion.skops"], "--champion")],
)
def test_model_uris_are_not_supported_yet(
    churn_repo: Path, args: list[str], source: str, clean_github_env: None
) -> None:
    result = run_mlgate(args, cwd=churn_repo)
    assert result.code == 2
    uri = next(a for a in args if "://" in a)
    assert result.error_line.startswith(f"mlgate: error: {source}: {uri!r} is a ")
    assert "URLs and object-store URIs (https://, s3://, gs://, ...) are not supported yet " \
        "for models: give a local file" in result.error_line


def test_a_configured_model_uri_names_the_key(churn_repo: Path, clean_github_env: None) -> None:
    config = churn_repo / "mlgate.yaml"
    config.write_text(config.read_text().replace("  path: models/candidate.skops",
                                                 "  path: s3://bucket/candidate.skops"))
    result = run_mlgate(["gate-model"], cwd=churn_repo)
    assert result.code == 2
    assert result.error_line.startswith("mlgate: error: mlgate.yaml:model.path: "
                                        "'s3://bucket/candidate.skops' is a s3:// URI")


def test_a_directory_without_mlmodel_is_not_a_model(churn_repo: Path,
                                                    clean_github_env: None) -> None:
    result = run_mlgate(["gate-model", "--model", "models"], cwd=churn_repo)
    assert result.code == 2
    assert "model path is a directory but not an MLflow model (no MLmodel file)" \
        in result.error_line
