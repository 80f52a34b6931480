"""How many cores this process may use: the default for training threads (tuisim run, the
app) and for sweep workers. Light to import (no engine)."""

from __future__ import annotations

import os


def available_cores() -> int:
    """The cores this process may run on (the affinity mask where there is one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
