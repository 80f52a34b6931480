"""tuisim: watch deep MLPs train, live, in a terminal.

    import tuisim
    net = tuisim.Network(n_in=2, n_out=3, depth=20, width=64, activation="tanh")
    opt = tuisim.Optimizer(net, "adam", lr=1e-3)
    loss = opt.step(X, y)
"""

from __future__ import annotations

import os

# One BLAS thread by default: on a 2-core machine with a UI thread running, two BLAS
# threads collapse (a 128^3 matmul fell from 38 to 0.3 GFLOP/s). Set these variables
# yourself before importing tuisim to use more.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
__all__ = ["Network", "Optimizer", "StepStats", "__version__"]


def __getattr__(name: str):
    # Lazy, so that `tuisim --help` does not pay for importing numba.
    if name in ("Network", "Optimizer", "StepStats"):
        from tuisim import core

        return getattr(core, name)
    raise AttributeError(f"module 'tuisim' has no attribute {name!r}")
