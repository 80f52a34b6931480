"""The training loop of the app, without the app: chunks, pause, single steps, requests."""

import threading
import time

import numpy as np
import pytest

from tuisim.app import messages as m
from tuisim.app.driver import SPEEDS, Driver
from tuisim.run.session import ScenarioRun
from tuisim.scenario import load_scenario

from .conftest import scenario_path


def wait(cond, timeout=60):
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.01)


@pytest.fixture
def running():
    drivers = []

    def start(name="tiny_two", **kw):
        d = Driver(load_scenario(scenario_path(name)), **kw)
        got = []
        stop = threading.Event()
        t = threading.Thread(target=d.run, args=(got.append, stop), daemon=True)
        t.start()
        drivers.append((d, stop, t))
        return d, got

    yield start
    for d, stop, t in drivers:
        stop.set()
        t.join(10)


def test_pause_at_then_single_steps(running):
    d, got = running(pause_at=20)
    wait(lambda: d.paused)
    assert d.step == 20
    time.sleep(0.2)
    assert d.step == 20  # paused means no steps
    d.step_once()
    wait(lambda: d.step == 21)
    kinds = [type(x) for x in got]
    assert m.SessionReady in kinds and m.EngineReady in kinds and m.Paused in kinds


def test_the_app_loop_trains_exactly_like_the_run_loop(running):
    d, _ = running(pause_at=45)
    wait(lambda: d.paused)
    ref = ScenarioRun(load_scenario(scenario_path("tiny_two")))
    ref.advance(45)
    for a, b in zip(d.session.runs, ref.runs):
        assert np.array_equal(a.history.column("loss"), b.history.column("loss"))
    assert d.session.runs[0].history.act_hist is not None  # histograms on the chunk's last step


def test_finish_reports_the_checks_and_divergence(running):
    d, got = running(name="tiny_explode")
    wait(lambda: d.phase == "finished")
    div = [x for x in got if isinstance(x, m.VariantDiverged)]
    assert [x.label for x in div] == ["N(0, 1)"]
    assert any(isinstance(x, m.RunFinished) for x in got)


def test_requests_run_between_chunks_and_errors_are_reported(running):
    d, got = running(pause_at=5)
    wait(lambda: d.paused)
    d.call(lambda s: [r.set_live(lr=0.5) for r in s.runs] and "ok", "lr")
    d.call(lambda s: s.runs[0].set_live(nonsense=1), "bad")
    wait(lambda: sum(isinstance(x, m.Notice) for x in got) == 2)
    notices = [x for x in got if isinstance(x, m.Notice)]
    assert d.session.runs[1].opt.hparams["lr"] == 0.5
    assert notices[1].severity == "error" and "bad" in notices[1].text


def test_speed_levels(running):
    d, _ = running(paused=True)
    assert d.speed is None
    d.slower()
    assert d.speed == SPEEDS[-2]
    d.faster()
    d.faster()
    assert d.speed is None


def test_a_finished_run_shows_the_histograms_of_its_last_step(running, monkeypatch):
    # chunks of many steps, and no histograms on a timer: the run's last step must take
    # them all the same (it was left to the chunk's last step, past the run's end)
    monkeypatch.setattr("tuisim.app.driver.HISTOGRAM_EVERY", 1e9)
    d, _ = running(chunk_seconds=5.0)
    wait(lambda: d.phase == "finished")
    for r in d.session.runs:
        assert r.history.hist_step == r.total_steps - 1
        assert r.history.act_hist is not None and r.history.act_zero is not None
