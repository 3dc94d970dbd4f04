"""The bundled wine (multiclass) and diabetes (regression) examples, end to end.

Each example becomes a committed git repository with a bare origin, its candidate is trained by
its own train.py, and the real ``mlgate run --stage pr`` runs the data gate, the model gate
with the default preset of the task and the load test of the candidate served by a real
``mlgate serve``. A candidate trained on a fifth of the rows is blocked by the model gate.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from mlgate.config import find_config
from mlgate.model.loading import LoadRules, load_model
from tests.support.cli import run_mlgate
from tests.support.repos import (
    EXAMPLES,
    commit_all,
    example_repo,
    git,
    private_copy,
    train_candidate,
)

WORSE_FRACTION = 0.2
# example -> (preset the model gate must pick, champion metrics of that preset)
PRESETS = {
    "wine": ("multiclass-default", {"roc_auc", "log_loss_skill"}),
    "diabetes": ("regression-default", {"rmse", "mae"}),
}
# the champion checks that block the worse candidate
BLOCKED_BY = {"wine": {"champion log_loss_skill"}, "diabetes": {"champion rmse", "champion mae"}}
CODE_PATH_CLASS = "features.ClinicalInteractions"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Per example, once per module: the committed repository with its trained candidate, and
    ``worse.skops`` next to it (the same train.py on a fifth of the training rows)."""
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            base = tmp_path_factory.mktemp(f"example-{name}")
            repo = example_repo(base, name=name)
            train_candidate(repo, base / "worse.skops", fraction=WORSE_FRACTION)
            made[name] = repo
        return made[name]

    return get


@pytest.fixture
def example(template: Callable[[str], Path], tmp_path: Path) -> Callable[[str], Path]:
    """A private copy of an example's template (repository and its bare origin)."""

    def clone(name: str) -> Path:
        source = template(name)
        return private_copy(source, tmp_path / name)

    return clone


def report(repo: Path) -> dict[str, dict[str, Any]]:
    """The gates of the PR stage's report.json, by name."""
    data = json.loads((repo / ".mlgate" / "results" / "pr" / "report.json").read_text())
    return {g["gate"]: g for g in data["gates"]}


def statuses(gate: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in gate["checks"]}


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def import_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{path.parent.name}_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("name", ["wine", "diabetes"])
def test_good_candidate_passes_data_model_and_load(
    name: str, example: Callable[[str], Path], clean_github_env: None
) -> None:
    repo = example(name)
    result = run_mlgate(["run", "--stage", "pr"], cwd=repo)
    assert result.code == 0, result.stdout[-4000:] + result.stderr[-2000:]
    gates = report(repo)
    assert list(gates) == ["data", "model", "load"]
    # data: the suite, contract, drift, label drift and skew ran; nothing failed (a chance
    # drift of one column is a warning)
    data = gates["data"]
    assert data["status"] in {"pass", "warn"}
    checks = statuses(data)
    assert "fail" not in checks.values() and "error" not in checks.values()
    assert any(n.startswith(f"suite {name}:") for n in checks)
    for part in ("contract:", "drift:", "label drift:", "skew:"):
        assert any(n.startswith(part) for n in checks), part
    # model: the default preset of the task, thresholds and champion comparison all pass
    model = gates["model"]
    preset, champion_metrics = PRESETS[name]
    assert model["status"] == "pass", model["summary"]
    assert model["inputs"]["policy"]["preset"] == preset
    assert model["inputs"]["champion"]["path"] == "models/champion.skops"
    checks = statuses(model)
    assert set(checks.values()) == {"pass"}
    assert {f"champion {m}" for m in champion_metrics} <= set(checks)
    assert any(n.startswith("threshold ") for n in checks)
    intervals = model["data"]["intervals"]
    assert set(intervals) == champion_metrics
    assert {i["decision"] for i in intervals.values()} == {"pass"}
    # load: the candidate's own bytes were served by `mlgate serve` and met every SLO
    load = gates["load"]
    assert load["status"] in {"pass", "warn"}, load["summary"]
    assert load["inputs"]["model"]["sha256"] == sha256(repo / "models" / "candidate.skops")
    checks = statuses(load)
    # a busy test machine may leave the generator behind schedule: a warning about the
    # machine, not the model (tests/load covers it)
    assert checks.pop("generator kept up", "warn") == "warn"
    assert set(checks.values()) == {"pass"}
    figures = json.loads((repo / ".mlgate" / "results" / "pr" / "load-stats.json").read_text())
    assert figures["errors"] == 0 and figures["requests"] >= 90, figures
    # nothing of the example's own code stayed imported in this process
    assert "features" not in sys.modules


@pytest.mark.parametrize("name", ["wine", "diabetes"])
def test_candidate_on_a_fifth_of_the_rows_is_blocked_by_the_model_gate(
    name: str, example: Callable[[str], Path], clean_github_env: None
) -> None:
    repo = example(name)
    shutil.copy(repo.parent / "worse.skops", repo / "models" / "candidate.skops")
    commit_all(repo, f"candidate trained on {WORSE_FRACTION:.0%} of the rows")
    result = run_mlgate(["run", "--stage", "pr"], cwd=repo)
    assert result.code == 1, result.stdout[-4000:] + result.stderr[-2000:]
    gates = report(repo)
    assert gates["data"]["status"] in {"pass", "warn"}
    model = gates["model"]
    assert model["status"] == "fail"
    assert model["inputs"]["policy"]["preset"] == PRESETS[name][0]
    failed = {n for n, s in statuses(model).items() if s == "fail"}
    assert failed == BLOCKED_BY[name]
    # the absolute floors of the preset pass: the comparison with the champion blocks it
    assert all(s == "pass" for n, s in statuses(model).items() if n.startswith("threshold "))
    for check in (c for c in model["checks"] if c["name"] in failed):
        metric = check["name"].removeprefix("champion ")
        assert check["message"].startswith(f"{metric}: candidate ")
        assert check["message"].endswith("(margin): worse")
        assert check["details"]["decision"] == "fail"
        assert check["name"] in result.stdout
    # the pipeline stopped there: the worse candidate was not load-tested
    assert "load" not in gates
    assert "load skipped" in result.stdout


def test_wine_forest_loads_without_trusted_types_or_pickle(
    template: Callable[[str], Path],
) -> None:
    repo = template("wine")
    config = yaml.safe_load((repo / "mlgate.yaml").read_text())
    assert not {"trusted_types", "allow_pickle", "code_paths"} & set(config["model"])
    assert config["load"]["target"] == {"serve": "models/candidate.skops"}
    # skops itself does not trust the trees; mlgate's reviewed list of scikit-learn internals
    # is what accepts them, with no entry in the repository's config
    import skops.io as sio

    candidate = repo / "models" / "candidate.skops"
    assert sio.get_untrusted_types(file=candidate) == ["sklearn.tree._tree.Tree"]
    rules = LoadRules.from_config(find_config(repo / "mlgate.yaml"), allow_pickle=False)
    assert rules.trusted_types == () and not rules.allow_pickle
    model = load_model(candidate, rules)
    assert type(model).__name__ == "RandomForestClassifier" and len(model.estimators_) == 100
    holdout = pd.read_csv(repo / "data" / "holdout.csv")
    accuracy = (model.predict(holdout.drop(columns=["cultivar"])) == holdout["cultivar"]).mean()
    assert accuracy > 0.9
    tracked = git("ls-files", cwd=repo).splitlines()
    assert not [f for f in tracked if f.endswith((".pkl", ".pickle", ".joblib"))]


def test_diabetes_pipeline_loads_its_transformer_through_code_paths(
    template: Callable[[str], Path], tmp_path: Path, clean_github_env: None
) -> None:
    repo = tmp_path / "diabetes"
    shutil.copytree(template("diabetes"), repo, symlinks=True)
    assert "features" not in sys.modules  # training it did not leave the module behind
    config = yaml.safe_load((repo / "mlgate.yaml").read_text())
    assert config["model"]["code_paths"] == ["src"]
    assert config["model"]["trusted_types"] == [CODE_PATH_CLASS]
    rules = LoadRules.from_config(find_config(repo / "mlgate.yaml"), allow_pickle=False)
    assert rules.code_paths == ((repo / "src").resolve(),)
    model = load_model(repo / "models" / "candidate.skops", rules)
    step = model.steps[0][1]
    assert f"{type(step).__module__}.{type(step).__qualname__}" == CODE_PATH_CLASS
    # the class is the repository's src/features.py, imported for the load and then let go
    defined_in = Path(vars(type(step))["fit"].__code__.co_filename).resolve()
    assert defined_in == (repo / "src" / "features.py").resolve()
    assert "features" not in sys.modules and str(repo / "src") not in sys.path
    holdout = pd.read_csv(repo / "data" / "holdout.csv")
    predictions = model.predict(holdout.drop(columns=["progression"]))
    assert np.isfinite(predictions).all() and predictions.std() > 10

    # without code_paths the same file is refused, naming the module and the setting
    text = (repo / "mlgate.yaml").read_text()
    assert "  code_paths: [src]" in text
    (repo / "mlgate.yaml").write_text(text.replace("  code_paths: [src]", "", 1))
    refused = run_mlgate(["gate-model"], cwd=repo)
    assert refused.code == 2
    assert "the model needs module 'features', which cannot be imported" in refused.error_line
    assert "no model.code_paths are configured" in refused.error_line
    assert "code_paths: [DIR]" in refused.error_line
    # and with code_paths but without the reviewed type, it is refused before anything loads
    (repo / "mlgate.yaml").write_text(text.replace(f"    - {CODE_PATH_CLASS}\n", "", 1)
                                      .replace("  trusted_types:", "  trusted_types: []", 1))
    untrusted = run_mlgate(["gate-model"], cwd=repo)
    assert untrusted.code == 2
    assert f"1 type that is not trusted: {CODE_PATH_CLASS}." in untrusted.error_line
    assert "sklearn.tree" not in untrusted.error_line  # the trees are in the reviewed list
    assert "features" not in sys.modules


@pytest.mark.parametrize("name", ["wine", "diabetes"])
def test_committed_data_and_champion_are_what_the_scripts_make(
    name: str, tmp_path: Path, clean_github_env: None
) -> None:
    """make_data.py reproduces the committed CSV files byte for byte, and the champion is
    train.py's recipe on half the rows (the command its docstring gives)."""
    source = EXAMPLES / name
    copy = tmp_path / name  # the scripts run in a copy: nothing is written into examples/
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(
        ".mlgate", "__pycache__", "candidate.skops", "*.csv"))
    make_data = import_script(copy / "make_data.py")
    make_data.main()
    for csv in ("train.csv", "holdout.csv", "serving_sample.csv"):
        assert (copy / "data" / csv).read_bytes() == (source / "data" / csv).read_bytes(), csv
    command = ["--fraction", "0.5", "--seed", "1", "--out", "models/champion.skops"]
    assert " ".join(command) in (copy / "train.py").read_text()
    # a subprocess, as documented: diabetes' train.py imports its own src/features.py
    (copy / "models" / "champion.skops").unlink()
    subprocess.run([sys.executable, "train.py", *command], cwd=copy, check=True,
                   capture_output=True)
    rules = LoadRules.from_config(find_config(copy / "mlgate.yaml"), allow_pickle=False)
    retrained = load_model(copy / "models" / "champion.skops", rules)
    committed = load_model(source / "models" / "champion.skops", rules)
    target = "cultivar" if name == "wine" else "progression"
    rows = pd.read_csv(source / "data" / "holdout.csv").drop(columns=[target])
    np.testing.assert_allclose(retrained.predict(rows), committed.predict(rows))
