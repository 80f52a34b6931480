"""Activation health per layer of one variant: mean, std, saturated %, dead %, and the
update-to-weight ratio against its 1e-3 guide (Karpathy: ~1e-3 is a good learning rate,
1e-5 barely moves).

With several seeds each number is the median across the seeds (of those with a finite
value: a diverged seed's NaN is left out), and the seeds' [min, max] follows it in as
many columns as fit: the update ratio's first, then std, mean, dead and saturated.

The table is laid out for its width rather than left for Rich to squeeze (which cut the
headers to "lay… me…" and the numbers to "0.…" at 80 columns): it sheds, in turn, the
saturation or dead-unit column that is 0 by definition for the activation, the ratio's
gauge, a space between columns, digits, and last the mean and the std, saying so."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.cells import cell_len
from rich.style import Style
from rich.table import Table
from rich.text import Text

from tuisim.core.registry import DEAD_ACTIVATIONS, SATURATING_ACTIVATIONS
from tuisim.i18n import N_, _

from ..format import cut_middle, layer_name, num, pct, sample_rows, sci
from ..spread import nan_spread
from .panel import Panel

RATIO_AXIS = (-7.0, 0.0)
RATIO_GUIDE = 1e-3
RATIO_SLOW, RATIO_FAST = 1e-5, 1e-2


def ratio_health(v: float) -> str:
    if not math.isfinite(v) or v > RATIO_FAST:
        return "exploding"
    return "vanishing" if v < RATIO_SLOW else "healthy"


def ratio_gauge(v: float, cells: int, style: Style, guide: Style) -> Text:
    """A small log gauge of the ratio with a mark at the 1e-3 guide."""
    lo, hi = RATIO_AXIS
    g = int((math.log10(RATIO_GUIDE) - lo) / (hi - lo) * cells)
    x = 0.0
    if v > 0 and math.isfinite(v):
        x = (math.log10(v) - lo) / (hi - lo) * cells
    elif not math.isfinite(v):
        x = cells
    t = Text(no_wrap=True)
    for i in range(cells):
        if i == g:
            t.append("┃" if i < x else "│", guide)
        else:
            t.append("━" if i < x else " ", style)
    return t


def fixed(v: float) -> str:
    return f"{v:.3f}" if math.isfinite(v) and abs(v) < 100 else num(v)


def short(v: float) -> str:
    """A mean or std in at most 5 cells: 0.12, -0.12, 12, 1.2e5."""
    return f"{v:.2f}" if math.isfinite(v) and abs(v) < 10 else num(v, 2)


FIELDS = ("act_mean", "act_std", "saturated", "dead", "update_ratio")
HEADERS = {"act_mean": N_("mean"), "act_std": N_("std"), "saturated": N_("sat%"), "dead": N_("dead%"),
           "update_ratio": "upd/W"}  # translated where shown (`header`)


def header(field: str) -> str:
    return _(HEADERS[field])
RANGE_ORDER = ("update_ratio", "act_std", "act_mean", "dead", "saturated")  # which ranges first, as room allows
DROP_ORDER = ("act_mean", "act_std")  # the columns a very narrow table leaves out, first to last
GAUGE = 10


@dataclass
class HealthRows:
    """One variant's latest per-layer statistics (several seeds: their medians, and in
    `spread` each field's per-layer (min, max) across the seeds)."""

    label: str
    activation: str
    act_mean: np.ndarray
    act_std: np.ndarray
    saturated: np.ndarray
    dead: np.ndarray
    update_ratio: np.ndarray
    spread: dict[str, tuple[np.ndarray, np.ndarray]] | None = None


def applicable(activation: str) -> tuple[str, ...]:
    """The fields that can be other than 0 for this activation: saturation for the bounded
    ones (sigmoid, tanh), dead units for relu and leaky relu, neither for the others."""
    return tuple(f for f in FIELDS if not (f == "saturated" and activation not in SATURATING_ACTIVATIONS
                                           or f == "dead" and activation not in DEAD_ACTIVATIONS))


@dataclass(frozen=True)
class TableLayout:
    """How the table is laid out: its columns, the ratio gauge's cells (0: none), the
    spaces between columns, and whether the numbers take their short forms."""

    fields: tuple[str, ...]
    gauge: int = GAUGE
    gap: int = 2
    compact: bool = False

    @property
    def hidden(self) -> list[str]:
        return [header(f) for f in DROP_ORDER if f not in self.fields]


def layouts(activation: str):
    """The layouts to try, best first: everything; without the columns that are 0 by
    definition for this activation; without the gauge (the number stays); with 1 space
    between columns; with shorter numbers; then without the mean, then the std."""
    fields = applicable(activation)
    yield TableLayout(FIELDS)
    yield TableLayout(fields)
    yield TableLayout(fields, gauge=0)
    yield TableLayout(fields, gauge=0, gap=1)
    yield TableLayout(fields, gauge=0, gap=1, compact=True)
    for k in range(1, len(DROP_ORDER) + 1):
        yield TableLayout(tuple(f for f in fields if f not in DROP_ORDER[:k]), gauge=0, gap=1, compact=True)


def _range(field: str, lo: float, hi: float) -> str:
    f = {"act_mean": lambda v: num(v, 2), "act_std": lambda v: num(v, 2), "saturated": pct, "dead": pct,
         "update_ratio": sci}[field]
    return f"[{f(lo)}, {f(hi)}]"


def range_columns(rows: HealthRows, idx, width: int | None, base: int, fields=FIELDS, gap: int = 2) -> list[str]:
    """The fields whose [min, max] column fits beside a table `base` columns wide (in
    RANGE_ORDER; a field the seeds all agree on, such as 0% dead everywhere, needs none)."""
    if not rows.spread or width is None:
        return []
    shown, used = [], base
    for f in RANGE_ORDER:
        if f not in fields:
            continue
        lo, hi = rows.spread[f]
        cells = [_range(f, float(lo[i]), float(hi[i])) for i in idx]
        if all(float(lo[i]) == float(hi[i]) for i in idx):
            continue
        w = max([len("[min, max]")] + [cell_len(c) for c in cells]) + gap
        if used + w <= width:
            shown.append(f)
            used += w
    return shown


def _cells(rows: HealthRows, idx, compact: bool, styles, warning: Style) -> dict[str, list]:
    value = short if compact else fixed
    ratio = (lambda v: sci(v, 0)) if compact else sci
    cells = {f: [] for f in FIELDS}
    for i in idx:
        sat, dead, r = float(rows.saturated[i]), float(rows.dead[i]), float(rows.update_ratio[i])
        h = ratio_health(r)
        cells["act_mean"].append(value(float(rows.act_mean[i])))
        cells["act_std"].append(value(float(rows.act_std[i])))
        cells["saturated"].append(Text(pct(sat), style=warning if sat > 0.5 else Style()))
        cells["dead"].append(Text(pct(dead), style=warning if dead > 0.5 else Style()))
        cells["update_ratio"].append(Text(ratio(r), style=styles[h] if h != "healthy" else Style()))
    return cells


def table_width(lay: TableLayout, names: list[str], cells: dict[str, list]) -> int:
    """Cells the table takes without ranges: each column its widest cell, `gap` apart."""
    cols = [max(cell_len(_("layer")), *(cell_len(n) for n in names))]
    cols += [max([cell_len(header(f))] + [cell_len(str(c)) for c in cells[f]]) for f in lay.fields]
    if lay.gauge:
        cols.append(lay.gauge)
    return sum(cols) + lay.gap * (len(cols) - 1)


def render_health(rows: HealthRows, height: int, styles: dict[str, Style], muted: Style, guide: Style,
                  warning: Style, gauge: int = GAUGE, width: int | None = None) -> tuple[Table, str]:
    """The table, and a note for the panel's subtitle (layers sampled, columns left out).
    With `width` the table is laid out to fit it: see `layouts`."""
    layers = len(rows.act_mean)
    body = max(1, height - 1)
    idx = sample_rows(layers, body)
    names = [layer_name(int(i), layers) for i in idx]
    lay = cells = None
    for lay in layouts(rows.activation):
        lay = TableLayout(lay.fields, gauge if lay.gauge else 0, lay.gap, lay.compact)
        cells = _cells(rows, idx, lay.compact, styles, warning)
        if width is None or table_width(lay, names, cells) <= width:
            break
    ranged = range_columns(rows, idx, width, table_width(lay, names, cells), lay.fields, lay.gap)
    bare = TableLayout(applicable(rows.activation), lay.gauge, lay.gap, lay.compact)
    if rows.spread and bare.fields != lay.fields:  # a column 0 by definition gives way to a seeds' range
        more = range_columns(rows, idx, width, table_width(bare, names, cells), bare.fields, bare.gap)
        if len(more) > len(ranged):
            lay, ranged = bare, more
    notes = [_("{n} of {layers} layers").format(n=len(idx), layers=layers)] if len(idx) < layers else []
    if lay.hidden:
        notes.append(_("{columns} hidden").format(columns=", ".join(lay.hidden)))
    t = Table(box=None, padding=(0, 1) if lay.gap == 2 else (0, 1, 0, 0), pad_edge=False, expand=False,
              header_style=Style(bold=True), show_edge=False)
    t.add_column(_("layer"), justify="right", style=muted, no_wrap=True)
    for f in lay.fields:
        t.add_column(header(f), justify="right", no_wrap=True)
        if f in ranged:
            t.add_column(Text("[min, max]", style=muted), justify="left", style=muted, no_wrap=True)
    if lay.gauge:
        g = int((math.log10(RATIO_GUIDE) - RATIO_AXIS[0]) / (RATIO_AXIS[1] - RATIO_AXIS[0]) * lay.gauge)
        t.add_column(Text.assemble("1e-7".ljust(g)[:g], ("│", guide), "1".rjust(lay.gauge - g - 1)),
                     justify="left", no_wrap=True)
    for k, i in enumerate(idx):
        r = float(rows.update_ratio[i])
        row = [names[k]]
        for f in lay.fields:
            row.append(cells[f][k])
            if f in ranged:
                lo, hi = rows.spread[f]
                row.append(_range(f, float(lo[i]), float(hi[i])))
        if lay.gauge:
            row.append(ratio_gauge(r, lay.gauge, styles[ratio_health(r)], guide))
        t.add_row(*row)
    return t, " · ".join(notes)


class HealthTable(Panel):
    """The focused variant's activation statistics, one row per (sampled) layer."""

    COMPONENT_CLASSES = Panel.COMPONENT_CLASSES | {"health-table--guide"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.focus_index = 0

    def show_focus(self, views, focus_index: int, force: bool = False) -> None:
        self.focus_index = focus_index
        self.show(views, force=force)

    MIN_INTERVAL = 0.5

    def titles(self) -> None:
        if self.views:
            v = self.views[self.focus_index % len(self.views)]
            self.set_titles(health_title(v.label, len(v.seeds), self.size.width - 6))

    def build(self):
        views = self.views
        v = views[self.focus_index % len(views)]
        if not v.n:
            return Text(_("no record yet"), style=self.style_of("muted"))
        spreads = {f: nan_spread([s.latest(f) for s in v.seeds]) for f in FIELDS}
        rows = HealthRows(v.label, v.activation, *(spreads[f][0] for f in FIELDS),
                          spread={f: spreads[f][1:] for f in FIELDS} if v.several else None)
        table, note = render_health(rows, self.content_region.height, self.health_styles(), self.style_of("muted"),
                                    self.component_style("health-table--guide"),
                                    self.style_of("warning"), width=self.content_region.width)
        self.set_titles(subtitle=health_subtitle(note, self.size.width - 6))
        return table


def health_title(label: str, seeds: int, width: int) -> str:
    """The longest of the panel's titles that fits in `width` cells: "median" is the last
    word to go (the numbers are medians), the variant's name is cut last, in the middle."""
    median = [" · " + _("median of {n} seeds").format(n=seeds), " · " + _("median of {n}").format(n=seeds),
              " · " + _("median"), ""] if seeds > 1 else [""]
    for m in median:
        for head in (_("Activation health"), _("Health")):
            if cell_len(head) + 3 + cell_len(label) + cell_len(m) <= width:
                return f"{head} · {label}{m}"
    head = _("Health")
    return f"{head} · {cut_middle(label, max(width - 3 - cell_len(head), 7))}"  # its start and its distinguishing end


def health_subtitle(note: str, width: int) -> str:
    """The note (layers sampled, columns hidden), then the keys and the guide as they fit."""
    for tail in (_("v: next variant · guide upd/W ≈ 1e-3"), _("v: next variant"), _("v: variant"), ""):
        text = " · ".join(x for x in (note, tail) if x)
        if cell_len(text) <= width:
            return text
    return note
