"""Activation functions: forward, backward and their health statistics, side by side.

Codes are those of `registry.ACTIVATIONS`. Each kernel switches on the code once,
outside its loops, so the inner loops stay simple enough to vectorise.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import flat, jit
from .registry import ACTIVATIONS
from .vmath import vsigmoid

IDENTITY = ACTIVATIONS["identity"]
SIGMOID = ACTIVATIONS["sigmoid"]
TANH = ACTIVATIONS["tanh"]
RELU = ACTIVATIONS["relu"]
LEAKY_RELU = ACTIVATIONS["leaky_relu"]
ELU = ACTIVATIONS["elu"]
SELU = ACTIVATIONS["selu"]
GELU = ACTIVATIONS["gelu"]
SILU = ACTIVATIONS["silu"]
SOFTPLUS = ACTIVATIONS["softplus"]
MAXOUT = ACTIVATIONS["maxout"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SOFTPLUS_THRESHOLD = 20.0
INV_SQRT2 = 0.7071067811865476
INV_SQRT2PI = 0.3989422804014327


_sigmoid = vsigmoid  # split by sign so that exp never overflows into a NaN; inlined, vectorises


@jit
def act_forward(code, Y, A, ARG, pieces, slope, alpha):
    """A = act(Y). Y is (B, zo), A is (B, wo); for maxout zo = wo * pieces and ARG
    records which piece won (first on ties)."""
    B, n = A.shape
    if code == MAXOUT:
        k = pieces
        for r in range(B):
            for j in range(n):
                best = Y[r, j * k]
                arg = 0
                for p in range(1, k):
                    v = Y[r, j * k + p]
                    if v > best:
                        best = v
                        arg = p
                A[r, j] = best
                ARG[r, j] = arg
        return
    y = flat(Y)
    a = flat(A)
    m = y.size
    # one loop per activation, so that each inner loop is branch-free and simple
    if code == IDENTITY:
        for k in range(m):
            a[k] = y[k]
    elif code == SIGMOID:
        for k in range(m):
            a[k] = _sigmoid(y[k])
    elif code == TANH:
        for k in range(m):
            a[k] = math.tanh(y[k])
    elif code == RELU:
        for k in range(m):
            v = y[k]
            a[k] = v if v > 0 else 0.0 * v  # 0 * NaN keeps a NaN visible
    elif code == LEAKY_RELU:
        for k in range(m):
            v = y[k]
            a[k] = v if v > 0 else slope * v
    elif code == ELU:
        for k in range(m):
            v = y[k]
            a[k] = v if v > 0 else alpha * math.expm1(v)
    elif code == SELU:
        for k in range(m):
            v = y[k]
            a[k] = SELU_SCALE * v if v > 0 else SELU_SCALE * SELU_ALPHA * math.expm1(v)
    elif code == GELU:
        for k in range(m):
            v = y[k]
            a[k] = 0.5 * v * (1.0 + math.erf(v * INV_SQRT2))
    elif code == SILU:
        for k in range(m):
            v = y[k]
            a[k] = v * _sigmoid(v)
    else:  # SOFTPLUS
        for k in range(m):
            v = y[k]
            a[k] = v if v > SOFTPLUS_THRESHOLD else math.log1p(math.exp(v))


@jit
def act_backward(code, Y, A, ARG, dA, dY, pieces, slope, alpha):
    """dY = dA * act'(Y). For maxout the gradient goes to the winning piece only."""
    B, n = dA.shape
    if code == MAXOUT:
        k = pieces
        for r in range(B):
            for j in range(n * k):
                dY[r, j] = 0.0
            for j in range(n):
                dY[r, j * k + int(ARG[r, j])] = dA[r, j]
        return
    y = flat(Y)
    a = flat(A)
    g = flat(dA)
    d = flat(dY)
    m = y.size
    if code == IDENTITY:
        for k in range(m):
            d[k] = g[k]
    elif code == SIGMOID:
        for k in range(m):
            d[k] = g[k] * a[k] * (1.0 - a[k])
    elif code == TANH:
        for k in range(m):
            d[k] = g[k] * (1.0 - a[k] * a[k])
    elif code == RELU:
        for k in range(m):
            d[k] = g[k] if y[k] > 0 else 0.0
    elif code == LEAKY_RELU:
        for k in range(m):
            d[k] = g[k] if y[k] > 0 else g[k] * slope
    elif code == ELU:
        for k in range(m):
            d[k] = g[k] if y[k] > 0 else g[k] * (a[k] + alpha)
    elif code == SELU:
        for k in range(m):
            d[k] = g[k] * SELU_SCALE if y[k] > 0 else g[k] * (a[k] + SELU_SCALE * SELU_ALPHA)
    elif code == GELU:
        for k in range(m):
            v = y[k]
            d[k] = g[k] * (0.5 * (1.0 + math.erf(v * INV_SQRT2)) + v * INV_SQRT2PI * math.exp(-0.5 * v * v))
    elif code == SILU:
        for k in range(m):
            v = y[k]
            sg = _sigmoid(v)
            d[k] = g[k] * sg * (1.0 + v * (1.0 - sg))
    else:  # SOFTPLUS
        for k in range(m):
            v = y[k]
            d[k] = g[k] if v > SOFTPLUS_THRESHOLD else g[k] * _sigmoid(v)


@jit
def act_health(code, Y, A, sat_lo, sat_hi, scratch):
    """(mean, std, saturated fraction, dead fraction) of one layer's activations.

    saturated: outputs below sat_lo or above sat_hi (only for sigmoid and tanh);
    dead: relu / leaky_relu units whose input is <= 0 for the whole batch.
    Sums are kept per column, which lets the row loops vectorise; two passes over the
    layer (the mean with the dead units' counts, then the spread with the saturated
    outputs' count), with `scratch` (at least twice the layer's width) for the columns."""
    B, n = A.shape
    col = scratch[:n]  # a column's sums (the kernels allocate nothing: the caller's scratch)
    hits = scratch[n:2 * n]  # a column's count of units on (relu) or of saturated outputs
    for j in range(n):
        col[j] = 0.0
        hits[j] = 0.0
    dead_units = code == RELU or code == LEAKY_RELU
    if dead_units:
        for r in range(B):
            for j in range(n):
                col[j] += A[r, j]
                hits[j] += 1.0 if Y[r, j] > 0 else 0.0
    else:
        for r in range(B):
            for j in range(n):
                col[j] += A[r, j]
    cnt = B * n
    mean = col.sum() / cnt
    dead = 0.0
    if dead_units:
        c = 0
        for j in range(n):
            if hits[j] == 0.0:
                c += 1
        dead = c / n
    for j in range(n):
        col[j] = 0.0
    sat = 0.0
    if code == SIGMOID or code == TANH:
        for j in range(n):
            hits[j] = 0.0
        for r in range(B):
            for j in range(n):
                a = A[r, j]
                d = a - mean
                col[j] += d * d
                hits[j] += 1.0 if (a < sat_lo or a > sat_hi) else 0.0
        sat = hits.sum() / cnt
    else:
        for r in range(B):
            for j in range(n):
                d = A[r, j] - mean
                col[j] += d * d
    std = math.sqrt(col.sum() / cnt)
    return mean, std, sat, dead


def histogram_range(activation: str) -> tuple[float, float]:
    """The fixed range of a layer's activation histogram."""
    if activation == "sigmoid":
        return 0.0, 1.0
    if activation == "tanh":
        return -1.0, 1.0
    return -4.0, 4.0


def saturation_bounds(activation: str, margin: float) -> tuple[float, float]:
    """Outputs outside (lo, hi) count as saturated; (-inf, inf) for the others."""
    if activation == "sigmoid":
        return margin, 1.0 - margin
    if activation == "tanh":
        return -1.0 + 2.0 * margin, 1.0 - 2.0 * margin
    return -np.inf, np.inf
