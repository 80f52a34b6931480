"""The first compile on two cores.

With an empty Numba cache the training step takes about 15 s to compile: half of it
the step's callees (the activation, normalisation, loss, backward and optimizer
kernels), compiled one after the other as the step's type inference meets them, half
the step itself. When the cache has no step for a dtype, `start_helper` starts a second
process (this module's `compile_callees`) that compiles the callees into the disk
cache in the opposite order, last met first. The two meet in the middle: from there the
step's compile finds each callee in the cache and loads it. The helper is stopped as
soon as the step is compiled.

`CALLEES` lists each callee with the argument types the step calls it with;
tests/core/test_warm.py checks, with an empty cache, that the step then compiles no
callee itself and that the helper compiles nothing the step does not use.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

# argument codes: D<n> an n-d array of the network's dtype, F<n> of float64, I<n> of
# int64, U1 of uint64; i int64, f float64, b bool, d a scalar of the network's dtype;
# L0 the literal 0, LT / LF the literal True / False
CALLEES: list[tuple[str, str, str]] = [  # (module, function, arguments), in the step's order
    ("update", "nadam_mu", "i f f"),
    ("step", "_copy1", "D1 D1"),
    ("step", "_copy2", "D2 D2"),
    ("step", "_linear_forward", "D2 D2 D2 D1"),
    ("step", "_add_bias", "D2 D1 i"),
    ("norms", "norm_forward", "i b D2 D2 D2 D1 D1 D1 D1 F2 D2 f"),
    ("activations", "act_forward", "i D2 D2 D2 i f f"),
    ("activations", "act_health", "i D2 D2 f f F1"),
    ("step", "_histogram", "D2 f f F1 LF"),
    ("step", "_next_uniform", "U1"),
    ("step", "_block_combine_forward", "i I2 D1 D1 i i D2 D1"),
    ("update", "sumsq", "D1"),
    ("losses", "loss_and_delta", "i D2 I1 D2 D2 b"),
    ("step", "_linear_backward", "i I2 D1 D1 D1 i D2 F2 F3 i D1 i"),
    ("step", "_block_combine_backward", "i I2 I2 D1 D1 D1 i i D2 D2"),
    ("norms", "norm_backward", "i b D2 D2 D1 D1 D1 F2 D2 D2"),
    ("activations", "act_backward", "i D2 D2 D2 D2 D2 i f f"),
    ("update", "clip_gradient", "D1 F1"),
    ("update", "update_segment", "i D1 D1 D2 L0 i F1 i f"),
]

HELPER_ENV = "TUISIM_COMPILE_HELPER"  # "0" turns the helper off


def _types(args: str, dtype: str) -> tuple:
    import numpy as np
    from numba import from_dtype, types

    d = from_dtype(np.dtype(dtype))
    scalars = {"i": types.int64, "f": types.float64, "b": types.boolean, "d": d,
               "L0": types.IntegerLiteral(0), "LT": types.BooleanLiteral(True), "LF": types.BooleanLiteral(False)}
    elements = {"D": d, "F": types.float64, "I": types.int64, "U": types.uint64}
    out = []
    for a in args.split():
        if a in scalars:
            out.append(scalars[a])
        else:
            out.append(types.Array(elements[a[0]], int(a[1:]), "C"))
    return tuple(out)


def dispatcher(module: str, name: str):
    import importlib

    return getattr(importlib.import_module(f"tuisim.core.{module}"), name)


def signatures(dtype: str) -> list[tuple[object, tuple]]:
    """(dispatcher, argument types) of every callee of the step, in the step's order."""
    return [(dispatcher(m, n), _types(a, dtype)) for m, n, a in CALLEES]


def compile_callees(dtype: str, parent: int | None = None) -> None:
    """Compile every callee of the step for `dtype` into the disk cache (loading those
    already there), last met first. With `parent` (a process id), stop as soon as that
    process is gone: an app closed during its first compile leaves no helper behind."""
    for disp, sig in reversed(signatures(dtype)):
        if parent is not None and os.getppid() != parent:
            return
        if sig not in disp.overloads:
            disp.compile(sig)


_lock = threading.Lock()
_started: dict[str, subprocess.Popen | None] = {}


def start_helper(dtype: str) -> subprocess.Popen | None:
    """Start the helper for `dtype` once per process, when the step for it is neither
    compiled here nor in the disk cache and a second core is there to run it. Returns
    the process, or None."""
    if dtype in _started:  # every step asks: the answer is known after the first
        return None
    with _lock:
        if dtype in _started:
            return None
        _started[dtype] = None
        from tuisim.run.cores import available_cores  # the os module only

        if os.environ.get(HELPER_ENV, "1") == "0" or available_cores() < 2:
            return None
        from ._jit import in_disk_cache
        from .step import train_steps

        if any(str(getattr(sig[0], "dtype", "")) == dtype for sig in train_steps.signatures):
            return None
        if in_disk_cache(train_steps, dtype) is not False:  # cached, or cannot tell
            return None
        # this very tuisim first on the path, whatever the working directory holds
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        code = f"import sys; sys.path.insert(0, {root!r}); from tuisim.core.warm import compile_callees; " \
               f"compile_callees({dtype!r}, parent={os.getpid()})"
        try:
            proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            return None
        _started[dtype] = proc
        return proc


def stop_helper(dtype: str) -> None:
    """Stop the helper for `dtype` if it still runs (the step is compiled: what is left
    of its work is not needed). Numba writes a cache entry whole or not at all."""
    with _lock:
        proc = _started.get(dtype)
        _started[dtype] = None
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    compile_callees(sys.argv[1] if len(sys.argv) > 1 else "float64")
