"""Bootstrap row weights: how often each row is drawn in each resample, as uint8 counts.

Two engines, both filling a ``(resamples, rows)`` uint8 block from a seeded generator:

* ``multinomial`` — the classic bootstrap, exact: ``rows`` indices drawn uniformly with
  replacement per resample (``Generator.integers``, unbiased) and counted with ``bincount``.
* ``poisson`` — the Poisson bootstrap: every row's count is an independent Poisson(1) draw,
  O(1) per row with no counting pass. Numpy's own Poisson sampler costs ~10x more per element
  than the weights' other uses, so counts come from a table instead: a uniform 16-bit integer
  ``u`` (raw generator bits) maps to the smallest ``c`` with ``F(c) >= (u + 0.5) / 65536``,
  ``F`` the Poisson(1) CDF. The table's CDF is therefore ``F`` rounded to the nearest multiple
  of 1/65536: every count's probability is within 1/65536 of ``exp(-1) / c!``, the counts run
  0..8 (P(c >= 9) = 1.1e-6 rounds to 0; c = 8 gets 1/65536 instead of 9.1e-6), and the mean and
  variance are 1 within 1e-4, far below the Monte-Carlo noise of a thousand resamples.

A count is capped at 255 (uint8); a multinomial count that high has probability below 1e-400.
Raw bits are read as little-endian 16-bit words, so a seed gives the same weights on every
platform.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from mlgate.errors import InputError

METHODS = ("multinomial", "poisson")
_CHUNK = 1 << 16  # elements per table lookup: the intp copy of the indices stays in L2


@cache
def poisson_table() -> np.ndarray:
    """Inverse CDF of Poisson(1) on the 16-bit grid: entry ``u`` is the count for draw ``u``."""
    pmf = np.array([math.exp(-1.0) / math.factorial(c) for c in range(32)])
    grid = (np.arange(1 << 16) + 0.5) / (1 << 16)
    table = np.searchsorted(np.cumsum(pmf), grid).astype(np.uint8)
    table.setflags(write=False)
    return table


def fill_weights(rng: np.random.Generator, out: np.ndarray, method: str) -> None:
    """Fill the C-contiguous uint8 block ``out`` (resamples x rows) with bootstrap counts."""
    if method == "poisson":
        _fill_poisson(rng, out)
    elif method == "multinomial":
        _fill_multinomial(rng, out)
    else:
        raise InputError(f"unknown bootstrap method {method!r} (multinomial, poisson or auto)")


def weights_block(rng: np.random.Generator, k: int, n: int, method: str) -> np.ndarray:
    """``k`` resamples of ``n`` row weights (uint8 counts), freshly allocated."""
    out = np.empty((k, n), dtype=np.uint8)
    fill_weights(rng, out, method)
    return out


def _fill_poisson(rng: np.random.Generator, out: np.ndarray) -> None:
    table = poisson_table()
    flat = out.reshape(-1)
    bits = rng.bit_generator
    for start in range(0, flat.size, _CHUNK):
        size = min(_CHUNK, flat.size - start)
        raw = bits.random_raw((size + 3) // 4).astype("<u8", copy=False)
        np.take(table, raw.view("<u2")[:size], out=flat[start : start + size])


def _fill_multinomial(rng: np.random.Generator, out: np.ndarray) -> None:
    n = out.shape[1]
    for row in out:
        counts = np.bincount(rng.integers(0, n, size=n, dtype=np.int64), minlength=n)
        np.minimum(counts, 255, out=counts)
        row[:] = counts
