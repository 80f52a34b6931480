"""Greedy layer-wise autoencoder pretraining (L1.6; Hinton 2006, Bengio 2007).

Each hidden layer in turn, from the input up, is trained without labels as the encoder
of a one-hidden-layer autoencoder that reconstructs the layer's input (mean squared
error); the encoder's weights then replace the layer's, and the codes it produces are
the next layer's training inputs. The supervised run fine-tunes the whole stack.
The autoencoder is an ordinary `Network` of the engine, so it trains at full speed.

A layer's steps run in compiled chunks of about CHUNK_SECONDS each (`Optimizer.run`, bit
for bit the steps one by one), so a long pretraining shows its progress within a layer
and stops soon when asked: whoever drives the run registers, for its network, what to
call with the progress and when to stop (`follow`), and between two chunks a stop
request raises `PretrainingStopped` (a Ctrl-C in the thread that pretrains arrives there
too, as a KeyboardInterrupt).
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Callable

import numpy as np

from tuisim.core import Network, Optimizer

CHUNK_SECONDS = 0.05  # a compiled chunk of pretraining steps: progress and stop requests in between
MAX_CHUNK = 4096  # steps in one chunk at most
MAX_INDEX = 1 << 20  # batch rows in one chunk's index at most (8 MB)


class PretrainingStopped(Exception):
    """The pretraining was asked to stop before its end (the run cannot go on from there)."""


@dataclass(frozen=True)
class Progress:
    layer: int  # the hidden layer pretrained (0 is the first)
    layers: int
    step: int  # its steps done
    steps: int  # steps_per_layer

    def __str__(self) -> str:
        return f"pretraining layer {self.layer + 1}/{self.layers}, step {self.step:,}/{self.steps:,}"


@dataclass
class _Watch:
    should_stop: Callable[[], bool] | None
    on_progress: Callable[[Progress], None] | None


_watches: "weakref.WeakKeyDictionary[Network, _Watch]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def watch(net: Network, should_stop: Callable[[], bool] | None = None,
          on_progress: Callable[[Progress], None] | None = None) -> None:
    """Have `net`'s pretraining call on_progress(Progress) after every chunk of steps, and
    stop (raise PretrainingStopped) once should_stop() is true. A later call replaces it."""
    with _lock:
        _watches[net] = _Watch(should_stop, on_progress)


def follow(runs, should_stop: Callable[[], bool] | None = None,
           redraw: Callable[[], None] | None = None) -> None:
    """Watch the pretraining of every `VariantRun` of `runs`: its `pretrain_status` (the
    note the headless progress and the app show) follows the steps within the layer, and
    it stops once should_stop() is true; `redraw()` is called after each update, from the
    thread that pretrains."""
    for run in runs:
        if run.variant.pretrain is None:
            continue

        def on_progress(p: Progress, run=run) -> None:
            run.pretrain_status = str(p)
            if redraw is not None:
                redraw()
        watch(run.net, should_stop, on_progress)


def pretrain_layers(net: Network, X: np.ndarray, spec: dict, default_batch: int, seed: int, report=None) -> None:
    """Pretrain every hidden layer of `net` on the inputs X (spec: steps_per_layer, lr,
    optimizer, batch_size). report(layer, layers) is called as each layer starts."""
    cfg = net.config
    if cfg["architecture"] != "plain" or cfg["norm"] != "none":
        raise ValueError("pretraining works on plain networks without normalization "
                         f"(this one is {cfg['architecture']} with norm {cfg['norm']!r})")
    with _lock:
        w = _watches.get(net)
    should_stop = w.should_stop if w is not None else None
    on_progress = w.on_progress if w is not None else None
    steps = spec["steps_per_layer"]
    bs = spec.get("batch_size") or default_batch
    rng = np.random.default_rng([seed, 0x9E7])
    H = X
    keep = {k: cfg[k] for k in ("activation", "negative_slope", "alpha", "pieces", "init", "init_std", "init_range",
                                "init_gain", "init_value", "init_scale", "bias_init", "dtype")}
    for i in range(net.depth):
        if should_stop is not None and should_stop():
            raise PretrainingStopped(f"stopped before pretraining layer {i + 1}/{net.depth}")
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
        Hc = np.ascontiguousarray(H, dtype=ae.dtype)
        done, chunk = 0, 1
        if on_progress is not None:
            on_progress(Progress(i, net.depth, 0, steps))
        while done < steps:
            m = min(chunk, steps - done)
            # the rows of m steps, drawn as m draws of B rows each would be (the same stream);
            # the whole of H every step when the batch is all of it
            state = rng.bit_generator.state
            index = rng.integers(0, n, size=(m, B)) if B < n else np.zeros((m, 0), dtype=np.int64)
            t0 = time.perf_counter()
            trace = opt.run(Hc, Hc, index)
            took = time.perf_counter() - t0
            done += len(trace)
            if on_progress is not None:
                on_progress(Progress(i, net.depth, done, steps))
            if trace.diverged[-1]:
                if B < n and len(trace) < m:  # the stream as far as the steps that ran: the next layer's draws
                    rng.bit_generator.state = state
                    rng.integers(0, n, size=(len(trace), B))
                break
            if done < steps and should_stop is not None and should_stop():
                raise PretrainingStopped(f"stopped in layer {i + 1}/{net.depth} at step {done:,}/{steps:,}")
            per = took / max(1, len(trace))
            chunk = max(1, min(MAX_CHUNK, MAX_INDEX // max(1, B if B < n else 1), int(CHUNK_SECONDS / max(per, 1e-9))))
        net.parameter(f"layers.{i}.weight")[...] = ae.parameter("layers.0.weight")
        net.parameter(f"layers.{i}.bias")[...] = ae.parameter("layers.0.bias")
        H = ae.layer_inputs(H)[1]
