"""`SweepRun`: a sweep being run: its plan, its executor, its files and its results.

Iterating `run()` runs the tasks and yields each `Result` as it arrives (first those
read back by --resume); meanwhile `results` (a `SweepResults`) holds the partial grid,
and `progress()` the counts and the ETA. `stop()` may be called from another thread.

When the iteration ends, `interrupted` says whether runs are missing (a stop, a pause,
Ctrl-C, or a lost cluster) and `lost` why the cluster was lost, if it was: a lost Dask
scheduler (or connection to it) ends `run()` normally, every result fetched before it
kept in sweep.csv, so `--resume` runs the rest; `resume_command()` is how.
"""

from __future__ import annotations

import shlex
import threading
import time
from pathlib import Path
from typing import Iterator

from tuisim.run.cores import available_cores
from tuisim.scenario.budget import workers_that_fit

from .expects import SweepCheck, check_sweep
from .local import ClusterLost, InProcess, LocalPool
from .plan import SweepPlan
from .store import SweepWriter
from .tasks import OK, Result
from .view import SweepResults


def default_workers() -> int:
    """One worker per core this process may use."""
    return available_cores()


class SweepRun:
    def __init__(self, plan: SweepPlan, *, workers: int | None = None, scheduler: str | None = None,
                 out_dir: str | Path | None = None, resume: bool = False):
        self.plan = plan
        self.grid = plan.grid
        self.tasks = plan.tasks
        self.results = SweepResults(plan.grid)
        self.workers = default_workers() if workers is None else workers
        self._workers_option = workers
        self.scheduler = scheduler
        if scheduler is not None:
            from .cluster import _distributed

            _distributed()  # SweepError now, before anything starts, when Dask is not installed
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.resume = resume
        self.executor = None
        self.interrupted = False
        self.lost: str | None = None  # why the cluster was lost (the sweep then ends interrupted)
        self.resumed = 0
        self._stop = threading.Event()
        self._drain = threading.Event()
        self._t0: float | None = None
        self._t_ready: float | None = None
        self._t_end: float | None = None
        self._cost_todo = 0.0
        self._cost_done = 0.0

    # ------------------------------------------------------------------ control
    def stop(self) -> None:
        """Stop now (thread-safe): runs in flight are abandoned, and run again by a resume."""
        self._stop.set()

    def pause(self) -> None:
        """Start no more runs, and stop once those in flight are done and recorded
        (thread-safe), so a resume has nothing to run again. A Dask cluster, which was
        given every run at once, stops as `stop` does."""
        self._drain.set()

    def _executor(self, n_tasks: int):
        if self.scheduler is not None:
            from .cluster import DaskCluster

            return DaskCluster(self.scheduler, workers=max(1, self.workers), dtypes=self.plan.dtypes)
        if self.workers == 0:
            return InProcess(self.plan.dtypes)
        # no more processes at once than the memory holds, each with its largest task (issue 11)
        fit = workers_that_fit([t.scenario for t in self.tasks], min(self.workers, n_tasks))
        return LocalPool(max(1, fit), dtypes=self.plan.dtypes)

    def run(self) -> Iterator[Result]:
        """Run the sweep, yielding every result as it arrives."""
        self._t0 = time.perf_counter()
        writer = None
        done: list[Result] = []
        if self.out_dir is not None:
            writer = SweepWriter(self.out_dir, self.grid, self.plan.measure.describe(), resume=self.resume)
            done = writer.open(self.tasks)
        finished = False
        try:
            for r in done:
                self.results.add(r)
                yield r
            self.resumed = len(done)
            skip = {r.key for r in done}
            todo = [t for t in self.tasks if t.key not in skip]
            self._cost_todo = sum(t.cost for t in todo)
            cost = {t.id: t.cost for t in todo}
            if todo and not self._stop.is_set() and not self._drain.is_set():
                self.executor = self._executor(len(todo))
                try:
                    self.executor.start(self._stop)
                    self._t_ready = time.perf_counter()
                    for r in self.executor.run(todo, self._stop, self._drain):
                        self.results.add(r)
                        self._cost_done += cost.get(r.task, 0.0)
                        if writer is not None:
                            writer.write(r)
                        yield r
                except ClusterLost as e:  # no more results will come: the sweep ends here, interrupted
                    self.lost = str(e)
            finished = self.results.done == self.results.total
        finally:
            self._t_end = time.perf_counter()
            self.interrupted = not finished
            if self.executor is not None:
                self.executor.close()
            if writer is not None:
                writer.close(self.summary())

    def run_all(self) -> SweepResults:
        for _ in self.run():
            pass
        return self.results

    # ------------------------------------------------------------------ reading
    def progress(self) -> dict:
        """{'done', 'total', 'failed', 'elapsed', 'eta'} (eta None until a result has come)."""
        now = self._t_end or time.perf_counter()
        elapsed = now - self._t0 if self._t0 is not None else 0.0
        return {"done": self.results.done, "total": self.results.total, "failed": self.results.failed,
                "elapsed": elapsed, "eta": self.eta()}

    def eta(self) -> float | None:
        """Seconds left, from the cost of what remains (steps x layers x width x batch) at the pace so far;
        0 once every run is done, None when the sweep ended without them (nothing more will run)."""
        if self._t_ready is None or self._cost_done <= 0:
            return None
        if self._t_end is not None:
            return 0.0 if self.results.done == self.results.total else None
        pace = (time.perf_counter() - self._t_ready) / self._cost_done
        return max(0.0, (self._cost_todo - self._cost_done) * pace)

    def check(self) -> list[SweepCheck]:
        """The [[sweep.expect]] claims, each judged only if every cell it reads is complete."""
        return check_sweep(self.results)

    def resume_command(self, *flags: str) -> str | None:
        """The command that finishes this sweep where it stopped: `tuisim sweep NAME [its --set,
        --grid, --seeds, --quick, --workers, --scheduler] --out DIR --resume [flags]`, quoted for
        a shell; None when its results are not kept in a folder (no --out)."""
        if self.out_dir is None:
            return None
        p = self.plan
        argv = ["tuisim", "sweep", p.name or str(p.scenario.path or p.scenario.name)]
        argv += [a for o in p.overrides for a in ("--set", o)]
        argv += [a for g in p.grid_settings for a in ("--grid", g)]
        if p.seeds_option is not None:
            argv += ["--seeds", str(p.seeds_option)]
        if p.quick:
            argv.append("--quick")
        if self._workers_option is not None and (self.scheduler is None or self.scheduler == "local"):
            argv += ["--workers", str(self._workers_option)]
        if self.scheduler is not None:
            argv += ["--scheduler", self.scheduler]
        argv += ["--out", str(self.out_dir), "--resume", *flags]
        return shlex.join(argv)

    def timing(self) -> dict:
        ran = [r for r in self.results.results if not r.resumed and r.status == OK]
        wall = (self._t_end or time.perf_counter()) - (self._t0 or 0.0)
        ex = self.executor
        workers = ex.workers if ex is not None else 0
        startup = getattr(ex, "startup", 0.0) if ex is not None else 0.0
        busy = sum(r.time for r in ran)
        train = sum(r.train_time for r in ran)
        n = len(ran)
        run_wall = (self._t_end or time.perf_counter()) - (self._t_ready or self._t0 or 0.0)
        return {
            "wall": wall, "executor": ex.name if ex is not None else None, "workers": workers,
            "startup": startup, "runs": n, "task_time": busy, "train_time": train,
            # in the worker, around the training: data, network, measure
            "task_overhead_mean": (busy - train) / n if n else None,
            # workers' time not spent in a task (dispatch, results, idle at the end), per run
            "idle_per_run": max(0.0, workers * run_wall - busy) / n if n else None,
            # the cores the runs actually got: CPU time / wall time in the workers, summed over runs / wall
            "cores_used": sum(r.cpu for r in ran) / run_wall if n and run_wall > 0 else None,
            "resumed": self.resumed,
        }

    def summary(self) -> dict:
        """sweep.json: the grid, every cell's mean and spread over seeds, failures, timing, checks."""
        g, res = self.grid, self.results
        means, spread, counts, fails, div = res.means(), res.spread(), res.counts(), res.failures(), res.diverged()
        values = res.values()
        cells = []
        for cell in g.cells():
            cells.append({"cell": list(cell), "point": g.point(cell), "variant": g.variant(cell),
                          "mean": float(means[cell]), "spread": float(spread[cell]), "n": int(counts[cell]),
                          "failed": int(fails[cell]), "diverged": int(div[cell]),
                          "values": [float(v) for v in values[cell]]})
        failures = [{"point": g.point(r.cell), "variant": r.variant, "seed": r.seed, "status": r.status,
                     "error": r.error} for r in res.results if r.status != OK]
        checks = [{"text": c.text, "claim": c.expect.claim, "passed": c.passed, "skipped": c.skipped,
                   "missing": c.missing} for c in self.check()]
        sc = self.plan.scenario
        return {
            "scenario": sc.name, "title": sc.title, "quick": self.plan.quick, "overrides": list(self.plan.overrides),
            "measure": self.plan.measure.describe(), "seeds": list(g.seeds),
            "axes": [{"key": a.key, "label": a.label, "values": list(a.values), "labels": list(a.labels)}
                     for a in g.axes],
            "variants": list(g.variants), "interrupted": self.interrupted, "lost": self.lost,
            "progress": self.progress(),
            "timing": self.timing(), "cells": cells, "failures": failures, "checks": checks,
        }
