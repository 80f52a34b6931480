"""A loaded scenario: frozen, validated, every default filled in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuisim.core.params import OPTIMIZER_PARAMS

if TYPE_CHECKING:
    from .sweep_model import Sweep


@dataclass(frozen=True)
class Variant:
    """One run: the base tables deep-merged with the variant's overrides."""

    label: str
    model: dict[str, Any]  # every MODEL_PARAMS key: tuisim.Network(**model, n_in=, n_out=, seed=)
    train: dict[str, Any]  # every OPTIMIZER_PARAMS key (loss resolved) + batch_size, eval_every, shuffle
    pretrain: dict[str, Any] | None  # steps_per_layer, lr, optimizer, batch_size; None: no pretraining
    data: dict[str, Any]  # every DATA_PARAMS key, defaults filled; path absolute (csv/npz); {} with a surface
    # with a [surface]: {"name", "params" (every parameter of that surface), "start" (x, y), "noise"}; then
    # model and data are {} and train holds the optimizer keys alone
    surface: dict[str, Any] | None = None

    @property
    def optimizer_kwargs(self) -> dict[str, Any]:
        """tuisim.Optimizer(net, **variant.optimizer_kwargs)"""
        return {k: self.train[k] for k in OPTIMIZER_PARAMS if k in self.train}


@dataclass(frozen=True)
class Expect:
    """A claim checked against a recorded run (see metrics.METRICS)."""

    claim: str | None
    variant: str  # a label of Scenario.variants
    metric: str
    layer: int | str | None  # per-layer metrics: index (negative from the end) or "mean"/"min"/"max"
    at: int | str | None  # step, or "start"/"end"/"min"/"max"/"mean"; None for run metrics
    threshold: float | None  # steps_to_loss
    relative_to: str | None  # another variant's label
    relative_at: int | str | None  # step, "start" or "end"
    below: float | None
    above: float | None
    between: tuple[float, float] | None
    equals: bool | float | None
    line: int | None  # of its [[expect]] header
    seeds: str = "median"  # with several seeds: "median", "all" or "any" must pass
    claim_zh: str | None = None  # the claim in Chinese


@dataclass(frozen=True)
class Scenario:
    path: Path | None
    name: str  # the file's stem
    title: str
    lessons: list[str]
    description: str
    seed: int
    steps: int
    data: dict[str, Any]  # the base [data], validated, defaults filled
    variants: list[Variant]
    expects: list[Expect]
    sweep: Sweep | None  # [sweep], validated (tuisim.scenario.sweep)
    source: str
    seeds: int = 1  # runs of every variant: seeds seed, seed + 1, ..., seed + seeds - 1
    title_zh: str | None = None  # the title and description in Chinese (None: the English ones)
    description_zh: str | None = None

    @property
    def surface(self) -> bool:
        """Whether the scenario trains points on a 2-D surface (not networks)."""
        return bool(self.variants) and self.variants[0].surface is not None

    @property
    def base_dir(self) -> Path:
        """The folder data paths are relative to."""
        return self.path.parent if self.path is not None else Path.cwd()

    def variant(self, label: str) -> Variant:
        for v in self.variants:
            if v.label == label:
                return v
        raise KeyError(label)
