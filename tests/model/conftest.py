"""Model-gate fixtures: real models trained on the example's data (no mocks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.support.repos import train_candidate

NUMERIC = ["tenure_months", "monthly_charges", "total_charges", "support_calls"]
CATEGORICAL = ["contract", "plan", "region", "partner"]


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory, _example_template: Path) -> Path:
    """Models trained once per session: 5%-data candidate and a region-broken candidate."""
    out = tmp_path_factory.mktemp("model-gate-models")
    train_candidate(_example_template, out / "worse.skops", fraction=0.05, seed=0)
    _slice_broken_model(_example_template, out / "east-broken.skops")
    return out


def _slice_broken_model(repo: Path, out: Path) -> Path:
    """A candidate that is fine everywhere except region=east.

    Its features include region x feature interactions (so it can fit each region on its
    own), and it is trained with the east rows' labels shuffled: on east it ranks at chance.
    """
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler

    train = pd.read_csv(repo / "data" / "train.csv")
    east = (train["region"] == "east").to_numpy()
    rng = np.random.default_rng(0)
    train.loc[east, "churned"] = rng.permutation(train.loc[east, "churned"].to_numpy())
    features = ColumnTransformer(
        [
            ("numeric", StandardScaler(), NUMERIC),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                CATEGORICAL,
            ),
        ]
    )
    model = Pipeline(
        [
            ("features", features),
            ("interactions", PolynomialFeatures(2, interaction_only=True, include_bias=False)),
            ("classifier", LogisticRegression(max_iter=3000)),
        ]
    )
    model.fit(train[NUMERIC + CATEGORICAL], train["churned"])
    sio.dump(model, out)
    return out


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def checks_of(report: Path) -> dict[str, dict[str, Any]]:
    """Checks of the model gate in an ``--json`` report, by name."""
    data = read_json(report)
    model = next(g for g in data["gates"] if g["gate"] == "model")
    return {c["name"]: c for c in model["checks"]}
