"""Activation health per layer of one variant: mean, std, saturated %, dead %, and the
update-to-weight ratio against its 1e-3 guide (Karpathy: ~1e-3 is a good learning rate,
1e-5 barely moves).

With several seeds each number is the median across the seeds (of those with a finite
value: a diverged seed's NaN is left out), and the seeds' [min, max] follows it in as
many columns as fit: the update ratio's first, then std, mean, dead and saturated."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ..format import layer_name, num, pct, sample_rows, sci
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


FIELDS = ("act_mean", "act_std", "saturated", "dead", "update_ratio")
RANGE_ORDER = ("update_ratio", "act_std", "act_mean", "dead", "saturated")  # which ranges first, as room allows


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


def _range(field: str, lo: float, hi: float) -> str:
    f = {"act_mean": lambda v: num(v, 2), "act_std": lambda v: num(v, 2), "saturated": pct, "dead": pct,
         "update_ratio": sci}[field]
    return f"[{f(lo)}, {f(hi)}]"


def range_columns(rows: HealthRows, idx, width: int | None, base: int) -> list[str]:
    """The fields whose [min, max] column fits beside a table `base` columns wide (in
    RANGE_ORDER; a field the seeds all agree on, such as 0% dead everywhere, needs none)."""
    if not rows.spread or width is None:
        return []
    shown, used = [], base
    for f in RANGE_ORDER:
        lo, hi = rows.spread[f]
        cells = [_range(f, float(lo[i]), float(hi[i])) for i in idx]
        if all(float(lo[i]) == float(hi[i]) for i in idx):
            continue
        w = max([len("[min, max]")] + [len(c) for c in cells]) + 2
        if used + w <= width:
            shown.append(f)
            used += w
    return shown


def render_health(rows: HealthRows, height: int, styles: dict[str, Style], muted: Style, guide: Style,
                  warning: Style, gauge: int = 10, width: int | None = None) -> tuple[Table, str]:
    layers = len(rows.act_mean)
    body = max(1, height - 1)
    idx = sample_rows(layers, body)
    note = f"{len(idx)} of {layers} layers" if len(idx) < layers else ""
    t = Table(box=None, padding=(0, 1), pad_edge=False, expand=False, header_style=Style(bold=True),
              show_edge=False)
    cells = {f: [] for f in FIELDS}
    for i in idx:
        sat, dead, r = float(rows.saturated[i]), float(rows.dead[i]), float(rows.update_ratio[i])
        h = ratio_health(r)
        cells["act_mean"].append(fixed(float(rows.act_mean[i])))
        cells["act_std"].append(fixed(float(rows.act_std[i])))
        cells["saturated"].append(Text(pct(sat), style=warning if sat > 0.5 else Style()))
        cells["dead"].append(Text(pct(dead), style=warning if dead > 0.5 else Style()))
        cells["update_ratio"].append(Text(sci(r), style=styles[h] if h != "healthy" else Style()))
    names = {"act_mean": "mean", "act_std": "std", "saturated": "sat", "dead": "dead", "update_ratio": "upd/W"}
    # the table without ranges: each column its widest cell, 2 apart
    base = sum(max([len(names[f])] + [len(str(c)) for c in cells[f]]) + 2 for f in FIELDS) + 7 + gauge
    ranged = range_columns(rows, idx, width, base)
    t.add_column("layer", justify="right", style=muted)
    for f in FIELDS:
        t.add_column(names[f], justify="right")
        if f in ranged:
            t.add_column(Text("[min, max]", style=muted), justify="left", style=muted)
    g = int((math.log10(RATIO_GUIDE) - RATIO_AXIS[0]) / (RATIO_AXIS[1] - RATIO_AXIS[0]) * gauge)
    t.add_column(Text.assemble("1e-7".ljust(g)[:g], ("│", guide), "1".rjust(gauge - g - 1)), justify="left")
    for k, i in enumerate(idx):
        r = float(rows.update_ratio[i])
        row = [layer_name(int(i), layers)]
        for f in FIELDS:
            row.append(cells[f][k])
            if f in ranged:
                lo, hi = rows.spread[f]
                row.append(_range(f, float(lo[i]), float(hi[i])))
        row.append(ratio_gauge(r, gauge, styles[ratio_health(r)], guide))
        t.add_row(*row)
    return t, note


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
            several = f" · median of {len(v.seeds)} seeds" if v.several else ""
            self.set_titles(f"Activation health · {v.label}{several}")

    def build(self):
        views = self.views
        v = views[self.focus_index % len(views)]
        if not v.n:
            return Text("no record yet", style=self.style_of("muted"))
        spreads = {f: nan_spread([s.latest(f) for s in v.seeds]) for f in FIELDS}
        rows = HealthRows(v.label, v.activation, *(spreads[f][0] for f in FIELDS),
                          spread={f: spreads[f][1:] for f in FIELDS} if v.several else None)
        table, note = render_health(rows, self.content_region.height, self.health_styles(), self.style_of("muted"),
                                    self.component_style("health-table--guide"),
                                    self.style_of("warning"), width=self.content_region.width)
        self.set_titles(subtitle=(f"{note} · " if note else "") + "v: next variant · guide upd/W ≈ 1e-3")
        return table
