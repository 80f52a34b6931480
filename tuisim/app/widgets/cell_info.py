"""The selected cell of the sweep's map, in words: where it is, its mean and spread, each
seed's value (or why it failed), and which seed's run enter opens."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tuisim.i18n import N_, _

from ..format import num
from ..sweep_map import MapLayout, measure_title


STATUS_WORDS = (N_("failed"), N_("lost"))  # a failed run's status, translated where shown


@dataclass
class SeedRun:
    seed: int
    status: str = "pending"  # pending, ok, failed, lost
    value: float = math.nan
    diverged: bool = False
    error: str = ""


@dataclass
class CellSummary:
    where: str
    measure: str
    runs: list[SeedRun] = field(default_factory=list)
    chosen: int = 0  # the run enter opens (an index into runs)
    unit: bool = False  # a measure on [0, 1]: three decimals

    @property
    def values(self) -> list[float]:
        return [r.value for r in self.runs if r.status == "ok"]


def summarize(layout: MapLayout, results, cell: tuple[int, ...], measure: str, chosen: int,
              unit: bool = False) -> CellSummary:
    """The cell's runs, from a `SweepResults` (its result list, read as a snapshot)."""
    seeds = list(results.grid.seeds)
    runs = {s: SeedRun(s) for s in seeds}
    for r in list(results.results):
        if tuple(r.cell) == tuple(cell):
            runs[r.seed] = SeedRun(r.seed, r.status, r.value, bool(r.diverged), r.error)
    return CellSummary(layout.describe(cell), measure, [runs[s] for s in seeds], chosen % max(len(seeds), 1), unit)


def cell_text(s: CellSummary, styles: dict[str, Style]) -> Text:
    key, muted, error, warn = styles["key"], styles["muted"], styles["error"], styles["warning"]

    def fmt(v: float) -> str:
        return f"{v:.3f}" if s.unit and math.isfinite(v) else num(v)

    t = Text(no_wrap=True, overflow="ellipsis")
    t.append("▸ ", key)
    t.append(s.where, Style(bold=True))
    t.append(f"   {measure_title(s.measure)} ", muted)
    vals = s.values
    n = len(s.runs)
    if vals:
        t.append(fmt(sum(vals) / len(vals)), Style(bold=True))
        if len(vals) > 1:
            t.append(f" ± {fmt(_std(vals))}")
        pending = sum(1 for r in s.runs if r.status == "pending")
        if len(vals) < n:
            t.append("  (" + (_("{k} of {n} seeds so far") if pending else _("{k} of {n} seeds")).format(
                k=len(vals), n=n) + ")", muted)
    elif any(r.status in ("failed", "lost") for r in s.runs):
        t.append(_("no value: its runs failed"), error)
    else:
        t.append(_("not run yet"), muted)
    line2 = Text(no_wrap=True, overflow="ellipsis")
    line2.append("  " + (_("seeds") if n > 1 else _("seed")) + " ", muted)
    for k, r in enumerate(s.runs):
        if k:
            line2.append(" · ", muted)
        mark = Style(reverse=True) if k == s.chosen and n > 1 else Style()
        line2.append(f"{r.seed}:", muted + mark)
        if r.status == "ok":
            line2.append(f" {fmt(r.value)}")
            if r.diverged:
                line2.append(" ✗ " + _("diverged"), warn)
        elif r.status == "pending":
            line2.append(" …", muted)
        else:
            line2.append(" " + _(r.status) + f": {r.error}", error)  # failed, lost
    chosen = s.runs[s.chosen].seed if s.runs else 0
    line2.append("   enter", key)
    line2.append(_(": open seed {seed}'s run").format(seed=chosen) if n > 1 else _(": open its run"), muted)
    if n > 1:
        line2.append("  n", key)
        line2.append(_(": another seed"), muted)
    out = Text("\n", no_wrap=True, overflow="ellipsis").join([t, line2])
    out.no_wrap, out.overflow = True, "ellipsis"
    return out


def _std(vals: list[float]) -> float:
    m = sum(vals) / len(vals)
    if not math.isfinite(m):
        return math.nan
    return math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))


class CellInfo(Widget):
    """Two lines under the map about the selected cell."""

    COMPONENT_CLASSES = {"cell-info--key", "cell-info--muted", "cell-info--error", "cell-info--warning"}
    DEFAULT_CSS = "CellInfo { height: 2; text-wrap: nowrap; text-overflow: ellipsis; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.summary: CellSummary | None = None

    def show(self, summary: CellSummary) -> None:
        self.summary = summary
        self.refresh()

    def render(self):
        if self.summary is None:
            return Text("")
        c = self.get_component_rich_style
        return cell_text(self.summary, {"key": c("cell-info--key"), "muted": c("cell-info--muted"),
                                        "error": c("cell-info--error"), "warning": c("cell-info--warning")})
