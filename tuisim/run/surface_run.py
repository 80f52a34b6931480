"""`SurfaceRun`: one variant of a [surface] scenario, a point trained on a 2-D test function.

It has the interface of `VariantRun` (advance, history, status, summary, set_live, ...),
so the headless runner, the files, the checks and the app run it as they run a network.
Each step is `tuisim.core.surface.Descent`'s, that is the engine's own optimizer code;
the records are the step's point (`position`), the surface's value there (`loss`), the
gradient's norm, the update, and the path's running measures: distance to the nearest
minimum, length travelled, sign changes of the steep coordinate's update (oscillation).
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np

from tuisim.core.surface import Descent, Surface, oscillation, path_length

from .history import PATH_FIELDS, History
from .tracking import Tracker
from .variant_run import DIVERGED, DONE, READY, RUNNING, Trained

MAX_CHUNK = 1024  # steps per compiled call (and at most a quarter of the history's limit: it thins between)


class SurfaceRun(Trained):
    """A point on the scenario's surface, from the variant's start, trained by its
    [train] optimizer; `seed` draws the gradient noise (when the surface has any)."""

    SPREAD_KEYS = ("loss", "distance_to_minimum", "path_length", "oscillation", "steps", "wall_time")
    histograms = 0
    pretrain_status = ""
    record_every = 1
    dtype = "float64"

    def __init__(self, scenario, variant, *, seed: int | None = None, steps: int | None = None, track=(), **_):
        self.scenario = scenario
        self.variant = variant
        self.label = variant.label
        self.seed = scenario.seed if seed is None else seed
        self.total_steps = scenario.steps if steps is None else steps
        spec = variant.surface
        self.surface = Surface(spec["name"], **spec["params"])
        self.start = tuple(spec["start"])
        self.descent = Descent(self.surface, self.start, noise=spec["noise"], seed=self.seed,
                               **variant.optimizer_kwargs)
        self.opt = self.descent.optimizer
        self.steep = self.surface.steep
        self.history = History(2, capacity=min(self.total_steps + 2, 4096), fields=PATH_FIELDS)
        for metric, layer, at, threshold in track:
            self.history.track(Tracker(metric, layer, at, threshold))
        self._length, self._sign, self._turns = 0.0, 0.0, 0  # the path's measures, carried across chunks
        self.step = 0
        self.status = READY
        self.diverged_at: int | None = None
        self.wall_time = 0.0
        self.error: str | None = None

    @property
    def position(self) -> np.ndarray:
        """Where the point is now (after the last step)."""
        return self.descent.position

    def pretrain(self, progress=None) -> None:
        """Nothing to pretrain: a point has no layers (the runners call it for every run)."""

    def advance(self, n: int = 1) -> int:
        """Run up to n steps (fewer at the end of the run or at divergence); returns how many ran."""
        if self.finished:
            return 0
        self.status = RUNNING
        t0 = time.perf_counter()
        done = 0
        while done < n and self.step < self.total_steps:
            chunk = min(n - done, self.total_steps - self.step, MAX_CHUNK, max(1, self.history.limit // 4))
            trace = self.descent.run(chunk)
            ran = len(trace)
            self.history.extend(self._records(trace), np.arange(ran))
            done += ran
            if trace.diverged:
                self.status = DIVERGED
                self.diverged_at = self.step + ran - 1
                self.step += ran - 1
                break
            self.step += ran
        if self.step >= self.total_steps and self.status == RUNNING:
            self.status = DONE
        self.wall_time += time.perf_counter() - t0
        return done

    def _records(self, trace) -> SimpleNamespace:
        """The history's columns (PATH_FIELDS) of one `PathTrace`, the path's running
        measures continued from the last chunk."""
        m = len(trace)
        length = path_length(trace.update, self._length)
        turns = oscillation(trace.update, self.steep, self._sign, self._turns)
        if m:
            self._length, self._turns = float(length[-1]), int(turns[-1])
            nonzero = np.flatnonzero(trace.update[:, self.steep])
            if len(nonzero):
                self._sign = float(np.sign(trace.update[nonzero[-1], self.steep]))
        diverged = np.zeros(m)
        if trace.diverged:
            diverged[-1] = 1.0
        distance = self.surface.distance_to_minimum(trace.position) if self.surface.minima else np.full(m, np.nan)
        return SimpleNamespace(step=trace.first + np.arange(m), loss=trace.loss, grad_norm=trace.grad_norm,
                               lr=trace.lr, diverged=diverged, distance_to_minimum=distance, path_length=length,
                               oscillation=turns, update_norm=np.hypot(trace.update[:, 0], trace.update[:, 1]),
                               position=trace.position, update=trace.update)

    def summary(self) -> dict:
        view = self.history.snapshot()
        last = view.record(view.n - 1) if view.n else {}
        x, y = (float(v) for v in self.position)
        return {
            **self._summary_head(),
            "surface": self.surface.name,
            "start": list(self.start),
            "position": [x, y],
            "loss": self.surface.value(x, y),
            "distance_to_minimum": float(self.surface.distance_to_minimum([x, y])[0]) if self.surface.minima
            else None,
            "path_length": self._length,
            "oscillation": self._turns,
            "last_grad_norm": last.get("grad_norm"),
            "wall_time": self.wall_time,
            "steps_per_second": self.steps_per_second,
        }
