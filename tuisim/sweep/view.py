"""`SweepResults`: the results of a sweep so far, as arrays over its grid.

Thread-safe: the thread running the sweep adds results while another (the app's
interface) reads snapshots. Every reader returns new arrays; a cell that has no
result yet is NaN, a cell whose runs diverged may be inf (train_loss).
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from .grid import Grid, GridAxis
from .tasks import FAILED, LOST, OK, Result

PENDING = 0
_CODES = {OK: 1, FAILED: 2, LOST: 3}


class SweepResults:
    def __init__(self, grid: Grid):
        self.grid = grid
        shape = grid.shape + (len(grid.seeds),)
        self._values = np.full(shape, np.nan)
        self._status = np.zeros(shape, dtype=np.int8)
        self._diverged = np.zeros(shape, dtype=bool)
        self._seed_index = {s: k for k, s in enumerate(grid.seeds)}
        self._lock = threading.Lock()
        self.results: list[Result] = []  # in arrival order

    def add(self, r: Result) -> None:
        where = tuple(r.cell) + (self._seed_index[r.seed],)
        with self._lock:
            self._status[where] = _CODES[r.status]
            self._values[where] = r.value if r.status == OK else np.nan
            self._diverged[where] = r.diverged
            self.results.append(r)

    # ---------------------------------------------------------------- per cell
    def values(self) -> np.ndarray:
        """(*grid.shape, seeds): every run's measure (NaN: not done, failed or lost)."""
        with self._lock:
            return self._values.copy()

    def means(self) -> np.ndarray:
        """grid.shape: the mean over the seeds done so far; NaN where none is."""
        v = self.values()
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(v, axis=-1)

    def spread(self) -> np.ndarray:
        """grid.shape: the standard deviation over seeds (n - 1); NaN with fewer than 2."""
        v = self.values()
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            s = np.nanstd(v, axis=-1, ddof=1)
        s[self.counts() < 2] = np.nan
        return s

    def counts(self) -> np.ndarray:
        """grid.shape: runs done with a value (status ok)."""
        with self._lock:
            return (self._status == _CODES[OK]).sum(axis=-1)

    def failures(self) -> np.ndarray:
        """grid.shape: runs that failed or were lost."""
        with self._lock:
            return (self._status >= _CODES[FAILED]).sum(axis=-1)

    def missing(self) -> np.ndarray:
        """grid.shape: runs not done yet (neither a result nor a failure)."""
        with self._lock:
            return (self._status == PENDING).sum(axis=-1)

    def diverged(self) -> np.ndarray:
        """grid.shape: runs that diverged."""
        with self._lock:
            return (self._diverged & (self._status == _CODES[OK])).sum(axis=-1)

    # ---------------------------------------------------------------- progress
    @property
    def done(self) -> int:
        """Runs finished (any status)."""
        with self._lock:
            return int((self._status != PENDING).sum())

    @property
    def failed(self) -> int:
        with self._lock:
            return int((self._status >= _CODES[FAILED]).sum())

    @property
    def total(self) -> int:
        return int(self._status.size)

    # ---------------------------------------------------------------- shapes to draw
    def heatmap(self, variant: str | None = None) -> tuple[GridAxis, GridAxis, np.ndarray]:
        """(x axis, y axis, Z) of a 2-D sweep (two axes of [sweep]) for one variant: Z[row, col] is
        the mean at (y.values[row], x.values[col]); the first axis runs across, the second down."""
        axes = self.grid.explicit_axes
        if len(axes) != 2:
            raise ValueError(f"a heatmap needs two axes; this sweep has {len(axes)}")
        m = self._for_variant(self.means(), variant)
        return axes[0], axes[1], m.T.copy()

    def curves(self) -> tuple[GridAxis, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(x axis, {variant: means}, {variant: spread}) of a 1-D sweep: one curve per variant."""
        axes = self.grid.explicit_axes
        if len(axes) != 1:
            raise ValueError(f"curves need one axis; this sweep has {len(axes)}")
        means, spread = self.means(), self.spread()
        return (axes[0], {v: self._for_variant(means, v) for v in self.grid.variants},
                {v: self._for_variant(spread, v) for v in self.grid.variants})

    def _for_variant(self, a: np.ndarray, variant: str | None) -> np.ndarray:
        k = self.grid.axis_index("variant")
        if k is None:
            return a
        label = variant if variant is not None else self.grid.variants[0]
        return np.take(a, self.grid.variants.index(label), axis=k)
