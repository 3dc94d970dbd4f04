"""What changed in the model: permutation importance of candidate and champion, side by side.

A retrained model can pass every metric and still lean on different features than the one in
production (a leaked column, a feature whose pipeline broke and is now ignored). Permutation
importance answers "how much worse does the model get on the held-out rows when this column
is shuffled", for any model that takes the raw frame (a Pipeline with its own encoders), so
candidate and champion are measured the same way, with the gate's own primary metric.

It is shown, never judged: no check depends on it. It is bounded for speed (``max_rows``
sampled with a fixed seed, ``n_repeats`` shuffles, a fixed random state) and skipped when there
is no model to call (a predictions file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mlgate.figures import Figure, Series
from mlgate.model import data as mdata
from mlgate.model.metrics import (
    CLASSIFICATION,
    METRICS,
    Baseline,
    point_metric,
)
from mlgate.result import Table

TABLE_TITLE = "What changed in the model"
FIGURE_ID = "model.importance"


@dataclass(frozen=True)
class ImportanceSettings:
    """``model.importance`` of mlgate.yaml (defaults as in the schema)."""

    enabled: bool = True
    n_repeats: int = 3
    max_rows: int = 1000
    top: int = 10

    @classmethod
    def from_section(cls, section: dict[str, Any] | None) -> ImportanceSettings:
        section = section or {}
        return cls(
            enabled=bool(section.get("enabled", True)),
            n_repeats=int(section.get("n_repeats", 3)),
            max_rows=int(section.get("max_rows", 1000)),
            top=int(section.get("top", 10)),
        )


@dataclass
class Contender:
    """A model that can be called on the held-out features (``features``: its own columns)."""

    name: str
    model: Any
    features: Any


def primary_metric(threshold_metrics: list[str], champion_metrics: list[str], task: str,
                   n_classes: int, has_proba: bool) -> str:
    """The metric the gate cares about most: the first champion metric, else the first
    threshold, else a task default; one that needs probabilities only when there are some."""
    for name in [*champion_metrics, *threshold_metrics]:
        if not METRICS[name].needs_proba or has_proba:
            return name
    if task != CLASSIFICATION:
        return "r2"
    return "roc_auc" if has_proba and n_classes == 2 else "balanced_accuracy"


def permutation_shift(
    candidate: Contender,
    champion: Contender | None,
    target: mdata.Target,
    metric_name: str,
    baseline: Baseline,
    settings: ImportanceSettings,
    seed: int = 0,
) -> tuple[Table, Figure] | None:
    """The importance table and figure, or None when there is nothing to show."""
    rows = _sample(len(target.y), settings.max_rows, seed)
    found = {candidate.name: _importance(candidate, target, rows, metric_name, baseline,
                                         settings.n_repeats, seed)}
    if champion is not None:
        found[champion.name] = _importance(champion, target, rows, metric_name, baseline,
                                           settings.n_repeats, seed)
    cand = found[candidate.name]
    champ = found.get(champion.name) if champion is not None else None
    features = list(dict.fromkeys([*cand, *(champ or {})]))
    if not features:
        return None

    def shift(name: str) -> float | None:
        if champ is None or name not in cand or name not in champ:
            return None
        return cand[name] - champ[name]

    def order(name: str) -> float:
        if champ is not None:
            moved = shift(name)
            return abs(moved) if moved is not None else abs(cand.get(name, champ.get(name, 0.0)))
        return cand.get(name, 0.0)

    top = sorted(features, key=lambda n: -order(n))[: settings.top]
    table = Table(
        TABLE_TITLE,
        ["feature", "candidate importance", "champion importance", "shift"],
        [[name, _text(cand.get(name)), _text(champ.get(name) if champ else None),
          _text(shift(name), signed=True)] for name in top],
    )
    series = [Series("candidate", [cand.get(n) for n in top])]
    if champ is not None:
        series.append(Series("champion", [champ.get(n) for n in top]))
    sampled = f"{len(rows)} held-out rows" if len(rows) < len(target.y) else "all held-out rows"
    note = (f"drop in {metric_name} when the column is shuffled ({settings.n_repeats} repeats, "
            f"{sampled}); shown, not judged")
    figure = Figure(FIGURE_ID, TABLE_TITLE, "bar", list(top), series, x_label="feature",
                    y_label=f"importance ({metric_name} drop)", priority=40, note=note)
    return table, figure


def _sample(n: int, max_rows: int, seed: int) -> np.ndarray:
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))


def _importance(
    who: Contender,
    target: mdata.Target,
    rows: np.ndarray,
    metric_name: str,
    baseline: Baseline,
    n_repeats: int,
    seed: int,
) -> dict[str, float]:
    """Mean importance per feature column: the scorer is the gate's own metric, signed so that
    higher is better (scikit-learn's convention), on the gate's own encoding of the outputs."""
    from pathlib import Path

    from sklearn.inspection import permutation_importance

    features = who.features.iloc[rows]
    y = target.y[rows]
    sign = 1.0 if METRICS[metric_name].higher_is_better else -1.0
    where = Path(who.name)

    def scorer(model: Any, x: Any, y_true: np.ndarray) -> float:
        subset = mdata.Target(target.task, y_true, target.classes)
        outputs = mdata.model_outputs(model, x, subset, where, where)
        return sign * point_metric(metric_name, y_true, outputs, target.n_classes, baseline)

    found = permutation_importance(who.model, features, y, scoring=scorer, n_repeats=n_repeats,
                                   random_state=seed)
    return {str(col): float(found.importances_mean[i])
            for i, col in enumerate(features.columns)}


def _text(value: float | None, signed: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"
