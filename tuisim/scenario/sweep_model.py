"""The validated [sweep] table: its axes, its claims about the map, and what the sweep
checks need to know about the rest of the scenario."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from .report import Report

VARIANT_AXIS = "variant"  # the implicit axis of the series


@dataclass(frozen=True)
class Axis:
    key: str  # as for --set: "model.depth", "steps", "variant.1.train.lr"
    values: tuple  # checked values, in order
    label: str  # the axis's title
    labels: tuple[str, ...]  # one per value

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)

    def index(self, value: Any) -> int | None:
        """The position of `value` on the axis (numbers compared to 1e-9 relative), or None."""
        for i, v in enumerate(self.values):
            if v == value or (number(v) and number(value) and math.isclose(v, value, rel_tol=1e-9)):
                return i
        return None


@dataclass(frozen=True)
class SweepExpect:
    """A claim about the map (see sweep_keys.QUANTITIES)."""

    claim: str | None
    variant: str | None  # None: the quantity runs along the variant axis
    quantity: str
    axis: str | None
    at: tuple[tuple[str, Any], ...]  # (axis key, value) pairs
    level: float | None
    relative_to: str | None
    relative_at: tuple[tuple[str, Any], ...] | None
    below: float | None
    above: float | None
    between: tuple[float, float] | None
    equals: bool | float | str | None
    line: int | None
    claim_zh: str | None = None  # the claim in Chinese


@dataclass(frozen=True)
class Sweep:
    measure: str
    layer: int | str | None
    at: int | str | None
    threshold: float | None
    seeds: int
    axes: tuple[Axis, ...]
    expects: tuple[SweepExpect, ...]
    quick_seeds: int | None = None
    quick_axes: tuple[Axis, ...] = ()
    has_quick: bool = False

    def quick(self) -> "Sweep":
        """The shortened grid of [sweep.quick] (the sweep itself when there is none)."""
        by_key = {a.key: a for a in self.quick_axes}
        return replace(self, axes=tuple(by_key.get(a.key, a) for a in self.axes),
                       seeds=self.quick_seeds or self.seeds, quick_axes=(), quick_seeds=None, has_quick=False)

    def axis(self, key: str) -> Axis | None:
        return next((a for a in self.axes if a.key == key), None)


def number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def show(v: Any) -> str:
    """A value as messages and tick labels write it."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(show(x) for x in v) + "]"
    return str(v)


def names(axes) -> str:
    return ", ".join(repr(a.key) for a in axes) or "none"


class Context:
    """What the sweep's checks need to know about the rest of the scenario."""

    def __init__(self, report: Report, raw_variants: list[dict], labels: list[str | None], resolved: dict,
                 steps: int | None):
        self.report = report
        self.raw_variants = raw_variants
        self.labels = labels
        self.resolved = resolved  # label -> variants.Resolved
        self.steps = steps
        self.grid_keys: set[str] = set()  # axes whose values come from --grid (claims may be skipped there)


