"""The sweep screen on a real Dask cluster (`dask scheduler` and `dask worker` processes)
whose scheduler is killed mid-sweep: the screen says the sweep is interrupted and how
to go on, keeps the map so far, and space, once a scheduler is back at the address,
finishes the map without running again what was done."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from tuisim.app.factory import make_app  # noqa: E402
from tuisim.app.sweep_driver import SweepSpec  # noqa: E402
from tuisim.app.widgets.heatmap import Heatmap  # noqa: E402
from tuisim.sweep import OK  # noqa: E402

from .conftest import SCENARIOS, until  # noqa: E402

SWEEP_TESTS = Path(__file__).parents[1] / "sweep"


def _dask_procs():
    """tests/sweep/dask_procs.py (that folder is not a package)."""
    spec = importlib.util.spec_from_file_location("dask_procs", SWEEP_TESTS / "dask_procs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("dask_procs", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def procs(tmp_path):
    with _dask_procs().DaskProcesses(tmp_path / "dask") as p:
        yield p


async def test_a_lost_scheduler_interrupts_the_sweep_screen_and_space_resumes_on_a_new_one(procs, tmp_path):
    for name in ("csv_sweep.toml", "xor.csv"):
        shutil.copy(SWEEP_TESTS / "data" / name, tmp_path / name)
    address = procs.scheduler()
    procs.worker(address)
    procs.wait_for_workers(address, 1)
    out = tmp_path / "out"
    app = make_app(None, library=SCENARIOS, deterministic=True,
                   sweep=SweepSpec(tmp_path / "csv_sweep.toml", scheduler=address, out_dir=out))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        status = screen.query_one("#status")
        await until(pilot, lambda: screen.driver.results.done >= 5, what="5 results")
        procs.kill_scheduler(address)
        await until(pilot, lambda: screen.driver.state == "interrupted", timeout=20, what="the loss")
        d = screen.driver
        done = d.results.done
        assert 5 <= done < 27
        await pilot.pause()
        line = str(status.render())
        assert f"✗ interrupted: {done} of 27 runs; the cluster was lost · space resumes" in line
        assert d.lost == f"the Dask cluster at {address} was lost: the connection to its scheduler closed"
        assert d.hint.startswith(f"interrupted: {done} of 27 runs; {d.lost}.\nSpace resumes on the cluster once")
        assert d.hint.endswith(f"tuisim sweep {tmp_path / 'csv_sweep.toml'} --scheduler {address} --out {out} "
                               f"--resume")
        screen.refresh_frame(force=True)
        heat = screen.query_one(Heatmap)
        assert heat.data.counts.sum() == done  # the map keeps what came before the loss

        # a new scheduler at the same address, a worker, and space
        port = int(address.rsplit(":", 1)[1])
        assert procs.scheduler(port=port) == address
        procs.worker(address)
        procs.wait_for_workers(address, 1)
        await pilot.press("space")
        assert "interrupted" not in str(status.render())
        await until(pilot, lambda: d.state == "finished", timeout=60, what="the end after resuming")
        assert d.sweep.resumed == done and d.results.done == 27 and d.lost is None
        assert all(r.status == OK for r in d.results.results)
        await pilot.pause()
        assert "27/27 runs" in str(status.render()) and "✓ finished" in str(status.render())
