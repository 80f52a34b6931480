"""Every binding of the app, driven with Pilot, checked by its effect."""

from pathlib import Path

import pytest

from tuisim.app.factory import make_app
from tuisim.app.screens.browser import BrowserScreen
from tuisim.app.screens.dialogs import ErrorScreen, HelpScreen
from tuisim.app.screens.run import RunScreen
from tuisim.app.screens.settings import SettingsScreen

from .conftest import SCENARIOS, driver, paused_at, scenario_path, until


def app_for(name="tiny_two", tmp_path=None, **kw):
    kw.setdefault("pause_at", 10)
    return make_app(scenario_path(name), seed=0, deterministic=True, screenshots=tmp_path, export_dir=tmp_path,
                    library=SCENARIOS, **kw)


async def test_pause_resume_and_single_step(tmp_path):
    app = app_for(tmp_path=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await paused_at(pilot, 10)
        d = driver(app)
        await pilot.pause(0.3)
        assert d.step == 10  # paused: the step counter stands still
        await pilot.press("n")
        await until(pilot, lambda: d.step == 11, what="one step")
        await pilot.pause(0.2)
        assert d.step == 11 and d.paused
        await pilot.press("space")
        await until(pilot, lambda: d.step > 15, what="training to resume")
        await pilot.press("space")
        await until(pilot, lambda: d.paused, what="pause")
        await pilot.pause(0.2)
        s = d.step
        await pilot.pause(0.3)
        assert d.step == s


async def test_restart_resets_the_run(tmp_path):
    app = app_for(tmp_path=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await paused_at(pilot, 10)
        old = driver(app)
        await pilot.press("r")
        await until(pilot, lambda: driver(app) is not old and driver(app).paused, what="the restart")
        assert driver(app).step == 10 and old._cancel.is_set()
        assert driver(app).session.runs[0].history.n == 10


async def test_speed_keys(tmp_path):
    app = app_for(tmp_path=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await paused_at(pilot, 10)
        d = driver(app)
        await pilot.press("minus", "minus")
        assert d.speed == 500
        await pilot.press("plus")
        assert d.speed == 1000


async def test_view_keys(tmp_path):
    app = app_for(tmp_path=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 10)
        screen = app.screen
        lower = screen.query_one("#lower")
        assert screen.view == "heat" and lower.current == "heat"
        await pilot.press("p")
        assert lower.current == "health"
        await pilot.press("3")
        assert lower.current == "hist"
        await pilot.press("h")
        assert "gradients" in screen.query_one("#hist").border_title
        await pilot.press("4")
        assert lower.current == "about"
        await pilot.press("0")
        assert screen.has_class("-no-lower")
        await pilot.press("1")
        assert not screen.has_class("-no-lower") and lower.current == "heat"
        await pilot.press("g")
        assert "dL/dz" in screen.query_one("#bars").border_title
        assert "dL/dz" in screen.query_one("#heat").border_title
        await pilot.press("g")
        assert "dL/dW" in screen.query_one("#bars").border_title
        await pilot.press("v")
        assert screen.focus_index == 1 and lower.current == "health"
        await pilot.pause()
        assert "relu" in screen.query_one("#health").border_title
        await pilot.press("z")
        assert screen.maximized is not None
        await pilot.press("z")
        assert screen.maximized is None


async def test_histograms_are_there_when_the_view_opens_on_a_paused_run(tmp_path):
    app = app_for(tmp_path=tmp_path, pause_at=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: driver(app) is not None and driver(app).step > 5, what="training")
        await pilot.press("space")
        await until(pilot, lambda: driver(app).paused, what="the pause")
        await pilot.press("3")
        await pilot.pause(0.6)
        runs = driver(app).session.runs
        assert all(r.history.act_hist is not None and 0 <= r.history.hist_step < r.step for r in runs)
        panel = app.screen.query_one("#hist")
        assert "at step" in panel.border_title
        assert "no histograms yet" not in "".join(s.text for s in (panel.render_line(y) for y in range(8)))


async def test_live_learning_rate_keys_reach_the_engine(tmp_path):
    app = app_for(tmp_path=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await paused_at(pilot, 10)
        runs = driver(app).session.runs
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: runs[0].opt.hparams["lr"] == pytest.approx(0.2), what="lr x2")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await until(pilot, lambda: runs[1].opt.hparams["lr"] == pytest.approx(0.05), what="lr / 4")


async def test_settings_form_live_change_and_restart(tmp_path):
    app = app_for(tmp_path=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 10)
        await pilot.press("e")
        assert isinstance(app.screen, SettingsScreen)
        form = app.screen
        form.query_one("#f-lr").value = "0.03"
        form.query_one("#f-clip_norm").value = "1"
        await pilot.click("#apply")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        runs = driver(app).session.runs
        await until(pilot, lambda: runs[0].opt.hparams["lr"] == 0.03, what="the live change")
        assert all(r.opt.hparams["clip_norm"] == 1.0 for r in runs)
        # a bad override is shown in the form, a good one restarts the run with it
        await pilot.press("e")
        form = app.screen
        form.query_one("#override").value = "model.depth=abc"
        form.query_one("#override").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen) and "depth" in str(form.query_one("#error").render())
        form.query_one("#override").value = "model.depth=3"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and driver(app).session is not None
                    and driver(app).paused, what="the restart")
        assert driver(app).session.runs[0].net.depth == 3
        assert app.screen.overrides == ["model.depth=3"]


async def test_screenshot_and_export_write_files(tmp_path):
    app = app_for(tmp_path=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await paused_at(pilot, 10)
        await pilot.press("s")
        shots = list(tmp_path.glob("*.svg"))
        assert [p.name for p in shots] == ["tuisim-tiny_two-step10.svg"]
        assert "<svg" in shots[0].read_text()
        await pilot.press("x")
        out = tmp_path / "tuisim-tiny_two-step10"
        await until(pilot, lambda: (out / "summary.json").exists(), what="the export")
        lines = (out / "steps.jsonl").read_text().splitlines()
        assert len(lines) == 20  # 10 records of each variant
        assert (out / "steps.csv").read_text().startswith("variant,seed,step")


async def test_help_palette_commands_and_quit(tmp_path):
    app = app_for(tmp_path=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await paused_at(pilot, 10)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, RunScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for t in ("Pause", "Step", "Restart", "Settings", "Screenshot", "Export", "Help"):
            assert t in titles
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running


async def test_escape_goes_back_to_the_browser_and_enter_opens(tmp_path):
    app = app_for(tmp_path=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await paused_at(pilot, 10)
        # opened on a scenario, the app builds no browser until it is asked for
        assert not any(isinstance(s, BrowserScreen) for s in app.screen_stack)
        old = driver(app)
        await pilot.press("escape")
        assert isinstance(app.screen, BrowserScreen)
        await until(pilot, lambda: old._cancel.is_set(), what="the run to stop")
        await pilot.press("enter")
        assert isinstance(app.screen, RunScreen)
        await paused_at(pilot, 10)


async def test_browser_lists_lessons_and_opens_a_file(tmp_path):
    app = make_app(None, library=SCENARIOS, deterministic=True, pause_at=5)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, BrowserScreen)
        prompts = [str(app.screen.query_one("#lessons").get_option_at_index(i).prompt)
                   for i in range(app.screen.query_one("#lessons").option_count)]
        assert any("Vanishing and exploding" in p for p in prompts)
        assert any("Tiny: sigmoid against relu" in p for p in prompts)
        assert any("does not load" in p for p in prompts)
        await pilot.press("o")
        assert app.screen.query_one("#path").has_focus
        await pilot.press("t", "i")
        app.screen.query_one("#path").value = scenario_path("tiny_explode")
        await pilot.press("enter")
        assert isinstance(app.screen, RunScreen) and app.screen.scenario.name == "tiny_explode"


async def test_a_scenario_that_does_not_load_shows_its_problems(tmp_path):
    app = make_app(scenario_path("broken"), library=SCENARIOS)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen)
        assert "did you mean 'sigmoid'" in app.screen.text
        await pilot.press("escape")
        assert isinstance(app.screen, BrowserScreen)
    app = make_app("no_such_lesson_xyz", library=SCENARIOS)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen) and "no such scenario" in app.screen.text


async def test_a_diverging_variant_keeps_the_app_alive_and_marked(tmp_path):
    app = app_for("tiny_explode", tmp_path=tmp_path, pause_at=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: driver(app) is not None and driver(app).phase == "finished", what="the end")
        app.screen.refresh_frame(force=True)
        await pilot.pause()
        screen = app.screen
        runs = driver(app).session.runs
        assert runs[0].status == "diverged" and runs[1].status == "done"
        at = runs[0].diverged_at
        assert f"diverged at step {at}" in str(screen.query_one("StatusBar").render())
        bars = screen.query_one("#bars")
        assert f"✗ diverged@{at}" in bars.build().plain
        loss = screen.query_one("#loss")
        legend = loss.build().renderables[0].plain
        assert f"✗@{at}" in legend
        await pilot.press("n", "space", "r")  # keys still answer after the divergence
        await until(pilot, lambda: driver(app).phase in ("running", "finished"), what="the restart")
        assert app.is_running
