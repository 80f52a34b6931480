"""Per-layer histograms as ridges: one sparkline row per layer, input layer at the top.

Activations (on the engine's fixed range: sigmoid [0, 1], tanh [-1, 1], else [-4, 4])
or back-propagated gradients (log10 |dL/dz| over [-14, 2]). Exact zeros are in no bin:
each row starts with their share of the layer's values, under "=0" (a ReLU unit that is
off outputs 0 and passes back a dL/dz of 0; put in the 1e-14 bin they looked like
vanishing gradients). The ridges share one scale, every row and every variant: a cell's
height is the share of its layer's values in it, and the legend line says what a full
cell is; so a spread distribution reads as a low wide ridge and a collapsed one as a
spike, comparable from layer to layer. Variants side by side: "BatchNorm keeps every
layer's distribution spread" is one glance. With several seeds, each bin (and the zero
count) is the median of the seeds' counts at the latest step they were taken (the title
says of how many seeds: one that diverged stopped earlier).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from tuisim.i18n import N_, _

from ..format import layer_name, pad_cells, sample_rows, shorten_labels
from ..spread import median_histogram
from .panel import Panel

SPARKS = " ▁▂▃▄▅▆▇█"
GRAD_RANGE = (-14.0, 2.0)
OUTPUT_RANGE = (-4.0, 4.0)


def act_range(activation: str) -> tuple[float, float]:
    try:
        from tuisim.core.activations import histogram_range

        lo, hi = histogram_range(activation)
        return float(lo), float(hi)
    except Exception:  # an activation the engine does not know: its default range
        return OUTPUT_RANGE


def resample(counts: np.ndarray, cells: int) -> np.ndarray:
    """Sum the bins into `cells` (cells <= bins), or repeat them (cells > bins)."""
    bins = len(counts)
    if cells <= 0 or bins == 0:
        return np.zeros(max(cells, 0))
    if cells >= bins:
        return counts[np.minimum((np.arange(cells) * bins) // cells, bins - 1)]
    edges = (np.arange(cells) * bins) // cells
    return np.add.reduceat(counts, edges)


def spark(counts: np.ndarray, peak: float | None = None) -> str:
    """A sparkline of `counts`, a full cell at `peak` (default: their maximum); any
    nonzero count shows at least the lowest level."""
    if peak is None:
        peak = counts.max() if len(counts) else 0
    if peak <= 0:
        return " " * len(counts)
    levels = np.clip(np.ceil(counts / peak * 8), 0, 8).astype(int)
    return "".join(SPARKS[k] for k in levels)


def share_text(share: float) -> str:
    """A share of a layer's values in 3 cells: "  ·" for none, "<1%", "48%", "all"."""
    if share <= 0:
        return "  ·"
    if share >= 1:
        return "all"
    if share < 0.005:
        return "<1%"
    return f"{min(99, round(share * 100)):>2d}%"


def _pct(share: float) -> str:
    return f"{share:.0%}" if share >= 0.095 else f"{share * 100:.2g}%"


def _fmt_edge(v: float, log: bool, short: bool = False) -> str:
    if log:
        if short:  # the exponent alone: the axis is of log10 values
            return f"{int(v)}"
        return "1" if v == 0 else f"1e{int(v)}"
    return f"{v:g}"


def _axis(lo: float, hi: float, log: bool, w: int) -> str:
    """The ends (and the middle, when there is room) of a ridge's axis in w cells."""
    for short in (False, True):
        a, b = _fmt_edge(lo, log, short), _fmt_edge(hi, log, short)
        if len(a) + len(b) + 1 <= w:
            break
    else:
        return a[:w].ljust(w)
    line = [" "] * w
    line[:len(a)] = a
    mid = _fmt_edge((lo + hi) / 2, log, short)
    if w > len(a) + len(mid) + len(b) + 4:
        s = (w - len(mid)) // 2
        line[s:s + len(mid)] = mid
    line[w - len(b):] = b
    return "".join(line)


@dataclass
class HistColumn:
    label: str
    style: Style
    hist: np.ndarray | None  # (layers, bins): the nonzero values
    lo: float
    hi: float
    log: bool = False
    zero: np.ndarray | None = None  # (layers,): the exact zeros (none, when None)


ZERO_W = 3  # the "=0" cell, then a space, then the ridge
ZERO_NOTE = {"act": N_("=0: exactly 0 (a ReLU unit that is off)"),
             "grad": N_("=0: dL/dz exactly 0 (a unit that is off)")}  # translated where shown


def legend(peak: float, kind: str, width: int) -> str:
    """What a full cell is and what =0 means, as much of it as fits in `width`."""
    if peak <= 0:
        return _("no values in range")
    share = _pct(peak)
    full = _("█ = {share} of a layer").format(share=share)
    for text in (_("█ = {share} of a layer's values, one scale for every row").format(share=share) + " · "
                 + _(ZERO_NOTE.get(kind, ZERO_NOTE["act"])),
                 full + _(", one scale for every row") + " · " + _("=0: exactly 0"),
                 full + _(", every row") + " · " + _("=0: exactly 0"),
                 full + " · " + _("=0: exactly 0")):
        if cell_len(text) <= width:
            return text
    return full


def render_histograms(columns: list[HistColumn], width: int, height: int, muted: Style,
                      kind: str = "act") -> tuple[Text, str]:
    text = Text(no_wrap=True, overflow="crop")
    if not columns:
        return text, ""
    label_w, gap = 4, 2
    n = len(columns)
    col_w = max(ZERO_W + 5, (width - label_w - gap * (n - 1)) // n)
    ridge_w = col_w - ZERO_W - 1
    layers = max(c.hist.shape[0] for c in columns if c.hist is not None) if any(
        c.hist is not None for c in columns) else 0
    with_legend = height >= 6
    rows = max(1, height - 2 - with_legend)
    idx = sample_rows(layers, rows)
    note = _("{n} of {layers} layers").format(n=len(idx), layers=layers) if len(idx) < layers else ""
    text.append(" " * label_w)
    names = shorten_labels([c.label for c in columns], col_w)
    for k, c in enumerate(columns):
        text.append(pad_cells(names[k], col_w), c.style + Style(bold=True))
        if k < n - 1:
            text.append(" " * gap)
    text.append("\n")
    if not layers:
        text.append(" " * label_w + _("no histograms yet (taken twice a second while training)"), muted)
        return text, ""
    # every cell as a share of its layer's values (zeros included), on one scale
    cells: dict[tuple[int, int], np.ndarray] = {}
    zeros: dict[tuple[int, int], float] = {}
    for k, c in enumerate(columns):
        if c.hist is None:
            continue
        for i in idx:
            if i >= c.hist.shape[0]:
                continue
            z = float(c.zero[i]) if c.zero is not None and i < len(c.zero) else 0.0
            total = float(c.hist[i].sum()) + z
            cells[k, i] = resample(c.hist[i], ridge_w) / total if total > 0 else np.zeros(ridge_w)
            zeros[k, i] = z / total if total > 0 else 0.0
    peak = max((float(v.max()) for v in cells.values() if len(v)), default=0.0)
    for i in idx:
        text.append(f"{layer_name(int(i), layers):>3} ", muted)
        for k, c in enumerate(columns):
            if (k, i) not in cells:
                text.append(" " * col_w)
            else:
                z = zeros[k, i]
                text.append(share_text(z), c.style if z > 0 else muted)
                text.append(" " + spark(cells[k, i], peak), c.style)
            if k < n - 1:
                text.append(" " * gap)
        text.append("\n")
    text.append(" " * label_w)
    for k, c in enumerate(columns):
        text.append("=0".ljust(ZERO_W + 1) + _axis(c.lo, c.hi, c.log, ridge_w), muted)
        if k < n - 1:
            text.append(" " * gap)
    if with_legend:
        text.append("\n" + " " * label_w + legend(peak, kind, width - label_w), muted)
    return text, note


class Histograms(Panel):
    """Per-layer histograms of activations or gradients (`kind`), variants side by side."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.kind = "act"

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self._retitle("")
        self.redraw()

    def _retitle(self, note: str) -> None:
        what = _("activations") if self.kind == "act" else _("gradients log10 |dL/dz|")
        other = _("gradients") if self.kind == "act" else _("activations")
        steps = {s.history.hist_step for v in self.views or () for s in v.seeds} - {-1}
        at = _(" at step {step}").format(step=max(steps)) if steps else ""
        if steps and all(s.status == "done" and s.history.hist_step == v.total - 1
                         for v in self.views for s in v.seeds):
            at += _(" (last)")  # steps count from 0: the 300th is step 299
        seeds = max((len(v.seeds) for v in self.views or ()), default=1)
        if seeds > 1:  # the median is of the seeds whose histograms are of their variant's latest step
            used = set()
            for v in self.views:
                taken = [s.history.hist_step for s in v.seeds if s.history.hist_step >= 0]
                used.add(sum(1 for t in taken if t == max(taken)) if taken else 0)
            used = sorted(used)
            of = f"{seeds}" if used == [seeds] else _("{used} of {seeds}").format(
                used=f"{used[0]}{f'-{used[-1]}' if len(used) > 1 else ''}", seeds=seeds)
            at += _(", median of {of} seeds").format(of=of)
        self.set_titles(_("Histograms of {what}{at}").format(what=what, at=at),
                        (f"{note} · " if note else "") + _("h: show {other}").format(other=other))

    def on_mount(self) -> None:
        self._retitle("")

    def titles(self) -> None:
        self._retitle(getattr(self, "_note", ("",))[0])

    MIN_INTERVAL = 0.5

    def build(self):
        views = self.views
        cols = []
        for v in views:
            # the zero count as one more bin, so that the median takes it with the rest
            hist, __, ___ = median_histogram([(_with_zeros(s.history, self.kind), s.history.hist_step)
                                           for s in v.seeds])
            bins, zero = (None, None) if hist is None else (hist[:, :-1], hist[:, -1])
            if self.kind == "act":
                lo, hi = act_range(v.activation)
                cols.append(HistColumn(v.label, self.variant_style(v.index), bins, lo, hi, zero=zero))
            else:
                cols.append(HistColumn(v.label, self.variant_style(v.index), bins, *GRAD_RANGE, log=True, zero=zero))
        text, note = render_histograms(cols, self.content_region.width, self.content_region.height,
                                       self.style_of("muted"), self.kind)
        steps = max((s.history.hist_step for v in views for s in v.seeds), default=-1)
        titled = (note, steps)
        if titled != getattr(self, "_note", None):
            self._note = titled
            self.call_later(self._retitle, note)
        return text


def _with_zeros(history, kind: str) -> np.ndarray | None:
    """A history's latest (layers, bins) histogram of `kind` with its zero count as a last
    column (read once each: the worker may replace them meanwhile)."""
    hist, zero = (history.act_hist, history.act_zero) if kind == "act" else (history.grad_hist, history.grad_zero)
    if hist is None:
        return None
    if zero is None or len(zero) != len(hist):
        zero = np.zeros(len(hist))
    return np.column_stack([hist, zero])
