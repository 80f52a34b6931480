"""One decorator for every compiled kernel (after numba-stats' `_jit`).

cache=True: compiled code is kept on disk, so a second process starts in under a second.
nogil=True: the app's training thread releases the GIL while a step runs.
error_model="numpy": a division by zero or an overflow gives inf/NaN, as NumPy does,
instead of raising, so a diverging run is reported, never crashed.
"""

from __future__ import annotations

import numba

jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=False)
