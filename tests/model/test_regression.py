"""The regression task end to end on scikit-learn's diabetes data set."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import skops.io as sio
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from tests.model.conftest import checks_of
from tests.support.cli import run_mlgate


def test_regression_candidate_vs_champion(tmp_path: Path, clean_github_env: None) -> None:
    frame = load_diabetes(as_frame=True).frame
    train, holdout = frame.iloc[:300], frame.iloc[300:]
    holdout.to_csv(tmp_path / "holdout.csv", index=False)
    features = [c for c in frame.columns if c != "target"]
    good = LinearRegression().fit(train[features], train["target"])
    weak = LinearRegression().fit(
        train[["age", "sex"]].assign(**{c: 0.0 for c in features if c not in ("age", "sex")})[
            features
        ],
        train["target"],
    )
    sio.dump(good, tmp_path / "good.skops")
    sio.dump(weak, tmp_path / "weak.skops")
    report = tmp_path / "r.json"
    base = ["gate-model", "--data", "holdout.csv", "--target", "target", "--json", report]
    passed = run_mlgate([*base, "--model", "good.skops", "--champion", "weak.skops"], cwd=tmp_path)
    assert passed.code == 0, passed.stdout + passed.stderr
    checks = checks_of(report)
    assert checks["champion rmse"]["status"] == "pass"
    assert checks["champion rmse"]["value"] < 0  # lower error than the champion
    assert checks["threshold r2"]["value"] > 0.3
    blocked = run_mlgate([*base, "--model", "weak.skops", "--champion", "good.skops"], cwd=tmp_path)
    assert blocked.code == 1
    checks = checks_of(report)
    assert checks["champion rmse"]["status"] == "fail"
    assert "upper bound" in checks["champion rmse"]["message"]
    table = pd.DataFrame(json.loads(report.read_text())["gates"][0]["tables"][0]["rows"])
    assert set(table[0]) == {"mae", "rmse", "r2", "mape", "rmse_skill", "mae_skill"}
