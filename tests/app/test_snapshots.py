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


def test_run_relu_gradient_histograms(snap_compare):
    """dL/dz of a sigmoid and a ReLU net: the ReLU's exact zeros in the '=0' column, not at 1e-14."""
    assert snap_compare(run_app("tiny_two"), terminal_size=(160, 50), run_before=paused(30, "3", "h"))


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


# ---------------------------------------------------------------- 80x24: every screen and dialog
# A teacher's laptop split, an SSH session's default: every screen and dialog at 80x24, with
# q and ? in the footer, the lower panel's tabs named, dialogs' buttons on screen.
SMALL = (80, 24)
BAD = str(Path(__file__).parent / "bad" / "many_problems.toml")


def then(at, *keys, notify=None):
    """Paused at `at`, everything drawn, then `keys` pressed (a dialog may open)."""
    async def run_before(pilot):
        await paused_at(pilot, at)
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        if notify:
            pilot.app.notify(notify, title="Run finished")
        await pilot.pause(0.3)

    return run_before


@pytest.mark.parametrize("view", ["1", "2", "3", "4"], ids=["heat", "health", "hist", "about"])
def test_small_run_lower_panel(snap_compare, view):
    """Each view of the lower panel, its tab named; the health table's numbers whole."""
    assert snap_compare(run_app("tiny_two"), terminal_size=SMALL, run_before=paused(30, view))


def test_small_run_three_seeds_health(snap_compare):
    assert snap_compare(seeds_app(TINY), terminal_size=SMALL, run_before=paused(20, "2"))


def test_small_run_zoomed(snap_compare):
    assert snap_compare(run_app("tiny_two"), terminal_size=SMALL, run_before=paused(30, "z"))


def test_small_help(snap_compare):
    assert snap_compare(run_app("tiny_two"), terminal_size=SMALL, run_before=then(30, "question_mark"))


def test_small_settings(snap_compare):
    """The form in one-line inputs, Apply, Restart and Cancel on screen."""
    assert snap_compare(run_app("tiny_two"), terminal_size=SMALL, run_before=then(30, "e"))


async def settings_error(pilot):
    await then(30, "e")(pilot)
    pilot.app.screen.query_one("#override").focus()
    for key in "model.depth=x":
        await pilot.press(key)
    await pilot.press("enter")
    await pilot.pause(0.3)


def test_small_settings_error(snap_compare):
    """A bad KEY=VALUE: the form scrolls, its error and its buttons stay in view."""
    assert snap_compare(run_app("tiny_two"), terminal_size=SMALL, run_before=settings_error)


def test_small_command_palette(snap_compare):
    assert snap_compare(run_app("tiny_two"), terminal_size=SMALL, run_before=then(30, "ctrl+p"))


def test_small_toast_above_the_status_line(snap_compare):
    assert snap_compare(run_app("tiny_two"), terminal_size=SMALL,
                        run_before=then(30, notify="3 of 3 expectations hold (see About)"))


def test_small_browser_open_file(snap_compare):
    async def run_before(pilot):
        await pilot.press("o")
        await pilot.pause()

    assert snap_compare(make_app(None, library=SCENARIOS, deterministic=True), terminal_size=SMALL,
                        run_before=run_before)


def test_small_error_screen(snap_compare, monkeypatch):
    """Thirteen problems: the list scrolls, 'esc: close' stays in view."""
    async def run_before(pilot):
        await pilot.pause(0.3)

    monkeypatch.chdir(Path(BAD).parent)  # the messages name the file as given: the same on every machine
    assert snap_compare(make_app(Path(BAD).name, library=SCENARIOS, deterministic=True), terminal_size=SMALL,
                        run_before=run_before)


def test_small_sweep_about(snap_compare):
    async def run_before(pilot):
        await sweep_finished(pilot)
        await pilot.press("a")
        await pilot.pause(0.3)

    app = make_app(None, library=SCENARIOS, deterministic=True,
                   sweep=SweepSpec(scenario_path("tiny_sweep"), workers=0))
    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_small_sweep_help(snap_compare):
    async def run_before(pilot):
        await sweep_finished(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.3)

    app = make_app(None, library=SCENARIOS, deterministic=True,
                   sweep=SweepSpec(scenario_path("tiny_sweep"), workers=0))
    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)
