"""Checking a scenario's [[expect]] claims against the recorded runs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tuisim.scenario.metrics import METRICS

from .compare import compare as _compare
from .compare import fmt as _fmt
from .variant_run import DIVERGED, VariantRun

# activation statistics are about hidden layers (the output layer has no activation): "mean", "min" and
# "max" over layers leave the output layer out
HIDDEN_ONLY = ("act_mean", "act_std", "saturated", "dead")
RATIOS = {"grad_norm_ratio": "grad_norm", "delta_norm_ratio": "delta_norm", "update_ratio_ratio": "update_ratio"}


@dataclass
class CheckResult:
    expect: object
    value: float | bool
    passed: bool
    text: str  # "metric of variant at ... = value (below x)"

    def line(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        claim = f"  {self.expect.claim}" if self.expect.claim else ""
        return f"{mark}  {self.text}{claim}"


def _per_step(run: VariantRun, metric: str, layer) -> np.ndarray:
    h = run.history
    if metric in RATIOS:
        col = h.column(RATIOS[metric])
        with np.errstate(divide="ignore", invalid="ignore"):
            return col[:, 0] / col[:, -1]
    if metric == "act_std_ratio":
        col = h.column("act_std")
        with np.errstate(divide="ignore", invalid="ignore"):
            return col[:, -2] / col[:, 0]
    col = h.column(metric)
    if col.ndim == 1:
        return col
    if isinstance(layer, int):
        return col[:, layer]
    if metric in HIDDEN_ONLY:
        col = col[:, :-1]
    fn = {"mean": np.mean, "min": np.min, "max": np.max}[layer or "mean"]
    return fn(col, axis=1)


def _at(run: VariantRun, values: np.ndarray, at) -> float:
    if not len(values):
        return math.nan
    ok = ~np.isnan(values)
    if at in ("min", "max", "mean"):
        if not ok.any():
            return math.nan
        return float({"min": np.min, "max": np.max, "mean": np.mean}[at](values[ok]))
    if at == "start":
        idxs = np.flatnonzero(ok)
        return float(values[idxs[0]]) if len(idxs) else math.nan
    if at in (None, "end"):
        idxs = np.flatnonzero(ok)
        return float(values[idxs[-1]]) if len(idxs) else math.nan
    # a step: the last value recorded at or before it
    steps = run.history.steps()
    idxs = np.flatnonzero(ok & (steps <= int(at)))
    return float(values[idxs[-1]]) if len(idxs) else math.nan


def _cond(run: VariantRun, at) -> float:
    depth = run.net.depth
    if at == "start":
        ws = run.initial_weights
    else:
        ws = [run.net.parameter(f"layers.{i}.weight") for i in range(depth + 1)]
    prod = np.eye(ws[0].shape[0])
    for i in range(1, depth):
        prod = ws[i].astype(np.float64) @ prod
    s = np.linalg.svd(prod, compute_uv=False)
    return float(s[0] / s[-1]) if s[-1] > 0 else math.inf


def _layers(run: VariantRun, layer) -> list[int]:
    n = run.net.depth + 1
    if isinstance(layer, int):
        return [layer % n]
    return list(range(n))


def metric_value(run: VariantRun, metric: str, layer=None, at=None, threshold=None) -> float | bool:
    """The value of one metric of one run, as an expectation reads it."""
    info = METRICS[metric]
    if info.kind != "run":
        return _at(run, _per_step(run, metric, layer), at)
    if metric == "diverged":
        return run.status == DIVERGED
    if metric == "diverged_at":
        return float(run.diverged_at) if run.diverged_at is not None else math.inf
    if metric == "steps_to_loss":
        loss = run.history.column("loss")
        hit = np.flatnonzero(loss <= threshold)
        return float(run.history.steps()[hit[0]]) if len(hit) else math.inf
    if metric == "cond":
        return _cond(run, at or "end")
    vals = []
    for i in _layers(run, layer):
        W = run.net.parameter(f"layers.{i}.weight")
        if metric == "weight_change":
            vals.append(float(np.linalg.norm(W - run.initial_weights[i])))
        else:  # weight_rank
            vals.append(float(np.linalg.matrix_rank(W.astype(np.float64))))
    reduce = {"min": min, "max": max}.get(layer, lambda v: sum(v) / len(v))
    return reduce(vals)


def check_expect(expect, runs: dict[str, VariantRun]) -> CheckResult:
    run = runs[expect.variant]
    value = metric_value(run, expect.metric, expect.layer, expect.at, expect.threshold)
    desc = _describe(expect)
    if expect.relative_to is not None or expect.relative_at is not None:
        other = runs[expect.relative_to] if expect.relative_to is not None else run
        at = expect.relative_at if expect.relative_at is not None else expect.at
        base = metric_value(other, expect.metric, expect.layer, at, expect.threshold)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(np.float64(value) / np.float64(base))
        rel = []
        if expect.relative_to is not None:
            rel.append(f"{expect.relative_to!r}")
        if expect.relative_at is not None:
            rel.append(f"at {expect.relative_at}")
        desc += " / the same of " + " ".join(rel)
    passed, rule = _compare(value, expect)
    shown = value if isinstance(value, bool) else _fmt(value)
    return CheckResult(expect, value, passed, f"{desc} = {shown} ({rule})")


def _describe(e) -> str:
    s = f"{e.variant}: {e.metric}"
    if e.layer is not None and METRICS[e.metric].layered:
        s += f"[layer {e.layer}]"
    if e.threshold is not None:
        s += f"(<= {_fmt(e.threshold)})"
    if e.at is not None:
        s += f" at {e.at}"
    return s
