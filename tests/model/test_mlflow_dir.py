"""MLflow model directories load under mlgate's rules, with or without MLflow installed.

Real parts: the example's trained churn model, real scikit-learn pipelines, directories written
by ``mlflow.sklearn.save_model`` where MLflow is installed and by hand (the same MLmodel
format) where it must not be needed, and the real CLI.
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from mlgate.errors import InputError
from mlgate.model.loading import LoadRules, load_model
from mlgate.model.mlflow_model import is_mlflow_dir, load_mlflow_dir, read_mlflow_dir
from tests.support.cli import run_mlgate
from tests.support.mlflow_models import (
    mlmodel,
    run_without_mlflow,
    write_mlflow_dir,
    write_mlmodel,
)

X = np.random.default_rng(0).normal(size=(200, 3))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)


def small_model() -> object:
    return LogisticRegression().fit(X, Y)


def loader(
    allow_pickle: bool = False, trusted_types: tuple[str, ...] = ()
) -> Callable[[Path], Any]:
    """The one safe single-file loader with fixed rules, as the gate passes it."""
    rules = LoadRules(trusted_types=trusted_types, allow_pickle=allow_pickle)
    return lambda file: load_model(file, rules)


def gate(repo: Path, model: str, *extra: str) -> tuple[int, str]:
    result = run_mlgate(["gate-model", "--model", model, *extra], cwd=repo)
    return result.code, result.error_line or result.stdout + result.stderr


# -- without MLflow ------------------------------------------------------------------------------


def test_hand_written_directory_gates_without_mlflow_installed(
    churn_repo: Path, clean_github_env: None
) -> None:
    """An MLmodel + .skops directory (no MLflow anywhere) is the candidate and the champion."""
    candidate = churn_repo / "models" / "candidate.skops"
    write_mlflow_dir(churn_repo / "models" / "cand-mlflow", skops_file=candidate)
    write_mlflow_dir(churn_repo / "models" / "champ-mlflow",
                     skops_file=churn_repo / "models" / "champion.skops")
    report = churn_repo / "model.json"
    proc = run_without_mlflow(
        ["gate-model", "--model", "models/cand-mlflow", "--champion", "models/champ-mlflow",
         "--json", report],
        cwd=churn_repo,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    gate_result = json.loads(report.read_text())["gates"][0]
    blob = candidate.read_bytes()
    # The evidence names the bytes that were loaded: the model file inside the directory.
    assert gate_result["inputs"]["model"] == {
        "path": "models/cand-mlflow/model.skops", "size": len(blob),
        "sha256": "sha256:" + hashlib.sha256(blob).hexdigest(),
    }
    assert gate_result["inputs"]["champion"]["path"] == "models/champ-mlflow/model.skops"
    checks = {c["name"]: c for c in gate_result["checks"]}
    assert checks["champion roc_auc"]["status"] == "pass"
    assert "champ-mlflow" in checks["champion roc_auc"]["message"]
    # The size budget measures the model file, not the directory entry.
    assert checks["budget model size"]["message"].startswith("model.skops is ")
    assert checks["budget model size"]["value"] == round(len(blob) / 1e6, 4)


def test_directory_model_predicts_like_the_saved_model(tmp_path: Path) -> None:
    model = small_model()
    directory = write_mlflow_dir(tmp_path / "m", model)
    assert is_mlflow_dir(directory) and not is_mlflow_dir(tmp_path)
    loaded = load_mlflow_dir(directory, loader())
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("fmt", ["pickle", "cloudpickle"])
def test_pickled_directory_needs_allow_pickle_like_any_pickle(tmp_path: Path, fmt: str) -> None:
    model = small_model()
    directory = write_mlflow_dir(tmp_path / "m", model, fmt)
    with pytest.raises(InputError) as refused:
        load_mlflow_dir(directory, loader())
    assert refused.value.source == str(directory / "model.pkl")
    assert "refusing to load a .pkl file" in refused.value.message
    loaded = load_mlflow_dir(directory, loader(allow_pickle=True))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_skops_types_are_trusted_by_mlgate_not_by_the_mlmodel(tmp_path: Path) -> None:
    """MLflow records skops_trusted_types in the MLmodel; a file cannot vouch for itself."""
    model = make_pipeline(FunctionTransformer(operator.pos), LogisticRegression()).fit(X, Y)
    meta = mlmodel()
    meta["flavors"]["sklearn"]["skops_trusted_types"] = ["_operator.pos"]
    directory = write_mlflow_dir(tmp_path / "m", model, meta=meta)
    with pytest.raises(InputError, match=r"type that is not trusted: _operator\.pos"):
        load_mlflow_dir(directory, loader())
    loaded = load_mlflow_dir(directory, loader(trusted_types=("_operator.pos",)))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_cloudpickle_missing_is_named_in_the_error(tmp_path: Path, clean_github_env: None) -> None:
    """A model holding a function defined at run time needs cloudpickle to unpickle.

    joblib >= 1.6 (what scikit-learn installs) depends on cloudpickle, so it is normally there;
    older joblib vendored its own copy, and then the top-level module may be missing. Simulated
    by making cloudpickle unimportable once joblib is loaded.
    """
    namespace: dict[str, object] = {"__name__": "made_at_run_time"}
    exec("def double(x):\n    return x * 2\n", namespace)  # a function no module holds
    model = make_pipeline(FunctionTransformer(namespace["double"]), LogisticRegression())
    model.fit(X, Y)
    directory = write_mlflow_dir(tmp_path / "m", model, "cloudpickle")
    script = (
        "import sys, joblib\n"
        "for name in [n for n in sys.modules if n.split('.')[0] == 'cloudpickle']:\n"
        "    sys.modules[name] = None\n"
        "from pathlib import Path\n"
        "from mlgate.errors import InputError\n"
        "from mlgate.model.loading import LoadRules, load_model\n"
        "from mlgate.model.mlflow_model import load_mlflow_dir\n"
        "try:\n"
        f"    load_mlflow_dir(Path({str(directory)!r}),\n"
        "                    lambda f: load_model(f, LoadRules(allow_pickle=True)))\n"
        "except InputError as exc:\n"
        "    print(exc.one_line())\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, cwd=tmp_path, timeout=120)
    line = proc.stdout.strip()
    assert line.startswith(f"{directory / 'model.pkl'}: the model needs module 'cloudpickle"), (
        proc.stderr)
    assert "saved with cloudpickle, which is not installed: pip install cloudpickle" in line
    # With cloudpickle importable the same directory loads.
    loaded = load_mlflow_dir(directory, loader(allow_pickle=True))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_code_shipped_in_the_directory_is_not_imported(tmp_path: Path) -> None:
    """MLflow's code/ directory is code the model brings: mlgate imports only model.code_paths,
    and says so when the load fails for want of it."""
    code = tmp_path / "m" / "code"
    code.mkdir(parents=True)
    (code / "churn_helpers.py").write_text("def double(x):\n    return x * 2\n")
    sys.path.insert(0, str(code))
    try:
        import churn_helpers  # type: ignore[import-not-found]

        model = make_pipeline(FunctionTransformer(churn_helpers.double), LogisticRegression())
        model.fit(X, Y)
        directory = write_mlflow_dir(tmp_path / "m", model, "pickle",
                                     meta=mlmodel("pickle", code="code"))
    finally:
        sys.path.remove(str(code))
        sys.modules.pop("churn_helpers", None)
    with pytest.raises(InputError) as refused:
        load_mlflow_dir(directory, loader(allow_pickle=True))
    message = refused.value.message
    assert "the model needs module 'churn_helpers', which cannot be imported" in message
    assert "the model ships code in code/ (MLflow code_paths), which mlgate does not import" in (
        message)
    assert "model.code_paths" in message
    assert "churn_helpers" not in sys.modules


# -- bad directories: one line, exit 2 ---------------------------------------------------------


def test_unknown_flavor_names_the_mlmodel_and_the_flavors_found(
    churn_repo: Path, clean_github_env: None
) -> None:
    directory = churn_repo / "models" / "pyfunc"
    write_mlflow_dir(directory, skops_file=churn_repo / "models" / "candidate.skops")
    meta = mlmodel()
    del meta["flavors"]["sklearn"]
    meta["flavors"]["python_function"]["loader_module"] = "churn.custom_loader"
    meta["flavors"]["xgboost"] = {"data": "model.xgb"}
    write_mlmodel(directory, meta)
    code, line = gate(churn_repo, "models/pyfunc")
    assert code == 2
    assert line.startswith(f"mlgate: error: {directory / 'MLmodel'}:1: flavors: no sklearn flavor")
    assert "flavors found: python_function (loader_module churn.custom_loader), xgboost" in line
    assert len(line.splitlines()) == 1


def test_missing_code_path_is_one_line(churn_repo: Path, clean_github_env: None) -> None:
    directory = churn_repo / "models" / "with-code"
    write_mlflow_dir(directory, skops_file=churn_repo / "models" / "candidate.skops",
                     meta=mlmodel(code="code"))
    code, line = gate(churn_repo, "models/with-code")
    assert code == 2
    mlmodel_file = directory / "MLmodel"
    lines = mlmodel_file.read_text().splitlines()
    lineno = lines.index("    code: code", lines.index("  sklearn:")) + 1
    assert line == (
        f"mlgate: error: {mlmodel_file}:{lineno}: flavors.sklearn.code: code directory 'code' "
        "not found in the MLflow model directory"
    )
    (directory / "code").mkdir()
    assert gate(churn_repo, "models/with-code")[0] == 0  # present, and the model needs none of it


def test_missing_model_file_is_one_line(churn_repo: Path, clean_github_env: None) -> None:
    directory = churn_repo / "models" / "empty"
    write_mlflow_dir(directory, skops_file=churn_repo / "models" / "candidate.skops")
    (directory / "model.skops").unlink()
    code, line = gate(churn_repo, "models/empty")
    assert code == 2
    assert f"{directory / 'MLmodel'}:" in line and "flavors.sklearn.pickled_model" in line
    assert "model file 'model.skops' not found in the MLflow model directory" in line


def test_directory_without_mlmodel_is_no_mlflow_model(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    with pytest.raises(InputError, match="no MLmodel file in it"):
        read_mlflow_dir(tmp_path / "m")


@pytest.mark.parametrize("name", ["../outside.skops", "/etc/passwd.skops", "link.skops"])
def test_model_file_outside_the_directory_is_refused(tmp_path: Path, name: str) -> None:
    outside = tmp_path / "outside.skops"
    sio.dump(small_model(), outside)
    directory = tmp_path / "m"
    write_mlflow_dir(directory, skops_file=outside, meta=mlmodel(file_name=name))
    os.symlink(outside, directory / "link.skops")
    with pytest.raises(InputError, match="points outside the MLflow model directory") as refused:
        load_mlflow_dir(directory, loader())
    assert "flavors.sklearn.pickled_model" in str(refused.value.source)


def test_format_and_suffix_must_agree(tmp_path: Path) -> None:
    """A pickle declared as skops would otherwise look safe to a reviewer of the MLmodel."""
    directory = write_mlflow_dir(tmp_path / "m", small_model(), "pickle",
                                 meta=mlmodel("skops", file_name="model.pkl"))
    with pytest.raises(InputError, match=r"does not fit serialization_format 'skops'"):
        load_mlflow_dir(directory, loader(allow_pickle=True))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda m: m["flavors"]["sklearn"].update(serialization_format="torch"),
         "flavors.sklearn.serialization_format: unknown serialization_format 'torch'"),
        (lambda m: m["flavors"]["sklearn"].pop("pickled_model"),
         "flavors.sklearn.pickled_model: the sklearn flavor names no model file"),
        (lambda m: m.pop("flavors"), "flavors: not an MLflow MLmodel file"),
    ],
)
def test_malformed_mlmodel_is_one_line(
    tmp_path: Path, edit: Callable[[dict], object], expected: str
) -> None:
    meta = mlmodel()
    edit(meta)
    directory = write_mlflow_dir(tmp_path / "m", small_model(), meta=meta)
    with pytest.raises(InputError) as refused:
        load_mlflow_dir(directory, loader())
    assert expected in refused.value.one_line()
    assert str(directory / "MLmodel") in refused.value.one_line()


def test_alias_bomb_in_mlmodel_is_refused(tmp_path: Path) -> None:
    directory = write_mlflow_dir(tmp_path / "m", small_model())
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f'{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]'
              for p, c in zip("abcdefg", "bcdefgh", strict=True)]
    (directory / "MLmodel").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="alias bomb"):
        load_mlflow_dir(directory, loader())


# -- directories MLflow itself wrote -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["skops", "pickle", "cloudpickle"])
def test_directory_saved_by_mlflow_loads_under_the_same_rules(tmp_path: Path, fmt: str) -> None:
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn", reason="the mlflow extra is needed "
                                         "to write directories with MLflow itself")
    model = small_model()
    directory = tmp_path / "m"
    mlflow_sklearn.save_model(model, str(directory), serialization_format=fmt)
    found = read_mlflow_dir(directory)
    assert found.serialization_format == fmt
    if fmt == "skops":
        assert found.model_file == directory / "model.skops"
    else:
        assert found.model_file == directory / "model.pkl"
        with pytest.raises(InputError, match=r"refusing to load a \.pkl file"):
            load_mlflow_dir(directory, loader())
    loaded = load_mlflow_dir(directory, loader(allow_pickle=fmt != "skops"))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_mlflow_code_paths_directory_is_recognised(tmp_path: Path) -> None:
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn", reason="needs the mlflow extra")
    src = tmp_path / "src"
    src.mkdir()
    (src / "helpers.py").write_text("X = 1\n")
    directory = tmp_path / "m"
    mlflow_sklearn.save_model(small_model(), str(directory), code_paths=[str(src)])
    found = read_mlflow_dir(directory)
    assert found.code_dir == directory / "code"
    shutil.rmtree(directory / "code")
    with pytest.raises(InputError, match="code directory 'code' not found"):
        read_mlflow_dir(directory)
