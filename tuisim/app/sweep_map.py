"""What the sweep screen draws, as plain data: which axis of a sweep runs across the map,
which runs down, which make the small multiples (panels), a snapshot of the results
as (panel, row, column) arrays, and the colour scale. No Textual and no Rich here.

The first [sweep] axis runs across (x), the second down (y); further axes and the
variants make one panel each. A 1-D sweep has its variants down (one row each), so
it draws as a strip under its curves.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from tuisim.i18n import _
from tuisim.scenario import MEASURES

VARIANT = "variant"
# measures bounded by [0, 1]: their colour scale is fixed
UNIT_MEASURES = {"saturated", "dead", "diverged"}


@dataclass(frozen=True)
class MapAxis:
    key: str
    title: str
    labels: tuple[str, ...]
    values: tuple
    numeric: bool = False
    log: bool = False

    def __len__(self) -> int:
        return len(self.labels)


def _axis(a, like=None) -> MapAxis:
    """A grid axis for display. `like`, the same axis of the full grid: a quick grid's axis
    that gave no label (nor tick labels) of its own takes the full grid's."""
    title, labels = a.label, tuple(a.labels)
    if like is not None and like.key == a.key:
        if title == a.key:
            title = like.label
        full = {repr(v): lab for v, lab in zip(like.values, like.labels)}
        labels = tuple(full.get(repr(v), lab) for v, lab in zip(a.values, labels))
    return MapAxis(a.key, title, labels, tuple(a.values), bool(a.numeric), bool(a.log))


@dataclass(frozen=True)
class MapLayout:
    """Where each cell of a grid is drawn: panel, row, column."""

    x: MapAxis
    y: MapAxis | None  # None: a single row
    panel_axes: tuple[MapAxis, ...]
    roles: tuple[tuple[str, int], ...]  # per grid axis: ("x", 0), ("y", 0) or ("p", k)
    panels: tuple[str, ...]  # a title per panel ("" when there is one)
    panel_variant: tuple[int | None, ...]  # the variant index of each panel (its colour), if it has one
    row_variant: bool = False  # the rows are the variants (a 1-D sweep)
    axes: tuple[MapAxis, ...] = ()  # every axis of the grid, in its order

    @property
    def nx(self) -> int:
        return len(self.x)

    @property
    def ny(self) -> int:
        return len(self.y) if self.y is not None else 1

    @property
    def npanels(self) -> int:
        return len(self.panels)

    @classmethod
    def of(cls, grid, like=None) -> "MapLayout":
        """The layout of a `tuisim.sweep.Grid` (`like`: the full grid, for a quick one's labels)."""
        ref = {a.key: a for a in like.axes} if like is not None else {}
        axes = [_axis(a, ref.get(a.key)) for a in grid.axes]
        explicit = [i for i, a in enumerate(axes) if a.key != VARIANT]
        vk = next((i for i, a in enumerate(axes) if a.key == VARIANT), None)
        roles: list[tuple[str, int]] = [("p", 0)] * len(axes)
        row_variant = False
        if not explicit:
            x_i, y_i = vk, None
        elif len(explicit) == 1:
            x_i, y_i = explicit[0], vk
            row_variant = vk is not None
        else:
            x_i, y_i = explicit[0], explicit[1]
        panel_idx = [i for i in range(len(axes)) if i not in (x_i, y_i)]
        for k, i in enumerate(panel_idx):
            roles[i] = ("p", k)
        if x_i is not None:
            roles[x_i] = ("x", 0)
        if y_i is not None:
            roles[y_i] = ("y", 0)
        x = axes[x_i] if x_i is not None else MapAxis("", "", ("",), ("",))
        y = axes[y_i] if y_i is not None else None
        panel_axes = tuple(axes[i] for i in panel_idx)
        titles, pv = [], []
        for combo in itertools.product(*(range(len(a)) for a in panel_axes)):
            parts, variant = [], None
            for a, j in zip(panel_axes, combo):
                if a.key == VARIANT:
                    parts.append(a.labels[j])
                    variant = j
                else:
                    parts.append(f"{a.title}={a.labels[j]}")
            titles.append(" · ".join(parts))
            pv.append(variant)
        if not panel_axes:
            titles, pv = [""], [None]
        return cls(x, y, panel_axes, tuple(roles), tuple(titles), tuple(pv), row_variant, tuple(axes))

    def describe(self, cell: tuple[int, ...]) -> str:
        """'sigma_w^2 = 1 · model.depth = 20 · tanh' (the tick labels)."""
        parts = [a.labels[i] if a.key == VARIANT else f"{a.title} = {a.labels[i]}" for a, i in zip(self.axes, cell)]
        return " · ".join(parts) or _("the only cell")

    def cell(self, panel: int, col: int, row: int) -> tuple[int, ...]:
        """The grid cell drawn at (panel, row, column)."""
        digits = np.unravel_index(panel, tuple(len(a) for a in self.panel_axes)) if self.panel_axes else ()
        out = []
        for role, k in self.roles:
            out.append(col if role == "x" else row if role == "y" else int(digits[k]))
        return tuple(out)

    def where(self, cell: tuple[int, ...]) -> tuple[int, int, int]:
        """(panel, column, row) of a grid cell."""
        col = row = 0
        digits = [0] * len(self.panel_axes)
        for (role, k), i in zip(self.roles, cell):
            if role == "x":
                col = i
            elif role == "y":
                row = i
            else:
                digits[k] = i
        panel = int(np.ravel_multi_index(digits, tuple(len(a) for a in self.panel_axes))) if digits else 0
        return panel, col, row

    def arrange(self, a: np.ndarray) -> np.ndarray:
        """A grid-shaped array as (panels, rows, columns)."""
        a = np.asarray(a)
        if not self.roles:
            return a.reshape(1, 1, 1)
        order = sorted(range(len(self.roles)), key=lambda i: {"p": 0, "y": 1, "x": 2}[self.roles[i][0]]
                       * 100 + self.roles[i][1])
        return np.transpose(a, order).reshape(self.npanels, self.ny, self.nx)


@dataclass(frozen=True)
class ColorScale:
    """Maps a value to [0, 1] along the colour bar; `better` says which end is good.

    Measures bounded by [0, 1] (accuracies, fractions) have a fixed scale; others span
    the values seen so far, widened to whole decades (log) or round numbers, so the
    scale moves rarely as cells arrive."""

    lo: float
    hi: float
    log: bool = False
    better: str | None = None  # "high", "low" or None
    fixed: bool = False

    @classmethod
    def for_measure(cls, name: str, means: np.ndarray, chance: float | None = None) -> "ColorScale":
        """`chance`: the accuracy of a guess (1 / classes), where an accuracy scale starts."""
        m = MEASURES.get(name)
        better = m.better if m is not None else None
        if m is not None and m.classification:
            return cls(chance if chance is not None and 0 < chance < 1 else 0.0, 1.0, False, better, True)
        if name in UNIT_MEASURES:
            return cls(0.0, 1.0, False, better, True)
        log = bool(m.log) if m is not None else False
        v = np.asarray(means, dtype=float).ravel()
        v = v[np.isfinite(v)]
        if log:
            v = v[v > 0]
        if not len(v):
            return cls(math.nan, math.nan, log, better)
        lo, hi = float(v.min()), float(v.max())
        if log:
            a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
            if b <= a:
                b = a + 1
            return cls(10.0 ** a, 10.0 ** b, True, better)
        lo, hi = nice_range(lo, hi)
        return cls(lo, hi, False, better)

    @property
    def ready(self) -> bool:
        return math.isfinite(self.lo) and math.isfinite(self.hi)

    def position(self, v: float) -> float | None:
        """0 at lo, 1 at hi (clipped); +inf is 1, -inf 0; None for NaN."""
        if v is None or math.isnan(v):
            return None
        if math.isinf(v):
            return 1.0 if v > 0 else 0.0
        if not self.ready:
            return 0.5
        if self.log:
            if v <= 0:
                return 0.0
            a, b, v = math.log10(self.lo), math.log10(self.hi), math.log10(v)
        else:
            a, b = self.lo, self.hi
        if b <= a:
            return 0.5
        return min(1.0, max(0.0, (v - a) / (b - a)))

    def brightness(self, v: float) -> float | None:
        """Where on the palette (0 dark .. 1 bright): the good end is the bright one."""
        p = self.position(v)
        if p is None:
            return None
        return 1.0 - p if self.better == "low" else p


def nice_range(lo: float, hi: float) -> tuple[float, float]:
    """[lo, hi] widened to multiples of a round step (1, 2 or 5 x 10^k)."""
    if hi <= lo:
        pad = abs(lo) * 0.5 or 0.5
        return lo - pad, hi + pad
    raw = (hi - lo) / 4
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 5, 10) if s * mag >= raw)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


@dataclass
class MapData:
    """A snapshot of a sweep's results, arranged for drawing: arrays (panels, rows, cols)."""

    layout: MapLayout
    measure: str
    seeds: int
    means: np.ndarray
    spread: np.ndarray
    counts: np.ndarray
    failures: np.ndarray
    diverged: np.ndarray
    scale: ColorScale

    @classmethod
    def of(cls, layout: MapLayout, measure: str, seeds: int, *, means, spread=None, counts=None, failures=None,
           diverged=None, chance: float | None = None) -> "MapData":
        """From grid-shaped arrays (what `SweepResults` returns); missing ones are derived or zero.
        `chance`: where an accuracy's colour scale starts (1 / classes)."""
        means = np.asarray(means, dtype=float)
        zeros = np.zeros(means.shape, dtype=int)
        counts = np.asarray(counts) if counts is not None else (~np.isnan(means)).astype(int)
        spread = np.asarray(spread, dtype=float) if spread is not None else np.full(means.shape, np.nan)
        failures = np.asarray(failures) if failures is not None else zeros
        diverged = np.asarray(diverged) if diverged is not None else zeros
        a = layout.arrange
        return cls(layout, measure, seeds, a(means), a(spread), a(counts), a(failures), a(diverged),
                   ColorScale.for_measure(measure, means, chance))

    @classmethod
    def from_results(cls, layout: MapLayout, measure: str, results, chance: float | None = None) -> "MapData":
        """From a `tuisim.sweep.SweepResults` (thread-safe reads)."""
        return cls.of(layout, measure, len(results.grid.seeds), means=results.means(), spread=results.spread(),
                      counts=results.counts(), failures=results.failures(), diverged=results.diverged(),
                      chance=chance)

    def series(self, panel: int = 0) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        """For curves: (row, means, spread, diverged) of each row of a panel."""
        return [(r, self.means[panel, r], self.spread[panel, r], self.diverged[panel, r])
                for r in range(self.layout.ny)]


def chance_of(scenario) -> float | None:
    """The accuracy of a guess on the scenario's data (1 / classes; the most classes of any
    variant), or None for regression."""
    classes = [v.data.get("classes") for v in scenario.variants if v.data.get("task", "classification")
               == "classification"]
    classes = [int(c) for c in classes if c]
    return 1.0 / max(classes) if classes else None


def carry_cursor(old: MapLayout, new: MapLayout, cursor: tuple[int, int, int]) -> tuple[int, int, int]:
    """The cursor of one grid moved to the same (or the nearest) point of another (full <-> quick)."""
    cell = old.cell(*cursor)
    by_key = {a.key: (a, i) for a, i in zip(old.axes, cell)}
    out = []
    for a in new.axes:
        if a.key not in by_key:
            out.append(0)
            continue
        b, i = by_key[a.key]
        v = b.values[i]
        if a.numeric and b.numeric:
            out.append(int(np.argmin([abs(float(x) - float(v)) for x in a.values])))
        else:
            out.append(a.values.index(v) if v in a.values else min(i, len(a) - 1))
    p, c, r = new.where(tuple(out))
    return p, c, r


def measure_title(name: str) -> str:
    return name.replace("_", " ")
