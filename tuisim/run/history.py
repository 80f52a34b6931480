"""`History`: one variant's recorded steps, stored by column in numpy arrays, bounded.

The run loop appends; the app, the writers and the expectation checks read. Per-layer
columns are (records, layers) arrays; scalar columns are 1-D. Test metrics are NaN on
steps where the test set was not evaluated.

Bounded memory: a history keeps at most `limit` records (by default what fits in about
4 MB, between 1,024 and 4,096 records; a plot is a few hundred points wide). When an
append takes it past the limit, the records older than the newest quarter of it are
thinned to one per bucket of `width` steps (the bucket's first record with a test
evaluation, else its first), `width` doubling until they are at most half the limit;
the newest stay at full resolution. So a run of any length costs the same memory, and a
plot of it the same number of points; the first record is always kept. What the thinning
would lose is kept elsewhere:
- the files: a `RunWriter` sets `hold` to the first record it has not written yet, and
  no record from there on is thinned until it is written;
- the claims: a `Tracker` (tuisim.run.tracking) registered with `track` sees every
  record as it is appended and keeps the value its claim needs (start, end, min, max,
  mean, the value at a step, the first step below a threshold), exactly.

Readers in other threads call `snapshot()`: appends write past its records only, and
thinning builds new arrays, so a snapshot never changes under its reader.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tuisim.core.registry import LAYER_FIELDS  # not core.stats: reading a History needs no numba

from .percentiles import PercentileSeries

if TYPE_CHECKING:
    from tuisim.core.stats import StepTrace

SCALAR_FIELDS = ("step", "loss", "accuracy", "test_loss", "test_accuracy", "lr", "grad_total_norm", "diverged")
BUDGET = 4 << 20  # bytes of records a history keeps at most (about)
MIN_RECORDS, MAX_RECORDS = 1024, 4096
INTEGER_FIELDS = ("step", "oscillation")  # written as integers
BOOL_FIELDS = ("diverged",)


@dataclass(frozen=True)
class Fields:
    """The columns of a history: `scalars` (one number per record) and `vectors` (a row
    of `layers` numbers per record, read from a trace's attribute of the same name);
    `names` gives a vector's CSV column names (default: name_0, name_1, ...)."""

    scalars: tuple[str, ...]
    vectors: tuple[str, ...]
    names: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def csv_columns(self, layers: int) -> list[str]:
        named = dict(self.names)
        return [c for f in self.vectors for c in named.get(f, tuple(f"{f}_{i}" for i in range(layers)))]


NETWORK_FIELDS = Fields(SCALAR_FIELDS, LAYER_FIELDS)
# a point on a surface (tuisim.run.surface_run): `position` [x, y] where the step started,
# `update` [dx, dy] the change it made
PATH_FIELDS = Fields(("step", "loss", "grad_norm", "lr", "diverged", "distance_to_minimum", "path_length",
                      "oscillation", "update_norm"), ("position", "update"),
                     (("position", ("x", "y")), ("update", ("update_x", "update_y"))))


def default_limit(layers: int, fields: Fields = NETWORK_FIELDS) -> int:
    """How many records a history of `layers` per-layer columns keeps: what fits in
    BUDGET, within [MIN_RECORDS, MAX_RECORDS]."""
    per_record = 8 * (len(fields.scalars) + 1 + len(fields.vectors) * layers)
    return int(min(MAX_RECORDS, max(MIN_RECORDS, BUDGET // per_record)))


@dataclass(frozen=True)
class HistoryView:
    """The records of a history at one moment: `n` of them, in arrays that no later
    append or thinning changes."""

    n: int
    scalars: dict
    per_layer: dict
    index: np.ndarray  # each record's place among every record ever appended (0, 1, ...)
    layers: int

    def column(self, name: str) -> np.ndarray:
        if name in self.scalars:
            return self.scalars[name][:self.n]
        return self.per_layer[name][:self.n]

    def steps(self) -> np.ndarray:
        return self.scalars["step"][:self.n].astype(np.int64)

    def record(self, i: int) -> dict:
        """Record i as a JSON-ready dict (NaN and inf become None)."""
        d = {}
        for f, a in self.scalars.items():
            v = float(a[i])
            d[f] = bool(v) if f in BOOL_FIELDS else int(v) if f in INTEGER_FIELDS and math.isfinite(v) else v
        for f, a in self.per_layer.items():
            d[f] = a[i].tolist()
        return clean(d)


class History:
    def __init__(self, layers: int, capacity: int = 256, histogram_bins: int = 0, limit: int | None = None,
                 fields: Fields = NETWORK_FIELDS):
        self.layers = layers
        self.fields = fields
        self.limit = max(16, limit if limit is not None else default_limit(layers, fields))
        self.width = 1  # thinned records are one per `width` steps
        self.total = 0  # records ever appended
        self.thinned = False  # whether any record was let go
        self.hold: int | None = None  # records from this index (of `total`) on are kept: a writer's cursor
        self.trackers: dict = {}  # key -> Tracker, fed every record (tuisim.run.tracking)
        cap = max(16, min(capacity, self.limit))
        self._view = HistoryView(0, {f: np.full(cap, np.nan) for f in fields.scalars},
                                 {f: np.full((cap, layers), np.nan) for f in fields.vectors},
                                 np.zeros(cap, dtype=np.int64), layers)
        self.histogram_bins = histogram_bins
        # the latest histograms only (they are large): (layers, bins), and the count of
        # exact zeros, in no bin: (layers,)
        self.act_hist: np.ndarray | None = None
        self.grad_hist: np.ndarray | None = None
        self.act_zero: np.ndarray | None = None
        self.grad_zero: np.ndarray | None = None
        self.hist_step = -1  # the step they were taken at
        # percentiles of |dL/dz| from every histogram taken, over time, bounded
        self.grad_pct: PercentileSeries | None = None

    # ------------------------------------------------------------------ reading
    @property
    def n(self) -> int:
        return self._view.n

    @property
    def scalars(self) -> dict:
        return self._view.scalars

    @property
    def per_layer(self) -> dict:
        return self._view.per_layer

    def snapshot(self) -> HistoryView:
        """The records as they are now, safe to read while another thread appends."""
        return self._view

    def column(self, name: str) -> np.ndarray:
        """A view of the recorded values of one column."""
        return self._view.column(name)

    def steps(self) -> np.ndarray:
        return self._view.steps()

    def track(self, tracker) -> None:
        """Feed `tracker` every record from now on (register before the first append)."""
        self.trackers.setdefault(tracker.key, tracker)

    # ------------------------------------------------------------------ appending
    def extend(self, trace: StepTrace, rows=None, test: tuple[float, float] | None = None) -> None:
        """Append rows of a `StepTrace` (all by default), with the test evaluations it
        holds; `test`, when given, is the evaluation before the trace's first step, and is
        kept when that step is among the rows."""
        rows = np.arange(len(trace)) if rows is None else np.asarray(rows, dtype=np.int64)
        k = len(rows)
        if not k:
            return
        v = self._view
        if v.n + k > len(v.index):  # room for the rows: thin the older ones, or grow
            thinned = self._thin(v, k) if v.n + k > self.limit else None
            if thinned is None:
                thinned = self._copy(v, max(min(2 * len(v.index), self.limit), v.n + k))
            v = self._view = thinned
        i, j = v.n, v.n + k
        sc = v.scalars
        for f in self.fields.scalars:
            sc[f][i:j] = getattr(trace, f)[rows]
        if test is not None and rows[0] == 0:
            sc["test_loss"][i], sc["test_accuracy"][i] = test
        for f in self.fields.vectors:
            v.per_layer[f][i:j] = getattr(trace, f)[rows]
        v.index[i:j] = np.arange(self.total, self.total + k)
        new = HistoryView(j - i, {f: a[i:j] for f, a in sc.items()}, {f: a[i:j] for f, a in v.per_layer.items()},
                          v.index[i:j], self.layers)
        for t in self.trackers.values():
            t.update(new)
        if getattr(trace, "act_hist", None) is not None and rows[-1] == len(trace) - 1:
            self.act_hist, self.act_zero = trace.act_hist, trace.act_zero
            self.grad_hist, self.grad_zero = trace.grad_hist, trace.grad_zero
            self.hist_step = int(trace.step[-1])
            if trace.grad_hist is not None:
                if self.grad_pct is None:
                    self.grad_pct = PercentileSeries(trace.grad_hist.shape[0])
                self.grad_pct.add(self.hist_step, trace.grad_hist, trace.grad_zero)
        self.total += k
        # last, and in one assignment: readers in other threads see whole records only
        self._view = HistoryView(j, v.scalars, v.per_layer, v.index, self.layers)

    def _copy(self, v: HistoryView, cap: int, keep: np.ndarray | None = None) -> HistoryView:
        """New arrays of `cap` records holding those of `v` (those at `keep` only)."""
        keep = np.arange(v.n) if keep is None else keep
        m = len(keep)
        scalars, per_layer = {}, {}
        for f, a in v.scalars.items():
            b = np.full(cap, np.nan)
            b[:m] = a[keep]
            scalars[f] = b
        for f, a in v.per_layer.items():
            b = np.full((cap, self.layers), np.nan)
            b[:m] = a[keep]
            per_layer[f] = b
        index = np.zeros(cap, dtype=np.int64)
        index[:m] = v.index[keep]
        return HistoryView(m, scalars, per_layer, index, self.layers)

    def _thin(self, v: HistoryView, k: int) -> HistoryView | None:
        """New arrays holding the records of `v`, those older than the newest quarter of
        `limit` (and than `hold`) thinned to at most half the limit, with room for k more;
        None when there is nothing to thin (the records not yet written fill it). One
        copy, into arrays of the same size as last time: the memory they free is what the
        next thinning takes."""
        n = v.n
        fixed = max(0, n - self.limit // 4)  # records [fixed, n) stay as they are
        if self.hold is not None:
            fixed = min(fixed, int(np.searchsorted(v.index[:n], self.hold)))
        if fixed <= 1:
            return None
        steps = v.scalars["step"][:fixed].astype(np.int64)
        tested = ~np.isnan(v.scalars["test_loss"][:fixed]) if "test_loss" in v.scalars else np.zeros(fixed, bool)
        width = self.width
        while True:
            keep = bucket_choice(steps, tested, width)
            if len(keep) <= self.limit // 2:
                break
            width *= 2
        self.width = width
        self.thinned = True
        m = len(keep) + n - fixed
        return self._copy(v, max(self.limit, m + k), np.concatenate([keep, np.arange(fixed, n)]))


def bucket_choice(steps: np.ndarray, tested: np.ndarray, width: int) -> np.ndarray:
    """The records kept when thinning to one per bucket of `width` steps (steps in
    increasing order): a bucket's first record with a test evaluation, else its first."""
    b = steps // width
    first = np.empty(len(b), dtype=bool)
    first[:1] = True
    first[1:] = b[1:] != b[:-1]
    choice = np.flatnonzero(first)
    bucket = np.cumsum(first) - 1
    t = np.flatnonzero(tested)
    if len(t):
        tb = bucket[t]
        lead = np.empty(len(t), dtype=bool)
        lead[:1] = True
        lead[1:] = tb[1:] != tb[:-1]
        choice[tb[lead]] = t[lead]
    return choice


def clean(obj):
    """NaN and infinities to None, recursively (JSON has no such numbers)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clean(v) for v in obj]
    return obj
