"""Percentiles of |dL/dz| over time, from the engine's histograms, in a bounded series.

The engine counts each layer's log10 |dL/dz| into equal bins over [-14, 2] (the app asks
for 40: 0.4 of a decade each) and its exact zeros apart (tuisim.core.step._histogram).
`histogram_percentiles` reads percentiles off those counts: the zeros are the lowest
values (a percentile that falls among them is -inf: "=0"), and within a bin the values
are taken as spread evenly in log10. So a percentile is exact to within its bin: at most
one bin width (0.4 decade, a factor of 2.5) from the values of that rank (numpy's
percentile of the same values, or, in a gap between two modes, the values on either side
of the gap), and values beyond the range count as its end bins.

`PercentileSeries` keeps them per snapshot (the step and, per layer, the percentiles),
bounded like a History (tuisim.run.history): past `limit` snapshots, those older than the
newest quarter are thinned to one per bucket of `width` steps, `width` doubling until
they are at most half the limit; the first stays. So hours of training cost the same
memory as a minute: `limit` x layers x (percentiles + 1) float32. Readers in other
threads call `snapshot()`, which no later add changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRAD_RANGE = (-14.0, 2.0)  # the engine's (tuisim.core.step.GRAD_HIST_LO, _HI); no numba here
PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
LIMIT = 256


def histogram_percentiles(counts: np.ndarray, zeros: np.ndarray, q=PERCENTILES,
                          lo: float = GRAD_RANGE[0], hi: float = GRAD_RANGE[1]) -> np.ndarray:
    """Percentiles `q` (0-100) of log10 |v| from per-layer counts (layers, bins) over [lo,
    hi] and counts of exact zeros (layers,): (layers, len(q)); -inf where a percentile is
    an exact zero, NaN for a layer with no values."""
    counts = np.asarray(counts, dtype=np.float64)
    zeros = np.asarray(zeros, dtype=np.float64)
    layers, bins = counts.shape
    w = (hi - lo) / bins
    q = np.asarray(q, dtype=np.float64) / 100.0
    out = np.full((layers, len(q)), np.nan)
    cum = np.cumsum(counts, axis=1)
    for i in range(layers):
        nonzero = cum[i, -1]
        total = nonzero + zeros[i]
        if total <= 0:
            continue
        rank = q * total - zeros[i]  # how far into the nonzero values
        for j, r in enumerate(rank):
            if r <= 0 and zeros[i] > 0:
                out[i, j] = -np.inf
                continue
            r = min(max(r, 0.0), nonzero)
            k = min(int(np.searchsorted(cum[i], r, side="left")), bins - 1)
            before = cum[i, k - 1] if k else 0.0
            frac = (r - before) / counts[i, k] if counts[i, k] > 0 else 0.5
            out[i, j] = lo + w * (k + frac)
    return out


@dataclass(frozen=True)
class SeriesView:
    """The snapshots at one moment: steps (n,), pct (n, layers, percentiles) of log10
    |dL/dz|, zero (n, layers) the share of exact zeros."""

    steps: np.ndarray
    pct: np.ndarray
    zero: np.ndarray

    @property
    def n(self) -> int:
        return len(self.steps)


class PercentileSeries:
    def __init__(self, layers: int, limit: int = LIMIT, q=PERCENTILES):
        self.layers, self.limit, self.q = layers, max(8, limit), tuple(q)
        self.width = 1
        self._steps = np.zeros(self.limit, dtype=np.int64)
        self._pct = np.full((self.limit, layers, len(self.q)), np.nan, dtype=np.float32)
        self._zero = np.full((self.limit, layers), np.nan, dtype=np.float32)
        self._n = 0
        self._view = SeriesView(self._steps[:0], self._pct[:0], self._zero[:0])

    def snapshot(self) -> SeriesView:
        return self._view

    @property
    def n(self) -> int:
        return self._n

    def nbytes(self) -> int:
        return self._steps.nbytes + self._pct.nbytes + self._zero.nbytes

    def add(self, step: int, counts: np.ndarray, zeros: np.ndarray) -> None:
        """A snapshot of the histograms taken at `step` (a later step than the last)."""
        if self._n and step <= self._steps[self._n - 1]:
            return
        if self._n == self.limit:
            self._thin()
        i = self._n
        counts = np.asarray(counts, dtype=np.float64)
        zeros = np.asarray(zeros, dtype=np.float64)
        total = counts.sum(axis=1) + zeros
        self._steps[i] = step
        self._pct[i] = histogram_percentiles(counts, zeros, self.q)
        with np.errstate(invalid="ignore", divide="ignore"):
            self._zero[i] = np.where(total > 0, zeros / np.maximum(total, 1), np.nan)
        self._n = i + 1
        # new arrays on a thinning, else writes past the views already handed out only
        self._view = SeriesView(self._steps[:self._n], self._pct[:self._n], self._zero[:self._n])

    def _thin(self) -> None:
        from .history import bucket_choice  # here: history imports this module

        n = self._n
        fixed = n - self.limit // 4  # the newest quarter stays
        steps = self._steps[:fixed]
        width = self.width
        while True:
            keep = bucket_choice(steps, np.zeros(fixed, dtype=bool), width)
            if len(keep) <= self.limit // 2:
                break
            width *= 2
        self.width = width
        keep = np.concatenate([keep, np.arange(fixed, n)])
        m = len(keep)
        # new arrays: a reader may hold views of the old ones
        steps_new = np.zeros(self.limit, dtype=np.int64)
        pct_new = np.full_like(self._pct, np.nan)
        zero_new = np.full_like(self._zero, np.nan)
        steps_new[:m], pct_new[:m], zero_new[:m] = self._steps[keep], self._pct[keep], self._zero[keep]
        self._steps, self._pct, self._zero, self._n = steps_new, pct_new, zero_new, m
