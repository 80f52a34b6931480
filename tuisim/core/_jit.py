"""One decorator for every compiled kernel (after numba-stats' `_jit`).

cache=True: compiled code is kept on disk, so a second process starts in under a second.
nogil=True: the app's training thread releases the GIL while a step runs.
error_model="numpy": a division by zero or an overflow gives inf/NaN, as NumPy does,
instead of raising, so a diverging run is reported, never crashed.
"""

from __future__ import annotations

import os

import numba

jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=False)


def in_disk_cache(dispatcher, dtype: str, arg: int = 0) -> bool | None:
    """Whether Numba's disk cache holds `dispatcher` compiled for a first argument of
    `dtype` (argument `arg`: an array), fresh (this source file, this Numba, this machine), so that its first call
    loads it (about 1 s) instead of compiling it (about 30 s for the training step).
    None when it cannot tell (Numba's cache internals, read here, changed)."""
    try:
        cache = dispatcher._cache
        index = cache._cache_file._load_index()  # {} when missing or stale
        _, machine, code = cache._index_key(None, dispatcher.targetctx.codegen())
        for (sig, magic, hashes), name in index.items():
            if magic == machine and hashes == code and str(getattr(sig[arg], "dtype", "")) == dtype \
                    and os.path.exists(cache._cache_file._data_path(name)):
                return True
        return False
    except Exception:
        return None
