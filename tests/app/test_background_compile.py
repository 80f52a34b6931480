"""A first run on a new machine: the engine compiles in another process while the app is
in use, and a run started meanwhile waits for it instead of compiling it again."""

from __future__ import annotations

import threading
import time

from tuisim.app import compile as compile_module
from tuisim.app.compile import BackgroundCompile

from .test_driver import running, wait  # noqa: F401 - the fixture


def test_a_child_process_compiles_when_the_cache_lacks_the_engine(monkeypatch, tmp_path):
    done = tmp_path / "compiled"
    monkeypatch.setattr(compile_module, "CODE", f"import time, pathlib\ntime.sleep(0.3)\n"
                                                f"pathlib.Path({str(done)!r}).write_text(str({{dtypes!r}}))\n")
    monkeypatch.setattr("tuisim.core.engine_cached", lambda dtype="float64": False)
    c = BackgroundCompile()
    assert c.start_if_needed() and c.running
    first = c.proc
    assert c.start_if_needed() and c.proc is first  # one child, however often asked
    assert c.wait() and not c.running
    assert done.read_text() == "('float64',)"


def test_no_child_when_the_engine_is_cached(monkeypatch):
    monkeypatch.setattr("tuisim.core.engine_cached", lambda dtype="float64": True)
    c = BackgroundCompile()
    assert not c.start_if_needed() and c.proc is None and not c.running
    assert not c.wait()


def test_closing_the_app_ends_the_child(monkeypatch):
    monkeypatch.setattr(compile_module, "CODE", "import time\ntime.sleep(60)\n")
    monkeypatch.setattr("tuisim.core.engine_cached", lambda dtype="float64": False)
    c = BackgroundCompile()
    c.start_if_needed()
    t0 = time.monotonic()
    c.close()
    assert not c.running and time.monotonic() - t0 < 5
    assert c.proc.returncode != 0


class SlowCompile:
    """Stands for a child still compiling: running for `seconds`, then done."""

    def __init__(self, seconds):
        self.started = time.monotonic()
        self.seconds = seconds
        self.waited = threading.Event()

    @property
    def running(self):
        return time.monotonic() - self.started < self.seconds

    def wait(self, stop=lambda: False):
        self.waited.set()
        while self.running and not stop():
            time.sleep(0.01)
        return True


def test_a_run_waits_for_the_other_process_then_trains(running):  # noqa: F811 - the fixture
    compiler = SlowCompile(0.8)
    d, got = running(compiler=compiler)
    wait(lambda: compiler.waited.is_set())
    assert d.phase == "compiling" and d.background and "other processes" in d.engine_text
    assert d.phase_since == compiler.started  # the seconds shown count from the compile's start
    assert d.step == 0
    wait(lambda: d.step > 0)
    assert not d.background and time.monotonic() - compiler.started >= 0.8


def test_a_run_without_a_child_compiles_as_before(running):  # noqa: F811 - the fixture
    d, got = running(compiler=BackgroundCompile())
    wait(lambda: d.step > 0)
    assert not d.background
