"""Losses on the logits, with their gradient, mean-reduced as torch's losses are.

cross_entropy  CrossEntropyLoss on integer labels
bce            BCEWithLogitsLoss, mean over every element
mse            MSELoss, mean over every element (accuracy is NaN: not a classification)
"""

from __future__ import annotations

import math

from ._jit import jit
from .registry import LOSSES

CROSS_ENTROPY = LOSSES["cross_entropy"]
BCE = LOSSES["bce"]
MSE = LOSSES["mse"]


@jit
def loss_and_delta(code, Z, yi, yf, dZ, want_grad):
    """(loss, accuracy) of logits Z; dZ = dL/dZ when want_grad."""
    B, n = Z.shape
    total = 0.0
    hits = 0
    if code == CROSS_ENTROPY:
        for r in range(B):
            m = Z[r, 0]
            arg = 0
            for j in range(1, n):
                if Z[r, j] > m:
                    m = Z[r, j]
                    arg = j
            s = 0.0
            for j in range(n):
                s += math.exp(Z[r, j] - m)
            lse = m + math.log(s)
            t = yi[r]
            total += lse - Z[r, t]
            if arg == t:
                hits += 1
            if want_grad:
                for j in range(n):
                    dZ[r, j] = math.exp(Z[r, j] - lse) / B
                dZ[r, t] -= 1.0 / B
        return total / B, hits / B
    cnt = B * n
    for r in range(B):
        for j in range(n):
            z = Z[r, j]
            t = yf[r, j]
            if code == BCE:
                total += max(z, 0.0) - z * t + math.log1p(math.exp(-abs(z)))
                if (z > 0) == (t > 0.5):
                    hits += 1
                if want_grad:
                    if z >= 0:
                        s = 1.0 / (1.0 + math.exp(-z))
                    else:
                        e = math.exp(z)
                        s = e / (1.0 + e)
                    dZ[r, j] = (s - t) / cnt
            else:  # MSE
                d = z - t
                total += d * d
                if want_grad:
                    dZ[r, j] = 2.0 * d / cnt
    if code == MSE:
        return total / cnt, math.nan
    return total / cnt, hits / cnt
