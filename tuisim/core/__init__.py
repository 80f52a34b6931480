"""The training engine: numpy + numba only (never textual, rich or plotext).

`Network`, `Optimizer` and `StepStats` are imported lazily, so that the light modules
(registry, params, schedule) can be used without compiling or importing numba.
"""

from __future__ import annotations

__all__ = ["Network", "Optimizer", "StepStats"]


def __getattr__(name: str):
    if name == "Network":
        from .network import Network

        return Network
    if name == "Optimizer":
        from .optimizer import Optimizer

        return Optimizer
    if name == "StepStats":
        from .stats import StepStats

        return StepStats
    raise AttributeError(f"module 'tuisim.core' has no attribute {name!r}")
