"""Held-out data, the target, and a model's predictions on it, with every bad input named.

The gate must never score garbage silently: a missing target column, a target with one
class, a model that expects columns the data does not have, or predictions with NaN all stop
the gate with exit code 2 and a line naming the file and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlgate.errors import InputError
from mlgate.model.metrics import CLASSIFICATION, REGRESSION, Outputs

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
PREDICTION_COLUMN = "prediction"
SCORE_COLUMN = "score"
PROBA_PREFIX = "proba_"


def read_table(path: Path, what: str = "data file") -> Any:
    """A CSV or Parquet file as a DataFrame."""
    import pandas as pd

    if not path.is_file():
        raise InputError(f"{what} not found", path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except Exception as exc:
        raise InputError(f"cannot read {what} ({type(exc).__name__}: {exc})", path) from exc
    raise InputError(f"unsupported {what} type {suffix!r}; expected .csv or .parquet", path)


@dataclass
class Target:
    """The encoded target: class indices into ``classes`` or float values."""

    task: str
    y: np.ndarray
    classes: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        return 0 if self.classes is None else len(self.classes)


def target_column(frame: Any, name: str, source: Path) -> Any:
    if name not in frame.columns:
        raise InputError(
            f"target column {name!r} not found (columns: {', '.join(map(str, frame.columns))})",
            source,
        )
    column = frame[name]
    if column.isna().any():
        row = int(np.flatnonzero(column.isna().to_numpy())[0])
        raise InputError(f"target column {name!r} has missing values (first at row {row})", source)
    return column


def infer_task(model: Any, column: Any) -> str:
    """Classification when the model says so (or the target looks categorical)."""
    if model is not None:
        from sklearn.base import is_classifier, is_regressor

        if is_classifier(model) or hasattr(model, "predict_proba"):
            return CLASSIFICATION
        if is_regressor(model):
            return REGRESSION
    kind = column.dtype.kind
    if kind in "fc" and column.nunique() > 20:
        return REGRESSION
    if kind in "iu" and column.nunique() > 20:
        return REGRESSION
    return CLASSIFICATION


def encode_target(column: Any, task: str, model_classes: Any, source: Path, name: str) -> Target:
    if task == REGRESSION:
        values = column.to_numpy()
        if values.dtype.kind not in "iufb":
            raise InputError(f"target column {name!r} is not numeric (regression)", source)
        return Target(task, values.astype(float))
    values = column.to_numpy()
    present = np.unique(values)
    if present.size < 2:
        raise InputError(
            f"target column {name!r} has a single class ({present[0]!r}); classification "
            "metrics need at least two classes in the held-out data",
            source,
        )
    known = np.asarray(model_classes) if model_classes is not None else present
    try:
        classes = np.unique(np.concatenate([known.astype(object), present.astype(object)]))
    except TypeError as exc:
        raise InputError(
            f"target column {name!r} values do not match the model's classes {list(known)!r}",
            source,
        ) from exc
    index = {c: i for i, c in enumerate(classes.tolist())}
    return Target(task, np.array([index[v] for v in values.tolist()]), classes)


def feature_frame(model: Any, frame: Any, target: str, source: Path, model_path: Path) -> Any:
    """The columns the model was fitted on, or every non-target column."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise InputError(
                f"the data lacks column(s) {', '.join(map(repr, missing))} that the model "
                f"{model_path.name} was trained on",
                source,
            )
        return frame[names]
    features = frame.drop(columns=[target])
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and expected != features.shape[1]:
        raise InputError(
            f"the model {model_path.name} expects {expected} features but the data has "
            f"{features.shape[1]} columns besides the target {target!r}",
            source,
        )
    return features


def model_outputs(
    model: Any, features: Any, target: Target, model_path: Path, source: Path
) -> Outputs:
    """Run the model on the held-out features (bad data becomes InputError, not a traceback)."""
    try:
        raw_pred = np.asarray(model.predict(features))
        proba = None
        if target.task == CLASSIFICATION and hasattr(model, "predict_proba"):
            proba = np.asarray(model.predict_proba(features), dtype=float)
    except Exception as exc:
        raise InputError(
            f"model {model_path.name} cannot predict on this data ({type(exc).__name__}: {exc})",
            source,
        ) from exc
    where = f"{model_path} (predictions)"
    if target.task == REGRESSION:
        values = _numeric(raw_pred, where, "prediction")
        return Outputs(values)
    pred = _encode_labels(raw_pred, target, where)
    if proba is not None:
        _check_finite(proba, where, "predict_proba")
        proba = _align_proba(proba, getattr(model, "classes_", None), target, where)
    return Outputs(pred, proba)


def predictions_outputs(frame: Any, target: Target, source: Path, rows: int) -> Outputs:
    """Predictions from a file: ``prediction`` and/or ``score`` / ``proba_<class>`` columns."""
    if len(frame) != rows:
        raise InputError(
            f"predictions file has {len(frame)} rows but the data has {rows}; rows must align",
            source,
        )
    proba_cols = [c for c in frame.columns if str(c).startswith(PROBA_PREFIX)]
    if target.task == REGRESSION:
        if PREDICTION_COLUMN not in frame.columns:
            raise InputError(f"predictions file needs a {PREDICTION_COLUMN!r} column", source)
        return Outputs(_numeric(frame[PREDICTION_COLUMN].to_numpy(), source, PREDICTION_COLUMN))
    assert target.classes is not None
    proba = None
    if SCORE_COLUMN in frame.columns:
        if target.n_classes != 2:
            raise InputError(f"{SCORE_COLUMN!r} is for binary targets; use proba_<class>", source)
        score = _numeric(frame[SCORE_COLUMN].to_numpy(), source, SCORE_COLUMN)
        proba = np.column_stack([1.0 - score, score])
    elif proba_cols:
        names = [str(c)[len(PROBA_PREFIX) :] for c in proba_cols]
        by_class = {str(c): i for i, c in enumerate(target.classes.tolist())}
        unknown = [n for n in names if n not in by_class]
        if unknown:
            raise InputError(f"probability column(s) for unknown class(es) {unknown}", source)
        proba = np.zeros((rows, target.n_classes))
        for col, name in zip(proba_cols, names, strict=True):
            proba[:, by_class[name]] = _numeric(frame[col].to_numpy(), source, str(col))
    if PREDICTION_COLUMN in frame.columns:
        column = frame[PREDICTION_COLUMN]
        if column.isna().any():
            _check_finite(np.array([np.nan]), source, PREDICTION_COLUMN, column)
        pred = _encode_labels(column.to_numpy(), target, source)
    elif proba is not None:
        pred = proba.argmax(axis=1)
    else:
        raise InputError(
            f"predictions file needs a {PREDICTION_COLUMN!r}, {SCORE_COLUMN!r} or "
            f"{PROBA_PREFIX}<class> column",
            source,
        )
    return Outputs(pred, proba)


def _numeric(values: Any, where: str | Path, column: str) -> np.ndarray:
    try:
        out = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"column {column!r} is not numeric", where) from exc
    _check_finite(out, where, column)
    return out


def _check_finite(values: np.ndarray, where: str | Path, column: str, raw: Any = None) -> None:
    bad = ~np.isfinite(values) if raw is None else raw.isna().to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))
        raise InputError(
            f"{column!r} has {len(rows)} NaN/infinite value(s) (first at row {int(rows[0])})",
            where,
        )


def _encode_labels(raw: np.ndarray, target: Target, where: str | Path) -> np.ndarray:
    assert target.classes is not None
    index = {c: i for i, c in enumerate(target.classes.tolist())}
    try:
        return np.array([index[v] for v in raw.tolist()], dtype=np.int64)
    except KeyError as exc:
        raise InputError(
            f"predicted label {exc.args[0]!r} is not a class of the target "
            f"({', '.join(map(repr, target.classes.tolist()))})",
            where,
        ) from exc


def _align_proba(proba: np.ndarray, classes: Any, target: Target, where: str) -> np.ndarray:
    """Columns of predict_proba reordered/expanded to the target's classes."""
    assert target.classes is not None
    if classes is None:
        if proba.shape[1] != target.n_classes:
            raise InputError("predict_proba columns do not match the target's classes", where)
        return proba
    out = np.zeros((proba.shape[0], target.n_classes))
    index = {c: i for i, c in enumerate(target.classes.tolist())}
    for j, c in enumerate(np.asarray(classes).tolist()):
        out[:, index[c]] = proba[:, j]
    return out
