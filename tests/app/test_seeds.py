"""A scenario at several seeds in the app: every seed trains (side by side on threads),
the controls act on all of them, the export has them all, the panels say so."""

import json
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tuisim.app.driver import TRAINING_NICE, Driver
from tuisim.app.factory import make_app
from tuisim.run.session import ScenarioRun
from tuisim.scenario import load_scenario

from .conftest import SCENARIOS, driver, paused_at, scenario_path, until
from .test_driver import wait

TINY = str(Path(__file__).parents[1] / "data" / "good_scenarios" / "tiny.toml")


def seeded(path=TINY, seeds=3, *more):
    return load_scenario(path, [f"seeds={seeds}", *more])


def app_for(tmp_path, scenario=None, **kw):
    kw.setdefault("pause_at", 10)
    return make_app(scenario or seeded(), seed=0, deterministic=True, export_dir=tmp_path, screenshots=tmp_path,
                    library=SCENARIOS, **kw)


def steps(d) -> list[int]:
    return [r.step for r in d.session.runs]


def test_the_driver_trains_every_seed_on_threads_exactly_as_one_by_one():
    d = Driver(seeded(), seed=0, pause_at=25, paused=True, threads=2)
    stop = threading.Event()
    t = threading.Thread(target=d.run, args=(lambda msg: None, stop), daemon=True)
    t.start()
    try:
        wait(lambda: d.phase == "running")  # the first step ran; paused
        session = d.session
        names, nices = set(), set()
        advance = type(session.runs[0]).advance

        def spy(run, n=1):  # which threads train, at which priority
            names.add(threading.current_thread().name)
            if sys.platform.startswith("linux"):
                nices.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return advance(run, n)

        for r in session.runs:
            r.advance = spy.__get__(r)
        d.paused = False
        d._wake.set()
        wait(lambda: d.paused and min(steps(d)) == 25)
        assert session.threads == 2 and len(session.runs) == 6 and steps(d) == [25] * 6
        assert names and all(n.startswith("tuisim-train") for n in names)  # the session's pool, side by side
        if sys.platform.startswith("linux"):  # below the interface's priority
            assert nices == {os.getpriority(os.PRIO_PROCESS, 0) + TRAINING_NICE} or min(nices) >= 19
        ref = ScenarioRun(seeded(), seed=0)
        ref.advance(25)
        for a, b in zip(session.runs, ref.runs):
            assert (a.label, a.seed) == (b.label, b.seed)
            assert np.array_equal(a.history.column("loss"), b.history.column("loss"))
        assert all(r.history.act_hist is not None and r.history.hist_step == 24 for r in session.runs)
    finally:
        stop.set()
        t.join(10)
    assert session._executor is None  # the pool is let go when the run ends


async def test_every_seed_advances_pauses_and_steps_together(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 10)
        d = driver(app)
        assert d.session.seeds == [0, 1, 2] and steps(d) == [10] * 6
        assert all(r.history.n == 10 for r in d.session.runs)
        await pilot.press("n")
        await until(pilot, lambda: steps(d) == [11] * 6, what="one step of every seed")
        await pilot.pause(0.2)
        assert steps(d) == [11] * 6 and d.paused
        await pilot.press("space")
        await until(pilot, lambda: min(steps(d)) > 15, what="training to resume")
        await pilot.press("space")
        await until(pilot, lambda: d.paused, what="the pause")
        await pilot.pause(0.2)
        now = steps(d)
        assert len(set(now)) == 1  # all seeds stop on the same step
        await pilot.pause(0.3)
        assert steps(d) == now
        status = str(app.screen.query_one("StatusBar").render())
        assert "3 seeds" in status and "diverged" not in status


async def test_restart_and_live_changes_reach_every_seed(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 10)
        old = driver(app)
        await pilot.press("right_square_bracket")
        runs = old.session.runs
        await until(pilot, lambda: all(r.opt.hparams["lr"] == pytest.approx(0.02) for r in runs), what="lr x2")
        await pilot.press("r")
        await until(pilot, lambda: driver(app) is not old and driver(app).session is not None
                    and driver(app).paused, what="the restart")
        assert steps(driver(app)) == [10] * 6 and old._cancel.is_set()
        assert all(r.history.n == 10 for r in driver(app).session.runs)


async def test_export_writes_every_seed_and_the_group_summaries(tmp_path):
    app = app_for(tmp_path, pause_at=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: driver(app) is not None and driver(app).phase == "finished", what="the end")
        await pilot.press("x")
        out = tmp_path / "tuisim-tiny-step40"
        await until(pilot, lambda: (out / "summary.json").exists(), what="the export")
        summary = json.loads((out / "summary.json").read_text())
        assert summary["seeds"] == [0, 1, 2] and summary["interrupted"] is False
        tanh = summary["variants"][0]
        assert tanh["variant"] == "tanh" and tanh["seeds"] == [0, 1, 2] and len(tanh["runs"]) == 3
        assert set(tanh["train_loss"]) == {"median", "min", "max"}
        assert [c["seeds"] for c in summary["checks"]] == [[0, 1, 2]] * 2
        assert all(len(c["per_seed"]) == 3 and c["rule"] == "median" for c in summary["checks"])
        rows = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
        assert len(rows) == 40 * 6 and {r["seed"] for r in rows} == {0, 1, 2}
        about = app.screen.query_one("#lesson") if app.screen.has_class("-large") else app.screen.query_one("#about")
        assert "the median of seeds 0-2" in about.markdown() and "(2 of 2 hold)" in about.markdown()


async def test_the_panels_say_they_show_the_median(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await paused_at(pilot, 10)
        screen = app.screen
        assert "median of 3 seeds" in screen.query_one("#loss").border_title
        assert "median of 3 seeds" in screen.query_one("#bars").border_title
        assert "median of 3 seeds" in screen.query_one("#heat").border_subtitle
        await pilot.press("2")
        await pilot.pause()
        assert "median of 3 seeds" in screen.query_one("#health").border_title
        await pilot.press("3")
        await pilot.pause(0.6)
        assert "median of 3 seeds" in screen.query_one("#hist").border_title


async def test_a_diverged_seed_is_counted_not_hidden(tmp_path):
    # N(0, 0.8) weights: seeds 0 and 1 diverge, seed 2 trains
    sc = seeded(scenario_path("tiny_explode"), 3, "model.init_std=0.8")
    app = app_for(tmp_path, sc, pause_at=None)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: driver(app) is not None and driver(app).phase == "finished", what="the end")
        app.screen.refresh_frame(force=True)
        await pilot.pause()
        runs = driver(app).session.by_label["N(0, 1)"].runs
        assert [r.status for r in runs] == ["diverged", "diverged", "done"]
        status = str(app.screen.query_one("StatusBar").render())
        assert "2 diverged" in status and "N(0, 1): done, 2 of 3 diverged" in status
        at = max(r.diverged_at for r in runs[:2])
        assert f"✗ diverged@{at} (2/3)" in app.screen.query_one("#bars").build().plain
        assert "✗2/3" in app.screen.query_one("#loss").build().renderables[0].plain
