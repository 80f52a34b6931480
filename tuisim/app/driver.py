"""`Driver`: the training loop of the app, run in a thread worker.

It advances a `ScenarioRun` (every variant at every seed) in chunks sized so one chunk
takes ~30 ms, the runs of a chunk side by side on `threads` threads (`session.each`:
the compiled chunk releases the GIL), and between chunks honours the controls the UI
sets (pause, single step, speed, cancel) and runs the requests the UI queues (live
changes, export), so the engine's state is only touched while no chunk runs. The UI
reads the runs' `History` directly: appends are safe to read from another thread (a
record is counted once complete).
"""

from __future__ import annotations

import collections
import math
import os
import sys
import threading
import time
import typing
from typing import Callable

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported in the worker: the engine loads after the first frame
    from tuisim.run.session import ScenarioRun

from tuisim.i18n import _, scenario_text

from . import messages as m

SPEEDS: tuple[float | None, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, None)  # steps/s; None: as fast as possible
HISTOGRAM_BINS = 40
HISTOGRAM_EVERY = 0.5  # seconds between histograms (the panel redraws at 2 Hz)
# and at least this many over a run, one per slice of its steps (at most one a chunk): the
# heat strip's distributions over time (tuisim.run.percentiles) need points on a short run
HISTOGRAM_SLICES = 128
DETERMINISTIC_CHUNK = 16
WEIGHTS_EVERY = 0.3  # seconds between copies of the weights, while a view asks for them


class WeightsCopy(typing.NamedTuple):
    """A run's parameters (P) and running statistics (R) as they were after `step`."""

    step: int
    P: object
    R: object


def speed_label(speed: float | None) -> str:
    return _("max") if speed is None else f"{speed:g}/s"


class Driver:
    def __init__(self, scenario, *, seed: int | None = None, histograms: int = HISTOGRAM_BINS,
                 pause_at: int | None = None, paused: bool = False, chunk_seconds: float = 0.03,
                 threads: int | None = None, deterministic: bool = False, compiler=None):
        self.scenario = scenario
        # the app's BackgroundCompile (tuisim.app.compile): a first run waits for it
        # rather than compiling the engine in this process
        self.compiler = compiler
        self.background = False  # waiting for the engine being compiled in another process
        # the same steps for the same scenario on any machine (snapshots, screenshots):
        # chunks of DETERMINISTIC_CHUNK steps, histograms by steps only, never by the clock
        self.deterministic = deterministic
        self.seed = seed
        self.threads = threads  # runs trained at a time (None: one per core)
        self.histograms = histograms
        self.pause_at = pause_at
        self.chunk_seconds = chunk_seconds
        self.session: ScenarioRun | None = None
        self.phase = "starting"  # starting, building, compiling (or loading: the first step), running, finished
        self.phase_since = time.monotonic()
        self.paused = paused
        self.speed_index = len(SPEEDS) - 1
        self.rate = math.nan  # steps per second per variant, measured over ~0.5 s windows
        self.steps_run = 0  # of every run: a step of 3 seeds counts 3
        self.train_seconds = 0.0  # time spent in chunks of steps
        self.checks: list[tuple[bool, str]] | None = None
        # whether the first step loads the compiled engine from Numba's disk cache (True)
        # or compiles it (False); None: cannot tell
        self.engine_cached: bool | None = None
        self._step_requests = 0
        self._calls: collections.deque = collections.deque()
        self._wake = threading.Event()
        self._cancel = threading.Event()
        self._seconds_per_step = math.nan
        self._reported: set[tuple[str, int]] = set()
        # a histogram costs about one step's time on a small net: taken at most every
        # HISTOGRAM_EVERY s (whether or not the panel is on screen, so that it has a
        # recent picture when opened), and on any step the run stops at
        self._hist_at = -math.inf
        # while the UI sets want_weights (the decision boundary is on screen), a copy of
        # each variant's first seed's weights, taken between chunks: the UI evaluates its
        # own network on them, never the training network while a chunk updates it
        self.want_weights = False
        self.weights: dict[int, WeightsCopy] = {}
        self._weights_at = -math.inf

    @property
    def engine_text(self) -> str:
        """What the first step does, for the status line while it runs."""
        from tuisim.core import engine_text

        if self.background:
            return _("compiling the engine in other processes (first run only: about 10-15 s)")
        return engine_text(self.engine_cached, self.scenario.surface)

    # ---------------------------------------------------------------- UI side
    @property
    def speed(self) -> float | None:
        return SPEEDS[self.speed_index]

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.pause_at = None
        self._wake.set()

    def step_once(self) -> None:
        """One more step of every variant at every seed (pauses the run)."""
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
        """The step of the run: the furthest run's."""
        if self.session is None:
            return 0
        return max(r.step for r in self.session.runs)

    # ---------------------------------------------------------------- worker side
    def run(self, emit: Callable[[m.DriverMessage], None], cancelled: threading.Event | None = None) -> None:
        """The worker's body: build, compile (the first step), then train until cancelled."""

        def stop() -> bool:
            return self._cancel.is_set() or (cancelled is not None and cancelled.is_set())

        self._set_phase("building")
        from tuisim.run.pretrain import PretrainingStopped, follow
        from tuisim.run.session import ScenarioRun

        session = ScenarioRun(self.scenario, seed=self.seed, histograms=self.histograms, threads=self.threads)
        for r in session.runs:
            r.histograms = 0
        follow(session.runs, stop)  # a long pretraining shows its steps, and ends when the run is cancelled
        self.session = session
        emit(m.SessionReady(self))
        try:
            self._train(session, emit, stop)
        except PretrainingStopped:
            if not stop():
                raise
        finally:
            session.close()

    def _train(self, session, emit, stop) -> None:
        if stop():
            return
        self.engine_cached = session.engine_cached()
        self._set_phase("compiling")
        compiler = self.compiler
        if compiler is not None and compiler.running and not session.surface:
            self.background = True
            self.phase_since = compiler.started  # the seconds the compile has taken so far
            compiler.wait(stop)
            self.background = False
            if stop():
                return
            self.engine_cached = session.engine_cached()
        t0 = time.perf_counter()
        self._advance(1)
        emit(m.EngineReady(self, seconds=time.perf_counter() - t0))
        self._set_phase("running")
        self._after_chunk(emit)
        window_t, window_step = time.perf_counter(), self.step
        while not stop():
            self._wake.clear()
            self._run_calls(emit)
            self._copy_weights()
            if session.finished:
                if self.phase != "finished":
                    self._set_phase("finished")
                    self.checks = [(c.passed, check_text(c)) for c in session.check()]
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
            self.train_seconds += dt
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
        if self.deterministic:
            n = DETERMINISTIC_CHUNK
        speed = self.speed
        if speed is not None:
            n = min(n, int(speed * self.chunk_seconds * 2))
        if self.pause_at is not None:
            n = min(n, self.pause_at - lead)
        return max(1, min(n, 5000))

    def _advance(self, n: int) -> None:
        """n steps of every unfinished run, the runs side by side on the session's
        threads; histograms, when due, on the last step (of every run at once)."""
        timed = not self.deterministic and time.monotonic() - self._hist_at >= HISTOGRAM_EVERY

        def one(r) -> tuple[int, bool]:
            yield_to_interface()
            # all but the chunk's last step, and never the run's last: that one takes the
            # histograms when they are due (the run's last always is)
            first = min(n - 1, r.total_steps - r.step - 1)
            ran = r.advance(first) if first > 0 else 0
            took = False
            if not r.finished:
                r.histograms = self.histograms if self._histograms_due(r, timed) else 0
                took = r.histograms > 0
                try:
                    ran += r.advance(1)
                finally:
                    r.histograms = 0
            return ran, took

        done = self.session.each(one)
        self.steps_run += sum(ran for ran, __ in done)
        if any(took for __, took in done):
            self._hist_at = time.monotonic()

    def _histograms_due(self, r, timed: bool) -> bool:
        if not self.histograms:
            return False
        if self.paused or r.step + 1 >= r.total_steps:  # the run stops here: keep this step's picture
            return True
        if self.pause_at is not None and r.step + 1 >= self.pause_at:
            return True
        return timed or r.step + 1 - r.history.hist_step >= max(1, r.total_steps // HISTOGRAM_SLICES)

    def _after_chunk(self, emit) -> None:
        several = len(self.session.seeds) > 1
        for r in self.session.runs:
            if r.status == "diverged" and (r.label, r.seed) not in self._reported:
                self._reported.add((r.label, r.seed))
                emit(m.VariantDiverged(self, label=r.label, step=r.diverged_at or 0,
                                       seed=r.seed if several else None))
        emit(m.Progress(self, steps=self.steps_run))

    def ask_weights(self, want: bool) -> None:
        """Whether the UI wants `weights` kept up to date."""
        if want and not self.want_weights:
            self._weights_at = -math.inf
            self._wake.set()
        self.want_weights = want

    def _copy_weights(self) -> None:
        if not self.want_weights or time.monotonic() - self._weights_at < WEIGHTS_EVERY:
            return
        for i, g in enumerate(self.session.groups):
            r = g.runs[0]
            old = self.weights.get(i)
            if old is None or old.step != r.step:
                self.weights[i] = WeightsCopy(r.step, r.net.P.copy(), r.net.R.copy())
        self._weights_at = time.monotonic()

    def _run_calls(self, emit) -> None:
        while self._calls:
            fn, what = self._calls.popleft()
            try:
                text = fn(self.session)
            except Exception as exc:  # a bad value must not end the run
                emit(m.Notice(self, text=f"{what}: {exc}", severity="error"))
            else:
                emit(m.Notice(self, text=text or what))


# The threads that train give way to the interface: on Linux each runs at a nice value
# this much higher than the app's (per thread), so the event loop gets a core as soon as
# it wakes. With three seeds training on two threads on two cores, `tuisim bench --app`
# measured a key's wait at 99th percentile 19-22 ms, longest 31-32 ms, against 26-38 and
# 34-59 ms without, at the same training speed.
TRAINING_NICE = 5
_thread = threading.local()


def yield_to_interface() -> None:
    """Lower the calling training thread's priority by TRAINING_NICE, once per thread."""
    if not sys.platform.startswith("linux") or getattr(_thread, "niced", False):
        return  # elsewhere PRIO_PROCESS takes a process id, not a thread's
    _thread.niced = True
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + TRAINING_NICE)
    except OSError:
        pass


def check_text(c) -> str:
    """A checked expectation as the About panel lists it (markdown, after ✓ or ✗): the
    claim in bold, then what was measured (with several seeds, the median and each
    seed's value). The claim in the current language (the scenario file's `claim_zh`)."""
    claim = scenario_text(c.expect, "claim")
    return _("**{claim}**: {measured}").format(claim=claim, measured=c.text) if claim else c.text


def export_summary(session, scenario, overrides: list[str], wall_time: float) -> dict:
    """summary.json of an export (`x`): the shape `tuisim run --out` writes (one summary per
    variant with the median and [min, max] across its seeds, each seed's run, the checks
    once the run is over), with the app's overrides."""
    from tuisim.run.checks import check_record

    return {
        "scenario": scenario.name, "title": scenario.title, "seed": session.seed, "seeds": session.seeds,
        "overrides": list(overrides), "interrupted": not session.finished, "wall_time": wall_time,
        "variants": [g.summary() for g in session.groups],
        "checks": [check_record(c) for c in (session.check() if session.finished else [])],
    }
