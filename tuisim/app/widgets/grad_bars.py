"""Gradient bars: one bar per linear layer, input layer at the top, on a fixed log10 axis.

The axis never rescales, so 1e-12 and 1e+3 are both visible and comparable from one
frame to the next; each bar is coloured by its health and its value is printed beside
it. Variants stand side by side, so "sigmoid vs relu" is one glance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.text import Text

from ..format import ellipsize, layer_name, log10_safe, sample_rows, sci
from .panel import Panel

AXIS = (-14.0, 6.0)  # log10 range of the bars
VANISHING_BELOW = 1e-5
EXPLODING_ABOVE = 1e1
EIGHTHS = " ▏▎▍▌▋▊▉"
GLYPH = {"vanishing": "▾", "healthy": " ", "exploding": "▴"}
QUANTITIES = {
    "grad_norm": ("‖dL/dW‖", "the weights' gradient"),
    "delta_norm": ("‖dL/dz‖", "the back-propagated signal"),
}


def health(v: float) -> str:
    if not math.isfinite(v) or v > EXPLODING_ABOVE:
        return "exploding"
    return "vanishing" if v < VANISHING_BELOW else "healthy"


@dataclass
class BarColumn:
    label: str
    style: Style
    state: str
    values: np.ndarray | None  # one per layer, input side first


def decade(e: int) -> str:
    return "1" if e == 0 else ("10" if e == 1 else f"1e{e}")


def _ticks(lo: float, hi: float, cells: int) -> list[tuple[int, str]]:
    """(cell, label) of decade ticks, as many as fit without overlapping."""
    if cells < 5:
        return []
    exps: list[int] = []
    for step in (2, 4, 5, 10, 20):
        cells_per = step / (hi - lo) * cells
        first = math.ceil(lo / step) * step
        cand = list(range(int(first), int(hi) + 1, step))
        if cells_per >= 6 and len(cand) >= 2:
            exps = cand
            break
    if not exps:
        exps = [int(lo) + 4, 0] if cells >= 10 else [0]
    out = []
    for e in exps:
        x = int(round((e - lo) / (hi - lo) * cells - 0.5))
        if 0 <= x < cells:
            out.append((x, decade(e)))
    return out


def _bar(v: float, cells: int, lo: float, hi: float) -> tuple[str, bool]:
    """The bar's characters (len == cells) and whether it overflows the axis."""
    if not math.isfinite(v):
        return "█" * cells, True
    if v <= 0:
        return " " * cells, False
    x = (math.log10(v) - lo) / (hi - lo) * cells
    if x >= cells:
        return "█" * (cells - 1) + "▸", True
    x = max(x, 1 / 8)
    full = int(x)
    part = EIGHTHS[int((x - full) * 8)] if full < cells else ""
    s = "█" * full + part
    return s + " " * (cells - len(s)), False


def render_bars(columns: list[BarColumn], width: int, height: int, styles: dict[str, Style],
                muted: Style = Style(dim=True), axis: tuple[float, float] = AXIS) -> tuple[Text, str]:
    """The bars as Text, and a note ("12 of 21 layers") when rows were sampled."""
    text = Text(no_wrap=True, overflow="crop")
    if not columns or width < 12 or height < 4:
        return text, ""
    lo, hi = axis
    depths = [len(c.values) if c.values is not None else 0 for c in columns]
    layers = max(depths)
    shared = len(set(d for d in depths if d)) <= 1
    label_w = 4 if shared else 0
    gap = 2
    ncol = len(columns)
    col_w = max(8, (width - label_w - gap * (ncol - 1)) // ncol)
    own_label = 0 if shared else 4
    room = col_w - own_label
    value_w, digits = (8, 1) if room >= 26 else ((6, 0) if room >= 14 else (0, 0))
    bar_w = col_w - own_label - value_w - 1
    legend = height >= 12
    rows = height - 3 - (1 if legend else 0)
    idx = sample_rows(layers, rows)
    note = f"{len(idx)} of {layers} layers" if len(idx) < layers else ""
    ticks = _ticks(lo, hi, bar_w)
    tick_cells = {x for x, _ in ticks}

    # header: variant labels and states
    text.append(" " * label_w)
    for k, c in enumerate(columns):
        head = Text(no_wrap=True)
        head.append(c.label, c.style + Style(bold=True))
        if c.state:
            head.append(f" {c.state}", muted)
        head.truncate(col_w, overflow="ellipsis", pad=True)
        text.append_text(head)
        if k < ncol - 1:
            text.append(" " * gap)
    text.append("\n")

    # one row per (sampled) layer
    per_col_idx = [sample_rows(d, len(idx)) if not shared else idx for d in depths]
    for row in range(len(idx)):
        if shared:
            text.append(f"{layer_name(int(idx[row]), layers):>3} ", muted)
        for k, c in enumerate(columns):
            ci = per_col_idx[k]
            if c.values is None or row >= len(ci):
                text.append(" " * col_w)
            else:
                i = int(ci[row])
                if not shared:
                    text.append(f"{layer_name(i, depths[k]):>3} ", muted)
                v = float(c.values[i])
                h = health(v)
                chars, _ = _bar(v, bar_w, lo, hi)
                bar = chars.rstrip(" ")
                text.append(bar, styles[h])
                text.append(" " * (bar_w - len(bar)))
                if value_w:
                    text.append(f"{sci(v, digits):>{value_w}}", styles[h] if h != "healthy" else Style())
                text.append(GLYPH[h], styles[h])
            if k < ncol - 1:
                text.append(" " * gap)
        text.append("\n")

    # the fixed axis, coloured by zone, and its tick labels
    def zone(x: int) -> str:
        return health(10 ** (lo + (x + 0.5) / bar_w * (hi - lo)))

    text.append(" " * label_w)
    for k in range(ncol):
        text.append(" " * own_label)
        x = 0
        while x < bar_w:  # one span per zone
            z, run = zone(x), ""
            while x < bar_w and zone(x) == z:
                run += "┴" if x in tick_cells else "─"
                x += 1
            text.append(run, styles[z])
        text.append(" " * (value_w + 1))
        if k < ncol - 1:
            text.append(" " * gap)
    text.append("\n")
    text.append(" " * label_w)
    for k in range(ncol):
        line = [" "] * (bar_w + own_label + value_w + 1)
        for x, lab in ticks:
            start = min(max(0, own_label + x - len(lab) // 2), len(line) - len(lab))
            line[start:start + len(lab)] = list(lab)
        text.append("".join(line), muted)
        if k < ncol - 1:
            text.append(" " * gap)
    if legend:
        text.append("\n")
        text.append(" " * label_w)
        text.append_text(legend_text(styles, muted, width - label_w))
    return text, note


def legend_text(styles: dict[str, Style], muted: Style, width: int) -> Text:
    """The health colours' key, as long as fits in width."""
    lo, hi = decade(int(math.log10(VANISHING_BELOW))), decade(int(math.log10(EXPLODING_ABOVE)))
    forms = [
        [("▾ vanishing", "vanishing"), (f" < {lo}   ", None), ("healthy", "healthy"),
         ("   ▴ exploding", "exploding"), (f" > {hi}", None)],
        [("▾ vanishing", "vanishing"), ("  ", None), ("healthy", "healthy"), ("  ▴ exploding", "exploding")],
        [("▾ vanish", "vanishing"), (" ", None), ("ok", "healthy"), (" ▴ explode", "exploding")],
    ]
    for form in forms:
        if sum(len(s) for s, _ in form) <= width or form is forms[-1]:
            t = Text(no_wrap=True, overflow="crop")
            for s, h in form:
                t.append(s, styles[h] if h else muted)
            return t
    return Text()


class GradBars(Panel):
    """One bar per layer and variant: ‖dL/dW‖ or ‖dL/dz‖ (the `quantity`)."""

    DEFAULT_CSS = """
    GradBars { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.quantity = "grad_norm"

    def set_quantity(self, quantity: str) -> None:
        self.quantity = quantity
        self._retitle("")
        self.redraw()

    def _retitle(self, note: str) -> None:
        sym, what = QUANTITIES[self.quantity]
        self.border_title = f"Gradient {sym} per layer (log)"
        other = QUANTITIES["delta_norm" if self.quantity == "grad_norm" else "grad_norm"][0]
        self.border_subtitle = (f"{note} · " if note else "") + f"g: show {other}"

    def on_mount(self) -> None:
        self._retitle("")

    def show(self, views, force: bool = False) -> None:
        sig = self._signature(views)
        if not force and sig == getattr(self, "_sig", None):
            self.views = views
            return
        self._sig = sig
        super().show(views, force=force)

    def _signature(self, views) -> tuple:
        """What the bars show, rounded as drawn: frames that would look the same are skipped."""
        out = []
        for v in views:
            row = v.latest(self.quantity)
            if row is None:
                out.append(None)
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                out.append((v.status, tuple(np.round(np.log10(np.abs(row)) * 20).tolist())))
        return tuple(out)

    def build(self):
        views = self.views
        cols = []
        for v in views:
            state = {"done": "✓ done", "running": "", "ready": "", "diverged": f"✗ diverged@{v.diverged_at}"}.get(
                v.status, v.state)
            cols.append(BarColumn(v.label, self.variant_style(v.index), state, v.latest(self.quantity)))
        text, note = render_bars(cols, self.content_region.width, self.content_region.height,
                                 self.health_styles(), self.style_of("muted"))
        if note != getattr(self, "_note", None):
            self._note = note
            self.call_later(self._retitle, note)
        return text
