"""Activation health per layer of one variant: mean, std, saturated %, dead %, and the
update-to-weight ratio against its 1e-3 guide (Karpathy: ~1e-3 is a good learning rate,
1e-5 barely moves)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ..format import layer_name, num, pct, sample_rows, sci
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


@dataclass
class HealthRows:
    """One variant's latest per-layer statistics."""

    label: str
    activation: str
    act_mean: np.ndarray
    act_std: np.ndarray
    saturated: np.ndarray
    dead: np.ndarray
    update_ratio: np.ndarray


def render_health(rows: HealthRows, height: int, styles: dict[str, Style], muted: Style, guide: Style,
                  warning: Style, gauge: int = 10) -> tuple[Table, str]:
    layers = len(rows.act_mean)
    body = max(1, height - 1)
    idx = sample_rows(layers, body)
    note = f"{len(idx)} of {layers} layers" if len(idx) < layers else ""
    t = Table(box=None, padding=(0, 1), pad_edge=False, expand=False, header_style=Style(bold=True),
              show_edge=False)
    t.add_column("layer", justify="right", style=muted)
    t.add_column("mean", justify="right")
    t.add_column("std", justify="right")
    t.add_column("sat", justify="right")
    t.add_column("dead", justify="right")
    t.add_column("upd/W", justify="right")
    g = int((math.log10(RATIO_GUIDE) - RATIO_AXIS[0]) / (RATIO_AXIS[1] - RATIO_AXIS[0]) * gauge)
    t.add_column(Text.assemble("1e-7".ljust(g)[:g], ("│", guide), "1".rjust(gauge - g - 1)), justify="left")
    for i in idx:
        sat, dead, r = float(rows.saturated[i]), float(rows.dead[i]), float(rows.update_ratio[i])
        h = ratio_health(r)
        t.add_row(
            layer_name(int(i), layers),
            fixed(float(rows.act_mean[i])),
            fixed(float(rows.act_std[i])),
            Text(pct(sat), style=warning if sat > 0.5 else Style()),
            Text(pct(dead), style=warning if dead > 0.5 else Style()),
            Text(sci(r), style=styles[h] if h != "healthy" else Style()),
            ratio_gauge(r, gauge, styles[h], guide),
        )
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

    def build(self):
        views = self.views
        v = views[self.focus_index % len(views)]
        self.border_title = f"Activation health · {v.label}"
        if not v.n:
            return Text("no record yet", style=self.style_of("muted"))
        rows = HealthRows(v.label, v.activation, *(v.latest(f) for f in
                                                   ("act_mean", "act_std", "saturated", "dead", "update_ratio")))
        table, note = render_health(rows, self.content_region.height, self.health_styles(), self.style_of("muted"),
                                    self.component_style("health-table--guide"),
                                    self.style_of("warning"))
        self.border_subtitle = (f"{note} · " if note else "") + "v: next variant · guide upd/W ≈ 1e-3"
        return table
