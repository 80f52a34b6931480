"""Checking a scenario's [[expect]] claims against the recorded runs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tuisim.i18n import _, scenario_text
from tuisim.scenario.metrics import METRICS

from .compare import compare as _compare
from .compare import digits
from .compare import fmt as _fmt
from .tracking import FIRST_BELOW, Tracker, track_key
from .variant_run import DIVERGED, VariantRun


@dataclass
class CheckResult:
    expect: object
    value: float | bool | None  # what the claim was judged on: one seed's value, or the median of several
    passed: bool
    text: str  # "metric of variant at ... = value (below x)", with every seed's value when there are several
    seeds: tuple[int, ...] = ()
    per_seed: tuple = ()  # each seed's value, in the order of `seeds`
    seed_passed: tuple[bool, ...] = ()

    def line(self) -> str:
        mark = _("PASS") if self.passed else _("FAIL")
        text = scenario_text(self.expect, "claim")
        claim = f"  {text}" if text else ""
        return f"{mark}  {self.text}{claim}"


def _tracked(run: VariantRun, metric: str, layer, at, threshold) -> float:
    """A per-step metric's value as its claim reads it: from the run's tracker when one
    was registered (exact however long the run), else from the recorded columns, which
    hold every record unless the history was thinned."""
    h = run.history
    t = h.trackers.get(track_key(metric, layer, at, threshold))
    if t is not None:
        return t.value
    if h.thinned:
        raise ValueError(f"{metric} at {at} was not tracked, and the run's history has been thinned: "
                         "register it with VariantRun(track=...) before the run")
    t = Tracker(metric, layer, at, threshold)
    t.update(h.snapshot())  # every record at once
    return t.value


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
        return _tracked(run, metric, layer, at, None)
    if metric == "diverged":
        return run.status == DIVERGED
    if metric == "diverged_at":
        return float(run.diverged_at) if run.diverged_at is not None else math.inf
    if metric in FIRST_BELOW:
        return _tracked(run, metric, None, None, threshold)
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


def _one_seed(expect, runs: dict, k: int) -> float | bool:
    """The claim's value for the k-th seed of its variant (and of relative_to's)."""
    run = runs[expect.variant].runs[k]
    value = metric_value(run, expect.metric, expect.layer, expect.at, expect.threshold)
    if expect.relative_to is not None or expect.relative_at is not None:
        other = runs[expect.relative_to].runs[k] if expect.relative_to is not None else run
        at = expect.relative_at if expect.relative_at is not None else expect.at
        base = metric_value(other, expect.metric, expect.layer, at, expect.threshold)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(np.float64(value) / np.float64(base))
    return value


def value_tracks(metric: str, layer=None, at=None, threshold=None) -> list[tuple]:
    """What a run must track (`VariantRun(track=...)`) for metric_value(run, metric, layer,
    at, threshold) to stay exact however long the run: nothing for whole-run metrics."""
    if metric in FIRST_BELOW:
        return [(metric, None, None, threshold)]
    info = METRICS.get(metric)
    return [(metric, layer, at, None)] if info is not None and info.kind != "run" else []


def claim_tracks(expects) -> list[tuple]:
    """value_tracks of every value the claims read (at `at` and at `relative_at`)."""
    out = []
    for e in expects:
        out += value_tracks(e.metric, e.layer, e.at, e.threshold)
        if e.relative_at is not None:
            out += value_tracks(e.metric, e.layer, e.relative_at, e.threshold)
    return out


def median_of(values: list) -> float | bool | None:
    """The median of the seeds' values: for true / false, the majority (None on a tie);
    for numbers np.median (NaN when any is NaN: a value that cannot be measured is not
    quietly dropped)."""
    if values and isinstance(values[0], bool):
        yes = sum(values)
        return True if 2 * yes > len(values) else False if 2 * yes < len(values) else None
    return float(np.median(np.asarray(values, dtype=float)))


def check_expect(expect, runs: dict) -> CheckResult:
    """Check one claim against the runs of each variant ({label: VariantGroup}): each
    seed's value, and the verdict by the claim's seed rule (median, all or any)."""
    group = runs[expect.variant]
    seeds = tuple(group.seeds)
    values = [_one_seed(expect, runs, k) for k in range(len(seeds))]
    verdicts = [_compare(v, expect)[0] for v in values]
    desc = _describe(expect)
    d = digits(expect)
    shown = lambda v: _shown(v, d)  # noqa: E731 - as precise as the claim's bounds
    if expect.relative_to is not None or expect.relative_at is not None:
        rel = []
        if expect.relative_to is not None:
            rel.append(f"{expect.relative_to!r}")
        if expect.relative_at is not None:
            rel.append(_("at {at}").format(at=expect.relative_at))
        desc += _(" / the same of {what}").format(what=" ".join(rel))
    if len(values) == 1:
        passed, words = _compare(values[0], expect)
        return CheckResult(expect, values[0], passed, f"{desc} = {shown(values[0])} ({words})", seeds,
                           tuple(values), tuple(verdicts))
    each = ", ".join(shown(v) for v in values)
    span = _("seeds {first}-{last}").format(first=seeds[0], last=seeds[-1]) \
        if seeds == tuple(range(seeds[0], seeds[0] + len(seeds))) else _("seeds {list}").format(
            list=", ".join(map(str, seeds)))
    words = _compare(values[0], expect)[1]
    value = median_of(values)
    if expect.seeds == "median":
        if value is None:  # a tie of true and false
            passed, text_value = False, _("a tie ({k} of {n} true)").format(k=sum(values), n=len(values))
        else:
            passed, text_value = _compare(value, expect)[0], shown(value)
        text = _("{desc} = {value} ({rule}), the median of {span}: {each}").format(
            desc=desc, value=text_value, rule=words, span=span, each=each)
    else:
        passed = all(verdicts) if expect.seeds == "all" else any(verdicts)
        failing = [s for s, ok in zip(seeds, verdicts) if not ok]
        which = _("every seed") if expect.seeds == "all" else _("at least one seed")
        note = _("; fails at seeds {seeds}").format(seeds=", ".join(map(str, failing))) if failing else ""
        text = _("{desc} ({rule} for {which}) at {span}: {each}{note}").format(
            desc=desc, rule=words, which=which, span=span, each=each, note=note)
    return CheckResult(expect, value, passed, text, seeds, tuple(values), tuple(verdicts))


def check_record(c: CheckResult) -> dict:
    """A check as summary.json keeps it."""
    return {"text": c.text, "claim": c.expect.claim, "passed": c.passed, "rule": c.expect.seeds, "value": c.value,
            "seeds": list(c.seeds), "per_seed": list(c.per_seed), "seed_passed": list(c.seed_passed)}


def _shown(value, d: int = 4) -> str:
    return str(value) if isinstance(value, bool) else _fmt(value, d)


def _describe(e) -> str:
    s = f"{e.variant}: {e.metric}"
    if e.layer is not None and METRICS[e.metric].layered:
        s += _("[layer {layer}]").format(layer=e.layer)
    if e.threshold is not None:
        s += (_("(within {x})") if e.metric == "steps_to_minimum" else "(<= {x})").format(x=_fmt(e.threshold))
    if e.at is not None:
        s += " " + _("at {at}").format(at=e.at)
    return s
