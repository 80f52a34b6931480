"""Greedy layer-wise autoencoder pretraining (L1.6; Hinton 2006, Bengio 2007).

Each hidden layer in turn, from the input up, is trained without labels as the encoder
of a one-hidden-layer autoencoder that reconstructs the layer's input (mean squared
error); the encoder's weights then replace the layer's, and the codes it produces are
the next layer's training inputs. The supervised run fine-tunes the whole stack.
The autoencoder is an ordinary `Network` of the engine, so it trains at full speed.
"""

from __future__ import annotations

import numpy as np

from tuisim.core import Network, Optimizer


def pretrain_layers(net: Network, X: np.ndarray, spec: dict, default_batch: int, seed: int, report=None) -> None:
    cfg = net.config
    if cfg["architecture"] != "plain" or cfg["norm"] != "none":
        raise ValueError("pretraining works on plain networks without normalization "
                         f"(this one is {cfg['architecture']} with norm {cfg['norm']!r})")
    steps = spec["steps_per_layer"]
    bs = spec.get("batch_size") or default_batch
    rng = np.random.default_rng([seed, 0x9E7])
    H = X
    keep = {k: cfg[k] for k in ("activation", "negative_slope", "alpha", "pieces", "init", "init_std", "init_range",
                                "init_gain", "init_value", "init_scale", "bias_init", "dtype")}
    for i in range(net.depth):
        if report is not None:
            report(i, net.depth)
        n_in = H.shape[1]
        ae = Network(n_in=n_in, n_out=n_in, depth=1, width=net.widths[i], seed=seed + 1 + i, **keep)
        # start from the layer's own initial weights
        ae.parameter("layers.0.weight")[...] = net.parameter(f"layers.{i}.weight")
        ae.parameter("layers.0.bias")[...] = net.parameter(f"layers.{i}.bias")
        opt = Optimizer(ae, spec["optimizer"], lr=spec["lr"], loss="mse")
        n = len(H)
        B = n if bs == "full" else min(int(bs), n)
        for _ in range(steps):
            idx = rng.integers(0, n, size=B) if B < n else slice(None)
            Hb = H[idx]
            opt.step(Hb, Hb)
            if opt.stats.diverged:
                break
        net.parameter(f"layers.{i}.weight")[...] = ae.parameter("layers.0.weight")
        net.parameter(f"layers.{i}.bias")[...] = ae.parameter("layers.0.bias")
        H = ae.layer_inputs(H)[1]
