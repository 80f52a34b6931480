"""`in_disk_cache`: whether a kernel's first call will load it from Numba's disk cache
or compile it (the app and `tuisim run` say "loading" or "compiling" from it). Checked
on a tiny kernel of its own, in a module written for the test, with its own cache."""

import importlib.util
import os
import sys

import numpy as np

from tuisim.core import engine_cached
from tuisim.core._jit import in_disk_cache

KERNEL = '''
import numba

@numba.njit(cache=True)
def total(x):
    return x.sum() + {bump}
'''


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_a_kernel_is_in_the_cache_once_compiled_for_its_dtype(tmp_path):
    path = tmp_path / "kernel_mod.py"
    path.write_text(KERNEL.format(bump=0))
    mod = _load(path, "kernel_mod")
    assert in_disk_cache(mod.total, "float64") is False  # nothing compiled yet
    mod.total(np.zeros((2, 2)))
    assert in_disk_cache(mod.total, "float64") is True
    assert in_disk_cache(mod.total, "float32") is False  # compiled for float64 only
    # a fresh import (a new process) of the same source finds it
    again = _load(path, "kernel_mod_again")
    assert in_disk_cache(again.total, "float64") is True
    # the data file gone: it would compile again
    for f in os.listdir(tmp_path / "__pycache__"):
        if f.endswith(".nbc"):
            os.remove(tmp_path / "__pycache__" / f)
    assert in_disk_cache(again.total, "float64") is False


def test_an_edited_source_is_not_in_the_cache(tmp_path):
    path = tmp_path / "kernel_edit.py"
    path.write_text(KERNEL.format(bump=0))
    _load(path, "kernel_edit").total(np.zeros((2, 2)))
    path.write_text(KERNEL.format(bump=1) + "\n# edited\n")
    os.utime(path, (1e9, 1e9))  # the stamp Numba compares: mtime and size
    assert in_disk_cache(_load(path, "kernel_edit2").total, "float64") is False


def test_unknown_when_numba_internals_differ():
    assert in_disk_cache(object(), "float64") is None


def test_the_engine_answers_for_its_training_step():
    assert engine_cached("float64") in (True, False)
    assert engine_cached("complex64") is False  # never compiled for it
