"""Layer x time heat strip: how each layer's gradient norm evolved over the run.

One row per layer (two per text row, with half blocks), input layer at the top; time
runs left to right over the whole run (the strip fills as the run goes, it is never
rescaled); colour is log10 of the gradient norm on the bars' fixed axis. With several
seeds, each cell is the median across the seeds of their mean log10 in that time slice;
a seed that diverged counts as the axis' top after its divergence (tuisim.app.spread),
and the ✗ marks where the median diverges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tuisim.i18n import _

from ..format import layer_name, log10_safe, sample_rows
from ..spread import median_grid
from .grad_bars import AXIS, QUANTITIES, decade
from .grad_dist import BIN_DECADES, CLASSES, DistColumn, DistRenderable, chart_rows, slice_grid
from .panel import Panel
from .time_columns import names_row, time_axis

# where the colour map's stops sit on the log10 axis; their colours come from CSS
STOPS = (-14.0, -5.0, -2.0, 1.0, 6.0)
LEVELS = 48


def time_bins(steps: np.ndarray, values: np.ndarray, total: int, bins: int) -> np.ndarray:
    """Mean log10 of `values` (records x layers) in `bins` equal slices of [0, total)
    steps: (bins x layers), NaN where a slice has no record yet. Clipped to AXIS."""
    lo, hi = AXIS
    out = np.full((bins, values.shape[1] if values.ndim == 2 else 0), np.nan)
    if len(steps) == 0 or bins <= 0:
        return out
    lv = np.clip(log10_safe(values), lo, hi)  # 0 -> lo, inf -> hi, NaN stays NaN
    b = np.minimum((steps.astype(np.float64) * bins / max(total, 1)).astype(np.int64), bins - 1)
    ok = ~np.isnan(lv)
    sums = np.zeros_like(out)
    counts = np.zeros_like(out)
    np.add.at(sums, b, np.where(ok, lv, 0.0))
    np.add.at(counts, b, ok)
    with np.errstate(invalid="ignore"):
        out = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return out


class BinCache:
    """time_bins, recomputing only the slices that can still change."""

    def __init__(self) -> None:
        self.key = None
        self.bins: np.ndarray | None = None
        self.done_bins = 0  # slices before this one are complete
        self.done_step = 0  # the first step of slice `done_bins`

    def get(self, key, steps, values, total: int, bins: int) -> np.ndarray:
        """The bins of a run's records (steps in increasing order). The complete slices
        are kept from earlier calls: by step, not by record, as the history thins its
        older records."""
        if key != self.key or self.bins is None or (len(steps) and steps[-1] < self.done_step):
            self.key, self.bins, self.done_bins, self.done_step = key, None, 0, 0
        if self.bins is None:
            self.bins = np.full((bins, values.shape[1]), np.nan)
        s = self.done_bins
        r = int(np.searchsorted(steps, self.done_step, side="left"))
        part = time_bins(steps[r:], values[r:], total, bins)
        self.bins[s:] = part[s:]
        if len(steps):
            last = min(int(steps[-1] * bins / max(total, 1)), bins - 1)
            if last > s:  # slices before `last` are complete
                self.done_bins = last
                self.done_step = int(np.ceil(last * total / bins))
        return self.bins


@dataclass
class HeatColumn:
    label: str
    style: Style
    grid: np.ndarray  # (time bins, layers) of log10 values
    diverged_bin: int | None = None


def heat_rows(layers: int, height: int) -> tuple:
    """The layers drawn (sampled when they do not fit) and whether each gets a whole text
    row (else two layers share one, with half blocks)."""
    body = max(1, height - 3 - (1 if height >= 6 else 0))
    full = body >= layers
    return sample_rows(layers, body if full else 2 * body), full


class HeatRenderable:
    """The strips side by side, with layer labels, a time axis and a colour key."""

    def __init__(self, columns: list[HeatColumn], palette: list[Color], muted: Style, total: int, width: int,
                 height: int, layers: int):
        self.columns, self.palette, self.muted = columns, palette, muted
        self.total, self.width, self.height, self.layers = total, width, height, layers
        self._styles: dict[tuple[int, int], Style] = {}

    def color(self, level: int) -> Color:
        return self.palette[level]

    def _cell(self, top: float, bottom: float) -> Segment:
        def level(v):
            if np.isnan(v):
                return -1
            return int((v - AXIS[0]) / (AXIS[1] - AXIS[0]) * (LEVELS - 1) + 0.5)

        a, b = level(top), level(bottom)
        key = (a, b)
        st = self._styles.get(key)
        if a < 0 and b < 0:
            return Segment(" ")
        if st is None:
            if a < 0:
                st = Style(color=self.palette[b])
            else:
                st = Style(color=self.palette[a], bgcolor=self.palette[b] if b >= 0 else None)
            self._styles[key] = st
        return Segment("▄" if a < 0 else "▀", st)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        cols, muted = self.columns, self.muted
        label_w, gap = 4, 2
        n = len(cols)
        col_w = max(4, (self.width - label_w - gap * (n - 1)) // n)
        idx, full = heat_rows(self.layers, self.height)
        rows = len(idx) if full else (len(idx) + 1) // 2
        yield from names_row(cols, col_w, gap, label_w).render(console)
        yield Segment.line()
        label_rows = {0: layer_name(int(idx[0]), self.layers), rows - 1: layer_name(int(idx[-1]), self.layers)}
        for r in range(rows):
            lab = label_rows.get(r, "")
            yield Segment(f"{lab:>3} ", muted)
            if full:
                i0 = i1 = int(idx[r])
            else:
                i0 = int(idx[2 * r])
                i1 = int(idx[2 * r + 1]) if 2 * r + 1 < len(idx) else None
            for k, c in enumerate(cols):
                g = c.grid
                for x in range(col_w):
                    if g is None or x >= len(g) or i0 >= g.shape[1]:
                        yield Segment(" ")
                        continue
                    top = g[x, i0]
                    bottom = g[x, i1] if i1 is not None and i1 < g.shape[1] else np.nan
                    yield self._cell(top, bottom)
                if k < n - 1:
                    yield Segment(" " * gap)
            yield Segment.line()
        axis = time_axis(cols, col_w, gap, label_w, self.total, muted)
        yield from axis.render(console)
        yield Segment.line()
        if self.height >= 6:
            key = Text(" " * label_w + f"{decade(int(AXIS[0]))} ", style=muted, no_wrap=True)
            steps = min(24, max(8, self.width // 4))
            for j in range(steps):
                key.append("█", Style(color=self.palette[int(j / (steps - 1) * (LEVELS - 1))]))
            key.append(f" {decade(int(AXIS[1]))}", muted)
            yield from key.render(console)
            yield Segment.line()


def palette_from(stop_colors: list[Color]) -> list[Color]:
    """LEVELS colours interpolated between the stops."""
    lo, hi = AXIS
    rgb = np.array([c.get_truecolor() for c in stop_colors], dtype=float)
    xs = np.linspace(lo, hi, LEVELS)
    out = []
    for x in xs:
        ch = [np.interp(x, STOPS, rgb[:, j]) for j in range(3)]
        out.append(Color.from_rgb(*ch))
    return out


class HeatStrip(Panel):
    """Layer x time history of log10 ‖dL/dW‖ (or ‖dL/dz‖), one strip per variant."""

    COMPONENT_CLASSES = (Panel.COMPONENT_CLASSES | {f"heat-strip--stop-{i}" for i in range(len(STOPS))}
                         | {f"grad-dist--{c}" for c in CLASSES})
    MIN_INTERVAL = 1.0  # a slowly growing history

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.quantity = "grad_norm"
        self.mode = "norms"  # or "dist": the percentiles of |dL/dz| over time (grad_dist)
        self._caches: dict[tuple[int, int], BinCache] = {}  # per (variant, seed)
        self._palette: list[Color] | None = None

    def set_quantity(self, quantity: str) -> None:
        self.quantity = quantity
        self._retitle()
        self.redraw()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._retitle()
        self.titles()
        self.redraw()

    def _retitle(self) -> None:
        if self.mode == "dist":
            self.border_title = _("|dL/dz| percentiles over time")
        else:
            self.border_title = _("Layer × time: log10 {quantity}").format(quantity=QUANTITIES[self.quantity][0])

    def on_mount(self) -> None:
        self._retitle()

    def titles(self) -> None:
        if not self.views:
            return
        layers = max(v.layers for v in self.views)
        h = self.content_region.height
        if self.mode == "dist":
            idx, __ = chart_rows(layers, max(1, h - 2 - (1 if h >= 6 else 0)))
        else:
            idx, __ = heat_rows(layers, h)
        seeds = max(len(v.seeds) for v in self.views)
        self.set_titles(subtitle=" · ".join(
            ([_("{size}-decade bins").format(size=f"{BIN_DECADES:g}")] if self.mode == "dist" else [])
            + ([_("median of {n} seeds").format(n=seeds)] if seeds > 1 else [])
            + ([_("{n} of {layers} layers").format(n=len(idx), layers=layers)] if len(idx) < layers else [])))

    def reset(self) -> None:
        self._caches.clear()

    def _get_palette(self) -> list[Color]:
        stops = []
        for i in range(len(STOPS)):
            st = self.component_style(f"heat-strip--stop-{i}")
            stops.append(st.color or Color.parse("white"))
        return palette_from(stops)

    def build(self):
        return self.build_dist() if self.mode == "dist" else self.build_norms()

    def build_dist(self) -> DistRenderable:
        """Each variant's percentiles of |dL/dz| per time slice (the median across seeds)."""
        views = self.views
        w, h = self.content_region.width, self.content_region.height
        n = len(views)
        col_w = max(4, (w - 4 - 2 * (n - 1)) // n)
        layers = max(v.layers for v in views)
        total = max(v.total for v in views)

        def bin_of(step: int | None) -> int | None:
            return None if step is None else min(int(step * col_w / max(total, 1)), col_w - 1)

        cols = []
        for v in views:
            grids = []
            for sv in v.seeds:
                series = sv.history.grad_pct
                if series is None:
                    continue
                snap = series.snapshot()
                reached = sv.diverged_at if sv.diverged_at is not None else sv.step
                grids.append(slice_grid(snap.steps, snap.pct, total, col_w, reached).reshape(col_w, -1))
            grid = None
            if grids:
                nq = len(series.q)
                divs = [bin_of(sv.diverged_at) for sv in v.seeds if sv.history.grad_pct is not None]
                grid = median_grid(grids, divs, 2.0).reshape(col_w, -1, nq)
            cols.append(DistColumn(v.label, self.variant_style(v.index), grid, bin_of(v.diverged_at)))
        styles = {c: self.component_style(f"grad-dist--{c}") for c in CLASSES}
        return DistRenderable(cols, styles, self.style_of("muted"), total, w, h, layers)

    def build_norms(self):
        views = self.views
        w, h = self.content_region.width, self.content_region.height
        n = len(views)
        col_w = max(4, (w - 4 - 2 * (n - 1)) // n)
        cols = []
        layers = max(v.layers for v in views)
        total = max(v.total for v in views)
        def bin_of(step: int | None) -> int | None:
            return None if step is None else min(int(step * col_w / max(total, 1)), col_w - 1)

        for v in views:
            grids = []
            for k, sv in enumerate(v.seeds):
                cache = self._caches.setdefault((v.index, k), BinCache())
                grids.append(cache.get((v.label, self.quantity, col_w, total, id(sv.history)), sv.column("step"),
                                       sv.column(self.quantity), total, col_w))
            grid = median_grid(grids, [bin_of(sv.diverged_at) for sv in v.seeds], AXIS[1])
            cols.append(HeatColumn(v.label, self.variant_style(v.index), grid, bin_of(v.diverged_at)))
        return HeatRenderable(cols, self._get_palette(), self.style_of("muted"), total, w, h, layers)
