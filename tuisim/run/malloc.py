"""`steady_malloc()`: keep a long run's memory flat under glibc.

glibc's malloc serves a large block (numpy's arrays of a history, a plot's temporary
grids) with mmap, and gives it back on free; but each free of such a block raises the
size below which later blocks come from the heap instead (the "dynamic mmap threshold",
up to 32 MB). From then on, blocks of that size are carved out of the heaps of the
threads that asked (the training threads and the interface each have one), and a heap
seldom shrinks: measured in the app on a 21-run lesson, RSS rose in steps of about 27 MB
each time the runs' histories thinned (+56 MB between the 40th and the 160th second),
against +8 MB with the threshold fixed. Fixing it (mallopt(M_MMAP_THRESHOLD), which also
turns the adjustment off) keeps large blocks on mmap, returned whole when freed.

A no-op where the C library is not glibc (macOS, musl, Windows), or when the user set
MALLOC_MMAP_THRESHOLD_ themselves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_MMAP_THRESHOLD = -3  # <malloc.h>
THRESHOLD = 128 * 1024  # glibc's own default, before any adjustment


def steady_malloc() -> bool:
    """Fix glibc's mmap threshold for this process; True when it was set."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD))
