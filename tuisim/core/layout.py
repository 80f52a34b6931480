"""Where everything lives in the flat buffers: built once per network, in Python.

The compiled step reads two integer tables (one row per linear layer, one per
residual/highway block) and never allocates. Workspace regions are measured in
"rows": a region of c rows holds a (B, c) matrix for a batch of B examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import step as s


@dataclass(frozen=True)
class Entry:
    """One named tensor of the state dict and where it lives."""

    name: str
    buffer: str  # "P" (trainable parameters) or "R" (batch-norm running statistics)
    offset: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


@dataclass
class Layout:
    widths: list[int]
    L: np.ndarray
    K: np.ndarray
    n_params: int
    n_weights: int  # the linear layers' weights come first in P
    n_running: int
    n_fstat: int
    rows: int  # workspace rows per example
    scratch: tuple[int, int, int, int]
    maxz: int
    entries: list[Entry] = field(default_factory=list)
    blocks: list[tuple[int, int]] = field(default_factory=list)


def build_layout(cfg: dict) -> Layout:
    depth = cfg["depth"]
    width = cfg["width"]
    widths = list(width) if isinstance(width, (list, tuple)) else [width] * depth
    if len(widths) != depth:
        raise ValueError(f"width has {len(widths)} entries but depth is {depth}: give one width per hidden layer")
    k = cfg["pieces"] if cfg["activation"] == "maxout" else 1
    norm = cfg["norm"]
    after = cfg["norm_position"] == "after"
    arch = cfg["architecture"]
    n_in, n_out = cfg["n_in"], cfg["n_out"]
    nl = depth + 1
    fan_in = [n_in] + widths
    zo = [w * k for w in widths] + [n_out]
    wo = widths + [n_out]

    L = np.zeros((nl, s.L_COLS), dtype=np.int64)
    entries: list[Entry] = []
    p = 0

    def take(name: str, shape: tuple[int, ...]) -> int:
        nonlocal p
        off = p
        entries.append(Entry(name, "P", off, shape))
        p += int(np.prod(shape))
        return off

    for i in range(nl):
        L[i, s.L_NIN], L[i, s.L_ZO], L[i, s.L_WO] = fan_in[i], zo[i], wo[i]
        L[i, s.L_OW] = take(f"layers.{i}.weight", (zo[i], fan_in[i]))
    n_weights = p
    for i in range(nl):
        L[i, s.L_OB] = take(f"layers.{i}.bias", (zo[i],))

    r = 0
    fs = 0
    if norm != "none":
        for i in range(depth):
            nf = wo[i] if after else zo[i]
            L[i, s.L_NF] = nf
            L[i, s.L_OG] = take(f"norms.{i}.weight", (nf,))
            L[i, s.L_OBE] = take(f"norms.{i}.bias", (nf,)) if norm != "rms" else L[i, s.L_OG]
            L[i, s.L_OFS] = fs
            fs += 2 * nf
            if norm == "batch":
                L[i, s.L_ORM] = r
                entries.append(Entry(f"norms.{i}.running_mean", "R", r, (nf,)))
                L[i, s.L_ORV] = r + nf
                entries.append(Entry(f"norms.{i}.running_var", "R", r + nf, (nf,)))
                r += 2 * nf

    # residual / highway blocks
    blocks: list[tuple[int, int]] = []
    L[:, s.L_BLOCK] = -1
    if arch != "plain":
        every = cfg["skip_every"] or (2 if arch == "residual" else 1)
        for l0 in range(0, depth, every):
            blocks.append((l0, min(l0 + every, depth)))
    K = np.zeros((max(1, len(blocks)), s.K_COLS), dtype=np.int64)
    for b, (l0, l1) in enumerate(blocks):
        nf, wl = fan_in[l0], widths[l1 - 1]
        K[b, s.K_L0], K[b, s.K_L1], K[b, s.K_NFIRST], K[b, s.K_WLAST] = l0, l1, nf, wl
        L[l0:l1, s.L_BLOCK] = b
        L[l0, s.L_BSTART] = 1
        L[l1 - 1, s.L_BEND] = 1
        if arch == "highway":
            K[b, s.K_OWG] = take(f"gates.{b}.weight", (wl, nf))
            K[b, s.K_OBG] = take(f"gates.{b}.bias", (wl,))
        if nf == wl:
            K[b, s.K_SC] = s.SC_IDENTITY
        elif cfg["shortcut"] == "projection":
            K[b, s.K_SC] = s.SC_PROJECTION
            K[b, s.K_OWS] = take(f"shortcuts.{b}.weight", (wl, nf))
        else:
            K[b, s.K_SC] = s.SC_ZEROS

    # workspace rows
    rows = 0

    def alloc(c: int) -> int:
        nonlocal rows
        off = rows
        rows += c
        return off

    dropout = cfg["dropout"] > 0
    L[0, s.R_HIN] = alloc(n_in)
    for i in range(depth):
        L[i, s.R_Z] = alloc(zo[i])
        if norm != "none" and not after:
            L[i, s.R_XH] = alloc(zo[i])
            L[i, s.R_Y] = alloc(zo[i])
        else:
            L[i, s.R_XH] = L[i, s.R_Y] = L[i, s.R_Z]
        L[i, s.R_A] = alloc(wo[i])
        L[i, s.R_ARG] = alloc(wo[i]) if k > 1 else L[i, s.R_A]
        if norm != "none" and after:
            L[i, s.R_XHA] = alloc(wo[i])
            L[i, s.R_O] = alloc(wo[i])
        else:
            L[i, s.R_XHA] = L[i, s.R_O] = L[i, s.R_A]
        L[i, s.R_NSR] = alloc(2) if norm in ("layer", "rms") else 0
        if dropout:
            L[i, s.R_M] = alloc(wo[i])
            L[i, s.R_OUT] = alloc(wo[i])
        else:
            L[i, s.R_M] = L[i, s.R_OUT] = L[i, s.R_O]
        nxt = L[i, s.R_OUT]
        if L[i, s.L_BEND]:
            b = L[i, s.L_BLOCK]
            l0 = K[b, s.K_L0]
            K[b, s.K_RX] = L[l0, s.R_HIN]
            wl = K[b, s.K_WLAST]
            K[b, s.K_RS] = K[b, s.K_RX] if K[b, s.K_SC] == s.SC_IDENTITY else alloc(wl)
            K[b, s.K_RT] = alloc(wl) if arch == "highway" else 0
            K[b, s.K_RHOUT] = alloc(wl)
            nxt = K[b, s.K_RHOUT]
        L[i + 1, s.R_HIN] = nxt
    L[depth, s.R_Z] = alloc(n_out)
    for i in range(1, nl):
        L[i, s.R_DHIN] = alloc(fan_in[i])
    maxz = max(zo + fan_in + wo)
    scratch = (alloc(maxz), alloc(maxz), alloc(maxz), alloc(maxz))
    return Layout(widths=widths, L=L, K=K, n_params=p, n_weights=n_weights, n_running=r, n_fstat=fs,
                  rows=rows, scratch=scratch, maxz=maxz, entries=entries, blocks=blocks)
