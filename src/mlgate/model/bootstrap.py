"""Paired bootstrap of metric differences, vectorised over resamples.

Why not loop over resamples and call scikit-learn each time: at a million rows and a thousand
resamples that is thousands of sorts of a million scores (minutes). Instead every resample is
a vector of row *weights* (how often each row was drawn, see :mod:`mlgate.model.weights`), and
every metric is written as a function of weighted sums:

* accuracy, precision, recall, F1, balanced accuracy, log loss, calibration error, MAE, RMSE,
  R2 and MAPE are functions of ``W @ V`` for a per-row matrix ``V`` fixed by the predictions,
  so a block of resamples costs one matrix product;
* ROC AUC is the weighted Mann-Whitney statistic: each positive contributes its weight times
  the weight of the negatives scored below it plus half the weight of those tied with it,
  read off one integer cumulative sum of the negatives' weights in the model's score order.
  With more than two classes it is the one-vs-rest macro average (scikit-learn's
  ``multi_class="ovr", average="macro"``): one such scan per class and model, over all rows
  in the order of that class's probability (see :class:`_OvrAuc`);
* skill metrics are the same sums set against a fixed baseline prediction (its log loss, RMSE
  or MAE is one more column; chance for balanced accuracy and F1 follows from the class sums).

Both models are scored on the *same* weights (paired), so the interval is for the difference.
Weights are exact multinomial counts (classic bootstrap) for up to ``POISSON_FROM`` rows; above,
they are independent Poisson(1) counts (the Poisson bootstrap, asymptotically equivalent and
O(1) per row, which is what makes a million rows affordable). Blocks are seeded from one
``SeedSequence`` so the result depends only on the seed, not on the number of threads.

Where the time goes (1M rows, one core, one block of 8 resamples): ~12 ms drawing the weights,
~6 ms for the matrix product, ~6 ms for the candidate's AUC scan and ~17 ms for the
champion's (~11 of them permuting the negatives' weights into its score order). Every pass is
over small integer types, scratch arrays are reused per thread (a fresh 50 MB array costs a
page fault per 4 KiB on every block), blocks are small enough for the scratch to stay mostly
in cache, and blocks run on a small thread pool (numpy releases the GIL in these loops).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from mlgate.errors import InputError
from mlgate.model.metrics import (
    CALIBRATION_BINS,
    METRICS,
    Baseline,
    Outputs,
    calibration_bins,
    calibration_inputs,
    f1_chance,
    holdout_baseline,
)
from mlgate.model.weights import METHODS, fill_weights, weights_block

__all__ = ["POISSON_FROM", "Interval", "paired_bootstrap", "weights_block"]

POISSON_FROM = 200_000
BLOCK_ELEMENTS = 1 << 23  # resamples x rows per block: 8 x 1M keeps ~25 MB of scratch per thread
_SUM_STEP = 1 << 14  # columns per float64 copy in the matrix product (2 MB at 16 resamples)

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
    baseline: Baseline | None = None,
) -> dict[str, Interval]:
    """Confidence intervals of ``metric(candidate) - metric(champion)`` for each metric.

    Skill metrics are measured against ``baseline`` (default: the rows' own class shares or
    mean), held fixed across resamples like the two models.
    """
    n = len(y)
    if n == 0:
        raise InputError("no rows to bootstrap")
    if method == "auto":
        method = "poisson" if n > POISSON_FROM else "multinomial"
    if method not in METHODS:
        raise InputError(f"unknown bootstrap method {method!r} (multinomial, poisson or auto)")
    plan = _Plan(y, candidate, champion, metrics, n_classes, baseline)
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


class _Workspace:
    """Scratch arrays of one thread, allocated on first use and reused by every block."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type[np.generic]) -> np.ndarray:
        size = int(np.prod(shape))
        have = self._arrays.get(name)
        if have is None or have.size < size or have.dtype != dtype:
            have = self._arrays[name] = np.empty(size, dtype=dtype)
        return have[:size].reshape(shape)


class _Plan:
    """Per-row matrices prepared once; ``evaluate`` turns a weight block into metric values.

    Weights are drawn in a fixed *working order* of the rows (they are exchangeable, so any
    fixed order is valid); ``order[j]`` is the data row of working position ``j``. With a
    binary ROC AUC the working order is the negatives, then the positives, each by ascending
    candidate score, so the candidate's AUC needs no reordering and the champion's only a
    permutation of the negatives' weights. With more classes it is the rows grouped by class,
    each group by ascending candidate probability of its class, so every class's positives
    are one contiguous slice of the weights.
    """

    def __init__(
        self,
        y: np.ndarray,
        cand: Outputs,
        champ: Outputs,
        metrics: list[str],
        n_classes: int,
        baseline: Baseline | None = None,
    ) -> None:
        self.metrics = metrics
        self.n = len(y)
        self.order = np.arange(self.n)
        self.n_neg = 0
        self.auc: tuple[_Auc, _Auc] | None = None
        self.ovr: tuple[_OvrAuc, _OvrAuc] | None = None
        need_auc = "roc_auc" in metrics
        if need_auc and n_classes == 2:
            s_cand, s_champ = _positive_scores(cand), _positive_scores(champ)
            neg, pos = np.flatnonzero(y != 1), np.flatnonzero(y == 1)
            neg = neg[np.argsort(s_cand[neg])]  # order among tied scores does not matter
            pos = pos[np.argsort(s_cand[pos])]
            self.order = np.concatenate([neg, pos])
            self.n_neg = len(neg)
            self.auc = (_Auc(s_cand[neg], s_cand[pos]), _Auc(s_champ[neg], s_champ[pos]))
        elif need_auc:
            p_cand, p_champ = _all_scores(cand, n_classes), _all_scores(champ, n_classes)
            groups = [np.flatnonzero(y == c) for c in range(n_classes)]
            groups = [g[np.argsort(p_cand[g, c])] for c, g in enumerate(groups)]
            self.order = np.concatenate(groups)
            bounds = np.cumsum([0] + [len(g) for g in groups])
            self.ovr = (
                _OvrAuc(p_cand[self.order], bounds),
                _OvrAuc(p_champ[self.order], bounds),
            )
        base = baseline or Baseline()
        if baseline is None and any(METRICS[m].skill_of for m in metrics):
            base = holdout_baseline(y, METRICS[metrics[0]].task, n_classes)
        # Columns are built in data order and permuted once (cheaper than permuting inputs).
        columns: list[np.ndarray] = [np.ones(self.n)]
        if need_auc:
            # Weight per class (binary: of the positives), columns 1 ..: the AUC's pair counts.
            columns.append(y == 1 if n_classes == 2 else y[:, None] == np.arange(n_classes))
        self.finishers: dict[str, tuple[Finish, Finish]] = {}
        for name in metrics:
            if name == "roc_auc":
                continue
            pair = []
            for out in (cand, champ):
                cols, finish = _linear(name, y, out, n_classes, base)
                start = sum(c.shape[1] if c.ndim == 2 else 1 for c in columns)
                pair.append(_sliced(finish, start, cols.shape[1]))
                columns.append(cols)
            self.finishers[name] = (pair[0], pair[1])
        # Stored transposed (columns x rows), each column gathered into working order on its
        # own: a 1-D gather is several times cheaper than permuting the rows of a matrix.
        flat = [col for c in columns for col in c.reshape(self.n, -1).T]
        self.Vt = np.empty((len(flat), self.n))
        for target, col in zip(self.Vt, flat, strict=True):
            np.take(col.astype(np.float64, copy=False), self.order, out=target)

    def evaluate(
        self, w: np.ndarray, ws: _Workspace | None = None
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Metric values of both models for each row of the uint8 weight block ``w``."""
        ws = ws or _Workspace()
        sums = _weighted_sums(w, self.Vt, ws)
        total = sums[:, 0]
        out = {
            name: (fc(sums, total), fh(sums, total)) for name, (fc, fh) in self.finishers.items()
        }
        if self.auc is not None:
            # Weight sums are integers below 2**53, so these float64 values are exact.
            pairs = sums[:, 1] * (total - sums[:, 1])
            w_neg, w_pos = w[:, : self.n_neg], w[:, self.n_neg :]
            out["roc_auc"] = (
                _safe_div(self.auc[0].numerator(w_neg, w_pos, ws), pairs),
                _safe_div(self.auc[1].numerator(w_neg, w_pos, ws), pairs),
            )
        if self.ovr is not None:
            k = self.ovr[0].n_classes
            per_class = sums[:, 1 : 1 + k]
            pairs = per_class * (total[:, None] - per_class)
            out["roc_auc"] = (
                _macro(self.ovr[0].numerators(w, per_class, ws), pairs),
                _macro(self.ovr[1].numerators(w, per_class, ws), pairs),
            )
        return out

    def run(
        self, n: int, resamples: int, seed: int, method: str, workers: int | None
    ) -> dict[str, np.ndarray]:
        k = max(1, min(resamples, BLOCK_ELEMENTS // max(n, 1)))
        sizes = [min(k, resamples - s) for s in range(0, resamples, k)]
        seeds = np.random.SeedSequence(seed).spawn(len(sizes))
        parts: list[dict[str, np.ndarray]] = [{} for _ in sizes]
        queue = iter(range(len(sizes)))
        lock = threading.Lock()

        def worker() -> None:
            # Blocks are handed out dynamically (a loaded core takes fewer), but each block's
            # weights come from its own seed, so the result does not depend on who ran it.
            ws = _Workspace()
            while True:
                with lock:
                    i = next(queue, None)
                if i is None:
                    return
                rng = np.random.Generator(np.random.PCG64(seeds[i]))
                w = ws.get("weights", (sizes[i], n), np.uint8)
                fill_weights(rng, w, method)
                values = self.evaluate(w, ws)
                parts[i] = {name: c - h for name, (c, h) in values.items()}

        threads = min(workers or min(4, os.cpu_count() or 1), len(sizes))
        if threads > 1:
            with ThreadPoolExecutor(threads) as pool:
                for done in [pool.submit(worker) for _ in range(threads)]:
                    done.result()
        else:
            worker()
        return {name: np.concatenate([p[name] for p in parts]) for name in self.metrics}


def _positive_scores(out: Outputs) -> np.ndarray:
    if out.proba is None:
        raise InputError("roc_auc needs class probabilities")
    return np.asarray(out.proba[:, 1], dtype=np.float64)


def _all_scores(out: Outputs, n_classes: int) -> np.ndarray:
    if out.proba is None or out.proba.shape[1] != n_classes:
        raise InputError("roc_auc needs a probability per class")
    return np.asarray(out.proba, dtype=np.float64)


def _macro(numerators: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Mean over classes of numerator / pairs, over the classes that have pairs to rank.

    scikit-learn refuses a class absent from the rows; a resample can miss a rare class, and
    dropping the whole resample would bias the interval, so that resample averages the
    classes it has (0 when none has any pair, like the binary case).
    """
    has = pairs > 0
    auc = _safe_div(numerators, pairs)
    return _safe_div((auc * has).sum(axis=1), has.sum(axis=1).astype(np.float64))


def _weighted_sums(w: np.ndarray, Vt: np.ndarray, ws: _Workspace) -> np.ndarray:
    """``w @ Vt.T`` in column blocks so the float64 copy of the weights stays in cache."""
    k, n = w.shape
    out = np.zeros((k, Vt.shape[0]))
    buf = ws.get("float_weights", (k, min(n, _SUM_STEP)), np.float64)
    for start in range(0, n, _SUM_STEP):
        stop = min(n, start + _SUM_STEP)
        part = buf[:, : stop - start]
        np.copyto(part, w[:, start:stop])
        out += part @ Vt[:, start:stop].T
    return out


def _sliced(finish: Finish, start: int, width: int) -> Finish:
    def run(sums: np.ndarray, total: np.ndarray) -> np.ndarray:
        return finish(sums[:, start : start + width], total)

    return run


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


def _linear(
    name: str, y: np.ndarray, out: Outputs, k: int, base: Baseline
) -> tuple[np.ndarray, Finish]:
    """Per-row columns V and a function of (w @ V, total weight) giving the metric."""
    if METRICS[name].task == "regression":
        return _linear_regression(name, y.astype(float), out.pred.astype(float), base)
    if name in ("log_loss", "log_loss_skill", "calibration_error"):
        return _linear_proba(name, y, out, base)
    pred = out.pred
    correct = (pred == y).astype(float)
    if name == "accuracy":
        return correct[:, None], lambda s, t: s[:, 0] / t
    onehot_y = (y[:, None] == np.arange(k)[None, :]).astype(float)
    onehot_p = (pred[:, None] == np.arange(k)[None, :]).astype(float)
    if name in ("balanced_accuracy", "balanced_accuracy_skill"):
        adjusted = name == "balanced_accuracy_skill"

        def balanced(s: np.ndarray, t: np.ndarray) -> np.ndarray:
            tp, true = s[:, :k], s[:, k:]
            present = true > 0
            count = np.maximum(present.sum(1), 1)
            score = (_safe_div(tp, true) * present).sum(1) / count
            if not adjusted:
                return score
            # scikit-learn's adjusted=True: chance is 1/K over the K classes present.
            return _safe_div(score - 1.0 / count, 1.0 - 1.0 / count)

        return np.hstack([onehot_y * correct[:, None], onehot_y]), balanced
    if name in ("precision", "recall", "f1", "f1_skill"):
        classes = [1] if k == 2 else list(range(k))
        tp = (onehot_y * onehot_p)[:, classes]
        cols = np.hstack([tp, onehot_p[:, classes], onehot_y[:, classes]])
        c = len(classes)
        shares = None if base.shares is None else base.shares[classes]

        def prf(s: np.ndarray, t: np.ndarray) -> np.ndarray:
            tp_, pred_, true_ = s[:, :c], s[:, c : 2 * c], s[:, 2 * c :]
            if name == "precision":
                per = _safe_div(tp_, pred_)
            elif name == "recall":
                per = _safe_div(tp_, true_)
            else:
                per = _safe_div(2 * tp_, pred_ + true_)
            score = np.asarray(per.mean(axis=1))
            if name != "f1_skill":
                return score
            assert shares is not None
            chance = f1_chance(true_ / t[:, None], shares[None, :]).mean(axis=1)
            return _safe_div(score - chance, 1.0 - chance)

        return cols, prf
    raise InputError(f"metric {name!r} cannot be bootstrapped")


def _neg_log_true(proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per row, -log of the true class's probability after normalising each row and clipping
    at machine epsilon (what scikit-learn's log_loss does)."""
    picked = proba[np.arange(len(y)), y] / proba.sum(axis=1)
    return np.asarray(-np.log(np.clip(picked, np.finfo(picked.dtype).eps, 1.0)))


def _linear_proba(
    name: str, y: np.ndarray, out: Outputs, base: Baseline
) -> tuple[np.ndarray, Finish]:
    proba = out.proba
    if proba is None:
        raise InputError(f"metric {name!r} needs class probabilities")
    if name == "log_loss":
        return _neg_log_true(proba, y)[:, None], lambda s, t: s[:, 0] / t
    if name == "log_loss_skill":
        assert base.shares is not None
        constant = np.broadcast_to(base.shares, (len(y), len(base.shares)))
        cols = np.column_stack([_neg_log_true(proba, y), _neg_log_true(constant, y)])
        return cols, lambda s, t: 1.0 - _safe_div(s[:, 0], s[:, 1])
    if name == "calibration_error":
        confidence, outcome = calibration_inputs(y, proba)
        bins = calibration_bins(confidence)
        onehot_b = bins[:, None] == np.arange(CALIBRATION_BINS)[None, :]
        cols = onehot_b * (outcome - confidence)[:, None]
        return cols, lambda s, t: np.abs(s).sum(1) / t
    raise InputError(f"metric {name!r} cannot be bootstrapped")


def _linear_regression(
    name: str, y: np.ndarray, pred: np.ndarray, base: Baseline
) -> tuple[np.ndarray, Finish]:
    err = pred - y
    if name in ("rmse_skill", "mae_skill"):
        assert base.mean is not None
        off = y - base.mean
        if name == "rmse_skill":
            cols = np.column_stack([err**2, off**2])
            return cols, lambda s, t: 1.0 - np.sqrt(_safe_div(s[:, 0], s[:, 1]))
        cols = np.column_stack([np.abs(err), np.abs(off)])
        return cols, lambda s, t: 1.0 - _safe_div(s[:, 0], s[:, 1])
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
    """Weighted Mann-Whitney numerator of one model's ROC AUC, for blocks of weights.

    The weight block's columns are the negatives then the positives, each in the working
    order; ``neg_perm`` puts the negatives in this model's score order (None: already are). With
    ``C[m]`` the cumulative weight of the first ``m`` negatives by this model's score, a
    positive ``i`` earns ``(C[lo_i] + C[hi_i]) / 2`` per unit of weight, where ``lo_i``/``hi_i``
    count the negatives scored strictly below / at most its score: ties count one half, and
    the order among tied rows does not matter. Each resample is scanned on its own so ``C``
    (4 bytes per negative) is still in cache when it is gathered at the positives' ``lo``: that
    makes the gather cheap even in an order other than ascending ``lo`` (the champion's), which
    measured faster than permuting the positives' weights to make it ascending.

    Everything up to the final division is integer arithmetic, hence exact: ``C`` fits int32
    while ``255 * negatives < 2**31`` (int64 above), the per-resample sum is taken in int64.
    """

    def __init__(self, neg_scores: np.ndarray, pos_scores: np.ndarray) -> None:
        self.neg_perm = _sort_order(neg_scores)
        if self.neg_perm is not None:
            neg_scores = neg_scores[self.neg_perm]
        self.lo = np.searchsorted(neg_scores, pos_scores, side="left")
        n_neg = len(neg_scores)
        tied = np.zeros(len(pos_scores), dtype=bool)
        if n_neg:
            tied = (self.lo < n_neg) & (neg_scores[np.minimum(self.lo, n_neg - 1)] == pos_scores)
        self.tied = np.flatnonzero(tied)
        self.tied_lo = self.lo[self.tied]
        self.tied_hi = np.searchsorted(neg_scores, pos_scores[self.tied], side="right")
        self.cum_dtype = np.int32 if 255 * n_neg < 2**31 else np.int64

    def numerator(self, w_neg: np.ndarray, w_pos: np.ndarray, ws: _Workspace) -> np.ndarray:
        k, n_neg = w_neg.shape
        if self.neg_perm is not None:
            w_neg = np.take(w_neg, self.neg_perm, axis=1, out=ws.get("neg", w_neg.shape, np.uint8))
        cum = ws.get("cum", (n_neg + 1,), self.cum_dtype)
        below = ws.get("below", (len(self.lo),), self.cum_dtype)
        cum[0] = 0
        twice = np.empty(k, dtype=np.int64)
        for r in range(k):
            np.cumsum(w_neg[r], dtype=self.cum_dtype, out=cum[1:])
            np.take(cum, self.lo, out=below)
            twice[r] = 2 * np.einsum("i,i->", w_pos[r], below, dtype=np.int64)
            if self.tied.size:
                ties = cum[self.tied_hi] - cum[self.tied_lo]
                twice[r] += np.einsum("i,i->", w_pos[r, self.tied], ties, dtype=np.int64)
        return twice.astype(np.float64) / 2.0


def _sort_order(scores: np.ndarray) -> np.ndarray | None:
    """Indices sorting ``scores`` ascending, or None when they already are."""
    if np.all(scores[1:] >= scores[:-1]):
        return None
    return np.argsort(scores)


class _OvrAuc:
    """One model's one-vs-rest ROC AUC numerators, one per class, for blocks of weights.

    For class ``c`` the positives are its rows (the contiguous slice ``bounds[c]:bounds[c+1]``
    of the working order) and the negatives every other row, ranked by the probability of
    ``c``. Rather than a cumulative sum over the negatives only, which would need the rows
    split anew for each class, the scan runs over *all* rows in that order: with ``C`` their
    cumulative weight, positive ``i`` reads ``A_i = (C[lo_i] + C[hi_i]) / 2``, the weight of
    the rows scored strictly below it plus half of those tied with it (itself included).
    ``sum w_i A_i`` over the positives is the Mann-Whitney numerator plus the positives ranked
    against each other, which is exactly ``W_c**2 / 2`` whatever the scores (each pair counts
    once in total, ties half on each side, each row half against itself); that is subtracted.
    A positive tied with no other row has ``C[hi_i] - C[lo_i] = w_i``, so the second gather is
    needed only for the tied ones: ``2 sum w C[lo] + sum w**2 + sum_tied w (C[hi] - C[lo] - w)``;
    when most positives are tied (coarse scores, such as a forest's vote shares), gathering
    ``C[hi]`` for all of them is cheaper than that correction.

    Cost per resample and class: one permutation of the weights (all rows, uint8), one integer
    cumulative sum and a gather at the positives, so K classes cost about K binary scans.
    Integer arithmetic throughout (int32 cumulative sums while ``255 * rows < 2**31``), hence
    exact up to the final division, like :class:`_Auc`.
    """

    def __init__(self, proba: np.ndarray, bounds: np.ndarray) -> None:
        n, self.n_classes = proba.shape
        self.bounds = bounds
        self.perm: list[np.ndarray | None] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray | None] = []
        self.tied: list[np.ndarray] = []
        self.tied_hi: list[np.ndarray] = []
        for c in range(self.n_classes):
            scores = proba[:, c]
            perm = _sort_order(scores)
            ranked = scores if perm is None else scores[perm]
            own = scores[bounds[c] : bounds[c + 1]]
            lo = np.searchsorted(ranked, own, side="left")
            hi = np.searchsorted(ranked, own, side="right")
            tied = np.flatnonzero(hi - lo > 1)  # shares its score with another row
            self.perm.append(perm)
            self.lo.append(lo)
            # Mostly tied (coarse scores, e.g. a forest's vote shares): gathering C[hi] for
            # every positive is cheaper than the correction for a subset.
            self.hi.append(hi if 4 * tied.size > len(own) else None)
            self.tied.append(tied)
            self.tied_hi.append(hi[tied])
        self.cum_dtype = np.int32 if 255 * n < 2**31 else np.int64

    def numerators(self, w: np.ndarray, per_class: np.ndarray, ws: _Workspace) -> np.ndarray:
        """Numerators (resamples x classes) for the uint8 weight block ``w`` in working
        order; ``per_class`` holds each resample's total weight per class (exact floats)."""
        k, n = w.shape
        twice = np.zeros((k, self.n_classes), dtype=np.int64)
        cum = ws.get("ovr_cum", (n + 1,), self.cum_dtype)
        ranked = ws.get("ovr_ranked", (n,), np.uint8)
        cum[0] = 0
        for r in range(k):
            row = w[r]
            for c in range(self.n_classes):
                start, stop = self.bounds[c], self.bounds[c + 1]
                if start == stop:
                    continue
                perm = self.perm[c]
                ordered = row if perm is None else np.take(row, perm, out=ranked)
                np.cumsum(ordered, dtype=self.cum_dtype, out=cum[1:])
                below = ws.get("ovr_below", (stop - start,), self.cum_dtype)
                np.take(cum, self.lo[c], out=below)
                w_pos = row[start:stop]
                hi = self.hi[c]
                if hi is not None:  # sum w (C[lo] + C[hi])
                    above = ws.get("ovr_above", (stop - start,), self.cum_dtype)
                    np.take(cum, hi, out=above)
                    total = int(np.einsum("i,i->", w_pos, below, dtype=np.int64))
                    twice[r, c] = total + int(np.einsum("i,i->", w_pos, above, dtype=np.int64))
                    continue
                total = 2 * int(np.einsum("i,i->", w_pos, below, dtype=np.int64))
                total += int(np.einsum("i,i->", w_pos, w_pos, dtype=np.int64))
                tied = self.tied[c]
                if tied.size:
                    w_tied = w_pos[tied].astype(np.int64)
                    spread = cum[self.tied_hi[c]] - below[tied] - w_tied
                    total += int(np.einsum("i,i->", w_tied, spread, dtype=np.int64))
                twice[r, c] = total
        own = per_class.astype(np.int64)
        return (twice - own * own).astype(np.float64) / 2.0
