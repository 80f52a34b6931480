"""The status line says "compiling the engine" only when Numba's cache does not hold
it, "loading the engine" when it does (the cache's state mocked; the first step held
back so that the message can be read)."""

import threading

import pytest

from tuisim.app.driver import Driver
from tuisim.app.factory import make_app
from tuisim.app.widgets.status import StatusBar

from .conftest import SCENARIOS, driver, scenario_path, until


@pytest.mark.parametrize("cached,says", [
    (False, "compiling the engine (first run only: about 15 s)…"),
    (True, "loading the engine…"),
    (None, "loading the engine (compiling it, the first time: about 15 s)…"),
])
async def test_the_status_line_says_compiling_only_when_it_compiles(monkeypatch, cached, says):
    monkeypatch.setattr("tuisim.core.engine_cached", lambda dtype="float64": cached)
    release = threading.Event()
    first_step = Driver._advance

    def held(self, n):
        release.wait(30)  # the first step, while the status line says what it does
        return first_step(self, n)

    monkeypatch.setattr(Driver, "_advance", held)
    app = make_app(scenario_path("tiny_two"), seed=0, deterministic=True, pause_at=2, library=SCENARIOS)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: driver(app) is not None and driver(app).phase == "compiling",
                        what="the first step")
            status = app.screen.query_one(StatusBar)
            await until(pilot, lambda: says in status.render().plain, timeout=10, what=says)
            assert ("compiling the engine" in status.render().plain) == (cached is False)
            release.set()
            await until(pilot, lambda: driver(app).paused, what="the pause")
    finally:
        release.set()


def test_a_session_is_cached_only_when_every_dtype_is(monkeypatch):
    from tuisim.run.session import ScenarioRun
    from tuisim.scenario import load_scenario

    session = ScenarioRun(load_scenario(scenario_path("tiny_two")))
    state = {"float64": True, "float32": False}
    monkeypatch.setattr("tuisim.core.engine_cached", lambda dtype="float64": state[dtype])
    assert session.dtypes == ["float64"] and session.engine_cached() is True
    monkeypatch.setattr(type(session), "dtypes", property(lambda self: ["float32", "float64"]))
    assert session.engine_cached() is False
    state["float32"] = None
    assert session.engine_cached() is None
