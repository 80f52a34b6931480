"""`StepStats`: everything one step measured, as plain numpy arrays (copies)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import step as s
from .registry import LAYER_FIELDS

_ROWS = (s.S_GRAD, s.S_DELTA, s.S_WEIGHT, s.S_UPDATE, s.S_AMEAN, s.S_ASTD, s.S_SAT, s.S_DEAD)


_HIST_FIELDS = ("act_hist", "grad_hist", "act_zero", "grad_zero")


def _split(hist: np.ndarray | None, backward: bool) -> dict:
    """The kernel's (2, layers, bins + 1) histogram buffer as copies: the bins, and the
    last column, the count of exact zeros."""
    if hist is None:
        return dict.fromkeys(_HIST_FIELDS)
    d = {"act_hist": hist[0, :, :-1].copy(), "act_zero": hist[0, :, -1].copy(),
         "grad_hist": hist[1, :, :-1].copy(), "grad_zero": hist[1, :, -1].copy()}
    if not backward:
        d["grad_hist"] = d["grad_zero"] = None
    return d


@dataclass
class StepStats:
    """One step's measurements. Per-layer arrays have one entry per linear layer,
    input to output (depth + 1 entries; the last is the output layer).

    grad_norm     ||dL/dW|| of the layer's weights (before clipping)
    delta_norm    ||dL/dz|| over the batch: the back-propagated signal at the layer's output
    weight_norm   ||W|| before the update
    update_ratio  ||W_after - W_before|| / ||W_before|| (0 without an update)
    act_mean, act_std   of the activation's output (the logits for the output layer)
    saturated     fraction of sigmoid/tanh outputs within 3% of the output range from a bound
    dead          fraction of relu/leaky_relu units with input <= 0 for the whole batch
    act_hist, grad_hist  (layers, bins) counts of the nonzero activations (on the
                  activation's range) and of log10 |dL/dz|, when histograms were asked for
    act_zero, grad_zero  (layers,) counts of the values that are exactly 0 (in no bin):
                  units that are off (ReLU), and the dL/dz they pass back
    """

    loss: float
    accuracy: float
    diverged: bool
    grad_total_norm: float
    clip_coef: float
    batch_size: int
    grad_norm: np.ndarray
    delta_norm: np.ndarray
    weight_norm: np.ndarray
    update_ratio: np.ndarray
    act_mean: np.ndarray
    act_std: np.ndarray
    saturated: np.ndarray
    dead: np.ndarray
    act_hist: np.ndarray | None = None
    grad_hist: np.ndarray | None = None
    act_zero: np.ndarray | None = None
    grad_zero: np.ndarray | None = None
    lr: float = math.nan
    step: int = 0

    @classmethod
    def from_buffers(cls, out: np.ndarray, stats: np.ndarray, hist: np.ndarray | None, batch: int,
                     backward: bool) -> "StepStats":
        st = stats.copy()  # one copy; the fields are rows of it
        if not backward:
            st[s.S_GRAD] = st[s.S_DELTA] = st[s.S_UPDATE] = np.nan
        rows = {name: st[r] for name, r in zip(LAYER_FIELDS, _ROWS)}
        loss, acc, div, gnorm, coef = out.tolist()[:5]
        return cls(loss=loss, accuracy=acc, diverged=div != 0.0,
                   grad_total_norm=gnorm if backward else math.nan,
                   clip_coef=coef if backward else math.nan, batch_size=batch,
                   **_split(hist, backward), **rows)

    def as_dict(self) -> dict:
        """JSON-ready: floats and lists (non-finite numbers stay float('nan'/'inf'))."""
        d = {"step": self.step, "loss": self.loss, "accuracy": self.accuracy, "diverged": self.diverged,
             "grad_total_norm": self.grad_total_norm, "lr": self.lr}
        for name in LAYER_FIELDS:
            d[name] = getattr(self, name).tolist()
        return d


@dataclass
class StepTrace:
    """What consecutive steps measured, one row per step (from `Optimizer.run`).

    Scalars are (steps,) arrays; the per-layer fields of `StepStats` are (steps, layers)
    arrays. test_loss / test_accuracy: the test evaluation before the step, NaN where
    there was none. act_hist / grad_hist (and act_zero / grad_zero) are the last step's,
    when histograms were asked for."""

    step: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    diverged: np.ndarray
    grad_total_norm: np.ndarray
    clip_coef: np.ndarray
    lr: np.ndarray
    grad_norm: np.ndarray
    delta_norm: np.ndarray
    weight_norm: np.ndarray
    update_ratio: np.ndarray
    act_mean: np.ndarray
    act_std: np.ndarray
    saturated: np.ndarray
    dead: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    batch_size: int = 0
    act_hist: np.ndarray | None = None
    grad_hist: np.ndarray | None = None
    act_zero: np.ndarray | None = None
    grad_zero: np.ndarray | None = None

    @classmethod
    def from_buffers(cls, outs: np.ndarray, stats: np.ndarray, hist: np.ndarray | None, lrs: np.ndarray,
                     first_step: int, batch: int = 0, tests: np.ndarray | None = None) -> "StepTrace":
        rows = {name: stats[:, r, :] for name, r in zip(LAYER_FIELDS, _ROWS)}
        if tests is None:
            tests = np.full((len(outs), 2), np.nan)
        return cls(step=np.arange(first_step, first_step + len(outs), dtype=np.int64),
                   loss=outs[:, s.O_LOSS], accuracy=outs[:, s.O_ACC], diverged=outs[:, s.O_DIVERGED] != 0.0,
                   grad_total_norm=outs[:, s.O_GNORM], clip_coef=outs[:, s.O_CLIP_COEF], lr=lrs,
                   test_loss=tests[:, 0], test_accuracy=tests[:, 1],
                   batch_size=batch, **_split(hist, True), **rows)

    def __len__(self) -> int:
        return len(self.loss)

    def stats(self, k: int) -> StepStats:
        """Step k of the trace as a `StepStats` (histograms only on the last step)."""
        last = k == len(self) - 1 or k == -1
        return StepStats(loss=float(self.loss[k]), accuracy=float(self.accuracy[k]),
                         diverged=bool(self.diverged[k]), grad_total_norm=float(self.grad_total_norm[k]),
                         clip_coef=float(self.clip_coef[k]), batch_size=self.batch_size,
                         **{k: getattr(self, k) if last else None for k in _HIST_FIELDS},
                         lr=float(self.lr[k]), step=int(self.step[k]),
                         **{name: getattr(self, name)[k].copy() for name in LAYER_FIELDS})
