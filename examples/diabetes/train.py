"""Train the example diabetes model and save it as a .skops file (safe to load, no pickle).

Usage: python train.py [--out models/candidate.skops] [--fraction 1.0] [--seed 0]
``--fraction`` trains on a share of the training rows; the tests use it to make a worse model.
``models/champion.skops`` was made with
``python train.py --fraction 0.5 --seed 1 --out models/champion.skops``.

The model is a pipeline: ``ClinicalInteractions`` from this repository's ``src/features.py``,
then gradient boosting. The class is imported from ``src`` (not defined here: a class defined in
the training script would be saved as ``__main__.ClinicalInteractions``, which no other process
can import), so the saved file refers to ``features.ClinicalInteractions``; ``mlgate.yaml``
names ``src`` under ``model.code_paths`` and the class under ``model.trusted_types``.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

import pandas as pd
import skops.io as sio
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.pipeline import Pipeline

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "src"))  # the directory mlgate.yaml names in model.code_paths

from features import INPUTS, ClinicalInteractions  # noqa: E402

TARGET = "progression"


def build_model() -> Pipeline:
    # Shallow trees, a small learning rate, leaves of at least 10 patients and half the rows
    # per tree: on 200 noisy rows, the variance of the model is what to keep down.
    booster = GradientBoostingRegressor(
        n_estimators=300,
        learning_rate=0.02,
        max_depth=2,
        min_samples_leaf=10,
        subsample=0.5,
        random_state=0,
    )
    return Pipeline([("interactions", ClinicalInteractions()), ("regressor", booster)])


def train(data: pd.DataFrame, fraction: float = 1.0, seed: int = 0) -> Pipeline:
    if fraction < 1.0:
        data = data.sample(frac=fraction, random_state=seed)
    model = build_model()
    model.fit(data[INPUTS], data[TARGET])
    return model


def save(model: Pipeline, out: Path) -> None:
    """Write ``model`` as a deflated .skops file (the trees' arrays compress about tenfold)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, out, compression=zipfile.ZIP_DEFLATED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(HERE / "data" / "train.csv"))
    parser.add_argument("--out", default=str(HERE / "models" / "candidate.skops"))
    parser.add_argument("--fraction", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = train(pd.read_csv(args.data), args.fraction, args.seed)
    out = Path(args.out)
    save(model, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
