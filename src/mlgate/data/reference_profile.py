"""Reference statistics computed once: what drift needs of a reference, saved as a small JSON.

Drift compares the data with a reference that rarely changes, yet every run used to read and
bin the whole reference again. A *reference profile* holds everything the data gate needs of
it: per numeric column the grid of edges and the reference's histogram on it
(:class:`~mlgate.data.drift_stats.NumericReference`), the row and null counts and the
range for the out-of-range check; per categorical column its category counts; the target's
statistics for label drift; and the reference half of the report's data profile. With it, a
drift run reads only the current data, and the raw reference need not exist any more (a data
set deleted on request can still be the baseline its statistics describe).

The profile is derived data keyed by the reference file's sha256, which it records. The gate
trusts it only when that digest matches the reference named in the config (or when the config
names the profile itself, ``data.reference_profile``, as the reference); either way the
reference's sha256 is what the gate records as its input. A profile that does not parse,
does not match ``checks/schema/reference-profile.schema.json`` or whose histograms do not add
up is an input error (exit 2) naming the file: a cache that was tampered with must stop the
run, not be silently replaced.

The gate builds the same structure in memory when there is no profile, so drift with and
without a saved profile gives identical statistics.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.data.drift_stats import EXACT_LIMIT, FINE_BINS, NumericReference, reference_stats
from mlgate.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

FORMAT = "mlgate.reference-profile/v1"
SCHEMA = "reference-profile.schema.json"
PROFILE_DIR = Path(".mlgate") / "profiles"
# A class target with more distinct values than this gets no class counts (a continuous
# regression target would otherwise put millions of numbers in the JSON).
MAX_STORED_CLASSES = 1000
LABEL_LEVELS = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)  # the label table's and figure's


@dataclass
class ColumnProfile:
    """One reference column. ``kind``: numeric | categorical | datetime."""

    name: str
    kind: str
    dtype: str
    nulls: int
    summary: dict[str, Any] = field(default_factory=dict)
    numeric: NumericReference | None = None  # None for a numeric column without finite values
    counts: dict[str, int] | None = None  # categorical: non-missing values counted as text


@dataclass
class LabelProfile:
    """What label drift needs of the target column (see :mod:`mlgate.data.label`)."""

    column: str
    numeric: bool
    distinct: int
    nulls: int
    classes: dict[str, int] | None  # counts by class label; None above MAX_STORED_CLASSES
    mean: float | None = None  # numeric targets, over the finite values
    std: float | None = None
    quantiles: list[float] | None = None  # at LABEL_LEVELS

    def quantile(self, level: float) -> float:
        """The stored quantile at one of ``LABEL_LEVELS``."""
        if self.quantiles is None:
            raise ValueError(f"no quantiles for {self.column!r}")
        return self.quantiles[LABEL_LEVELS.index(level)]


@dataclass
class ReferenceProfile:
    rows: int
    columns: dict[str, ColumnProfile]
    label: LabelProfile | None = None
    sha256: str | None = None
    path: str = ""
    size: int | None = None
    fine_bins: int = FINE_BINS
    exact_limit: int = EXACT_LIMIT


def default_path(base: Path, sha256: str) -> Path:
    """``<base>/.mlgate/profiles/<hex digest>.json``: where ``mlgate profile`` writes and the
    gate looks for the profile of a reference with that digest."""
    return base / PROFILE_DIR / f"{sha256.removeprefix('sha256:')}.json"


def build(frame: pd.DataFrame, target: str | None = None, summaries: bool = True,
          fine_bins: int = FINE_BINS, exact_limit: int = EXACT_LIMIT) -> ReferenceProfile:
    """The profile of a reference frame (digest and path are the caller's to fill in).

    ``summaries``: also describe each column for the report's data profile (quantiles cost a
    partial sort per column; drift alone does not need them).
    """
    from pandas.api import types as t

    from mlgate.data import profile as report_profile

    columns: dict[str, ColumnProfile] = {}
    numeric_values: dict[str, np.ndarray] = {}
    for col in frame.columns:
        name, series = str(col), frame[col]
        is_numeric = t.is_numeric_dtype(series) and not t.is_bool_dtype(series)
        kind = ("datetime" if t.is_datetime64_any_dtype(series)
                else "numeric" if is_numeric else "categorical")
        nulls = int(series.isna().sum())
        entry = ColumnProfile(name, kind, str(series.dtype), nulls, {})
        if kind == "numeric":
            numeric_values[name] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        elif kind == "categorical":
            entry.counts = category_counts(series)
        columns[name] = entry

    if summaries:
        described = report_profile.describe_columns(
            [(frame[col], columns[str(col)].kind == "numeric") for col in frame.columns])
        for col, summary in zip(frame.columns, described, strict=True):
            columns[str(col)].summary = summary

    def stats(name: str) -> NumericReference | None:
        return reference_stats(numeric_values[name], fine_bins, exact_limit)

    with ThreadPoolExecutor(2) as pool:
        for name, ref in zip(numeric_values, pool.map(stats, numeric_values), strict=True):
            columns[name].numeric = ref
    label = None
    if target is not None:
        label = next((label_profile(frame[c], target) for c in frame.columns
                      if str(c) == target), None)
    return ReferenceProfile(len(frame), columns, label, fine_bins=fine_bins,
                            exact_limit=exact_limit)


def category_counts(series: pd.Series) -> dict[str, int]:
    """Non-missing values counted as text (``1`` and ``"1"`` are one category)."""
    counts = series.value_counts(dropna=True)
    counts.index = counts.index.map(str)
    counts = counts.groupby(level=0).sum()
    return {str(k): int(v) for k, v in counts.items() if v > 0}


def label_profile(series: pd.Series, column: str) -> LabelProfile:
    """Class counts (as :func:`mlgate.data.label.class_labels` names them) and, for numbers,
    mean, standard deviation and quantiles of the finite values."""
    import pandas as pd

    from mlgate.data.label import _is_numeric, class_labels

    counts = series.value_counts(dropna=True)
    numeric = _is_numeric(series)
    classes: dict[str, int] | None = None
    if len(counts) <= MAX_STORED_CLASSES:
        # Name the distinct values once, exactly as class_labels would name every row.
        names = class_labels(pd.Series(counts.index, dtype=series.dtype)).to_numpy()
        grouped = pd.Series(counts.to_numpy(), index=names).groupby(level=0).sum()
        classes = {str(k): int(v) for k, v in grouped.items()}
    out = LabelProfile(column, numeric, len(counts), int(series.isna().sum()), classes)
    if numeric:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        values = values[np.isfinite(values)]
        if len(values):
            out.mean, out.std = float(values.mean()), float(values.std())
            out.quantiles = [float(v) for v in np.quantile(values, LABEL_LEVELS)]
    return out


def to_json(profile: ReferenceProfile) -> dict[str, Any]:
    """The JSON document (``checks/schema/reference-profile.schema.json``)."""
    columns = []
    for c in profile.columns.values():
        entry: dict[str, Any] = {"name": c.name, "kind": c.kind, "dtype": c.dtype,
                                 "nulls": c.nulls, "summary": c.summary}
        if c.kind == "numeric":
            entry["numeric"] = None if c.numeric is None else {
                "edges": c.numeric.edges.tolist(), "counts": c.numeric.counts.tolist(),
                "deciles": c.numeric.deciles.tolist(), "nonfinite": c.numeric.nonfinite}
        if c.counts is not None:
            entry["counts"] = c.counts
        columns.append(entry)
    reference: dict[str, Any] = {"sha256": profile.sha256, "path": profile.path,
                                 "rows": profile.rows}
    if profile.size is not None:
        reference["size"] = profile.size
    label = None
    if profile.label is not None:
        lab = profile.label
        label = {"column": lab.column, "numeric": lab.numeric, "distinct": lab.distinct,
                 "nulls": lab.nulls, "classes": lab.classes, "mean": _finite(lab.mean),
                 "std": _finite(lab.std), "quantiles": lab.quantiles}
    return {"format": FORMAT, "reference": reference,
            "settings": {"fine_bins": profile.fine_bins, "exact_limit": profile.exact_limit},
            "columns": columns, "label": label}


def save(profile: ReferenceProfile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(to_json(profile), separators=(",", ":"), allow_nan=False),
                   encoding="utf-8")
    tmp.replace(path)


def load(path: Path) -> ReferenceProfile:
    """Read and check a profile; every problem is an InputError naming ``path``."""
    from mlgate.data.settings import display

    where = display(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("reference profile not found (write it with `mlgate profile`)",
                         where) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"unreadable reference profile: {exc}", where) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"reference profile is not JSON: {exc.msg} (line {exc.lineno})",
                         where) from exc
    return from_document(raw, where)


def from_document(raw: Any, where: str) -> ReferenceProfile:
    """A profile from its parsed JSON (a file's, or one embedded in a batch lineage record),
    checked against the schema and for consistency; InputError naming ``where``."""
    from mlgate.resources import schema_problem

    problem = schema_problem(raw, SCHEMA)
    if problem:
        raise InputError(f"not a reference profile ({SCHEMA}): {problem}", where)
    try:
        return _from_json(raw)
    except ValueError as exc:
        raise InputError(f"inconsistent reference profile (regenerate it with `mlgate "
                         f"profile`): {exc}", where) from exc


def _from_json(raw: dict[str, Any]) -> ReferenceProfile:
    rows = int(raw["reference"]["rows"])
    columns: dict[str, ColumnProfile] = {}
    for entry in raw["columns"]:
        name = entry["name"]
        if name in columns:
            raise ValueError(f"column {name!r} appears twice")
        col = ColumnProfile(name, entry["kind"], entry["dtype"], entry["nulls"],
                            entry["summary"], counts=entry.get("counts"))
        if col.nulls > rows:
            raise ValueError(f"column {name!r}: more nulls than rows")
        if col.kind == "numeric":
            col.numeric = _numeric(name, entry.get("numeric"), rows, col.nulls)
        elif col.kind == "categorical":
            if col.counts is None:
                raise ValueError(f"column {name!r}: categorical without counts")
            if sum(col.counts.values()) + col.nulls != rows:
                raise ValueError(f"column {name!r}: counts and nulls do not add up to the rows")
        columns[name] = col
    lab = raw["label"]
    label = None
    if lab is not None:
        label = LabelProfile(lab["column"], lab["numeric"], lab["distinct"], lab["nulls"],
                             lab.get("classes"), lab.get("mean"), lab.get("std"),
                             lab.get("quantiles"))
        if label.column not in columns:
            raise ValueError(f"label column {label.column!r} is not among the columns")
    ref = raw["reference"]
    return ReferenceProfile(rows, columns, label, ref["sha256"], ref["path"], ref.get("size"),
                            raw["settings"]["fine_bins"], raw["settings"]["exact_limit"])


def _numeric(name: str, raw: dict[str, Any] | None, rows: int, nulls: int
             ) -> NumericReference | None:
    if raw is None:
        return None
    edges = np.asarray(raw["edges"], dtype=np.float64)
    counts = np.asarray(raw["counts"], dtype=np.int64)
    deciles = np.asarray(raw["deciles"], dtype=np.float64)
    if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise ValueError(f"column {name!r}: edges are not finite and increasing")
    if len(counts) != 2 * len(edges) + 1:
        raise ValueError(f"column {name!r}: {len(counts)} counts for {len(edges)} edges")
    if counts[0] or counts[-1] or not counts[1] or not counts[-2]:
        raise ValueError(f"column {name!r}: the first and last edges are not the minimum "
                         f"and maximum")
    if int(counts.sum()) + nulls + int(raw["nonfinite"]) != rows:
        raise ValueError(f"column {name!r}: counts, nulls and non-finite values do not add "
                         f"up to the rows")
    if np.setdiff1d(deciles, edges).size:
        raise ValueError(f"column {name!r}: deciles are not edges")
    return NumericReference(edges, counts, deciles, rows, nulls, int(raw["nonfinite"]))


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
