"""One decorator for every compiled kernel (after numba-stats' `_jit`).

cache=True: compiled code is kept on disk, so a second process starts in under a second.
nogil=True: the app's training thread releases the GIL while a step runs.
error_model="numpy": a division by zero or an overflow gives inf/NaN, as NumPy does,
instead of raising, so a diverging run is reported, never crashed.
_nrt=False: no reference counting. Every array view a kernel makes (a layer's matrix in
the flat buffers, a slice) otherwise costs an atomic increment and decrement of its
buffer's count: 28% of a 100-layer width-16 step, measured with perf. The kernels
allocate nothing (their callers pass every buffer), return no array, copy arrays element
by element, and multiply matrices with `gemm` below.
"""

from __future__ import annotations

import os

import numba
from numba import types as _types
from numba.core.extending import intrinsic as _intrinsic
from numba.core.typing import signature as _signature

jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=False, _nrt=False)


def in_disk_cache(dispatcher, dtype: str, arg: int = 0) -> bool | None:
    """Whether Numba's disk cache holds `dispatcher` compiled for a first argument of
    `dtype` (argument `arg`: an array), fresh (this source file, this Numba, this machine), so that its first call
    loads it (under a second) instead of compiling it (about 10 s for the training step).
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


@_intrinsic
def gemm(typingctx, x, y, out):
    """out = x @ y for 2-D arrays, exactly what np.dot(x, y, out) computes (the same
    BLAS call, arguments and checks: Numba's own lowering of it), returning nothing, so
    that kernels compiled without reference counting (_nrt=False) may use it: np.dot
    returns its `out`, which such a kernel may not."""

    def codegen(context, builder, sig, args):
        from numba.np.linalg import dot_3_mm, ensure_blas

        ensure_blas()
        dot_3_mm(context, builder, _signature(sig.args[2], *sig.args), args)
        return context.get_dummy_value()

    return _types.void(x, y, out), codegen


def _as_intp(context, builder, value, ty):
    return context.cast(builder, value, ty, _types.intp)


def _view(context, builder, srcty, src, retty, layout):
    """The code of a view of the array `src` (of type srcty) as an array of type retty;
    layout(source) gives its (data pointer, shape, strides)."""
    from numba.np.arrayobj import make_array, populate_array

    a = make_array(srcty)(context, builder, src)
    view = make_array(retty)(context, builder)
    data, shape, strides = layout(a)
    populate_array(view, data=data, shape=shape, strides=strides, itemsize=a.itemsize, meminfo=a.meminfo,
                   parent=a.parent)
    return view._getvalue()


@_intrinsic
def mat(typingctx, buf, off, r, c):
    """buf[off:off + r * c] seen as a C-ordered (r, c) matrix: a view, with no copy and
    no call (what `buf[off:off + r * c].reshape((r, c))` gives, without the reshape's
    call into Numba's helper library and its error path at every site, and without
    bounds checks: the layout tables in layout.py place every region inside its buffer)."""
    if not (isinstance(buf, _types.Array) and buf.ndim == 1 and buf.layout == "C"):
        return None
    retty = _types.Array(buf.dtype, 2, "C")

    def codegen(context, builder, sig, args):
        o, rows, cols = (_as_intp(context, builder, v, t) for v, t in zip(args[1:], sig.args[1:]))
        return _view(context, builder, sig.args[0], args[0], retty,
                     lambda a: (builder.gep(a.data, [o]), [rows, cols], [builder.mul(cols, a.itemsize), a.itemsize]))

    return retty(buf, off, r, c), codegen


@_intrinsic
def flat(typingctx, a):
    """A C-ordered 2-D array as a 1-D view of all its elements (`a.reshape(a.size)`
    without the call)."""
    if not (isinstance(a, _types.Array) and a.ndim == 2 and a.layout == "C"):
        return None
    retty = _types.Array(a.dtype, 1, "C")

    def codegen(context, builder, sig, args):
        def layout(arr):
            rows, cols = (builder.extract_value(arr.shape, k) for k in (0, 1))
            return arr.data, [builder.mul(rows, cols)], [arr.itemsize]

        return _view(context, builder, sig.args[0], args[0], retty, layout)

    return retty(a), codegen
