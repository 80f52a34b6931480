"""The Dask path on a LocalCluster (`--scheduler local`): the same values as sequential
runs; a task that raises is failed; a task whose worker dies is retried once.
Skipped when Dask distributed is not installed (the `test` extra installs it)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("distributed")

from sweep_support import TINY, CrashOnce, Raises, like, sequential  # noqa: E402

from tuisim.cli import main  # noqa: E402
from tuisim.sweep import FAILED, OK, SweepRun, load_sweep  # noqa: E402


def test_dask_local_cluster_equals_sequential_runs_and_survives_faults(tmp_path):
    plan = load_sweep(TINY)
    reference = {t.key: sequential(plan, t) for t in plan.tasks}
    plan.tasks[0] = like(plan.tasks[0], Raises)
    plan.tasks[5] = like(plan.tasks[5], CrashOnce, marker=str(tmp_path / "crashed"))
    sweep = SweepRun(plan, workers=2, scheduler="local")
    by_task = {r.task: r for r in sweep.run()}
    assert len(by_task) == 24
    assert by_task[0].status == FAILED and "broken on purpose" in by_task[0].error
    assert (tmp_path / "crashed").exists() and by_task[5].status == OK  # its worker died; it ran again
    for t, r in by_task.items():
        if t != 0:
            assert r.status == OK and r.value == reference[r.key], r
    assert sweep.executor.name == "a Dask LocalCluster of 2 workers"


def test_cli_scheduler_local(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["sweep", str(TINY), "--quick", "--scheduler", "local", "--workers", "1", "--out", str(out)]) == 0
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["timing"]["executor"] == "a Dask LocalCluster of 1 worker"
    assert all(c["n"] == 1 for c in summary["cells"])
    assert "Tiny sweep (quick grid)" in capsys.readouterr().out


def test_an_existing_cluster_by_its_address():
    """--scheduler ADDRESS: connect to a cluster someone already runs (here a LocalCluster)."""
    import distributed

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        plan = load_sweep(TINY, quick=True)
        sweep = SweepRun(plan, scheduler=cluster.scheduler_address)
        results = list(sweep.run())
        assert len(results) == len(plan.tasks) and all(r.status == OK for r in results)
        assert sweep.executor.name.startswith(f"the Dask cluster at {cluster.scheduler_address} (1 worker thread")
        reference = {t.key: sequential(plan, t) for t in plan.tasks}
        assert all(r.value == reference[r.key] for r in results)
