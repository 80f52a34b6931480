"""Gradient bars: one bar per linear layer, input layer at the top, on a fixed log10 axis.

The axis never rescales, so 1e-12 and 1e+3 are both visible and comparable from one
frame to the next; each bar is coloured by its health and its value is printed beside
it. Variants stand side by side, so "sigmoid vs relu" is one glance.

On 20 decades a 100x difference is a tenth of the bar: `f` puts the bars on an axis
around the data (zoomed_axis, shared by the variants) instead, and under each variant
the ratio of its first layer's value to its last's ("first/last = 1/120") says it in
numbers, on either axis, where the height allows.

With several seeds a bar is the median across the seeds (its value printed), and a
whisker marks their range where it fits: the bar is solid up to the smallest seed's
value and shaded (▓) from there to the median, and a thin line (─┤) runs on to the
largest seed's value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from tuisim.i18n import N_, _

from ..format import layer_name, ratio_text, sample_rows, sci, shorten_labels
from ..spread import latest_spread
from .panel import Panel

AXIS = (-14.0, 6.0)  # log10 range of the bars
VANISHING_BELOW = 1e-5
EXPLODING_ABOVE = 1e1
EIGHTHS = " ▏▎▍▌▋▊▉"
MIN_COL = 8  # a variant's column, at the least
SPREAD, WHISKER, CAP = "▓", "─", "┤"  # below the median (inside the bar), above it, the largest seed
GLYPH = {"vanishing": "▾", "healthy": " ", "exploding": "▴"}
QUANTITIES = {
    "grad_norm": ("‖dL/dW‖", N_("the weights' gradient")),
    "delta_norm": ("‖dL/dz‖", N_("the back-propagated signal")),
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
    values: np.ndarray | None  # one per layer, input side first (several seeds: the median)
    low: np.ndarray | None = None  # several seeds: the smallest and largest seed's value per layer
    high: np.ndarray | None = None


def decade(e: int) -> str:
    return "1" if e == 0 else ("10" if e == 1 else f"1e{e}")


def _ticks(lo: float, hi: float, cells: int) -> list[tuple[int, str]]:
    """(cell, label) of decade ticks, as many as fit without overlapping: every decade, or
    every 2nd, 4th, 5th...; else the one decade nearest the middle."""
    if cells < 3 or hi <= lo:
        return []

    def cell(e: int) -> int:  # the cell a bar reaching 10**e ends in
        return min(int(round((e - lo) / (hi - lo) * cells - 0.5)), cells - 1)

    decades = [e for e in range(math.ceil(lo), math.floor(hi) + 1) if 0 <= cell(e) < cells]
    for step in (1, 2, 4, 5, 10, 20):
        exps = [e for e in decades if e % step == 0]
        widest = max((len(decade(e)) for e in exps), default=0)
        if len(exps) >= 2 and (cell(exps[1]) - cell(exps[0])) >= widest + 1:
            return [(cell(e), decade(e)) for e in exps]
    if not decades:
        return []
    e = min(decades, key=lambda e: abs(e - (lo + hi) / 2))
    return [(cell(e), decade(e))]


def zoomed_axis(columns: list["BarColumn"]) -> tuple[float, float]:
    """A log10 axis around the data: from a little below the smallest value shown (whisker
    ends included) to the decade above the largest, at least two decades wide; the fixed
    AXIS when nothing is finite and positive."""
    vals = [a for c in columns for a in (c.values, c.low, c.high) if a is not None]
    v = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in vals]) if vals else np.zeros(0)
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return AXIS
    lo = math.floor(float(np.log10(v.min())) - 0.3)
    hi = math.ceil(float(np.log10(v.max())) + 0.1)
    if hi - lo < 2:  # widen to two decades, the room below first
        pad = 2 - (hi - lo)
        lo, hi = lo - (pad + 1) // 2, hi + pad // 2
    return float(max(lo, AXIS[0] - 10)), float(min(hi, AXIS[1] + 10))


def first_last(values: np.ndarray | None) -> str:
    """The ratio of the first layer's value to the last's: "1/120", "35", "–"."""
    if values is None or len(values) < 2:
        return "–"
    return ratio_text(float(values[0]), float(values[-1]))


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


def _cell_of(v: float, cells: int, lo: float, hi: float) -> float:
    """Where v falls along the bar, in cells (0 for 0 and below the axis, `cells` past it)."""
    if not math.isfinite(v):
        return float(cells) if v > 0 or math.isnan(v) else 0.0
    if v <= 0:
        return 0.0
    return min(max((math.log10(v) - lo) / (hi - lo) * cells, 0.0), float(cells))


def whiskered(v: float, low: float, high: float, cells: int, lo: float, hi: float) -> list[tuple[str, str]]:
    """The median's bar with the seeds' range, as (characters, part) runs filling `cells`:
    part "bar" (solid, up to the smallest seed's value, and the bar's last partial cell),
    "spread" (▓, the rest of the bar: between the smallest value and the median),
    "whisker" (─ from the bar's end, ┤ at the largest value) and "space"."""
    chars, __ = _bar(v, cells, lo, hi)
    bar = chars.rstrip(" ")
    full = len(bar.rstrip(EIGHTHS[1:])) if bar and bar[-1] != "▸" else len(bar)
    out: list[tuple[str, str]] = []
    low_cell = min(int(_cell_of(low, cells, lo, hi)), full)
    if low_cell:
        out.append((bar[:low_cell], "bar"))
    if full > low_cell:
        out.append((SPREAD * (full - low_cell), "spread"))
    if len(bar) > full:
        out.append((bar[full:], "bar"))
    top = min(int(_cell_of(high, cells, lo, hi)), cells - 1)
    if top >= len(bar):
        out.append((WHISKER * (top - len(bar)) + CAP, "whisker"))
    used = sum(len(t) for t, _ in out)
    if used < cells:
        out.append((" " * (cells - used), "space"))
    return out


RATIO_HEADS = (N_("first/last = "), N_("first/last "), "0/out ", "")  # 0 and out: the rows' layer names


def ratio_head(ratios: list[str], width: int) -> str:
    """The longest of RATIO_HEADS that fits before every one of `ratios` in width (cells)."""
    longest = max((len(r) for r in ratios), default=0)
    return next((h for h in (_(h) if h else h for h in RATIO_HEADS) if cell_len(h) + longest <= width), "")


def ratio_line(ratio: str, head: str, width: int, muted: Style) -> Text:
    """A column's "first/last = 1/120", the ratio in bold, padded to width."""
    t = Text(head, style=muted, no_wrap=True, overflow="crop")
    t.append(ratio, muted + Style(bold=True))
    t.truncate(width, pad=True)
    return t


def render_bars(columns: list[BarColumn], width: int, height: int, styles: dict[str, Style],
                muted: Style = Style(dim=True), axis: tuple[float, float] = AXIS,
                legend: bool | None = None, slots: int = 0, names: list[str] | None = None,
                ratios: bool | None = None, prefix: str | None = None) -> tuple[Text, str]:
    """The bars as Text, and a note ("12 of 21 layers") when rows were sampled. More
    variants than fit side by side (MIN_COL each), or than leave room for their values,
    wrap onto bands, one under another, when the height allows (each band at least 10
    rows), every band's columns as wide (`slots` columns to a band); the
    health key (`legend`, default: when the height allows) ends it. Each bar's value is
    printed beside it wherever the bar keeps 3 cells; the names are shortened alike and
    kept distinct (`names`: already shortened); `ratios` (default: when the height
    allows) adds each column's first/last layer ratio under its axis."""
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
    legend = height >= 12 if legend is None else legend
    bands = math.ceil(ncol / max(1, (width - label_w + gap) // (MIN_COL + gap)))

    def with_values(per: int) -> bool:  # whether columns `per` to a band show their values
        room = (width - 4 - (per - 1)) // per - (0 if shared else 4)
        return room - 6 >= 3

    if not with_values(ncol):  # rather bands of columns with values, while each keeps 6 layers' rows
        bands = next((b for b in range(max(bands, 1), ncol + 1)
                      if with_values(math.ceil(ncol / b)) and (height - legend) // b >= 10), bands)
    band_h = (height - legend) // bands
    if bands > 1 and band_h >= 6:
        per = math.ceil(ncol / bands)
        col_w = max(MIN_COL, (width - 4 - gap * (per - 1)) // per)  # the narrowest a band's columns get
        names = shorten_labels([c.label for c in columns], col_w) if names is None else names
        prefix = ratio_head([first_last(c.values) for c in columns], col_w)  # alike in every band
        notes = []
        for b in range(bands):
            part, note = render_bars(columns[b * per:(b + 1) * per], width, band_h, styles, muted, axis, False,
                                     per, names[b * per:(b + 1) * per], ratios, prefix)
            text.append_text(part)
            text.append("\n")
            notes.append(note)
        if legend:
            text.append(" " * label_w)
            text.append_text(legend_text(styles, muted, width - label_w, any(c.low is not None for c in columns)))
        return text, next((n for n in notes if n), "")
    slots = max(slots, ncol)
    own_label = 0 if shared else 4
    col_w = max(MIN_COL, (width - label_w - gap * (slots - 1)) // slots)
    if slots > 1 and col_w - own_label - 7 < 3:  # one space between columns leaves room for the values
        gap = 1
        col_w = max(MIN_COL, (width - label_w - gap * (slots - 1)) // slots)
    names = shorten_labels([c.label for c in columns], col_w) if names is None else names
    room = col_w - own_label
    ratios = height - 3 - legend >= 5 if ratios is None else ratios
    rows = height - 3 - (1 if legend else 0) - (1 if ratios else 0)
    idx = sample_rows(layers, rows)
    note = _("{n} of {layers} layers").format(n=len(idx), layers=layers) if len(idx) < layers else ""
    per_col_idx = [sample_rows(d, len(idx)) if not shared else idx for d in depths]
    # the values' width is fixed (a bar's length must not change with the other values'
    # digits): "1.0e-13", else "1e-13" after a space, else without it (a bar never reaches
    # the end of the fixed axis' cells where a value is five characters long)
    value_w, digits = next(((w, d) for w, d, least in ((8, 1, 17), (6, 0, 5), (5, 0, 3)) if room - w - 1 >= least),
                           (0, 0))
    bar_w = room - value_w - 1
    ticks = _ticks(lo, hi, bar_w)
    tick_cells = {x for x, _ in ticks}

    # header: variant labels and states
    text.append(" " * label_w)
    for k, c in enumerate(columns):
        head = Text(no_wrap=True)
        head.append(names[k], c.style + Style(bold=True))
        if c.state and cell_len(names[k]) + 1 + cell_len(c.state) <= col_w:
            head.append(f" {c.state}", muted)
        elif c.state and cell_len(names[k]) + 2 <= col_w:  # the state's mark (✓, ✗) at least
            head.append(f" {c.state.split()[0]}", muted)
        head.truncate(col_w, overflow="ellipsis", pad=True)
        text.append_text(head)
        if k < ncol - 1:
            text.append(" " * gap)
    text.append("\n")

    # one row per (sampled) layer
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
                if c.low is None or c.high is None:
                    chars, __ = _bar(v, bar_w, lo, hi)
                    bar = chars.rstrip(" ")
                    text.append(bar, styles[h])
                    text.append(" " * (bar_w - len(bar)))
                else:
                    top = float(c.high[i])
                    for run, part in whiskered(v, float(c.low[i]), top, bar_w, lo, hi):
                        if part == "whisker":  # the cap in the largest seed's health colour
                            text.append(run[:-1], styles[h])
                            text.append(run[-1], styles[health(top)])
                        else:
                            text.append(run, styles[h] if part != "space" else Style())
                if value_w:
                    text.append(f"{sci(v, digits):>{value_w}}", styles[h] if h != "healthy" else Style())
                text.append(GLYPH[h], styles[h])
            if k < ncol - 1:
                text.append(" " * gap)
        text.append("\n")

    # the axis, coloured by zone, and its tick labels
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
    if ratios:
        text.append("\n")
        text.append(" " * label_w)
        rs = [first_last(c.values) for c in columns]
        prefix = ratio_head(rs, col_w) if prefix is None else prefix
        for k, r in enumerate(rs):
            text.append_text(ratio_line(r, prefix, col_w, muted))
            if k < ncol - 1:
                text.append(" " * gap)
    if legend:
        text.append("\n")
        text.append(" " * label_w)
        spread = any(c.low is not None for c in columns)
        text.append_text(legend_text(styles, muted, width - label_w, spread))
    return text, note


def legend_text(styles: dict[str, Style], muted: Style, width: int, spread: bool = False) -> Text:
    """The health colours' key (and with several seeds the whisker's), as long as fits in width."""
    if spread:
        seeds = [(f"█{SPREAD}{WHISKER}{CAP}", "healthy"), (" " + _("seeds' min, median, max"), None)]
        short = [(f"{SPREAD}{WHISKER}{CAP}", "healthy"), (" min..max", None)]
        for key in (seeds, short):
            t = legend_text(styles, muted, width - sum(cell_len(s) for s, __ in key) - 3)
            if t.cell_len + 3 + sum(cell_len(s) for s, __ in key) <= width:
                t.append("   ")
                for s, h in key:
                    t.append(s, styles[h] if h else muted)
                return t
        return legend_text(styles, muted, width)
    lo, hi = decade(int(math.log10(VANISHING_BELOW))), decade(int(math.log10(EXPLODING_ABOVE)))
    vanishing, healthy, exploding = _("vanishing"), _("healthy"), _("exploding")
    forms = [
        [("▾ " + vanishing, "vanishing"), (f" < {lo}   ", None), (healthy, "healthy"),
         ("   ▴ " + exploding, "exploding"), (f" > {hi}", None)],
        [("▾ " + vanishing, "vanishing"), ("  ", None), (healthy, "healthy"), ("  ▴ " + exploding, "exploding")],
        [("▾ " + _("vanish"), "vanishing"), (" ", None), (_("ok"), "healthy"), (" ▴ " + _("explode"), "exploding")],
    ]
    for form in forms:
        if sum(cell_len(s) for s, __ in form) <= width or form is forms[-1]:
            t = Text(no_wrap=True, overflow="crop")
            for s, h in form:
                t.append(s, styles[h] if h else muted)
            return t
    return Text()


class GradBars(Panel):
    """One bar per layer and variant: ‖dL/dW‖ or ‖dL/dz‖ (the `quantity`), on the fixed
    axis or, `zoomed`, on one around the data (`f` toggles)."""

    DEFAULT_CSS = """
    GradBars { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.quantity = "grad_norm"
        self.zoomed = False
        self.axis = AXIS  # at the last draw

    def set_quantity(self, quantity: str) -> None:
        self.quantity = quantity
        self._retitle("")
        self.redraw()

    def set_zoomed(self, zoomed: bool) -> None:
        self.zoomed = zoomed
        self._retitle(getattr(self, "_note", ""))
        self.redraw()

    def titles(self) -> None:
        self._retitle(getattr(self, "_note", ""))

    def _retitle(self, note: str) -> None:
        sym, what = QUANTITIES[self.quantity]
        seeds = max((len(v.seeds) for v in self.views), default=1)
        scale = _("log, zoomed") if self.zoomed else _("log")
        title = _("Gradient {sym} per layer ({scale})").format(sym=sym, scale=scale)
        if seeds > 1:  # as much as fits
            median = _("median of {n} seeds").format(n=seeds)
            forms = [f"{title} · {median}", _("Gradient {sym} ({scale})").format(sym=sym, scale=scale) + f" · {median}",
                     f"{sym} ({scale}) · {median}"]
            title = next((f for f in forms if cell_len(f) + 4 <= self.size.width), forms[-1])
        other = QUANTITIES["delta_norm" if self.quantity == "grad_norm" else "grad_norm"][0]
        show = _("g: show {other}").format(other=other)
        keys = [f"{show} · " + (_("f: fixed axis") if self.zoomed else _("f: zoom")),
                _("g: {other}").format(other=other) + " · " + (_("f: fixed") if self.zoomed else _("f: zoom")), show]
        head = f"{note} · " if note else ""
        sub = next((head + k for k in keys if cell_len(head + k) + 6 <= self.size.width), head + keys[-1])
        self.set_titles(title, sub)

    def on_mount(self) -> None:
        self._retitle("")

    def show(self, views, force: bool = False) -> None:
        sig = self._signature(views)
        if not force and sig == getattr(self, "_sig", None):
            self.views = views
            return
        self._sig = sig
        super().show(views, force=force)

    def _spread(self, v):
        return latest_spread([s.latest(self.quantity) for s in v.seeds], [s.status == "diverged" for s in v.seeds])

    def _signature(self, views) -> tuple:
        """What the bars show, rounded as drawn: frames that would look the same are skipped."""
        out = []
        for v in views:
            spread = self._spread(v)
            if spread is None:
                out.append(None)
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                out.append((v.status, len(v.diverged_seeds))
                           + tuple(tuple(np.round(np.log10(np.abs(a)) * 20).tolist()) for a in spread))
        return tuple(out)

    def columns(self) -> list[BarColumn]:
        cols = []
        for v in self.views:
            diverged = _("diverged")
            state = {"done": "✓ " + _("done"), "running": "", "ready": "",
                     "diverged": f"✗ {diverged}@{v.diverged_at}"}.get(v.status, v.state)
            if not v.several:
                cols.append(BarColumn(v.label, self.variant_style(v.index), state, v.latest(self.quantity)))
                continue
            k, n = len(v.diverged_seeds), len(v.seeds)
            if v.diverged_at is not None:  # the median diverged
                state = f"✗ {diverged}@{v.diverged_at} ({k}/{n})"
            elif k:
                state = (state + " " if state else "") + _("✗ {k}/{n} diverged").format(k=k, n=n)
            spread = self._spread(v)
            med, low, high = spread if spread is not None else (None, None, None)
            cols.append(BarColumn(v.label, self.variant_style(v.index), state, med, low, high))
        return cols

    def build(self):
        cols = self.columns()
        self.axis = zoomed_axis(cols) if self.zoomed else AXIS
        h = self.content_region.height
        text, note = render_bars(cols, self.content_region.width, h, self.health_styles(), self.style_of("muted"),
                                 axis=self.axis, ratios=True if self.zoomed and h >= 6 else None)
        if note != getattr(self, "_note", ""):
            self._note = note
            self.call_later(self._retitle, note)
        return text
