"""Sweeps on this machine: worker processes and this process give exactly the values of
the same runs done one after another with `tuisim run`'s loop; a task that raises is
reported failed and the sweep completes; a worker that dies costs only its task, which
is retried once; --resume skips the runs already in sweep.csv."""

from __future__ import annotations

import math
import pickle

import pytest
from sweep_support import TINY, CrashAlways, CrashOnce, Raises, like, sequential

from tuisim.sweep import FAILED, LOST, OK, SweepRun, load_sweep
from tuisim.sweep.local import LocalPool
from tuisim.sweep.store import read_sweep_csv


@pytest.fixture(scope="module")
def reference():
    plan = load_sweep(TINY)
    return {t.key: sequential(plan, t) for t in plan.tasks}


def handed_out(monkeypatch) -> list[int]:
    """The ids of the tasks every LocalPool sends to its workers, in order, recorded as each is sent
    (so a test knows exactly which runs a pause finds in flight, whatever the timing)."""
    sent: list[int] = []
    spawn = LocalPool._spawn

    def recording_spawn(self):
        spawn(self)
        conn = self._pool[-1].conn
        send_bytes = conn.send_bytes

        def send(data, *args, **kwargs):
            task = pickle.loads(data)
            if task is not None:
                sent.append(task.id)
            return send_bytes(data, *args, **kwargs)

        conn.send_bytes = send

    monkeypatch.setattr(LocalPool, "_spawn", recording_spawn)
    return sent


def test_the_plan_has_one_task_per_cell_and_seed():
    plan = load_sweep(TINY)
    g = plan.grid
    assert [a.key for a in g.axes] == ["model.depth", "train.lr", "variant"]
    assert g.shape == (2, 3, 2) and g.seeds == (5, 6)
    assert g.axes[1].values == (0.001, 0.01, 0.1)
    assert len(plan.tasks) == 24 and len({t.key for t in plan.tasks}) == 24
    assert [t.seed for t in plan.tasks[:12]] == [5] * 12  # seed-major: the whole map first at one seed
    assert g.overrides((1, 2, 0)) == ["model.depth=3", "train.lr=0.1"] and g.variant((1, 2, 0)) == "tanh"
    t = plan.tasks[0]
    assert [v.label for v in t.scenario.variants] == ["tanh"] and t.scenario.expects == []


@pytest.mark.parametrize("workers", [2, 0], ids=["2 worker processes", "this process"])
def test_local_sweep_equals_sequential_runs(workers, reference):
    sweep = SweepRun(load_sweep(TINY), workers=workers)
    results = list(sweep.run())
    assert len(results) == 24 and all(r.status == OK for r in results)
    for r in results:
        assert r.value == reference[r.key], r  # bit for bit
    if workers:
        assert len({r.worker for r in results}) == 2
        assert sweep.executor.startup > 0 and len(sweep.executor.warm_times) == 2
    means = sweep.results.means()
    assert means.shape == (2, 3, 2) and not any(math.isnan(v) for v in means.ravel())


def test_a_task_that_raises_is_failed_and_a_lost_worker_costs_only_its_task(tmp_path, reference):
    plan = load_sweep(TINY)
    tasks = plan.tasks
    tasks[1] = like(tasks[1], Raises)
    tasks[2] = like(tasks[2], CrashOnce, marker=str(tmp_path / "crashed"))
    tasks[3] = like(tasks[3], CrashAlways)
    sweep = SweepRun(plan, workers=2, out_dir=tmp_path / "out")
    by_task = {r.task: r for r in sweep.run()}
    assert len(by_task) == 24  # the sweep completes
    assert by_task[1].status == FAILED and "RuntimeError: this point is broken on purpose" in by_task[1].error
    assert by_task[2].status == OK and by_task[2].attempts == 2 and by_task[2].value == reference[tasks[2].key]
    assert by_task[3].status == LOST and by_task[3].attempts == 2 and "died 2 times" in by_task[3].error
    assert all(r.status == OK and r.value == reference[r.key] for t, r in by_task.items() if t not in (1, 2, 3))
    assert sweep.executor.replaced >= 3  # one per crash
    rows = read_sweep_csv(tmp_path / "out" / "sweep.csv")
    assert sorted(row["status"] for row in rows).count("ok") == 22 and len(rows) == 24
    failed = [row for row in rows if row["status"] == "failed"]
    assert failed[0]["value"] == "" and "broken on purpose" in failed[0]["error"]
    assert sweep.results.failed == 2 and int(sweep.results.failures().sum()) == 2


def test_resume_skips_what_is_in_sweep_csv(tmp_path, reference):
    out = tmp_path / "out"
    first = SweepRun(load_sweep(TINY), workers=0, out_dir=out)
    seen = []
    for r in first.run():  # stop after 7 results, as Ctrl-C would
        seen.append(r)
        if len(seen) == 7:
            break
    assert first.interrupted and len(read_sweep_csv(out / "sweep.csv")) == 7
    assert (out / "sweep.json").exists()

    with pytest.raises(ValueError, match="exists: add --resume"):
        list(SweepRun(load_sweep(TINY), workers=0, out_dir=out).run())

    again = SweepRun(load_sweep(TINY), workers=0, out_dir=out, resume=True)
    results = list(again.run())
    resumed = [r for r in results if r.resumed]
    assert len(resumed) == 7 and {r.key for r in resumed} == {r.key for r in seen}
    assert len(results) == 24 and again.timing()["runs"] == 17 and not again.interrupted
    rows = read_sweep_csv(out / "sweep.csv")
    assert len(rows) == 24 and len({row["key"] for row in rows}) == 24
    for row in rows:
        assert float(row["value"]) == reference[row["key"]]


def test_resume_reruns_failed_points_and_keeps_other_rows(tmp_path):
    out = tmp_path / "out"
    plan = load_sweep(TINY, quick=True)
    plan.tasks[0] = like(plan.tasks[0], Raises)
    list(SweepRun(plan, workers=0, out_dir=out).run())
    with open(out / "sweep.csv", "a") as f:  # a row of some other sweep
        f.write("9,0.5,tanh,0,train_accuracy,0.5,ok,0,30,0.1,x,,someotherkey\n")
    again = SweepRun(load_sweep(TINY, quick=True), workers=0, out_dir=out, resume=True)
    results = list(again.run())
    assert sum(not r.resumed for r in results) == 1 and all(r.status == OK for r in results)
    rows = read_sweep_csv(out / "sweep.csv")
    assert len(rows) == len(plan.tasks) + 1 and [r["status"] for r in rows].count("failed") == 0
    assert rows[-2]["key"] == "someotherkey"


def test_stop_from_another_thread_ends_the_sweep(tmp_path):
    import threading

    sweep = SweepRun(load_sweep(TINY), workers=2)
    got = []
    for r in sweep.run():
        got.append(r)
        if len(got) == 2:
            stopper = threading.Thread(target=sweep.stop)
            stopper.start()
            stopper.join()  # stopped before the next result, however loaded the machine
    # only the results already received with the second (one per worker at most) still come
    assert 2 <= len(got) <= 3 and sweep.interrupted


@pytest.mark.parametrize("workers", [2, 0], ids=["2 worker processes", "this process"])
def test_pause_finishes_the_runs_in_flight_and_a_resume_runs_only_the_rest(tmp_path, reference, workers,
                                                                            monkeypatch):
    out = tmp_path / "out"
    sent = handed_out(monkeypatch)
    first = SweepRun(load_sweep(TINY), workers=workers, out_dir=out)
    got = []
    at_pause: list[int] = []
    for r in first.run():
        got.append(r)
        if len(got) == 3:
            first.pause()  # from the consuming thread here; the app calls it from the UI thread
            at_pause = list(sent)  # every run started so far: those done and those in flight
    assert first.interrupted and all(r.status == OK for r in got)
    keys = {r.key for r in got}
    assert len(keys) == len(got)
    if workers:
        # How many runs are in flight at the pause depends on timing (a worker is given its next run
        # as its result is received; a result may have been received with the third, not yet
        # handed on), so the test knows them from the pool: the worker that returned the third
        # result had its next run already, so at least one is in flight.
        assert len(at_pause) > 3
        assert sent == at_pause  # no run started after the pause
        assert sorted(r.task for r in got) == sorted(at_pause)  # and those in flight finished
        # at most: the results received with the third, not yet handed on, and one run per worker
        assert len(got) <= 3 + (workers - 1) + workers
    else:
        assert len(got) == 3  # this process runs one at a time: nothing is in flight between two results
    rows = read_sweep_csv(out / "sweep.csv")
    assert len(rows) == len(got) and {row["key"] for row in rows} == keys  # every run yielded is recorded

    sent.clear()
    again = SweepRun(load_sweep(TINY), workers=workers, out_dir=out, resume=True)
    results = list(again.run())
    resumed = [r for r in results if r.resumed]
    ran = [r for r in results if not r.resumed]
    assert {r.key for r in resumed} == keys and len(resumed) == len(got)
    assert len(ran) == 24 - len(got) and again.timing()["runs"] == 24 - len(got)
    assert not keys & {r.key for r in ran}  # the resume runs only what sweep.csv lacks
    if workers:
        assert sorted(sent) == sorted(r.task for r in ran)
    assert {r.key for r in results} == set(reference) and not again.interrupted
    assert all(r.value == reference[r.key] for r in results)
    rows = read_sweep_csv(out / "sweep.csv")
    assert len(rows) == 24 and {row["key"] for row in rows} == set(reference)


def test_a_stop_during_the_workers_start_is_not_kept_waiting():
    import threading

    from tuisim.sweep.local import LocalPool

    pool = LocalPool(2)
    stop = threading.Event()
    stop.set()
    try:
        pool.start(stop)  # returns at once: the workers have not loaded the engine yet
        assert len(pool._pool) == 2 and not all(w.ready for w in pool._pool)
    finally:
        pool.close()
    assert not pool._pool
