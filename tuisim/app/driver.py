"""`Driver`: the training loop of the app, run in a thread worker.

It advances a `ScenarioRun` in chunks sized so one chunk takes ~30 ms, and between
chunks honours the controls the UI sets (pause, single step, speed, cancel) and runs
the requests the UI queues (live changes, export), so the engine's state is only
ever touched from this thread. The UI reads the runs' `History` directly: appends
are safe to read from another thread (a record is counted once complete).
"""

from __future__ import annotations

import collections
import math
import threading
import time
from typing import Callable

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported in the worker: the engine loads after the first frame
    from tuisim.run.session import ScenarioRun

from . import messages as m

SPEEDS: tuple[float | None, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, None)  # steps/s; None: as fast as possible
HISTOGRAM_BINS = 40
HISTOGRAM_EVERY = 0.5  # seconds between histograms (the panel redraws at 2 Hz)


def speed_label(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}/s"


class Driver:
    def __init__(self, scenario, *, seed: int | None = None, histograms: int = HISTOGRAM_BINS,
                 pause_at: int | None = None, paused: bool = False, chunk_seconds: float = 0.03):
        self.scenario = scenario
        self.seed = seed
        self.histograms = histograms
        self.pause_at = pause_at
        self.chunk_seconds = chunk_seconds
        self.session: ScenarioRun | None = None
        self.phase = "starting"  # starting, building, compiling, running, finished
        self.phase_since = time.monotonic()
        self.paused = paused
        self.speed_index = len(SPEEDS) - 1
        self.rate = math.nan  # steps per second per variant, measured over ~0.5 s windows
        self.steps_run = 0
        self.checks: list[tuple[bool, str]] | None = None
        self._step_requests = 0
        self._calls: collections.deque = collections.deque()
        self._wake = threading.Event()
        self._cancel = threading.Event()
        self._seconds_per_step = math.nan
        self._reported: set[str] = set()
        # a histogram costs about one step's time on a small net: taken at most every
        # HISTOGRAM_EVERY s (whether or not the panel is on screen, so that it has a
        # recent picture when opened), and on any step the run stops at
        self._hist_at = -math.inf

    # ---------------------------------------------------------------- UI side
    @property
    def speed(self) -> float | None:
        return SPEEDS[self.speed_index]

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.pause_at = None
        self._wake.set()

    def step_once(self) -> None:
        """One more step of every variant (pauses the run)."""
        self.paused = True
        self.pause_at = None
        self._step_requests += 1
        self._wake.set()

    def faster(self) -> None:
        self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)
        self._wake.set()

    def slower(self) -> None:
        self.speed_index = max(self.speed_index - 1, 0)
        self._wake.set()

    def call(self, fn: Callable[[ScenarioRun], str | None], what: str) -> None:
        """Run fn(session) in the worker between two chunks; its return is reported."""
        self._calls.append((fn, what))
        self._wake.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._wake.set()

    @property
    def step(self) -> int:
        """The step of the run: the furthest variant's."""
        if self.session is None:
            return 0
        return max(r.step for r in self.session.runs)

    # ---------------------------------------------------------------- worker side
    def run(self, emit: Callable[[m.DriverMessage], None], cancelled: threading.Event | None = None) -> None:
        """The worker's body: build, compile (the first step), then train until cancelled."""

        def stop() -> bool:
            return self._cancel.is_set() or (cancelled is not None and cancelled.is_set())

        self._set_phase("building")
        from tuisim.run.session import ScenarioRun

        session = ScenarioRun(self.scenario, seed=self.seed, histograms=self.histograms)
        for r in session.runs:
            r.histograms = 0
        self.session = session
        emit(m.SessionReady(self))
        if stop():
            return
        self._set_phase("compiling")
        t0 = time.perf_counter()
        self._advance(1)
        emit(m.EngineReady(self, seconds=time.perf_counter() - t0))
        self._set_phase("running")
        self._after_chunk(emit)
        window_t, window_step = time.perf_counter(), self.step
        while not stop():
            self._wake.clear()
            self._run_calls(emit)
            if session.finished:
                if self.phase != "finished":
                    self._set_phase("finished")
                    self.checks = [(c.passed, c.line()) for c in session.check()]
                    emit(m.RunFinished(self, checks=self.checks))
                self._wake.wait(0.25)
                continue
            lead = min(r.step for r in session.runs if not r.finished)
            if self.pause_at is not None and lead >= self.pause_at:
                self.pause_at = None
                self.paused = True
                emit(m.Paused(self, paused=True))
            if self._step_requests > 0:
                self._step_requests -= 1
                n = 1
            elif self.paused:
                self.rate = 0.0
                self._wake.wait(0.25)
                window_t, window_step = time.perf_counter(), self.step
                continue
            else:
                n = self._chunk(lead)
            t0 = time.perf_counter()
            self._advance(n)
            dt = time.perf_counter() - t0
            per = dt / n
            a = 0.3 if not math.isnan(self._seconds_per_step) else 1.0
            self._seconds_per_step = per if a == 1.0 else (1 - a) * self._seconds_per_step + a * per
            self._after_chunk(emit)
            speed = self.speed
            if speed is not None and not self.paused:
                rest = n / speed - dt
                if rest > 0:
                    self._wake.wait(rest)
            now = time.perf_counter()
            if now - window_t >= 0.5:
                self.rate = (self.step - window_step) / (now - window_t)
                window_t, window_step = now, self.step

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self.phase_since = time.monotonic()

    def _chunk(self, lead: int) -> int:
        sps = self._seconds_per_step
        n = 1 if math.isnan(sps) or sps <= 0 else int(self.chunk_seconds / sps)
        speed = self.speed
        if speed is not None:
            n = min(n, int(speed * self.chunk_seconds * 2))
        if self.pause_at is not None:
            n = min(n, self.pause_at - lead)
        return max(1, min(n, 5000))

    def _advance(self, n: int) -> None:
        """n steps of every unfinished variant; histograms, when due, on the last one."""
        took = False
        for r in self.session.runs:
            if r.finished:
                continue
            ran = r.advance(n - 1) if n > 1 else 0
            if not r.finished:
                r.histograms = self.histograms if self._histograms_due(r) else 0
                took = took or r.histograms > 0
                try:
                    ran += r.advance(1)
                finally:
                    r.histograms = 0
            self.steps_run += ran
        if took:
            self._hist_at = time.monotonic()

    def _histograms_due(self, r) -> bool:
        if not self.histograms:
            return False
        if self.paused or r.step + 1 >= r.total_steps:  # the run stops here: keep this step's picture
            return True
        if self.pause_at is not None and r.step + 1 >= self.pause_at:
            return True
        return time.monotonic() - self._hist_at >= HISTOGRAM_EVERY

    def _after_chunk(self, emit) -> None:
        for r in self.session.runs:
            if r.status == "diverged" and r.label not in self._reported:
                self._reported.add(r.label)
                emit(m.VariantDiverged(self, label=r.label, step=r.diverged_at or 0))
        emit(m.Progress(self, steps=self.steps_run))

    def _run_calls(self, emit) -> None:
        while self._calls:
            fn, what = self._calls.popleft()
            try:
                text = fn(self.session)
            except Exception as exc:  # a bad value must not end the run
                emit(m.Notice(self, text=f"{what}: {exc}", severity="error"))
            else:
                emit(m.Notice(self, text=text or what))
