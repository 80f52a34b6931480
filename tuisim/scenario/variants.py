"""[[variant]]s: each one the base tables deep-merged with its overrides, then checked as
a whole: the rules that involve more than one key, and those that need the data.

A cross-key problem is reported at the variant when the variant overrides one of the
keys involved, else at the base table (once, however many variants share it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuisim.core.params import MODEL_PARAMS
from tuisim.core.surface_spec import SURFACES, param_problems
from tuisim.data import DATA_PARAMS, DataInfo, DatasetError, describe_data, resolve_data

from .keys import PRETRAIN_PARAMS, SURFACE_SHAPE_KEYS, SURFACE_TRAIN_PARAMS, TOP_PARAMS, TRAIN_PARAMS, VARIANT_PARAMS
from .model import Variant
from .report import Report
from .tables import SECTIONS, Checked, check_keys, check_section, table_value, with_defaults

SECTION_NAMES = tuple(SECTIONS)


@dataclass
class VariantSpec:
    """A variant's overrides, checked key by key; `index` None for the implicit variant."""

    index: int | None
    label: str | None = None
    sections: dict[str, Checked] = field(default_factory=dict)

    def overrides(self, section: str, key: str) -> bool:
        c = self.sections.get(section)
        return c is not None and (key in c.values or key in c.bad)


@dataclass
class Resolved:
    """A merged variant and what the expectations need to know about it."""

    variant: Variant
    info: DataInfo | None  # None when the data could not be described (or with a surface)
    depth: int | None


def read_variants(report: Report, raw_list: list[dict], title: str | None, surface: bool = False
                  ) -> list[VariantSpec]:
    """Check every [[variant]]'s own keys and labels. No [[variant]]: one implicit variant."""
    if not raw_list:
        return [VariantSpec(None, title)]
    homes = ("data", "pretrain", "model", "train", "surface") if surface else \
        ("surface", "data", "pretrain", "train", "model")  # a key of two tables: the last one's hint
    hints = {k: f"{k} is a [{s}] key: write {s}.{k} = ..." for s in homes for k in (SECTIONS[s] or DATA_PARAMS)}
    hints.update({k: f"{k} is a top-level key: every variant shares it" for k in TOP_PARAMS})
    specs = []
    for i, raw in enumerate(raw_list):
        path = ("variant", i)
        spec = VariantSpec(i)
        scalars = {k: v for k, v in raw.items() if k not in SECTION_NAMES}
        values, _ = check_keys(report, VARIANT_PARAMS, scalars, path, "[[variant]]", hints)
        spec.label = values.get("label")
        for s in SECTION_NAMES:
            spec.sections[s] = check_section(report, s, table_value(report, raw, s, path), path + (s,), surface)
        specs.append(spec)
    seen: dict[str, int] = {}
    for spec in specs:
        if spec.label is None:
            if len(specs) >= 2 and "label" not in raw_list[spec.index]:
                report.add(("variant", spec.index, "label"),
                           f"missing: with {len(specs)} variants each needs a label (a text, unique)")
            if len(specs) == 1:
                spec.label = title
            continue
        if spec.label in seen:
            report.add(("variant", spec.index, "label"),
                       f"duplicate label {spec.label!r}: variant[{seen[spec.label]}] has it too; labels must be "
                       f"unique")
        else:
            seen[spec.label] = spec.index
            report.labels[spec.index] = spec.label
    return specs


class Merger:
    """Merges and checks the variants of one scenario."""

    def __init__(self, report: Report, base: dict[str, Checked], base_dir: Path, steps: int | None,
                 surface: bool = False):
        self.report = report
        self.surface = surface
        self.steps = steps
        self.base = base
        self.base_dir = base_dir
        self._described: dict[tuple, DataInfo | DatasetError] = {}

    # -- problems -------------------------------------------------------------------------
    def problem(self, spec: VariantSpec, involved: list[tuple[str, str]], message: str) -> None:
        """Report at the first involved key the variant overrides, else at the base's first."""
        for section, key in involved:
            if spec.index is not None and spec.overrides(section, key):
                self.report.add(("variant", spec.index, section, key), message)
                return
        section, key = involved[0]
        self.report.add((section, key), message)

    def bad(self, spec: VariantSpec, section: str, key: str) -> bool:
        """Whether the merged value of `key` is missing because it was invalid."""
        own = spec.sections.get(section)
        if own is not None and key in own.values:
            return False
        if own is not None and key in own.bad:
            return True
        return key in self.base[section].bad

    def merged(self, spec: VariantSpec, section: str) -> dict:
        own = spec.sections.get(section)
        return {**self.base[section].values, **(own.values if own is not None else {})}

    # -- the data ---------------------------------------------------------------------------
    def data(self, spec: VariantSpec) -> tuple[dict | None, DataInfo | None]:
        values = self.merged(spec, "data")
        resolved, problems = resolve_data(values)
        if any(self.bad(spec, "data", k) for k in DATA_PARAMS):
            return resolved, None
        for keys, message in problems:
            self.problem(spec, [("data", k) for k in keys], message)
        if resolved is None or problems:
            return resolved, None
        if resolved["path"] is not None:
            resolved["path"] = str((self.base_dir / Path(resolved["path"]).expanduser()).resolve())
        cache_key = tuple(sorted(resolved.items()))
        if cache_key not in self._described:
            try:
                self._described[cache_key] = describe_data(resolved, self.base_dir)
            except DatasetError as e:
                self._described[cache_key] = e
        info = self._described[cache_key]
        if isinstance(info, DatasetError):
            key = info.key if info.key in DATA_PARAMS else "path"
            self.problem(spec, [("data", key), ("data", "name")], str(info))
            return resolved, None
        return resolved, info

    # -- a whole variant ---------------------------------------------------------------------
    def resolve(self, spec: VariantSpec) -> Resolved:
        if self.surface:
            return self.resolve_surface(spec)
        data, info = self.data(spec)
        model = with_defaults(MODEL_PARAMS, self.merged(spec, "model"))
        train = with_defaults(TRAIN_PARAMS, self.merged(spec, "train"))
        ok = lambda *keys: not any(self.bad(spec, s, k) for s, k in keys)  # noqa: E731

        # [model]
        if isinstance(model["width"], list) and ok(("model", "width"), ("model", "depth")):
            n, depth = len(model["width"]), model["depth"]
            if n != depth:
                self.problem(spec, [("model", "width"), ("model", "depth")],
                             f"width lists {n} hidden layer{'s' if n != 1 else ''} but depth is {depth}: "
                             f"give one width per hidden layer (or set depth = {n})")

        # [train]
        self._check_optimizer(spec, train)
        loss_set = "loss" in self.merged(spec, "train")
        if not loss_set and not self.bad(spec, "train", "loss"):
            train["loss"] = "mse" if info is not None and info.task == "regression" else "cross_entropy"
        if loss_set and info is not None:
            self._check_loss(spec, train["loss"], data, info)
        self._check_batch(spec, "train", train["batch_size"], model, info)

        # [pretrain]
        pretrain = None
        own = spec.sections.get("pretrain")
        if self.base["pretrain"].present or (own is not None and own.present):
            pretrain = with_defaults(PRETRAIN_PARAMS, self.merged(spec, "pretrain"))
            if pretrain["batch_size"] is None:
                pretrain["batch_size"] = train["batch_size"]  # checked with [train]
            else:
                self._check_batch(spec, "pretrain", pretrain["batch_size"], model, info)
            if pretrain["steps_per_layer"] == 0:
                pretrain = None

        variant = Variant(label=spec.label or "", model=model, train=train, pretrain=pretrain, data=data or {})
        depth = model["depth"] if ok(("model", "depth")) else None
        return Resolved(variant, info, depth)

    def _check_optimizer(self, spec: VariantSpec, train: dict) -> None:
        """The [train] rules of the optimizer keys (a network's and a surface's), and
        the cosine schedule's span: the run, unless told otherwise."""
        if "t_max" not in self.merged(spec, "train") and self.steps is not None:
            train["t_max"] = self.steps
        ok = lambda *keys: not any(self.bad(spec, s, k) for s, k in keys)  # noqa: E731
        if train["schedule"] == "warmup" and train["warmup_steps"] < 1 and ok(("train", "warmup_steps")):
            self.problem(spec, [("train", "schedule"), ("train", "warmup_steps")],
                         "the warmup schedule needs warmup_steps >= 1 (the steps of the linear warmup)")
        if train["optimizer"] == "nesterov" and ok(("train", "optimizer")):
            if train["momentum"] is not None and train["momentum"] == 0:
                self.problem(spec, [("train", "momentum"), ("train", "optimizer")],
                             "nesterov needs momentum > 0 (leave it out for 0.9)")
            if train["dampening"] != 0:
                self.problem(spec, [("train", "dampening"), ("train", "optimizer")],
                             "nesterov needs dampening = 0 (as torch.optim.SGD)")

    def resolve_surface(self, spec: VariantSpec) -> Resolved:
        """A variant of a [surface] scenario: the optimizer keys of [train], and the
        surface with its parameters (those of the named surface only), start and noise."""
        train = with_defaults(SURFACE_TRAIN_PARAMS, self.merged(spec, "train"))
        self._check_optimizer(spec, train)
        own = spec.sections.get("surface")
        for key in ("name",) + SURFACE_SHAPE_KEYS:
            if spec.index is not None and spec.overrides("surface", key):
                self.report.add(("variant", spec.index, "surface", key),
                                f"every variant runs on the one surface of [surface] (its paths are drawn on one "
                                f"map): a variant may change surface.start and surface.noise, not surface.{key}")
                own.values.pop(key, None)
        raw = self.merged(spec, "surface")
        name = raw.get("name")
        surface = None
        if name is None:
            if not self.bad(spec, "surface", "name"):
                self.problem(spec, [("surface", "name")], "missing: which surface, one of " + ", ".join(
                    repr(n) for n in SURFACES))
        else:
            shape = {k: raw[k] for k in SURFACE_SHAPE_KEYS if raw.get(k) is not None}
            for key, message in param_problems(name, shape):
                if key is None or not self.bad(spec, "surface", key):
                    self.problem(spec, [("surface", key or "name"), ("surface", "name")], message)
            surface = {"name": name, "params": {**SURFACES[name].params, **shape},
                       "start": tuple(raw["start"]) if raw.get("start") is not None else SURFACES[name].start,
                       "noise": raw.get("noise", 0.0)}
        variant = Variant(label=spec.label or "", model={}, train=train, pretrain=None, data={},
                          surface=surface or {"name": None})  # name None: its problem is reported
        return Resolved(variant, None, None)

    def _check_loss(self, spec: VariantSpec, loss: str, data: dict, info: DataInfo) -> None:
        name = data["name"]
        involved = [("train", "loss"), ("data", "name"), ("data", "classes")]
        if loss == "cross_entropy" and info.task == "regression":
            self.problem(spec, involved, f"cross_entropy needs class labels, but {name} is a regression "
                                         f"dataset (use mse, or leave loss out)")
        if loss == "bce" and (info.task != "classification" or info.n_out != 2):
            what = "a regression dataset" if info.task == "regression" else f"{info.n_out} classes"
            self.problem(spec, involved, f"bce needs a classification dataset with 2 classes, but {name} here "
                                         f"has {what} (use cross_entropy)")

    def _check_batch(self, spec: VariantSpec, section: str, batch: Any, model: dict,
                     info: DataInfo | None) -> None:
        if self.bad(spec, section, "batch_size"):
            return
        involved = [(section, "batch_size"), ("model", "norm")]
        where = "" if section == "train" else " (pretraining)"
        if model["norm"] == "batch" and batch == 1 and not self.bad(spec, "model", "norm"):
            self.problem(spec, involved, f"batch norm needs batch_size >= 2{where}: the statistics of a batch "
                                         f"of one example are undefined")
        if info is not None and batch != "full" and batch > info.n_train:
            data_keys = [("data", "samples"), ("data", "test_fraction"), ("data", "name")]
            self.problem(spec, involved[:1] + data_keys,
                         f"batch_size {batch}{where} is larger than the training set ({info.n_train} examples "
                         f"after the {info.n_test}-example test split); use at most {info.n_train}, or \"full\"")
