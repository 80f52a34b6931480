"""`History`: one variant's recorded steps, stored by column in growing numpy arrays.

The run loop appends; the app, the writers and the expectation checks read. Per-layer
columns are (records, layers) arrays; scalar columns are 1-D. Test metrics are NaN on
steps where the test set was not evaluated.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from tuisim.core.registry import LAYER_FIELDS  # not core.stats: reading a History needs no numba

if TYPE_CHECKING:
    from tuisim.core.stats import StepTrace

SCALAR_FIELDS = ("step", "loss", "accuracy", "test_loss", "test_accuracy", "lr", "grad_total_norm", "diverged")


class History:
    def __init__(self, layers: int, capacity: int = 256, histogram_bins: int = 0):
        self.layers = layers
        self.n = 0
        self._cap = max(16, capacity)
        self.scalars = {f: np.full(self._cap, np.nan) for f in SCALAR_FIELDS}
        self.per_layer = {f: np.full((self._cap, layers), np.nan) for f in LAYER_FIELDS}
        self.histogram_bins = histogram_bins
        # the latest histograms only (they are large): (layers, bins)
        self.act_hist: np.ndarray | None = None
        self.grad_hist: np.ndarray | None = None
        self.hist_step = -1  # the step they were taken at

    def _grow(self) -> None:
        cap = self._cap * 2
        for f, a in self.scalars.items():
            b = np.full(cap, np.nan)
            b[:self.n] = a[:self.n]
            self.scalars[f] = b
        for f, a in self.per_layer.items():
            b = np.full((cap, self.layers), np.nan)
            b[:self.n] = a[:self.n]
            self.per_layer[f] = b
        self._cap = cap

    def extend(self, trace: StepTrace, rows=None, test: tuple[float, float] | None = None) -> None:
        """Append rows of a `StepTrace` (all by default), with the test evaluations it
        holds; `test`, when given, is the evaluation before the trace's first step, and is
        kept when that step is among the rows."""
        rows = np.arange(len(trace)) if rows is None else np.asarray(rows, dtype=np.int64)
        k = len(rows)
        if not k:
            return
        while self.n + k > self._cap:
            self._grow()
        i, j = self.n, self.n + k
        sc = self.scalars
        for f in ("step", "loss", "accuracy", "lr", "grad_total_norm"):
            sc[f][i:j] = getattr(trace, f)[rows]
        sc["diverged"][i:j] = trace.diverged[rows]
        sc["test_loss"][i:j] = trace.test_loss[rows]
        sc["test_accuracy"][i:j] = trace.test_accuracy[rows]
        if test is not None and rows[0] == 0:
            sc["test_loss"][i], sc["test_accuracy"][i] = test
        for f in LAYER_FIELDS:
            self.per_layer[f][i:j] = getattr(trace, f)[rows]
        if trace.act_hist is not None and rows[-1] == len(trace) - 1:
            self.act_hist = trace.act_hist
            self.grad_hist = trace.grad_hist
            self.hist_step = int(trace.step[-1])
        self.n = j  # last: readers in other threads see whole records only

    def set_test(self, test: tuple[float, float]) -> None:
        """Attach a test evaluation to the latest record."""
        if self.n:
            self.scalars["test_loss"][self.n - 1], self.scalars["test_accuracy"][self.n - 1] = test

    def column(self, name: str) -> np.ndarray:
        """A view of the recorded values of one column."""
        if name in self.scalars:
            return self.scalars[name][:self.n]
        return self.per_layer[name][:self.n]

    def steps(self) -> np.ndarray:
        return self.scalars["step"][:self.n].astype(np.int64)

    def index_at(self, step: int) -> int:
        """Index of the last record at or before `step` (0 when there is none)."""
        st = self.steps()
        k = int(np.searchsorted(st, step, side="right")) - 1
        return max(k, 0)

    def last_test(self) -> tuple[float, float]:
        tl = self.scalars["test_loss"][:self.n]
        ok = np.flatnonzero(~np.isnan(tl))
        if not len(ok):
            return math.nan, math.nan
        k = ok[-1]
        return float(tl[k]), float(self.scalars["test_accuracy"][k])

    def record(self, i: int) -> dict:
        """Record i as a JSON-ready dict (NaN and inf become None)."""
        d = {}
        for f in SCALAR_FIELDS:
            v = float(self.scalars[f][i])
            d[f] = v
        d["step"] = int(d["step"])
        d["diverged"] = bool(d["diverged"])
        for f in LAYER_FIELDS:
            d[f] = self.per_layer[f][i].tolist()
        return clean(d)


def clean(obj):
    """NaN and infinities to None, recursively (JSON has no such numbers)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clean(v) for v in obj]
    return obj
