"""[sweep]: a map over a scenario's keys, checked like the rest of the file (file:line,
the dotted key, every problem at once), and `--grid KEY=VALUES`, which adds or
replaces an axis from the command line.

A sweep point is the scenario with one value of every axis applied as a `--set`
override would be; the points themselves are built and run by `tuisim.sweep`. Every
variant of the scenario is a series of the map (an implicit last axis, "variant").
The pieces: sweep_model (the dataclasses), sweep_axes (axes and --grid), sweep_claims
([[sweep.expect]]), sweep_keys (the declarations).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tuisim.data.keys import found

from .expects import _check_at
from .metrics import METRICS
from .report import Report
from .sweep_axes import apply_grid, axis_param, parse_grid_values, read_axis
from .sweep_claims import read_expect
from .sweep_keys import AXIS_PARAMS, MAX_POINTS, MAX_RUNS, MEASURES, QUICK_PARAMS, SWEEP_EXPECT_PARAMS, SWEEP_PARAMS
from .sweep_model import VARIANT_AXIS, Axis, Context, Sweep, SweepExpect, names
from .tables import check_keys

__all__ = ["Axis", "Sweep", "SweepExpect", "VARIANT_AXIS", "apply_grid", "axis_param", "parse_grid_values",
           "read_sweep"]


def read_sweep(report: Report, raw: Any, raw_variants: list[dict], labels: list[str | None], resolved: dict,
               steps: int | None) -> Sweep | None:
    """Check the [sweep] table; None when there is none (or it is not a table: reported)."""
    if raw is None:
        return None
    path = ("sweep",)
    if not isinstance(raw, dict):
        report.add(path, f"must be a table ([sweep]), not {found(raw)}")
        return None
    ctx = Context(report, raw_variants, labels, resolved, steps)
    scalars = {k: v for k, v in raw.items() if k not in ("axis", "quick", "expect")}
    hints = {k: f"{k} is a [[sweep.axis]] key: write [[sweep.axis]], then key = ... and values = [...] (or a range)"
             for k in AXIS_PARAMS if k not in SWEEP_PARAMS}
    hints.update({k: f"{k} is a [[sweep.expect]] key" for k in SWEEP_EXPECT_PARAMS
                  if k not in SWEEP_PARAMS and k not in hints})
    values, bad = check_keys(report, SWEEP_PARAMS, scalars, path, "[sweep]", hints)
    before = len(report)
    measure = values.get("measure", "train_loss")
    layer, at, threshold = _read_measure(report, values, bad, measure, ctx)

    axes = []
    items = _tables(report, raw, "axis", path)
    if raw.get("axis") is not None and not items:
        bad.add("axis")
    for i, item in enumerate(items):
        axis = read_axis(report, item, path + ("axis", i), ctx)
        if axis is not None and report.origins.get(path + ("axis", i), "").startswith("--grid "):
            ctx.grid_keys.add(axis.key)
        if axis is not None:
            if any(a.key == axis.key for a in axes):
                report.add(path + ("axis", i, "key"), f"{axis.key} is already an axis of this sweep")
            else:
                axes.append(axis)
    if len(items) > len(axes):
        bad.add("axis")
    elif axes:
        _check_size(report, axes, path, len(labels), values.get("seeds", 1))

    quick_raw = raw.get("quick")
    quick_seeds, quick_axes = None, []
    if quick_raw is not None:
        qpath = path + ("quick",)
        if not isinstance(quick_raw, dict):
            report.add(qpath, f"must be a table ([sweep.quick]), not {found(quick_raw)}")
        else:
            qvalues, _ = check_keys(report, QUICK_PARAMS, {k: v for k, v in quick_raw.items() if k != "axis"}, qpath,
                                    "[sweep.quick]")
            quick_seeds = qvalues.get("seeds")
            for i, item in enumerate(_tables(report, quick_raw, "axis", qpath)):
                main = next((a for a in axes if a.key == item.get("key")), None)
                if main is None and isinstance(item.get("key"), str) and "axis" not in bad:
                    report.add(qpath + ("axis", i, "key"),
                               f"{item['key']!r} is not an axis of [sweep]: the quick grid has the same axes, with "
                               f"fewer values; the axes: {names(axes)}")
                    continue
                axis = read_axis(report, item, qpath + ("axis", i), ctx, main=main)
                if axis is not None:
                    quick_axes.append(axis)

    sweep = Sweep(measure=measure, layer=layer, at=at, threshold=threshold, seeds=values.get("seeds", 1),
                  axes=tuple(axes), expects=(), quick_seeds=quick_seeds, quick_axes=tuple(quick_axes),
                  has_quick=quick_raw is not None)
    expects = []
    for j, item in enumerate(_tables(report, raw, "expect", path)):
        e = read_expect(report, item, path + ("expect", j), sweep, ctx, axes_ok="axis" not in bad)
        if e is not None:
            expects.append(e)
    if bad or len(report) > before:
        return None
    return replace(sweep, expects=tuple(expects))


def _check_size(report: Report, axes: list[Axis], path: tuple, variants: int, seeds: int) -> None:
    """A grid of at most MAX_POINTS points and MAX_RUNS runs (points x variants x seeds),
    reported at its last axis (or at seeds)."""
    points = 1
    for a in axes:
        points *= len(a.values)
    sizes = " x ".join(f"{len(a.values):,}" for a in axes)
    runs = points * max(1, variants) * seeds
    if points > MAX_POINTS:
        report.add(path + ("axis", len(axes) - 1), f"the grid has {points:,} points ({sizes} values); at most "
                                                   f"{MAX_POINTS:,}: give the axes fewer values")
    elif runs > MAX_RUNS:
        where = path + (("seeds",) if seeds > 1 else ("axis", len(axes) - 1))
        report.add(where, f"the sweep has {runs:,} runs ({points:,} points x {max(1, variants)} variant"
                          f"{'s' * (variants > 1)} x {seeds:,} seeds); at most {MAX_RUNS:,}: fewer seeds or values")


def _tables(report: Report, raw: dict, key: str, path: tuple) -> list[dict]:
    value = raw.get(key)
    if value is None:
        return []
    name = ".".join(p for p in path + (key,) if isinstance(p, str))
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        report.add(path + (key,), f"must be an array of tables ([[{name}]]), not {found(value)}")
        return []
    return value


def _read_measure(report: Report, values: dict, bad: set, name: str, ctx: Context):
    path = ("sweep",)
    layer, at, threshold = values.get("layer"), values.get("at"), values.get("threshold")
    if "measure" in bad:
        return layer, at, threshold
    m = METRICS.get(name)
    if m is None:  # the sweep's own measures: one number per run, no options
        for k in ("layer", "at", "threshold"):
            if k in values:
                report.add(path + (k,), f"does not apply to {name}")
    else:
        if "layer" in values and not m.layered:
            report.add(path + ("layer",), f"applies only to per-layer measures; {name} is one number "
                                          f"{'per run' if m.kind == 'run' else 'per step'}")
        elif m.layered and layer is None:
            layer = "mean"
        if "at" in values:
            at = _check_at(lambda k, msg: report.add(path + (k,), msg), "at", at, m, ctx.steps)
        elif m.at is not None:
            at = "end"
        if name == "steps_to_loss" and threshold is None and "threshold" not in bad:
            report.add(path + ("threshold",), "steps_to_loss needs a threshold: the training loss to reach")
        if name != "steps_to_loss" and "threshold" in values:
            report.add(path + ("threshold",), f"applies only to steps_to_loss, not {name}")
    info = MEASURES[name]
    for label, r in ctx.resolved.items():
        if r.info is None:
            continue
        if info.classification and r.info.task != "classification":
            report.add(path + ("measure",), f"{name} needs a classification dataset; variant {label!r} trains on "
                                            f"{r.variant.data['name']} (regression)")
        if info.test and r.info.n_test == 0:
            report.add(path + ("measure",), f"{name} needs a test split; variant {label!r} has test_fraction = 0")
    return layer, at, threshold


