"""The training engine: numpy + numba only (never textual, rich or plotext).

`Network`, `Optimizer`, `StepStats` and `StepTrace` are imported lazily, so that the light modules
(registry, params, schedule) can be used without compiling or importing numba.
"""

from __future__ import annotations

__all__ = ["Network", "Optimizer", "StepStats", "StepTrace", "engine_cached", "engine_text", "warm_up"]


def __getattr__(name: str):
    if name == "Network":
        from .network import Network

        return Network
    if name == "Optimizer":
        from .optimizer import Optimizer

        return Optimizer
    if name in ("StepStats", "StepTrace"):
        from . import stats

        return getattr(stats, name)
    raise AttributeError(f"module 'tuisim.core' has no attribute {name!r}")


def engine_cached(dtype: str = "float64") -> bool | None:
    """Whether the training step for `dtype` is compiled in Numba's disk cache (fresh for
    this source, Numba and machine): then `warm_up` loads it in under a second, else it
    compiles it: about 9 s on two cores (see `warm`), 13 s on one. None when that
    cannot be told."""
    from ._jit import in_disk_cache
    from .step import train_steps

    return in_disk_cache(train_steps, dtype)


def engine_text(cached: bool | None, surface: bool = False) -> str:
    """What the first step does, from `engine_cached` (or, for points on a surface,
    `surface.surface_cached`): the app's status line and `tuisim run` say it while it runs."""
    from tuisim.i18n import _

    what, secs = (_("the path step"), 2) if surface else (_("the engine"), 15)
    if cached is False:
        return _("compiling {what} (first run only: about {secs} s)").format(what=what, secs=secs)
    if cached:
        return _("loading {what}").format(what=what)
    return _("loading {what} (compiling it, the first time: about {secs} s)").format(what=what, secs=secs)


def warm_up(dtype: str = "float64") -> float:
    """Compile (the very first time: about 10 s) or load from the disk cache (under a
    second) the training step for `dtype`; returns the seconds it took. Later steps
    start at full speed."""
    import time

    import numpy as np

    from .network import Network
    from .optimizer import Optimizer

    t0 = time.perf_counter()
    net = Network(n_in=2, n_out=2, depth=1, width=2, dtype=dtype)
    Optimizer(net, "sgd").step(np.zeros((2, 2)), np.zeros(2, dtype=np.int64))
    return time.perf_counter() - t0
