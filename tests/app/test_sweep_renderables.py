"""The sweep screen's drawing code, without an app: the map's layout, its colour scale, the
heatmap renderable on a partial grid, the curves, and the selected cell in words."""

import math

import numpy as np
import pytest
from rich.color import Color
from rich.style import Style
from rich.text import Text

from tuisim.app.sweep_map import ColorScale, MapAxis, MapLayout, carry_cursor, nice_range
from tuisim.app.widgets.cell_info import CellSummary, SeedRun, cell_text
from tuisim.app.widgets.heatmap import HeatmapRenderable, MapStyles, fit_map, gradient, value_text
from tuisim.app.widgets.sweep_curves import Series, build_sweep_plot
from tuisim.sweep import load_sweep

from .conftest import scenario_path
from .sweep_data import DEPTHS, SCALES, grid, partial_map
from .test_renderables import plain

VIRIDIS = [Color.parse(c) for c in ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")]


def styles(panels=2, rows=None):
    return MapStyles(gradient(VIRIDIS), Style(color="black"), Style(color="white"), Style(color="grey50"),
                     Style(color="cyan"), Style(color="red"), [Style(color="blue")] * panels, rows)


def draw(data, width, height, cursor=(0, 3, 2)):
    r = HeatmapRenderable(data, styles(data.layout.npanels), width, height, cursor)
    return plain(r, width), r


# ---------------------------------------------------------------- layout
def test_layout_puts_the_first_axis_across_the_second_down_and_variants_side_by_side():
    lay = MapLayout.of(grid())
    assert lay.x.title == "sigma_w^2" and lay.y.title == "depth" and lay.panels == ("tanh", "tanh + BN")
    assert (lay.nx, lay.ny, lay.npanels) == (8, 6, 2) and lay.panel_variant == (0, 1)
    a = np.arange(8 * 6 * 2).reshape(8, 6, 2)
    arranged = lay.arrange(a)
    for cell in np.ndindex(8, 6, 2):
        p, c, r = lay.where(cell)
        assert lay.cell(p, c, r) == cell and arranged[p, r, c] == a[cell]
    assert lay.describe((2, 3, 1)) == "sigma_w^2 = 1 · depth = 20 · tanh + BN"


def test_a_one_axis_sweep_has_its_variants_down_and_a_quick_grid_keeps_the_full_labels():
    plan = load_sweep(scenario_path("tiny_sweep"), quick=True)
    full = load_sweep(scenario_path("tiny_sweep")).grid
    lay = MapLayout.of(plan.grid, like=full)
    assert lay.x.title == "depth" and lay.y.title == "learning rate" and lay.npanels == 2
    one = load_sweep(scenario_path("tiny_sweep"), grid=["model.depth=3"])  # --grid replaces an axis
    assert MapLayout.of(one.grid).x.key == "model.depth"
    # the quick grid of a file whose quick axis gives no label: the full axis's label and ticks
    raw = load_sweep("sweep_tanh_phase", quick=True)
    lay = MapLayout.of(raw.grid, like=load_sweep("sweep_tanh_phase").grid)
    assert lay.x.title == "sigma_w^2" and lay.x.labels == ("0.5", "1.25", "4")


def test_the_cursor_keeps_its_point_between_the_full_and_the_quick_grid():
    full_grid = load_sweep(scenario_path("tiny_sweep")).grid
    full = MapLayout.of(full_grid)
    quick = MapLayout.of(load_sweep(scenario_path("tiny_sweep"), quick=True).grid, like=full_grid)
    # full: depth 4, lr 1e30, relu -> quick: the same point
    p, c, r = carry_cursor(full, quick, (1, 1, 2))
    assert quick.describe(quick.cell(p, c, r)) == "depth = 4 · learning rate = 1e+30 · relu"
    p, c, r = carry_cursor(full, quick, (0, 0, 1))  # lr 0.3 is not in the quick grid: the nearest, 0.01
    assert quick.describe(quick.cell(p, c, r)) == "depth = 2 · learning rate = 0.01 · tanh"


# ---------------------------------------------------------------- the colour scale
def test_accuracy_has_a_fixed_scale_from_chance_and_bright_is_good():
    s = ColorScale.for_measure("train_accuracy", np.array([0.7, 0.8]), chance=0.5)
    assert (s.lo, s.hi, s.fixed) == (0.5, 1.0, True)
    assert s.brightness(1.0) == 1.0 and s.brightness(0.5) == 0.0 and s.brightness(0.2) == 0.0
    assert s.brightness(math.nan) is None
    loss = ColorScale.for_measure("train_loss", np.array([0.03, 0.9, math.inf, math.nan]))
    assert loss.log and (loss.lo, loss.hi) == (0.01, 1.0) and not loss.fixed
    assert loss.brightness(0.01) == 1.0 and loss.brightness(math.inf) == 0.0  # low is good; diverged is worst
    assert nice_range(0.13, 0.87) == (0.0, 1.0)
    assert not ColorScale.for_measure("grad_norm_ratio", np.full(3, math.nan)).ready


def test_value_text():
    assert value_text(0.9876, True) == "0.99" and value_text(math.inf, False) == "inf"
    assert value_text(0.0012, False) == "1.2e-3" and value_text(123.4, False) == "123"
    assert value_text(1.5, False) == "1.5" and value_text(math.nan, True) == ""


# ---------------------------------------------------------------- the heatmap
def test_a_partial_grid_draws_values_pending_cells_and_marks():
    data = partial_map(variants=("tanh",))
    text, r = draw(data, 100, 24)
    lines = text.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 100 for line in lines)
    assert lines[0].startswith("depth ↓")
    rows = [line for line in lines if line.strip()[:2].strip() in {str(d) for d in DEPTHS}]
    assert [row.split()[0] for row in rows] == [str(d) for d in DEPTHS]
    assert "1.00" in rows[0]  # the critical column at depth 5
    assert "!" in rows[1].split()[1]  # both runs of (0.5, depth 10) failed: no value, a mark
    assert "0.89!" in rows[0]  # one of (0.75, 5) failed, the other gave a value
    assert "✗" in rows[-1]  # (4, depth 30) diverged
    ticks = next(line for line in lines if "1.25" in line and "0.75" in line)
    assert ticks.split() == [f"{s:g}" for s in SCALES]
    assert "sigma_w^2 →" in text and "0.5" in lines[-1] and "train accuracy, higher is better" in lines[-1]
    # the cursor: a frame around (1.25, depth 15)
    k = next(i for i, line in enumerate(lines) if line.lstrip().startswith("15"))
    frame = lines[k - 1] + lines[k] + lines[k + 1]
    assert ("┌" in frame and "┘" in frame) or ("[" in lines[k] and "]" in lines[k])


def test_pending_cells_are_dots_and_fill_in():
    empty = partial_map(variants=("tanh",), done=0)
    text, _ = draw(empty, 100, 24, cursor=None)
    assert text.count("·") >= 40 and "1.00" not in text
    some = partial_map(variants=("tanh",), done=10)
    text2, _ = draw(some, 100, 24, cursor=None)
    assert text2.count("·") < text.count("·") and "0.84" in text2 and "1.00" not in text2


def test_variants_side_by_side_when_they_fit_else_one_at_a_time():
    data = partial_map()
    wide, _ = draw(data, 160, 30)
    assert "tanh + BN" in wide.splitlines()[0] and "v: next" not in wide
    narrow, _ = draw(data, 76, 20)
    assert "tanh (1 of 2, v: next)" in narrow.splitlines()[0] and "tanh + BN" not in narrow
    second, _ = draw(data, 76, 20, cursor=(1, 0, 0))
    assert "tanh + BN (2 of 2, v: next)" in second.splitlines()[0]


def test_a_map_too_small_for_its_cells_shows_a_window_around_the_cursor():
    data = partial_map(variants=("tanh",))
    fit = fit_map(data, 14, 6, (0, 7, 5), vw=4)
    assert fit.cols.stop == 8 and len(fit.cols) < 8 and fit.rows.stop == 6 and len(fit.rows) < 6
    text, _ = draw(data, 14, 6, cursor=(0, 7, 5))
    assert "◂" in text and "▴" in text


def test_cells_are_coloured_from_the_palette_by_value():
    data = partial_map(variants=("tanh",), done=40)
    r = HeatmapRenderable(data, styles(1), 100, 24, None)
    palette = r.styles.palette
    best = r.cell_lines(0, 0, 3, 9, 1, False)[0]  # 1.00: the brightest colour
    worst = r.cell_lines(0, 5, 0, 9, 1, False)[0]  # 0.50, chance: the darkest
    assert best.style.bgcolor == palette[-1] and worst.style.bgcolor == palette[0]
    assert best.style.color == Color.parse("black") and worst.style.color == Color.parse("white")
    pending = r.cell_lines(0, 0, 7, 9, 1, False)[0]
    assert pending.style.bgcolor is None and pending.plain.strip() == "·"


# ---------------------------------------------------------------- curves and the cell's words
def test_curves_of_a_one_axis_sweep():
    lr = MapAxis("train.lr", "learning rate", ("0.01", "0.1", "1", "10"), (0.01, 0.1, 1.0, 10.0), True, True)
    series = [Series("plain", (0, 0, 255), np.array([0.6, 0.9, math.inf, math.inf]),
                     np.array([0.1, 0.01, np.nan, np.nan]), np.array([0, 0, 1, 2])),
              Series("BN", (255, 0, 0), np.array([0.55, 0.92, 0.8, 0.5]), np.full(4, np.nan), np.zeros(4))]
    text = plain(Text.from_ansi(build_sweep_plot(series, lr, 60, 12, False, cursor=1, fixed=(0.5, 1.0))), 60)
    assert "●" in text and "✗" in text
    ticks = text.splitlines()[-2].split()
    assert ticks == ["0.01", "0.1", "1", "10"]
    assert build_sweep_plot([Series("x", (1, 1, 1), np.full(4, np.nan), np.full(4, np.nan), np.zeros(4))], lr,
                            60, 12, False) == ""


def test_the_selected_cell_in_words():
    s = CellSummary("sigma_w^2 = 1 · depth = 20", "train_accuracy",
                    [SeedRun(0, "ok", 0.99), SeedRun(1, "ok", 0.5, diverged=True), SeedRun(2, "failed", error="boom")],
                    chosen=1, unit=True)
    st = {k: Style() for k in ("key", "muted", "error", "warning")}
    text = cell_text(s, st).plain
    assert "sigma_w^2 = 1 · depth = 20" in text and "0.745 ± 0.346  (2 of 3 seeds)" in text
    assert "0: 0.990 · 1: 0.500 ✗ diverged · 2: failed: boom" in text
    assert "enter: open seed 1's run" in text
    pending = cell_text(CellSummary("x", "train_loss", [SeedRun(5)]), st).plain
    assert "not run yet" in pending and "open its run" in pending


@pytest.mark.parametrize("width", [40, 80, 120])
def test_the_map_never_overflows(width):
    for done in (0, 50, 192):
        text, _ = draw(partial_map(done=done), width, 20)
        assert all(len(line) <= width for line in text.splitlines())
