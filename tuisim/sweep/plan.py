"""`load_sweep`: a scenario's [sweep] (with --set, --grid, --seeds and --quick applied),
its grid, and one task per cell and seed, every point validated before anything runs.

Each point is the scenario with the point's axis values applied as `--set` overrides
(after the command line's own --set), so a point means exactly what
`tuisim run FILE --set key=value ...` means, and is checked the same way.

Data read from the user's csv or npz file is loaded here, once per file and seed, and
travels with the tasks (`Task.dataset`): the workers never open the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from tuisim.data import DATASETS, load_dataset
from tuisim.scenario import Problem, Scenario, ScenarioError, load_scenario, parse_scenario
from tuisim.scenario.locate import key_lines
from tuisim.scenario.sweep import Sweep

from .grid import Grid
from .tasks import MeasureSpec, Task


@dataclass
class SweepPlan:
    scenario: Scenario  # as loaded (with --set and --grid)
    sweep: Sweep  # the grid actually run (the quick one with --quick; --seeds applied)
    grid: Grid
    tasks: list[Task]  # seed-major: every cell at the first seed, then the next seed, ...
    measure: MeasureSpec
    overrides: tuple[str, ...] = ()
    quick: bool = False
    # how the command line asked for it (`tuisim sweep NAME --grid ... --seeds N`), to say how to resume it
    name: str = ""
    grid_settings: tuple[str, ...] = ()
    seeds_option: int | None = None

    def scenario_at(self, cell: tuple[int, ...]) -> Scenario:
        """The scenario of a cell, loaded as `tuisim run FILE --set ...` loads it (every variant):
        run it at the result's seed and show `grid.variant(cell)`: that is the cell's run."""
        return load_scenario(self.scenario.path, self.overrides + tuple(self.grid.overrides(cell)))

    @property
    def dtypes(self) -> tuple[str, ...]:
        return tuple(sorted({t.scenario.variants[0].model["dtype"] for t in self.tasks})) or ("float64",)


def load_sweep(name: str | Path | Scenario, overrides: Sequence[str] = (), grid: Sequence[str] = (), *,
               quick: bool = False, seeds: int | None = None) -> SweepPlan:
    """The sweep of a scenario file (or bundled name), ready to run. Raises ScenarioError
    with every problem: of the file, of the command line, and of any point."""
    if isinstance(name, Scenario):
        scenario = name
        if grid:
            raise ValueError("--grid applies when loading: pass the file's name or path")
    else:
        scenario = load_scenario(name, overrides, grid=grid)
    label = str(scenario.path) if scenario.path is not None else scenario.name
    if scenario.sweep is None:
        raise ScenarioError([Problem(label, None, "sweep", "missing: the scenario has no [sweep] table; add one "
                                                           "(see FORMAT.md), or give axes with --grid KEY=VALUES")])
    sweep = scenario.sweep.quick() if quick else scenario.sweep
    if seeds is not None:
        if seeds < 1:
            raise ScenarioError([Problem("--seeds", None, None, f"must be an integer >= 1, not {seeds}")])
        sweep = dataclasses.replace(sweep, seeds=seeds)
    scenario = dataclasses.replace(scenario, sweep=sweep)
    g = Grid(scenario, sweep)
    measure = MeasureSpec.of(sweep)
    tasks = _tasks(scenario, g, measure, tuple(overrides), label, _axis_origins(scenario, grid, label))
    given = str(name) if not isinstance(name, Scenario) else str(scenario.path or scenario.name)
    return SweepPlan(scenario, sweep, g, tasks, measure, tuple(overrides), quick, given, tuple(grid), seeds)


def _axis_origins(scenario: Scenario, grid: Sequence[str], label: str) -> dict[str, tuple[str, int | None]]:
    """Where each axis was written: (file, line of its [[sweep.axis]]), or ("--grid ...", None)."""
    lines = key_lines(scenario.source) if scenario.source else {}
    out = {}
    for i, axis in enumerate(scenario.sweep.axes):
        out[axis.key] = (label, lines.get(("sweep", "axis", i)))
    for setting in grid:
        out[setting.partition("=")[0].strip()] = (f"--grid {setting}", None)
    return out


def _tasks(scenario: Scenario, grid: Grid, measure: MeasureSpec, overrides: tuple[str, ...], label: str,
           origins: dict[str, tuple[str, int | None]]) -> list[Task]:
    points: dict[tuple, Scenario] = {}
    problems: dict[tuple, list] = {}  # problem -> [first point, count]
    cells = list(grid.cells())
    for cell in cells:
        point_overrides = grid.overrides(cell)
        pkey = tuple(point_overrides)
        if pkey in points or pkey in problems:
            continue
        try:
            points[pkey] = _point_scenario(scenario, overrides + pkey, label)
        except ScenarioError as e:
            problems[pkey] = e.problems
    if problems:
        raise ScenarioError(_point_problems(problems, origins))
    tasks = []
    datasets: dict[tuple, object] = {}
    for seed in grid.seeds:
        for cell in cells:
            sc = points[tuple(grid.overrides(cell))]
            variant = sc.variant(grid.variant(cell))
            # a sweep's own seeds repeat the points; the scenario's top-level seeds do not apply
            one = dataclasses.replace(sc, variants=[variant], expects=[], sweep=None, source="", description="",
                                      seeds=1)
            key = _key(grid.point(cell), variant, sc.steps, seed, measure)
            tasks.append(Task(id=len(tasks), cell=cell, variant=variant.label, seed=seed, scenario=one,
                              measure=measure, key=key, cost=_cost(one),
                              dataset=_file_dataset(datasets, one, variant, seed)))
    return tasks


def _file_dataset(loaded: dict, scenario: Scenario, variant, seed: int):
    """The dataset of a csv / npz file, as the run at this seed uses it (loaded once per file
    and seed, shared by the tasks), so that it travels with the task; None for generated data."""
    kind = DATASETS.get(variant.data.get("name"))
    if kind is None or not kind.from_file:
        return None
    key = (repr(sorted(variant.data.items())), str(scenario.base_dir), seed)
    if key not in loaded:
        loaded[key] = load_dataset(variant.data, seed, scenario.base_dir)
    return loaded[key]


def _point_scenario(scenario: Scenario, overrides: tuple[str, ...], label: str) -> Scenario:
    if scenario.path is not None and scenario.source:
        return parse_scenario(scenario.source, scenario.path, overrides, file_label=label)
    raise ValueError("a sweep needs the scenario's file (Scenario.path and .source)")


def _point_problems(problems: dict[tuple, list], origins: dict[str, tuple[str, int | None]]) -> list[Problem]:
    """Each distinct problem once, naming the first point that has it (and how many more); a
    problem of an axis value points at the axis (its [[sweep.axis]] line, or its --grid)."""
    seen: dict[tuple, list] = {}
    for pkey, plist in problems.items():
        for p in plist:
            file, line = p.file, p.line
            if p.file and p.file.startswith("--set ") and p.file[6:] in pkey:
                file, line = origins.get(p.file[6:].partition("=")[0], (p.file, None))
            ident = (file, line, p.key, p.message)
            if ident in seen:
                seen[ident][1] += 1
            else:
                seen[ident] = [pkey, 1]
    out = []
    for (file, line, key, message), (pkey, count) in seen.items():
        more = f" and {count - 1} more point{'s' if count > 2 else ''}" if count > 1 else ""
        where = ", ".join(pkey) or "the base point"
        out.append(Problem(file, line, key, f"{message} (sweep point {where}{more})"))
    return out


def _key(point: dict, variant, steps: int, seed: int, measure: MeasureSpec) -> str:
    """What makes a result: the point, the variant's full settings, steps, seed and measure."""
    blob = json.dumps({"point": point, "variant": dataclasses.asdict(variant), "steps": steps, "seed": seed,
                       "measure": dataclasses.asdict(measure)}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def _cost(scenario: Scenario) -> float:
    """A rough relative cost: steps x layers x width x batch."""
    v = scenario.variants[0]
    width = v.model["width"]
    mean_width = sum(width) / len(width) if isinstance(width, list) else width
    batch = v.train["batch_size"]
    if batch == "full":
        samples = v.data.get("samples") or 256
        batch = max(1, int(samples * (1 - (v.data.get("test_fraction") or 0))))
    pretrain = v.pretrain["steps_per_layer"] * v.model["depth"] if v.pretrain else 0
    return float((scenario.steps + pretrain) * (v.model["depth"] + 1) * max(mean_width, 8) * max(batch, 8))
