"""Train the example wine model (a random forest over three cultivars) and save it as .skops.

Usage: python train.py [--out models/candidate.skops] [--fraction 1.0] [--seed 0]
``--fraction`` trains on a share of each cultivar's training rows (at least one row each); the
tests use it to make a worse model. ``models/champion.skops`` was made with
``python train.py --fraction 0.5 --seed 1 --out models/champion.skops``.

The forest's trees hold ``sklearn.tree._tree.Tree`` objects, a type skops itself does not
trust; mlgate's reviewed list of scikit-learn internals accepts it (with a structural check of
every tree), so ``mlgate.yaml`` needs no ``trusted_types`` and nothing is pickled.
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

import pandas as pd
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier

HERE = Path(__file__).parent
TARGET = "cultivar"
FEATURES = [
    "alcohol",
    "malic_acid",
    "ash",
    "alcalinity_of_ash",
    "magnesium",
    "total_phenols",
    "flavanoids",
    "nonflavanoid_phenols",
    "proanthocyanins",
    "color_intensity",
    "hue",
    "od280_od315",
    "proline",
]


def build_model() -> RandomForestClassifier:
    return RandomForestClassifier(n_estimators=100, random_state=0)


def subsample(data: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """``fraction`` of each cultivar's rows (at least one), so every class stays known."""
    parts = [
        rows.sample(n=max(1, round(len(rows) * fraction)), random_state=seed)
        for _, rows in data.groupby(TARGET)
    ]
    return pd.concat(parts)


def train(data: pd.DataFrame, fraction: float = 1.0, seed: int = 0) -> RandomForestClassifier:
    if fraction < 1.0:
        data = subsample(data, fraction, seed)
    model = build_model()
    model.fit(data[FEATURES], data[TARGET])
    return model


def save(model: RandomForestClassifier, out: Path) -> None:
    """Write ``model`` as a deflated .skops file (a forest's arrays compress about tenfold)."""
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
