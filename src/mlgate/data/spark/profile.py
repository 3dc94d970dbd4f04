"""A reference profile built by Spark, for a reference only Spark can read (a directory of
Parquet part files, an ``s3a://`` or ``hdfs://`` URI).

It is the same :class:`~mlgate.data.reference_profile.ReferenceProfile` the pandas engine
builds, from the same functions: the grid and deciles come from
:func:`~mlgate.data.drift_stats.reference_grid` on the subsample at
:func:`~mlgate.data.drift_stats.sample_positions`, fetched by position
(:func:`.counts.values_at`); minimum and maximum from one aggregation; the histogram from the
same counting pass as the current data (:func:`.counts.histograms`). For a single file it is
therefore the pandas engine's profile exactly. Differences: a directory's "data order" is
Spark's order of its part files (pandas cannot read a directory to compare); the report's
per-column data profile (``summary``) is left empty (it needs sorted columns).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.data import drift_stats
from mlgate.data.reference_profile import ColumnProfile, ReferenceProfile, label_profile
from mlgate.data.spark import counts

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def kind(frame: DataFrame, name: str) -> str:
    """``numeric``, ``datetime`` or ``categorical`` by Spark type (booleans are categories,
    as the pandas engine's numeric-but-not-bool rule decides)."""
    from pyspark.sql import types as T

    dtype = frame.schema[name].dataType
    if isinstance(dtype, T.BooleanType):
        return "categorical"
    if isinstance(dtype, T.NumericType):
        return "numeric"
    if isinstance(dtype, T.TimestampType | T.TimestampNTZType | T.DateType):
        return "datetime"
    return "categorical"


def subsample(frame: DataFrame, name: str, finite: int, seed: int) -> np.ndarray:
    """The sorted subsample the pandas engine would take of this column's ``finite`` values
    with ``seed`` (every value when there are at most ``SAMPLE``)."""
    positions = drift_stats.sample_positions(finite, seed)
    if positions is None:
        return np.sort(counts.finite_values(frame, name))
    return np.sort(counts.values_at(frame, name, positions))


def build(frame: DataFrame, target: str | None = None,
          fine_bins: int = drift_stats.FINE_BINS,
          exact_limit: int = drift_stats.EXACT_LIMIT) -> ReferenceProfile:
    """The profile of a Spark DataFrame (digest and path are the caller's to fill in)."""
    names = list(frame.columns)
    kinds = {n: kind(frame, n) for n in names}
    numeric = [n for n in names if kinds[n] == "numeric"]
    categorical = [n for n in names if kinds[n] == "categorical"]
    summary = counts.summarise(frame, numeric)
    rows = summary.rows if numeric else frame.count()
    grids: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i, name in enumerate(numeric):
        n = int(summary.finite[i])
        if n:
            sample = subsample(frame, name, n, drift_stats.REFERENCE_SEED)
            grids[name] = drift_stats.reference_grid(
                sample, n, float(summary.low[i]), float(summary.high[i]), fine_bins,
                exact_limit)
    hist = dict(zip(grids, counts.histograms(frame, list(grids),
                                             [g[0] for g in grids.values()]), strict=True))
    category = dict(zip(categorical, counts.category_counts(frame, categorical), strict=True))
    columns: dict[str, ColumnProfile] = {}
    for name in names:
        dtype = frame.schema[name].dataType.simpleString()
        if kinds[name] == "numeric":
            i = numeric.index(name)
            nulls = int(summary.nulls[i])
            entry = ColumnProfile(name, "numeric", dtype, nulls)
            if name in grids:
                edges, deciles = grids[name]
                entry.numeric = drift_stats.NumericReference(
                    edges, hist[name].counts, deciles, rows, nulls, int(summary.nonfinite[i]))
        elif kinds[name] == "categorical":
            found = category[name]
            entry = ColumnProfile(name, "categorical", dtype, rows - sum(found.values()),
                                  counts=found)
        else:
            entry = ColumnProfile(name, "datetime", dtype, 0)
        columns[name] = entry
    label = None
    if target is not None and target in names:
        label = label_profile(target_series(frame, target), target)
    return ReferenceProfile(rows, columns, label, fine_bins=fine_bins, exact_limit=exact_limit)


def target_series(frame: DataFrame, target: str) -> Any:
    """The target column alone as a pandas Series (label drift's own code then judges it:
    one column, whose class counts or quantiles the report shows)."""
    with counts.quiet():
        table: Any = frame.select(counts.quote(target)).toPandas()
    return table[target]
