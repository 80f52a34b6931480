"""SIGTERM (kill, systemd, a closed SSH session) and SIGINT sent to a real `tuisim sweep`
process: it stops as Ctrl-C does, exit 143 / 130, its results so far in sweep.csv,
sweep.json marked interrupted, and the command that resumes it; that command finishes
the map."""

from __future__ import annotations

import csv
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dask_procs import csv_rows, wait_until

DATA = Path(__file__).parent / "data"


def _start(folder: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env.pop("TUISIM_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "tuisim", *args], cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_a_headless_sweep_with_its_results_kept(tmp_path, sig, code):
    folder = tmp_path / "sweep"
    folder.mkdir()
    for name in ("csv_sweep.toml", "xor.csv"):
        shutil.copy(DATA / name, folder / name)
    args = ["sweep", "csv_sweep.toml", "--set", "steps=4000", "--workers", "1", "--out", "out", "--headless"]
    p = _start(folder, *args)
    try:
        wait_until(lambda: csv_rows(folder / "out" / "sweep.csv") >= 2, 60, "two results")
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == code, err
    assert "Traceback" not in err
    state = json.loads((folder / "out" / "sweep.json").read_text())
    assert state["interrupted"] is True
    with open(folder / "out" / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert 2 <= len(rows) < 27 and all(r["status"] == "ok" for r in rows)
    resume = [line.strip() for line in err.splitlines() if line.strip().startswith("tuisim sweep ")]
    assert resume and "--resume" in resume[-1], err
    if sig == signal.SIGTERM:  # the printed command finishes the map
        q = _start(folder, *shlex.split(resume[-1])[1:])
        out2, err2 = q.communicate(timeout=240)
        assert q.returncode == 0, err2
        assert csv_rows(folder / "out" / "sweep.csv") == 27
