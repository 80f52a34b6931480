"""The first compile's helper process (tuisim.core.warm): it must compile exactly the
callees the training step compiles, with the same argument types, or its work is lost
(the step compiles them again) or wasted (it compiles what the step never uses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tuisim.core import warm

_MAIN = """
import json
import numpy as np
import tuisim
from tuisim.core import warm
net = tuisim.Network(n_in=6, n_out=3, depth=3, width=5, seed=0, dtype={dtype!r})
tuisim.Optimizer(net, "adam").step(np.zeros((4, 6)), np.zeros(4, dtype=np.int64))
from numba.core.registry import CPUDispatcher
from tuisim.core import activations, losses, norms, step, update
listed = warm.signatures({dtype!r})
# every kernel this process compiled or loaded, but the step itself: with the helper's
# cache, the callees are loaded, and their own callees never needed
seen = [(d, tuple(s)) for m in (step, activations, norms, losses, update) for d in vars(m).values()
        if isinstance(d, CPUDispatcher) and d is not step.train_steps for s in d.signatures]
report = {{"callees": [[d.__name__, d._cache_hits.get(s, 0), d._cache_misses.get(s, 0)] for d, s in listed],
          "unlisted": sorted({{f"{{d.__name__}}{{s}}" for d, s in seen if (d, s) not in listed}})}}
print(json.dumps(report))
"""


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_helper_compiles_what_the_step_loads(tmp_path, dtype):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), TUISIM_COMPILE_HELPER="0")
    helper = subprocess.run([sys.executable, "-m", "tuisim.core.warm", dtype], env=env, capture_output=True,
                            text=True, timeout=900)
    assert helper.returncode == 0, helper.stderr[-2000:]
    main = subprocess.run([sys.executable, "-c", _MAIN.format(dtype=dtype)], env=env, capture_output=True, text=True,
                          timeout=900)
    assert main.returncode == 0, main.stderr[-2000:]
    report = json.loads(main.stdout.strip().splitlines()[-1])
    compiled_by_step = [name for name, hits, misses in report["callees"] if misses]
    unused = [name for name, hits, misses in report["callees"] if not hits and not misses]
    assert not compiled_by_step, f"the step compiled these itself: the helper's argument types differ: {compiled_by_step}"
    assert not unused, f"the helper compiles these, the step never asks for them: {unused}"
    assert not report["unlisted"], f"the step compiles callees the helper does not know: {report['unlisted']}"


def test_no_helper_when_the_step_is_cached_or_turned_off(monkeypatch):
    from tuisim.core import warm_up

    warm_up("float64")  # compiled or loaded in this process
    monkeypatch.setattr(warm, "_started", {})
    assert warm.start_helper("float64") is None  # already compiled here
    monkeypatch.setattr(warm, "_started", {})
    monkeypatch.setenv(warm.HELPER_ENV, "0")
    assert warm.start_helper("float32") is None
    assert warm._started == {"float32": None}  # asked once per process and dtype


def test_argument_codes():
    from numba import types

    sig = warm._types("D2 F1 I2 U1 i f b d L0 LT LF", "float32")
    assert sig == (types.Array(types.float32, 2, "C"), types.Array(types.float64, 1, "C"),
                   types.Array(types.int64, 2, "C"), types.Array(types.uint64, 1, "C"), types.int64, types.float64,
                   types.boolean, types.float32, types.IntegerLiteral(0), types.BooleanLiteral(True),
                   types.BooleanLiteral(False))


def test_the_helper_stops_when_its_parent_is_gone(monkeypatch):
    # an app closed during its first compile: the helper's parent is no longer the one
    # that started it, and it compiles nothing more
    compiled = []

    class Kernel:
        overloads: dict = {}

        def __init__(self, name):
            self.name = name

        def compile(self, sig):
            compiled.append(self.name)

    monkeypatch.setattr(warm, "signatures", lambda dtype: [(Kernel("a"), ()), (Kernel("b"), ())])
    warm.compile_callees("float64", parent=os.getppid() + 1)
    assert compiled == []
    warm.compile_callees("float64", parent=os.getppid())
    assert compiled == ["b", "a"]  # last met first
