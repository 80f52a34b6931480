"""The compiled training step: forward, loss, backward, every per-layer statistic,
clipping and the optimizer update, in one call with no Python per layer.

Everything lives in flat buffers described by integer tables built by `layout.py`:
P (parameters) and G (their gradients) share one layout, R holds batch-norm running
statistics, WS is the per-batch workspace whose regions are `rows * B` long
(a region of `c` columns for a batch of B examples is a C-ordered (B, c) matrix).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._jit import flat, gemm, jit, mat
from .activations import act_backward, act_forward, act_health
from .losses import loss_and_delta
from .norms import norm_backward, norm_forward
from .update import DELTA_ROW, H_BETA1, H_LR, H_MOMENTUM_DECAY, NADAM, clip_gradient, nadam_mu, update_segment
from .update import sumsq as _sumsq
from .vmath import vsigmoid

# ---- layer table columns (one row per linear layer, input to output)
(L_NIN, L_ZO, L_WO, L_OW, L_OB, L_OG, L_OBE, L_ORM, L_ORV, L_NF, L_OFS,
 R_HIN, R_Z, R_XH, R_Y, R_A, R_ARG, R_XHA, R_O, R_M, R_OUT, R_NSR, R_DHIN,
 L_BLOCK, L_BSTART, L_BEND) = range(26)
L_COLS = 26

# ---- block table columns (residual / highway blocks)
(K_L0, K_L1, K_NFIRST, K_WLAST, K_SC, K_OWS, K_OWG, K_OBG, K_RX, K_RS, K_RT, K_RHOUT) = range(12)
K_COLS = 12
SC_IDENTITY, SC_PROJECTION, SC_ZEROS = 0, 1, 2

# ---- integer configuration
(C_ACT, C_NORM, C_NORM_AFTER, C_ARCH, C_LOSS, C_TRAIN, C_BACKWARD, C_UPDATE, C_OPT, C_REUSE_MASK,
 C_NBINS, C_DEPTH, C_PIECES, C_T, C_R_G1, C_R_G2, C_R_G3, C_R_G4, C_NW, C_MAXZ) = range(20)
C_SIZE = 20

# ---- float configuration
(F_SLOPE, F_ALPHA, F_DROPOUT, F_NORM_EPS, F_SAT_LO, F_SAT_HI, F_HLO, F_HHI, F_MU_PROD) = range(9)
F_SIZE = 9
GRAD_HIST_LO = -14.0
GRAD_HIST_HI = 2.0

# ---- outputs
(O_LOSS, O_ACC, O_DIVERGED, O_GNORM, O_CLIP_COEF, O_BAD_LABEL) = range(6)
O_SIZE = 6
(S_GRAD, S_DELTA, S_WEIGHT, S_UPDATE, S_AMEAN, S_ASTD, S_SAT, S_DEAD) = range(8)
S_ROWS = 8

ARCH_PLAIN, ARCH_RESIDUAL, ARCH_HIGHWAY = 0, 1, 2


_mat = mat  # buf[off:off + r * c] as a C-ordered (r, c) matrix (a view)


@jit
def _copy2(src, dst):
    """dst[:, :] = src, element by element (an array assignment needs Numba's reference
    counting, which the kernels do without)."""
    for r in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[r, j] = src[r, j]


@jit
def _copy1(src, dst):
    for k in range(src.shape[0]):
        dst[k] = src[k]


@jit
def _add_bias(Z, P, ob):
    B, n = Z.shape
    b = P[ob:ob + n]  # a view: b[j] with j >= 0 has no negative-index wraparound, so the loop vectorises
    for r in range(B):
        for j in range(n):
            Z[r, j] += b[j]


WT_SIZE = 64 * 64  # the largest weight matrix _linear_forward copies transposed


@jit
def _linear_forward(H, W, Z, wt):
    """Z = H @ W.T (W as stored, PyTorch's (out, in)).

    For small products W is first copied transposed into the scratch wt, so that BLAS
    multiplies two matrices in their stored order: OpenBLAS takes that case to its
    small-matrix kernels and the transposed one to its packed kernel, with copies.
    Measured here (one core, float64, the copy included): 0.45 to 0.29 us at batch 32
    and width 16, 2.5 to 1.9 at 64 and 32, 17.3 to 12.2 at 128 and 64. From about 2^19
    multiply-adds, or with fewer than 32 rows, the packed kernel wins and W is used as is."""
    B, n = H.shape
    zo = W.shape[0]
    if B >= 32 and zo * n <= WT_SIZE and B * zo * n <= 524288:
        Wt = _mat(wt, 0, n, zo)
        for j in range(n):
            for i in range(zo):
                Wt[j, i] = W[i, j]
        gemm(H, Wt, Z)
    else:
        gemm(H, W.T, Z)


@jit
def _next_uniform(state):
    # splitmix64: small, fast, and its state is ours (one per network), so runs
    # interleaved in one thread stay reproducible
    z = state[0] + np.uint64(0x9E3779B97F4A7C15)
    state[0] = z
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@jit
def _histogram(A, lo, hi, out, logabs):
    """Counts of A's values into out[:nb], nb equal bins over [lo, hi] (of log10 |v| when
    logabs; values outside go to the end bins), and of its exact zeros into out[nb]: a
    zero is a value of its own (a ReLU unit that is off, the dL/dz it passes back), not
    the smallest or the middle one. NaN is not counted."""
    nb = out.shape[0] - 1
    w = (hi - lo) / nb
    B, n = A.shape
    for r in range(B):
        for j in range(n):
            v = A[r, j]
            if v == 0.0:
                out[nb] += 1.0
                continue
            if v != v:
                continue
            if logabs:
                v = math.log10(abs(v))
            if v >= hi:
                k = nb - 1
            elif v < lo:
                k = 0
            else:
                k = min(int(math.floor((v - lo) / w)), nb - 1)
            out[k] += 1.0


# inlined into train_steps' one call site at Numba's IR level: compiled once, as part of
# it (an ordinary call would be compiled alone, then inlined and optimised again by LLVM,
# a third more compile time)
@numba.njit(inline="always", nogil=True, error_model="numpy", _nrt=False)
def train_step(X, yi, yf, P, G, R, S, FS, WS, L, K, ic, fc, hp, rng, out, stats, hist, col, wt):
    """One step. ic/fc: configuration (C_*/F_* above); hp: optimizer hyperparameters;
    col: scratch for act_health; wt: for `_linear_forward`.

    Writes loss etc. into `out`, per-layer statistics into `stats` (S_ROWS x layers),
    histograms into `hist` (2 x layers x nbins + 1: the last column counts exact zeros)
    when ic[C_NBINS] > 0; gradients into G;
    with ic[C_UPDATE] the optimizer updates P (skipped when the step diverged)."""
    B = X.shape[0]
    nl = L.shape[0]
    depth = nl - 1
    act = ic[C_ACT]
    norm = ic[C_NORM]
    norm_after = ic[C_NORM_AFTER] != 0
    arch = ic[C_ARCH]
    train = ic[C_TRAIN] != 0
    nbins = ic[C_NBINS]
    pieces = ic[C_PIECES]
    slope = fc[F_SLOPE]
    alpha = fc[F_ALPHA]
    p_drop = fc[F_DROPOUT]
    neps = fc[F_NORM_EPS]
    use_drop = train and p_drop > 0.0
    keep_scale = 1.0 / (1.0 - p_drop) if p_drop < 1.0 else 0.0
    for k in range(stats.shape[0]):
        for i in range(nl):
            stats[k, i] = 0.0
    if nbins > 0:
        hist[:, :, :] = 0.0

    # ---------------- forward
    H0 = _mat(WS, L[0, R_HIN] * B, B, L[0, L_NIN])
    _copy2(X, H0)
    for i in range(depth):
        n = L[i, L_NIN]
        zo = L[i, L_ZO]
        wo = L[i, L_WO]
        Hin = _mat(WS, L[i, R_HIN] * B, B, n)
        W = _mat(P, L[i, L_OW], zo, n)
        Z = _mat(WS, L[i, R_Z] * B, B, zo)
        _linear_forward(Hin, W, Z, wt)
        _add_bias(Z, P, L[i, L_OB])
        Y = _mat(WS, L[i, R_Y] * B, B, zo)
        if norm != 0 and not norm_after:
            nf = zo
            ofs = L[i, L_OFS]
            norm_forward(norm, train, Z, _mat(WS, L[i, R_XH] * B, B, zo), Y,
                         P[L[i, L_OG]:L[i, L_OG] + nf], P[L[i, L_OBE]:L[i, L_OBE] + nf],
                         R[L[i, L_ORM]:L[i, L_ORM] + nf], R[L[i, L_ORV]:L[i, L_ORV] + nf],
                         _mat(FS, ofs, 2, nf), _mat(WS, L[i, R_NSR] * B, B, 2), neps)
        A = _mat(WS, L[i, R_A] * B, B, wo)
        ARG = _mat(WS, L[i, R_ARG] * B, B, wo)
        act_forward(act, Y, A, ARG, pieces, slope, alpha)
        m, sd, sat, dead = act_health(act, Y, A, fc[F_SAT_LO], fc[F_SAT_HI], col)
        stats[S_AMEAN, i] = m
        stats[S_ASTD, i] = sd
        stats[S_SAT, i] = sat
        stats[S_DEAD, i] = dead
        if nbins > 0:
            _histogram(A, fc[F_HLO], fc[F_HHI], hist[0, i], False)
        O = _mat(WS, L[i, R_O] * B, B, wo)
        if norm != 0 and norm_after:
            nf = wo
            ofs = L[i, L_OFS]
            norm_forward(norm, train, A, _mat(WS, L[i, R_XHA] * B, B, wo), O,
                         P[L[i, L_OG]:L[i, L_OG] + nf], P[L[i, L_OBE]:L[i, L_OBE] + nf],
                         R[L[i, L_ORM]:L[i, L_ORM] + nf], R[L[i, L_ORV]:L[i, L_ORV] + nf],
                         _mat(FS, ofs, 2, nf), _mat(WS, L[i, R_NSR] * B, B, 2), neps)
        OUT = _mat(WS, L[i, R_OUT] * B, B, wo)
        if use_drop:
            M = _mat(WS, L[i, R_M] * B, B, wo)
            if ic[C_REUSE_MASK] == 0:
                for r in range(B):
                    for j in range(wo):
                        M[r, j] = keep_scale if _next_uniform(rng) >= p_drop else 0.0
            for r in range(B):
                for j in range(wo):
                    OUT[r, j] = O[r, j] * M[r, j]
        elif L[i, R_OUT] != L[i, R_O]:
            _copy2(O, OUT)
        if arch != ARCH_PLAIN and L[i, L_BEND] != 0:
            _block_combine_forward(L[i, L_BLOCK], K, P, WS, B, arch, OUT, wt)

    # output layer
    n = L[depth, L_NIN]
    zo = L[depth, L_ZO]
    Hin = _mat(WS, L[depth, R_HIN] * B, B, n)
    W = _mat(P, L[depth, L_OW], zo, n)
    Zout = _mat(WS, L[depth, R_Z] * B, B, zo)
    _linear_forward(Hin, W, Zout, wt)
    _add_bias(Zout, P, L[depth, L_OB])
    # code 0 (identity) as an int64, not a literal: a literal argument would compile
    # act_health a second time, specialised to it
    m, sd, sat, dead = act_health(np.int64(0), Zout, Zout, -np.inf, np.inf, col)
    stats[S_AMEAN, depth] = m
    stats[S_ASTD, depth] = sd
    if nbins > 0:
        _histogram(Zout, -4.0, 4.0, hist[0, depth], False)

    for i in range(nl):
        stats[S_WEIGHT, i] = math.sqrt(_sumsq(P[L[i, L_OW]:L[i, L_OW] + L[i, L_ZO] * L[i, L_NIN]]))
    if ic[C_LOSS] < 0:  # logits only
        out[O_LOSS] = math.nan
        out[O_ACC] = math.nan
        return
    if ic[C_LOSS] == 0:  # cross-entropy: labels must name an output
        for r in range(B):
            if yi[r] < 0 or yi[r] >= L[depth, L_ZO]:
                out[O_BAD_LABEL] = 1.0
                return
    backward = ic[C_BACKWARD] != 0
    maxz = ic[C_MAXZ]
    G1 = WS[ic[C_R_G1] * B:ic[C_R_G1] * B + B * maxz]
    dZ = _mat(G1, 0, B, zo)
    loss, acc = loss_and_delta(ic[C_LOSS], Zout, yi, yf, dZ, backward)
    out[O_LOSS] = loss
    out[O_ACC] = acc
    out[O_DIVERGED] = 0.0 if math.isfinite(loss) else 1.0
    if not backward:
        return

    # ---------------- backward
    G[:] = 0.0
    G2 = WS[ic[C_R_G2] * B:ic[C_R_G2] * B + B * maxz]
    G3 = WS[ic[C_R_G3] * B:ic[C_R_G3] * B + B * maxz]
    G4 = WS[ic[C_R_G4] * B:ic[C_R_G4] * B + B * maxz]
    _linear_backward(depth, L, P, G, WS, B, dZ, stats, hist, nbins, G4, arch)
    for i in range(depth - 1, -1, -1):
        zo = L[i, L_ZO]
        wo = L[i, L_WO]
        dOUT = _mat(WS, L[i + 1, R_DHIN] * B, B, wo)
        if arch != ARCH_PLAIN and L[i, L_BEND] != 0:
            dF = _mat(G3, 0, B, wo)
            if _block_combine_backward(L[i, L_BLOCK], K, L, P, G, WS, B, arch, dOUT, dF) == 1:
                dOUT = dF
        cur = dOUT
        where = 0  # which scratch buffer holds cur: 0 neither, 1 G1, 2 G2
        if use_drop:
            M = _mat(WS, L[i, R_M] * B, B, wo)
            dO = _mat(G1, 0, B, wo)
            for r in range(B):
                for j in range(wo):
                    dO[r, j] = cur[r, j] * M[r, j]
            cur = dO
            where = 1
        if norm != 0 and norm_after:
            dA = _mat(G2, 0, B, wo)
            og = L[i, L_OG]
            obe = L[i, L_OBE]
            norm_backward(norm, train, cur, _mat(WS, L[i, R_XHA] * B, B, wo), P[og:og + wo], G[og:og + wo],
                          G[obe:obe + wo], _mat(FS, L[i, L_OFS], 2, wo), _mat(WS, L[i, R_NSR] * B, B, 2), dA)
            cur = dA
            where = 2
        dY = _mat(G2, 0, B, zo) if where == 1 else _mat(G1, 0, B, zo)
        act_backward(act, _mat(WS, L[i, R_Y] * B, B, zo), _mat(WS, L[i, R_A] * B, B, wo),
                     _mat(WS, L[i, R_ARG] * B, B, wo), cur, dY, pieces, slope, alpha)
        cur = dY
        where = 2 if where == 1 else 1
        if norm != 0 and not norm_after:
            dZn = _mat(G2, 0, B, zo) if where == 1 else _mat(G1, 0, B, zo)
            og = L[i, L_OG]
            obe = L[i, L_OBE]
            norm_backward(norm, train, cur, _mat(WS, L[i, R_XH] * B, B, zo), P[og:og + zo], G[og:og + zo],
                          G[obe:obe + zo], _mat(FS, L[i, L_OFS], 2, zo), _mat(WS, L[i, R_NSR] * B, B, 2), dZn)
            cur = dZn
        _linear_backward(i, L, P, G, WS, B, cur, stats, hist, nbins, G4, arch)

    gtot = _sumsq(G)
    out[O_GNORM] = math.sqrt(gtot)
    if not math.isfinite(gtot):
        out[O_DIVERGED] = 1.0
    if ic[C_UPDATE] == 0 or out[O_DIVERGED] != 0.0:
        return

    # ---------------- clipping and update
    out[O_CLIP_COEF] = clip_gradient(G, hp)
    update_segment(ic[C_OPT], P, G, S, 0, P.size, hp, ic[C_T], fc[F_MU_PROD])
    D = S[DELTA_ROW]
    for i in range(nl):
        lo = L[i, L_OW]
        d2 = _sumsq(D[lo:lo + L[i, L_ZO] * L[i, L_NIN]])
        wn = stats[S_WEIGHT, i]
        if wn > 0.0:
            stats[S_UPDATE, i] = math.sqrt(d2) / wn
        elif d2 > 0.0:
            stats[S_UPDATE, i] = np.inf


@jit
def train_steps(X, yi, yf, index, lrs, P, G, R, Rsave, S, FS, WS, L, K, ic, fc, hp, rng, outs, stats, hist,
                Xt, yit, yft, WSt, evals, tests, Xb, yib, yfb, eout, estats, col, wt):
    """len(lrs) consecutive steps in one call, so a caller in another thread needs the
    GIL once per chunk of steps rather than once per step.

    Step k trains on the rows index[k] of X and of the labels yi / targets yf; an index
    with no columns means every step takes X, yi, yf whole. hp[H_LR] is set to lrs[k]
    for step k. outs[k] and stats[k] receive what step k measured (see `train_step`);
    histograms, when ic[C_NBINS] > 0, are taken on the last step only.
    With ic[C_UPDATE], ic[C_T] and fc[F_MU_PROD] hold the optimizer's step count and
    NAdam's momentum product so far, and are advanced over the steps that updated.
    A diverged step is the last one run (its update is skipped, and batch norm's
    running statistics are put back from Rsave); so is a step with a bad label.
    Where evals[k] != 0, the network is first evaluated (evaluation mode, no gradients)
    on the whole of Xt with yit / yft, in the workspace WSt, and tests[k] receives the
    (loss, accuracy), as the step found the network.
    The kernel allocates nothing (it runs without reference counting: tuisim.core._jit):
    Xb, yib, yfb receive a batch's gathered rows, eout and estats an evaluation's
    outputs, col (at least twice as long as the widest layer) a layer's column sums, wt
    (WT_SIZE long, the parameters' dtype) a layer's weights transposed.
    Returns the number of steps run."""
    n = lrs.shape[0]
    B = index.shape[1] if index.shape[1] > 0 else X.shape[0]
    gather = index.shape[1] > 0
    loss = ic[C_LOSS]
    if not gather:
        Xb = X
        yib = yi
        yfb = yf
    nbins = ic[C_NBINS]
    updates = ic[C_UPDATE] != 0
    bn_train = ic[C_TRAIN] != 0 and ic[C_NORM] == 1
    nadam = ic[C_OPT] == NADAM
    t = ic[C_T]
    mu_prod = fc[F_MU_PROD]
    train, backward = ic[C_TRAIN], ic[C_BACKWARD]
    # one call site of train_step for both the evaluations and the steps: the kernel is
    # compiled into this function once, not twice (a third less compile time)
    for it in range(2 * n):
        k = it // 2
        evaluation = it % 2 == 0
        if evaluation:
            if evals[k] == 0:
                continue
            ic[C_TRAIN] = 0
            ic[C_BACKWARD] = 0
            ic[C_NBINS] = 0
            Xu, yiu, yfu, WSu, out, st = Xt, yit, yft, WSt, eout, estats
        else:
            ic[C_TRAIN] = train
            ic[C_BACKWARD] = backward
            if gather:
                for r in range(B):
                    row = index[k, r]
                    for j in range(X.shape[1]):
                        Xb[r, j] = X[row, j]
                    if loss == 0:
                        yib[r] = yi[row]
                    elif loss > 0:
                        for j in range(yf.shape[1]):
                            yfb[r, j] = yf[row, j]
            hp[H_LR] = lrs[k]
            ic[C_NBINS] = nbins if k == n - 1 else 0
            if updates:
                ic[C_T] = t + 1
                fc[F_MU_PROD] = mu_prod * nadam_mu(t + 1, hp[H_BETA1], hp[H_MOMENTUM_DECAY]) if nadam else mu_prod
            if bn_train:
                _copy1(R, Rsave)
            Xu, yiu, yfu, WSu, out, st = Xb, yib, yfb, WS, outs[k], stats[k]
        out[:] = 0.0
        train_step(Xu, yiu, yfu, P, G, R, S, FS, WSu, L, K, ic, fc, hp, rng, out, st, hist, col, wt)
        if evaluation:
            tests[k, 0] = eout[O_LOSS]
            tests[k, 1] = eout[O_ACC]
            continue
        if out[O_BAD_LABEL] != 0.0:
            ic[C_NBINS] = nbins
            return k + 1
        if out[O_DIVERGED] != 0.0:
            if bn_train:
                _copy1(Rsave, R)
            ic[C_NBINS] = nbins
            ic[C_T] = t
            fc[F_MU_PROD] = mu_prod
            return k + 1
        if updates:
            t += 1
            mu_prod = fc[F_MU_PROD]
    ic[C_NBINS] = nbins
    ic[C_T] = t
    fc[F_MU_PROD] = mu_prod
    return n


@jit
def _linear_backward(i, L, P, G, WS, B, dZ, stats, hist, nbins, scratch, arch):
    """dW, db, statistics, and the gradient of the layer's input (set, or added at a
    block's first layer whose input also feeds the shortcut)."""
    n = L[i, L_NIN]
    zo = L[i, L_ZO]
    stats[S_DELTA, i] = math.sqrt(_sumsq(flat(dZ)))
    if nbins > 0:
        _histogram(dZ, GRAD_HIST_LO, GRAD_HIST_HI, hist[1, i], True)
    Hin = _mat(WS, L[i, R_HIN] * B, B, n)
    dW = _mat(G, L[i, L_OW], zo, n)
    gemm(dZ.T, Hin, dW)
    stats[S_GRAD, i] = math.sqrt(_sumsq(G[L[i, L_OW]:L[i, L_OW] + zo * n]))
    ob = L[i, L_OB]
    gb = G[ob:ob + zo]  # (see _add_bias)
    for j in range(zo):
        gb[j] = 0.0
    for r in range(B):
        for j in range(zo):
            gb[j] += dZ[r, j]
    if i == 0:
        return
    W = _mat(P, L[i, L_OW], zo, n)
    dH = _mat(WS, L[i, R_DHIN] * B, B, n)
    if arch != ARCH_PLAIN and L[i, L_BSTART] != 0:
        tmp = _mat(scratch, 0, B, n)
        gemm(dZ, W, tmp)
        for r in range(B):
            for j in range(n):
                dH[r, j] += tmp[r, j]
    else:
        gemm(dZ, W, dH)


@jit
def _block_combine_forward(b, K, P, WS, B, arch, F, wt):
    """The block's output from its input X and its layers' output F."""
    nf = K[b, K_NFIRST]
    wl = K[b, K_WLAST]
    X = _mat(WS, K[b, K_RX] * B, B, nf)
    S = _mat(WS, K[b, K_RS] * B, B, wl)
    sc = K[b, K_SC]
    if sc == SC_PROJECTION:
        _linear_forward(X, _mat(P, K[b, K_OWS], wl, nf), S, wt)
    elif sc == SC_ZEROS:
        c = min(nf, wl)
        for r in range(B):
            for j in range(c):
                S[r, j] = X[r, j]
            for j in range(c, wl):
                S[r, j] = 0.0
    Hout = _mat(WS, K[b, K_RHOUT] * B, B, wl)
    if arch == ARCH_RESIDUAL:
        for r in range(B):
            for j in range(wl):
                Hout[r, j] = F[r, j] + S[r, j]
    else:
        T = _mat(WS, K[b, K_RT] * B, B, wl)
        _linear_forward(X, _mat(P, K[b, K_OWG], wl, nf), T, wt)
        obg = K[b, K_OBG]
        bg = P[obg:obg + wl]
        for r in range(B):
            for j in range(wl):
                t = vsigmoid(T[r, j] + bg[j])
                T[r, j] = t
                Hout[r, j] = F[r, j] * t + S[r, j] * (1.0 - t)


@jit
def _block_combine_backward(b, K, L, P, G, WS, B, arch, dHout, dF):
    """Given dL/d(block output): sets dL/d(block input) from the shortcut and gate paths
    (the block's first layer adds its own part later); dL/dF is then in dHout (0 returned:
    residual) or in dF (1: highway)."""
    nf = K[b, K_NFIRST]
    wl = K[b, K_WLAST]
    l0 = K[b, K_L0]
    X = _mat(WS, K[b, K_RX] * B, B, nf)
    S = _mat(WS, K[b, K_RS] * B, B, wl)
    F = _mat(WS, L[K[b, K_L1] - 1, R_OUT] * B, B, wl)
    dX = _mat(WS, L[l0, R_DHIN] * B, B, nf)
    sc = K[b, K_SC]
    if arch == ARCH_RESIDUAL:
        dS = dHout
        dFo = dHout
    else:
        T = _mat(WS, K[b, K_RT] * B, B, wl)
        dFo = dF
        # dS reuses the output-gradient buffer, which is not needed after this
        dS = dHout
        owg = K[b, K_OWG]
        obg = K[b, K_OBG]
        dgate = _mat(WS, K[b, K_RT] * B, B, wl)  # T is consumed here; reuse its storage
        for r in range(B):
            for j in range(wl):
                t = T[r, j]
                g = dHout[r, j]
                dFo[r, j] = g * t
                dgate[r, j] = g * (F[r, j] - S[r, j]) * t * (1.0 - t)
                dS[r, j] = g * (1.0 - t)
        gemm(dgate.T, X, _mat(G, owg, wl, nf))
        gbg = G[obg:obg + wl]
        for j in range(wl):
            gbg[j] = 0.0
        for r in range(B):
            for j in range(wl):
                gbg[j] += dgate[r, j]
        if l0 > 0:
            gemm(dgate, _mat(P, owg, wl, nf), dX)
    if l0 == 0:
        if sc == SC_PROJECTION:
            gemm(dS.T, X, _mat(G, K[b, K_OWS], wl, nf))
        return 0 if arch == ARCH_RESIDUAL else 1
    if arch == ARCH_RESIDUAL:
        # dX is set here, not added
        if sc == SC_PROJECTION:
            gemm(dS, _mat(P, K[b, K_OWS], wl, nf), dX)
        else:
            c = min(nf, wl)
            for r in range(B):
                for j in range(c):
                    dX[r, j] = dS[r, j]
                for j in range(c, nf):
                    dX[r, j] = 0.0
        if sc == SC_PROJECTION:
            gemm(dS.T, X, _mat(G, K[b, K_OWS], wl, nf))
        return 0 if arch == ARCH_RESIDUAL else 1
    # highway: dX already holds the gate path; add the shortcut path
    if sc == SC_PROJECTION:
        gemm(dS.T, X, _mat(G, K[b, K_OWS], wl, nf))
        Wsc = _mat(P, K[b, K_OWS], wl, nf)
        for r in range(B):
            for j in range(nf):
                acc = 0.0
                for q in range(wl):
                    acc += dS[r, q] * Wsc[q, j]
                dX[r, j] += acc
    else:
        c = min(nf, wl)
        for r in range(B):
            for j in range(c):
                dX[r, j] += dS[r, j]
    return 0 if arch == ARCH_RESIDUAL else 1
