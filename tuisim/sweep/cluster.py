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
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Iterable, Iterator

from .local import SweepError
from .tasks import FAILED, LOST, Result, Task, execute


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
        self.name = (f"a Dask LocalCluster of {workers} worker{'s' if workers != 1 else ''}" if address == "local"
                     else f"the Dask cluster at {address}")

    def start(self, stop: threading.Event | None = None) -> None:
        import time

        distributed = _distributed()
        import dask

        from ._dask_plugin import WarmUp

        t0 = time.perf_counter()
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
            self.workers = max(1, sum(self.client.nthreads().values()))
            self.name = f"the Dask cluster at {self.address} ({self.workers} worker threads)"
        self.client.register_plugin(WarmUp(self.dtypes))
        self.startup = time.perf_counter() - t0

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

        ac = distributed.as_completed([submit(t, 1) for t in tasks])
        try:
            for f in ac:
                if stop.is_set() or (drain is not None and drain.is_set()):  # every run was submitted: stop
                    break
                task, n = by_key.pop(f.key)
                if f.status == "cancelled":
                    continue
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
                except Exception as e:  # noqa: BLE001
                    if n <= self.retries:
                        ac.add(submit(task, n + 1))
                        continue
                    value = task.result(status=LOST, error=f"its result could not be fetched: {type(e).__name__}: "
                                                           f"{e}")
                f.release()
                yield value
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                self.client.cancel(pending)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
