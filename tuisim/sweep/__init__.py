"""Sweeps: maps of many independent runs of one scenario (`tuisim sweep`).

A scenario's `[sweep]` table (scenarios/FORMAT.md) names the axes (any keys, as for
`--set`), the measure each cell shows and the number of seeds; `--grid KEY=VALUES`
adds or replaces an axis. Every variant of the scenario is a series: with two or more
variants the grid has a last axis, "variant", whose values are their labels. A point is
the scenario with the point's values applied as `--set` overrides; every (point,
variant, seed) is one task, run with `ScenarioRun` in a worker process, which returns a
small `Result` (the measure, status, time), never the records.

The API, for the app's heatmap and curves and for scripts:

    from tuisim.sweep import load_sweep, SweepRun

    plan = load_sweep("sweep_tanh_phase", overrides=["steps=200"], grid=["model.depth=5,10"],
                      quick=False, seeds=None)      # ScenarioError (exit 2) with every problem
    sweep = SweepRun(plan, workers=2)               # or scheduler="local" / "tcp://host:8786";
                                                    # out_dir=..., resume=True for sweep.csv/json
    grid = sweep.grid                               # Grid
    grid.axes                                       # (GridAxis, ...): key, label, values, labels,
                                                    #   numeric, log (draw on a log scale); the
                                                    #   [sweep] axes in order, then "variant"
    grid.explicit_axes, grid.variants, grid.seeds, grid.shape
    for result in sweep.run():                      # blocking: call it from a worker thread
        result.cell, result.variant, result.seed    # where it goes (cell: one index per axis)
        result.value, result.status, result.error   # status "ok", "failed" or "lost"
        sweep.results.means()                       # grid.shape array, NaN where nothing yet
        sweep.progress()                            # {done, total, failed, elapsed, eta}
    sweep.stop()                                    # from any thread: ends run() soon
    sweep.interrupted, sweep.lost                   # after run(): runs missing? why the cluster was lost
    sweep.resume_command()                          # 'tuisim sweep ... --out DIR --resume' (with out_dir)
    sweep.results.heatmap(variant)                  # 2 axes: (x axis, y axis, Z[row=y, col=x])
    sweep.results.curves()                          # 1 axis: (x axis, {variant: means}, {variant: spread})
    sweep.results.spread(), .counts(), .failures(), .diverged(), .values()
    sweep.check()                                   # [[sweep.expect]] claims: [SweepCheck], judged
                                                    #   only on complete cells (else .missing says)
    plan.scenario_at(cell)                          # a cell's Scenario (its --set overrides applied):
    # run it at result.seed and show variant grid.variant(cell): exactly that cell's run, for the
    # run screen (grid.overrides(cell) is the --set list).

The measure's colour hints are `tuisim.scenario.MEASURES[name].better` ("high" / "low")
and `.log`. A cell's mean is inf when its runs diverged (train_loss); NaN only when
no run of it has finished.

Executors: `LocalPool` (worker processes on this machine, one per core by default; a
worker that dies costs only its task, which is retried once), `InProcess`
(`--workers 0`) and `DaskCluster` (`--scheduler ADDRESS` or `local`: the `tuisim[dask]`
extra). Each worker loads the compiled engine once, when it starts (`tasks.warm_up`).
A csv / npz dataset is loaded by the client and sent with the tasks (`Task.dataset`).
A Dask cluster lost mid-sweep ends `run()` early with `lost` set (`ClusterLost` inside):
the results so far stay in sweep.csv, and `--resume` runs the rest on a new cluster.
"""

from .grid import Grid, GridAxis
from .local import ClusterLost, InProcess, LocalPool, SweepError
from .plan import SweepPlan, load_sweep
from .sweep_run import SweepRun, default_workers
from .tasks import FAILED, LOST, OK, MeasureSpec, Result, Task, execute, warm_up
from .view import SweepResults

__all__ = ["ClusterLost", "FAILED", "Grid", "GridAxis", "InProcess", "LOST", "LocalPool", "MeasureSpec", "OK", "Result",
           "SweepError", "SweepPlan", "SweepResults", "SweepRun", "Task", "default_workers", "execute", "load_sweep",
           "warm_up"]
