"""Every table of the scenario format, declared once with the engine's `Param` class
(and `Key`, its extension for text, lists and mixed types): validation and the
reference documentation (`reference.py`) both read these tables.

[model] is `tuisim.core.params.MODEL_PARAMS`; [train] is OPTIMIZER_PARAMS plus RUN_PARAMS;
[data] is `tuisim.data.DATA_PARAMS`.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from tuisim.core import registry
from tuisim.core.params import MODEL_PARAMS, OPTIMIZER_PARAMS, Param
from tuisim.core.surface_spec import SADDLE_KINDS, SURFACES
from tuisim.data.keys import DATA_PARAMS, Key, found

from .metrics import AT_NAMES, LAYER_NAMES, METRICS, RELATIVE_AT_NAMES

MAX_SEEDS = 64  # runs per variant: more is a sweep's job
# Sizes a user could want, and no more (what a scenario needs in memory is checked against
# the machine: budget.py): 10^7 steps is hours of training; a batch as large as the largest
# generated dataset; 10^6 pretraining steps per layer (the lesson uses 600)
MAX_STEPS = 10_000_000
MAX_BATCH = 1_000_000
MAX_PRETRAIN_STEPS = 1_000_000
SEED_RULES = {"median": "the median across the seeds must pass (the default)",
              "all": "every seed must pass", "any": "at least one seed must pass"}

LESSON_PATTERN = re.compile(r"^L\d+(\.\d+)?$")


def _integer(value: Any) -> int | None:
    """An int (or an integral float, as Param accepts), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _unknown(value: str, names: tuple[str, ...], number: str) -> str:
    near = difflib.get_close_matches(value, names, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return f"unknown value {value!r}{hint}; allowed: {number}, or " + ", ".join(f'"{n}"' for n in names)


def _lessons(key: Key, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"{key.name} must be {key.allowed()}, not {found(value)}")
    for i, v in enumerate(value):
        if not isinstance(v, str) or not LESSON_PATTERN.match(v):
            raise ValueError(f"{key.name}[{i}] must be a lesson number like \"L1.2\", not {found(v)}")
    return list(value)


def _batch_size(key: Key, value: Any) -> int | str:
    n = _integer(value)
    if value == "full" or (n is not None and 1 <= n <= MAX_BATCH):
        return "full" if value == "full" else n
    raise ValueError(f"{key.name} must be {key.allowed()}, not {found(value)}")


def _step_or(names: tuple[str, ...]):
    def check(key: Key, value: Any) -> int | str:
        n = _integer(value)
        if (isinstance(value, str) and value in names) or (n is not None and n >= 0):
            return value if isinstance(value, str) else n
        if isinstance(value, str):
            raise ValueError(f"{key.name}: " + _unknown(value, names, "a step number"))
        raise ValueError(f"{key.name} must be {key.allowed()}, not {found(value)}")
    return check


def _layer(key: Key, value: Any) -> int | str:
    n = _integer(value)
    if n is not None:
        return n
    if isinstance(value, str) and value in LAYER_NAMES:
        return value
    if isinstance(value, str):
        raise ValueError(f"{key.name}: " + _unknown(value, LAYER_NAMES, "a layer index"))
    raise ValueError(f"{key.name} must be {key.allowed()}, not {found(value)}")


def _number(key: Key, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{key.name} must be {key.allowed()}, not {found(value)}")
    return float(value)


def _between(key: Key, value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{key.name} must be {key.allowed()}, not {found(value)}")
    lo, hi = (_number(key, v) for v in value)
    if not lo < hi:
        raise ValueError(f"{key.name} must be [lo, hi] with lo < hi, not [{lo:g}, {hi:g}]")
    return lo, hi


def _equals(key: Key, value: Any) -> bool | float:
    if isinstance(value, bool):
        return value
    return _number(key, value)


def _point(key: Key, value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{key.name} must be {key.allowed()}, not {found(value)}")
    out = []
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"{key.name}[{i}] must be a finite number, not {found(v)}")
        out.append(float(v))
    return out[0], out[1]


def _table(*params: Param) -> dict[str, Param]:
    return {p.name: p for p in params}


TOP_PARAMS: dict[str, Param] = _table(
    Key("title", "text", None, "one line: what the scenario shows", required=True),
    Key("lessons", "texts", [], "the claims of LESSONS.md the scenario shows, e.g. [\"L1.2\", \"L1.5\"]",
        words='a list of lesson numbers like "L1.2"', checker=_lessons),
    Key("description", "text", "", "markdown: what to look for, shown beside the run"),
    Key("title_zh", "text", None, "the title in Chinese (shown with --lang zh, or a zh_* locale)", none_ok=True,
        default_doc="the English `title`"),
    Key("description_zh", "text", None, "the description in Chinese", none_ok=True,
        default_doc="the English `description`"),
    Param("seed", "int", 0, "seeds the data, the initialization, the batches and dropout", lo=0),
    Param("seeds", "int", 1, "runs of every variant, with seeds seed, seed+1, ..., seed+seeds-1; the app "
          "draws their median and spread, and [[expect]] claims are checked on the median", lo=1, hi=MAX_SEEDS),
    Param("steps", "int", 1000, "training steps of every variant", lo=1, hi=MAX_STEPS),
)

# The tables at the top level, with what they hold.
TABLES = {
    "data": "the dataset",
    "model": "the network (tuisim.Network's keyword arguments)",
    "train": "the optimizer (tuisim.Optimizer's keyword arguments) and the run's settings",
    "pretrain": "optional greedy layer-wise autoencoder pretraining",
    "variant": "runs compared side by side, each the base tables plus overrides (an array of tables)",
    "expect": "claims checked by `tuisim run --check` and the test suite (an array of tables)",
    "sweep": "a map: axes over any keys, the measure each cell shows, claims about the map (`tuisim sweep`)",
    "surface": "instead of a network and data: a point [x, y] trained on a 2-D test function (optimizer paths)",
}
ARRAY_TABLES = ("variant", "expect")

BATCH_WORDS = f'an integer >= 1 and <= {MAX_BATCH}, or "full" (the whole training set every step)'

RUN_PARAMS: dict[str, Param] = _table(
    Key("batch_size", "batch", 64, "examples per step: 1 is stochastic, \"full\" batch gradient descent",
        words=BATCH_WORDS, checker=_batch_size),
    Param("eval_every", "int", 10, "steps between evaluations of the test loss and accuracy", lo=1),
    Param("shuffle", "bool", True, "reshuffle the training set every epoch (false: a fixed order)"),
)

TRAIN_PARAMS: dict[str, Param] = {**OPTIMIZER_PARAMS, **RUN_PARAMS}
# what a [train] table holds in a scenario with a [surface]: the optimizer alone (a point has
# no batches, no test split, and its loss is the surface)
SURFACE_TRAIN_PARAMS: dict[str, Param] = {k: p for k, p in OPTIMIZER_PARAMS.items() if k != "loss"}
NOT_SURFACE_TRAIN_KEYS = {
    **{k: f"{k} does not apply to a [surface]: a point has no batches or test split (every step takes the "
          f"surface's gradient, plus [surface] noise)" for k in RUN_PARAMS},
    "loss": "loss does not apply to a [surface]: the loss is the surface's value",
}

SURFACE_PARAMS: dict[str, Param] = _table(
    Key("name", "name", None, "the test function: " + ", ".join(SURFACES) + " (see the table of surfaces)",
        choices=SURFACES, required=True, noun="surface"),
    Key("start", "point", None, "the starting point [x, y]", words="a pair [x, y] of finite numbers",
        checker=_point, none_ok=True, default_doc="the surface's classic start (the table of surfaces)"),
    Param("noise", "float", 0.0, "standard deviation of Gaussian noise added to each gradient coordinate, drawn "
          "from the seed: a stochastic gradient (SGD) instead of the exact one (batch GD)", lo=0),
    Param("a", "float", None, "rosenbrock: the minimum's x (default 1); quadratic: the curvature along x "
          "(default 1, > 0)", none_ok=True),
    Param("b", "float", None, "rosenbrock: the valley's steepness (default 100); quadratic: the curvature along "
          "y (default 1)", lo=0, lo_open=True, none_ok=True),
    Param("condition", "float", None, "ravine: the curvature across (y) over that along (x) (default 10)", lo=0,
          lo_open=True, none_ok=True),
    Key("kind", "name", None, "saddle: \"quadratic\" (x^2 - y^2, the default) or \"monkey\" (x^3 - 3xy^2)",
        choices={k: k for k in SADDLE_KINDS}, none_ok=True, noun="saddle kind"),
)
SURFACE_SHAPE_KEYS = ("a", "b", "condition", "kind")  # the parameters of the surfaces (which apply: SURFACES)

PRETRAIN_PARAMS: dict[str, Param] = _table(
    Param("steps_per_layer", "int", 300, "autoencoder training steps per hidden layer (0: no pretraining)",
          lo=0, hi=MAX_PRETRAIN_STEPS),
    Param("lr", "float", 0.01, "learning rate of the pretraining", lo=0, lo_open=True),
    Param("optimizer", "name", "adam", "update rule of the pretraining", choices=registry.OPTIMIZERS),
    Key("batch_size", "batch", None, "examples per pretraining step", words=BATCH_WORDS, checker=_batch_size,
        none_ok=True, default_doc="[train]'s"),
)

VARIANT_PARAMS: dict[str, Param] = _table(
    Key("label", "text", None, "the variant's name in the app, the records and [[expect]]",
        default_doc="required with 2+ variants (the title with 1)", none_ok=True),
    Key("model", "table", None, "overrides of [model] keys: model.activation = \"relu\"", words="a table",
        none_ok=True),
    Key("train", "table", None, "overrides of [train] keys: train.lr = 0.01", words="a table", none_ok=True),
    Key("pretrain", "table", None, "overrides of [pretrain] keys (adds pretraining to this variant alone)",
        words="a table", none_ok=True),
    Key("data", "table", None, "overrides of [data] keys: data.noise = 0.3", words="a table", none_ok=True),
)

EXPECT_PARAMS: dict[str, Param] = _table(
    Key("claim", "text", None, "the claim in words, printed with the check's result", none_ok=True),
    Key("claim_zh", "text", None, "the claim in Chinese", none_ok=True, default_doc="the English `claim`"),
    Key("variant", "text", None, "label of the variant checked", none_ok=True,
        default_doc="the only variant"),
    Key("metric", "name", None, "what is measured (see the metrics table)", choices=METRICS, required=True,
        noun="metric"),
    Key("layer", "layer", None, "per-layer metrics: a linear layer's index (0 first, -1 the output layer, "
        "negative from the end) or \"mean\" / \"min\" / \"max\" over the layers",
        words='an integer, or "mean", "min" or "max"', checker=_layer, none_ok=True,
        default_doc='`"mean"` (per-layer metrics)'),
    Key("at", "at", None, "per-step metrics: a step (0 is the first), or \"start\", \"end\", or \"min\" / "
        "\"max\" / \"mean\" over the run; cond: \"start\" or \"end\"",
        words='a step number >= 0, or "start", "end", "min", "max" or "mean"', checker=_step_or(AT_NAMES),
        none_ok=True, default_doc='`"end"` (per-step metrics and cond)'),
    Param("threshold", "float", None, "steps_to_loss: the training loss to reach; steps_to_minimum: the distance "
          "to a minimum that counts as there (eps)", none_ok=True),
    Key("relative_to", "text", None, "another variant's label: divide by its value of the same metric",
        none_ok=True),
    Key("relative_at", "at", None, "a step, \"start\" or \"end\": divide by the value at that step (of this "
        "variant, or of relative_to's)", words='a step number >= 0, "start" or "end"',
        checker=_step_or(RELATIVE_AT_NAMES), none_ok=True),
    Key("below", "number", None, "passes when the value is < below", words="a number", checker=_number,
        none_ok=True),
    Key("above", "number", None, "passes when the value is > above", words="a number", checker=_number,
        none_ok=True),
    Key("between", "pair", None, "passes when lo <= value <= hi", words="a pair [lo, hi] of numbers, lo < hi",
        checker=_between, none_ok=True),
    Key("equals", "exact", None, "passes when the value equals it (true / false for diverged)",
        words="true, false or a number", checker=_equals, none_ok=True),
    Key("seeds", "name", "median", "with several seeds: \"median\" checks the median of the seeds' values "
        "(true / false: the majority), \"all\" requires the claim of every seed, \"any\" of at least one",
        choices=SEED_RULES, noun="seed rule"),
)
COMPARISONS = ("below", "above", "between", "equals")

# [model] keys that belong elsewhere, with where they come from.
NOT_MODEL_KEYS = {
    "n_in": "n_in is not a [model] key: the number of inputs comes from the data",
    "n_out": "n_out is not a [model] key: the number of outputs comes from the data (classes, or target "
             "columns; 1 with bce)",
    "seed": "seed is not a [model] key: the top-level `seed` seeds the data, the network and the batches",
}



def elsewhere(table: str, params: dict[str, Param]) -> dict[str, str]:
    """Keys of the other tables that are not keys of `table` (whose keys are `params`),
    each with a hint where it belongs: {"lr": "lr is a [train] key", ...}."""
    homes = (("top", TOP_PARAMS), ("model", MODEL_PARAMS), ("train", TRAIN_PARAMS), ("pretrain", PRETRAIN_PARAMS),
             ("data", DATA_PARAMS), ("surface", SURFACE_PARAMS))
    out: dict[str, str] = {}
    for home, keys in homes:
        for k in keys:
            if k in params or k in out or home == table:
                continue
            out[k] = f"{k} is a top-level key (before any [table])" if home == "top" else f"{k} is a [{home}] key"
    return out
