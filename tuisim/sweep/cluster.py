"""`DaskCluster`: a sweep's tasks on a Dask distributed cluster (the `tuisim[dask]` extra).

`--scheduler ADDRESS` connects to a cluster you already run (`dask scheduler` and
`dask worker ADDRESS --nthreads 1` on each machine, with tuisim installed and
`OPENBLAS_NUM_THREADS=1`); `--scheduler local` starts a `LocalCluster` of `--workers`
single-threaded worker processes on this machine, so the cluster path runs anywhere.
Every task is one `Client.submit` of `tasks.execute`, which returns a small `Result`.
A worker plugin warms every worker up once. A task whose worker dies is rescheduled
by the scheduler (on a LocalCluster once, as the local pool does; a remote cluster
follows its own `distributed.scheduler.allowed-failures`); `retries=` also resubmits
a task that failed outside tuisim's own error handling; a result lost with its worker
before it was fetched is computed again.

A lost scheduler (or a lost connection to it) is not a task's failure: the client
cancels every future it holds, and fetching a result raises. `run` raises
`ClusterLost` then, having yielded every result it fetched before; `SweepRun` ends the
sweep as interrupted, and `--resume` runs the rest on a new cluster.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import uuid
from typing import Iterable, Iterator

from .local import ClusterLost, SweepError
from .tasks import FAILED, LOST, Result, Task, execute

# what a Dask client raises when its scheduler is gone: the connection closed or refused
# (CommClosedError is an OSError), a timeout, or the futures it cancelled
_LOST_REASON = "scheduler-connection-lost"
_CANCELLED = (concurrent.futures.CancelledError, asyncio.CancelledError)
_GONE = (OSError,) + _CANCELLED
# the loggers (each has its own level in Dask's configuration) that report a client's reconnecting
_LOGGERS = ("distributed", "distributed.client", "distributed.core", "distributed.comm", "distributed.utils",
            "distributed.batched")


def _distributed():
    try:
        import distributed
    except ImportError:
        raise SweepError("--scheduler needs Dask distributed: pip install 'tuisim[dask]' "
                         "(or pip install 'dask[distributed]')") from None
    return distributed


class DaskCluster:
    def __init__(self, address: str, workers: int = 2, dtypes=("float64",), retries: int = 1):
        self.address = address
        self.workers = workers
        self.dtypes = tuple(dtypes)
        self.retries = retries
        self.startup = 0.0
        self.cluster = None
        self.client = None
        self.lost: str | None = None  # why the cluster was lost, once it was
        self._batched_level: int | None = None  # distributed.batched's log level before start()
        self.name = (f"a Dask LocalCluster of {workers} worker{'s' if workers != 1 else ''}" if address == "local"
                     else f"the Dask cluster at {address}")

    def start(self, stop: threading.Event | None = None) -> None:
        import time

        distributed = _distributed()
        import dask

        from ._dask_plugin import WarmUp

        t0 = time.perf_counter()
        # the client's batched comm logs "Batched Comm Closed" at INFO with the traceback of
        # the closed connection when a scheduler dies mid-send: the sweep reports the loss
        # itself, in words; warnings and errors still show
        batched = logging.getLogger("distributed.batched")
        self._batched_level = batched.level
        batched.setLevel(max(batched.getEffectiveLevel(), logging.WARNING))
        if self.address == "local":
            # a task whose worker dies runs once more, as in the local pool
            with dask.config.set({"distributed.scheduler.allowed-failures": self.retries}):
                self.cluster = distributed.LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = distributed.Client(self.cluster)
        else:
            try:
                self.client = distributed.Client(self.address, timeout="15s")
            except OSError as e:
                raise SweepError(f"cannot reach the Dask scheduler at {self.address}: {e}") from None
            try:
                self.workers = max(1, sum(self.client.nthreads().values()))
            except _GONE as e:
                raise self._lost(e) from None
            self.name = (f"the Dask cluster at {self.address} ({self.workers} worker "
                         f"thread{'s' if self.workers != 1 else ''})")
        try:
            self.client.register_plugin(WarmUp(self.dtypes))
        except _GONE as e:
            if self.address == "local":
                raise
            raise self._lost(e) from None
        self.startup = time.perf_counter() - t0

    def _connected(self) -> bool:
        return self.client is not None and self.client.status == "running"

    def _lost(self, why) -> ClusterLost:
        """The ClusterLost to raise: `why` is the exception (or the cancelled future) that showed it."""
        if isinstance(why, _CANCELLED) and getattr(why, "reason", None) == _LOST_REASON:
            what = "the connection to its scheduler closed"
        elif isinstance(why, _CANCELLED):
            what = f"the scheduler cancelled the runs ({getattr(why, 'reason', None) or 'no reason given'})"
        elif isinstance(why, ConnectionError) or type(why).__name__ == "CommClosedError":
            # however distributed words it (a closed comm, a reset connection, a broken pipe)
            what = "the connection to its scheduler closed"
        else:
            text = str(why).strip().splitlines()
            what = f"{type(why).__name__}: {text[0] if text else 'no message'}"[:300]
        where = "the Dask LocalCluster" if self.address == "local" else f"the Dask cluster at {self.address}"
        self.lost = f"{where} was lost: {what}"
        return ClusterLost(self.lost)

    def run(self, tasks: Iterable[Task], stop: threading.Event,
            drain: threading.Event | None = None) -> Iterator[Result]:
        distributed = _distributed()
        tag = uuid.uuid4().hex[:8]
        by_key: dict[str, tuple[Task, int]] = {}
        futures = []

        def submit(task: Task, n: int):
            f = self.client.submit(execute, task, key=f"tuisim-sweep-{tag}-{task.id}-{n}", retries=self.retries,
                                   pure=False, priority=-task.id)
            by_key[f.key] = (task, n)
            futures.append(f)
            return f

        try:
            try:
                ac = distributed.as_completed([submit(t, 1) for t in tasks])
            except _GONE as e:
                raise self._lost(e) from None
            for f in ac:
                if stop.is_set() or (drain is not None and drain.is_set()):  # every run was submitted: stop
                    break
                task, n = by_key.pop(f.key)
                if f.status == "cancelled":
                    # this client cancels nothing before it stops reading: the client (on losing its
                    # scheduler) or the scheduler did, and no result will come
                    try:
                        f.result(timeout=1)  # raises the CancelledError that says why
                        why = concurrent.futures.CancelledError()
                    except Exception as e:  # noqa: BLE001
                        why = e
                    raise self._lost(why) from None
                if f.status == "error":
                    exc = f.exception()
                    if isinstance(exc, distributed.KilledWorker):
                        yield task.result(status=LOST, error="its worker died while running it, on every attempt")
                    else:
                        yield task.result(status=FAILED, error=f"{type(exc).__name__}: {exc}")
                    continue
                try:
                    # "lost": its worker died holding the result; the scheduler computes it again
                    value = f.result()
                except distributed.KilledWorker:
                    value = task.result(status=LOST, error="its worker died while running it, on every attempt")
                except _CANCELLED as e:
                    raise self._lost(e) from None
                except Exception as e:  # noqa: BLE001
                    if not self._connected():
                        raise self._lost(e) from None
                    if n <= self.retries:
                        ac.add(submit(task, n + 1))
                        continue
                    value = task.result(status=LOST, error=f"its result could not be fetched: {type(e).__name__}: "
                                                           f"{e}")
                f.release()
                yield value
        finally:
            pending = [f for f in futures if not f.done()]
            if pending and self.lost is None and self._connected():
                try:
                    self.client.cancel(pending)
                except _GONE:
                    pass  # the scheduler went as we left: nothing runs there any more

    def close(self) -> None:
        # once the cluster is lost, the client's own attempts to reconnect end with it (its
        # log says so with a traceback): the sweep reports the loss itself
        quiet = [logging.getLogger(name) for name in _LOGGERS] if self.lost is not None else []
        levels = [q.level for q in quiet]
        for q in quiet:
            q.setLevel(logging.CRITICAL + 1)
        try:
            if self.client is not None:
                try:
                    self.client.close(timeout=5 if self.lost is not None else None)
                except _GONE:
                    pass
            if self.cluster is not None:
                self.cluster.close()
        finally:
            for q, level in zip(quiet, levels):
                q.setLevel(level)
            if self._batched_level is not None:
                logging.getLogger("distributed.batched").setLevel(self._batched_level)
                self._batched_level = None
