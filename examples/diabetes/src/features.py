"""The repository's own feature code: a transformer the diabetes model's pipeline starts with.

A pipeline saved with skops records this class as ``features.ClinicalInteractions`` (the module
name under ``src/``); loading the model imports this module. That is why ``mlgate.yaml`` names
``src`` under ``model.code_paths`` (the directory mlgate puts on ``sys.path`` while loading) and
the class under ``model.trusted_types`` (skops does not know it, and loading builds it: a type
from the project's own code is reviewed and listed like any other).

Import everything this module needs at module level: mlgate removes the module from
``sys.modules`` after loading, and the model keeps working with the objects it already holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

INPUTS = ["age", "sex", "bmi", "bp", "tc", "ldl", "hdl", "tch", "ltg", "glu"]
ADDED = ["bmi_x_age", "bmi_x_bp", "ldl_hdl_ratio"]


class ClinicalInteractions(TransformerMixin, BaseEstimator):
    """Passes the ten baseline columns through and appends three clinical interactions:
    body mass index times age and times blood pressure (scaled by 1/100), and the LDL/HDL
    cholesterol ratio. Trees can approximate products and ratios only with many splits; on a
    few hundred rows, handing them over is cheaper than hoping the trees find them."""

    def fit(self, X: pd.DataFrame, y: Any = None) -> ClinicalInteractions:
        missing = [c for c in INPUTS if c not in X.columns]
        if missing:
            raise ValueError(f"ClinicalInteractions needs the columns {missing}")
        self.feature_names_in_ = np.asarray(INPUTS, dtype=object)
        self.n_features_in_ = len(INPUTS)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        frame = X[INPUTS].astype(float)
        added = np.column_stack(
            [
                frame["bmi"] * frame["age"] / 100.0,
                frame["bmi"] * frame["bp"] / 100.0,
                frame["ldl"] / frame["hdl"],
            ]
        )
        return np.column_stack([frame.to_numpy(), added])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(INPUTS + ADDED, dtype=object)
