"""Executors that run a sweep's tasks on this machine: `LocalPool` (worker processes, the
default) and `InProcess` (one after another in the calling thread: `--workers 0`).

`LocalPool` starts its workers with `spawn` (safe beside the app's threads, and the
same on every OS); each loads the compiled engine once (`warm_up`) and then runs task
after task. The pool knows which task each worker holds, so a worker that dies costs
only that task: it is given to another worker once more (then reported "lost") and
the dead worker is replaced. A task that raises comes back as a failed result.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Iterable, Iterator

from .tasks import FAILED, LOST, Result, Task, execute, warm_up


class SweepError(ValueError):
    """A sweep that cannot run (its output folder, its workers, its cluster). The CLI prints it, exit 2."""


class ClusterLost(Exception):
    """The executor lost its cluster mid-sweep (the Dask scheduler died, or the client's
    connection to it closed): no more results will come. `SweepRun` ends the sweep as
    interrupted, keeping every result it has, and records why (`SweepRun.lost`)."""


class InProcess:
    """Every task in the calling thread, one after another."""

    name = "this process"

    def __init__(self, dtypes=("float64",)):
        self.workers = 1
        self.dtypes = dtypes
        self.startup = 0.0

    def start(self, stop: threading.Event | None = None) -> None:
        self.startup = warm_up(self.dtypes)  # in this thread: a first compile cannot be cut short

    def run(self, tasks: Iterable[Task], stop: threading.Event,
            drain: threading.Event | None = None) -> Iterator[Result]:
        for task in tasks:  # one at a time: a pause lands between two runs
            if stop.is_set() or (drain is not None and drain.is_set()):
                return
            yield execute(task)

    def close(self) -> None:
        pass


def _worker_main(conn, dtypes) -> None:
    """A worker process: warm up, say so, then run every task it is sent until None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        seconds = warm_up(dtypes)
    except BaseException as e:  # noqa: BLE001
        conn.send(("error", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ready", seconds))
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            task = pickle.loads(data)
        except Exception as e:  # noqa: BLE001
            conn.send(("unreadable", f"{type(e).__name__}: {e}"))
            continue
        if task is None:
            return
        conn.send(("result", execute(task)))


@dataclass
class _Worker:
    process: mp.Process
    conn: object
    started: float
    ready: bool = False
    task: Task | None = None


class LocalPool:
    """`workers` processes on this machine; a lost task is retried `retries` times."""

    def __init__(self, workers: int, dtypes=("float64",), retries: int = 1):
        if workers < 1:
            raise SweepError(f"--workers must be >= 1 for worker processes, not {workers}")
        self.workers = workers
        self.name = f"{workers} local worker{'s' if workers != 1 else ''}"
        self.dtypes = tuple(dtypes)
        self.retries = retries
        self.startup = 0.0  # seconds until every worker was ready
        self.warm_times: list[float] = []  # each worker's warm-up
        self.replaced = 0  # workers started again after one died
        self._ctx = mp.get_context("spawn")
        self._pool: list[_Worker] = []
        self._t0 = 0.0
        self._failed_starts = 0

    # ------------------------------------------------------------------ workers
    def start(self, stop: threading.Event | None = None) -> None:
        """Start the workers and wait until each has loaded the engine (or `stop` is set:
        a first compile takes about 40 s, and leaving the sweep must not wait for it)."""
        self._t0 = time.perf_counter()
        for _ in range(self.workers):
            self._spawn()
        while not all(w.ready for w in self._pool):
            if stop is not None and stop.is_set():
                return
            ready = wait([w.conn for w in self._pool] + [w.process.sentinel for w in self._pool], timeout=0.5)
            for w in list(self._pool):
                if w.conn in ready and not w.ready:
                    try:
                        self._message(w, w.conn.recv())
                    except (EOFError, OSError):
                        pass
                if not w.ready and not w.process.is_alive():
                    self._died(w, deque())
                    self._spawn()
        self.startup = time.perf_counter() - self._t0

    def _spawn(self) -> None:
        parent, child = self._ctx.Pipe()
        p = self._ctx.Process(target=_worker_main, args=(child, self.dtypes), daemon=True, name="tuisim-sweep-worker")
        p.start()
        child.close()
        self._pool.append(_Worker(p, parent, time.perf_counter()))

    def _retire(self, w: _Worker) -> None:
        self._pool.remove(w)
        try:
            w.conn.close()
        except OSError:
            pass
        w.process.join(timeout=0.1)

    def close(self) -> None:
        for w in list(self._pool):
            try:
                w.conn.send_bytes(pickle.dumps(None))
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 2.0
        for w in list(self._pool):
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.terminate()
                w.process.join(timeout=1.0)
            self._retire(w)

    # ------------------------------------------------------------------ running
    def run(self, tasks: Iterable[Task], stop: threading.Event,
            drain: threading.Event | None = None) -> Iterator[Result]:
        """Every task's result as it arrives. `stop`: return now; `drain`: send no more
        tasks, and return once the workers' tasks in flight are done."""
        queue = deque(tasks)
        pending = len(queue)
        draining = drain.is_set if drain is not None else (lambda: False)

        def feed(w: _Worker) -> None:
            if w.ready and w.task is None and queue and not stop.is_set() and not draining():
                w.task = queue.popleft()
                w.conn.send_bytes(pickle.dumps(w.task))

        while pending and not stop.is_set():
            if draining() and not any(w.task is not None for w in self._pool):
                return
            for w in self._pool:
                feed(w)
            out: list[Result] = []
            ready = wait([w.conn for w in self._pool] + [w.process.sentinel for w in self._pool], timeout=0.2)
            for w in list(self._pool):
                if w.conn in ready:
                    try:
                        msg = w.conn.recv()
                    except (EOFError, OSError):
                        msg = None
                    if msg is not None:
                        r = self._message(w, msg)
                        feed(w)  # its next task before the result is handed on: the worker never waits for us
                        if r is not None:
                            out.append(r)
                            pending -= 1
                        continue
                if w.process.sentinel in ready or not w.process.is_alive():
                    r = self._died(w, queue)
                    if r is not None:
                        out.append(r)
                        pending -= 1
                    if queue or any(x.task is not None for x in self._pool):
                        self._spawn()
                        self.replaced += 1
            yield from out

    def _message(self, w: _Worker, msg) -> Result | None:
        kind, payload = msg
        if kind == "ready":
            w.ready = True
            self.warm_times.append(payload)
            self._failed_starts = 0
            return None
        if kind == "error":
            raise SweepError(f"a worker process could not load the engine: {payload}")
        task, w.task = w.task, None
        if kind == "unreadable":
            return task.result(status=FAILED, error=f"the worker could not read the task: {payload}")
        return payload

    def _died(self, w: _Worker, queue: deque) -> Result | None:
        """A worker exited: give its task to another worker (once), else report it lost."""
        task = w.task
        code = w.process.exitcode
        self._retire(w)
        if not w.ready:
            self._failed_starts += 1
            if self._failed_starts >= 3:
                raise SweepError(f"worker processes exit while starting (exit code {code}); see the messages above")
        if task is None:
            return None
        if task.attempts <= self.retries:
            task.attempts += 1
            queue.appendleft(task)
            return None
        return task.result(status=LOST, error=f"its worker process died {task.attempts} times (last exit code "
                                              f"{code})")
