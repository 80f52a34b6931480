"""Optimizer paths on a 2-D surface: a contour map in shaded levels, each variant's path on top.

The surface's value on a grid is quantised to a few levels of a sequential colour scale
(dark to light on a dark theme, light to dark on a light one), so its contours show as the
borders between the shades. Levels are log-spaced where the value spans decades
(rosenbrock, beale, himmelblau: log10 of the height above the minimum), linear on the
quadratic bowls (ravine, quadratic) and symmetric around 0 on the saddles, which have no
bottom (negative values in a warm family, positive in the cool one).

Each text cell is two grid cells (▀: the upper cell's colour on the lower's), so a grid
cell is about as wide as it is tall. The map fills the space it is given: the window is
stretched to the box, as a plot's axes are (one unit of x and one of y need not be as
long on screen; a square window in a wide box is drawn wide).

A path is a line of grid cells in its variant's colour, continuous however far apart its
points (every segment between two points is drawn), older parts fainter, newer on top;
its current point ●, its start ○, the surface's minima ★. The background grid is cached
by surface, window and size: only the paths change from frame to frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rich.cells import cell_len
from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tuisim.i18n import _
from tuisim.core.surface import BEALE, HIMMELBLAU, QUADRATIC, RAVINE, ROSENBROCK, SADDLE, Surface

from ..format import ellipsize, num, sci
from .boundary import blend
from .panel import Panel

LEVELS = 9  # shades of a one-signed surface; the saddles get LEVELS + 1, half below 0
STOPS = 4  # colour stops of a scale in app.tcss, interpolated to the levels
LIMIT = 1e100  # no window reaches beyond (its size would overflow)
CAP = 10.0  # points further than CAP x the classic window's half size from its centre: off the map
SADDLE_CAP = 2.5  # the same on the saddles, which a path leaves for good: their shape stays in view
MARGIN = 0.06  # of the window's size, around the points it is stretched to include
ZOOM_MIN = 0.02  # the smallest zoomed window, as a fraction of the classic one
FADE = (0.55, 0.3, 0.0)  # how far the old, middle and recent thirds of a path fade to the background
FAINT = 0.65  # how far a faint path (another seed) fades to the background, all along
CURRENT, DIVERGED, START, MINIMUM = "●", "✕", "○", "★"
ARROWS = "→↗↑↖←↙↓↘"  # off the map, by the direction of the point from the map's centre
MIN_LABELS = (36, 9)  # the width and height from which the axes and the scale are drawn
LOG_SURFACES = (ROSENBROCK, BEALE, HIMMELBLAU)
CENTRED = (RAVINE, QUADRATIC, SADDLE)

# the classic windows (x0, x1, y0, y1); the centred surfaces' grow to hold the starts
CLASSIC = {"rosenbrock": (-2.0, 2.0, -1.0, 3.0), "beale": (-4.5, 4.5, -4.5, 4.5),
           "himmelblau": (-5.0, 5.0, -5.0, 5.0)}
CENTRED_HALF = 2.0


# ---------------------------------------------------------------- the surface on a grid
def grid_values(surface: Surface, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """`surface`'s value at the points (x, y), vectorised: value_grad's formulas, term for
    term (so equal to Surface.value to the last bits)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    sp = surface._sp
    with np.errstate(all="ignore"):
        if surface.code == ROSENBROCK:
            r = y - x * x
            return (sp[0] - x) ** 2 + sp[1] * r * r
        if surface.code == BEALE:
            t1 = 1.5 - x + x * y
            t2 = 2.25 - x + x * y * y
            t3 = 2.625 - x + x * y * y * y
            return t1 * t1 + t2 * t2 + t3 * t3
        if surface.code == SADDLE:
            return x * x - y * y if sp[0] == 0.0 else x * x * x - 3.0 * x * y * y
        if surface.code == RAVINE:
            return 0.5 * (x * x + sp[0] * y * y)
        if surface.code == HIMMELBLAU:
            p = x * x + y - 11.0
            q = x + y * y - 7.0
            return p * p + q * q
        return 0.5 * (sp[0] * x * x + sp[1] * y * y)


def cell_centres(extent, cols: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The centres of a cols x rows grid over `extent`, row 0 at the top (y1)."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    ys = y1 - (np.arange(rows) + 0.5) * (y1 - y0) / rows
    return np.meshgrid(xs, ys)


@dataclass(frozen=True)
class Scale:
    """How values map to levels: `bounds` (increasing, len = levels - 1) split them; a
    value below bounds[0] is level 0. `kind`: "log", "linear" or "symmetric"; `lo`, `hi`:
    the values the legend names at its two ends."""

    kind: str
    bounds: np.ndarray
    lo: float
    hi: float

    @property
    def levels(self) -> int:
        return len(self.bounds) + 1

    def level(self, values: np.ndarray) -> np.ndarray:
        """The level of each value (NaN and inf: the top level, -inf: the bottom)."""
        v = np.where(np.isnan(values), np.inf, values)
        return np.searchsorted(self.bounds, v, side="right").astype(np.int16)


def level_scale(surface: Surface, values: np.ndarray) -> Scale:
    """The levels for `values` (the grid's): log-spaced heights above the minimum over
    the decades the grid spans, linear from the minimum to the top, or symmetric around 0."""
    v = values[np.isfinite(values)]
    if surface.code == SADDLE:
        top = min(float(np.abs(v).max()), 1e300) if v.size else 1.0
        top = top if top > 0 else 1.0
        half = (LEVELS + 1) // 2
        return Scale("symmetric", np.linspace(-top, top, 2 * half + 1)[1:-1], -top, top)
    floor = min((surface.value(*m) for m in surface.minima), default=float(v.min()) if v.size else 0.0)
    if surface.code in LOG_SURFACES:
        h = v - floor
        h = h[h > 0]
        if h.size == 0:
            h = np.array([1.0])
        hi = min(math.ceil(2 * math.log10(h.max())) / 2, 300.0)
        lo = math.floor(2 * math.log10(np.quantile(h, 0.01))) / 2
        lo = min(max(lo, hi - 9.0), hi - 2.0)  # 2 to 9 decades
        edges = np.linspace(lo, hi, LEVELS + 1)[1:-1]
        return Scale("log", floor + 10.0 ** edges, floor + 10.0 ** lo, floor + 10.0 ** hi)
    top = min(float(v.max()), 1e300) if v.size else floor + 1.0
    top = top if top > floor else floor + 1.0
    return Scale("linear", np.linspace(floor, top, LEVELS + 1)[1:-1], floor, top)


_BACKGROUNDS: dict[tuple, tuple[np.ndarray, Scale]] = {}


def background(surface: Surface, extent, cols: int, rows: int) -> tuple[np.ndarray, Scale]:
    """The level of each cell of a cols x rows grid over `extent` (row 0 at the top), and
    the scale: cached, as the paths change every frame but the surface and the window rarely."""
    extent = tuple(float(e) for e in extent)
    key = (surface.name, tuple(sorted(surface.params.items())), extent, int(cols), int(rows))
    got = _BACKGROUNDS.get(key)
    if got is None:
        X, Y = cell_centres(extent, int(cols), int(rows))
        values = grid_values(surface, X, Y)
        scale = level_scale(surface, values)
        levels = scale.level(values)
        levels.setflags(write=False)
        if len(_BACKGROUNDS) >= 16:
            _BACKGROUNDS.pop(next(iter(_BACKGROUNDS)))
        got = _BACKGROUNDS[key] = (levels, scale)
    return got


# ---------------------------------------------------------------- the paths and the window
@dataclass
class MapPath:
    """One variant's path: its points (n, 2), the current one last; `variant` picks its
    colour in the widget. A `faint` path (another seed of a variant, with its own noise)
    is drawn faint and under the others, without marks."""

    label: str
    position: np.ndarray
    diverged: bool = False
    variant: int = 0
    faint: bool = False

    @classmethod
    def of(cls, p) -> "MapPath":
        """A MapPath, or a tuple (label, positions[, diverged[, variant]])."""
        if isinstance(p, MapPath):
            return p
        return cls(*p)

    def __post_init__(self) -> None:
        pos = np.asarray(self.position, dtype=np.float64).reshape(-1, 2)
        self.position = pos

    @property
    def finite(self) -> np.ndarray:
        return self.position[np.isfinite(self.position).all(axis=1)]

    @property
    def sane(self) -> np.ndarray:
        """The points a window may hold (finite, |x|, |y| <= LIMIT)."""
        with np.errstate(invalid="ignore"):
            return self.position[(np.abs(self.position) <= LIMIT).all(axis=1)]


def classic_window(surface: Surface, paths: list[MapPath]) -> tuple[float, float, float, float]:
    """The surface's classic window, holding its minima; a centred surface's (ravine,
    quadratic, saddle) is symmetric around 0 and holds the paths' starts."""
    if surface.code in CENTRED:
        hx = hy = CENTRED_HALF
        for p in paths:
            f = p.sane
            if len(f):
                hx, hy = max(hx, abs(f[0, 0])), max(hy, abs(f[0, 1]))
        if surface.code == SADDLE:
            hx = hy = max(hx, hy)
        return -hx, hx, -hy, hy
    x0, x1, y0, y1 = CLASSIC.get(surface.name, (-2.0, 2.0, -2.0, 2.0))
    for mx, my in surface.minima:
        x0, x1, y0, y1 = min(x0, mx - 1), max(x1, mx + 1), min(y0, my - 1), max(y1, my + 1)
    return x0, x1, y0, y1


def _near_points(window, paths: list[MapPath], cap: float = CAP) -> np.ndarray:
    """The paths' finite points within `cap` x the window's half size of its centre."""
    x0, x1, y0, y1 = window
    c = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    half = np.array([(x1 - x0) / 2, (y1 - y0) / 2])
    pts = [p.sane for p in paths]
    pts = np.concatenate(pts) if pts else np.zeros((0, 2))
    return pts[(np.abs(pts - c) <= cap * half).all(axis=1)]


def nice_up(v: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9 x a power of 10 that is >= v > 0."""
    e = 10.0 ** math.floor(math.log10(v))
    return next(m * e for m in (1, 1.2, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9, 10) if m * e >= v * (1 - 1e-12))


def default_extent(surface: Surface, paths: list[MapPath]) -> tuple[float, float, float, float]:
    """The classic window grown (with a margin) to hold every point not far off it of the
    paths that have not diverged (beyond CAP x its size a point is off the map: a path on
    its way out does not blow the window up, one gone does not move it at all); a centred
    surface's stays symmetric around 0."""
    paths = [MapPath.of(p) for p in paths]
    w = classic_window(surface, paths)
    pts = _near_points(w, [p for p in paths if not p.diverged], SADDLE_CAP if surface.code == SADDLE else CAP)
    if not len(pts):
        return w
    x0, x1, y0, y1 = w
    if surface.code in CENTRED:
        hx = nice_up(max(x1, np.abs(pts[:, 0]).max() * (1 + MARGIN)))
        hy = nice_up(max(y1, np.abs(pts[:, 1]).max() * (1 + MARGIN)))
        if surface.code == SADDLE:  # a square window: the lobes above and below 0 alike
            hx = hy = max(hx, hy)
        return -hx, hx, -hy, hy
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    if lo[0] >= x0 and hi[0] <= x1 and lo[1] >= y0 and hi[1] <= y1:
        return w
    out = []
    for a, b, p, q in ((x0, x1, lo[0], hi[0]), (y0, y1, lo[1], hi[1])):
        m = (max(b, q) - min(a, p)) * MARGIN
        out += round_out(min(a, p - m), max(b, q + m))
    return tuple(out)


def round_out(a: float, b: float) -> list[float]:
    """a and b moved out to round numbers (for the labels): multiples of half the power of
    10 below b - a."""
    step = 10.0 ** math.floor(math.log10(b - a)) / 2
    return [float(round(math.floor(a / step) * step, 12)), float(round(math.ceil(b / step) * step, 12))]


def zoom_extent(surface: Surface, paths: list[MapPath]) -> tuple[float, float, float, float]:
    """The bounding box of the paths that have not diverged (of all, when all have), with
    a margin, on round numbers, at least ZOOM_MIN of the classic window in each direction
    (points off the map as for default_extent left out)."""
    paths = [MapPath.of(p) for p in paths]
    w = classic_window(surface, paths)
    cap = SADDLE_CAP if surface.code == SADDLE else CAP
    pts = _near_points(w, [p for p in paths if not p.diverged], cap)
    if not len(pts):
        pts = _near_points(w, paths, cap)
    if not len(pts):
        return default_extent(surface, paths)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    out = []
    for k, size in enumerate((w[1] - w[0], w[3] - w[2])):
        span = max(hi[k] - lo[k], ZOOM_MIN * size)
        c = (lo[k] + hi[k]) / 2
        out += round_out(c - span * (0.5 + MARGIN), c + span * (0.5 + MARGIN))
    return tuple(out)


# ---------------------------------------------------------------- colours
DARK = {"level": ("#0b0e14", "#1d2636", "#34445c", "#5a6c86"),
        "below": ("#120d0b", "#33221a", "#55392b", "#80593f"),
        "minimum": "#ffffff", "start": "#b8b8b8", "muted": "#8a8a8a", "background": "#121212"}
LIGHT = {"level": ("#f7f7f5", "#e2e5ea", "#c7ccd5", "#a7afbc"),
         "below": ("#faf6f2", "#efe2d6", "#dfc8b4", "#c9a98f"),
         "minimum": "#000000", "start": "#444444", "muted": "#666666", "background": "#e0e0e0"}


def ramp(stops: list[Color], n: int) -> list[Color]:
    """n colours evenly along the stops."""
    rgb = np.array([c.get_truecolor() for c in stops], dtype=float)
    at = np.linspace(0, len(stops) - 1, n)
    pos = np.arange(len(stops))
    return [Color.from_rgb(*(round(float(np.interp(a, pos, rgb[:, j]))) for j in range(3))) for a in at]


@dataclass
class Palette:
    """The map's colours: the level stops (and the ones below 0, for the saddles), the
    minimum's star, the start's ring, the labels', the theme's background (that a path's
    older parts fade to)."""

    level: list[Color]
    below: list[Color]
    minimum: Color
    start: Color
    muted: Color
    background: Color

    @classmethod
    def of(cls, spec: dict) -> "Palette":
        c = Color.parse
        return cls([c(s) for s in spec["level"]], [c(s) for s in spec["below"]], c(spec["minimum"]),
                   c(spec["start"]), c(spec["muted"]), c(spec["background"]))

    def levels(self, scale: Scale) -> list[Color]:
        """One colour per level of `scale`: up the level ramp; a symmetric scale's lower
        half down the ramp below 0, the palest at 0."""
        if scale.kind != "symmetric":
            return ramp(self.level, scale.levels)
        half = scale.levels // 2
        return ramp(self.below, half)[::-1] + ramp(self.level, scale.levels - half)


@lru_cache(maxsize=4096)
def _style(fg: Color | None, bg: Color | None, bold: bool = False) -> Style:
    return Style(color=fg, bgcolor=bg, bold=bold)


# ---------------------------------------------------------------- drawing paths on the grid
def clip_segments(p: np.ndarray, q: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """The parts of the segments p[k] -> q[k] inside the box lo..hi (Liang-Barsky): their
    ends and whether any part is inside."""
    d = q - p
    t0, t1 = np.zeros(len(p)), np.ones(len(p))
    ok = np.isfinite(p).all(axis=1) & np.isfinite(q).all(axis=1) & np.isfinite(d).all(axis=1)
    with np.errstate(all="ignore"):
        for axis in range(2):
            for pk, qk in ((-d[:, axis], p[:, axis] - lo[axis]), (d[:, axis], hi[axis] - p[:, axis])):
                r = qk / pk
                ok &= ~((pk == 0) & (qk < 0))
                t0 = np.where(pk < 0, np.maximum(t0, r), t0)
                t1 = np.where(pk > 0, np.minimum(t1, r), t1)
    ok &= t0 <= t1
    return p + t0[:, None] * d, p + t1[:, None] * d, ok


def trace_cells(points: np.ndarray, cols: int, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid cells a path's points (in grid units: column, row, floats) pass through,
    every segment sampled at half a cell: their rows, columns and segment index (its
    point's index, the segment from a point to the next; the last point alone)."""
    n = len(points)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    box_lo, box_hi = np.array([-1.0, -1.0]), np.array([cols + 1.0, rows + 1.0])
    p, q = points[:-1], points[1:]
    a, b, ok = clip_segments(p, q, box_lo, box_hi)
    index = np.flatnonzero(ok)
    a, b = a[ok], b[ok]
    last = points[-1:]
    if np.isfinite(last).all() and (np.abs(last) < 1e9).all():
        a, b, index = np.concatenate([a, last]), np.concatenate([b, last]), np.append(index, n - 1)
    steps = np.ceil(2 * np.abs(b - a).max(axis=1, initial=0.0)).astype(np.int64) + 1
    seg = np.repeat(np.arange(len(a)), steps)
    start = np.cumsum(steps) - steps
    t = (np.arange(int(steps.sum())) - np.repeat(start, steps)) / np.maximum(np.repeat(steps, steps) - 1, 1)
    xy = a[seg] + t[:, None] * (b[seg] - a[seg])
    c, r = np.floor(xy[:, 0]).astype(np.int64), np.floor(xy[:, 1]).astype(np.int64)
    inside = (c >= 0) & (c < cols) & (r >= 0) & (r < rows)
    return r[inside], c[inside], index[seg[inside]]


def arc_shades(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each segment's shade (0 old .. 2 recent): the third of the drawn length it ends in,
    so a path that has settled keeps its way in shows the approach bright."""
    cum = np.cumsum(np.hypot(*(b - a).T))
    total = cum[-1] if len(cum) and cum[-1] > 0 else 1.0
    return np.minimum((3 * cum / total).astype(np.int64), 2) if len(cum) else np.zeros(0, np.int64)


def direction_arrow(dx: float, dy: float) -> str:
    """The arrow of the 8 pointing nearest to (dx, dy) (y up)."""
    return ARROWS[round(math.atan2(dy, dx) / (math.pi / 4)) % 8]


# ---------------------------------------------------------------- the renderable
@dataclass
class Layout:
    gutter: int  # columns of y labels at the left
    cols: int  # the map's columns
    lines: int  # the map's lines (2 grid rows each)
    legend: bool  # a last line of x labels and the colour scale


class PathMap:
    """A Rich renderable: the surface's levels over `extent` (by default the classic
    window grown to the paths, `zoom`: the paths' bounding box), the paths on top in
    `colors` (one per path), the y range at the left, the x range and the colour scale on
    the last line (dropped below MIN_LABELS). `width` and `height` default to the space
    Rich offers (without a height: the window's aspect, a grid cell being square)."""

    def __init__(self, surface: Surface, paths, colors: list[Color], *, extent=None, zoom: bool = False,
                 palette: Palette | None = None, labels: bool = True, width: int | None = None,
                 height: int | None = None) -> None:
        self.surface = surface
        self.paths = [MapPath.of(p) for p in paths]
        self.colors = list(colors)
        self.palette = palette or Palette.of(DARK)
        self.zoom = zoom
        if extent is not None:
            x0, x1, y0, y1 = (float(e) for e in extent)
            if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
                extent = None  # not a window: the default one
        if extent is None:
            extent = (zoom_extent if zoom else default_extent)(surface, self.paths)
        self.extent = tuple(float(e) for e in extent)
        self.labels = labels
        self.width, self.height = width, height

    # ------------------------------------------------------------------ geometry
    def layout(self, width: int, height: int) -> Layout:
        x0, x1, y0, y1 = self.extent
        if self.labels and width >= MIN_LABELS[0] and height >= MIN_LABELS[1]:
            gutter = max(len(num(y0)), len(num(y1))) + 1
            return Layout(gutter, width - gutter, height - 1, True)
        return Layout(0, max(width, 0), max(height, 0), False)

    def to_grid(self, xy: np.ndarray, cols: int, rows: int) -> np.ndarray:
        """Points (x, y) in grid units: (column, row) floats, row 0 at the top."""
        x0, x1, y0, y1 = self.extent
        with np.errstate(all="ignore"):
            return np.stack([(xy[:, 0] - x0) / (x1 - x0) * cols, (y1 - xy[:, 1]) / (y1 - y0) * rows], axis=1)

    def current(self, path: MapPath) -> np.ndarray | None:
        f = path.finite
        return f[-1] if len(f) else None

    def off_map(self) -> list[tuple[int, str]]:
        """(path index, arrow) of the paths whose current point is outside the window."""
        x0, x1, y0, y1 = self.extent
        out = []
        for i, p in enumerate(self.paths):
            c = self.current(p)
            if c is not None and not p.faint and not (x0 <= c[0] <= x1 and y0 <= c[1] <= y1):
                out.append((i, direction_arrow(*self._unit(c))))
        return out

    def _unit(self, point) -> tuple[float, float]:
        """The point relative to the window's centre, its half sizes 1 (finite)."""
        x0, x1, y0, y1 = self.extent
        with np.errstate(all="ignore"):
            u = (point[0] - (x0 + x1) / 2) / ((x1 - x0) / 2)
            v = (point[1] - (y0 + y1) / 2) / ((y1 - y0) / 2)
        return float(np.clip(u, -1e300, 1e300)), float(np.clip(v, -1e300, 1e300))

    # ------------------------------------------------------------------ the picture
    def picture(self, cols: int, lines: int):
        """The grid's colour ids (2 x lines rows), the colours they index, and the glyph
        cells {(line, column): (character, style)}."""
        rows = 2 * lines
        levels, scale = background(self.surface, self.extent, cols, rows)
        colors = self.palette.levels(scale)
        pix = levels.astype(np.int32)
        for i, p in enumerate(self.paths):
            base = len(colors)
            full = self.colors[i % len(self.colors)] if self.colors else Color.parse("white")
            colors += [blend(full, self.palette.background, FAINT if p.faint else f) for f in FADE]
            r, c, shade = self._trace(p, cols, rows)
            for k in range(3):
                sel = shade == k
                pix[r[sel], c[sel]] = base + k
        return pix, colors, self.glyphs(levels, colors, cols, lines)

    def _trace(self, p: MapPath, cols: int, rows: int):
        g = self.to_grid(p.position, cols, rows)
        g = g[np.isfinite(g).all(axis=1)]
        r, c, seg = trace_cells(g, cols, rows)
        if len(g) > 1:
            a, b, ok = clip_segments(g[:-1], g[1:], np.array([-1.0, -1.0]), np.array([cols + 1.0, rows + 1.0]))
            shades = np.append(arc_shades(np.where(ok[:, None], a, 0), np.where(ok[:, None], b, 0)), 2)
        else:
            shades = np.full(1, 2)
        return r, c, shades[np.minimum(seg, len(shades) - 1)]

    def glyphs(self, levels: np.ndarray, colors: list[Color], cols: int, lines: int) -> dict:
        """The marks over the paths: the starts, the minima, the current points (or an
        arrow at the edge toward one off the map), each on its cell's level colour."""
        rows = 2 * lines
        out: dict[tuple[int, int], tuple[str, Style]] = {}

        def put(xy, char: str, fg: Color, bold: bool = False, clip: bool = False) -> None:
            g = self.to_grid(np.asarray(xy, dtype=np.float64).reshape(1, 2), cols, rows)[0]
            if not np.isfinite(g).all():
                return
            c, r = int(math.floor(g[0])), int(math.floor(g[1]))
            if clip:
                c, r = min(max(c, 0), cols - 1), min(max(r, 0), rows - 1)
            if 0 <= c < cols and 0 <= r < rows:
                out[(r // 2, c)] = (char, _style(fg, colors[levels[r, c]], bold))

        pal = self.palette
        for p in self.paths:
            f = p.finite
            if len(f) and not p.faint:
                put(f[0], START, pal.start)
        for m in self.surface.minima:
            put(m, MINIMUM, pal.minimum, bold=True)
        off = dict(self.off_map())
        x0, x1, y0, y1 = self.extent
        for i, p in enumerate(self.paths):
            cur = self.current(p)
            if cur is None or p.faint:
                continue
            color = self.colors[i % len(self.colors)] if self.colors else Color.parse("white")
            if i in off:
                u, v = self._unit(cur)
                s = 1.0 / max(abs(u), abs(v))
                edge = ((x0 + x1) / 2 + u * s * (x1 - x0) / 2, (y0 + y1) / 2 + v * s * (y1 - y0) / 2)
                put(edge, off[i], color, bold=True, clip=True)
            else:
                diverged = p.diverged or not np.isfinite(p.position[-1]).all()
                put(cur, DIVERGED if diverged else CURRENT, color, bold=True)
        return out

    # ------------------------------------------------------------------ text
    def map_lines(self, lay: Layout) -> list[list[Segment]]:
        pix, colors, glyphs = self.picture(lay.cols, lay.lines)
        x0, x1, y0, y1 = self.extent
        k = len(colors)
        zero = int((y1 / (y1 - y0)) * lay.lines) if y0 < 0 < y1 else -1  # the line that holds y = 0
        zero = zero if 1 < zero < lay.lines - 2 else -1
        out = []
        for line in range(lay.lines):
            top, bot = pix[2 * line], pix[2 * line + 1]
            key = top * k + bot
            cuts = set(np.flatnonzero(key[1:] != key[:-1]) + 1)
            marks = [c for (ln, c) in glyphs if ln == line]
            cuts.update(marks)
            cuts.update(c + 1 for c in marks)
            edges = [0] + sorted(c for c in cuts if 0 < c < lay.cols) + [lay.cols]
            segs = []
            if lay.gutter:
                label = num(y1) if line == 0 else num(y0) if line == lay.lines - 1 else "0" if line == zero else ""
                segs.append(Segment(label.rjust(lay.gutter - 1) + " ", _style(self.palette.muted, None)))
            for a, b in zip(edges[:-1], edges[1:]):
                g = glyphs.get((line, a))
                if g is not None:
                    segs.append(Segment(*g))
                else:
                    segs.append(Segment("▀" * (b - a), _style(colors[top[a]], colors[bot[a]])))
            out.append(segs)
        return out

    def legend(self, lay: Layout, width: int) -> Text:
        """The last line: x0 under the map's first column, x1 under its last, the colour
        scale between them when it fits."""
        x0, x1, __, ___ = self.extent
        muted = _style(self.palette.muted, None)
        left, right = num(x0), num(x1)
        __, scale = background(self.surface, self.extent, lay.cols, 2 * lay.lines)
        colors = self.palette.levels(scale)
        ends = (sci(scale.lo, 0), sci(scale.hi, 0)) if scale.kind == "log" else (num(scale.lo), num(scale.hi))
        room = lay.cols - len(left) - len(right) - 2
        text = Text(" " * lay.gutter + left, style=muted, no_wrap=True, overflow="crop")
        for words in ((_("loss") + " ",) + ends, ("",) + ends, ("", "", "")):
            fixed = cell_len(words[0]) + len(words[1]) + len(words[2]) + (2 if words[1] else 0)
            each = min(3, (room - fixed) // scale.levels)
            if each >= 1:
                body = Text(words[0] + words[1] + (" " if words[1] else ""), style=muted)
                for c in colors:
                    body.append(" " * each, _style(None, c))
                body.append((" " if words[2] else "") + words[2], muted)
                pad = room - body.cell_len
                text.append(" " * (1 + pad // 2))
                text.append(body)
                text.append(" " * (1 + pad - pad // 2))
                break
        else:
            text.append(" " * max(room + 2, 0))
        text.append(right, style=muted)
        text.truncate(width, pad=True)
        return text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = self.width or options.max_width
        height = self.height or options.height
        if height is None:
            x0, x1, y0, y1 = self.extent
            height = max(2, min(60, round(width * (y1 - y0) / (x1 - x0) / 2)))
        if width <= 0 or height <= 0:
            return
        lay = self.layout(width, height)
        for segs in self.map_lines(lay):
            yield from segs
            yield Segment.line()
        if lay.legend:
            yield from self.legend(lay, width).render(console)
            yield Segment.line()


# ---------------------------------------------------------------- the widget
def formula_text(surface: Surface) -> str:
    """The surface's formula (a saddle's: its kind's)."""
    if surface.code == SADDLE:
        return "x^2 - y^2" if surface.params.get("kind") == "quadratic" else "x^3 - 3 x y^2"
    return surface.formula


class PathView(Panel):
    """The optimizer paths view: the screen calls `show_paths` each frame with the surface
    and every variant's path (MapPath: label, positions (n, 2), diverged, variant index)."""

    COMPONENT_CLASSES = (Panel.COMPONENT_CLASSES
                         | {f"path-view--{k}-{i}" for k in ("level", "below") for i in range(STOPS)}
                         | {"path-view--minimum", "path-view--start"})

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.surface: Surface | None = None
        self.paths: list[MapPath] = []
        self.zoom = False
        self._map: PathMap | None = None

    def show_paths(self, surface: Surface, paths, zoom: bool = False, force: bool = False) -> None:
        """New paths to draw (`zoom`: the window is the paths' bounding box, else the
        surface's classic window grown to hold them)."""
        self.surface, self.paths, self.zoom = surface, [MapPath.of(p) for p in paths], zoom
        self._map = None
        self.show(self.views, force=force)

    def empty(self) -> bool:
        return self.surface is None

    def palette(self) -> Palette:
        """The map's colours from the component classes (DARK's where one has none)."""
        def color(name: str, fallback: str) -> Color:
            return self.component_style(f"path-view--{name}").color or Color.parse(fallback)

        return Palette([color(f"level-{i}", DARK["level"][i]) for i in range(STOPS)],
                       [color(f"below-{i}", DARK["below"][i]) for i in range(STOPS)],
                       color("minimum", DARK["minimum"]), color("start", DARK["start"]),
                       # whole, not partial: $text-muted is a see-through colour, blended here
                       self.get_component_rich_style("panel--muted", partial=False).color
                       or Color.parse(DARK["muted"]),
                       self.rich_style.bgcolor or Color.parse(DARK["background"]))

    def picture(self) -> PathMap:
        if self._map is None:
            colors = [self.variant_style(p.variant).color or Color.parse("white") for p in self.paths]
            self._map = PathMap(self.surface, self.paths, colors, zoom=self.zoom, palette=self.palette())
        return self._map

    def titles(self) -> None:
        if self.surface is None:
            self.set_titles(_("Optimizer paths"), "")
            return
        width = max(self.size.width - 4, 1)
        self.set_titles(ellipsize(_("Paths on {surface}: {formula}").format(
            surface=self.surface.name, formula=formula_text(self.surface)), width), "")
        pic = self.picture()
        notes = [_("{arrow} {variant} off the map").format(arrow=arrow, variant=self.paths[i].label)
                 for i, arrow in pic.off_map()]
        notes += [_("zoomed to the paths")] if self.zoom else []
        self.set_titles(subtitle=ellipsize(" · ".join(notes), width))

    def build(self):
        return self.picture()

    def notify_style_update(self) -> None:
        self._map = None
        super().notify_style_update()
