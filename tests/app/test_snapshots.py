"""Snapshots of the main screens at 80x24 and 160x50, on a fixed seed, paused at a fixed
step, in the deterministic mode (no steps/s, no elapsed time). Update them with
`pytest tests/app --snapshot-update` after checking the new pictures."""

from pathlib import Path

import pytest
from textual.app import App

import tuisim.app
from tuisim.app.factory import make_app
from tuisim.app.sweep_driver import SweepSpec
from tuisim.app.widgets.heatmap import Heatmap

from tuisim.scenario import load_scenario

from .conftest import SCENARIOS, driver, paused_at, scenario_path, until
from .sweep_data import partial_map

SIZES = [(80, 24), (160, 50)]
TINY = str(Path(__file__).parents[1] / "data" / "good_scenarios" / "tiny.toml")


def run_app(name, at=30):
    return make_app(scenario_path(name), seed=0, pause_at=at, deterministic=True, library=SCENARIOS)


def paused(at, *keys):
    async def run_before(pilot):
        await paused_at(pilot, at)
        if keys:
            await pilot.press(*keys)
            pilot.app.screen.refresh_frame(force=True)
            await pilot.pause()

    return run_before


async def finished(pilot):
    app = pilot.app
    await until(pilot, lambda: driver(app) is not None and driver(app).phase == "finished", what="the end")
    app.screen.refresh_frame(force=True)
    await pilot.pause()


# ---------------------------------------------------------------- the browser
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_browser(snap_compare, size):
    assert snap_compare(make_app(None, library=SCENARIOS, deterministic=True), terminal_size=size)


# ---------------------------------------------------------------- the run screen
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_run_sigmoid_vs_relu(snap_compare, size):
    assert snap_compare(run_app("tiny_two"), terminal_size=size, run_before=paused(30))


def test_run_back_propagated_signal_small(snap_compare):
    assert snap_compare(run_app("tiny_two"), terminal_size=(80, 24), run_before=paused(30, "g"))


def test_run_health_table(snap_compare):
    assert snap_compare(run_app("tiny_two"), terminal_size=(160, 50), run_before=paused(30, "2"))


def test_run_batch_norm_histograms(snap_compare):
    assert snap_compare(run_app("tiny_bn"), terminal_size=(160, 50), run_before=paused(30, "3"))


def test_run_diverged(snap_compare):
    assert snap_compare(run_app("tiny_explode", at=None), terminal_size=(160, 50), run_before=finished)


# ---------------------------------------------------------------- several seeds
def seeds_app(path, *overrides, at=20):
    scenario = load_scenario(path, ["seeds=3", *overrides])
    return make_app(scenario, seed=0, pause_at=at, deterministic=True, library=SCENARIOS)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_run_three_seeds(snap_compare, size):
    """Each variant's median loss over its seeds' faint lines; bars at the median with
    min..max whiskers; "3 seeds" in the status line."""
    assert snap_compare(seeds_app(TINY), terminal_size=size, run_before=paused(20))


def test_run_three_seeds_health_ranges(snap_compare):
    assert snap_compare(seeds_app(TINY), terminal_size=(160, 50), run_before=paused(20, "2"))


def test_run_three_seeds_two_diverged(snap_compare):
    """Two seeds of three diverge: the median diverges with them, the survivor stays faint."""
    app = seeds_app(scenario_path("tiny_explode"), "model.init_std=0.8", at=None)
    assert snap_compare(app, terminal_size=(160, 50), run_before=finished)


# ---------------------------------------------------------------- the sweep's map
class MapApp(App):
    """The heatmap widget alone, fed a fixed partial grid (tests/app/sweep_data.py)."""

    CSS_PATH = str(Path(tuisim.app.__file__).parent / "app.tcss")
    CSS = "Heatmap { height: 1fr; }"

    def compose(self):
        yield Heatmap(id="map")

    def on_mount(self) -> None:
        heat = self.query_one(Heatmap)
        heat.border_title = "train accuracy · mean of 2 seeds"
        heat.show_map(partial_map(), (0, 3, 2))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_heatmap_partial_grid(snap_compare, size):
    """Half of the runs done: values, pending dots, a failed cell (!), a diverged one (✗), the
    cursor, the colour bar; side by side at 160 columns, one variant at a time at 80."""
    assert snap_compare(MapApp(), terminal_size=size)


async def sweep_finished(pilot):
    app = pilot.app
    await until(pilot, lambda: getattr(getattr(app.screen, "driver", None), "state", None) == "finished",
                what="the sweep's end")
    await pilot.press("right", "down", "down")
    app.screen.refresh_frame(force=True)
    await pilot.pause()


def test_sweep_screen_finished(snap_compare):
    app = make_app(None, library=SCENARIOS, deterministic=True,
                   sweep=SweepSpec(scenario_path("tiny_sweep"), workers=0))
    assert snap_compare(app, terminal_size=(80, 24), run_before=sweep_finished)
