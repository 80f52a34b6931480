"""The loss plot: train loss (heavy lines) and test loss (dashed) per variant, in braille.

Lines are drawn dot by dot on a braille canvas (tuisim.app.widgets.braille), continuous
at any size, with axes whose ticks each sit on their own row (tuisim.app.widgets.plot).
The x axis spans the whole run, so curves grow left to right instead of being rescaled;
the y axis turns logarithmic when the losses span more than a decade, and follows the
lines after the run's first steps (axis_values): what lies beyond runs along the edge,
marked ▲. A variant that diverged gets a vertical line and ✗ at its step.

With several seeds a variant's line is the median across its seeds (test loss too),
drawn over each seed's own train loss in a fainter shade of the same colour; a seed
that diverged counts as +inf from its divergence on (tuisim.app.spread), so the median
line ends, with its marker, once half the seeds have diverged, and each diverged seed
gets a faint marker of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rich.cells import cell_len
from rich.color import Color
from rich.console import Group
from rich.style import Style
from rich.text import Text

from tuisim.i18n import _

from ..format import log10_safe, num, shorten_labels
from ..spread import median_series
from .braille import Canvas
from .panel import Panel
from .plot import framed, linear_ticks, log_ticks, rgb_of, row_of, tick_label, x_ticks

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
    marker: str = ""  # a second cue beside the colour, for variants past the palette's size


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
    """log10 positions and labels of ticks between lo and hi (log10 values), for the
    sweep's plotext curves."""
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
                labs.append(tick_label(s * 10.0 ** e))
    if len(pos) < 2:
        mid = (lo + hi) / 2
        pos, labs = [lo, mid, hi], [num(10 ** lo, 2), num(10 ** mid, 2), num(10 ** hi, 2)]
    return pos, labs


def axis_values(curves: list[Curve], total: int, bins: int = 0, log: bool = True) -> np.ndarray:
    """The losses the y axis spans: the lines (medians) and the test losses, leaving out
    the first 2% of a long run (at least its first 3 steps), where an early spike of 1e4
    would squeeze the rest of the run into a flat band. Test losses reach at most a decade
    above the highest line (an evaluation with batch norm's running statistics early in
    a run can give 1e6); the seeds' own faint lines do not stretch the axis either, nor
    does a diverged line's climb to 1e60 before it: while some variant has not diverged,
    the diverged ones' count up to a decade above the highest of the others. What lies
    beyond is drawn on the axis' edge. A run still in its first steps uses all.

    With `bins`, each line counts as drawn: its mean over each of `bins` slices of the run
    (of log10 values when `log`), so one batch of a single example with a loss of 1e-9
    does not pull the axis down six decades below the line."""
    skip = max(3, int(0.02 * total))

    def kept(pairs, after):
        out = []
        for steps, loss in pairs:
            ok = np.isfinite(loss) & (loss > 0) & (steps >= after)
            if bins and ok.any():
                y = np.log10(loss[ok]) if log else loss[ok]
                _, y = bin_mean(steps[ok], y, total, bins)
                out.append(10.0 ** y if log else y)
            else:
                out.append(loss[ok])
        return np.concatenate(out + [np.zeros(0)])

    def lines(after):
        going = kept([(c.steps, c.loss) for c in curves if c.diverged_at is None], after)
        gone = kept([(c.steps, c.loss) for c in curves if c.diverged_at is not None], after)
        if not len(going) or not len(gone):
            return np.concatenate([going, gone])
        top = 10 * going.max()
        return np.concatenate([going, gone[gone <= top], [min(gone.max(), top)]])

    for after in (skip, 0):
        train = lines(after)
        test = kept([(c.test_steps, c.test_loss) for c in curves], after)
        if len(train) and len(test):
            return np.concatenate([train, test[test <= 10 * train.max()], [min(test.max(), 10 * train.max())]])
        if len(train) or len(test):
            return np.concatenate([train, test])
    return np.concatenate([y[np.isfinite(y) & (y > 0)] for c in curves for _, y in c.seeds] + [np.zeros(0)])


def style_of(rgb: tuple[int, int, int], bold: bool = False) -> Style:
    return Style(color=Color.from_rgb(*rgb), bold=bold)


def y_range(vals: np.ndarray, log: bool) -> tuple[float, float]:
    """The y axis' ends (log10 values on a log axis), with a little room above and below."""
    if not len(vals):
        return (0.0, 1.0)
    lo, hi = (float(np.log10(vals.min())), float(np.log10(vals.max()))) if log else (float(vals.min()),
                                                                                    float(vals.max()))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.04
    return lo - pad, hi + pad


def build_plot(curves: list[Curve], total: int, width: int, height: int,
               muted: Style = Style(dim=True)) -> tuple[list[Text], bool]:
    """The plot, axes included, as `height` lines of `width` cells, and whether the y axis
    is logarithmic. Drawn in braille (tuisim.app.widgets.braille): each variant's train
    line (with several seeds, their median) heavy, its test loss thin and dashed over it
    (a noisy batch loss would hide it beneath), its seeds' own lines thin in a fainter
    shade beneath both; a vertical line and ✗ where it diverged; ▲ where a line leaves
    the top of the axis (its first steps' spike), ▼ the bottom."""
    bins = max(2 * (width - 6), 8)  # about the canvas' dot columns (its y labels take 5 or 6 cells)
    vals = axis_values(curves, total, bins)
    log = bool(len(vals)) and vals.max() / max(vals.min(), 1e-300) > 10
    if not log:
        vals = axis_values(curves, total, bins, log=False)
    lo, hi = y_range(vals, log)
    rows = max(height - 2, 1)
    yt = log_ticks(lo, hi, rows) if log else linear_ticks(lo, hi, rows)
    yticks = [(row_of(p, lo, hi, rows), lab) for p, lab in yt]
    label_w = max((len(lab) for _, lab in yticks), default=1)
    cols = max(width - label_w - 1, 1)
    canvas = Canvas(cols, rows)
    total = max(total, 1)
    tr = log10_safe if log else (lambda a: np.asarray(a, dtype=np.float64))

    def to_dots(steps, values, bins):
        """The points in dot coordinates, averaged over each of `bins` slices of the run."""
        values = np.asarray(values, dtype=np.float64)
        ok = np.isfinite(values) & ((values > 0) if log else True)
        if not ok.any():
            return None
        x, y = bin_mean(np.asarray(steps)[ok], tr(values[ok]), total, bins)
        return x / total * canvas.w, (hi - y) / (hi - lo) * canvas.h

    def x_dot(step):
        return min(step / total * canvas.w, canvas.w - 1)

    for c in curves:  # every seed's faint line first: beneath everything
        faint = style_of(c.seed_rgb or c.rgb)
        for steps, loss in c.seeds:
            pts = to_dots(steps, loss, canvas.w)
            if pts is not None:
                canvas.line(*pts, faint, tier=0)
        for d in c.seeds_diverged:
            if d != c.diverged_at:
                canvas.vline(x_dot(d), faint, tier=0, dash=1)
    for k, c in enumerate(curves):
        st = style_of(c.rgb)
        test = to_dots(c.test_steps, c.test_loss, canvas.w)
        if test is not None:
            canvas.line(*test, st, tier=3, dash=1, clip_marks=True)  # thin and dashed: on top
        train = to_dots(c.steps, c.loss, canvas.w)
        if train is not None:
            canvas.line(*train, st, tier=2, thick=2 if rows >= 4 else 1, clip_marks=True)
            if c.marker:  # the second cue, past the palette's colours: its marker along the line
                x, y = train
                every = max(cols // 3, 4)
                for col in range((k * 3) % every, cols, every):
                    i = int(np.searchsorted(x, 2 * col + 1))
                    if i < len(x):
                        canvas.mark(x[i], y[i], c.marker, st)
                canvas.mark(x[-1], y[-1], c.marker, st)
        if c.diverged_at is not None:
            canvas.vline(x_dot(c.diverged_at), st, tier=1)
            canvas.mark(x_dot(c.diverged_at), 0, "✗", style_of(c.rgb, bold=True))
    return framed(canvas.lines(), yticks, x_ticks(total, cols), muted, label_w), log


TRAIN, TEST = "━━", "╌╌"


def legend(curves: list[Curve], muted: Style, width: int, lines: int = 1) -> list[Text]:
    """Each variant's line sample and name (names shortened alike until every entry fits
    on `lines` lines, distinct: tuisim.app.format.shorten_labels, but not below 7
    characters: then the last line ends in "…"), its diverged seeds (✗2/3) or divergence
    step, and the test loss' dashed sample."""
    has_test = any(np.isfinite(c.test_loss).any() for c in curves)
    test = [(f"{TEST} " + _("test"), muted)] if has_test else []

    def extra(c: Curve) -> str:
        if c.n_seeds > 1:
            return f" ✗{len(c.seeds_diverged)}/{c.n_seeds}" if c.seeds_diverged else ""
        return f" ✗@{c.diverged_at}" if c.diverged_at is not None else ""  # as the bars: diverged@2

    def layout(names: list[str], width: int = width) -> list[list[tuple[str, Style]]]:
        entries = [[(TRAIN + c.marker + " ", style_of(c.rgb)), (name, style_of(c.rgb)),
                    (extra(c), style_of(c.rgb, bold=True))] for c, name in zip(curves, names)]
        entries += [[t] for t in test]
        out: list[list[tuple[str, Style]]] = [[]]
        used = 0
        for e in entries:
            n = sum(cell_len(s) for s, __ in e)
            if used and used + 2 + n > width:
                out.append([])
                used = 0
            if used:
                out[-1].append(("  ", Style()))
                used += 2
            out[-1].extend(e)
            used += n
        return out

    labels = [c.label for c in curves]
    longest = max((cell_len(s) for s in labels), default=0)
    rows = layout(labels)
    for w in range(longest, 6, -1):  # names of 7 and more: past that, the entries that fit, then "…"
        rows = layout(shorten_labels(labels, w))
        if len(rows) <= lines:
            break
    more = len(rows) > lines
    if more:  # entries left out: the last line says so
        rows = layout(shorten_labels(labels, 7), width - 3)
    out = []
    for k, row in enumerate(rows[:lines]):
        t = Text(no_wrap=True, overflow="ellipsis")
        for s, st in row:
            t.append(s, st)
        if more and k == lines - 1:
            t.append("  …")
        t.truncate(width, overflow="ellipsis")
        out.append(t)
    return out


def plot_title(seeds: int, log: bool, width: int) -> str:
    """The panel's title: what the lines are, as much as fits (in cells)."""
    scale = [_("log scale"), _("log")] if log else ["", ""]
    loss = _("Loss")
    if seeds == 1:
        return loss + (f" · {scale[0]}" if log else "")
    forms = [_("median of {n} seeds (faint: each seed)").format(n=seeds), _("median of {n} seeds").format(n=seeds),
             _("median of {n}").format(n=seeds)]
    for what in forms:
        for sc in scale:
            title = f"{loss} · {what}" + (f" · {sc}" if sc else "")
            if cell_len(title) <= width:
                return title
    return f"{loss} · " + _("median of {n}").format(n=seeds)


class LossPlot(Panel):
    """Train and test loss of every variant over the run."""

    MIN_INTERVAL = 0.75  # a build costs a few ms to 20 ms (7 variants x 3 seeds)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = _("Loss")
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
                if "test_loss" not in s.view.scalars:  # a point on a surface has no test split
                    continue
                tl = s.column("test_loss")
                ok = ~np.isnan(tl)
                tests.append((s.column("step")[ok], tl[ok], s.diverged_at))
            test_steps, test_loss = median_series(tests)
            curve = Curve(v.label, rgb, steps, loss, test_steps, test_loss, v.diverged_at, n_seeds=len(v.seeds),
                          marker=self.variant_marker(v.index))
            if v.several:
                curve.seed_rgb = blend(rgb, background, SEED_SHADE)
                for s in v.seeds:
                    own = s.column("loss").copy()
                    own[s.column("diverged") > 0] = np.nan  # the diverged step's loss would squash the axis
                    curve.seeds.append((s.column("step"), own))
                curve.seeds_diverged = [s.diverged_at for s in v.seeds if s.diverged_at is not None]
            curves.append(curve)
        muted = self.style_of("muted")
        keys = legend(curves, muted, w, lines=1 if h < 12 else (2 if h < 18 else 3))  # the names whole, where that is all it takes
        plot, log = build_plot(curves, total, w, max(h - len(keys), 3), muted)
        if log != self._log:
            self._log = log
            self.titles()
        return Group(*keys, *plot)
