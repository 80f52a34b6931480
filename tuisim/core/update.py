"""Optimizer update rules over flat parameter buffers, as torch.optim writes them.

One kernel, `update_segment`, applies the rule to P[lo:hi] and keeps the change it
made, so the step can report update-to-weight ratios per layer.
State rows of S (same length as P): see each rule. Hyperparameters come in `hp`,
indexed by the constants below; t is the 1-based step count (torch's `step`).
"""

from __future__ import annotations

import math

import numba

from ._jit import jit
from .registry import OPTIMIZERS

SGD = OPTIMIZERS["sgd"]
MOMENTUM = OPTIMIZERS["momentum"]
NESTEROV = OPTIMIZERS["nesterov"]
ADAGRAD = OPTIMIZERS["adagrad"]
ADADELTA = OPTIMIZERS["adadelta"]
RMSPROP = OPTIMIZERS["rmsprop"]
ADAM = OPTIMIZERS["adam"]
ADAMW = OPTIMIZERS["adamw"]
NADAM = OPTIMIZERS["nadam"]

# indices into hp
H_LR, H_MOMENTUM, H_DAMPENING, H_NESTEROV, H_BETA1, H_BETA2, H_EPS, H_RHO, H_ALPHA, H_WD = range(10)
H_LR_DECAY, H_CENTERED, H_AMSGRAD, H_MOMENTUM_DECAY, H_CLIP_NORM, H_CLIP_VALUE = range(10, 16)
H_SIZE = 16

STATE_ROWS = 4  # three rows of optimizer state, and the last update (for update ratios)
DELTA_ROW = 3


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def sumsq(a):
    """Sum of squares. Reassociation lets this reduction vectorise (10x); the result is
    deterministic on a machine. The step's norms and the clipping's total use it."""
    s = 0.0
    for k in range(a.size):
        v = a[k]
        s += v * v
    return s


@jit
def clip_gradient(G, hp):
    """Clip G in place as the step does before every update: each element to
    [-clip_value, clip_value] (when hp[H_CLIP_VALUE] > 0), then the whole vector to norm
    clip_norm (when hp[H_CLIP_NORM] > 0, as torch.nn.utils.clip_grad_norm_ with its 1e-6).
    Returns the norm clipping's coefficient (1 when it did not scale)."""
    clip_value = hp[H_CLIP_VALUE]
    if clip_value > 0.0:
        for k in range(G.size):
            g = G[k]
            if g > clip_value:
                G[k] = clip_value
            elif g < -clip_value:
                G[k] = -clip_value
    coef = 1.0
    clip_norm = hp[H_CLIP_NORM]
    if clip_norm > 0.0:
        coef = clip_norm / (math.sqrt(sumsq(G)) + 1e-6)
        if coef < 1.0:
            for k in range(G.size):
                G[k] *= coef
        else:
            coef = 1.0
    return coef


@jit
def update_segment(code, P, G, S, lo, hi, hp, t, mu_prod):
    """Apply one update to P[lo:hi], and keep each element's change in S[DELTA_ROW].

    mu_prod is NAdam's product of momentum coefficients up to and including step t.
    The loops have no branches and no reductions, so they vectorise; the update norms
    are taken afterwards from S[DELTA_ROW]."""
    lr = hp[H_LR]
    wd = hp[H_WD]
    eps = hp[H_EPS]
    # views from lo, so that every loop runs k from 0: an index Numba cannot prove
    # non-negative gets a wraparound test, which keeps the loop from vectorising
    P = P[lo:hi]
    G = G[lo:hi]
    D = S[DELTA_ROW, lo:hi]
    n = hi - lo
    if code == SGD or code == MOMENTUM or code == NESTEROV:
        mom = hp[H_MOMENTUM]
        damp = hp[H_DAMPENING]
        buf = S[0, lo:hi]
        if mom == 0.0:
            for k in range(n):
                d = -lr * (G[k] + wd * P[k])
                P[k] += d
                D[k] = d
        elif t == 1:
            nest = hp[H_NESTEROV]
            for k in range(n):
                g = G[k] + wd * P[k]
                buf[k] = g
                d = -lr * (g + mom * g) if nest != 0.0 else -lr * g
                P[k] += d
                D[k] = d
        elif hp[H_NESTEROV] != 0.0:
            for k in range(n):
                g = G[k] + wd * P[k]
                b = mom * buf[k] + (1.0 - damp) * g
                buf[k] = b
                d = -lr * (g + mom * b)
                P[k] += d
                D[k] = d
        else:
            for k in range(n):
                g = G[k] + wd * P[k]
                b = mom * buf[k] + (1.0 - damp) * g
                buf[k] = b
                d = -lr * b
                P[k] += d
                D[k] = d
    elif code == ADAGRAD:
        clr = lr / (1.0 + (t - 1) * hp[H_LR_DECAY])
        ssum = S[0, lo:hi]
        for k in range(n):
            g = G[k] + wd * P[k]
            v = ssum[k] + g * g
            ssum[k] = v
            d = -clr * g / (math.sqrt(v) + eps)
            P[k] += d
            D[k] = d
    elif code == ADADELTA:
        rho = hp[H_RHO]
        sq = S[0, lo:hi]
        accd = S[1, lo:hi]
        for k in range(n):
            g = G[k] + wd * P[k]
            v = rho * sq[k] + (1.0 - rho) * g * g
            sq[k] = v
            delta = math.sqrt(accd[k] + eps) / math.sqrt(v + eps) * g
            accd[k] = rho * accd[k] + (1.0 - rho) * delta * delta
            d = -lr * delta
            P[k] += d
            D[k] = d
    elif code == RMSPROP:
        al = hp[H_ALPHA]
        mom = hp[H_MOMENTUM]
        sq = S[0, lo:hi]
        ga = S[1, lo:hi]
        buf = S[2, lo:hi]
        centered = hp[H_CENTERED] != 0.0
        for k in range(n):
            g = G[k] + wd * P[k]
            v = al * sq[k] + (1.0 - al) * g * g
            sq[k] = v
            if centered:
                m = al * ga[k] + (1.0 - al) * g
                ga[k] = m
                avg = math.sqrt(v - m * m) + eps
            else:
                avg = math.sqrt(v) + eps
            if mom > 0.0:
                b = mom * buf[k] + g / avg
                buf[k] = b
                d = -lr * b
            else:
                d = -lr * g / avg
            P[k] += d
            D[k] = d
    elif code == ADAM or code == ADAMW:
        b1 = hp[H_BETA1]
        b2 = hp[H_BETA2]
        # AdamW decays the weights (decoupled); Adam adds wd * p to the gradient (L2)
        shrink = 1.0 - lr * wd if code == ADAMW else 1.0
        l2 = 0.0 if code == ADAMW else wd
        bc1 = 1.0 - b1 ** t
        bc2s = math.sqrt(1.0 - b2 ** t)
        step = lr / bc1
        m1 = S[0, lo:hi]
        m2 = S[1, lo:hi]
        vmax = S[2, lo:hi]
        if hp[H_AMSGRAD] != 0.0:
            for k in range(n):
                p = P[k]
                g = G[k] + l2 * p
                m = b1 * m1[k] + (1.0 - b1) * g
                v = b2 * m2[k] + (1.0 - b2) * g * g
                m1[k] = m
                m2[k] = v
                vm = max(vmax[k], v)
                vmax[k] = vm
                newp = p * shrink - step * m / (math.sqrt(vm) / bc2s + eps)
                D[k] = newp - p
                P[k] = newp
        else:
            for k in range(n):
                p = P[k]
                g = G[k] + l2 * p
                m = b1 * m1[k] + (1.0 - b1) * g
                v = b2 * m2[k] + (1.0 - b2) * g * g
                m1[k] = m
                m2[k] = v
                newp = p * shrink - step * m / (math.sqrt(v) / bc2s + eps)
                D[k] = newp - p
                P[k] = newp
    else:  # NADAM
        b1 = hp[H_BETA1]
        b2 = hp[H_BETA2]
        md = hp[H_MOMENTUM_DECAY]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * md))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * md))
        bc2 = 1.0 - b2 ** t
        c_g = lr * (1.0 - mu) / (1.0 - mu_prod)
        c_m = lr * mu_next / (1.0 - mu_prod * mu_next)
        m1 = S[0, lo:hi]
        m2 = S[1, lo:hi]
        for k in range(n):
            g = G[k] + wd * P[k]
            m = b1 * m1[k] + (1.0 - b1) * g
            v = b2 * m2[k] + (1.0 - b2) * g * g
            m1[k] = m
            m2[k] = v
            denom = math.sqrt(v / bc2) + eps
            d = -c_g * g / denom - c_m * m / denom
            P[k] += d
            D[k] = d


@jit
def nadam_mu(t, beta1, momentum_decay):
    """NAdam's momentum coefficient of step t."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
