"""Split scikit-learn's diabetes data set into the example's files, deterministically.

The data: 442 patients, ten baseline measurements each and a measure of disease progression
one year later (``sklearn.datasets.load_diabetes(scaled=False)``, bundled with scikit-learn: no
download), in their original units. The serum columns get the names the data set's
description gives them (s1..s6 -> tc, ldl, hdl, tch, ltg, glu) and the target is
``progression``. The split, stratified by quintile of the target so that every part spans the
same range of outcomes:

* ``train.csv``: 200 rows, what ``train.py`` fits on and the drift reference (all of it);
* ``holdout.csv``: 200 rows with the target, what the data gate checks and the model gate
  scores. As many as the training rows: the target is noisy (a good model explains about 40%
  of its variance), and the champion comparison's interval narrows with held-out rows, not
  with training rows;
* ``serving_sample.csv``: the last 42 rows without the target, standing in for a log of
  production requests: the skew check compares them with the training rows, and the load test
  sends them to the served model.

Re-running this script reproduces the committed CSV files byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

SEED = 20261202
HERE = Path(__file__).parent
TARGET = "progression"
HOLDOUT_ROWS = 200
SERVING_ROWS = 42
NAMES = {"s1": "tc", "s2": "ldl", "s3": "hdl", "s4": "tch", "s5": "ltg", "s6": "glu",
         "target": TARGET}
WHOLE_NUMBERS = ["age", "sex", "tc", "glu", TARGET]


def main() -> None:
    frame = load_diabetes(as_frame=True, scaled=False).frame.rename(columns=NAMES)
    frame[WHOLE_NUMBERS] = frame[WHOLE_NUMBERS].astype(int)
    quintile = pd.qcut(frame[TARGET], 5, labels=False)
    train, rest = train_test_split(
        frame, test_size=HOLDOUT_ROWS + SERVING_ROWS, stratify=quintile, random_state=SEED
    )
    holdout, serving = train_test_split(
        rest, test_size=SERVING_ROWS, stratify=quintile[rest.index], random_state=SEED
    )
    data_dir = HERE / "data"
    data_dir.mkdir(exist_ok=True)
    train.to_csv(data_dir / "train.csv", index=False)
    holdout.to_csv(data_dir / "holdout.csv", index=False)
    serving.drop(columns=[TARGET]).to_csv(data_dir / "serving_sample.csv", index=False)


if __name__ == "__main__":
    main()
