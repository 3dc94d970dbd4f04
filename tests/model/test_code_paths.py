"""model.code_paths: a pipeline with the repository's own transformer loads in gate-model and
serve; the same class defined in a training script's ``__main__`` gets a clear error.

A real git repository with ``src/features.py``, models trained by real ``python`` processes
(so the test process never imports ``features`` itself), the real CLI and a real server.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
import requests

from mlgate.model.code_paths import importable
from tests.support.cli import run_mlgate
from tests.support.repos import commit_all, init_repo

FEATURES = '''\
"""The repository's own feature code."""
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class AddRatio(BaseEstimator, TransformerMixin):
    """Appends x0 / x1, a feature the model needs at predict time."""

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        return np.column_stack([X, X[:, 0] / X[:, 1]])
'''

TRAIN = '''\
import sys
import joblib
import pandas as pd
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

{define}

data = pd.read_csv("data/train.csv")
model = Pipeline([("ratio", AddRatio()), ("scale", StandardScaler()),
                  ("classifier", LogisticRegression(max_iter=1000))])
model.fit(data.drop(columns=["y"]), data["y"])
sio.dump(model, "models/{name}.skops")
joblib.dump(model, "models/{name}.joblib")
'''

IMPORTED = 'sys.path.insert(0, "src")\nfrom features import AddRatio'
CONFIG = """\
version: 1
project: ratio
model:
  path: models/model.skops
  data: data/holdout.csv
  target: y
  policy: classification-default
  trusted_types: [features.AddRatio]
  code_paths: [src]
load:
  target: {serve: models/model.skops}
  rate: 20
  duration: 1s
  payload: {data: data/holdout.csv, drop: [y]}
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository, trained once: models/model.* (class from src/features.py) and
    models/main.* (the same class defined in the training script)."""
    from sklearn.datasets import load_breast_cancer

    repo = init_repo(tmp_path_factory.mktemp("code-paths") / "ratio")
    (repo / "src").mkdir()
    (repo / "src" / "features.py").write_text(FEATURES)
    (repo / "data").mkdir()
    (repo / "models").mkdir()
    x, y = load_breast_cancer(return_X_y=True)
    frame = pd.DataFrame(x[:, :4] + 1, columns=["x0", "x1", "x2", "x3"]).assign(y=y)
    frame.iloc[:400].to_csv(repo / "data" / "train.csv", index=False)
    frame.iloc[400:].to_csv(repo / "data" / "holdout.csv", index=False)
    define_main = textwrap.dedent(FEATURES.split('"""The repository', 1)[0]) + \
        FEATURES.split("\n", 1)[1]
    (repo / "train.py").write_text(TRAIN.format(define=IMPORTED, name="model"))
    (repo / "train_main.py").write_text(TRAIN.format(define=define_main, name="main"))
    for script in ("train.py", "train_main.py"):
        subprocess.run([sys.executable, script], cwd=repo, check=True)
    (repo / "mlgate.yaml").write_text(CONFIG)
    commit_all(repo, "a model with the repository's own transformer")
    return repo


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "ratio"
    shutil.copytree(template, copy, symlinks=True)
    return copy


def gate(repo: Path, *extra: str) -> tuple[int, str]:
    result = run_mlgate(["gate-model", *extra], cwd=repo)
    return result.code, result.error_line or result.stdout


def edit_config(repo: Path, old: str, new: str) -> None:
    path = repo / "mlgate.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_skops_model_with_project_code_passes_the_gate(
    repo: Path, clean_github_env: None
) -> None:
    code, output = gate(repo)
    assert code == 0, output
    # the load left nothing behind: no src on sys.path, no features module
    assert "features" not in sys.modules
    assert str(repo / "src") not in sys.path and str((repo / "src").resolve()) not in sys.path


def test_pickle_with_project_code_passes_the_gate(repo: Path, clean_github_env: None) -> None:
    edit_config(repo, "  path: models/model.skops", "  path: models/model.joblib\n"
                "  allow_pickle: true")
    code, output = gate(repo)
    assert code == 0, output


@pytest.mark.parametrize("model", ["models/model.skops", "models/model.joblib"])
def test_without_code_paths_the_missing_module_is_named(
    repo: Path, model: str, clean_github_env: None
) -> None:
    edit_config(repo, "  code_paths: [src]\n", "  allow_pickle: true\n")
    code, line = gate(repo, "--model", model)
    assert code == 2
    assert model in line
    assert "the model needs module 'features', which cannot be imported" in line
    assert "no model.code_paths are configured" in line
    assert "model: {code_paths: [DIR]}" in line


@pytest.mark.parametrize("model", ["models/main.skops", "models/main.joblib"])
def test_a_class_from_a_training_script_gets_the_move_it_error(
    repo: Path, model: str, clean_github_env: None
) -> None:
    edit_config(repo, "  code_paths: [src]\n", "  code_paths: [src]\n  allow_pickle: true\n")
    code, line = gate(repo, "--model", model)
    assert code == 2
    assert model in line
    assert "the model needs __main__.AddRatio, defined in the script that saved it (__main__)" \
        in line
    assert "move the class into a module of the repository" in line
    assert "model: {code_paths: [src]}" in line


@pytest.mark.parametrize(
    ("value", "message"),
    [("lib", "code path 'lib' does not exist"),
     ("src/features.py", "code path 'src/features.py' is not a directory"),
     ("../outside", "code path '../outside' is outside the repository")],
)
def test_a_bad_code_path_is_exit_2_naming_the_key(
    repo: Path, value: str, message: str, clean_github_env: None
) -> None:
    (repo.parent / "outside").mkdir(exist_ok=True)
    edit_config(repo, "  code_paths: [src]", f"  code_paths: [{value}]")
    code, line = gate(repo)
    assert code == 2
    assert line.startswith(f"mlgate: error: mlgate.yaml:model.code_paths[0]: {message}"), line


def test_a_symlink_out_of_the_repository_is_outside(repo: Path, clean_github_env: None) -> None:
    (repo.parent / "elsewhere").mkdir()
    (repo / "lib").symlink_to(repo.parent / "elsewhere")
    edit_config(repo, "  code_paths: [src]", "  code_paths: [src, lib]")
    code, line = gate(repo)
    assert code == 2 and "model.code_paths[1]: code path 'lib' is outside the repository" in line


def test_code_path_modules_win_while_loading_and_the_old_ones_return(repo: Path) -> None:
    impostor = ModuleType("features")
    sys.modules["features"] = impostor
    try:
        with importable([(repo / "src").resolve()]):
            import features  # type: ignore[import-not-found]

            assert features is not impostor and hasattr(features, "AddRatio")
            assert str((repo / "src").resolve()) == sys.path[0]
        assert sys.modules["features"] is impostor
        assert str((repo / "src").resolve()) not in sys.path
    finally:
        sys.modules.pop("features", None)


@pytest.fixture
def served(repo: Path) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlgate", "serve", "--model", "models/model.skops", "--port", "0"],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "http://127.0.0.1:" in line, proc.stderr.read() if proc.stderr else line
    yield line.split(" on ")[1].split()[0]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0


def test_serve_loads_the_project_code_from_mlgate_yaml(served: str, repo: Path) -> None:
    rows = pd.read_csv(repo / "data" / "holdout.csv").drop(columns=["y"]).head(3)
    answer = requests.post(served + "/predict", json={"rows": rows.to_dict("records")},
                           timeout=5)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["predictions"]) == 3


def test_serve_without_the_config_cannot_import_it(repo: Path) -> None:
    (repo / "mlgate.yaml").rename(repo / "ml.yaml")
    result = run_mlgate(["serve", "--model", "models/model.skops", "--port", "0"], cwd=repo)
    assert result.code == 2
    assert "1 type that is not trusted: features.AddRatio" in result.error_line


def test_load_test_hands_the_config_to_the_server(repo: Path, tmp_path: Path) -> None:
    report = tmp_path / "load.json"
    result = run_mlgate(["load-test", "--json", report], cwd=repo)
    assert result.code == 0, result.stdout + result.stderr
    load = json.loads(report.read_text())["gates"][0]["data"]["load"]
    assert load["target"]["kind"] == "serve" and load["errors"] == 0
    # and with the flag target, the config found in the working directory is handed on too
    flagged = run_mlgate(["load-test", "--serve", "models/model.joblib", "--allow-pickle",
                          "--rate", "10", "--duration", "1s", "--data", "data/holdout.csv",
                          "--drop", "y"], cwd=repo)
    assert flagged.code == 0, flagged.stdout + flagged.stderr
