"""A sweep on a real Dask cluster (`dask scheduler` and `dask worker` processes) whose
scheduler is killed mid-way: `tuisim sweep` ends interrupted, exit 3, with the
results so far kept, no claim judged on missing cells and the command that resumes
it; that command, against a new cluster, completes the map with exactly the values of
a clean local run. The worker runs in a folder of its own, and the csv it would need
is renamed once the sweep has started: the data travels with the tasks."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from dask_procs import DaskProcesses, csv_rows, wait_until  # noqa: E402

from tuisim.sweep import OK, SweepRun, load_sweep  # noqa: E402
from tuisim.sweep.store import read_sweep_csv  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture
def procs(tmp_path):
    with DaskProcesses(tmp_path / "dask") as p:
        yield p


@pytest.fixture
def csv_sweep(tmp_path) -> Path:
    """The csv sweep and its data, in a folder of the test's own (the test moves the csv)."""
    folder = tmp_path / "sweep"
    folder.mkdir()
    for name in ("csv_sweep.toml", "xor.csv"):
        shutil.copy(DATA / name, folder / name)
    return folder / "csv_sweep.toml"


def tuisim(*args: str, cwd: Path) -> subprocess.Popen:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env.pop("TUISIM_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "tuisim", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_lost_scheduler_interrupts_the_sweep_and_resume_finishes_it_on_a_new_cluster(procs, csv_sweep, tmp_path):
    folder = csv_sweep.parent
    plan = load_sweep(csv_sweep)
    reference = SweepRun(plan, workers=0)  # a clean local run, one run after another
    expected = {r.key: r.value for r in reference.run()}
    assert len(expected) == 27 and reference.results.failed == 0

    first = procs.scheduler()
    procs.worker(first)
    procs.wait_for_workers(first, 1)
    out = tmp_path / "out"
    sweep = tuisim("sweep", "csv_sweep.toml", "--scheduler", first, "--out", str(out), "--check", cwd=folder)
    try:
        wait_until(lambda: csv_rows(out / "sweep.csv") >= 1, 60, "the first result")
        (folder / "xor.csv").rename(folder / "moved.csv")  # the runs to come cannot read it
        wait_until(lambda: csv_rows(out / "sweep.csv") >= 9, 60, "9 results")
        procs.kill_scheduler(first)
        stdout, stderr = sweep.communicate(timeout=30)
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.communicate()
    rows = read_sweep_csv(out / "sweep.csv")
    n = len(rows)
    assert sweep.returncode == 3, (stdout, stderr)
    assert 9 <= n < 27 and all(r["status"] == OK for r in rows), rows  # no run needed the file
    assert all(float(r["value"]) == expected[r["key"]] for r in rows)
    assert "Traceback" not in stderr and "ERROR" not in stderr, stderr
    lost = f"the Dask cluster at {first} was lost: the connection to its scheduler closed"
    assert f"Csv sweep  (interrupted: {n} of 27 runs; {lost})" in stdout
    assert "-: runs missing (the sweep was interrupted)" in stdout
    # claims read missing cells: neither passed nor failed, and said so
    assert "Expectations about the map (judged on complete cells only: the sweep was interrupted):" in stdout
    assert "MISSING  argmax along train.lr: not judged: " in stdout  # it reads every cell
    at = "value at model.depth=2, train.lr=0.01, model.width=8"
    if any((r["model.depth"], r["train.lr"], r["model.width"]) == ("2", "0.01", "8") for r in rows):
        assert f"PASS  {at} = 1 (above 0.9)" in stdout  # its one cell is complete: judged
    else:
        assert f"MISSING  {at}: not judged: its cell has runs missing" in stdout
    assert f"cluster lost  (the Dask cluster at {first} (1 worker thread))" in stderr  # not "ETA 0:00"
    assert "ETA 0:00" not in stderr.splitlines()[-1]
    assert f"Interrupted: {n} of 27 runs; {lost}." in stderr
    command = f"tuisim sweep csv_sweep.toml --scheduler {first} --out {shlex.quote(str(out))} --resume --check"
    assert command in stderr, stderr
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["interrupted"] is True and summary["lost"] == lost
    assert summary["progress"]["done"] == n and summary["progress"]["eta"] is None
    assert all(not c["passed"] for c in summary["checks"] if c["missing"])

    # the same command against a new cluster (the csv back where the client reads it)
    (folder / "moved.csv").rename(folder / "xor.csv")
    second = procs.scheduler()
    procs.worker(second)
    procs.wait_for_workers(second, 1)
    argv = shlex.split(command.replace(first, second))[1:]
    resumed = tuisim(*argv, cwd=folder)
    try:
        stdout, stderr = resumed.communicate(timeout=60)
    finally:
        if resumed.poll() is None:
            resumed.kill()
            resumed.communicate()
    assert resumed.returncode == 0, (stdout, stderr)
    assert "interrupted" not in stdout and stdout.count("PASS") == 2
    rows = read_sweep_csv(out / "sweep.csv")
    assert len(rows) == 27 and {r["key"]: float(r["value"]) for r in rows} == expected
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["interrupted"] is False and summary["lost"] is None and summary["timing"]["resumed"] == n


@pytest.mark.parametrize("error", [ConnectionResetError(104, "Connection reset by peer"), BrokenPipeError(32, "pipe"),
                                   "comm"])
def test_however_distributed_words_a_closed_connection_the_sweep_says_it_plainly(error):
    # the scheduler dying mid-request shows as a closed comm, a reset connection or a broken
    # pipe, depending on the moment: the report is the same
    from distributed.comm.core import CommClosedError

    from tuisim.sweep.cluster import DaskCluster

    if error == "comm":
        error = CommClosedError("in <TCP (closed) ConnectionPool.gather local=tcp://127.0.0.1:1 "
                                "remote=tcp://127.0.0.1:2>: ConnectionResetError: [Errno 104] Connection reset by peer")
    ex = DaskCluster("tcp://127.0.0.1:2")
    assert str(ex._lost(error)) == "the Dask cluster at tcp://127.0.0.1:2 was lost: the connection to its scheduler closed"
    assert "TimeoutError" in str(DaskCluster("tcp://127.0.0.1:2")._lost(TimeoutError("no answer in 15 s")))
