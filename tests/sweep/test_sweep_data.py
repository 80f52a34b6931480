"""The data of a csv (or npz) sweep travels with its tasks: the client loads the file
once per seed, and worker processes never open it, so a sweep runs on workers that
cannot see the file, with exactly the values of `tuisim run` on each point."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from sweep_support import TINY, sequential

from tuisim.data import Dataset
from tuisim.sweep import OK, SweepRun, load_sweep

DATA = Path(__file__).parent / "data"


@pytest.fixture
def csv_sweep(tmp_path) -> Path:
    for name in ("csv_sweep.toml", "xor.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path / "csv_sweep.toml"


def test_the_tasks_carry_the_data_loaded_once_per_seed(csv_sweep):
    plan = load_sweep(csv_sweep, ["steps=50"], seeds=2)
    by_seed = {}
    for t in plan.tasks:
        assert isinstance(t.dataset, Dataset)
        assert by_seed.setdefault(t.seed, t.dataset) is t.dataset  # one copy per seed, shared
    a, b = by_seed.values()
    assert a.description == "csv xor.csv: 2 inputs, 2 classes, 160 train / 40 test examples"
    assert not np.array_equal(a.X_train, b.X_train)  # each seed its own split, as `tuisim run --seed` makes it
    assert len(pickle.dumps(plan.tasks[0])) < 40_000  # small enough to send with every task
    # generated data is made by the worker from the seed: nothing to carry
    assert all(t.dataset is None for t in load_sweep(TINY, quick=True).tasks)


@pytest.mark.parametrize("workers", [2, 0], ids=["2 worker processes", "this process"])
def test_a_csv_sweep_runs_where_the_file_is_gone(csv_sweep, workers):
    plan = load_sweep(csv_sweep, ["steps=200"], ["model.width=8,16"])
    reference = {t.key: sequential(plan, t) for t in plan.tasks}  # each point as `tuisim run` runs it
    (csv_sweep.parent / "xor.csv").unlink()  # after the client loaded it, before any run
    results = list(SweepRun(plan, workers=workers).run())
    assert len(results) == 18
    assert all(r.status == OK for r in results), [r.error for r in results if r.status != OK]
    assert all(r.value == reference[r.key] for r in results)
