"""Curves of a 1-D sweep: the measure against the swept value, one curve per variant,
drawn by plotext (each plot owns its figure). Each point is a cell's mean over seeds,
with a bar of ± one standard deviation; a point whose runs diverged to an infinite
value sits on the top edge as ✗. A vertical line marks the selected column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.console import Group
from rich.style import Style
from rich.text import Text

from tuisim.i18n import N_, _

from ..sweep_map import MapAxis, MapData, measure_title
from .loss_plot import decade_ticks
from .panel import Panel
from .plot import new_figure, rgb_of


@dataclass
class Series:
    label: str
    rgb: tuple[int, int, int]
    means: np.ndarray
    spread: np.ndarray
    diverged: np.ndarray


def x_positions(axis: MapAxis) -> tuple[np.ndarray, bool]:
    """Where each value sits across: log10 of the value on a log axis, the value on a numeric
    one, else its index (and whether the positions are log10)."""
    if axis.numeric and len(axis.values):
        v = np.asarray(axis.values, dtype=float)
        if axis.log:
            return np.log10(v), True
        return v, False
    return np.arange(len(axis.labels), dtype=float), False


def spaced_ticks(xs: np.ndarray, labels: tuple[str, ...], width: int) -> tuple[list[float], list[str]]:
    """Every k-th label, k as small as lets them fit across `width`."""
    n = len(labels)
    for k in range(1, n + 1):
        idx = list(range(0, n, k))
        if sum(len(labels[i]) + 2 for i in idx) <= width * 0.8:
            return [float(xs[i]) for i in idx], [labels[i] for i in idx]
    return [float(xs[0])], [labels[0]]


def round_ticks(lo: float, hi: float, most: int) -> tuple[list[float], list[str]]:
    """At most `most` ticks on round numbers (a step of 1, 2, 2.5 or 5 x 10^k) in [lo, hi]."""
    span = hi - lo
    if span <= 0:
        return [lo], [f"{lo:g}"]
    best, score = [lo, hi], 0
    for mult in (1, 2, 2.5, 5, 10):  # the most ticks, then those that reach the ends
        step = mult * 10.0 ** math.floor(math.log10(span / max(most - 1, 1)))
        ticks = [k * step for k in range(math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9) + 1)]
        ends = sum(any(abs(t - e) < 1e-9 * max(1.0, abs(e)) for t in ticks) for e in (lo, hi))
        if 2 <= len(ticks) <= most and 2 * len(ticks) + ends > score:
            best, score = ticks, 2 * len(ticks) + ends
    return best, [f"{t:.10g}" for t in best]


def build_sweep_plot(series: list[Series], axis: MapAxis, width: int, height: int, log_y: bool,
                     cursor: int | None = None, muted_rgb=None, fixed: tuple[float, float] | None = None) -> str:
    """The plot as an ANSI string (`fixed`: the y range of a bounded measure, e.g. (0, 1))."""
    f = new_figure(width, height, muted_rgb)
    xs, __ = x_positions(axis)
    finite = np.concatenate([s.means[np.isfinite(s.means) & ((s.means > 0) if log_y else True)] for s in series]
                            + [np.zeros(0)])
    if not len(finite):
        return ""
    tr = np.log10 if log_y else (lambda a: a)
    lo_v = np.concatenate([(s.means - np.nan_to_num(s.spread))[np.isfinite(s.means)] for s in series])
    hi_v = np.concatenate([(s.means + np.nan_to_num(s.spread))[np.isfinite(s.means)] for s in series])
    if log_y:
        lo_v, hi_v = lo_v[lo_v > 0], hi_v[hi_v > 0]
    lo = float(tr(min(finite.min(), lo_v.min() if len(lo_v) else finite.min())))
    hi = float(tr(max(finite.max(), hi_v.max() if len(hi_v) else finite.max())))
    if fixed is not None:
        lo, hi = fixed
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.06
    lo, hi = lo - pad, hi + pad
    top = hi
    if cursor is not None and 0 <= cursor < len(xs):
        f.vline(float(xs[cursor]), muted_rgb or (128, 128, 128))
    points = []
    for s in series:  # bars and lines first, the points on top
        ok = np.isfinite(s.means) & ((s.means > 0) if log_y else True)
        if ok.any():
            x, y = xs[ok], tr(s.means[ok])
            for xi, m, sd in zip(x, s.means[ok], s.spread[ok]):
                if math.isfinite(sd) and sd > 0:
                    a, b = m - sd, m + sd
                    if log_y:
                        a = max(a, 10 ** lo)
                    f.plot([float(xi), float(xi)], [float(tr(a)), float(tr(b))], color=s.rgb, marker="braille")
            if ok.sum() > 1:
                f.plot(x.tolist(), y.tolist(), color=s.rgb, marker="braille")
            points.append((x.tolist(), y.tolist(), s.rgb, "●"))
        up = np.isinf(s.means) & (s.means > 0)
        if up.any():
            points.append((xs[up].tolist(), [top] * int(up.sum()), s.rgb, "✗"))
    for x, y, rgb, marker in points:
        f.scatter(x, y, color=rgb, marker=marker)
    f.xlim(float(xs.min()) - 0.03 * max(np.ptp(xs), 1e-9), float(xs.max()) + 0.03 * max(np.ptp(xs), 1e-9))
    f.ylim(lo, hi)
    if log_y:
        f.yticks(*decade_ticks(lo, hi, height))
    elif fixed is not None:
        f.yticks(*round_ticks(fixed[0], fixed[1], 5 if height >= 10 else 3))
    f.xticks(*spaced_ticks(xs, axis.labels, width))
    return f.build()


def legend(series: list[Series], muted: Style, measure: str, any_inf: bool) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    for s in series:
        t.append("━━ ", Style(color=f"rgb{s.rgb}"))
        t.append(s.label or measure_title(measure), Style(color=f"rgb{s.rgb}"))
        t.append("  ")
    t.append("│ " + _("selected") + ("  ✗ " + _("diverged (inf)") if any_inf else ""), muted)
    return t


class SweepCurves(Panel):
    """The measure against the swept value of a 1-D sweep, a curve per variant."""

    MIN_INTERVAL = 0.5  # a plotext build costs 10-40 ms

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.data: MapData | None = None
        self.cursor: tuple[int, int, int] | None = None
        self.placeholder = N_("no result yet…")

    def show_map(self, data: MapData, cursor: tuple[int, int, int] | None) -> None:
        self.data, self.cursor = data, cursor
        self.redraw()

    def empty(self) -> bool:
        return self.data is None or not (self.data.counts > 0).any()

    def build(self):
        d = self.data
        lay = d.layout
        w, h = self.content_region.width, self.content_region.height
        panel = self.cursor[0] if self.cursor else 0
        series = []
        for r, means, spread, div in d.series(panel):
            label = lay.y.labels[r] if lay.y is not None else ""
            series.append(Series(label, rgb_of(self.variant_style(r if lay.row_variant else 0)), means, spread,
                                 div))
        log_y = d.scale.log
        muted = self.style_of("muted")
        fixed = (d.scale.lo, d.scale.hi) if d.scale.fixed else None
        plot = build_sweep_plot(series, lay.x, w, max(h - 1, 4), log_y, self.cursor[1] if self.cursor else None,
                                rgb_of(muted) if muted.color else None, fixed)
        self.border_title = _("{measure} against {axis}").format(measure=measure_title(d.measure), axis=lay.x.title) + (
            " · " + _("log scale") if log_y else "")
        any_inf = any(bool(np.isinf(s.means).any()) for s in series)
        return Group(legend(series, muted, d.measure, any_inf), Text.from_ansi(plot, no_wrap=True))
