"""The path screen: a [surface] scenario opens on a map of its surface, its paths drawn
as they train, with the run screen's controls."""

from __future__ import annotations

import numpy as np

from tuisim.app.factory import make_app
from tuisim.app.screens.paths import SPEED, PathScreen
from tuisim.app.widgets.path_map import PathView
from tuisim.app.widgets.loss_plot import LossPlot

from .conftest import SCENARIOS, driver, paused_at, until

SURFACE = """
title = "momentum in a ravine"
steps = 100
[surface]
name = "ravine"
condition = 50
start = [-8.0, 1.0]
[train]
lr = 0.035
[[variant]]
label = "SGD"
[[variant]]
label = "momentum"
train.optimizer = "momentum"
[[expect]]
variant = "momentum"
metric = "oscillation"
relative_to = "SGD"
below = 0.75
"""


def app_for(tmp_path, size_steps: int | None = 40, deterministic: bool = True):
    path = tmp_path / "ravine.toml"
    path.write_text(SURFACE)
    return make_app(str(path), seed=0, pause_at=size_steps, deterministic=deterministic, library=SCENARIOS)


async def test_a_surface_scenario_opens_the_path_screen_and_draws_every_path(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await paused_at(pilot, 40)
        screen = app.screen
        assert isinstance(screen, PathScreen)
        view = screen.query_one(PathView)
        assert view.border_title.startswith("Paths on ravine")
        paths = view.paths
        assert [p.label for p in paths] == ["SGD", "momentum"]
        run = driver(app).session.runs[1]
        assert np.array_equal(paths[1].position, run.history.column("position"))
        assert len(paths[1].position) == 40
        assert screen.query_one(LossPlot).region.width > 30
        await pilot.press("z")
        assert screen.zoomed
        await pilot.press("n")  # one more step: the map follows
        await until(pilot, lambda: len(view.paths[0].position) == 41, what="step 41 on the map")
        await pilot.press("space")
        await until(pilot, lambda: driver(app).session.finished, what="the end of the run")
        await until(pilot, lambda: driver(app).checks is not None, what="the checks")
        assert driver(app).checks[0][0]


async def test_the_path_screen_starts_slowed_down_to_be_watched(tmp_path):
    app = app_for(tmp_path, size_steps=None, deterministic=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: driver(app) is not None and driver(app).session is not None, what="the session")
        assert driver(app).speed == SPEED
        assert driver(app).histograms == 0


async def test_at_80x24_the_lesson_takes_the_loss_plots_place_on_a(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await paused_at(pilot, 40)
        screen = app.screen
        lesson, loss = screen.query_one("#lesson"), screen.query_one("#loss")
        assert not lesson.display and loss.display
        assert screen.query_one(PathView).region.width >= 40
        await pilot.press("a")
        await pilot.pause()
        assert lesson.display and not loss.display
        await pilot.press("a")
        await pilot.pause()
        assert not lesson.display and loss.display
