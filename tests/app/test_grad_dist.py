"""The heat strip's distributions mode: the renderable without an app, the key, snapshots."""

import numpy as np
import pytest
from rich.console import Console
from rich.style import Style

from tuisim.app.factory import make_app
from tuisim.app.widgets.grad_dist import DistColumn, DistRenderable, slice_grid
from tuisim.app.widgets.heat_strip import HeatStrip

from .conftest import SCENARIOS, paused_at, scenario_path
from .test_snapshots import paused, run_app

STYLES = {"outer": Style(color="blue"), "inner": Style(color="cyan"), "median": Style(color="yellow"),
          "floor": Style(color="grey30")}


def lines(r, width):
    console = Console(width=width, record=True, color_system="truecolor")
    return [("".join(s.text for s in line), line) for line in console.render_lines(r, pad=True)]


def grid(cols, layers, pct):
    g = np.empty((cols, layers, 5))
    g[:] = pct
    return g


def test_slice_grid_takes_the_latest_snapshot_by_each_slice_end():
    steps = np.array([0, 10, 55])
    pct = np.arange(3 * 2 * 5, dtype=float).reshape(3, 2, 5)
    g = slice_grid(steps, pct, total=100, bins=10, reached=60)
    assert np.array_equal(g[0], pct[0]) and np.array_equal(g[1], pct[1]) and np.array_equal(g[4], pct[1])
    assert np.array_equal(g[5], pct[2]) and np.array_equal(g[6], pct[2])
    assert np.isnan(g[7:]).all()  # the run has not been there


def test_bands_and_median_at_their_levels_and_zeros_in_the_floor():
    # axis -6..0 (whole decades around the data), 3 rows a layer: levels 0 (=0) and 1-5 up
    wide = [-5.5, -4.5, -3.0, -1.5, -0.5]  # spread over the axis
    dead = [-np.inf, -np.inf, -np.inf, -2.0, -1.0]  # over half exact zeros
    g = np.stack([grid(1, 1, wide)[0, 0], grid(1, 1, dead)[0, 0]])[None]  # (1 col, 2 layers, 5)
    g = np.repeat(g, 8, axis=0)
    r = DistRenderable([DistColumn("v", Style(), g)], STYLES, Style(), 100, 4 + 8, 2 + 6 + 1, 2)
    assert (r.lo, r.hi) == (-6.0, 0.0)
    c = r.classes(g[0], 6)
    assert c[0].tolist() == [-1, 1, 2, 3, 2, 1]  # floor, 5-95, 25-75, median, 25-75, 5-95
    assert c[1].tolist() == [3, 2, 2, 2, 2, 1]  # the median is =0, 25-75% up to 1e-2, 5-95% to 1e-1
    rows = lines(r, 12)
    text = [t for t, _ in rows]
    assert text[1].startswith("  0 ") and text[3].startswith(" =0 ") and text[4].startswith("out ")
    assert text[7].startswith("    0")  # the time axis
    # the median (level 3: the chart's middle row, top half) yellow over the 25-75% band's cyan
    seg = [s for s in rows[2][1] if s.text == "▀"][0]
    assert seg.style.color.name == "yellow" and seg.style.bgcolor.name == "cyan"


def test_collapsing_distribution_narrows_and_nothing_before_data():
    cols = 20
    g = np.full((cols, 1, 5), np.nan)
    g[5:12] = [-6, -4, -3, -2, 0]
    g[12:] = [-3.1, -3.05, -3.0, -2.95, -2.9]  # collapsed to a spike
    r = DistRenderable([DistColumn("v", Style(), g)], STYLES, Style(), 1000, 4 + cols, 2 + 6 + 1, 1)
    c = r.classes(g, 2 * 6)
    counts = (c[:, 0, 1:] > 0).sum(axis=1)
    assert (counts[:5] == 0).all()  # no data: the floor only
    assert (c[:5, 0, 0] == -1).all()
    assert counts[5] > 5 * counts[15]  # wide, then one level
    assert counts[15] == 1


def test_several_variants_side_by_side_fit_80_columns():
    g = grid(40, 10, [-9, -8, -7, -6, -5])
    cols = [DistColumn(f"variant {k} with a long name", Style(), g) for k in range(3)]
    r = DistRenderable(cols, STYLES, Style(), 500, 78, 12, 10)
    text = [t for t, _ in lines(r, 78)]
    assert all(len(t) <= 78 for t in text)
    assert "med" in text[-1] and "1e-9" in text[-1] and "25-75%" in text[-1] and "5-95%" in text[-1]
    assert sum(t.startswith(" =0") for t in text) >= 2  # several layers, sampled


async def test_d_toggles_the_heat_strip_and_opens_it():
    app = make_app(scenario_path("tiny_two"), seed=0, pause_at=40, deterministic=True, library=SCENARIOS)
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 40)
        heat = app.screen.query_one(HeatStrip)
        await pilot.press("3")
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.view == "heat" and heat.mode == "dist"
        assert "percentiles" in str(heat.border_title) and "0.4-decade bins" in str(heat.border_subtitle)
        series = app.screen.driver.session.runs[0].history.grad_pct
        assert series is not None and series.n >= 3  # one a slice of the run, more than the pause's
        await pilot.press("d")
        await pilot.pause()
        assert heat.mode == "norms" and "percentiles" not in str(heat.border_title)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_run_gradient_distributions(snap_compare, size):
    assert snap_compare(run_app("tiny_two", at=48), terminal_size=size, run_before=paused(48, "d"))
