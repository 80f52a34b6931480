"""One run of a sweep as an independent task, and the small result it returns.

A `Task` holds the point's scenario reduced to one variant, the seed and the measure,
and, when the data comes from the user's csv or npz file, the dataset the client
loaded from it (split for the task's seed): a worker never opens the file, so workers
on other machines need tuisim installed, not the file at the same path.
`execute(task)` runs it in whatever process it lands in (a local worker, a Dask
worker, or this process) and returns a `Result` of a few numbers: never the records.
`warm_up()` loads the compiled engine once per worker process, so tasks do not pay
for it. Importing this module does not import the engine (the parent of the workers
never needs it).
"""

from __future__ import annotations

import math
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

OK, FAILED, LOST = "ok", "failed", "lost"


@dataclass(frozen=True)
class MeasureSpec:
    name: str
    layer: int | str | None = None
    at: int | str | None = None
    threshold: float | None = None

    @classmethod
    def of(cls, sweep) -> "MeasureSpec":
        return cls(sweep.measure, sweep.layer, sweep.at, sweep.threshold)

    def describe(self) -> str:
        """'train_accuracy', 'grad_norm_ratio at 0', 'steps_to_loss(<= 0.5) at end', ..."""
        s = self.name
        if self.layer is not None:
            s += f"[layer {self.layer}]"
        if self.threshold is not None:
            s += f"(<= {self.threshold:g})"
        if self.at is not None:
            s += f" at {self.at}"
        return s


@dataclass
class Result:
    """What a task sends back."""

    task: int  # Task.id
    cell: tuple[int, ...]
    variant: str
    seed: int
    key: str  # the point's identity (Task.key): --resume matches it
    value: float = math.nan  # the measure; NaN unless status is "ok"
    status: str = OK  # "ok", "failed" (the task raised) or "lost" (its worker died, twice)
    error: str = ""
    diverged: bool = False
    steps: int = 0  # training steps run
    time: float = 0.0  # seconds in the worker, from receiving the task to its result
    cpu: float = 0.0  # CPU seconds the worker process used meanwhile (less than time: the core was shared)
    train_time: float = 0.0  # of which training (the run's own wall time)
    worker: str = ""  # host:pid
    attempts: int = 1
    resumed: bool = False  # read back from sweep.csv by --resume, not run now


@dataclass
class Task:
    id: int  # position in the sweep's task list (seed-major: every cell at the first seed first)
    cell: tuple[int, ...]
    variant: str
    seed: int
    scenario: Any  # the point's Scenario, with this variant only
    measure: MeasureSpec
    key: str
    cost: float = 1.0  # relative cost estimate (for the ETA)
    attempts: int = field(default=1, compare=False)
    # the data of a csv / npz dataset, loaded and split by the client (tuisim.data.Dataset; shared
    # by the tasks of the same data and seed); None: the worker generates it from the seed
    dataset: Any = field(default=None, compare=False, repr=False)

    def result(self, **fields) -> Result:
        return Result(task=self.id, cell=self.cell, variant=self.variant, seed=self.seed, key=self.key,
                      attempts=self.attempts, **fields)

    def run(self) -> Result:
        from tuisim.run.checks import value_tracks
        from tuisim.run.variant_run import VariantRun

        from .measures import measure_value

        # what ScenarioRun(scenario, seed=seed, seeds=1, threads=1).run() does with its one run,
        # on the dataset shipped with the task when there is one
        (variant,) = self.scenario.variants
        m = self.measure
        run = VariantRun(self.scenario, variant, seed=self.seed, dataset=self.dataset,
                         track=value_tracks(m.name, m.layer, m.at, m.threshold))
        while not run.finished:
            run.advance(1_000_000)
        return self.result(value=measure_value(run, self.measure), diverged=run.status == "diverged",
                           steps=run.step, train_time=run.wall_time)


def execute(task: Task) -> Result:
    """Run a task; an exception becomes a failed result (the sweep goes on)."""
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        result = task.run()
    except Exception as e:  # noqa: BLE001: whatever a point does wrong is that point's failure
        result = task.result(status=FAILED, error=f"{type(e).__name__}: {e}")
    result.time = time.perf_counter() - t0
    result.cpu = time.process_time() - c0
    result.worker = WORKER
    return result


WORKER = f"{socket.gethostname()}:{os.getpid()}"

_warm: set[str] = set()


def warm_up(dtypes=("float64",)) -> float:
    """Load the compiled engine (numba's on-disk cache) for these dtypes in this process:
    one tiny training step and evaluation each. Returns the seconds it took (0 when done
    before)."""
    global WORKER
    WORKER = f"{socket.gethostname()}:{os.getpid()}"
    todo = [d for d in dtypes if d not in _warm]
    if not todo:
        return 0.0
    t0 = time.perf_counter()
    import numpy as np

    import tuisim.run.session  # noqa: F401  (the run loop and the datasets, as a task imports them)
    from tuisim.core import Network, Optimizer

    X = np.random.default_rng(0).normal(size=(8, 2))
    y = np.arange(8) % 2
    for dtype in todo:
        net = Network(n_in=2, n_out=2, depth=2, width=4, activation="tanh", dtype=dtype, seed=0)
        Optimizer(net, "sgd", lr=0.01).step(X, y)
        net.evaluate(X, y)
        _warm.add(dtype)
    return time.perf_counter() - t0
