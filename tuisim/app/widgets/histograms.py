"""Per-layer histograms as ridges: one sparkline row per layer, input layer at the top.

Activations (on the engine's fixed range: sigmoid [0, 1], tanh [-1, 1], else [-4, 4])
or back-propagated gradients (log10 |dL/dz| over [-14, 2]); each row is scaled to its
own peak, so a spread distribution reads as a wide ridge and a collapsed one as a spike.
Variants side by side: "BatchNorm keeps every layer's distribution spread" is one glance.
With several seeds, each bin is the median of the seeds' counts at the latest step they
were taken (the title says of how many seeds: one that diverged stopped earlier).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.text import Text

from ..format import layer_name, sample_rows, shorten_labels
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


def spark(counts: np.ndarray) -> str:
    peak = counts.max() if len(counts) else 0
    if peak <= 0:
        return " " * len(counts)
    levels = np.ceil(counts / peak * 8).astype(int)
    return "".join(SPARKS[k] for k in levels)


def _fmt_edge(v: float, log: bool) -> str:
    if log:
        return "1" if v == 0 else f"1e{int(v)}"
    return f"{v:g}"


@dataclass
class HistColumn:
    label: str
    style: Style
    hist: np.ndarray | None  # (layers, bins)
    lo: float
    hi: float
    log: bool = False


def render_histograms(columns: list[HistColumn], width: int, height: int, muted: Style) -> tuple[Text, str]:
    text = Text(no_wrap=True, overflow="crop")
    if not columns:
        return text, ""
    label_w, gap = 4, 2
    n = len(columns)
    col_w = max(6, (width - label_w - gap * (n - 1)) // n)
    layers = max(c.hist.shape[0] for c in columns if c.hist is not None) if any(
        c.hist is not None for c in columns) else 0
    rows = max(1, height - 2)
    idx = sample_rows(layers, rows)
    note = f"{len(idx)} of {layers} layers" if len(idx) < layers else ""
    text.append(" " * label_w)
    names = shorten_labels([c.label for c in columns], col_w)
    for k, c in enumerate(columns):
        text.append(names[k].ljust(col_w), c.style + Style(bold=True))
        if k < n - 1:
            text.append(" " * gap)
    text.append("\n")
    if not layers:
        text.append(" " * label_w + "no histograms yet (taken twice a second while training)", muted)
        return text, ""
    for i in idx:
        text.append(f"{layer_name(int(i), layers):>3} ", muted)
        for k, c in enumerate(columns):
            if c.hist is None or i >= c.hist.shape[0]:
                text.append(" " * col_w)
            else:
                text.append(spark(resample(c.hist[i], col_w)), c.style)
            if k < n - 1:
                text.append(" " * gap)
        text.append("\n")
    text.append(" " * label_w)
    for k, c in enumerate(columns):
        lo, hi = _fmt_edge(c.lo, c.log), _fmt_edge(c.hi, c.log)
        mid = _fmt_edge((c.lo + c.hi) / 2, c.log)
        line = [" "] * col_w
        line[:len(lo)] = lo
        if col_w > len(lo) + len(mid) + len(hi) + 4:
            s = (col_w - len(mid)) // 2
            line[s:s + len(mid)] = mid
        line[col_w - len(hi):] = hi
        text.append("".join(line)[:col_w], muted)
        if k < n - 1:
            text.append(" " * gap)
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
        what = "activations" if self.kind == "act" else "gradients log10 |dL/dz|"
        other = "gradients" if self.kind == "act" else "activations"
        steps = {s.history.hist_step for v in self.views or () for s in v.seeds} - {-1}
        at = f" at step {max(steps)}" if steps else ""
        seeds = max((len(v.seeds) for v in self.views or ()), default=1)
        if seeds > 1:  # the median is of the seeds whose histograms are of their variant's latest step
            used = set()
            for v in self.views:
                taken = [s.history.hist_step for s in v.seeds if s.history.hist_step >= 0]
                used.add(sum(1 for t in taken if t == max(taken)) if taken else 0)
            used = sorted(used)
            of = f"{seeds}" if used == [seeds] else f"{used[0]}{f'-{used[-1]}' if len(used) > 1 else ''} of {seeds}"
            at += f", median of {of} seeds"
        self.set_titles(f"Histograms per layer: {what}{at}", (f"{note} · " if note else "") + f"h: show {other}")

    def on_mount(self) -> None:
        self._retitle("")

    def titles(self) -> None:
        self._retitle(getattr(self, "_note", ("",))[0])

    MIN_INTERVAL = 0.5

    def build(self):
        views = self.views
        cols = []
        for v in views:
            hist, _, _ = median_histogram([(s.history.act_hist if self.kind == "act" else s.history.grad_hist,
                                            s.history.hist_step) for s in v.seeds])
            if self.kind == "act":
                lo, hi = act_range(v.activation)
                cols.append(HistColumn(v.label, self.variant_style(v.index), hist, lo, hi))
            else:
                cols.append(HistColumn(v.label, self.variant_style(v.index), hist, *GRAD_RANGE, log=True))
        text, note = render_histograms(cols, self.content_region.width, self.content_region.height,
                                       self.style_of("muted"))
        steps = max((s.history.hist_step for v in views for s in v.seeds), default=-1)
        titled = (note, steps)
        if titled != getattr(self, "_note", None):
            self._note = titled
            self.call_later(self._retitle, note)
        return text
