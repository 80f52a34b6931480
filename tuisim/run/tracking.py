"""Per-step metrics as claims and sweep measures read them, and `Tracker`s that keep a
claim's value exactly while the history it comes from is thinned (tuisim.run.history).

A per-step metric of a run is one number per recorded step (`per_step_values`); a claim
reads one value of that series (`at`): its first or last finite value, its min, max or
mean, its last value at or before a step; `steps_to_loss` reads the first step whose
loss is at or below a threshold. A `Tracker` computes it, fed the records as they stream
in (or all at once): the same value whatever their chunking, the mean an exactly rounded
sum (Shewchuk's partials, as math.fsum) divided by the count.
"""

from __future__ import annotations

import math

import numpy as np

# activation statistics are about hidden layers (the output layer has no activation): "mean", "min" and
# "max" over layers leave the output layer out
HIDDEN_ONLY = ("act_mean", "act_std", "saturated", "dead")
RATIOS = {"grad_norm_ratio": "grad_norm", "delta_norm_ratio": "delta_norm", "update_ratio_ratio": "update_ratio"}
# a point on a surface: coordinates of its two-column records
COORDINATES = {"x": ("position", 0), "y": ("position", 1), "update_x": ("update", 0), "update_y": ("update", 1)}
# run metrics read as the first step whose column is at or below a threshold
FIRST_BELOW = {"steps_to_loss": "loss", "steps_to_minimum": "distance_to_minimum"}


def per_step_values(column, metric: str, layer) -> np.ndarray:
    """One number per record of a per-step metric; `column(name)` gives the records'
    column (1-D, or records x layers)."""
    if metric in RATIOS:
        col = column(RATIOS[metric])
        with np.errstate(divide="ignore", invalid="ignore"):
            return col[:, 0] / col[:, -1]
    if metric in COORDINATES:
        name, i = COORDINATES[metric]
        return column(name)[:, i]
    if metric == "act_std_ratio":
        col = column("act_std")
        with np.errstate(divide="ignore", invalid="ignore"):
            return col[:, -2] / col[:, 0]
    col = column(metric)
    if col.ndim == 1:
        return col
    if isinstance(layer, int):
        return col[:, layer]
    if metric in HIDDEN_ONLY:
        col = col[:, :-1]
    fn = {"mean": np.mean, "min": np.min, "max": np.max}[layer or "mean"]
    with np.errstate(invalid="ignore"):
        return fn(col, axis=1)


def first_step_below(loss: np.ndarray, steps: np.ndarray, threshold: float) -> float:
    hit = np.flatnonzero(loss <= threshold)
    return float(steps[hit[0]]) if len(hit) else math.inf


def track_key(metric: str, layer=None, at=None, threshold=None) -> tuple:
    """What identifies a tracked value: steps_to_loss (steps_to_minimum) by its
    threshold, any other metric by its layer and `at`."""
    if metric in FIRST_BELOW:
        return (metric, None, None, float(threshold))
    return (metric, layer, at, None)


class Tracker:
    """The value of one per-step metric at one `at` (or steps_to_loss at one threshold),
    kept up to date as records are appended: `update(view)` with the new records."""

    def __init__(self, metric: str, layer=None, at=None, threshold=None):
        self.key = track_key(metric, layer, at, threshold)
        self.metric, self.layer, self.at = metric, layer, at
        self.threshold = threshold
        self.value = math.inf if metric in FIRST_BELOW else math.nan
        self._sum = ExactSum()  # for the mean

    def update(self, view) -> None:
        steps = view.steps()
        if self.metric in FIRST_BELOW:
            if self.value == math.inf:
                self.value = first_step_below(view.column(FIRST_BELOW[self.metric]), steps, self.threshold)
            return
        values = per_step_values(view.column, self.metric, self.layer)
        ok = ~np.isnan(values)
        if not ok.any():
            return
        v, s = values[ok], steps[ok]
        at = self.at
        if at == "start":
            if math.isnan(self.value):
                self.value = float(v[0])
        elif at in (None, "end"):
            self.value = float(v[-1])
        elif at == "min":
            self.value = float(v.min()) if math.isnan(self.value) else min(self.value, float(v.min()))
        elif at == "max":
            self.value = float(v.max()) if math.isnan(self.value) else max(self.value, float(v.max()))
        elif at == "mean":
            self._sum.add(v.tolist())
            self.value = self._sum.mean()
        else:
            before = np.flatnonzero(s <= int(at))
            if len(before):
                self.value = float(v[before[-1]])


def _add(partials: list[float], x: float) -> float | None:
    """Add a finite x to an exact sum kept as non-overlapping partials (Shewchuk; the
    algorithm of math.fsum): the sum of many records rounds once, whatever the order of
    the chunks they came in. Returns the infinity the sum overflowed to, if it did."""
    i = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        if not math.isfinite(hi):
            return hi
        lo = y - (hi - x)
        if lo:
            partials[i] = lo
            i += 1
        x = hi
    partials[i:] = [x]
    return None


class ExactSum:
    """A running sum of floats rounded once at the end (as np.sum, an infinity wins and
    +inf with -inf gives NaN); `count` of the values added."""

    def __init__(self):
        self.partials: list[float] = []
        self.special: float | None = None  # an infinity (or NaN) the sum reached
        self.count = 0

    def add(self, values) -> None:
        for x in values:
            if self.special is None and math.isfinite(x):
                self.special = _add(self.partials, x)
            else:
                self.special = x if self.special is None else self.special + x
        self.count += len(values)

    def mean(self) -> float:
        if not self.count:
            return math.nan
        return (self.special if self.special is not None else math.fsum(self.partials)) / self.count

