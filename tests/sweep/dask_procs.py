"""A real Dask cluster for the tests: `dask scheduler` and `dask worker` processes on
localhost, as a user starts them, which a test can kill mid-sweep.

    with DaskProcesses(tmp_path) as procs:
        address = procs.scheduler()          # a free port (or port=...), no dashboard
        procs.worker(address)                # --nthreads 1, in a folder of its own
        procs.wait_for_workers(address, 1)
        procs.kill_scheduler(address)        # SIGKILL, as a crash or a lost machine

Every process starts in a session of its own and is killed with its process group on
leaving the block (a failing test included), so none is left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

DASK = [sys.executable, "-m", "dask"]  # the `dask` command of this Python


class DaskProcesses:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.procs: list[subprocess.Popen] = []
        self.schedulers: dict[str, subprocess.Popen] = {}
        self._n = 0

    def __enter__(self) -> "DaskProcesses":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self, args: list[str], name: str, cwd: Path) -> subprocess.Popen:
        self._n += 1
        log = open(self.folder / f"{self._n:02d}-{name}.log", "wb")
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONWARNINGS="ignore")
        p = subprocess.Popen(DASK + args, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env,
                             start_new_session=True)
        log.close()
        self.procs.append(p)
        return p

    def scheduler(self, port: int = 0, timeout: float = 30) -> str:
        """Start `dask scheduler`; its address (tcp://127.0.0.1:PORT) once it listens."""
        info = self.folder / f"scheduler-{self._n + 1}.json"
        info.unlink(missing_ok=True)  # the address read is this scheduler's
        p = self._start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                         "--scheduler-file", str(info)], "scheduler", self.folder)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError(f"dask scheduler exited ({p.returncode}); see {self.folder}")
            try:
                address = json.loads(info.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)
                continue
            self.schedulers[address] = p
            return address
        raise RuntimeError(f"dask scheduler did not start in {timeout} s; see {self.folder}")

    def worker(self, address: str, cwd: Path | None = None) -> subprocess.Popen:
        """Start `dask worker ADDRESS --nthreads 1` in `cwd` (default: a new empty folder)."""
        if cwd is None:
            cwd = self.folder / f"worker-{self._n + 1}"
            cwd.mkdir(exist_ok=True)
        return self._start(["worker", address, "--nthreads", "1", "--no-dashboard", "--no-nanny",
                            "--local-directory", str(cwd)], "worker", cwd)

    @staticmethod
    def wait_for_workers(address: str, n: int, timeout: float = 60) -> None:
        import distributed

        with distributed.Client(address, timeout="10s") as client:
            client.wait_for_workers(n, timeout=timeout)

    def kill_scheduler(self, address: str) -> None:
        p = self.schedulers.pop(address)
        _kill(p)

    def close(self) -> None:
        for p in self.procs:
            _kill(p)
        self.procs.clear()


def _kill(p: subprocess.Popen) -> None:
    """SIGKILL the process's group (the process and anything it started), then reap it."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def csv_rows(path: Path) -> int:
    """Rows written to a sweep.csv so far (0 before it exists)."""
    try:
        return max(0, len(path.read_text().splitlines()) - 1)
    except OSError:
        return 0


def wait_until(condition, timeout: float, what: str, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)
