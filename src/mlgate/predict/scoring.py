"""A loaded model applied to a batch: the features it was fitted on in, an output frame out.

Classifiers give ``prediction`` (the class label) and ``proba_<class>`` per class; regressors
give ``prediction``. The output keeps the columns ``keep`` names (default: the contract's id
columns, those marked ``unique: true``, else every input column) in front of them. Any failure
of the model on rows that passed the data gate is bad input (exit 2) naming the batch, never a
traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.errors import InputError
from mlgate.model.data import PREDICTION_COLUMN, PROBA_PREFIX

if TYPE_CHECKING:
    import pandas as pd


def is_classifier(model: Any) -> bool:
    """Whether the model gives classes (and probabilities when it has ``predict_proba``)."""
    from sklearn.base import is_classifier as sk_is_classifier

    return bool(sk_is_classifier(model) or hasattr(model, "predict_proba"))


def id_columns(contract: dict[str, Any] | None, frame: pd.DataFrame) -> list[str]:
    """The contract's id columns (``unique: true``) present in ``frame``."""
    names = [str(c["name"]) for c in (contract or {}).get("columns") or [] if c.get("unique")]
    return [n for n in names if n in frame.columns]


def kept_columns(keep: list[str] | None, contract: dict[str, Any] | None,
                 frame: pd.DataFrame, target: str | None, where: str) -> list[str]:
    """Which input columns the output repeats (see the module docstring)."""
    if keep is not None:
        missing = [c for c in keep if c not in frame.columns]
        if missing:
            raise InputError(f"the batch has no column(s) {', '.join(map(repr, missing))} to "
                             "keep in the output", where)
        return list(keep)
    ids = id_columns(contract, frame)
    return ids or [str(c) for c in frame.columns if str(c) != target]


def features(model: Any, frame: pd.DataFrame, target: str | None, source: str,
             label: str) -> pd.DataFrame:
    """The columns ``model`` was fitted on (``feature_names_in_``), else every column but the
    target; InputError naming the batch when the model's columns are missing."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        wanted = [str(n) for n in names]
        missing = [n for n in wanted if n not in frame.columns]
        if missing:
            raise InputError(f"the batch lacks column(s) {', '.join(map(repr, missing))} that "
                             f"{label} was trained on", source)
        return frame[wanted]
    return frame.drop(columns=[target]) if target and target in frame.columns else frame


def predict(model: Any, frame: pd.DataFrame, target: str | None, source: str,
            label: str) -> pd.DataFrame:
    """The prediction columns for every row of ``frame`` (same index)."""
    import pandas as pd

    x = features(model, frame, target, source, label)
    classifier = is_classifier(model)
    try:
        values = np.asarray(model.predict(x))
        proba = (np.asarray(model.predict_proba(x), dtype=float)
                 if classifier and hasattr(model, "predict_proba") else None)
    except Exception as exc:
        raise InputError(f"{label} cannot predict on this batch ({type(exc).__name__}: "
                         f"{str(exc)[:200]})", source) from exc
    if values.shape[:1] != (len(frame),):
        raise InputError(f"{label} returned {values.shape[0] if values.ndim else 0} "
                         f"predictions for {len(frame)} rows", source)
    out = pd.DataFrame(index=frame.index)
    if not classifier:
        numbers = values.astype(float)
        if not np.all(np.isfinite(numbers)):
            raise InputError(f"{label} predicted non-finite values on this batch (first at row "
                             f"{int(np.flatnonzero(~np.isfinite(numbers))[0])})", source)
        out[PREDICTION_COLUMN] = numbers
        return out
    out[PREDICTION_COLUMN] = values
    if proba is not None:
        classes = list(getattr(model, "classes_", range(proba.shape[1])))
        if proba.shape != (len(frame), len(classes)) or not np.all(np.isfinite(proba)):
            raise InputError(f"{label} gave unusable class probabilities on this batch", source)
        for i, cls in enumerate(classes):
            out[f"{PROBA_PREFIX}{cls}"] = proba[:, i]
    return out


def output_frame(frame: pd.DataFrame, kept: list[str], predictions: pd.DataFrame,
                 source: str) -> pd.DataFrame:
    """The kept input columns followed by the predictions."""
    import pandas as pd

    clash = [c for c in kept if c in predictions.columns]
    if clash:
        raise InputError(f"input column(s) {', '.join(map(repr, clash))} would be overwritten "
                         "by the predictions; leave them out with predict.keep", source)
    return pd.concat([frame[kept], predictions], axis=1).reset_index(drop=True)


def comparable(predictions: pd.DataFrame, classifier: bool) -> pd.DataFrame:
    """The predictions as drift compares them: a class label is categorical even when its
    classes are numbers (0/1 compared by a KS test would make no sense)."""
    if not classifier:
        return predictions
    out = predictions.copy()
    out[PREDICTION_COLUMN] = out[PREDICTION_COLUMN].astype(str)
    return out
