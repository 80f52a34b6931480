"""The engine compiled in another process while the lesson browser is in use.

A first run on a new machine compiles the training step (about 20 s of Numba on one
core). Compiled in the app's own training thread, it holds the GIL for long stretches
and the interface stutters. So when the app starts and Numba's disk cache has no
engine for this machine, a child process compiles it into the cache on the other core
while the browser and the lesson's text stay usable; a run started meanwhile waits
for that process (its status line says so, with the seconds counted), then loads the
engine from the cache in about a second. If the child fails, or is not there, the run
compiles the engine itself, as before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

CODE = "from tuisim.core import warm_up\nfor d in {dtypes!r}:\n    warm_up(d)\n"


class BackgroundCompile:
    """At most one child process compiling the engine for `dtypes` into Numba's cache."""

    def __init__(self, dtypes=("float64",)):
        self.dtypes = tuple(dtypes)
        self.proc: subprocess.Popen | None = None
        self.started: float | None = None
        self.ended: float | None = None
        self._lock = threading.Lock()

    def start_if_needed(self) -> bool:
        """Start the child when the cache lacks an engine (from a worker thread: the
        check loads Numba). Returns whether a child runs."""
        from tuisim.core import engine_cached

        if all(engine_cached(d) is not False for d in self.dtypes):
            return False
        with self._lock:
            if self.proc is None:
                env = dict(os.environ, PYTHONWARNINGS="ignore")
                self.proc = subprocess.Popen([sys.executable, "-c", CODE.format(dtypes=self.dtypes)], env=env,
                                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL, start_new_session=True)
                self.started = time.monotonic()
        return True

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, stop=lambda: False, poll: float = 0.1) -> bool:
        """Wait until the child is done (or stop() is true); True when it compiled the
        engine (exit status 0)."""
        if self.proc is None:
            return False
        while self.proc.poll() is None:
            if stop():
                return False
            time.sleep(poll)
        self.ended = self.ended or time.monotonic()
        return self.proc.returncode == 0

    def close(self) -> None:
        """End the child if it still runs (the app is quitting)."""
        if self.running:
            self.proc.terminate()
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
