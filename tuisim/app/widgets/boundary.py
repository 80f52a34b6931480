"""The decision boundary: a classifier's predicted class over the 2-D input plane.

Each cell of text is two cells of the grid (the upper half block ▀ in the upper cell's
colour on the lower's): the class's colour, blended into the background by the network's
confidence (faint at chance, strong where it is sure), so the boundary shows as the
line where the colours meet and fade. The training points are drawn on top, one glyph
per class in the class's full colour (the cell's class, if several points share it, is
the most frequent). The plane is the training inputs' extent (standardised) with a
margin. Every variant side by side when they fit at a readable size, else the focused
one (`v`). The picture comes from a copy of the weights the driver takes between chunks,
evaluated in a worker thread (tuisim.app.boundary), a few times a second.
"""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tuisim.i18n import N_, _

from ..boundary import Map, ShadowNet, applies, boundary_map, plane
from .panel import Panel

N_CLASS_COLORS = 8
GLYPHS = ("●", "▲", "■", "◆", "+", "×", "▼", "*")
LEVELS = 6  # blend levels of a region's colour, chance to certain
FAINT, STRONG = 0.14, 0.5  # how much of the class's colour a region takes, at chance and at certainty
GAP = 2  # columns between two variants' pictures
MIN_WIDTH = 14


def blend(a: Color, b: Color, t: float) -> Color:
    ta, tb = a.get_truecolor(), b.get_truecolor()
    return Color.from_rgb(*(round(x + (y - x) * t) for x, y in zip(ta, tb)))


class BoundaryPicture:
    """A Rich renderable: `label` on the first line, then the map, `rows` = 2 x lines."""

    def __init__(self, m: Map, extent, class_colors: list[Color], background: Color, *, label: Text | None = None,
                 points: np.ndarray | None = None, labels: np.ndarray | None = None) -> None:
        self.map = m
        self.extent = extent
        self.colors = class_colors
        self.background = background
        self.label = label
        self.points = points
        self.labels = labels
        self._styles: dict = {}

    def region_color(self, cls: int, conf: float) -> Color:
        if cls < 0:
            return self.background
        level = min(int(conf * LEVELS), LEVELS - 1)
        t = FAINT + (STRONG - FAINT) * level / (LEVELS - 1)
        key = (cls, level)
        if key not in self._styles:
            self._styles[key] = blend(self.background, self.colors[cls % len(self.colors)], t)
        return self._styles[key]

    def point_cells(self) -> dict[tuple[int, int], tuple[int, int]]:
        """(line, column) -> (class, grid row of its half) of the cells that hold points."""
        if self.points is None or not len(self.points):
            return {}
        rows, cols = self.map.classes.shape
        x0, x1, y0, y1 = self.extent
        c = np.floor((self.points[:, 0] - x0) / (x1 - x0) * cols).astype(np.int64)
        r = np.floor((y1 - self.points[:, 1]) / (y1 - y0) * rows).astype(np.int64)
        ok = (c >= 0) & (c < cols) & (r >= 0) & (r < rows)
        counts: dict[tuple[int, int], dict[int, list[int]]] = {}
        for ci, ri, k in zip(c[ok], r[ok], self.labels[ok]):
            counts.setdefault((int(ri) // 2, int(ci)), {}).setdefault(int(k), []).append(int(ri))
        out = {}
        for cell, by in counts.items():
            k = max(sorted(by), key=lambda j: len(by[j]))
            out[cell] = (k, by[k][0])
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        m = self.map
        rows, cols = m.classes.shape
        if self.label is not None:
            label = self.label.copy()
            label.truncate(cols, overflow="ellipsis", pad=True)
            label.end = "\n"
            yield label
        points = self.point_cells()
        for line in range(rows // 2):
            for col in range(cols):
                top = self.region_color(m.classes[2 * line, col], m.confidence[2 * line, col])
                bottom = self.region_color(m.classes[2 * line + 1, col], m.confidence[2 * line + 1, col])
                p = points.get((line, col))
                if p is None:
                    yield Segment("▀", Style(color=top, bgcolor=bottom))
                else:
                    k, r = p
                    bg = top if r % 2 == 0 else bottom
                    yield Segment(GLYPHS[k % len(GLYPHS)],
                                  Style(color=self.colors[k % len(self.colors)], bgcolor=bg, bold=True))
            yield Segment.line()


class Boundary(Panel):
    """The decision boundary view of the lower panel."""

    DEFAULT_CSS = "\n".join(
        [f"Boundary > .boundary--class-{i} {{ color: {c}; }}" for i, c in enumerate(
            ("#ff6b5e", "#5aa9ff", "#6fdc7a", "#ffd34e", "#c48cff", "#4fe0e6", "#ff9f45", "#ff7fc8"))]
        + [f".-light-mode Boundary > .boundary--class-{i} {{ color: {c}; }}" for i, c in enumerate(
            ("#c8102e", "#0a58ca", "#1b8a3a", "#9a7400", "#7a3fc0", "#00808a", "#c45a00", "#c0307e"))])
    COMPONENT_CLASSES = Panel.COMPONENT_CLASSES | {f"boundary--class-{i}" for i in range(N_CLASS_COLORS)}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.driver = None
        self.focus_index = 0
        self.maps: dict[int, tuple] = {}  # variant -> (its Map, the grid's (cols, rows))
        self._shadows: dict[int, tuple] = {}  # variant -> (its run, a ShadowNet of its network)
        self._busy = False
        self.placeholder = N_("waiting for the first copy of the weights…")  # translated when drawn

    # ------------------------------------------------------------------ data
    def runs(self) -> list[tuple[int, object]]:
        """(variant index, first run) of the variants with a decision boundary."""
        session = self.driver.session if self.driver is not None else None
        if session is None:
            return []
        return [(i, g.runs[0]) for i, g in enumerate(session.groups) if applies(g.runs[0].data)]

    def show_boundary(self, driver, views, focus_index: int, force: bool = False) -> None:
        if driver is not self.driver:
            self.driver, self.maps, self._shadows = driver, {}, {}
        self.focus_index = focus_index
        self.show(views, force=force)
        self.update_maps()

    def shown(self) -> tuple[list[tuple[int, object]], int, int]:
        """The variants drawn (all side by side, or the focused one), each picture's
        columns and grid rows, for the panel's size."""
        runs = self.runs()
        size = self.content_size
        lines = size.height - 1
        if not runs or lines < 2 or size.width < 4:
            return [], 0, 0
        x0, x1, y0, y1 = plane(runs[0][1].X_train)
        ideal = max(MIN_WIDTH, round(2 * lines * (x1 - x0) / max(y1 - y0, 1e-12)))
        n = len(runs)
        each = min(ideal, (size.width - GAP * (n - 1)) // n)
        if n > 1 and each < max(MIN_WIDTH, ideal // 2):
            groups = len(self.driver.session.groups)
            focus = [r for r in runs if r[0] == self.focus_index % groups] or runs[:1]
            runs, each = focus, min(ideal, size.width)
        return runs, max(1, each), 2 * lines

    def update_maps(self) -> None:
        """Start a worker on the newest weights, unless one runs or nothing is new."""
        if self._busy or self.driver is None or not self.display:
            return
        runs, cols, rows = self.shown()
        todo = []
        for i, run in runs:
            w = self.driver.weights.get(i)
            old = self.maps.get(i)
            if w is not None and (old is None or old[0].step != w.step or old[1] != (cols, rows)):
                shadow = self._shadows.get(i)
                if shadow is None or shadow[0] is not run:
                    shadow = self._shadows[i] = (run, ShadowNet(run.net))
                todo.append((i, run, w, shadow[1]))
        if not todo:
            return
        self._busy = True
        self.run_worker(lambda: self._evaluate(todo, cols, rows), thread=True, group="boundary",
                        description="decision boundary", exit_on_error=False)

    def _evaluate(self, todo, cols: int, rows: int) -> None:
        out = {}
        try:
            for i, run, w, shadow in todo:
                extent = plane(run.X_train)
                out[i] = (boundary_map(shadow, w, extent, cols, rows, run.X_train, run.data.y_train,
                                       run.loss_name, run.data.n_out), (cols, rows))
        finally:
            self.app.call_from_thread(self._done, out)

    def _done(self, out: dict) -> None:
        self._busy = False
        self.maps.update(out)
        self.titles()
        self.redraw()

    # ------------------------------------------------------------------ drawing
    def empty(self) -> bool:
        return not self.maps

    def class_colors(self) -> list[Color]:
        return [self.component_style(f"boundary--class-{i}").color or Color.parse("white")
                for i in range(N_CLASS_COLORS)]

    def titles(self) -> None:
        runs = self.runs()
        if not runs:
            self.set_titles(_("Decision boundary"), "")
            return
        data = runs[0][1].data
        names = data.class_names or tuple(str(k) for k in range(data.n_out))
        legend = "  ".join(f"{GLYPHS[k % len(GLYPHS)]} {n}" for k, n in enumerate(names))
        several = len(self.driver.session.seeds) > 1 if self.driver and self.driver.session else False
        seed = _(" · seed {seed}").format(seed=runs[0][1].seed) if several else ""
        self.set_titles(_("Decision boundary") + seed, f"{legend} · " + _("faint: unsure"))

    def build(self):
        runs, cols, rows = self.shown()
        bg = self.rich_style.bgcolor or Color.parse("black")
        colors = self.class_colors()
        single = len(runs) == 1 and len(self.runs()) > 1
        pics = []
        for i, run in runs:
            got = self.maps.get(i)  # until the worker catches up with a new size: the last one
            if got is None:
                continue
            m = got[0]
            acc = f"{m.accuracy:.0%}" if np.isfinite(m.accuracy) else ""
            label = None
            for more in ([_("acc {acc}").format(acc=acc), f"@{m.step}"] + (["· " + _("v: next")] if single else []),
                         [acc]):
                label = Text(run.label, style=self.variant_style(i) + Style(bold=True))
                label.append("".join(f" {w}" for w in more if w), style=self.style_of("muted"))
                if label.cell_len <= cols:  # else the short form: the name and the accuracy
                    break
            pics.append(BoundaryPicture(m, plane(run.X_train), colors, bg, label=label, points=run.X_train,
                                        labels=run.data.y_train))
        if not pics:
            return Text(_(self.placeholder), style=self.style_of("muted"))
        return SideBySide(pics, GAP)


class SideBySide:
    """Renderables of fixed widths next to each other, `gap` columns apart."""

    def __init__(self, items: list[BoundaryPicture], gap: int) -> None:
        self.items = items
        self.gap = gap

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        blocks = []
        for item in self.items:
            width = item.map.classes.shape[1]
            blocks.append((width, console.render_lines(item, options.update(width=width, height=None), pad=True)))
        height = max(len(lines) for _, lines in blocks)
        for y in range(height):
            for k, (width, lines) in enumerate(blocks):
                if k:
                    yield Segment(" " * self.gap)
                yield from lines[y] if y < len(lines) else [Segment(" " * width)]
            yield Segment.line()
