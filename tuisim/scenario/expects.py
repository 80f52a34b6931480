"""[[expect]]: claims about a run, checked key by key and then against the metric and
the variants they name."""

from __future__ import annotations

import difflib
from typing import Any

from .keys import COMPARISONS, EXPECT_PARAMS
from .metrics import METRICS
from .model import Expect
from .report import Report
from .tables import check_keys
from .variants import Resolved


def _labels(variants: dict[str, Resolved]) -> str:
    return ", ".join(repr(label) for label in variants)


def _unknown_variant(label: str, variants: dict[str, Resolved]) -> str:
    lower = {v.lower(): v for v in variants}
    near = difflib.get_close_matches(label.lower(), list(lower), n=1)
    hint = f" (did you mean {lower[near[0]]!r}?)" if near else ""
    return f"unknown variant {label!r}{hint}; the variants: {_labels(variants)}"


THRESHOLDS = {"steps_to_loss": "the training loss to reach",
              "steps_to_minimum": "the distance to a minimum that counts as reaching it (eps)"}


def _names(kind: str) -> str:
    return ", ".join(n for n, m in METRICS.items() if (m.layered if kind == "layered" else m.kind == kind)
                     and m.applies != "surface")


def _surface_names() -> str:
    return ", ".join(n for n, m in METRICS.items() if m.applies != "network")


def read_expects(report: Report, raw_list: list[dict], variants: dict[str, Resolved], steps: int | None,
                 ) -> list[Expect]:
    out = []
    for j, raw in enumerate(raw_list):
        e = _read(report, ("expect", j), raw, variants, steps)
        if e is not None:
            out.append(e)
    return out


def _read(report: Report, path: tuple, raw: dict, variants: dict[str, Resolved], steps: int | None,
          ) -> Expect | None:
    values, bad = check_keys(report, EXPECT_PARAMS, raw, path, "[[expect]]")
    problems_before = len(report)

    def problem(key: str | None, message: str) -> None:
        report.add(path + ((key,) if key else ()), message)

    # which variant
    label = values.get("variant")
    if "variant" not in raw:
        if len(variants) == 1:
            label = next(iter(variants))
        elif variants:
            problem("variant", f"missing: with {len(variants)} variants say which one: {_labels(variants)}")
    elif label is not None and label not in variants and variants:
        problem("variant", _unknown_variant(label, variants))
        label = None
    other = values.get("relative_to")
    if other is not None and variants:
        if other not in variants:
            problem("relative_to", _unknown_variant(other, variants))
            other = None
        elif other == label:
            problem("relative_to", "names the expectation's own variant; to compare with another step of it, "
                                   "use relative_at")

    # the metric and the keys it takes
    name = values.get("metric")
    if name is None:
        if "metric" not in raw:
            problem("metric", f"missing: what to measure, {EXPECT_PARAMS['metric'].allowed()}")
        return None
    m = METRICS[name]
    surface = any(r.variant.surface is not None for r in variants.values())
    if surface and m.applies == "network":
        problem("metric", f"{name} measures a network; a point on a [surface] has: {_surface_names()}")
        return None
    if not surface and m.applies == "surface":
        problem("metric", f"{name} measures a point on a [surface], and this scenario trains networks (add a "
                          f"[surface] table for optimizer paths)")
        return None
    layered = m.layered and not surface  # a surface's gradient norm has no layers
    layer = values.get("layer")
    if "layer" in values and surface and m.layered:
        problem("layer", f"a point on a [surface] has no layers: leave layer out ({name} is one number per step)")
    elif "layer" in values and not m.layered:
        problem("layer", f"applies only to per-layer metrics ({_names('layered')}); {name} is a "
                         f"{'per-run' if m.kind == 'run' else 'per-step'} number")
    elif layered and layer is None and "layer" not in bad:
        layer = "mean"
    at = values.get("at")
    if "at" in values:
        at = _check_at(problem, "at", at, m, steps)
    elif m.at is not None:
        at = "end"
    relative_at = values.get("relative_at")
    if "relative_at" in values:
        relative_at = _check_at(problem, "relative_at", relative_at, m, steps)
    threshold = values.get("threshold")
    if name in THRESHOLDS and threshold is None and "threshold" not in bad:
        problem("threshold", f"{name} needs a threshold: {THRESHOLDS[name]}")
    if name not in THRESHOLDS and "threshold" in values:
        problem("threshold", f"applies only to {' and '.join(THRESHOLDS)}, not {name}")
    if name == "steps_to_minimum" and threshold is not None and threshold <= 0:
        problem("threshold", f"steps_to_minimum needs a distance > 0, not {threshold:g}")

    # the comparison
    given = [c for c in COMPARISONS if c in raw]
    if not given:
        problem(None, "no comparison: give at least one of below, above, between, equals")
    if m.value == "bool":
        for c in ("below", "above", "between"):
            if c in values:
                problem(c, f"{name} is true or false: compare it with equals = true or equals = false")
        for k in ("relative_to", "relative_at"):
            if k in values:
                problem(k, f"{name} is true or false; it cannot be divided")
        if "equals" in values and not isinstance(values["equals"], bool):
            problem("equals", f"{name} is true or false, not a number")
    elif isinstance(values.get("equals"), bool):
        problem("equals", f"{name} is a number; true / false only compares diverged")
    below, above = values.get("below"), values.get("above")
    if below is not None and above is not None and above >= below:
        problem("above", f"above = {above:g} and below = {below:g} can never both hold")

    # what the variants can measure
    for key, lab in (("variant", label), ("relative_to", other)):
        r = variants.get(lab) if lab is not None else None
        if r is None:
            continue
        if m.classification and r.info is not None and r.info.task != "classification":
            problem("metric", f"{name} needs a classification dataset; variant {lab!r} trains on "
                              f"{r.variant.data['name']} (regression)")
        if m.test and r.info is not None and r.info.n_test == 0:
            problem("metric", f"{name} needs a test split; variant {lab!r} has test_fraction = 0")
        if m.minimum and r.variant.surface is not None and r.variant.surface["name"] == "saddle":
            problem("metric", f"{name} needs a minimum, and the saddle has none (it is unbounded below): measure "
                              f"loss, x, y or steps_to_loss instead")
        if isinstance(layer, int) and m.layered and r.depth is not None:
            n = r.depth + 1
            if not -n <= layer < n:
                problem("layer", f"layer {layer} is out of range: variant {lab!r} has {n} linear layers "
                                 f"(0..{n - 1}, or -{n}..-1 from the end)")

    if bad or len(report) > problems_before or label is None:
        return None
    return Expect(
        claim=values.get("claim"), claim_zh=values.get("claim_zh"), variant=label, metric=name, layer=layer, at=at, threshold=threshold,
        relative_to=other, relative_at=relative_at, below=below, above=above, between=values.get("between"),
        equals=values.get("equals"), line=report.lines.get(path), seeds=values.get("seeds") or "median",
    )


def _check_at(problem, key: str, value: Any, m, steps: int | None) -> Any:
    """`at` / `relative_at` against the metric: run metrics have no time axis (cond: start
    or end), a step must fall inside the run."""
    if m.at is None:
        problem(key, f"does not apply to {m.name}: it is one number for the whole run")
        return None
    if isinstance(value, str):
        if value not in m.at:
            problem(key, f"{m.name} is measured at {' or '.join(repr(a) for a in m.at)}, not {value!r}")
        return value
    if not m.at_steps:
        problem(key, f"{m.name} is measured at {' or '.join(repr(a) for a in m.at)}, not at a step number")
    elif steps is not None and value >= steps:
        problem(key, f"step {value} is past the end of the run (steps = {steps}: the last step is {steps - 1})")
    return value
