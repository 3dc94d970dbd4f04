"""Paired bootstrap of metric differences, vectorised over resamples.

Why not loop over resamples and call scikit-learn each time: at a million rows and a thousand
resamples that is thousands of sorts of a million scores (minutes). Instead every resample is
a vector of row *weights* (how often each row was drawn), and every metric is written as a
function of weighted sums:

* accuracy, precision, recall, F1, balanced accuracy, log loss, calibration error, MAE, RMSE,
  R2 and MAPE are functions of ``W @ V`` for a per-row matrix ``V`` fixed by the predictions,
  so a block of resamples costs one matrix product;
* ROC AUC is the weighted Mann-Whitney statistic: with rows sorted by score, each positive
  contributes its weight times the weighted count of negatives below it (a cumulative sum),
  ties counting one half.

Both models are scored on the *same* weights (paired), so the interval is for the difference.
Weights are exact multinomial counts (classic bootstrap) for up to ``POISSON_FROM`` rows; above,
they are independent Poisson(1) counts (the Poisson bootstrap, asymptotically equivalent and
O(1) per row, which is what makes a million rows affordable). Blocks are seeded from one
``SeedSequence`` so the result depends only on the seed, not on the number of threads.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np

from mlgate.errors import InputError
from mlgate.model.metrics import (
    CALIBRATION_BINS,
    METRICS,
    Outputs,
    calibration_bins,
    calibration_inputs,
)

POISSON_FROM = 200_000
BLOCK_ELEMENTS = 1 << 24  # resamples x rows per block (bounds memory to ~100 MB per thread)

Finish = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class Interval:
    """Bootstrap result for one metric: observed difference and its confidence interval."""

    metric: str
    candidate: float
    champion: float
    difference: float
    low: float
    high: float
    confidence: float
    resamples: int
    method: str


def paired_bootstrap(
    y: np.ndarray,
    candidate: Outputs,
    champion: Outputs,
    metrics: list[str],
    n_classes: int = 0,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    method: str = "auto",
    workers: int | None = None,
) -> dict[str, Interval]:
    """Confidence intervals of ``metric(candidate) - metric(champion)`` for each metric."""
    n = len(y)
    if n == 0:
        raise InputError("no rows to bootstrap")
    if method == "auto":
        method = "poisson" if n > POISSON_FROM else "multinomial"
    plan = _Plan(y, candidate, champion, metrics, n_classes)
    draws = plan.run(n, resamples, seed, method, workers)
    ones = np.ones((1, n), dtype=np.uint8)
    observed = plan.evaluate(ones)
    alpha = (1.0 - confidence) / 2.0
    out: dict[str, Interval] = {}
    for name in metrics:
        cand, champ = observed[name]
        diffs = draws[name]
        diffs = diffs[np.isfinite(diffs)]
        low, high = (
            (float(np.quantile(diffs, alpha)), float(np.quantile(diffs, 1.0 - alpha)))
            if diffs.size
            else (float("nan"), float("nan"))
        )
        out[name] = Interval(
            name, float(cand[0]), float(champ[0]), float(cand[0] - champ[0]), low, high,
            confidence, resamples, method,
        )  # fmt: skip
    return out


def weights_block(rng: np.random.Generator, k: int, n: int, method: str) -> np.ndarray:
    """``k`` resamples of ``n`` row weights (uint8 counts)."""
    if method == "multinomial":
        idx = rng.integers(0, n, size=(k, n), dtype=np.int64)
        idx += (np.arange(k, dtype=np.int64) * n)[:, None]
        counts = np.bincount(idx.ravel(), minlength=k * n).reshape(k, n)
        return np.minimum(counts, 255).astype(np.uint8)
    if method == "poisson":
        u16 = rng.integers(0, 1 << 16, size=(k, n), dtype=np.uint16)
        return np.take(_poisson_table(), u16)
    raise InputError(f"unknown bootstrap method {method!r} (multinomial, poisson or auto)")


@cache
def _poisson_table() -> np.ndarray:
    """Inverse CDF of Poisson(1) on a 16-bit grid: a uniform 16-bit draw -> a count.

    The grid resolves probabilities down to 1/65536, so counts above 8 (p < 1e-6) never occur;
    the mean and variance of the table are 1 within 1e-4.
    """
    pmf = np.array([math.exp(-1.0) / math.factorial(k) for k in range(32)])
    cdf = np.cumsum(pmf)
    grid = (np.arange(1 << 16) + 0.5) / (1 << 16)
    return np.searchsorted(cdf, grid).astype(np.uint8)


class _Plan:
    """Per-row matrices prepared once; ``evaluate`` turns a weight block into metric values.

    Rows are kept in the candidate's score order (weights are exchangeable, so drawing them
    in any fixed order is valid), which saves one reordering per block for ROC AUC.
    """

    def __init__(
        self, y: np.ndarray, cand: Outputs, champ: Outputs, metrics: list[str], n_classes: int
    ) -> None:
        self.metrics = metrics
        self.n = len(y)
        self.order = np.arange(self.n)
        need_auc = "roc_auc" in metrics
        if need_auc:
            if n_classes != 2:
                raise InputError("the bootstrap supports roc_auc for binary targets only")
            self.order = _score_order(cand, y)
        y = y[self.order]
        cand, champ = cand.take(self.order), champ.take(self.order)
        columns: list[np.ndarray] = [np.ones(self.n)]
        self.finishers: dict[str, tuple[Finish, Finish]] = {}
        for name in metrics:
            if name == "roc_auc":
                continue
            pair = []
            for out in (cand, champ):
                cols, finish = _linear(name, y, out, n_classes)
                start = sum(c.shape[1] if c.ndim == 2 else 1 for c in columns)
                pair.append(_sliced(finish, start, cols.shape[1]))
                columns.append(cols)
            self.finishers[name] = (pair[0], pair[1])
        self.V = np.column_stack(columns).astype(np.float64)
        self.auc: tuple[_Auc, _Auc] | None = None
        if need_auc:
            champ_order = _score_order(champ, y)
            assert cand.proba is not None and champ.proba is not None
            self.auc = (
                _Auc(y, None).with_ties(cand.proba[:, 1]),
                _Auc(y[champ_order], champ_order).with_ties(champ.proba[champ_order, 1]),
            )

    def evaluate(self, w: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        sums = _weighted_sums(w, self.V)
        total = sums[:, 0]
        out = {
            name: (fc(sums, total), fh(sums, total)) for name, (fc, fh) in self.finishers.items()
        }
        if self.auc is not None:
            out["roc_auc"] = (self.auc[0](w), self.auc[1](w))
        return out

    def run(
        self, n: int, resamples: int, seed: int, method: str, workers: int | None
    ) -> dict[str, np.ndarray]:
        k = max(1, min(resamples, BLOCK_ELEMENTS // max(n, 1)))
        sizes = [min(k, resamples - s) for s in range(0, resamples, k)]
        seeds = np.random.SeedSequence(seed).spawn(len(sizes))

        def block(i: int) -> dict[str, np.ndarray]:
            rng = np.random.Generator(np.random.PCG64(seeds[i]))
            values = self.evaluate(weights_block(rng, sizes[i], n, method))
            return {name: c - h for name, (c, h) in values.items()}

        threads = workers or min(4, os.cpu_count() or 1)
        if threads > 1 and len(sizes) > 1:
            with ThreadPoolExecutor(threads) as pool:
                parts = list(pool.map(block, range(len(sizes))))
        else:
            parts = [block(i) for i in range(len(sizes))]
        return {name: np.concatenate([p[name] for p in parts]) for name in self.metrics}


def _score_order(out: Outputs, y: np.ndarray) -> np.ndarray:
    """Rows by ascending positive-class score, negatives first among equal scores."""
    if out.proba is None:
        raise InputError("roc_auc needs class probabilities")
    return np.lexsort((y, out.proba[:, 1]))


def _weighted_sums(w: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``w @ V`` in column blocks so the float copy of the weights stays small."""
    out = np.zeros((w.shape[0], V.shape[1]))
    step = 1 << 16
    for start in range(0, w.shape[1], step):
        out += w[:, start : start + step].astype(np.float64) @ V[start : start + step]
    return out


def _sliced(finish: Finish, start: int, width: int) -> Finish:
    def run(sums: np.ndarray, total: np.ndarray) -> np.ndarray:
        return finish(sums[:, start : start + width], total)

    return run


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


def _linear(name: str, y: np.ndarray, out: Outputs, k: int) -> tuple[np.ndarray, Finish]:
    """Per-row columns V and a function of (w @ V, total weight) giving the metric."""
    if METRICS[name].task == "regression":
        return _linear_regression(name, y.astype(float), out.pred.astype(float))
    pred = out.pred
    correct = (pred == y).astype(float)
    if name == "accuracy":
        return correct[:, None], lambda s, t: s[:, 0] / t
    onehot_y = (y[:, None] == np.arange(k)[None, :]).astype(float)
    onehot_p = (pred[:, None] == np.arange(k)[None, :]).astype(float)
    if name == "balanced_accuracy":

        def balanced(s: np.ndarray, t: np.ndarray) -> np.ndarray:
            tp, true = s[:, :k], s[:, k:]
            present = true > 0
            return (_safe_div(tp, true) * present).sum(1) / np.maximum(present.sum(1), 1)

        return np.hstack([onehot_y * correct[:, None], onehot_y]), balanced
    if name in ("precision", "recall", "f1"):
        classes = [1] if k == 2 else list(range(k))
        tp = (onehot_y * onehot_p)[:, classes]
        cols = np.hstack([tp, onehot_p[:, classes], onehot_y[:, classes]])
        c = len(classes)

        def prf(s: np.ndarray, t: np.ndarray) -> np.ndarray:
            tp_, pred_, true_ = s[:, :c], s[:, c : 2 * c], s[:, 2 * c :]
            if name == "precision":
                per = _safe_div(tp_, pred_)
            elif name == "recall":
                per = _safe_div(tp_, true_)
            else:
                per = _safe_div(2 * tp_, pred_ + true_)
            return np.asarray(per.mean(axis=1))

        return cols, prf
    proba = out.proba
    if proba is None:
        raise InputError(f"metric {name!r} needs class probabilities")
    if name == "log_loss":
        p = proba / proba.sum(axis=1, keepdims=True)
        eps = np.finfo(p.dtype).eps
        p_true = np.clip(p[np.arange(len(y)), y], eps, 1.0)
        return (-np.log(p_true))[:, None], lambda s, t: s[:, 0] / t
    if name == "calibration_error":
        confidence, outcome = calibration_inputs(y, proba)
        bins = calibration_bins(confidence)
        onehot_b = bins[:, None] == np.arange(CALIBRATION_BINS)[None, :]
        cols = onehot_b * (outcome - confidence)[:, None]
        return cols, lambda s, t: np.abs(s).sum(1) / t
    raise InputError(f"metric {name!r} cannot be bootstrapped")


def _linear_regression(name: str, y: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, Finish]:
    err = pred - y
    if name == "mae":
        return np.abs(err)[:, None], lambda s, t: s[:, 0] / t
    if name == "rmse":
        return (err**2)[:, None], lambda s, t: np.sqrt(s[:, 0] / t)
    if name == "mape":
        ape = np.abs(err) / np.maximum(np.abs(y), np.finfo(np.float64).eps)
        return ape[:, None], lambda s, t: s[:, 0] / t
    if name == "r2":

        def r2(s: np.ndarray, t: np.ndarray) -> np.ndarray:
            sst = s[:, 2] - s[:, 1] ** 2 / t
            return 1.0 - _safe_div(s[:, 0], sst)

        return np.column_stack([err**2, y, y**2]), r2
    raise InputError(f"metric {name!r} cannot be bootstrapped")


class _Auc:
    """Weighted ROC AUC of one model for blocks of weights given in the working order.

    ``reorder`` maps the working order to this model's score order (None when they agree).
    Rows are sorted by (score, label), so a positive's running count of negatives already
    includes the negatives tied with it; the half-credit correction subtracts half of
    P_g * N_g for each tie group g that holds both classes.
    """

    def __init__(self, y_sorted: np.ndarray, reorder: np.ndarray | None) -> None:
        self.reorder = reorder
        self.pos = (y_sorted == 1).astype(np.uint8)
        self.neg = (y_sorted != 1).astype(np.uint8)
        self.pos_rows = np.flatnonzero(self.pos)
        self.ties: tuple[np.ndarray, np.ndarray] | None = None

    def with_ties(self, scores_sorted: np.ndarray) -> _Auc:
        same = np.flatnonzero(np.diff(scores_sorted) == 0)
        if same.size == 0:
            return self
        group = np.concatenate([[0], np.cumsum(np.diff(scores_sorted) != 0)])
        has_pos = np.bincount(group, weights=self.pos) > 0
        has_neg = np.bincount(group, weights=self.neg) > 0
        mixed_rows = np.flatnonzero((has_pos & has_neg)[group])
        if mixed_rows.size:
            g = group[mixed_rows]
            starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
            self.ties = (mixed_rows, starts)
        return self

    def __call__(self, w: np.ndarray) -> np.ndarray:
        if self.reorder is not None:
            w = np.take(w, self.reorder, axis=1)
        # Integer arithmetic is exact and several times faster than float here: running
        # negative counts fit int32 (<= 255 * rows), products with a uint8 weight too.
        below = np.cumsum(w * self.neg, axis=1, dtype=np.int32)
        w_pos = np.take(w, self.pos_rows, axis=1)
        at_pos = np.take(below, self.pos_rows, axis=1)
        np.multiply(w_pos, at_pos, out=at_pos)
        numerator = at_pos.sum(axis=1, dtype=np.int64).astype(np.float64)
        wpos = w_pos.sum(axis=1, dtype=np.int64).astype(np.float64)
        wneg = below[:, -1].astype(np.float64)
        if self.ties is not None:
            rows, starts = self.ties
            sub = w[:, rows].astype(np.float64)
            p_g = np.add.reduceat(sub * self.pos[rows], starts, axis=1)
            n_g = np.add.reduceat(sub * self.neg[rows], starts, axis=1)
            numerator -= 0.5 * (p_g * n_g).sum(axis=1)
        return np.asarray(_safe_div(numerator, wpos * wneg))
