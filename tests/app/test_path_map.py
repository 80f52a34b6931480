"""The optimizer paths map: the grid is the surface, the picture fits its box whatever the
paths hold, the marks sit where their points are, the windows hold what they must."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from rich.color import Color
from rich.console import Console

from tuisim.core.surface import SURFACES, Descent, Surface
from tuisim.app.widgets.boundary import blend
from tuisim.app.widgets.path_map import (CURRENT, DARK, FADE, LIGHT, MINIMUM, START, MapPath, Palette, PathMap,
                                         PathView, background, default_extent, grid_values, zoom_extent)

COLORS = [Color.parse(c) for c in ("#56b4e9", "#e69f00", "#009e73")]
ALL = [Surface(name) for name in SURFACES] + [Surface("saddle", kind="monkey"), Surface("ravine", condition=50.0)]
STARTS = {"rosenbrock": (-1.5, 2.0), "beale": (1.0, 1.5), "saddle": (-1.5, 0.01), "ravine": (-8.0, 1.0),
          "himmelblau": (0.0, 0.0), "quadratic": (2.0, -1.5)}


def painted(pic, width: int, height: int):
    """Each text cell's (character, style), line by line."""
    console = Console(width=width, color_system="truecolor", force_terminal=True)
    lines = console.render_lines(pic, console.options.update(width=width, height=height), pad=False, new_lines=False)
    return [[(ch, seg.style) for seg in line for ch in seg.text] for line in lines]


def descend(surface: Surface, steps: int = 200, start=None, **kw):
    kw = kw or {"optimizer": "adam", "lr": 0.05}
    trace = Descent(surface, start or STARTS[surface.name], **kw).run(steps)
    return trace


def label(s: Surface) -> str:
    return f"{s.name}-{s.params.get('kind', '')}{s.params.get('condition', '')}"


@pytest.mark.parametrize("surface", ALL, ids=label)
def test_the_numpy_grid_is_the_surfaces_value(surface):
    rng = np.random.default_rng(0)
    pts = rng.uniform(-5, 5, size=(200, 2))
    got = grid_values(surface, pts[:, 0], pts[:, 1])
    want = np.array([surface.value(x, y) for x, y in pts])
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12)


def diverged_paths(surface: Surface) -> list[MapPath]:
    bad = np.array([[0.5, 0.5], [3.0, -2.0], [1e5, 1e6], [1e300, -1e300], [np.inf, 1.0], [np.nan, np.nan]])
    return [MapPath("bad", bad, True, 1), MapPath("inf", np.array([[np.inf, np.nan]]), True, 2),
            MapPath("empty", np.zeros((0, 2))), MapPath("far", np.array([[1e200, -1e200], [1e308, 0.0]]))]


@pytest.mark.parametrize("surface", ALL, ids=label)
@pytest.mark.filterwarnings("error")  # no overflow warnings either
def test_the_picture_fills_its_box_exactly_whatever_the_paths(surface):
    trace = descend(surface, 100)
    for paths in ([], [("adam", trace.position, trace.diverged)], diverged_paths(surface)):
        for zoom in (False, True):
            for w, h in ((80, 20), (40, 12), (20, 6), (160, 45), (30, 8), (3, 1)):
                cells = painted(PathMap(surface, paths, COLORS, zoom=zoom), w, h)
                assert len(cells) == h, (w, h)
                assert all(len(line) == w for line in cells), (w, h, [len(line) for line in cells])


def test_labels_at_a_readable_size_none_when_small():
    s = Surface("rosenbrock")
    big = painted(PathMap(s, [], COLORS), 80, 20)
    text = ["".join(ch for ch, _ in line) for line in big]
    assert text[0].startswith(" 3 ") and text[-2].startswith("-1 ")  # y at the left, top and bottom
    assert text[-1].split()[0] == "-2" and text[-1].split()[-1] == "2"  # x at the bottom
    assert "loss 3e-1 " in text[-1] and " 3e3 " in text[-1]  # the colour scale's ends
    small = painted(PathMap(s, [], COLORS), 30, 8)
    assert {ch for line in small for ch, _ in line} == {"▀", MINIMUM}  # the map alone


def cell_of(pic: PathMap, xy, cols: int, lines: int) -> tuple[int, int]:
    x0, x1, y0, y1 = pic.extent
    return int((y1 - xy[1]) / (y1 - y0) * 2 * lines) // 2, int((xy[0] - x0) / (x1 - x0) * cols)


def test_minimum_current_point_and_start_marks_sit_in_their_cells():
    s = Surface("rosenbrock")
    trace = descend(s, 60, optimizer="sgd", lr=0.001)
    pic = PathMap(s, [("sgd", trace.position, False)], COLORS, labels=False)
    w, h = 80, 24
    cells = painted(pic, w, h)
    line, col = cell_of(pic, (1.0, 1.0), w, h)
    assert cells[line][col][0] == MINIMUM
    line, col = cell_of(pic, trace.position[-1], w, h)
    assert cells[line][col][0] == CURRENT and cells[line][col][1].color == COLORS[0]
    line, col = cell_of(pic, trace.position[0], w, h)
    assert cells[line][col][0] == START
    assert sum(ch == MINIMUM for row in cells for ch, _ in row) == 1
    hb = Surface("himmelblau")
    cells = painted(PathMap(hb, [], COLORS), 60, 30)
    assert sum(ch == MINIMUM for row in cells for ch, _ in row) == 4


def test_sgd_zig_zags_across_the_ravine_and_the_path_is_continuous():
    s = Surface("ravine", condition=50.0)
    trace = Descent(s, (-8.0, 1.0), "sgd", lr=0.035).run(60)
    pic = PathMap(s, [("sgd", trace.position, False)], COLORS, labels=False)
    w, h = 120, 40
    cells = painted(pic, w, h)
    x0, x1, y0, y1 = pic.extent
    assert x0 < -8 < 8 < x1 and y0 < -1 < 1 < y1
    shades = {blend(COLORS[0], pic.palette.background, f) for f in FADE}  # the path's, old to recent
    path_rows = set()
    for line, row in enumerate(cells):
        for col, (ch, st) in enumerate(row):
            for half, color in ((0, st.color), (1, st.bgcolor)):
                if ch == "▀" and color in shades:
                    path_rows.add((2 * line + half, col))
    zero = (y1 - 0.0) / (y1 - y0) * 2 * h
    assert any(r < zero - 2 for r, _ in path_rows) and any(r > zero + 2 for r, _ in path_rows)
    # continuous: a steep segment covers every grid row between its ends in some column
    p, q = trace.position[0], trace.position[1]
    ra, rb = sorted(int((y1 - v) / (y1 - y0) * 2 * h) for v in (p[1], q[1]))
    covered = {r for r, _ in path_rows}
    assert set(range(ra + 2, rb)) <= covered  # (the start mark covers the line of rows ra, ra + 1)


def test_the_default_window_is_the_classic_one_grown_and_capped():
    s = Surface("rosenbrock")
    assert default_extent(s, []) == (-2.0, 2.0, -1.0, 3.0)
    assert default_extent(Surface("beale"), []) == (-4.5, 4.5, -4.5, 4.5)
    assert default_extent(Surface("himmelblau"), []) == (-5.0, 5.0, -5.0, 5.0)
    grown = default_extent(s, [("a", np.array([[-3.0, 0.0], [0.0, 0.0]]))])
    assert grown[0] < -3.0 and grown[1] >= 2.0 and grown[2] <= -1.0 and grown[3] >= 3.0
    far = default_extent(s, [("a", np.array([[0.0, 0.0], [1e3, 1e5], [1e300, 1.0]]))])
    assert far == (-2.0, 2.0, -1.0, 3.0)  # beyond 10 x the window: off the map, not a bigger map
    pic = PathMap(s, [("a", np.array([[0.0, 0.0], [1e3, 1e3]]))], COLORS)
    assert pic.off_map() == [(0, "↗")]
    x0, x1, y0, y1 = default_extent(Surface("ravine", condition=50.0), [("a", np.array([[-8.0, 1.0]]))])
    assert x0 == -x1 and y0 == -y1 and x1 > 8 and y1 >= 2


def test_zoom_holds_every_near_point_and_is_smaller_for_a_converged_path():
    s = Surface("rosenbrock")
    trace = descend(s, 2000, start=(0.0, 0.5), optimizer="adam", lr=0.02)
    assert s.distance_to_minimum(trace.position[-1])[0] < 0.05
    paths = [("adam", trace.position, False)]
    z, d = zoom_extent(s, paths), default_extent(s, paths)
    pts = trace.position
    assert (pts[:, 0] >= z[0]).all() and (pts[:, 0] <= z[1]).all()
    assert (pts[:, 1] >= z[2]).all() and (pts[:, 1] <= z[3]).all()
    assert z[1] - z[0] < d[1] - d[0] and z[3] - z[2] < d[3] - d[2]
    one = zoom_extent(s, [("still", np.array([[1.0, 1.0]] * 5))])
    assert one[1] - one[0] > 0.05 and one[3] - one[2] > 0.05  # a point is not a zero-size window
    assert PathMap(s, paths, COLORS, zoom=True).extent == z


def test_rosenbrock_levels_are_log_spaced_ravine_linear_saddle_symmetric():
    s = Surface("rosenbrock")
    levels, scale = background(s, default_extent(s, []), 80, 40)
    b = scale.bounds
    assert scale.kind == "log" and len(b) >= 7
    steps = np.diff(np.log10(b))
    assert np.allclose(steps, steps[0]) and steps[0] > 0.2
    assert levels.min() == 0 and levels.max() == scale.levels - 1  # the whole scale is used
    values = grid_values(s, np.array([1.0, -2.0]), np.array([1.0, -1.0]))
    assert list(scale.level(values)) == [0, scale.levels - 1]
    r = Surface("ravine", condition=50.0)
    _, lin = background(r, default_extent(r, []), 40, 20)
    assert lin.kind == "linear" and np.allclose(np.diff(lin.bounds), np.diff(lin.bounds)[0])
    sd = Surface("saddle")
    _, sym = background(sd, default_extent(sd, []), 40, 20)
    assert sym.kind == "symmetric" and np.allclose(sym.bounds, -sym.bounds[::-1])
    assert sym.level(np.array([-1e-9]))[0] == sym.levels // 2 - 1 and sym.level(np.array([1e-9]))[0] == sym.levels // 2


def test_the_grid_is_cached_and_fast():
    s = Surface("beale")
    t0 = time.perf_counter()
    levels, _ = background(s, (-4.5, 4.5, -4.5, 4.25), 160, 200)
    assert time.perf_counter() - t0 < 0.02
    assert background(s, (-4.5, 4.5, -4.5, 4.25), 160, 200)[0] is levels
    trace = descend(s, 500)
    paths = [(f"v{i}", trace.position + 0.01 * i, False) for i in range(3)]
    console = Console(width=160, color_system="truecolor", force_terminal=True)
    console.render_lines(PathMap(s, paths, COLORS), console.options.update(width=160, height=45))
    t0 = time.perf_counter()
    for _ in range(5):
        console.render_lines(PathMap(s, paths, COLORS), console.options.update(width=160, height=45))
    assert (time.perf_counter() - t0) / 5 < 0.05  # a frame, at 10 a second, leaves the engine its time


def test_light_palette_runs_light_to_dark():
    s = Surface("quadratic")
    light = Palette.of(LIGHT).levels(background(s, (-2, 2, -2, 2), 10, 10)[1])
    dark = Palette.of(DARK).levels(background(s, (-2, 2, -2, 2), 10, 10)[1])
    assert sum(light[0].get_truecolor()) > sum(light[-1].get_truecolor())
    assert sum(dark[0].get_truecolor()) < sum(dark[-1].get_truecolor())


async def test_the_widget_titles_and_draws_the_paths():
    from textual.app import App, ComposeResult

    class One(App):
        CSS_PATH = str(Path(__file__).parents[2] / "tuisim" / "app" / "app.tcss")

        def compose(self) -> ComposeResult:
            yield PathView(id="paths")

    app = One()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(PathView)
        s = Surface("rosenbrock")
        trace = descend(s, 100)
        view.show_paths(s, [MapPath("adam", trace.position, False, 0),
                            MapPath("wild", np.array([[0.0, 0.0], [1e6, 1e6]]), True, 1)])
        await pilot.pause()
        assert view.border_title.startswith("Paths on rosenbrock: (a - x)^2")
        assert "wild off the map" in view.border_subtitle
        text = "".join(view.render_line(y).text for y in range(view.content_size.height))
        assert CURRENT in text and MINIMUM in text and "↗" in text
        assert view.picture().colors[0] == view.variant_style(0).color
        view.show_paths(s, [MapPath("adam", trace.position, False, 0)], zoom=True)
        await pilot.pause()
        assert "zoomed" in view.border_subtitle and view.picture().extent != (-2.0, 2.0, -1.0, 3.0)


def test_a_faint_path_is_drawn_faint_under_the_others_without_marks():
    from tuisim.app.widgets.path_map import CURRENT, FAINT, START, MapPath, PathMap

    surface = Surface("quadratic")
    other = MapPath("SGD", np.array([[-1.0, 1.0], [-0.5, -0.4], [0.3, 0.2]]), variant=0, faint=True)
    main = MapPath("SGD", np.array([[-1.0, 1.0], [-0.6, 0.6], [-0.2, 0.1]]), variant=0)
    white = Color.parse("#ffffff")
    pm = PathMap(surface, [other, main], [white, white])
    pix, colors, glyphs = pm.picture(40, 12)
    chars = [c for c, _ in glyphs.values()]
    assert chars.count(CURRENT) == 1 and chars.count(START) == 1  # the main path's marks only
    faint = colors[-6:-3]
    assert all(c.get_truecolor() == faint[0].get_truecolor() for c in faint)
    assert faint[0].get_truecolor() != white.get_truecolor()
    assert FAINT > 0.5
