"""`Grid`: the cells of a sweep, its axes with their labels, and the overrides that make
each cell's scenario.

The axes are the [[sweep.axis]] tables in order, then, when the scenario has two or more
variants, the implicit axis "variant" whose values are the variant labels: every
variant is a series. A cell is a tuple of indices, one per axis; each cell runs at
every seed of `seeds`.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any, Iterator

from tuisim.scenario import Scenario
from tuisim.scenario.sweep import VARIANT_AXIS, Sweep


@dataclass(frozen=True)
class GridAxis:
    key: str  # "model.depth", "train.lr", ... or "variant"
    label: str  # the axis's title
    values: tuple  # in order (the variant labels for "variant")
    labels: tuple[str, ...]  # tick labels, one per value

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)

    @property
    def log(self) -> bool:
        """Positive numbers spanning two decades or more: draw the axis on a log scale."""
        return (self.numeric and len(self.values) > 2 and min(self.values) > 0
                and max(self.values) / min(self.values) >= 100)

    def __len__(self) -> int:
        return len(self.values)


class Grid:
    def __init__(self, scenario: Scenario, sweep: Sweep):
        self.sweep = sweep
        self.variants: tuple[str, ...] = tuple(v.label for v in scenario.variants)
        axes = [GridAxis(a.key, a.label, a.values, a.labels) for a in sweep.axes]
        if len(self.variants) > 1:
            axes.append(GridAxis(VARIANT_AXIS, "variant", self.variants, self.variants))
        self.axes: tuple[GridAxis, ...] = tuple(axes)
        self.seeds: tuple[int, ...] = tuple(scenario.seed + k for k in range(sweep.seeds))
        self.shape: tuple[int, ...] = tuple(len(a) for a in self.axes)

    @property
    def explicit_axes(self) -> tuple[GridAxis, ...]:
        """The axes of [sweep] (without the variant axis)."""
        return tuple(a for a in self.axes if a.key != VARIANT_AXIS)

    @property
    def size(self) -> int:
        """Cells (points x variants)."""
        n = 1
        for s in self.shape:
            n *= s
        return n

    def cells(self) -> Iterator[tuple[int, ...]]:
        return itertools.product(*(range(s) for s in self.shape))

    def axis_index(self, key: str) -> int | None:
        return next((i for i, a in enumerate(self.axes) if a.key == key), None)

    def point(self, cell: tuple[int, ...]) -> dict[str, Any]:
        """The values of the explicit axes at a cell: {"model.depth": 10, "train.lr": 0.1}."""
        return {a.key: a.values[i] for a, i in zip(self.axes, cell) if a.key != VARIANT_AXIS}

    def variant(self, cell: tuple[int, ...]) -> str:
        k = self.axis_index(VARIANT_AXIS)
        return self.variants[cell[k]] if k is not None else self.variants[0]

    def overrides(self, cell: tuple[int, ...]) -> list[str]:
        """The cell's axes as --set overrides: ["model.depth=10", "train.lr=0.1"]."""
        return [f"{key}={toml_value(value)}" for key, value in self.point(cell).items()]

    def describe(self, cell: tuple[int, ...]) -> str:
        """'model.depth=10, train.lr=0.1, variant "plain"' (tick labels)."""
        parts = [f"{a.label}={a.labels[i]}" for a, i in zip(self.axes, cell) if a.key != VARIANT_AXIS]
        if len(self.variants) > 1:
            parts.append(f'variant "{self.variant(cell)}"')
        return ", ".join(parts) or f'variant "{self.variants[0]}"'


def toml_value(value: Any) -> str:
    """A value as TOML (and --set) writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as a TOML value")
