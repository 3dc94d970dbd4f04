"""Defaults per task: binary, multiclass and regression presets on scikit-learn's data sets.

Real models (random forests, gradient boosting, logistic regression, dummies) trained with fixed
seeds; the gate runs through the real command line with no policy set, so the preset is the one
mlgate picks from the target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import yaml
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tests.model.conftest import checks_of, read_json
from tests.support.cli import run_mlgate

TREE = "sklearn.tree._tree.Tree"  # skops does not trust tree internals by default


def write_config(root: Path, target: str, policy: Any = None) -> None:
    model: dict[str, Any] = {"data": "holdout.csv", "target": target, "trusted_types": [TREE]}
    if policy is not None:
        model["policy"] = policy
    config = {"version": 1, "project": "tasks", "model": model}
    (root / "mlgate.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def gate(root: Path, *args: str) -> tuple[int, dict[str, dict[str, Any]], dict[str, Any], str]:
    """Run gate-model in ``root``: exit code, checks by name, the gate's data, the error line."""
    report = root / "report.json"
    report.unlink(missing_ok=True)
    result = run_mlgate(["gate-model", "--json", str(report), *args], cwd=root)
    if not report.exists():
        return result.code, {}, {}, result.error_line
    model_gate = read_json(report)["gates"][0]
    return result.code, checks_of(report), model_gate, result.error_line


def failed(checks: dict[str, dict[str, Any]]) -> set[str]:
    return {name for name, c in checks.items() if c["status"] == "fail"}


# ---- multiclass: wine (3 classes) -----------------------------------------------------


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wine")
    frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    train, holdout = train_test_split(
        frame, test_size=0.4, random_state=0, stratify=frame["cultivar"]
    )
    holdout.to_csv(root / "holdout.csv", index=False)
    x, y = train.drop(columns="cultivar"), train["cultivar"]
    sio.dump(RandomForestClassifier(n_estimators=200, random_state=0).fit(x, y), root / "rf.skops")
    sio.dump(DummyClassifier(strategy="prior").fit(x, y), root / "dummy.skops")
    # Six training rows (two per class), unscaled features, weak regularisation: it ranks
    # the classes fairly well but is wildly overconfident.
    tiny = train.groupby("cultivar").head(2)
    lr_tiny = LogisticRegression(C=100.0, max_iter=5000).fit(
        tiny.drop(columns="cultivar"), tiny["cultivar"]
    )
    sio.dump(lr_tiny, root / "tiny.skops")
    two = ["alcohol", "malic_acid"]  # a weaker champion: two features only
    sio.dump(
        make_pipeline(StandardScaler(), LogisticRegression()).fit(x[two], y), root / "weak.skops"
    )
    write_config(root, "cultivar")
    return root


def test_a_good_multiclass_model_passes_the_multiclass_default(
    wine: Path, clean_github_env: None
) -> None:
    code, checks, data, _ = gate(wine, "--model", "rf.skops")
    assert code == 0, failed(checks)
    assert data["data"]["policy"].endswith("multiclass-default.yaml")  # picked from 3 classes
    assert {
        "threshold roc_auc",
        "threshold balanced_accuracy_skill",
        "threshold f1_skill",
        "threshold log_loss_skill",
    } <= set(checks)
    assert "threshold log_loss" not in checks  # no absolute ceiling for 3 classes
    skill = checks["threshold log_loss_skill"]
    assert skill["value"] > 0.5
    # the check says what the skill is made of: the model's log loss vs the shares'
    assert "log_loss" in skill["message"] and "class shares" in skill["message"]
    holdout = pd.read_csv(wine / "holdout.csv")
    shares = holdout["cultivar"].value_counts(normalize=True).sort_index().to_numpy()
    assert skill["details"]["baseline"] == pytest.approx(
        skm.log_loss(holdout["cultivar"], np.tile(shares, (len(holdout), 1)))
    )
    baseline = data["data"]["baseline"]
    assert baseline["source"] == "held-out data"
    assert baseline["class_shares"] == pytest.approx(
        dict(zip(["0", "1", "2"], shares, strict=True))
    )


def test_a_dummy_fails_the_multiclass_default_naming_each_metric(
    wine: Path, clean_github_env: None
) -> None:
    code, checks, _, _ = gate(wine, "--model", "dummy.skops")
    assert code == 1
    assert failed(checks) == {
        "threshold roc_auc",
        "threshold balanced_accuracy_skill",
        "threshold f1_skill",
        "threshold log_loss_skill",
    }
    for name in ("roc_auc", "balanced_accuracy_skill", "f1_skill", "log_loss_skill"):
        message = checks[f"threshold {name}"]["message"]
        assert message.startswith(f"{name} ") and "below the minimum" in message
    assert checks["threshold balanced_accuracy_skill"]["value"] == pytest.approx(0.0)
    assert "chance 0.3333" in checks["threshold balanced_accuracy_skill"]["message"]


def test_an_overconfident_model_from_six_rows_fails_on_log_loss_skill_only(
    wine: Path, clean_github_env: None
) -> None:
    code, checks, _, _ = gate(wine, "--model", "tiny.skops")
    assert code == 1
    assert failed(checks) == {"threshold log_loss_skill"}
    check = checks["threshold log_loss_skill"]
    assert check["value"] < 0  # worse than predicting the class shares
    assert "log_loss_skill" in check["message"] and "below the minimum 0.05" in check["message"]


def test_multiclass_champion_comparison_uses_the_bootstrap_on_macro_auc(
    wine: Path, clean_github_env: None
) -> None:
    code, checks, data, _ = gate(wine, "--model", "rf.skops", "--champion", "weak.skops")
    assert code == 0, failed(checks)
    auc = checks["champion roc_auc"]
    assert auc["status"] == "pass"
    assert auc["details"]["ci_low"] > 0  # clearly better than a two-feature champion
    assert auc["details"]["resamples"] == 1000
    assert checks["champion log_loss_skill"]["status"] == "pass"
    table = data["tables"][0]
    rows = {row[0]: row for row in table["rows"]}
    interval = rows["roc_auc"][4]
    low, high = (float(v) for v in interval.strip("[]").split(","))
    assert low == pytest.approx(auc["details"]["ci_low"], abs=1e-4)
    assert high == pytest.approx(auc["details"]["ci_high"], abs=1e-4)
    assert rows["roc_auc"][5] == "pass" and rows["log_loss_skill"][5] == "pass"
    # the point values are scikit-learn's one-vs-rest macro AUC
    holdout = pd.read_csv(wine / "holdout.csv")
    model = sio.load(wine / "weak.skops")
    expected = skm.roc_auc_score(
        holdout["cultivar"], model.predict_proba(holdout[model.feature_names_in_]),
        multi_class="ovr", average="macro",
    )
    assert auc["details"]["champion"] == pytest.approx(expected, abs=1e-12)

    # the other way round: the weak model is blocked, naming the metric and the interval
    code, checks, _, _ = gate(wine, "--model", "weak.skops", "--champion", "rf.skops")
    assert code == 1
    assert checks["champion roc_auc"]["status"] == "fail"
    message = checks["champion roc_auc"]["message"]
    assert message.startswith("roc_auc: candidate") and "95% CI" in message
    assert "lower bound" in message and "(margin): worse" in message


def test_policy_baseline_shares_replace_the_held_out_shares(
    tmp_path: Path, wine: Path, clean_github_env: None
) -> None:
    for name in ("holdout.csv", "dummy.skops"):
        (tmp_path / name).write_bytes((wine / name).read_bytes())
    uniform = {"class_shares": {0: 1, 1: 1, 2: 1}}  # counts: normalised to 1/3 each
    write_config(tmp_path, "cultivar", {"extends": "multiclass-default", "baseline": uniform})
    code, checks, data, _ = gate(tmp_path, "--model", "dummy.skops")
    assert code == 1
    skill = checks["threshold log_loss_skill"]
    assert skill["details"]["baseline"] == pytest.approx(np.log(3))  # uniform shares: ln 3
    assert "policy's baseline class shares" in skill["message"]
    # the dummy predicts the training shares, which beat uniform ones a little
    assert 0 < skill["value"] < 0.05
    assert data["data"]["baseline"] == {
        "source": "policy", "class_shares": pytest.approx({"0": 1 / 3, "1": 1 / 3, "2": 1 / 3})
    }


@pytest.mark.parametrize(("baseline", "words"), [
    ("{class_shares: {0: 1, 1: 1, 7: 1}}", "not classes of the target"),
    ("{class_shares: {0: 1, 1: 1}}", "no positive share to class(es) ['2']"),
    ("{mean: 3.0}", "baseline.mean is not for classification"),
    ("{class_shares: {no: 1, yes: 1}}", "quote such labels"),  # YAML 1.1: booleans
])
def test_a_bad_policy_baseline_is_bad_input(
    tmp_path: Path, wine: Path, clean_github_env: None, baseline: str, words: str
) -> None:
    for name in ("holdout.csv", "rf.skops"):
        (tmp_path / name).write_bytes((wine / name).read_bytes())
    (tmp_path / "mlgate.yaml").write_text(
        "version: 1\nproject: tasks\nmodel:\n  data: holdout.csv\n  target: cultivar\n"
        f"  trusted_types: [{TREE}]\n"
        f"  policy:\n    extends: multiclass-default\n    baseline: {baseline}\n"
    )
    code, _, _, line = gate(tmp_path, "--model", "rf.skops")
    assert code == 2
    assert words in line and "mlgate.yaml" in line


# ---- a 6-class target like wine quality -----------------------------------------------


@pytest.fixture(scope="module")
def quality(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ordinal 6-class target (grades 3..8, shares like red wine quality: 1%, 4%, 42%,
    40%, 12%, 1%) cut from a noisy linear score of 8 features."""
    root = tmp_path_factory.mktemp("quality")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 8))
    score = x @ np.array([0.8, -0.6, 0.5, 0.4, -0.3, 0.2, 0.0, 0.0]) + rng.normal(0, 1.0, 3000)
    cuts = np.quantile(score, np.cumsum([0.01, 0.04, 0.42, 0.40, 0.12]))
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(8)])
    frame["quality"] = 3 + np.searchsorted(cuts, score)
    frame.iloc[2000:].to_csv(root / "holdout.csv", index=False)
    train = frame.iloc[:2000]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    sio.dump(model.fit(train.drop(columns="quality"), train["quality"]), root / "model.skops")
    write_config(root, "quality")
    return root


def test_a_good_six_class_model_is_not_failed_on_log_loss(
    quality: Path, clean_github_env: None
) -> None:
    code, checks, data, _ = gate(quality, "--model", "model.skops")
    assert code == 0, failed(checks)
    assert data["data"]["policy"].endswith("multiclass-default.yaml")
    log_loss = data["data"]["candidate"]["metrics"]["log_loss"]
    assert log_loss > 0.69  # what the old default's ceiling failed ...
    assert checks["threshold log_loss_skill"]["status"] == "pass"  # ... is a useful model
    assert checks["threshold roc_auc"]["value"] > 0.8
    # the binary preset, asked for explicitly, still applies its ln 2 ceiling as written
    code, checks, _, _ = gate(quality, "--model", "model.skops", "--policy",
                              "classification-default")
    assert code == 1
    assert failed(checks) == {"threshold log_loss"}
    assert "is above the maximum 0.69" in checks["threshold log_loss"]["message"]


# ---- binary: breast cancer ------------------------------------------------------------


def test_a_binary_target_keeps_the_classification_default(
    tmp_path: Path, clean_github_env: None
) -> None:
    frame = load_breast_cancer(as_frame=True).frame
    train, holdout = train_test_split(frame, test_size=0.3, random_state=0,
                                      stratify=frame["target"])
    holdout.to_csv(tmp_path / "holdout.csv", index=False)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(train.drop(columns="target"), train["target"])
    sio.dump(model, tmp_path / "model.skops")
    write_config(tmp_path, "target")
    code, checks, data, _ = gate(tmp_path, "--model", "model.skops")
    assert code == 0, failed(checks)
    assert data["data"]["policy"].endswith("classification-default.yaml")
    assert {"threshold roc_auc", "threshold log_loss"} == {
        n for n in checks if n.startswith("threshold")
    }


# ---- regression: diabetes -------------------------------------------------------------


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("diabetes")
    frame = load_diabetes(as_frame=True).frame.rename(columns={"target": "progression"})
    train, holdout = train_test_split(frame, test_size=0.3, random_state=0)
    holdout.to_csv(root / "holdout.csv", index=False)
    x, y = train.drop(columns="progression"), train["progression"]
    gbr = GradientBoostingRegressor(n_estimators=100, max_depth=2, random_state=0)
    sio.dump(gbr.fit(x, y), root / "gbr.skops")
    sio.dump(DummyRegressor().fit(x, y), root / "dummy.skops")
    (root / "train_mean.txt").write_text(repr(float(y.mean())))
    write_config(root, "progression")
    return root


def test_a_good_regressor_passes_the_regression_default(
    diabetes: Path, clean_github_env: None
) -> None:
    code, checks, data, _ = gate(diabetes, "--model", "gbr.skops")
    assert code == 0, failed(checks)
    assert data["data"]["policy"].endswith("regression-default.yaml")
    assert {"threshold r2", "threshold rmse_skill", "threshold mae_skill"} <= set(checks)
    rmse = checks["threshold rmse_skill"]
    holdout = pd.read_csv(diabetes / "holdout.csv")["progression"]
    constant = np.full(len(holdout), holdout.mean())
    assert rmse["details"]["baseline"] == pytest.approx(
        skm.root_mean_squared_error(holdout, constant)
    )
    details = rmse["details"]
    assert rmse["value"] == pytest.approx(1 - details["value"] / details["baseline"])
    assert "held-out data's mean" in rmse["message"]


def test_a_dummy_regressor_fails_the_regression_default_naming_each_metric(
    diabetes: Path, clean_github_env: None
) -> None:
    code, checks, _, _ = gate(diabetes, "--model", "dummy.skops")
    assert code == 1
    assert {"threshold rmse_skill", "threshold mae_skill"} <= failed(checks)
    for name in ("rmse_skill", "mae_skill"):
        message = checks[f"threshold {name}"]["message"]
        assert message.startswith(f"{name} ") and "below the minimum 0.05" in message


def test_a_policy_mean_is_the_baseline_of_regression_skills(
    tmp_path: Path, diabetes: Path, clean_github_env: None
) -> None:
    for name in ("holdout.csv", "dummy.skops", "gbr.skops"):
        (tmp_path / name).write_bytes((diabetes / name).read_bytes())
    train_mean = float((diabetes / "train_mean.txt").read_text())
    write_config(tmp_path, "progression",
                 {"extends": "regression-default", "baseline": {"mean": train_mean}})
    code, checks, data, _ = gate(tmp_path, "--model", "dummy.skops")
    assert code == 1
    # the dummy predicts exactly the training mean: no skill at all against it
    assert checks["threshold rmse_skill"]["value"] == pytest.approx(0.0, abs=1e-12)
    assert checks["threshold mae_skill"]["value"] == pytest.approx(0.0, abs=1e-12)
    assert "policy's baseline mean" in checks["threshold rmse_skill"]["message"]
    assert data["data"]["baseline"] == {"source": "policy", "mean": pytest.approx(train_mean)}
    code, checks, _, _ = gate(tmp_path, "--model", "gbr.skops")
    assert code == 0, failed(checks)
    write_config(tmp_path, "progression",
                 {"extends": "regression-default", "baseline": {"class_shares": {"a": 1}}})
    code, _, _, line = gate(tmp_path, "--model", "gbr.skops")
    assert code == 2 and "baseline.class_shares is not for regression" in line
    (tmp_path / "mlgate.yaml").write_text(
        "version: 1\nproject: tasks\nmodel:\n  data: holdout.csv\n  target: progression\n"
        f"  trusted_types: [{TREE}]\n  policy: {{baseline: {{mean: .nan}}}}\n"
    )
    code, _, _, line = gate(tmp_path, "--model", "gbr.skops")
    assert code == 2 and "baseline.mean must be a finite number" in line
