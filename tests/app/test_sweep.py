"""The sweep screen, driven with Pilot: a tiny sweep fills its map, the selection moves,
enter opens a cell's run and esc comes back to the map; pause and resume; the quick grid;
the browser's sweeps; leaving stops the worker processes; the CLI opens the app."""

import multiprocessing

import numpy as np
import pytest

from tuisim.app.factory import make_app
from tuisim.app.screens.browser import BrowserScreen
from tuisim.app.screens.run import RunScreen
from tuisim.app.screens.sweep import SweepScreen
from tuisim.app.sweep_driver import SweepSpec
from tuisim.app.widgets.heatmap import Heatmap

from .conftest import SCENARIOS, driver, paused_at, scenario_path, until

TINY = scenario_path("tiny_sweep")


def sweep_app(workers=0, quick=False, overrides=(), **kw):
    return make_app(None, library=SCENARIOS, deterministic=True,
                    sweep=SweepSpec(TINY, overrides, workers=workers, quick=quick), **kw)


def state(app):
    d = getattr(app.screen, "driver", None)
    return getattr(d, "state", None)


def status(app) -> str:
    return str(app.screen.query_one("#status").render())


async def test_the_map_fills_in_then_a_cell_opens_in_the_run_screen_and_esc_returns():
    app = sweep_app(pause_at=5)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, SweepScreen)
        heat = screen.query_one(Heatmap)
        await until(pilot, lambda: state(app) == "finished", what="the sweep's end")
        screen.refresh_frame(force=True)
        await pilot.pause()
        assert (heat.data.counts == 2).all() and "24/24 runs" in status(app)
        assert np.isfinite(heat.data.means).all()
        assert heat.data.diverged[1, 2].sum() > 0  # relu at lr 1e30: marked
        sweep = screen.driver
        # select depth 4, lr 0.3, relu: right, down, then the next variant
        await pilot.press("right", "down", "v")
        assert screen.cursor == (1, 1, 1)
        info = str(screen.query_one("#cell").render())
        assert "depth = 4 · learning rate = 0.3 · relu" in info and "seeds 3:" in info
        await pilot.press("n")  # the second seed
        await pilot.press("enter")
        assert isinstance(app.screen, RunScreen)
        run = app.screen
        assert run.seed == 4 and run.focus_index == 1
        assert "depth = 4 · learning rate = 0.3 · relu · seed 4" in run.scenario.title
        assert run.scenario.expects == [] and "One cell of the map" in run.scenario.description
        await paused_at(pilot, 5)
        runs = driver(app).session.runs
        assert [r.label for r in runs] == ["tanh", "relu"] and runs[1].net.depth == 4
        assert runs[1].opt.hparams["lr"] == pytest.approx(0.3)
        await pilot.press("escape")
        assert app.screen is screen and screen.driver is sweep
        await pilot.pause()
        assert (heat.data.counts == 2).all() and screen.cursor == (1, 1, 1)
        await pilot.press("left", "left")  # from the first column of relu's map into tanh's last
        assert screen.cursor == (0, 1, 1)
        await pilot.press("left", "left", "up", "up", "up")  # the edges hold
        assert screen.cursor == (0, 0, 0)


async def test_a_partial_map_pause_resume_and_the_quick_grid():
    app = sweep_app(overrides=("steps=1000",))  # runs long enough (about 30 ms each) to pause halfway, under load too
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.driver.results.done >= 2, what="a few results")
        await pilot.press("space")
        await until(pilot, lambda: state(app) in ("paused", "finished"), what="the pause")
        d = screen.driver
        done = d.results.done
        assert state(app) == "paused" and 0 < done < 24
        assert "paused" in status(app) and f"{done}/24 runs" in status(app)
        screen.refresh_frame(force=True)
        heat = screen.query_one(Heatmap)
        assert heat.data.counts.sum() == done  # the map shows every result so far, and only those
        assert (heat.data.counts < 2).any()
        await pilot.pause(0.3)
        assert d.results.done == done
        await pilot.press("space")
        await until(pilot, lambda: state(app) == "finished", what="the end after resuming")
        assert d.sweep.resumed == done and d.results.done == 24  # what was done is read back, not run again
        # the quick grid, and back: the full grid's map is kept
        await pilot.press("k")
        assert screen.quick and screen.driver is not d and "quick grid" in status(app)
        await until(pilot, lambda: state(app) == "finished", what="the quick grid")
        assert screen.driver.results.total == 8
        await pilot.press("k")
        assert not screen.quick and screen.driver is d and d.state == "finished"
        folders = [x.out_dir for x in screen.drivers.values()]
        await pilot.press("escape")
        assert isinstance(app.screen, BrowserScreen)
        await pilot.pause()
        assert not any(f.exists() for f in folders)  # the temporary sweep.csv folders are gone


async def test_leaving_the_sweep_stops_its_worker_processes():
    app = sweep_app(workers=1, quick=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.driver.sweep.executor is not None, what="the worker to start")
        assert multiprocessing.active_children()
        await pilot.press("escape")
        assert isinstance(app.screen, BrowserScreen)
        await until(pilot, lambda: screen.drivers[True].state == "closed", timeout=20, what="the sweep to stop")
        await until(pilot, lambda: not [p for p in multiprocessing.active_children() if "sweep" in p.name],
                    timeout=10, what="the worker processes to end")


async def test_the_browser_lists_the_sweeps_and_opens_one():
    app = make_app(None, library=SCENARIOS, deterministic=True, workers=0)
    async with app.run_test(size=(100, 30)) as pilot:
        ol = app.screen.query_one("#lessons")
        ids = [ol.get_option_at_index(i).id for i in range(ol.option_count)]
        assert "sweep:tiny_sweep" in ids and "tiny_sweep" in ids  # a sweep, and its one run as a lesson
        prompts = [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]
        assert any("Sweeps" in p for p in prompts) and any("24 runs" in p for p in prompts)
        ol.highlighted = ids.index("sweep:tiny_sweep")
        await pilot.pause()
        assert "24 runs" in app.screen.query_one("#preview-md").source
        await pilot.press("k")  # the quick grid
        assert isinstance(app.screen, SweepScreen) and app.screen.quick
        assert app.screen.driver.results.total == 8
        await until(pilot, lambda: state(app) == "finished", what="the quick grid")
        await pilot.press("escape")
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("enter")  # the full grid
        assert isinstance(app.screen, SweepScreen) and not app.screen.quick
        assert app.screen.driver.results.total == 24
        await pilot.press("question_mark")
        keys = app.screen.query_one("KeyList")
        with app.console.capture() as shown:
            app.console.print(keys.render())
        assert "Open the selected cell's run" in shown.get() and "Quit tuisim" in shown.get()
        await pilot.press("escape", "q")
        await pilot.pause()
    assert not app.is_running


async def test_a_sweep_that_does_not_load_shows_its_problems(tmp_path):
    from tuisim.app.screens.dialogs import ErrorScreen

    app = make_app(None, library=SCENARIOS, sweep=SweepSpec(scenario_path("tiny_two")))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen) and "[sweep]" in app.screen.text


def test_the_cli_opens_the_app_on_a_terminal_and_stays_headless_otherwise(monkeypatch, capsys):
    from tuisim import cli
    from tuisim.app.app import TuisimApp

    opened = []
    monkeypatch.setattr(TuisimApp, "run", lambda self: opened.append(self.sweep))
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    assert cli.main(["sweep", TINY, "--workers", "0", "--quick", "--set", "steps=10"]) == 0
    (spec,) = opened
    assert spec.quick and spec.workers == 0 and spec.overrides == ("steps=10",)
    capsys.readouterr()
    assert cli.main(["sweep", TINY, "--headless", "--quick", "--workers", "0"]) == 0  # --headless: no app
    cap = capsys.readouterr()
    assert "8/8 runs" in cap.err and "Tiny sweep" in cap.out and len(opened) == 1
    assert cli.main(["sweep", scenario_path("tiny_two")]) == 2  # no [sweep]: exit 2 before the app starts
    assert "[sweep]" in capsys.readouterr().err and len(opened) == 1


async def test_a_lone_variant_opened_from_the_map_is_named_by_its_cell(tmp_path):
    """Without [[variant]] tables the one variant is named after the scenario's title; the
    run opened from a cell names it by the cell's parameters instead (legend, bars)."""
    from pathlib import Path

    text = Path(TINY).read_text()
    text = text[:text.index("[[variant]]")] + text[text.index("[sweep]"):text.index("[sweep.quick]")]
    path = tmp_path / "lone.toml"
    path.write_text(text)
    app = make_app(None, library=SCENARIOS, deterministic=True, pause_at=3,
                   sweep=SweepSpec(str(path), (), workers=0, quick=False))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        await until(pilot, lambda: state(app) == "finished", what="the sweep's end")
        await pilot.press("right", "down", "enter")
        assert isinstance(app.screen, RunScreen)
        await paused_at(pilot, 3)
        runs = driver(app).session.runs
        assert [r.label for r in runs] == ["depth = 4 · learning rate = 0.3"]
        assert app.screen.scenario.title.startswith("depth = 4 · learning rate = 0.3 · seed 3 · Tiny sweep")
        assert screen is not app.screen


async def test_a_switch_of_language_relabels_the_map():
    from tuisim import i18n

    app = sweep_app()
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            heat = app.screen.query_one(Heatmap)
            await until(pilot, lambda: state(app) == "finished", what="the sweep's end")
            english = (heat.border_title, heat.border_subtitle)
            assert "full grid" in english[1]
            app.switch_language("zh")
            await pilot.pause()
            assert "完整网格" in heat.border_subtitle
            assert not any("full grid" in t for t in (heat.border_title, heat.border_subtitle))
            app.switch_language("en")
            await pilot.pause()
            assert (heat.border_title, heat.border_subtitle) == english
    finally:
        i18n.set_language("en")
