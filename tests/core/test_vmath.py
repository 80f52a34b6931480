"""The engine's own exp and sigmoid (tuisim.core.vmath) against the C library's, over
their whole range and at the special values: within 1 ulp (exp) and 2 ulp (sigmoid,
whose exp's ulp passes through a division), about as accurate as the vectorised
functions PyTorch uses on the CPU."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from tuisim.core.vmath import vexp, vsigmoid


@numba.njit(error_model="numpy", _nrt=False)
def _ours(code, x, out):
    for k in range(x.size):
        if code == 0:
            out[k] = vexp(x[k])
        else:
            out[k] = vsigmoid(x[k])


def _libm(code, x):
    def sig(v):
        if v >= 0:
            return 1.0 / (1.0 + math.exp(-v))
        e = math.exp(v)
        return e / (1.0 + e)

    f = (math.exp, sig)[code]
    out = []
    for v in x:
        try:
            out.append(f(v))
        except OverflowError:
            out.append(math.inf)
    return np.array(out)


def _ulps(ours, ref):
    finite = np.isfinite(ref) & (ref != 0)
    return np.max(np.abs(ours[finite] - ref[finite]) / np.spacing(np.abs(ref[finite])))


RNG = np.random.default_rng(0)
RANGES = [
    (0, "the whole range", RNG.uniform(-745.2, 709.8, 100_000), 1),
    (0, "near 0", RNG.uniform(-2, 2, 100_000), 1),
    (0, "subnormal results", RNG.uniform(-745.2, -708, 20_000), 1),
    (1, "where nets live", RNG.uniform(-40, 40, 100_000), 2),
    (1, "saturated", RNG.uniform(-745, -700, 20_000), 2),
]


@pytest.mark.parametrize("code,where,x,limit", RANGES, ids=[f"{('exp', 'sigmoid')[c]} {w}"
                                                             for c, w, _, _ in RANGES])
def test_within_an_ulp_or_two_of_the_c_library(code, where, x, limit):
    ours = np.empty_like(x)
    _ours(code, x, ours)
    assert _ulps(ours, _libm(code, x)) <= limit


SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 709.78, 709.79, 710.0, -745.13, -745.14, -800.0, 1e-320,
                    -1e-320, 22.0, -22.0, 400.0, -400.0])


@pytest.mark.parametrize("code", [0, 1], ids=["exp", "sigmoid"])
def test_special_values_as_the_c_library(code):
    ours = np.empty_like(SPECIAL)
    _ours(code, SPECIAL, ours)
    ref = _libm(code, SPECIAL)
    for x, a, b in zip(SPECIAL, ours, ref):
        if np.isnan(b):
            assert np.isnan(a), x
        else:
            assert a == b and np.signbit(a) == np.signbit(b), (x, a, b)  # -0 stays -0
