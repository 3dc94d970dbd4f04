"""Drift statistics for many columns at once: KS, PSI and Jensen-Shannon (numeric), chi-squared,
PSI and Jensen-Shannon (categorical).

Why not ``scipy.stats.ks_2samp`` per column: it sorts both samples (O(n log n)) and then
binary-searches 2n values, which costs seconds per column at 10 million rows. Here each numeric
column is reduced once to a histogram on a shared grid of quantile edges (a few thousand of
them, taken from subsamples of both data sets), and every statistic is then computed for all
columns together from a zero-padded 2-D matrix of histograms.

Binning a value normally needs a binary search over the edges (``np.searchsorted``), which is
branchy and slow. Instead a value is first mapped by arithmetic to one of 65,536 equal-width
cells; a look-up table gives the exact bin for every cell that contains no edge, and only
values that fall in a cell holding an edge (a few per cent) are binary-searched. Because the
cell map is monotone, the result equals ``searchsorted`` exactly.

Exactness: when both samples together have at most ``exact_limit`` values the edges are all
their distinct values and the KS statistic is exact. Otherwise it is evaluated at the grid
edges, and the error is at most the largest share of either sample strictly between two
adjacent edges (about 2/``fine_bins``, reported as ``ks_resolution``); data with few distinct
values (counts, ratings) stay exact because every distinct value becomes an edge. The KS
p-value is ``ks_2samp(method="asymp")``'s (``kstwo.sf(D, round(n*m/(n+m)))``) up to an
effective size of 10,000, and the limiting Kolmogorov distribution above it.
PSI uses ten reference-decile bins (Evidently's and most credit-risk practice), Jensen-Shannon
the same bins with base-2 logarithms (0..1). Empty bins are floored at ``EPS`` so disjoint data
give a large but finite PSI.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

EPS = 1e-4
CELLS = 1 << 16
FINE_BINS = 2000
PSI_BINS = 10
SAMPLE = 100_000
EXACT_LIMIT = 50_000
ASYMP_N = 10_000


@dataclass
class NumericDrift:
    """Per-column statistics, each an array aligned with the input columns."""

    ks: np.ndarray
    ks_pvalue: np.ndarray
    ks_resolution: np.ndarray
    psi: np.ndarray
    js: np.ndarray
    n_ref: np.ndarray
    n_cur: np.ndarray


@dataclass
class CategoricalDrift:
    psi: np.ndarray
    js: np.ndarray
    chi2: np.ndarray
    chi2_pvalue: np.ndarray
    n_ref: np.ndarray
    n_cur: np.ndarray


@dataclass
class _Binned:
    ref: np.ndarray  # fine-bin counts, len(edges) + 1
    cur: np.ndarray
    starts: np.ndarray  # fine-bin index where each PSI (decile) bin starts
    resolution: float


def finite(values: np.ndarray) -> np.ndarray:
    """The finite values of a float array, without copying when all are finite."""
    mask = np.isfinite(values)
    return values if mask.all() else values[mask]


def numeric_drift(
    reference: Sequence[np.ndarray],
    current: Sequence[np.ndarray],
    fine_bins: int = FINE_BINS,
    exact_limit: int = EXACT_LIMIT,
    workers: int | None = None,
) -> NumericDrift:
    """Statistics for pairs of finite float64 arrays (one pair per column; none may be empty)."""
    pairs = list(zip(reference, current, strict=True))
    threads = workers or min(len(pairs), os.cpu_count() or 1, 4) or 1
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            binned = list(pool.map(lambda p: _bin_pair(p[0], p[1], fine_bins, exact_limit),
                                   pairs))
    else:
        binned = [_bin_pair(r, c, fine_bins, exact_limit) for r, c in pairs]
    n_ref = np.array([b.ref.sum() for b in binned], dtype=np.float64)
    n_cur = np.array([b.cur.sum() for b in binned], dtype=np.float64)
    fine_r, fine_c = _pad([b.ref for b in binned]), _pad([b.cur for b in binned])
    ks = np.abs(np.cumsum(fine_r, axis=1) / n_ref[:, None]
                - np.cumsum(fine_c, axis=1) / n_cur[:, None]).max(axis=1)
    coarse_r = _pad([np.add.reduceat(b.ref, b.starts) for b in binned])
    coarse_c = _pad([np.add.reduceat(b.cur, b.starts) for b in binned])
    return NumericDrift(
        ks=ks,
        ks_pvalue=ks_pvalue(ks, n_ref, n_cur),
        ks_resolution=np.array([b.resolution for b in binned]),
        psi=psi(coarse_r, coarse_c),
        js=jensen_shannon(coarse_r, coarse_c),
        n_ref=n_ref,
        n_cur=n_cur,
    )


def categorical_drift(reference: np.ndarray, current: np.ndarray) -> CategoricalDrift:
    """Statistics from aligned count matrices (columns x categories, zero-padded)."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    stat, pvalue = chi2_homogeneity(ref, cur)
    return CategoricalDrift(psi=psi(ref, cur), js=jensen_shannon(ref, cur), chi2=stat,
                            chi2_pvalue=pvalue, n_ref=ref.sum(axis=1), n_cur=cur.sum(axis=1))


def psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> np.ndarray:
    """Population stability index per row of two count matrices (bins empty in both skipped)."""
    used = (ref_counts + cur_counts) > 0
    p = np.clip(_shares(ref_counts), EPS, None)
    q = np.clip(_shares(cur_counts), EPS, None)
    terms = np.where(used, (q - p) * np.log(q / p), 0.0)
    return np.asarray(terms.sum(axis=1))


def jensen_shannon(ref_counts: np.ndarray, cur_counts: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (base 2, in [0, 1]) per row, as scipy's ``jensenshannon``."""
    p, q = _shares(ref_counts), _shares(cur_counts)
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum(axis=1)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=1)
    return np.asarray(np.sqrt(np.clip((kl_p + kl_q) / 2.0, 0.0, None)))


def chi2_homogeneity(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson chi-squared test of a 2 x K table per row (no Yates correction)."""
    from scipy.stats import chi2

    totals = ref + cur
    n_r = ref.sum(axis=1, keepdims=True)
    n_c = cur.sum(axis=1, keepdims=True)
    grand = n_r + n_c
    exp_r = totals * n_r / grand
    exp_c = totals * n_c / grand
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = np.where(totals > 0,
                         (ref - exp_r) ** 2 / exp_r + (cur - exp_c) ** 2 / exp_c, 0.0)
    stat = cells.sum(axis=1)
    dof = np.maximum((totals > 0).sum(axis=1) - 1, 1)
    pvalue = np.where((totals > 0).sum(axis=1) > 1, chi2.sf(stat, dof), 1.0)
    return stat, pvalue


def ks_pvalue(ks: np.ndarray, n_ref: np.ndarray, n_cur: np.ndarray) -> np.ndarray:
    """Asymptotic two-sided p-value of the two-sample KS statistic (scipy's 'asymp' mode)."""
    from scipy.stats import kstwo, kstwobign

    en = np.maximum(np.round(n_ref * n_cur / (n_ref + n_cur)), 1)
    # kstwo (exact Kolmogorov distribution for n = en) costs ~0.2 s per column for large n;
    # above ASYMP_N the limiting distribution is within O(1/sqrt(n)) of it.
    small = en <= ASYMP_N
    out = np.empty_like(np.asarray(ks, dtype=np.float64))
    out[small] = kstwo.sf(ks[small], en[small])
    out[~small] = kstwobign.sf(ks[~small] * np.sqrt(en[~small]))
    return np.asarray(np.clip(out, 0.0, 1.0))


def _shares(counts: np.ndarray) -> np.ndarray:
    totals = counts.sum(axis=1, keepdims=True)
    return np.asarray(counts / np.where(totals > 0, totals, 1.0))


def _pad(rows: list[np.ndarray]) -> np.ndarray:
    width = max(len(r) for r in rows)
    out = np.zeros((len(rows), width), dtype=np.float64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def _sample(values: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    if len(values) <= size:
        return values
    return values[rng.integers(0, len(values), size=size)]


def _bin_pair(ref: np.ndarray, cur: np.ndarray, fine_bins: int, exact_limit: int) -> _Binned:
    rng = np.random.default_rng(0)
    # Sorted subsamples: quantiles and the KS error bound then cost a few binary searches.
    r_sample = np.sort(_sample(ref, SAMPLE, rng))
    c_sample = np.sort(_sample(cur, SAMPLE, rng))
    deciles = _quantiles(r_sample, np.linspace(0, 1, PSI_BINS + 1)[1:-1])
    exact = len(ref) + len(cur) <= exact_limit
    if exact:
        edges = np.unique(np.concatenate([ref, cur, deciles]))
    else:
        levels = np.linspace(0, 1, fine_bins + 1)
        edges = np.unique(np.concatenate([
            _quantiles(r_sample, levels), _quantiles(c_sample, levels), deciles,
            [ref.min(), ref.max(), cur.min(), cur.max()],
        ]))
    binner = _Binner(edges, r_sample, c_sample)
    ref_counts, cur_counts = binner.counts(ref), binner.counts(cur)
    # PSI bin j starts at the fine bin just after the decile edge (bins are [e[k-1], e[k])).
    starts = np.concatenate([[0], np.searchsorted(edges, np.unique(deciles)) + 1])
    resolution = 0.0 if exact else max(_gap_share(edges, r_sample), _gap_share(edges, c_sample))
    return _Binned(ref_counts, cur_counts, starts.astype(np.intp), resolution)


def _quantiles(sorted_values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``np.quantile(values, levels)`` (linear method) on already sorted values."""
    pos = levels * (len(sorted_values) - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, len(sorted_values) - 1)
    return np.asarray(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


def _gap_share(edges: np.ndarray, sorted_sample: np.ndarray) -> float:
    """Largest share of the sample strictly between two adjacent edges: the KS error bound."""
    left = np.searchsorted(sorted_sample, edges, side="left")
    right = np.searchsorted(sorted_sample, edges, side="right")
    between = np.concatenate([left[:1], left[1:] - right[:-1],
                              [len(sorted_sample) - right[-1]]])
    return float(between.max() / len(sorted_sample))


class _Binner:
    """``np.searchsorted(edges, x, 'right')`` by cell look-up, searching only near edges."""

    def __init__(self, edges: np.ndarray, *sorted_samples: np.ndarray) -> None:
        self.edges = edges
        # The cell grid spans the central 99% of the data; the tails go to binary search.
        lo = min(_quantiles(s, np.array([0.005]))[0] for s in sorted_samples)
        hi = max(_quantiles(s, np.array([0.995]))[0] for s in sorted_samples)
        self.lo = float(lo)
        self.scale = CELLS / float(hi - lo) if hi > lo else 0.0
        edge_cells = self._cells(edges)
        all_cells = np.arange(CELLS + 2)
        self.index = np.searchsorted(edge_cells, all_cells, side="left").astype(np.intp)
        self.exact = self.index == np.searchsorted(edge_cells, all_cells, side="right")

    def _cells(self, values: np.ndarray) -> np.ndarray:
        # The same float operations for edges and values keep the map monotone.
        t = values - self.lo
        t *= self.scale
        t += 1.0
        np.clip(t, 0.0, CELLS + 1.0, out=t)
        return t.astype(np.int32)

    def counts(self, values: np.ndarray) -> np.ndarray:
        cells = self._cells(values)
        idx = self.index[cells]
        near = np.flatnonzero(~self.exact[cells])
        del cells
        if near.size:
            idx[near] = np.searchsorted(self.edges, values[near], side="right")
        return np.bincount(idx, minlength=len(self.edges) + 1)
