"""Central finite differences for the engine's gradients (float64, tiny networks).

A 5-point stencil at step h; where its one-sided slopes disagree, the perturbation
crossed a kink (relu or selu at 0, a maxout tie) and the element is skipped, as UMAP's
gradient tests do. The error of a tensor is the largest
element error relative to the tensor's largest gradient (or, for a tensor whose true
gradient is zero, such as a bias right before batch norm, to a thousandth of the
largest gradient of the network)."""

from __future__ import annotations

import numpy as np


def loss_only(net, X, y, loss, reuse_mask):
    return net._run(X, y, loss, train=True, backward=False, reuse_mask=reuse_mask).loss


def stencil(f, flat, k, h):
    """(5-point central difference, True when a kink lies within 2h)."""
    old = flat[k]
    vals = []
    for d in (2 * h, h, 0.0, -h, -2 * h):
        flat[k] = old + d
        vals.append(f())
    flat[k] = old
    f2, f1, f0, fm1, fm2 = vals
    central = (-f2 + 8 * f1 - 8 * fm1 + fm2) / (12 * h)
    # a kink shows as one-sided slopes that disagree far beyond the curvature's share
    slopes = [(f2 - f1) / h, (f1 - f0) / h, (f0 - fm1) / h, (fm1 - fm2) / h]
    kink = max(slopes) - min(slopes) > 1e-3 * max(abs(x) for x in slopes) + 1e-6
    return central, kink


def check_gradients(net, X, y, loss="cross_entropy", h=1e-4):
    """Returns (worst relative error over all trainable tensors, its name, fraction of elements skipped)."""
    reuse = net.config["dropout"] > 0
    _, grads = net.loss_and_grads(X, y, loss=loss)

    def f():
        return loss_only(net, X, y, loss, reuse)

    skipped = 0
    checked = []
    for name, g in grads.items():
        flat = net.parameter(name).reshape(-1)
        ga = g.reshape(-1)
        num = np.zeros_like(ga)
        ok = np.ones(ga.size, dtype=bool)
        for k in range(ga.size):
            num[k], kink = stencil(f, flat, k, h)
            if kink:
                ok[k] = False
                skipped += 1
        checked.append((name, num[ok], ga[ok]))
    total = sum(g.size for g in grads.values())
    floor = 1e-3 * max((max(np.abs(n).max(initial=0), np.abs(a).max(initial=0)) for _, n, a in checked), default=0)
    worst, worst_name = 0.0, None
    for name, n, a in checked:
        scale = max(np.abs(n).max(initial=0.0), np.abs(a).max(initial=0.0), floor, 1e-300)
        err = float(np.abs(n - a).max(initial=0.0) / scale)
        if err > worst:
            worst, worst_name = err, name
    return worst, worst_name, skipped / max(total, 1)
