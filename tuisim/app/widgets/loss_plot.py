"""The loss plot: train loss (lines) and test loss (dots) per variant, drawn by plotext.

Each plot owns its plotext figure (no global `plt` state). The x axis spans the whole
run, so curves grow left to right instead of being rescaled; the y axis turns
logarithmic when the losses span more than a decade. A variant that diverged gets a
vertical marker at its step.

With several seeds a variant's line is the median across its seeds (test loss too),
drawn over each seed's own train loss in a fainter shade of the same colour; a seed
that diverged counts as +inf from its divergence on (tuisim.app.spread), so the median
line ends, with its marker, once half the seeds have diverged, and each diverged seed
gets a faint marker of its own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from rich.console import Group
from rich.style import Style
from rich.text import Text

from ..format import log10_safe, num
from ..spread import median_series
from .panel import Panel
from .plot import new_figure, rgb_of

SEED_SHADE = 0.5  # a seed's own line: this much of the variant's colour, the rest the background


@dataclass
class Curve:
    label: str
    rgb: tuple[int, int, int]
    steps: np.ndarray
    loss: np.ndarray  # the median across the seeds (one seed: its loss)
    test_steps: np.ndarray
    test_loss: np.ndarray
    diverged_at: int | None = None  # where the line ends: the median's divergence
    seeds: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # each seed's (steps, loss), faint
    seed_rgb: tuple[int, int, int] | None = None
    seeds_diverged: list[int] = field(default_factory=list)  # each diverged seed's step
    n_seeds: int = 1


def blend(rgb: tuple[int, int, int], background: tuple[int, int, int], share: float) -> tuple[int, int, int]:
    """`share` of rgb over the background: the same hue, fainter."""
    return tuple(int(round(share * a + (1 - share) * b)) for a, b in zip(rgb, background))


def bin_mean(x: np.ndarray, y: np.ndarray, total: int, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of y over `bins` equal slices of [0, total) of x (empty slices dropped)."""
    if len(x) == 0:
        return x, y
    b = np.minimum((x * bins / max(total, 1)).astype(np.int64), bins - 1)
    sums = np.bincount(b, weights=y, minlength=bins)
    counts = np.bincount(b, minlength=bins)
    xs = np.bincount(b, weights=x, minlength=bins)
    ok = counts > 0
    return xs[ok] / counts[ok], sums[ok] / counts[ok]


def decade_ticks(lo: float, hi: float, rows: int) -> tuple[list[float], list[str]]:
    """log10 positions and labels of ticks between lo and hi (log10 values)."""
    pos: list[float] = []
    labs: list[str] = []
    span = max(hi - lo, 1e-9)
    subs = (1, 2, 5) if span <= 2.5 and rows >= 8 else (1,)
    step = 1 if span / max(rows // 3, 1) <= 1 else int(math.ceil(span / max(rows // 3, 1)))
    for e in range(int(math.floor(lo)), int(math.ceil(hi)) + 1):
        if e % step:
            continue
        for s in subs:
            p = e + math.log10(s)
            if lo - 1e-9 <= p <= hi + 1e-9:
                pos.append(p)
                labs.append(f"{s}e{e}" if abs(e) >= 4 else num(s * 10.0 ** e, 2))
    if len(pos) < 2:
        mid = (lo + hi) / 2
        pos, labs = [lo, mid, hi], [num(10 ** lo, 2), num(10 ** mid, 2), num(10 ** hi, 2)]
    return pos, labs


def axis_values(curves: list[Curve], total: int) -> np.ndarray:
    """The losses the y axis spans: the lines (medians) and the test losses, leaving out
    the first 2% of a long run (at least its first 3 steps), where an early spike of 1e4
    would squeeze the rest of the run into a flat band. Test losses reach at most a decade
    above the highest line (an evaluation with batch norm's running statistics early in
    a run can give 1e6); the seeds' own faint lines do not stretch the axis either. What
    lies beyond is drawn on the axis' edge. A run still in its first steps uses all."""
    skip = max(3, int(0.02 * total))

    def kept(pairs, after):
        out = [loss[np.isfinite(loss) & (loss > 0) & (steps >= after)] for steps, loss in pairs]
        return np.concatenate(out + [np.zeros(0)])

    for after in (skip, 0):
        train = kept([(c.steps, c.loss) for c in curves], after)
        test = kept([(c.test_steps, c.test_loss) for c in curves], after)
        if len(train) and len(test):
            return np.concatenate([train, test[test <= 10 * train.max()], [min(test.max(), 10 * train.max())]])
        if len(train) or len(test):
            return np.concatenate([train, test])
    return np.concatenate([y[np.isfinite(y) & (y > 0)] for c in curves for _, y in c.seeds] + [np.zeros(0)])


def build_plot(curves: list[Curve], total: int, width: int, height: int, muted_rgb=None) -> tuple[str, bool]:
    """The plot as an ANSI string, and whether the y axis is logarithmic. Each variant's
    line (its median across seeds) is drawn heavy, in half-blocks; its seeds' own lines
    thin, in braille dots of a fainter shade, beneath it."""
    f = new_figure(width, height, muted_rgb)
    vals = axis_values(curves, total)
    log = bool(len(vals)) and vals.max() / max(vals.min(), 1e-300) > 10
    tr = log10_safe if log else (lambda a: a)
    bins = max(8, 2 * width)
    if len(vals):
        lo, hi = (float(np.log10(vals.min())), float(np.log10(vals.max()))) if log else (float(vals.min()),
                                                                                        float(vals.max()))
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        pad = (hi - lo) * 0.04
        lo, hi = lo - pad, hi + pad

    def line(steps, loss, rgb, marker) -> None:
        ok = np.isfinite(loss) & ((loss > 0) if log else True)
        if ok.any():
            x, y = bin_mean(steps[ok], tr(loss[ok]), total, bins)
            if len(vals):  # beyond the axis: drawn on its edge, not left out
                y = np.clip(y, lo, hi)
            f.plot(x.tolist(), y.tolist(), color=rgb, marker=marker)

    for c in curves:  # every seed's faint line first, so no median is drawn over
        for steps, loss in c.seeds:
            line(steps, loss, c.seed_rgb or c.rgb, "braille")
        for d in c.seeds_diverged:
            if d != c.diverged_at:
                f.vline(d, c.seed_rgb or c.rgb)
    for c in curves:
        line(c.steps, c.loss, c.rgb, "hd")
        okt = np.isfinite(c.test_loss) & ((c.test_loss > 0) if log else True)
        if okt.any():
            x, y = bin_mean(c.test_steps[okt], tr(c.test_loss[okt]), total, max(8, width // 2))
            if len(vals):
                y = np.clip(y, lo, hi)
            f.scatter(x.tolist(), y.tolist(), color=c.rgb, marker="•")
        if c.diverged_at is not None:
            f.vline(c.diverged_at, c.rgb)
    f.xlim(0, max(total, 1))
    if len(vals):
        f.ylim(lo, hi)
        if log:
            f.yticks(*decade_ticks(lo, hi, height))
    xt = [round(total * k / 4) for k in range(5)] if width >= 40 else [0, total // 2, total]
    f.xticks(xt, [str(v) for v in xt])
    return f.build(), log


def legend(curves: list[Curve], muted: Style, width: int) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    for c in curves:
        t.append("━━ ", Style(color=f"rgb{c.rgb}"))
        t.append(c.label, Style(color=f"rgb{c.rgb}"))
        if c.n_seeds > 1:
            if c.seeds_diverged:
                t.append(f" ✗{len(c.seeds_diverged)}/{c.n_seeds}", Style(color=f"rgb{c.rgb}", bold=True))
        elif c.diverged_at is not None:
            t.append(f" ✗{c.diverged_at}", Style(color=f"rgb{c.rgb}", bold=True))
        t.append("  ")
    t.append("• test", muted)
    return t


def plot_title(seeds: int, log: bool, width: int) -> str:
    """The panel's title: what the lines are, as much as fits."""
    scale = ["log scale", "log"] if log else ["", ""]
    if seeds == 1:
        return "Loss" + (f" · {scale[0]}" if log else "")
    forms = [f"median of {seeds} seeds (faint: each seed)", f"median of {seeds} seeds", f"median of {seeds}"]
    for what in forms:
        for sc in scale:
            title = f"Loss · {what}" + (f" · {sc}" if sc else "")
            if len(title) <= width:
                return title
    return f"Loss · median of {seeds}"


class LossPlot(Panel):
    """Train and test loss of every variant over the run."""

    MIN_INTERVAL = 0.75  # a plotext build costs 10-40 ms

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Loss"
        self._log = False  # the y axis' scale at the last draw

    def titles(self) -> None:
        seeds = max((len(v.seeds) for v in self.views), default=1)
        self.set_titles(plot_title(seeds, self._log, self.size.width - 4))

    def build(self):
        views = self.views
        w, h = self.content_region.width, self.content_region.height
        curves = []
        total = max(v.total for v in views)
        bg = self.rich_style.bgcolor
        background = rgb_of(Style(color=bg)) if bg is not None else (0, 0, 0)
        for v in views:
            rgb = rgb_of(self.variant_style(v.index))
            steps, loss = median_series([(s.column("step"), s.column("loss"), s.diverged_at) for s in v.seeds])
            tests = []
            for s in v.seeds:
                tl = s.column("test_loss")
                ok = ~np.isnan(tl)
                tests.append((s.column("step")[ok], tl[ok], s.diverged_at))
            test_steps, test_loss = median_series(tests)
            curve = Curve(v.label, rgb, steps, loss, test_steps, test_loss, v.diverged_at, n_seeds=len(v.seeds))
            if v.several:
                curve.seed_rgb = blend(rgb, background, SEED_SHADE)
                for s in v.seeds:
                    own = s.column("loss").copy()
                    own[s.column("diverged") > 0] = np.nan  # the diverged step's loss would squash the axis
                    curve.seeds.append((s.column("step"), own))
                curve.seeds_diverged = [s.diverged_at for s in v.seeds if s.diverged_at is not None]
            curves.append(curve)
        muted = self.style_of("muted")
        plot, log = build_plot(curves, total, w, max(h - 1, 4), rgb_of(muted) if muted.color else None)
        if log != self._log:
            self._log = log
            self.titles()
        return Group(legend(curves, muted, w), Text.from_ansi(plot, no_wrap=True))
