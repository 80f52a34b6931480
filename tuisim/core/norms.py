"""Normalization layers, forward beside backward, after torch.nn's conventions.

batch  BatchNorm1d: eps 1e-5, momentum 0.1, biased variance to normalise, unbiased
       variance for the running estimate; running statistics in evaluation.
layer  LayerNorm over the features of each example, eps 1e-5.
rms    RMSNorm: x / sqrt(mean(x^2) + eps) * weight, eps = the dtype's machine epsilon.

Every forward keeps xhat (the normalised input) and the inverse standard deviation
(per feature for batch, per example for layer and rms) for the backward pass.
"""

from __future__ import annotations

import math

from ._jit import jit
from .registry import NORMS

BATCH = NORMS["batch"]
LAYER = NORMS["layer"]
RMS = NORMS["rms"]

BN_EPS = 1e-5
BN_MOMENTUM = 0.1
LN_EPS = 1e-5


@jit
def norm_forward(code, train, X, XH, Yo, gamma, beta, rmean, rvar, fstat, rstat, eps):
    """Yo = norm(X). fstat (2, nf) holds batch norm's per-feature mean and inverse std;
    rstat (B, 2) holds layer/rms norm's per-example statistics."""
    B, n = X.shape
    if code == BATCH:
        if train:
            for j in range(n):
                fstat[0, j] = 0.0
                fstat[1, j] = 0.0
            for r in range(B):
                for j in range(n):
                    fstat[0, j] += X[r, j]
            for j in range(n):
                fstat[0, j] /= B
            for r in range(B):
                for j in range(n):
                    d = X[r, j] - fstat[0, j]
                    fstat[1, j] += d * d
            for j in range(n):
                var = fstat[1, j] / B
                rmean[j] = (1.0 - BN_MOMENTUM) * rmean[j] + BN_MOMENTUM * fstat[0, j]
                rvar[j] = (1.0 - BN_MOMENTUM) * rvar[j] + BN_MOMENTUM * var * B / (B - 1)
                fstat[1, j] = 1.0 / math.sqrt(var + BN_EPS)
        else:
            for j in range(n):
                fstat[0, j] = rmean[j]
                fstat[1, j] = 1.0 / math.sqrt(rvar[j] + BN_EPS)
        for r in range(B):
            for j in range(n):
                xh = (X[r, j] - fstat[0, j]) * fstat[1, j]
                XH[r, j] = xh
                Yo[r, j] = gamma[j] * xh + beta[j]
    elif code == LAYER:
        for r in range(B):
            m = 0.0
            for j in range(n):
                m += X[r, j]
            m /= n
            v = 0.0
            for j in range(n):
                d = X[r, j] - m
                v += d * d
            inv = 1.0 / math.sqrt(v / n + LN_EPS)
            rstat[r, 0] = m
            rstat[r, 1] = inv
            for j in range(n):
                xh = (X[r, j] - m) * inv
                XH[r, j] = xh
                Yo[r, j] = gamma[j] * xh + beta[j]
    else:  # RMS
        for r in range(B):
            ms = 0.0
            for j in range(n):
                ms += X[r, j] * X[r, j]
            inv = 1.0 / math.sqrt(ms / n + eps)
            rstat[r, 1] = inv
            for j in range(n):
                xh = X[r, j] * inv
                XH[r, j] = xh
                Yo[r, j] = gamma[j] * xh


@jit
def norm_backward(code, train, dY, XH, gamma, dgamma, dbeta, fstat, rstat, dX):
    """dX from dY; dgamma, dbeta accumulate the parameter gradients (dbeta unused for rms)."""
    B, n = dY.shape
    if code == BATCH:
        # each column's sums over the rows in row order, kept in dgamma and dbeta: the
        # row-by-row loop reads memory in order and vectorises across the columns
        for j in range(n):
            dgamma[j] = 0.0
            dbeta[j] = 0.0
        for r in range(B):
            for j in range(n):
                g = dY[r, j]
                dbeta[j] += g
                dgamma[j] += g * XH[r, j]
        if train:
            for r in range(B):
                for j in range(n):
                    g = gamma[j]
                    dX[r, j] = fstat[1, j] * g * (dY[r, j] - dbeta[j] / B - XH[r, j] * dgamma[j] / B)
        else:
            for r in range(B):
                for j in range(n):
                    dX[r, j] = fstat[1, j] * gamma[j] * dY[r, j]
    elif code == LAYER:
        for j in range(n):
            dgamma[j] = 0.0
            dbeta[j] = 0.0
        for r in range(B):
            s1 = 0.0
            s2 = 0.0
            for j in range(n):
                g = dY[r, j]
                dgamma[j] += g * XH[r, j]
                dbeta[j] += g
                gx = g * gamma[j]
                s1 += gx
                s2 += gx * XH[r, j]
            inv = rstat[r, 1]
            for j in range(n):
                dX[r, j] = inv * (dY[r, j] * gamma[j] - s1 / n - XH[r, j] * s2 / n)
    else:  # RMS
        for j in range(n):
            dgamma[j] = 0.0
        for r in range(B):
            s2 = 0.0
            for j in range(n):
                g = dY[r, j]
                dgamma[j] += g * XH[r, j]
                s2 += g * gamma[j] * XH[r, j]
            inv = rstat[r, 1]
            for j in range(n):
                dX[r, j] = inv * (dY[r, j] * gamma[j] - XH[r, j] * s2 / n)
