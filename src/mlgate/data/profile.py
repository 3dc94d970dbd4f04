"""A data profile: what each column of the reference and the current data looks like.

Drift statistics say *that* a column moved; a reader deciding whether it matters wants to see
*how*: the mean went from 41 to 57, a fifth of the values are now missing, a new category took
30 % of the rows. The data gate computes this summary while it holds both frames (it never reads
a file twice for it) and puts it in ``GateResult.data["profile"]``; the HTML report draws it.

Shape (JSON, every float finite or None)::

    {
      "rows": {"reference": 5000, "current": 2000},
      "truncated": false,          # true when the data had more than MAX_COLUMNS columns
      "columns": [
        {"name": "tenure_months", "kind": "numeric",
         "reference": {"mean": .., "std": .., "min": .., "max": .., "null_share": ..,
                       "q05": .., "q25": .., "q50": .., "q75": .., "q95": ..},
         "current": {...same keys...}},
        {"name": "plan", "kind": "categorical",
         "reference": {"null_share": .., "distinct": 3,
                       "top": [{"value": "basic", "share": 0.5}, ...]},   # at most TOP_VALUES
         "current": {...}},
        ...
      ]
    }

Definitions, chosen to match what pandas says of the same data:

* ``null_share``: missing values (None, NaN, NaT) over all rows of that side.
* numeric statistics are over the finite values only (infinities are a failed ``finite``
  check of their own); ``std`` has pandas' default ``ddof=1`` (None below two values);
  quantiles are linear-interpolated (``Series.quantile``'s default). With no finite value every
  statistic but ``null_share`` is None.
* ``distinct`` counts distinct non-missing values; a top value's ``share`` is its count over
  the non-missing values (``value_counts(normalize=True)``); values are compared as text.
* A column is ``numeric`` when it holds numbers (not booleans) on every side it is on;
  anything else, including a column whose type differs between the sides, is ``categorical``
  (anything can be counted). A column present on one side only has ``null`` for the other.
* Columns in the reference's order, then those only in the current data; at most
  ``MAX_COLUMNS`` of them.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from mlgate.data.reference_profile import ColumnProfile, ReferenceProfile

MAX_COLUMNS = 100
TOP_VALUES = 5
QUANTILES = (("q05", 0.05), ("q25", 0.25), ("q50", 0.5), ("q75", 0.75), ("q95", 0.95))


def profile(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """The profile of both frames (see the module docstring for its shape)."""
    ref_cols = {str(c): c for c in reference.columns}
    cur_cols = {str(c): c for c in current.columns}
    names = list(ref_cols) + [n for n in cur_cols if n not in ref_cols]
    columns = []
    work: list[tuple[pd.Series, bool]] = []
    for name in names[:MAX_COLUMNS]:
        ref = reference[ref_cols[name]] if name in ref_cols else None
        cur = current[cur_cols[name]] if name in cur_cols else None
        sides = [s for s in (ref, cur) if s is not None]
        numeric = all(_is_numeric(s) for s in sides)
        columns.append({"name": name, "kind": "numeric" if numeric else "categorical",
                        "reference": ref, "current": cur})
        work += [(s, numeric) for s in sides]
    done = iter(describe_columns(work))
    for column in columns:
        for side in ("reference", "current"):
            column[side] = None if column[side] is None else next(done)
    return {
        "columns": columns,
        "rows": {"reference": len(reference), "current": len(current)},
        "truncated": len(names) > MAX_COLUMNS,
    }


def profile_against(reference: ReferenceProfile, current: pd.DataFrame) -> dict[str, Any]:
    """:func:`profile` with the reference side taken from its (saved) reference profile,
    whose column summaries were computed by the same functions."""
    cur_cols = {str(c): c for c in current.columns}
    names = list(reference.columns) + [n for n in cur_cols if n not in reference.columns]
    columns = []
    work: list[tuple[pd.Series, bool]] = []
    for name in names[:MAX_COLUMNS]:
        ref = reference.columns.get(name)
        cur = current[cur_cols[name]] if name in cur_cols else None
        numeric = (ref is None or ref.kind == "numeric") and (cur is None or _is_numeric(cur))
        kind = "numeric" if numeric else "categorical"
        ref_summary = None
        if ref is not None:
            same = kind == ("numeric" if ref.kind == "numeric" else "categorical")
            ref_summary = ref.summary if same and ref.summary else _unavailable(ref, kind)
        columns.append({"name": name, "kind": kind, "reference": ref_summary, "current": cur})
        if cur is not None:
            work.append((cur, numeric))
    done = iter(describe_columns(work))
    for column in columns:
        if column["current"] is not None:
            column["current"] = next(done)
    return {
        "columns": columns,
        "rows": {"reference": reference.rows, "current": len(current)},
        "truncated": len(names) > MAX_COLUMNS,
    }


def describe_columns(columns: list[tuple[pd.Series, bool]]) -> list[dict[str, Any]]:
    """Summaries of ``(series, numeric)`` pairs, on up to 4 threads.

    Why threads: the quantiles' ``np.partition`` and the reductions release the GIL, and at a
    million rows they were the largest part of a data gate's CPU time after reading the files
    (1.6 s for 80 columns, one after another).
    """
    def one(pair: tuple[pd.Series, bool]) -> dict[str, Any]:
        return _numeric(pair[0]) if pair[1] else _categorical(pair[0])

    threads = min(len(columns), os.cpu_count() or 1, 4)
    if threads <= 1 or sum(len(s) for s, _ in columns) < 200_000:
        return [one(c) for c in columns]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, columns))


def _unavailable(ref: ColumnProfile, kind: str) -> dict[str, Any]:
    """A reference summary of the other kind (the column changed type): only the null share
    carries over; the rest is unknown without the reference values."""
    share = ref.summary.get("null_share")
    if kind == "numeric":
        out: dict[str, Any] = {k: None for k in ("mean", "std", "min", "max")}
        out.update({key: None for key, _ in QUANTILES})
        out["null_share"] = share
        return out
    return {"null_share": share, "distinct": None, "top": []}


def _is_numeric(series: pd.Series) -> bool:
    from pandas.api import types as t

    return bool(t.is_numeric_dtype(series) and not t.is_bool_dtype(series))


def _numeric(series: pd.Series) -> dict[str, float | None]:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    nulls = int(np.isnan(values).sum())
    finite = values[np.isfinite(values)]
    out: dict[str, float | None] = {"mean": None, "std": None, "min": None, "max": None,
                                    "null_share": _share(nulls, len(values))}
    out.update({key: None for key, _ in QUANTILES})
    if not len(finite):
        return out
    out["mean"] = _number(finite.mean())
    out["std"] = _number(finite.std(ddof=1)) if len(finite) > 1 else None
    out["min"], out["max"] = _number(finite.min()), _number(finite.max())
    levels = np.quantile(finite, [q for _, q in QUANTILES])
    out.update({key: _number(v) for (key, _), v in zip(QUANTILES, levels, strict=True)})
    return out


def _categorical(series: pd.Series) -> dict[str, Any]:
    present = series.dropna()
    counts = _text_counts(present) if len(present) else None
    top = []
    if counts is not None:
        top = [{"value": str(value), "share": _share(int(n), len(present))}
               for value, n in counts.head(TOP_VALUES).items()]
    return {
        "null_share": _share(len(series) - len(present), len(series)),
        "distinct": 0 if counts is None else len(counts),
        "top": top,
    }


def _text_counts(present: pd.Series) -> pd.Series:
    """``present.astype(str).value_counts()`` without converting every row to text: the
    distinct values are counted first and only they are named (a categorical column of a
    million rows has a dozen). Categories that never occur are dropped."""
    counts = present.value_counts()
    counts = counts[counts > 0]
    counts.index = counts.index.map(str)
    counts = counts.groupby(level=0, sort=False).sum()
    return counts.sort_values(ascending=False, kind="stable")


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None
