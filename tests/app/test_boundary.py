"""The decision boundary view: the picture agrees with the network, the copy of the
weights is a copy, the view opens for 2-D classification data only."""

from __future__ import annotations

import numpy as np
import pytest
from rich.color import Color
from rich.console import Console

from tuisim.app.boundary import Map, ShadowNet, applies, boundary_map, cell_centres, plane, predict
from tuisim.app.driver import WeightsCopy
from tuisim.app.factory import make_app
from tuisim.app.widgets.boundary import GLYPHS, Boundary, BoundaryPicture
from tuisim.run.variant_run import VariantRun
from tuisim.scenario import parse_scenario

from .conftest import SCENARIOS, driver, paused_at, scenario_path, until
from .test_snapshots import SIZES, paused

MOONS = """
title = "moons"
seed = 0
steps = 400
[data]
name = "moons"
samples = 200
[model]
depth = 2
width = 16
activation = "relu"
init = "he_normal"
[train]
optimizer = "adam"
lr = 0.02
batch_size = "full"
loss = "{loss}"
"""
COLORS = [Color.parse(c) for c in ("#ff0000", "#0000ff", "#00ff00")]
BG = Color.parse("#000000")


def trained(loss="cross_entropy", steps=400) -> VariantRun:
    sc = parse_scenario(MOONS.format(loss=loss), None)
    run = VariantRun(sc, sc.variants[0])
    run.advance(steps)
    return run


def painted(pic: BoundaryPicture, width: int):
    """Each text cell's (character, style) of a rendered picture, line by line."""
    console = Console(width=width, color_system="truecolor", force_terminal=True)
    lines = console.render_lines(pic, console.options.update(width=width), pad=False)
    return [[(seg.text, seg.style) for seg in line if seg.text] for line in lines]


@pytest.mark.parametrize("loss", ["cross_entropy", "bce"])
def test_painted_classes_are_the_networks_predictions_at_the_cell_centres(loss):
    run = trained(loss)
    cols, rows = 30, 16
    extent = plane(run.X_train)
    m = boundary_map(ShadowNet(run.net), WeightsCopy(run.step, run.net.P.copy(), run.net.R.copy()), extent, cols, rows,
                     run.X_train, run.data.y_train, run.loss_name, 2)
    assert m.accuracy > 0.9  # moons is learnt: the map is not trivially one class
    pic = BoundaryPicture(m, extent, COLORS, BG)
    cells = painted(pic, cols)
    assert len(cells) == rows // 2 and all(len(line) == cols for line in cells)
    # the class each colour means, from the picture's own palette (any confidence level)
    meaning = {pic.region_color(k, c): k for k in (0, 1) for c in np.linspace(0, 1, 30)}
    assert len(set(meaning.values())) == 2
    # the training network itself, at the centres computed here, not by the module
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    ys = y1 - (np.arange(rows) + 0.5) * (y1 - y0) / rows
    out = run.net.forward(np.array([[x, y] for y in ys for x in xs]))
    want = (out[:, 0] > 0).astype(int) if loss == "bce" else out.argmax(axis=1)
    want = want.reshape(rows, cols)
    assert 0 < want.mean() < 1  # both classes appear on the plane
    for line, row in enumerate(cells):
        for col, (ch, style) in enumerate(row):
            assert ch == "▀"
            assert meaning[style.color] == want[2 * line, col], (line, col)
            assert meaning[style.bgcolor] == want[2 * line + 1, col], (line, col)


def test_points_are_drawn_in_their_cell_with_their_class_glyph_and_colour():
    rows, cols = 4, 4
    m = Map(0, np.zeros((rows, cols), dtype=np.int64), np.ones((rows, cols)), 1.0)
    extent = (0.0, 4.0, 0.0, 4.0)  # a cell is 1 x 1, a grid row 1 high: line 0 holds y in (2, 4]
    pts = np.array([[0.5, 3.5], [2.5, 0.5], [2.6, 0.6], [2.7, 0.4]])
    pic = BoundaryPicture(m, extent, COLORS, BG, points=pts, labels=np.array([1, 2, 2, 0]))
    cells = painted(pic, cols)
    assert cells[0][0][0] == GLYPHS[1] and cells[0][0][1].color == COLORS[1]
    assert cells[1][2][0] == GLYPHS[2] and cells[1][2][1].color == COLORS[2]  # two 2s outvote one 0
    blank = [(y, x) for y in range(2) for x in range(4) if cells[y][x][0] == "▀"]
    assert len(blank) == 6


def test_predict_confidence_and_a_diverged_net():
    cls, conf = predict(np.array([[0.0, 0.0], [10.0, -10.0], [np.nan, 1.0]]), "cross_entropy", 2)
    assert list(cls) == [0, 0, -1]
    assert conf[0] == pytest.approx(0.0) and conf[1] == pytest.approx(1.0) and conf[2] == 0.0
    cls, conf = predict(np.array([[-20.0], [0.0], [20.0]]), "bce", 2)
    assert list(cls) == [0, 0, 1] and conf[0] == pytest.approx(1.0) and conf[1] == pytest.approx(0.0)
    pic = BoundaryPicture(Map(0, np.array([[-1], [-1]]), np.zeros((2, 1)), 0.0), (0, 1, 0, 1), COLORS, BG)
    assert painted(pic, 1)[0][0][1].color == BG  # no class: the background


def test_cell_centres_run_from_the_top_left():
    c = cell_centres((0.0, 2.0, 0.0, 4.0), 2, 4)
    assert c[0].tolist() == [0.5, 3.5] and c[1].tolist() == [1.5, 3.5] and c[-1].tolist() == [1.5, 0.5]


def test_the_shadow_net_reads_a_copy_not_the_training_weights():
    run = trained(steps=50)
    copy = WeightsCopy(run.step, run.net.P.copy(), run.net.R.copy())
    X = cell_centres(plane(run.X_train), 5, 5)
    before = run.net.forward(X)
    run.advance(50)
    shadow = ShadowNet(run.net)
    assert np.array_equal(shadow.forward(copy.P, copy.R, X), before)
    assert not np.array_equal(run.net.forward(X), before)


def test_applies_to_2d_classification_only():
    run = trained(steps=1)
    assert applies(run.data)
    sc = parse_scenario(MOONS.format(loss="mse").replace('"moons"', '"linear"'), None)
    assert not applies(VariantRun(sc, sc.variants[0]).data)


# ---------------------------------------------------------------- in the app
def run_app(name="tiny_two", at=30, **kw):
    return make_app(scenario_path(name), seed=0, pause_at=at, deterministic=True, library=SCENARIOS, **kw)


async def drawn(pilot, n: int) -> Boundary:
    app = pilot.app
    b = app.screen.query_one(Boundary)
    await until(pilot, lambda: len(b.maps) >= n and not b._busy, what="the decision boundary")
    app.screen.refresh_frame(force=True)
    await pilot.pause()
    return b


async def test_the_view_opens_and_paints_every_variant_from_a_copy_of_the_weights():
    app = run_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await paused_at(pilot, 30)
        screen = app.screen
        assert "boundary" in str(screen.query_one("#tabs").render()).lower()
        assert not driver(app).want_weights and not driver(app).weights  # no copies while not shown
        await pilot.press("5")
        assert screen.query_one("#lower").current == "boundary"
        b = await drawn(pilot, 2)
        assert driver(app).want_weights
        assert {i: m.step for i, (m, _) in b.maps.items()} == {0: 30, 1: 30}
        assert b.border_title.startswith("Decision boundary")
        await pilot.press("n")  # one more step: the picture follows
        await until(pilot, lambda: all(m.step == 31 for m, _ in b.maps.values()), what="step 31's picture")
        await pilot.press("1")
        assert not driver(app).want_weights


async def test_narrow_panel_shows_the_focused_variant_and_v_moves_on():
    app = run_app()
    async with app.run_test(size=(90, 50)) as pilot:  # a tall, narrow lower panel: one picture

        await paused_at(pilot, 30)
        await pilot.press("5")
        b = await drawn(pilot, 1)
        runs, cols, rows = b.shown()
        assert [i for i, _ in runs] == [0] and cols >= 14
        await pilot.press("v")
        assert app.screen.view == "boundary"  # v keeps the view
        await until(pilot, lambda: 1 in b.maps, what="the second variant's picture")
        assert [i for i, _ in b.shown()[0]] == [1]


async def test_no_tab_for_data_without_a_plane(tmp_path):
    path = tmp_path / "linear.toml"
    path.write_text(MOONS.format(loss="mse").replace('"moons"', '"linear"').replace("steps = 400", "steps = 20"))
    app = make_app(str(path), seed=0, pause_at=5, deterministic=True, library=SCENARIOS)
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 5)
        assert "boundary" not in str(app.screen.query_one("#tabs").render()).lower()
        await pilot.press("5")
        assert app.screen.view != "boundary"
        await pilot.pause()
        assert any("2-D classification" in str(n.message) for n in app._notifications)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_boundary(snap_compare, size):
    async def run_before(pilot):
        await paused(30, "5")(pilot)
        await drawn(pilot, 1)
        await pilot.pause()

    assert snap_compare(run_app(), terminal_size=size, run_before=run_before)
