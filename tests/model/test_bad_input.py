"""Every bad input to the model gate: exit 2 and one line naming the file and the field."""

from __future__ import annotations

import copy
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from tests.support.cli import run_mlgate


def gate(repo: Path, *extra: object) -> tuple[int, str]:
    base = [
        "gate-model",
        "--model",
        "models/candidate.skops",
        "--data",
        "data/holdout.csv",
        "--target",
        "churned",
        "--policy",
        "classification-default",
    ]
    result = run_mlgate([*base, *extra], cwd=repo)
    return result.code, result.error_line


def test_missing_model_file(churn_repo: Path, clean_github_env: None) -> None:
    code, line = gate(churn_repo, "--model", "models/nope.skops")
    assert code == 2
    assert "models/nope.skops" in line and "model file not found" in line


def test_corrupt_skops_file(churn_repo: Path, clean_github_env: None) -> None:
    (churn_repo / "models" / "broken.skops").write_bytes(b"PK\x03\x04 this is not a zip")
    code, line = gate(churn_repo, "--model", "models/broken.skops")
    assert code == 2
    assert "broken.skops" in line and "cannot read .skops file" in line


def test_pickle_refused_without_opt_in_and_loaded_with_it(
    churn_repo: Path, clean_github_env: None
) -> None:
    model = sio.load(churn_repo / "models" / "candidate.skops")
    joblib.dump(model, churn_repo / "models" / "candidate.joblib")
    code, line = gate(churn_repo, "--model", "models/candidate.joblib")
    assert code == 2
    assert "candidate.joblib" in line and "refusing to load a .joblib file" in line
    assert "--allow-pickle" in line
    code, line = gate(churn_repo, "--model", "models/candidate.joblib", "--allow-pickle")
    assert code == 0, line


def test_untrusted_skops_types_refused_unless_listed(
    churn_repo: Path, tmp_path: Path, clean_github_env: None
) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    model = sio.load(churn_repo / "models" / "candidate.skops")
    wrapped = make_pipeline(FunctionTransformer(copy.copy), model)
    train = pd.read_csv(churn_repo / "data" / "train.csv")
    wrapped.fit(train[list(model.feature_names_in_)], train["churned"])
    path = churn_repo / "models" / "custom.skops"
    sio.dump(wrapped, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == ["copy.copy"]  # a function skops does not trust by default
    code, line = gate(churn_repo, "--model", "models/custom.skops")
    assert code == 2
    assert "custom.skops" in line and "not trusted" in line and untrusted[0] in line
    config = tmp_path / "mlgate.yaml"
    config.write_text(
        "version: 1\nproject: churn\nmodel:\n  trusted_types: [" + ", ".join(untrusted) + "]\n"
    )
    result = run_mlgate(
        [
            "gate-model",
            "--config",
            config,
            "--model",
            path,
            "--data",
            churn_repo / "data" / "holdout.csv",
            "--target",
            "churned",
        ],
        cwd=churn_repo,
    )
    assert result.code == 0, result.stderr  # loaded, scored, and as good as before


def test_model_and_data_columns_do_not_match(churn_repo: Path, clean_github_env: None) -> None:
    data = pd.read_csv(churn_repo / "data" / "holdout.csv").drop(columns=["region", "plan"])
    data.to_csv(churn_repo / "data" / "no_region.csv", index=False)
    code, line = gate(churn_repo, "--data", "data/no_region.csv")
    assert code == 2
    assert "no_region.csv" in line and "'plan'" in line and "'region'" in line


def test_missing_target_column(churn_repo: Path, clean_github_env: None) -> None:
    code, line = gate(churn_repo, "--target", "left_company")
    assert code == 2
    assert "data/holdout.csv" in line and "target column 'left_company' not found" in line


def test_single_class_target(churn_repo: Path, clean_github_env: None) -> None:
    data = pd.read_csv(churn_repo / "data" / "holdout.csv")
    data[data["churned"] == 0].to_csv(churn_repo / "data" / "stayers.csv", index=False)
    code, line = gate(churn_repo, "--data", "data/stayers.csv")
    assert code == 2
    assert "stayers.csv" in line and "'churned'" in line and "single class" in line


def test_predictions_with_nan(churn_repo: Path, clean_github_env: None) -> None:
    rows = len(pd.read_csv(churn_repo / "data" / "holdout.csv"))
    score = np.linspace(0.01, 0.99, rows)
    score[17] = np.nan
    pd.DataFrame({"score": score}).to_csv(churn_repo / "preds.csv", index=False)
    result = run_mlgate(
        [
            "gate-model",
            "--predictions",
            "preds.csv",
            "--data",
            "data/holdout.csv",
            "--target",
            "churned",
            "--policy",
            "classification-default",
        ],
        cwd=churn_repo,
    )
    assert result.code == 2
    assert "preds.csv" in result.error_line and "'score'" in result.error_line
    assert "NaN" in result.error_line and "row 17" in result.error_line


def test_predictions_file_scores_without_a_model(churn_repo: Path, clean_github_env: None) -> None:
    """The predictions path works end to end (the NaN test above is not its only use)."""
    model = sio.load(churn_repo / "models" / "candidate.skops")
    holdout = pd.read_csv(churn_repo / "data" / "holdout.csv")
    score = model.predict_proba(holdout[list(model.feature_names_in_)])[:, 1]
    pd.DataFrame({"score": score}).to_csv(churn_repo / "preds.csv", index=False)
    report = churn_repo / "r.json"
    result = run_mlgate(
        ["gate-model", "--predictions", "preds.csv", "--json", report], cwd=churn_repo
    )
    assert result.code == 0, result.stdout + result.stderr
    from tests.model.conftest import checks_of

    assert checks_of(report)["champion roc_auc"]["status"] == "pass"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("thresholds:\n  roc_auc: {minimum: 0.7}\n", "thresholds.roc_auc"),
        ("champion:\n  metric: auc\n", "champion.metric"),
    ],
)
def test_invalid_policy_file(
    churn_repo: Path, tmp_path: Path, policy: str, expected: str, clean_github_env: None
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(policy)
    code, line = gate(churn_repo, "--policy", path)
    assert code == 2
    assert str(path) in line and expected in line


def test_unknown_policy_preset(churn_repo: Path, clean_github_env: None) -> None:
    code, line = gate(churn_repo, "--policy", "no-such-preset")
    assert code == 2
    assert "no-such-preset" in line and "classification-default" in line


def test_missing_champion_file(churn_repo: Path, clean_github_env: None) -> None:
    code, line = gate(churn_repo, "--champion", "models/gone.skops")
    assert code == 2
    assert "models/gone.skops" in line and "champion file not found" in line


def test_regression_metric_on_classification_policy(
    churn_repo: Path, tmp_path: Path, clean_github_env: None
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("thresholds:\n  rmse: {max: 1.0}\n")
    code, line = gate(churn_repo, "--policy", path)
    assert code == 2
    assert str(path) in line and "'rmse' is for regression" in line
