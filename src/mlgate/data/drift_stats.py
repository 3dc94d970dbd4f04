"""Drift statistics for many columns at once: KS, PSI and Jensen-Shannon (numeric), chi-squared,
PSI and Jensen-Shannon (categorical).

Why not ``scipy.stats.ks_2samp`` per column: it sorts both samples (O(n log n)) and then
binary-searches 2n values, which costs seconds per column at 10 million rows. Here each numeric
column is reduced once to a histogram on a grid of edges taken from the *reference alone*
(:class:`NumericReference`), and every statistic is then computed for all columns together
from a zero-padded 2-D matrix of histograms. Because the grid depends on the reference only,
the reference's half can be computed once and saved (:mod:`mlgate.data.reference_profile`): a
drift run with a saved profile bins only the current data, and a run without one builds the
same profile in memory first, so both give the same numbers.

Histogram layout. For edges ``e_0 < ... < e_{m-1}`` a column is counted in ``2m + 1`` cells:
values strictly inside each open interval (``x < e_0``, ``e_{k-1} < x < e_k``, ``x > e_{m-1}``)
and values exactly on each edge, interleaved (``inside_0, on_0, inside_1, ..., inside_m``). A
value's cell is ``searchsorted(e, x, 'left') + searchsorted(e, x, 'right')``. The cumulative sum
of this histogram is the empirical CDF at every edge and just below it.

Binning a value normally needs binary searches (``np.searchsorted``), which are branchy and
slow. Instead a value is first mapped by arithmetic to one of up to ``CELLS`` equal-width
cells; a look-up table gives the answer for every cell that contains no edge, a value in a cell
with one edge (a few per cent of them) needs two comparisons, and only values in cells holding
several edges are binary-searched. Because the cell map
is monotone, the result equals ``searchsorted`` exactly. Columns are processed in chunks that
stay in the CPU cache, on up to 4 threads (numpy releases the GIL).

Grid. A reference with at most ``exact_limit`` finite values has every distinct value as an
edge; a larger one has ``fine_bins + 1`` quantiles of a 100,000-value random subsample plus its
deciles, minimum and maximum. A reference with no value strictly between edges (small, or with
few distinct values: counts, ratings) is *exact*: its histogram can be refined without loss, so
the current data's own distinct values (at most ``exact_limit`` of them) or subsample quantiles
are added to the grid.

Exactness. The reported ``ks`` is the largest CDF difference at the edges and just below them;
the true KS statistic lies between it and the largest difference the two CDFs can reach inside
one interval, ``ks + ks_resolution`` (computed from the two histograms: a rigorous bound, 0 when
neither sample has values strictly between edges, about 1/``fine_bins`` for continuous data).
So KS is exact when both samples have at most ``exact_limit`` values, and for discrete columns.
The KS p-value is ``ks_2samp(method="asymp")``'s (``kstwo.sf(D, round(n*m/(n+m)))``) up to an
effective size of 10,000, and the limiting Kolmogorov distribution above it.
PSI uses ten reference-decile bins (Evidently's and most credit-risk practice; deciles of the
subsample above 100,000 values), Jensen-Shannon the same bins with base-2 logarithms (0..1).
Empty bins are floored at ``EPS`` so disjoint data give a large but finite PSI.
Non-finite values (NaN, +-inf) are counted apart and left out of every statistic.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

EPS = 1e-4
CELLS = 1 << 18
CHUNK = 1 << 16
FINE_BINS = 2000
PSI_BINS = 10
SAMPLE = 100_000
EXACT_LIMIT = 50_000
ASYMP_N = 10_000
REFERENCE_SEED = 0  # the reference's subsample (grid)
CURRENT_SEED = 1  # the current data's (refining an exact reference's grid)


@dataclass
class NumericReference:
    """The reference's half of a numeric column's statistics (see the module docstring).

    ``counts`` is the interleaved histogram on ``edges`` (``2 * len(edges) + 1`` cells);
    ``rows`` counts every value, ``nulls`` the NaN among them, ``nonfinite`` the +-inf.
    """

    edges: np.ndarray
    counts: np.ndarray
    deciles: np.ndarray
    rows: int
    nulls: int
    nonfinite: int

    @property
    def n(self) -> int:
        """Finite values."""
        return int(self.counts.sum())

    @property
    def exact(self) -> bool:
        """Every finite value lies on an edge, so the grid can be refined without loss."""
        return not self.counts[0::2].any()

    @property
    def minimum(self) -> float:
        return float(self.edges[0])

    @property
    def maximum(self) -> float:
        return float(self.edges[-1])


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
    nulls_cur: np.ndarray  # NaN in the current data
    nonfinite_cur: np.ndarray  # +-inf in the current data
    outside_cur: np.ndarray  # finite current values below the reference minimum or above its max


@dataclass
class CategoricalDrift:
    psi: np.ndarray
    js: np.ndarray
    chi2: np.ndarray
    chi2_pvalue: np.ndarray
    n_ref: np.ndarray
    n_cur: np.ndarray


@dataclass
class Binned:
    """Both sides of one numeric column on one grid, and the current side's extras."""

    ref: np.ndarray  # interleaved histograms on the same grid
    cur: np.ndarray
    starts: np.ndarray  # cell where each PSI (decile) bin starts
    nulls: int
    nonfinite: int
    outside: int


def finite(values: np.ndarray) -> np.ndarray:
    """The finite values of a float array, without copying when all are finite."""
    mask = np.isfinite(values)
    return values if mask.all() else values[mask]


def reference_stats(values: np.ndarray, fine_bins: int = FINE_BINS,
                    exact_limit: int = EXACT_LIMIT) -> NumericReference | None:
    """The reference half of a float64 column (NaN for missing); None without finite values."""
    clean = finite(values)
    if not len(clean):
        return None
    nulls = int(np.isnan(values).sum()) if len(clean) < len(values) else 0
    sample = np.sort(_sample(clean, SAMPLE, np.random.default_rng(REFERENCE_SEED)))
    edges, deciles = reference_grid(sample, len(clean), float(clean.min()), float(clean.max()),
                                    fine_bins, exact_limit)
    counts, _, _ = _Binner(edges, len(clean)).histogram(clean)
    return NumericReference(edges, counts, deciles, len(values), nulls,
                            len(values) - len(clean) - nulls)


def reference_grid(sample: np.ndarray, n: int, low: float, high: float,
                   fine_bins: int = FINE_BINS, exact_limit: int = EXACT_LIMIT
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Edges and PSI deciles of a reference column with ``n`` finite values from ``low`` to
    ``high``, given its sorted subsample (every finite value when ``n <= SAMPLE``: see
    :func:`sample_positions`). One function for every engine that profiles a reference, so
    a grid depends on the values only, never on who counted them."""
    deciles = np.unique(_quantiles(sample, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
    if n <= exact_limit:
        return np.unique(np.concatenate([sample, deciles])), deciles
    return np.unique(np.concatenate([
        _quantiles(sample, np.linspace(0, 1, fine_bins + 1)), deciles, [low, high]])), deciles


def sample_positions(n: int, seed: int, size: int = SAMPLE) -> np.ndarray | None:
    """Which of ``n`` finite values (in data order) the subsample takes: None for all of
    them. Positions, not values, so that an engine that cannot hold the column (Spark) can
    fetch the very same subsample."""
    if n <= size:
        return None
    return np.random.default_rng(seed).integers(0, n, size=size)


def numeric_drift(
    reference: Sequence[np.ndarray | NumericReference],
    current: Sequence[np.ndarray],
    fine_bins: int = FINE_BINS,
    exact_limit: int = EXACT_LIMIT,
    workers: int | None = None,
) -> NumericDrift:
    """Statistics for pairs of columns: the reference as float64 values or as its saved
    :class:`NumericReference`, the current data as float64 values (NaN for missing). Each
    side needs at least one finite value."""
    def one(pair: tuple[np.ndarray | NumericReference, np.ndarray]) -> Binned:
        ref = pair[0]
        if not isinstance(ref, NumericReference):
            built = reference_stats(ref, fine_bins, exact_limit)
            if built is None:
                raise ValueError("reference column without finite values")
            ref = built
        return _bin_current(ref, pair[1], fine_bins, exact_limit)

    pairs = list(zip(reference, current, strict=True))
    threads = workers or min(len(pairs), os.cpu_count() or 1, 4) or 1
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            binned = list(pool.map(one, pairs))
    else:
        binned = [one(p) for p in pairs]
    return drift_from_histograms(binned)


def drift_from_histograms(binned: Sequence[Binned]) -> NumericDrift:
    """Every numeric statistic from the two histograms of each column on its grid. The one
    place the formulas live: the pandas engine bins with numpy, the Spark engine in the JVM,
    and both end here."""
    n_ref = np.array([b.ref.sum() for b in binned], dtype=np.float64)
    n_cur = np.array([b.cur.sum() for b in binned], dtype=np.float64)
    fine_r, fine_c = _pad([b.ref for b in binned]), _pad([b.cur for b in binned])
    cdf_r = np.cumsum(fine_r, axis=1) / n_ref[:, None]
    cdf_c = np.cumsum(fine_c, axis=1) / n_cur[:, None]
    ks = np.abs(cdf_r - cdf_c).max(axis=1)
    # Inside interval k (cell 2k) each CDF runs from its value after the previous edge cell
    # to its value after cell 2k: the difference cannot leave that box.
    before_r = np.concatenate([np.zeros((len(binned), 1)), cdf_r[:, 1::2]], axis=1)
    before_c = np.concatenate([np.zeros((len(binned), 1)), cdf_c[:, 1::2]], axis=1)
    upper = np.maximum(cdf_r[:, 0::2] - before_c, cdf_c[:, 0::2] - before_r).max(axis=1)
    coarse_r = _pad([np.add.reduceat(b.ref, b.starts) for b in binned])
    coarse_c = _pad([np.add.reduceat(b.cur, b.starts) for b in binned])
    return NumericDrift(
        ks=ks,
        ks_pvalue=ks_pvalue(ks, n_ref, n_cur),
        ks_resolution=np.clip(upper - ks, 0.0, None),
        psi=psi(coarse_r, coarse_c),
        js=jensen_shannon(coarse_r, coarse_c),
        n_ref=n_ref,
        n_cur=n_cur,
        nulls_cur=np.array([b.nulls for b in binned], dtype=np.int64),
        nonfinite_cur=np.array([b.nonfinite for b in binned], dtype=np.int64),
        outside_cur=np.array([b.outside for b in binned], dtype=np.int64),
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
    from scipy.special import chdtrc  # chi2.sf, without importing scipy.stats (seconds)

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
    pvalue = np.where((totals > 0).sum(axis=1) > 1, chdtrc(dof, stat), 1.0)
    return stat, pvalue


def ks_pvalue(ks: np.ndarray, n_ref: np.ndarray, n_cur: np.ndarray) -> np.ndarray:
    """Asymptotic two-sided p-value of the two-sample KS statistic (scipy's 'asymp' mode)."""
    from scipy.special import kolmogorov  # kstwobign.sf

    en = np.maximum(np.round(n_ref * n_cur / (n_ref + n_cur)), 1)
    # kstwo (exact Kolmogorov distribution for n = en) costs ~0.2 s per column for large n;
    # above ASYMP_N the limiting distribution is within O(1/sqrt(n)) of it. Only the small
    # case imports scipy.stats, whose import alone costs 1-4 s of CPU.
    small = en <= ASYMP_N
    out = np.empty_like(np.asarray(ks, dtype=np.float64))
    if small.any():
        from scipy.stats import kstwo

        out[small] = kstwo.sf(ks[small], en[small])
    out[~small] = kolmogorov(ks[~small] * np.sqrt(en[~small]))
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
    return values[rng.integers(0, len(values), size=size)]  # as sample_positions


def _bin_current(ref: NumericReference, values: np.ndarray, fine_bins: int,
                 exact_limit: int) -> Binned:
    """The current column's histogram on the reference's grid (refined when that is exact)."""
    extra = None
    if ref.exact:
        clean = finite(values)
        sample = (clean if len(clean) <= exact_limit
                  else np.sort(_sample(clean, SAMPLE, np.random.default_rng(CURRENT_SEED))))
        extra = refinement(sample, len(clean), fine_bins, exact_limit)
    edges, ref_counts = current_grid(ref, extra)
    counts, nulls, nonfinite = _Binner(edges, len(values)).histogram(values)
    return binned(ref, edges, ref_counts, counts, nulls, nonfinite)


def refinement(sample: np.ndarray, n: int, fine_bins: int = FINE_BINS,
               exact_limit: int = EXACT_LIMIT) -> np.ndarray:
    """Edges to add to an exact reference's grid from the current column's finite values
    (``n <= exact_limit``: all of them, in any order) or its sorted subsample
    (:func:`sample_positions` with ``CURRENT_SEED``)."""
    if n <= exact_limit:
        return np.unique(sample)
    return _quantiles(sample, np.linspace(0, 1, fine_bins + 1))


def current_grid(ref: NumericReference, extra: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The grid the current column is counted on, and the reference's histogram on it: the
    reference's own, or, for an exact reference, refined with ``extra`` edges (every
    reference value is an edge, so its counts move to the finer grid unchanged)."""
    edges, ref_counts = ref.edges, ref.counts
    if extra is not None and ref.exact:
        refined = np.union1d(edges, extra)
        if len(refined) > len(edges):
            moved = np.zeros(2 * len(refined) + 1, dtype=np.int64)
            moved[2 * np.searchsorted(refined, edges) + 1] = ref_counts[1::2]
            edges, ref_counts = refined, moved
    return edges, ref_counts


def binned(ref: NumericReference, edges: np.ndarray, ref_counts: np.ndarray,
           counts: np.ndarray, nulls: int, nonfinite: int) -> Binned:
    """Both histograms of a column on the grid ``edges`` (:func:`current_grid`), with what
    the statistics need besides: the PSI bins' first cells and the values outside the
    reference's range (below its minimum or above its maximum: the cells before its
    minimum's edge cell and after its maximum's)."""
    lo = 2 * int(np.searchsorted(edges, ref.minimum)) + 1  # the reference minimum's edge cell
    hi = 2 * int(np.searchsorted(edges, ref.maximum)) + 1
    outside = int(counts[:lo].sum() + counts[hi + 1:].sum())
    # PSI bin j >= 1 starts at the edge cell of decile j (bins are [d_{j-1}, d_j)).
    starts = np.concatenate([[0], 2 * np.searchsorted(edges, ref.deciles) + 1])
    return Binned(ref_counts, counts, starts.astype(np.intp), nulls, nonfinite, outside)


def _quantiles(sorted_values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``np.quantile(values, levels)`` (linear method) on already sorted values."""
    pos = levels * (len(sorted_values) - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, len(sorted_values) - 1)
    return np.asarray(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


class _Binner:
    """Interleaved histogram (``searchsorted(e, x, 'left') + searchsorted(e, x, 'right')``)
    by cell look-up: a cell without an edge gives the answer, a cell with one edge needs two
    comparisons, and only values in cells with several edges are binary-searched."""

    def __init__(self, edges: np.ndarray, values: int = 1 << 30) -> None:
        self.edges = np.asarray(edges, dtype=np.float64)
        m = len(self.edges)
        # Fewer cells for fewer values: building the table must not cost more than it saves.
        self.cells = int(min(CELLS, max(1024, 1 << max(values // 8, 1).bit_length())))
        # The cell grid spans the central 99% of the edges (quantiles of the reference for a
        # large one); the tails go to binary search.
        lo = float(self.edges[int(0.005 * (m - 1))])
        hi = float(self.edges[int(np.ceil(0.995 * (m - 1)))])
        self.lo = lo
        self.scale = self.cells / (hi - lo) if hi > lo else 0.0
        self.offset = 1.0 - lo * self.scale  # x -> x * scale + offset: lo maps to cell 1
        per_cell = np.bincount(self._cells(self.edges.copy()), minlength=self.cells + 2)
        left = np.cumsum(per_cell) - per_cell  # edges in earlier cells
        # No edge in the cell: every value in it lies strictly between edges left-1 and left
        # (cell 2 * left). One edge: -1, compare with edges[left]. Several: -2, search.
        self.table = np.where(per_cell == 0, 2 * left,
                              np.where(per_cell == 1, -1, -2)).astype(np.int32)
        self.first = np.minimum(left, m - 1).astype(np.int32)

    def _cells(self, values: np.ndarray) -> np.ndarray:
        # The same float operations for edges and values keep the map monotone (in place):
        # a multiplication and an addition, each rounding monotonically.
        with np.errstate(over="ignore"):  # huge values overflow to inf: clipped below
            values *= self.scale
        values += self.offset
        np.clip(values, 0.0, self.cells + 1.0, out=values)
        return values.astype(np.int32)

    def histogram(self, values: np.ndarray) -> tuple[np.ndarray, int, int]:
        """Counts of the finite values (``2m + 1`` cells), NaN count, +-inf count."""
        size = 2 * len(self.edges) + 1
        counts = np.zeros(size, dtype=np.int64)
        nulls = nonfinite = 0
        buffer = np.empty(min(CHUNK, len(values)), dtype=np.float64)
        for start in range(0, len(values), CHUNK):
            chunk = values[start:start + CHUNK]
            ok = np.isfinite(chunk)
            if not ok.all():
                bad = chunk[~ok]
                n_nan = int(np.isnan(bad).sum())
                nulls += n_nan
                nonfinite += len(bad) - n_nan
                chunk = chunk[ok]
            work = buffer[:len(chunk)]
            with np.errstate(over="ignore"):
                np.multiply(chunk, self.scale, out=work, dtype=np.float64, casting="unsafe")
            work += self.offset
            np.clip(work, 0.0, self.cells + 1.0, out=work)
            cells = work.astype(np.int32)
            code = self.table[cells]
            near = np.flatnonzero(code < 0)
            if near.size:
                code[near] = self._resolve(chunk[near], cells[near], code[near])
            counts += np.bincount(code, minlength=size)
        return counts, nulls, nonfinite

    def _resolve(self, x: np.ndarray, cells: np.ndarray, code: np.ndarray) -> np.ndarray:
        k = self.first[cells]
        edge = self.edges[k]
        out = 2 * k + (x >= edge) + (x > edge)
        many = np.flatnonzero(code == -2)
        if many.size:
            y = x[many]
            out[many] = (np.searchsorted(self.edges, y, side="left")
                         + np.searchsorted(self.edges, y, side="right"))
        return out
