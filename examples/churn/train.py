"""Train the example churn model and save it as a .skops file (safe to load, no pickle).

Usage: python train.py [--out models/candidate.skops] [--fraction 1.0] [--seed 0]
``--fraction`` trains on a share of the training rows; the tests use it to make a worse model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).parent
NUMERIC = ["tenure_months", "monthly_charges", "total_charges", "support_calls"]
CATEGORICAL = ["contract", "plan", "region", "partner"]
TARGET = "churned"


def build_model() -> Pipeline:
    features = ColumnTransformer(
        [
            ("numeric", StandardScaler(), NUMERIC),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    return Pipeline([("features", features), ("classifier", LogisticRegression(max_iter=1000))])


def train(data: pd.DataFrame, fraction: float = 1.0, seed: int = 0) -> Pipeline:
    if fraction < 1.0:
        data = data.sample(frac=fraction, random_state=seed)
    model = build_model()
    model.fit(data[NUMERIC + CATEGORICAL], data[TARGET])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(HERE / "data" / "train.csv"))
    parser.add_argument("--out", default=str(HERE / "models" / "candidate.skops"))
    parser.add_argument("--fraction", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = train(pd.read_csv(args.data), args.fraction, args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
