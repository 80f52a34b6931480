"""The sweep's map: one coloured cell per point, the mean measure written in it when
there is room, marks for diverged (✗) and failed (!) runs, the spread over seeds
under the value, axis labels, and a colour bar on a fixed scale.

The first axis runs across, the second down; further axes and the variants are
small multiples side by side (one at a time, `v`, when they do not fit). A cell with
no result yet is a dot: the map fills in cell by cell as the runs finish.
`HeatmapRenderable` is plain Rich, drawn from a `MapData` snapshot: testable without
an app. The colours come from the CSS (`Heatmap` component classes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.cells import cell_len
from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text

from tuisim.i18n import N_, _

from ..format import ellipsize, num, pad_cells, sci
from ..sweep_map import MapData, measure_title
from .panel import Panel

N_STOPS = 5
LEVELS = 32
CW_MAX = 12  # widest cell
CH_MAX = 6  # tallest cell
GAP = 3  # between small multiples
PENDING, FAILED, DIVERGED = "·", "!", "✗"


def gradient(stops: list[Color], levels: int = LEVELS) -> list[Color]:
    """`levels` colours evenly interpolated through the stops (dark to bright)."""
    rgb = np.array([tuple(c.get_truecolor()) for c in stops], dtype=float)
    xs = np.linspace(0, 1, len(stops))
    out = []
    for t in np.linspace(0, 1, levels):
        out.append(Color.from_rgb(*(float(np.interp(t, xs, rgb[:, j])) for j in range(3))))
    return out


def luminance(c: Color) -> float:
    r, g, b = c.get_truecolor()
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def value_text(v: float, unit: bool) -> str:
    """A cell's number: two decimals on [0, 1] scales, else three significant digits."""
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if unit:
        return f"{v:.2f}"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e4 or a < 1e-2:
        return sci(v, 1)
    if a >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


@dataclass
class MapStyles:
    palette: list[Color]  # dark to bright
    ink_dark: Style  # text on a bright cell
    ink_light: Style  # text on a dark cell
    muted: Style
    cursor: Style  # the selection on an empty cell, and the selected tick labels
    failed: Style
    panel: list[Style]  # a title style per panel
    rows: list[Style] | None = None  # a label style per row (the variants of a 1-D sweep)


@dataclass
class Fit:
    """How the map fits its space: the panels and the window of columns and rows drawn, and the
    size of a cell."""

    panels: list[int]
    cols: range
    rows: range
    cw: int
    ch: int
    ylab: int
    header: bool
    xtitle: bool


def fit_map(data: MapData, width: int, height: int, cursor: tuple[int, int, int] | None, vw: int) -> Fit:
    lay = data.layout
    p0, c0, r0 = cursor or (0, 0, 0)
    P, nx, ny = lay.npanels, lay.nx, lay.ny
    ylab = min(14, max((len(s) for s in lay.y.labels), default=0) + 1) if lay.y is not None else 0
    need = vw + 1
    side = (width - ylab - GAP * (P - 1)) // max(P * nx, 1)
    page = (width - ylab) // max(nx, 1)
    if P == 1 or side >= need or (page < need and side >= 2):
        panels, cw = list(range(P)), side
    else:
        panels, cw = [p0], page
    cols = range(nx)
    if cw < 2:
        panels, cw = [p0], 2
        cols = window(nx, max(1, (width - ylab - 2) // cw), c0)
    cw = min(cw, CW_MAX)
    header = P > 1 or (lay.y is not None and not lay.row_variant)
    xtitle = bool(lay.x.title)
    fixed = 2  # the tick labels and the legend
    avail = height - fixed - header - xtitle
    if avail < ny and xtitle:
        xtitle, avail = False, avail + 1
    if avail < ny and header and P == 1:
        header, avail = False, avail + 1
    rows = range(ny) if avail >= ny else window(ny, max(1, avail), r0)
    ch = max(1, min(avail // max(len(rows), 1), max(1, round(cw / 2)), CH_MAX))  # about square
    return Fit(panels, cols, rows, cw, ch, ylab, header, xtitle)


def window(n: int, size: int, at: int) -> range:
    """`size` consecutive indices of range(n) that contain `at`."""
    if size >= n:
        return range(n)
    start = min(max(0, at - size // 2), n - size)
    return range(start, start + size)


def map_height(data: MapData, width: int, cell_rows: int = 1) -> int:
    """The lines the map wants at this width with cells `cell_rows` high."""
    lay = data.layout
    header = lay.npanels > 1 or (lay.y is not None and not lay.row_variant)
    return header + lay.ny * cell_rows + 1 + bool(lay.x.title) + 1


class HeatmapRenderable:
    def __init__(self, data: MapData, styles: MapStyles, width: int, height: int,
                 cursor: tuple[int, int, int] | None = None):
        self.data, self.styles, self.width, self.height, self.cursor = data, styles, width, height, cursor
        self.unit = data.scale.fixed  # [0, 1] (or [chance, 1]): two decimals

    # ------------------------------------------------------------------ cells
    def cell_lines(self, p: int, r: int, c: int, cw: int, ch: int, selected: bool) -> list[Text]:
        d, st = self.data, self.styles
        n, fails, div = int(d.counts[p, r, c]), int(d.failures[p, r, c]), int(d.diverged[p, r, c])
        mean, spread = float(d.means[p, r, c]), float(d.spread[p, r, c])
        marks = (DIVERGED if div else "") + (FAILED if fails else "")
        if n == 0:
            bg, ink = None, st.failed if fails else st.muted
            text, sub = (FAILED if fails else PENDING), ""
        else:
            b = d.scale.brightness(mean)
            bg = st.palette[int(round((b if b is not None else 0.5) * (len(st.palette) - 1)))]
            ink = (st.ink_dark if luminance(bg) > 0.45 else st.ink_light) + Style(bgcolor=bg)
            text = DIVERGED if (math.isinf(mean) and div) else value_text(mean, self.unit) + marks
            sub = ""
            if n >= 2 and math.isfinite(spread) and value_text(spread, self.unit).strip("0.") not in ("", "-"):
                sub = f"±{value_text(spread, self.unit).lstrip('0')}"
        inner = cw - 2 if selected and cw >= 3 else cw
        if len(text) > inner:
            text = marks if 0 < len(marks) <= inner else ""
        if len(sub) > inner:
            sub = ""
        vrow = 0 if ch == 2 else (ch - 1) // 2
        lines = []
        for k in range(ch):
            s = text if k == vrow else (sub if k == vrow + 1 else "")
            left = (cw - len(s) + 1) // 2
            line = " " * left + s + " " * (cw - left - len(s))
            lines.append(Text(line, style=ink))
        if selected:
            frame = (ink + Style(bold=True)) if bg is not None else st.cursor + Style(bold=True)
            if cw < 3:
                return [Text(t.plain, style=frame + Style(reverse=True)) for t in lines]
            for k, t in enumerate(lines):
                if ch == 1:
                    a, b = "[", "]"
                else:
                    a, b = ("┌", "┐") if k == 0 else (("└", "┘") if k == ch - 1 else ("│", "│"))
                body = t.plain[1:-1]
                lines[k] = Text.assemble((a, frame), (body, t.style), (b, frame))
        return lines

    # ------------------------------------------------------------------ drawing
    def lines(self) -> list[Text]:
        d, st = self.data, self.styles
        lay = d.layout
        texts = [value_text(float(v), self.unit) for v in d.means[d.counts > 0].ravel()]
        vw = max([3] + [len(t) for t in texts])
        fit = fit_map(d, self.width, self.height, self.cursor, vw)
        cur = self.cursor
        pw = len(fit.cols) * fit.cw  # a panel's width
        x0 = [fit.ylab + k * (pw + GAP) for k in range(len(fit.panels))]
        out: list[Text] = []
        margin = max(0, (self.width - x0[-1] - pw) // 2) if self.width - x0[-1] - pw > 4 else 0

        for r in fit.rows:
            cells = [[self.cell_lines(p, r, c, fit.cw, fit.ch, cur == (p, c, r)) for c in fit.cols]
                     for p in fit.panels]
            for k in range(fit.ch):
                line = Text(no_wrap=True)
                if fit.ylab:
                    lab = ""
                    if k == (0 if fit.ch == 2 else (fit.ch - 1) // 2):
                        lab = ellipsize(lay.y.labels[r], fit.ylab - 1)
                    if r == fit.rows.start and fit.rows.start > 0 and k == 0:
                        lab = "▴"
                    if r == fit.rows.stop - 1 and fit.rows.stop < lay.ny and k == fit.ch - 1:
                        lab = "▾"
                    style = st.rows[r] if st.rows is not None and r < len(st.rows) else st.muted
                    if cur is not None and cur[2] == r and lab not in ("▴", "▾"):
                        style = style + st.cursor + Style(bold=True)
                    line.append(pad_cells(lab, fit.ylab - 1, ">") + " ", style)
                for j, p in enumerate(fit.panels):
                    if j:
                        line.append(" " * GAP)
                    for cell in cells[j]:
                        line.append_text(cell[k])
                out.append(line)

        ticks = Text(" " * fit.ylab, no_wrap=True)
        for j, p in enumerate(fit.panels):
            if j:
                ticks.append(" " * GAP)
            ticks.append_text(self.tick_line(fit, p))
        out.append(ticks)

        if fit.xtitle:
            xt = Text(" " * fit.ylab, no_wrap=True)
            for j in range(len(fit.panels)):
                if j:
                    xt.append(" " * GAP)
                title = ellipsize(f"{lay.x.title} →", pw)
                left = (pw - cell_len(title)) // 2
                xt.append(" " * left + title + " " * (pw - left - cell_len(title)), st.muted)
            out.append(xt)
        legend = self.legend()
        if margin:
            out = [Text(" " * margin, no_wrap=True) + t for t in out]
            if legend.cell_len + margin <= self.width:
                legend = Text(" " * margin, no_wrap=True) + legend
        if fit.header:
            out.insert(0, self.header(fit, [margin + x for x in x0], pw))
        out.append(legend)
        return out

    def header(self, fit: Fit, x0: list[int], pw: int) -> Text:
        """The y axis's title at the left, each panel's title centred over it."""
        lay, st, cur = self.data.layout, self.styles, self.cursor
        head = Text(no_wrap=True)
        if lay.y is not None and not lay.row_variant:
            head.append(ellipsize(f"{lay.y.title} ↓", max(x0[0] + pw, 1)), st.muted)
        for k, p in enumerate(fit.panels):
            title = lay.panels[p]
            if len(fit.panels) < lay.npanels:
                title = f"{title} (" + _("{k} of {n}, v: next").format(k=p + 1, n=lay.npanels) + ")"
            if not title:
                continue
            title = ellipsize(title, pw)
            used = head.cell_len
            start = max(x0[k] + (pw - cell_len(title)) // 2, used + 2 if used else 0)
            head.append(" " * (start - used))
            style = st.panel[p] + Style(bold=True, underline=cur is not None and cur[0] == p and len(fit.panels) > 1)
            head.append(title, style)
        return head

    def tick_line(self, fit: Fit, p: int) -> Text:
        """The column labels under one panel, as many as fit without touching; the selected
        column's first."""
        lay, st, cur = self.data.layout, self.styles, self.cursor
        pw = len(fit.cols) * fit.cw
        chars = [" "] * pw
        styles: list[Style] = [st.muted] * pw
        order = list(fit.cols)
        sel = cur[1] if cur is not None and cur[0] == p and cur[1] in fit.cols else None
        if sel is not None:
            order.remove(sel)
            order.insert(0, sel)
        taken = [False] * pw
        for c in order:
            lab = lay.x.labels[c]
            centre = (c - fit.cols.start) * fit.cw + fit.cw // 2
            start = max(0, min(centre - len(lab) // 2, pw - len(lab)))
            end = start + len(lab)
            if len(lab) > pw or any(taken[max(0, start - 1):min(pw, end + 1)]):
                continue
            for i, ch in enumerate(lab):
                chars[start + i] = ch
                taken[start + i] = True
                styles[start + i] = st.muted + st.cursor + Style(bold=True) if c == sel else st.muted
        if fit.cols.start > 0:
            chars[0] = "◂"
        if fit.cols.stop < lay.nx:
            chars[-1] = "▸"
        t = Text(no_wrap=True)
        for ch, s in zip(chars, styles):
            t.append(ch, s)
        return t

    def legend(self) -> Text:
        d, st = self.data, self.styles
        sc = d.scale
        t = Text(no_wrap=True, overflow="ellipsis")
        if sc.ready:
            if sc.log:
                lo, hi = (sci(sc.lo, 0) if not 0.01 <= sc.lo <= 100 else num(sc.lo),
                          sci(sc.hi, 0) if not 0.01 <= sc.hi <= 100 else num(sc.hi))
            else:
                lo, hi = num(sc.lo), num(sc.hi)
            n = max(6, min(20, self.width // 8))
            t.append(f"{lo} ", st.muted)
            for j in range(n):
                p = j / (n - 1)
                b = 1 - p if sc.better == "low" else p
                t.append("█", Style(color=st.palette[int(round(b * (len(st.palette) - 1)))]))
            t.append(f" {hi}", st.muted)
            t.append(" (" + _("log") + ")" if sc.log else "", st.muted)
        t.append(f"  {measure_title(d.measure)}", Style(bold=True))
        better = (_(", higher is better") if sc.better == "high" else _(", lower is better")) if sc.better else ""
        two = f" · {DIVERGED} " + _("diverged") + f" {FAILED} " + _("failed")
        marks = two + f" {PENDING} " + _("not yet")
        room = self.width - t.cell_len
        for tail in (better + marks, better + two, marks, ""):
            if cell_len(tail) <= room:
                t.append(tail, st.muted)
                break
        return t

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines()[: self.height]:
            line.no_wrap = True
            line.truncate(self.width, overflow="crop", pad=True)
            yield line


class Heatmap(Panel):
    """The sweep's map, from the `MapData` the sweep screen hands it."""

    COMPONENT_CLASSES = Panel.COMPONENT_CLASSES | {f"heatmap--stop-{i}" for i in range(N_STOPS)} | {
        "heatmap--ink-dark", "heatmap--ink-light", "heatmap--cursor", "heatmap--failed"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.data: MapData | None = None
        self.cursor: tuple[int, int, int] | None = None
        self.placeholder = N_("no result yet: the first cells appear when their runs finish…")

    def show_map(self, data: MapData, cursor: tuple[int, int, int] | None) -> None:
        self.data, self.cursor = data, cursor
        self.redraw()

    def empty(self) -> bool:
        return self.data is None

    def palette(self) -> list[Color]:
        return gradient([self.component_style(f"heatmap--stop-{i}").color or Color.parse("white")
                         for i in range(N_STOPS)])

    def map_styles(self) -> MapStyles:
        lay = self.data.layout
        c = self.component_style
        panel = [self.variant_style(v) if v is not None else Style() for v in lay.panel_variant]
        rows = [self.variant_style(r) for r in range(lay.ny)] if lay.row_variant else None
        return MapStyles(self.palette(), c("heatmap--ink-dark"), c("heatmap--ink-light"), self.style_of("muted"),
                         c("heatmap--cursor"), c("heatmap--failed"), panel, rows)

    def build(self):
        w, h = self.content_region.width, self.content_region.height
        return HeatmapRenderable(self.data, self.map_styles(), w, h, self.cursor)

    def get_content_height(self, container, viewport, width: int) -> int:
        if self.data is None:
            return 3
        return map_height(self.data, width, 2 if viewport.height >= 40 else 1)
