"""The training engine: numpy + numba only (never textual, rich or plotext).

`Network`, `Optimizer`, `StepStats` and `StepTrace` are imported lazily, so that the light modules
(registry, params, schedule) can be used without compiling or importing numba.
"""

from __future__ import annotations

__all__ = ["Network", "Optimizer", "StepStats", "StepTrace", "warm_up"]


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


def warm_up(dtype: str = "float64") -> float:
    """Compile (the very first time: about 30 s) or load from the disk cache (about 1 s)
    the training step for `dtype`; returns the seconds it took. Later steps start at
    full speed."""
    import time

    import numpy as np

    from .network import Network
    from .optimizer import Optimizer

    t0 = time.perf_counter()
    net = Network(n_in=2, n_out=2, depth=1, width=2, dtype=dtype)
    Optimizer(net, "sgd").step(np.zeros((2, 2)), np.zeros(2, dtype=np.int64))
    return time.perf_counter() - t0
