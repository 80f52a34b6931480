"""The Dask worker plugin that loads tuisim's compiled engine once per worker process
(imported only when Dask is used: this module needs `distributed`)."""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin


class WarmUp(WorkerPlugin):
    """Runs `tuisim.sweep.tasks.warm_up` when a worker starts (and on every worker that
    joins or restarts later), so that no task pays for loading the engine."""

    name = "tuisim-warm-up"
    idempotent = True

    def __init__(self, dtypes=("float64",)):
        self.dtypes = tuple(dtypes)

    def setup(self, worker) -> None:
        from tuisim.sweep.tasks import warm_up

        warm_up(self.dtypes)
