"""`SweepSpec` (what to sweep, as `tuisim sweep` reads it) and `SweepDriver`: a sweep run
by the app, in a thread worker.

The driver iterates `SweepRun.run()` (blocking) in the worker; the sweep screen pulls
`driver.results` on a timer, so data never travels in messages. Every sweep writes its
results to sweep.csv as they arrive (to `--out DIR`, else a temporary folder), so a
pause lets the runs in flight finish and stops, and resuming is `resume=True` on the
same folder: the runs already done are read back, never run again. Leaving the screen stops the sweep; its worker
processes end with it.

A Dask cluster lost mid-sweep (its scheduler died, or the connection to it) leaves the
driver "interrupted": `notice` says so in one line, `hint` how to go on (space resumes
on the cluster once it is back; with --out, `tuisim sweep ... --resume` also does later),
and the map keeps every result that came before.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tuisim.sweep import OK, SweepError, SweepPlan, SweepRun, load_sweep
from tuisim.sweep.headless import interruption

from tuisim.i18n import _

from . import messages as m


@dataclass
class SweepSpec:
    """A scenario's [sweep] with the command line's options (see `tuisim sweep --help`)."""

    scenario: str | Path
    overrides: tuple[str, ...] = ()
    grid: tuple[str, ...] = ()
    seeds: int | None = None
    quick: bool = False  # start with the quick grid
    workers: int | None = None  # None: one per core; 0: in this process
    scheduler: str | None = None
    out_dir: str | Path | None = None  # the results of the first grid opened go there
    resume: bool = False
    _plans: dict = field(default_factory=dict, repr=False, compare=False)

    def plan(self, quick: bool | None = None) -> SweepPlan:
        """The plan of the full or the quick grid (loaded once; ScenarioError when it does not load)."""
        q = self.quick if quick is None else quick
        if q not in self._plans:
            self._plans[q] = load_sweep(self.scenario, list(self.overrides), list(self.grid), quick=q,
                                        seeds=self.seeds)
        return self._plans[q]

    @property
    def has_quick(self) -> bool:
        """Whether the file has a [sweep.quick] grid."""
        return bool(self.plan(False).sweep.has_quick)


def start_resource_tracker() -> None:
    """Start multiprocessing's helper process (its resource tracker) with the real stderr.

    The first worker process started starts it, handing it `sys.stderr.fileno()`; inside
    the app sys.stderr is Textual's capture, whose fileno() is -1, and starting a worker
    fails with "bad value(s) in fds_to_keep". Call this from the UI thread."""
    from multiprocessing import resource_tracker

    saved = sys.stderr
    try:
        if sys.__stderr__ is not None:
            sys.stderr = sys.__stderr__
        resource_tracker.ensure_running()
    finally:
        sys.stderr = saved


class SweepDriver:
    """One grid (the full or the quick one) of a sweep, run, paused and resumed."""

    def __init__(self, plan: SweepPlan, *, workers: int | None = None, scheduler: str | None = None,
                 out_dir: str | Path | None = None, resume: bool = False) -> None:
        self.plan = plan
        self.grid = plan.grid
        self.workers, self.scheduler = workers, scheduler
        self.own_dir = out_dir is None
        self.out_dir = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="tuisim-sweep-"))
        self._resume = resume
        self.sweep = self._new_run()
        if self.sweep.workers != 0 or scheduler is not None:
            start_resource_tracker()
        self._previous: SweepRun | None = None
        self.state = "ready"  # ready, starting, running, pausing, paused, interrupted, finished, closed
        self.lost: str | None = None  # why the cluster was lost (state "interrupted")
        self.checks: list | None = None
        self.elapsed_before = 0.0
        self._lock = threading.Lock()
        self._running = False
        self._closed = False
        self._ran = False

    def _new_run(self) -> SweepRun:
        return SweepRun(self.plan, workers=self.workers, scheduler=self.scheduler, out_dir=self.out_dir,
                        resume=self._resume)

    # ---------------------------------------------------------------- UI side
    @property
    def results(self):
        """The results so far (while a resumed run reads its file back, the previous run's)."""
        now, before = self.sweep.results, self._previous.results if self._previous is not None else None
        return before if before is not None and before.done > now.done else now

    def progress(self) -> dict:
        """{done, total, failed, elapsed, eta} over every stretch this grid ran."""
        p = self.sweep.progress()
        res = self.results
        elapsed = self.elapsed_before + (p["elapsed"] if self._ran else 0.0)
        eta = p["eta"] if self.state == "running" else None
        return {"done": res.done, "total": res.total, "failed": res.failed, "elapsed": elapsed, "eta": eta}

    @property
    def executor_name(self) -> str:
        ex = self.sweep.executor
        if ex is not None:
            return ex.name
        if self.scheduler is not None:
            return f"Dask {self.scheduler}"
        n = self.sweep.workers
        if n == 0:
            return _("this process")
        return (_("{n} local workers") if n != 1 else _("{n} local worker")).format(n=n)

    @property
    def active(self) -> bool:
        return self.state in ("starting", "running", "pausing")

    @property
    def notice(self) -> str:
        """One line for an interrupted sweep: 'interrupted: 9 of 27 runs; the cluster was lost · space resumes'."""
        if self.state != "interrupted":
            return ""
        res = self.results
        return _("interrupted: {done} of {total} runs; the cluster was lost · space resumes").format(
            done=res.done, total=res.total)

    @property
    def hint(self) -> str:
        """Why the sweep stopped and how to finish it (the screen's notification)."""
        if self.state != "interrupted":
            return ""
        text = f"{interruption(self.sweep) or _('interrupted')}.\n" + _(
            "Space resumes on the cluster once it is back (the runs done are kept).")
        command = None if self.own_dir else self.sweep.resume_command()
        if command is not None:
            text += " " + _("Later, or from a shell:") + f"\n{command}"
        return text

    def pause(self) -> None:
        """Start no more runs; pause once the runs in flight are done and recorded."""
        if self.active:
            self.state = "pausing"
            self.sweep.pause()

    def close(self) -> None:
        """Stop for good: the worker processes end, a temporary folder is removed."""
        with self._lock:
            self._closed = True
            self.sweep.stop()
            if not self._running:
                self._cleanup()

    def _cleanup(self) -> None:
        self.state = "closed"
        if self.own_dir:
            shutil.rmtree(self.out_dir, ignore_errors=True)

    # ---------------------------------------------------------------- worker side
    def run(self, emit: Callable[[m.DriverMessage], None], cancelled: threading.Event | None = None) -> None:
        """The worker's body: run (or resume) until done, paused or closed."""
        with self._lock:
            if self._closed or self.state == "finished":
                return
            if self._ran:  # resume from the file
                self.elapsed_before += self.sweep.progress()["elapsed"]
                self._previous = self.sweep
                self._resume = True
                self.sweep = self._new_run()
            self._ran = True
            self._running = True
            self.state = "starting"
        sweep = self.sweep
        failed = 0
        it = sweep.run()
        try:
            for r in self._results(it, sweep):
                if not r.resumed and self.state == "starting":
                    self.state = "running"
                if r.status != OK and not r.resumed:
                    failed += 1
                    if failed == 1:
                        emit(m.SweepRunFailed(self, text=_("{cell}, seed {seed}: {status}: {error}").format(
                            cell=self.grid.describe(r.cell), seed=r.seed, status=r.status, error=r.error)))
                if cancelled is not None and cancelled.is_set():
                    sweep.stop()
        except BaseException:
            self.state = "failed"  # the worker's error handler shows why
            raise
        finally:
            it.close()
            with self._lock:
                self._running = False
                if self._closed:
                    self._cleanup()
        if self._closed:
            return
        self.lost = sweep.lost
        if sweep.lost is not None:  # the cluster is gone: resume (space) when it is back
            self.state = "interrupted"
            emit(m.SweepPaused(self))
        elif sweep.results.done == sweep.results.total:
            self.state = "finished"
            self.checks = sweep.check()
            if self.own_dir:  # nothing left to resume: the temporary sweep.csv goes now
                shutil.rmtree(self.out_dir, ignore_errors=True)
            emit(m.SweepFinished(self, checks=self.checks))
        else:
            self.state = "paused"
            emit(m.SweepPaused(self))

    def _results(self, it, sweep: SweepRun):
        """The results of `it`; a resume that cannot reach the lost cluster yet is the same loss, not a
        failure: the driver stays interrupted, and space tries again."""
        try:
            yield from it
        except SweepError as e:
            if self.lost is None or self.scheduler in (None, "local") or sweep.executor is None:
                raise
            sweep.lost = str(e)
