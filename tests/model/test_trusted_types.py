"""The reviewed allow-list: common models load with no trusted_types; anything else is refused.

Real scikit-learn models (scripts/survey_trusted_types.py fits them), real skops files, the real
loader and the real CLI.
"""

from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import yaml

from mlgate.errors import InputError
from mlgate.model.loading import LoadRules, load_model
from mlgate.model.trusted_types import default_trusted_types, shipped_lists
from tests.support.cli import run_mlgate
from tests.support.repos import ROOT


def _survey() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "survey_trusted_types", ROOT / "scripts" / "survey_trusted_types.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SURVEY = _survey()
FAMILIES = SURVEY.families()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("family", list(FAMILIES))
def test_family_round_trips_without_trusted_types(family: str, tmp_path: Path) -> None:
    model, rows = FAMILIES[family]()
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    if untrusted:  # the control: skops alone refuses it; the shipped list is what loads it
        with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
            sio.load(path)
    loaded = load_model(path, LoadRules())
    assert type(loaded) is type(model)
    assert np.array_equal(loaded.predict(rows), model.predict(rows))
    if hasattr(model, "predict_proba"):
        assert np.array_equal(loaded.predict_proba(rows), model.predict_proba(rows))


def test_the_list_is_what_the_survey_finds() -> None:
    """Every listed type is needed by some family and every family's type is listed (under the
    versions the list was reviewed against; other versions get the subset check only)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = {t for fit in FAMILIES.values() for t in SURVEY.untrusted_types(fit()[0])}
    listed = default_trusted_types()
    assert found <= listed, f"review and add: {sorted(found - listed)}"
    reviewed = shipped_lists()[0].reviewed_against
    ours = SURVEY.versions()
    if any(ours.get(k) != v for k, v in reviewed.items()):
        pytest.skip(f"installed versions {ours} differ from the reviewed {reviewed}")
    assert found == listed


def test_the_list_is_versioned_and_says_why() -> None:
    (shipped,) = shipped_lists()
    assert shipped.path.name == "sklearn.yaml" and shipped.version >= 1
    assert {"scikit-learn", "numpy", "scipy", "skops"} <= set(shipped.reviewed_against)
    raw = yaml.safe_load(shipped.path.read_text())
    assert all(len(entry["why"]) > 20 for entry in raw["types"])
    # every structure compiled code trusts carries its structural check
    assert shipped.checks == {
        "sklearn.tree._tree.Tree": "tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor": "hist_tree",
        "sklearn.neighbors._kd_tree.KDTree": "binary_tree",
        "sklearn.neighbors._ball_tree.BallTree": "binary_tree",
        "sklearn.metrics._dist_metrics.EuclideanDistance64": "binary_tree",
        "sklearn.metrics._dist_metrics.ManhattanDistance64": "binary_tree",
        "sklearn.metrics._dist_metrics.ChebyshevDistance64": "binary_tree",
        "sklearn.metrics._dist_metrics.MinkowskiDistance64": "binary_tree",
    }


def _three_untrusted_types(repo: Path) -> Path:
    """The example's pipeline behind abs, copy.copy and f_classif: functions skops reports."""
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    base = sio.load(repo / "models" / "candidate.skops")
    columns = list(base.feature_names_in_)
    train = pd.read_csv(repo / "data" / "train.csv")
    wrapped = make_pipeline(
        base.named_steps["features"],
        FunctionTransformer(abs, accept_sparse=True),
        FunctionTransformer(copy.copy, accept_sparse=True),
        SelectKBest(f_classif, k=8),
        base.named_steps["classifier"],
    )
    wrapped.fit(train[columns], train["churned"])
    path = repo / "models" / "custom.skops"
    sio.dump(wrapped, path)
    return path


def test_every_untrusted_type_is_named_at_once_with_the_yaml_to_add(
    churn_repo: Path, clean_github_env: None
) -> None:
    path = _three_untrusted_types(churn_repo)
    expected = ["builtins.abs", "copy.copy",
                "sklearn.feature_selection._univariate_selection.f_classif"]
    assert sorted(sio.get_untrusted_types(file=path)) == expected
    args = ["gate-model", "--model", "models/custom.skops", "--data", "data/holdout.csv",
            "--target", "churned"]
    refused = run_mlgate(args, cwd=churn_repo)
    assert refused.code == 2
    line = refused.error_line
    assert line.startswith("mlgate: error: ") and line.endswith(
        "(scikit-learn internals in mlgate's reviewed list, checks/trusted_types/, need no "
        "entry)")
    assert "models/custom.skops: the .skops file contains 3 types that are not trusted: " in line
    assert ", ".join(expected) in line
    assert len(refused.stderr.strip().splitlines()) == 1
    snippet = re.search(r"add them to mlgate\.yaml as (model: \{.*?\]\})", line)
    assert snippet, line
    assert yaml.safe_load(snippet.group(1)) == {"model": {"trusted_types": expected}}

    # Trusting one of them is not enough: the other two are named.
    config = churn_repo / "mlgate.yaml"
    text = config.read_text()
    config.write_text(text.replace("  allow_pickle: false\n",
                                   "  allow_pickle: false\n  trusted_types: [copy.copy]\n"))
    partly = run_mlgate(args, cwd=churn_repo)
    assert partly.code == 2
    assert "contains 2 types that are not trusted: builtins.abs, sklearn.feature_selection" \
        in partly.error_line

    # The YAML the message gives, added to mlgate.yaml, loads the model.
    trusted = yaml.safe_load(snippet.group(1))["model"]["trusted_types"]
    config.write_text(text.replace("  allow_pickle: false\n",
                                   f"  allow_pickle: false\n  trusted_types: {trusted}\n"))
    accepted = run_mlgate([*args, "--policy", "classification-default"], cwd=churn_repo)
    assert accepted.code in (0, 1), accepted.stderr  # loaded and judged, not refused


def test_user_types_add_to_the_list(churn_repo: Path) -> None:
    """A tree model that also needs a reviewed user type: both lists apply together."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    base = sio.load(churn_repo / "models" / "candidate.skops")
    columns = list(base.feature_names_in_)
    train = pd.read_csv(churn_repo / "data" / "train.csv")
    model = make_pipeline(base.named_steps["features"], FunctionTransformer(copy.copy),
                          RandomForestClassifier(n_estimators=5, random_state=0))
    model.fit(train[columns], train["churned"])
    path = churn_repo / "models" / "forest.skops"
    sio.dump(model, path)
    with pytest.raises(InputError, match=r"1 type that is not trusted: copy\.copy\."):
        load_model(path, LoadRules())
    loaded = load_model(path, LoadRules(trusted_types=("copy.copy",)))
    assert np.array_equal(loaded.predict(train[columns]), model.predict(train[columns]))
