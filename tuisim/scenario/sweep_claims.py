"""[[sweep.expect]]: claims about the map, checked against the sweep's axes and variants
(and against the quick grid, where the claims are checked too)."""

from __future__ import annotations

from .report import Report
from .sweep_keys import AXIS_QUANTITIES, LEVEL_QUANTITIES, SWEEP_EXPECT_PARAMS
from .sweep_model import VARIANT_AXIS, Context, Sweep, SweepExpect, names, show
from .tables import check_keys


def read_expect(report: Report, raw: dict, path: tuple, sweep: Sweep, ctx: Context, axes_ok: bool,
                 ) -> SweepExpect | None:
    values, bad = check_keys(report, SWEEP_EXPECT_PARAMS, raw, path, "[[sweep.expect]]")
    before = len(report)

    def problem(key: str | None, message: str) -> None:
        report.add(path + ((key,) if key else ()), message)

    labels = [lab for lab in ctx.resolved]
    quantity = values.get("quantity", "value")
    axis_key = values.get("axis")
    axes = {a.key: a for a in sweep.axes}
    axis = None
    if quantity in AXIS_QUANTITIES:
        if axis_key is None and "axis" not in bad:
            problem("axis", f"missing: {quantity} runs along an axis: {names(sweep.axes)}"
                            + (", or \"variant\"" if quantity in ("argmax", "argmin") and len(labels) > 1 else ""))
        elif axis_key == VARIANT_AXIS:
            if quantity not in ("argmax", "argmin"):
                problem("axis", f"{quantity} needs an axis of numbers; along the variants only argmax and argmin "
                                f"apply")
            elif len(labels) < 2:
                problem("axis", "the scenario has one variant: there is no variant axis")
        elif axis_key is not None and axes_ok:
            axis = axes.get(axis_key)
            if axis is None:
                problem("axis", f"{axis_key!r} is not an axis of this sweep; the axes: {names(sweep.axes)}")
            elif quantity not in ("argmax", "argmin") and not axis.numeric:
                problem("axis", f"{quantity} needs an axis of numbers; {axis_key} takes texts")
    elif "axis" in values:
        problem("axis", "applies to argmax, argmin, trend, first_* and last_*, not to value")

    # which series
    label = values.get("variant")
    along_variants = axis_key == VARIANT_AXIS
    if along_variants and "variant" in values:
        problem("variant", "the quantity runs along the variants: leave variant out")
    elif not along_variants and label is None and "variant" not in bad:
        if len(labels) == 1:
            label = labels[0]
        elif labels:
            problem("variant", f"missing: with {len(labels)} variants say which one: "
                               + ", ".join(repr(x) for x in labels))
    elif label is not None and labels and label not in labels:
        problem("variant", f"unknown variant {label!r}; the variants: " + ", ".join(repr(x) for x in labels))
    other = values.get("relative_to")
    if other is not None and labels:
        if other not in labels:
            problem("relative_to", f"unknown variant {other!r}; the variants: " + ", ".join(repr(x) for x in labels))
        elif other == label or along_variants:
            problem("relative_to", "needs a variant other than the claim's own; to compare with other axis values, "
                                   "use relative_at")

    # the points
    at = _read_point(problem, "at", values.get("at"), sweep, axis_key, ctx.grid_keys) if axes_ok else ()
    rel_at = values.get("relative_at")
    if rel_at is not None and axes_ok:
        rel_at = _read_point(problem, "relative_at", rel_at, sweep, axis_key, ctx.grid_keys)

    # level
    level = values.get("level")
    if quantity in LEVEL_QUANTITIES and level is None and "level" not in bad:
        problem("level", f"{quantity} needs a level: the value of the measure to compare with")
    if quantity not in LEVEL_QUANTITIES and "level" in values:
        problem("level", "applies only to first_above, first_below, last_above and last_below")

    # the comparison
    if not any(c in raw for c in ("below", "above", "between", "equals")):
        problem(None, "no comparison: give at least one of below, above, between, equals")
    texts = along_variants or (axis is not None and quantity in ("argmax", "argmin") and not axis.numeric)
    if texts:
        for c in ("below", "above", "between"):
            if c in values:
                problem(c, f"{quantity} along {axis_key} is a text: compare it with equals = \"...\"")
        for c in ("relative_to", "relative_at"):
            if c in values:
                problem(c, f"{quantity} along {axis_key} is a text; it cannot be divided")
    elif isinstance(values.get("equals"), str):
        problem("equals", f"{quantity} is a number here, not a text")
    if quantity == "trend" and ("relative_to" in values or "relative_at" in values):
        problem("relative_to" if "relative_to" in values else "relative_at", "a trend cannot be divided")
    below, above = values.get("below"), values.get("above")
    if below is not None and above is not None and above >= below:
        problem("above", f"above = {above:g} and below = {below:g} can never both hold")

    if bad or len(report) > before:
        return None
    return SweepExpect(claim=values.get("claim"), claim_zh=values.get("claim_zh"), variant=None if along_variants else label, quantity=quantity,
                       axis=axis_key, at=at, level=level, relative_to=other, relative_at=rel_at, below=below,
                       above=above, between=values.get("between"), equals=values.get("equals"),
                       line=report.lines.get(path))


def _flatten(table: dict, prefix: str = "") -> dict:
    """{"model": {"depth": 30}} (TOML's dotted keys) -> {"model.depth": 30}."""
    out = {}
    for k, v in table.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _read_point(problem, name: str, raw: dict | None, sweep: Sweep, along: str | None, grid_keys: set) -> tuple:
    """The (key, value) pairs of an `at` table; values on an axis that --grid replaced are kept
    as written (the claim is skipped if the cell is not in the grid)."""
    if raw is None:
        return ()
    out = []
    quick = {a.key: a for a in sweep.quick().axes} if sweep.has_quick else {}
    for key, value in _flatten(raw).items():
        if key == VARIANT_AXIS:
            problem(name, "fix the series with variant = \"...\" (or relative_to), not in " + name)
            continue
        axis = sweep.axis(key)
        if axis is None:
            problem(name, f"{key!r} is not an axis of this sweep; the axes: {names(sweep.axes)}")
            continue
        if key == along:
            problem(name, f"{key} is the axis the quantity runs along; it cannot also be fixed")
            continue
        if key in grid_keys:
            out.append((key, value))
            continue
        if axis.index(value) is None:
            problem(name, f"{key} = {show(value)} is not a value of the axis; its values: "
                          + ", ".join(show(v) for v in axis.values))
            continue
        if key in quick and quick[key].index(value) is None:
            problem(name, f"{key} = {show(value)} is not a value of the quick grid ([sweep.quick]), where the "
                          f"claims are checked too; its values: " + ", ".join(show(v) for v in quick[key].values))
            continue
        out.append((key, axis.values[axis.index(value)]))
    return tuple(out)


