"""Split scikit-learn's wine data set into the example's files, deterministically (fixed seed).

The data: 178 wines from three cultivars (59, 71 and 48 of them) with 13 chemical
measurements each (``sklearn.datasets.load_wine``, bundled with scikit-learn: no download).
It is small, so every row counts; the split, stratified by cultivar:

* ``train.csv``: 90 rows, what ``train.py`` fits on and the drift reference (all of it: a
  sample of 90 rows would only make the drift tests weaker);
* ``holdout.csv``: 60 rows with labels, what the data gate checks and the model gate scores
  (a third of the data: the paired bootstrap needs held-out rows more than the forest needs
  training rows, which reaches 97% accuracy on 20 of them);
* ``serving_sample.csv``: the last 28 rows without labels, standing in for a log of
  production requests: the skew check compares them with the training rows, and the load test
  sends them to the served model.

Re-running this script reproduces the committed CSV files byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

SEED = 20261201
HERE = Path(__file__).parent
TARGET = "cultivar"
HOLDOUT_ROWS = 60
SERVING_ROWS = 28


def main() -> None:
    frame = load_wine(as_frame=True).frame.rename(
        columns={"od280/od315_of_diluted_wines": "od280_od315", "target": TARGET}
    )
    train, rest = train_test_split(
        frame, test_size=HOLDOUT_ROWS + SERVING_ROWS, stratify=frame[TARGET], random_state=SEED
    )
    holdout, serving = train_test_split(
        rest, test_size=SERVING_ROWS, stratify=rest[TARGET], random_state=SEED
    )
    data_dir = HERE / "data"
    data_dir.mkdir(exist_ok=True)
    train.to_csv(data_dir / "train.csv", index=False)
    holdout.to_csv(data_dir / "holdout.csv", index=False)
    serving.drop(columns=[TARGET]).to_csv(data_dir / "serving_sample.csv", index=False)


if __name__ == "__main__":
    main()
