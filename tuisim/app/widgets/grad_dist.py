"""The heat strip's distributions mode: per layer, the percentiles of |dL/dz| over time.

Like TensorBoard's histograms over steps, flattened: each layer (sampled to fit, input at
the top) gets a small chart of a few text rows, time left to right over the whole run as
in the norms mode, log10 |dL/dz| up on one axis for every layer and variant (so a
gradient that shrinks from layer to layer steps down the charts). In each time column,
the 5-95% range is a light shade, the 25-75% range a stronger one, the median a line;
each chart's bottom half-row is "=0", exact zeros (a dead ReLU unit passes back 0), so a
layer whose gradients die shows its band sinking into that row. A distribution that
collapses reads as a thin band, one that spreads as a wide one, where the norm is one
number. Half blocks: two levels a text row.

The percentiles come from the engine's histograms (tuisim.run.percentiles: to within a
0.4-decade bin), the latest taken by a time column's end; with several seeds, each
percentile is the median across the seeds, a seed that diverged counting as the axis'
top after its divergence (tuisim.app.spread.median_grid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tuisim.i18n import _
from tuisim.run.percentiles import GRAD_RANGE, PERCENTILES

from ..format import layer_name, sample_rows
from .time_columns import names_row, time_axis
from .grad_bars import decade

BIN_DECADES = (GRAD_RANGE[1] - GRAD_RANGE[0]) / 40  # the app's 40 bins (driver.HISTOGRAM_BINS)
CLASSES = ("outer", "inner", "median", "floor")


def slice_grid(steps: np.ndarray, pct: np.ndarray, total: int, bins: int, reached: int) -> np.ndarray:
    """(bins, layers, percentiles): in each of `bins` equal slices of [0, total) steps, the
    latest snapshot taken before the slice's end; NaN before the first snapshot and for
    slices past step `reached` (where the run has not been yet)."""
    layers, nq = pct.shape[1:] if pct.ndim == 3 else (0, len(PERCENTILES))
    out = np.full((bins, layers, nq), np.nan)
    if len(steps) == 0 or bins <= 0:
        return out
    x = np.arange(bins)
    start = np.floor(x * total / bins)
    end = np.floor((x + 1) * total / bins)
    at = np.searchsorted(steps, end, side="left") - 1
    ok = (at >= 0) & (start <= reached)
    out[ok] = pct[at[ok]]
    return out


def axis_of(grids: list[np.ndarray]) -> tuple[float, float]:
    """The log10 axis every chart shares: whole decades around the finite percentiles,
    at least 2 wide, within the histograms' range."""
    vals = [g[np.isfinite(g)] for g in grids if g is not None]
    vals = np.concatenate(vals) if vals else np.zeros(0)
    if not len(vals):
        return -6.0, 0.0
    lo = max(GRAD_RANGE[0], math.floor(float(vals.min())))
    hi = min(GRAD_RANGE[1], math.ceil(float(vals.max())))
    if hi - lo < 2:
        hi = min(GRAD_RANGE[1], lo + 2)
        lo = hi - 2
    return float(lo), float(hi)


def chart_rows(layers: int, body: int) -> tuple[np.ndarray, int]:
    """The layers drawn and the text rows of each one's chart: every layer when each gets
    at least 2 rows (at most 6), else as many as fit at 2 rows (at least one)."""
    if body >= 2 * layers:
        return np.arange(layers), min(6, body // layers)
    r = min(2, max(1, body))
    return sample_rows(layers, max(1, body // r)), r


@dataclass
class DistColumn:
    label: str
    style: Style
    grid: np.ndarray | None  # (time bins, layers, percentiles) of log10 |dL/dz|, -inf for 0
    diverged_bin: int | None = None


class DistRenderable:
    """The variants' charts side by side, with layer labels, a time axis and a key."""

    def __init__(self, columns: list[DistColumn], styles: dict[str, Style], muted: Style, total: int,
                 width: int, height: int, layers: int):
        self.columns, self.styles, self.muted = columns, styles, muted
        self.total, self.width, self.height, self.layers = total, width, height, layers
        self.lo, self.hi = axis_of([c.grid for c in columns])
        self._cells: dict[tuple[int, int], Segment] = {}

    def body(self) -> int:
        return max(1, self.height - 2 - (1 if self.height >= 6 else 0))

    def classes(self, p: np.ndarray, levels: int) -> np.ndarray:
        """Per level (0 = "=0", 1..levels-1 up the axis) of time columns' percentiles
        (..., 5) at 5, 25, 50, 75, 95%: (..., levels) of 0 none, 1 in 5-95%, 2 in 25-75%,
        3 the median; level 0 with nothing is -1, the chart's floor (and a column without
        data has the floor only)."""
        p = np.asarray(p, dtype=np.float64)
        span = self.hi - self.lo
        with np.errstate(invalid="ignore"):
            up = 1 + np.clip(np.floor((np.clip(p, self.lo, self.hi) - self.lo) / span * (levels - 1)), 0, levels - 2)
        lv = np.where(np.isneginf(p), 0, np.nan_to_num(up)).astype(np.int64)
        L = np.arange(levels)
        out = np.zeros(p.shape[:-1] + (levels,), dtype=np.int64)
        out[(L >= lv[..., 0:1]) & (L <= lv[..., 4:5])] = 1
        out[(L >= lv[..., 1:2]) & (L <= lv[..., 3:4])] = 2
        out[L == lv[..., 2:3]] = 3
        out[np.isnan(p).any(axis=-1)] = 0
        floor = out[..., 0]
        floor[floor == 0] = -1
        return out

    def _cell(self, top: int, bottom: int) -> Segment:
        seg = self._cells.get((top, bottom))
        if seg is None:
            names = {-1: "floor", 1: "outer", 2: "inner", 3: "median"}
            fg = self.styles[names[top]].color if top in names else None
            bg = self.styles[names[bottom]].color if bottom in names else None
            if fg is None and bg is None:
                seg = Segment(" ")
            elif fg is None:
                seg = Segment("▄", Style(color=bg))
            else:
                seg = Segment("▀", Style(color=fg, bgcolor=bg))
            self._cells[(top, bottom)] = seg
        return seg

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        cols, muted = self.columns, self.muted
        label_w, gap = 4, 2
        n = len(cols)
        col_w = max(4, (self.width - label_w - gap * (n - 1)) // n)
        idx, r = chart_rows(self.layers, self.body())
        levels = 2 * r
        yield from names_row(cols, col_w, gap, label_w).render(console)
        yield Segment.line()
        # per column and layer, the classes of its levels
        cls = []
        for c in cols:
            g = np.full((col_w, len(idx), len(PERCENTILES)), np.nan)
            if c.grid is not None:
                x = min(col_w, len(c.grid))
                have = idx[idx < c.grid.shape[1]]
                g[:x, :len(have)] = c.grid[:x][:, have]
            cls.append(self.classes(g, levels))
        for j, i in enumerate(idx):
            for t in range(r):
                lab = layer_name(int(i), self.layers) if t == 0 else ("=0" if t == r - 1 else "")
                yield Segment(f"{lab:>3} ", muted)
                top, bottom = 2 * (r - 1 - t) + 1, 2 * (r - 1 - t)
                for k, per in enumerate(cls):
                    for x in range(col_w):
                        yield self._cell(int(per[x, j, top]), int(per[x, j, bottom]))
                    if k < n - 1:
                        yield Segment(" " * gap)
                yield Segment.line()
        axis = time_axis(cols, col_w, gap, label_w, self.total, muted)
        yield from axis.render(console)
        yield Segment.line()
        if self.height >= 6:
            yield from self.key(r).render(console)
            yield Segment.line()

    def key(self, r: int) -> Text:
        """What the shades mean and the axis: "each layer: =0, then 1e-9 to 1e-1 up"."""
        st = self.styles
        key = Text(" " * 4, style=self.muted, no_wrap=True, overflow="ellipsis")
        key.append("▀", Style(color=st["median"].color, bgcolor=st["inner"].color))
        narrow = self.width < 60
        median = _("med") if narrow else _("median")
        key.append(f" {median} ", self.muted)
        key.append("█", Style(color=st["inner"].color))
        key.append(" 25-75% ", self.muted)
        key.append("█", Style(color=st["outer"].color))
        key.append(" 5-95%", self.muted)
        wide = self.width >= 90
        axis = f"{decade(int(self.lo))}–{decade(int(self.hi))}" if narrow else \
            _("{lo} to {hi}").format(lo=decade(int(self.lo)), hi=decade(int(self.hi)))
        up, zeros = (_("each layer up: "), _(", exact zeros in =0")) if wide else ("", "")
        key.append(f" {'' if narrow else '· '}{up}{axis}{zeros}", self.muted)
        key.truncate(self.width, overflow="ellipsis")
        return key
