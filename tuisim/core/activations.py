"""Activation functions: forward, backward and their health statistics, side by side.

Codes are those of `registry.ACTIVATIONS`. Each kernel switches on the code once,
outside its loops, so the inner loops stay simple enough to vectorise.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit
from .registry import ACTIVATIONS

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


@jit
def _sigmoid(v):
    # split by sign so that exp never overflows into a NaN
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


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
    for r in range(B):
        for j in range(n):
            v = Y[r, j]
            if code == IDENTITY:
                a = v
            elif code == SIGMOID:
                a = _sigmoid(v)
            elif code == TANH:
                a = math.tanh(v)
            elif code == RELU:
                a = v if v > 0 else 0.0 * v
            elif code == LEAKY_RELU:
                a = v if v > 0 else slope * v
            elif code == ELU:
                a = v if v > 0 else alpha * math.expm1(v)
            elif code == SELU:
                a = SELU_SCALE * v if v > 0 else SELU_SCALE * SELU_ALPHA * math.expm1(v)
            elif code == GELU:
                a = 0.5 * v * (1.0 + math.erf(v * INV_SQRT2))
            elif code == SILU:
                a = v * _sigmoid(v)
            else:  # SOFTPLUS
                a = v if v > SOFTPLUS_THRESHOLD else math.log1p(math.exp(v))
            A[r, j] = a


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
    for r in range(B):
        for j in range(n):
            v = Y[r, j]
            a = A[r, j]
            if code == IDENTITY:
                d = 1.0
            elif code == SIGMOID:
                d = a * (1.0 - a)
            elif code == TANH:
                d = 1.0 - a * a
            elif code == RELU:
                d = 1.0 if v > 0 else 0.0
            elif code == LEAKY_RELU:
                d = 1.0 if v > 0 else slope
            elif code == ELU:
                d = 1.0 if v > 0 else a + alpha
            elif code == SELU:
                d = SELU_SCALE if v > 0 else a + SELU_SCALE * SELU_ALPHA
            elif code == GELU:
                d = 0.5 * (1.0 + math.erf(v * INV_SQRT2)) + v * INV_SQRT2PI * math.exp(-0.5 * v * v)
            elif code == SILU:
                s = _sigmoid(v)
                d = s * (1.0 + v * (1.0 - s))
            else:  # SOFTPLUS
                d = 1.0 if v > SOFTPLUS_THRESHOLD else _sigmoid(v)
            dY[r, j] = dA[r, j] * d


@jit
def act_health(code, Y, A, sat_lo, sat_hi):
    """(mean, std, saturated fraction, dead fraction) of one layer's activations.

    saturated: outputs below sat_lo or above sat_hi (only for sigmoid and tanh);
    dead: relu / leaky_relu units whose input is <= 0 for the whole batch."""
    B, n = A.shape
    s = 0.0
    for r in range(B):
        for j in range(n):
            s += A[r, j]
    cnt = B * n
    mean = s / cnt
    ss = 0.0
    for r in range(B):
        for j in range(n):
            d = A[r, j] - mean
            ss += d * d
    std = math.sqrt(ss / cnt)
    sat = 0.0
    if code == SIGMOID or code == TANH:
        c = 0
        for r in range(B):
            for j in range(n):
                a = A[r, j]
                if a < sat_lo or a > sat_hi:
                    c += 1
        sat = c / cnt
    dead = 0.0
    if code == RELU or code == LEAKY_RELU:
        c = 0
        for j in range(n):
            alive = False
            for r in range(B):
                if Y[r, j] > 0:
                    alive = True
                    break
            if not alive:
                c += 1
        dead = c / n
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
