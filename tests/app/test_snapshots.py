"""Snapshots of the main screens at 80x24 and 160x50, on a fixed seed, paused at a fixed
step, in the deterministic mode (no steps/s, no elapsed time). Update them with
`pytest tests/app --snapshot-update` after checking the new pictures."""

import pytest

from tuisim.app.factory import make_app

from .conftest import SCENARIOS, driver, paused_at, scenario_path, until

SIZES = [(80, 24), (160, 50)]


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
