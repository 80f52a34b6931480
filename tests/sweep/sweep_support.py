"""What the sweep tests share: the tiny sweep, the plain sequential run of a task, and
tasks that misbehave (importable by worker processes: pytest puts this folder on
sys.path, and spawned workers inherit it)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from tuisim.run.session import ScenarioRun
from tuisim.scenario import load_scenario
from tuisim.sweep.measures import measure_value
from tuisim.sweep.tasks import Task

TINY = Path(__file__).parent / "data" / "tiny_sweep.toml"


def sequential(plan, task) -> float:
    """The task's run done the plain way: the cell's scenario as `tuisim run FILE --set ...` loads it
    (what the app opens for a cell), a ScenarioRun of every variant, the measure of the cell's variant."""
    sc = plan.scenario_at(task.cell)
    assert sc == load_scenario(plan.scenario.path, plan.overrides + tuple(plan.grid.overrides(task.cell)))
    session = ScenarioRun(sc, seed=task.seed)
    session.run()
    (run,) = session.by_label[task.variant].runs
    return measure_value(run, plan.measure)


def like(task: Task, cls, **extra):
    """`task` as an instance of a Task subclass."""
    return cls(**{f.name: getattr(task, f.name) for f in fields(Task)}, **extra)


@dataclass
class Raises(Task):
    def run(self):
        raise RuntimeError("this point is broken on purpose")


@dataclass
class CrashOnce(Task):
    """Kills its worker process the first time it runs (a marker file remembers), then runs."""

    marker: str = ""

    def run(self):
        if not Path(self.marker).exists():
            Path(self.marker).write_text(str(os.getpid()))
            os._exit(3)
        return super().run()


@dataclass
class CrashAlways(Task):
    def run(self):
        os._exit(4)
