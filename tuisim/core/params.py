"""The keyword arguments of `Network` and `Optimizer`, declared once.

The engine validates its keyword arguments against these tables, and the scenario
format's `[model]` and `[train]` keys are these same tables, so the documentation,
the scenario validation and the API cannot drift apart.

A `Param` knows its type, default, allowed range or names, and a one-line doc.
`Param.check(value)` returns the normalised value or raises `ValueError` with a
sentence that says what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import registry


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # int, float, bool, name, widths, betas
    default: Any
    doc: str
    lo: float | None = None  # inclusive lower bound
    hi: float | None = None  # inclusive upper bound
    lo_open: bool = False  # lower bound exclusive
    hi_open: bool = False  # upper bound exclusive
    choices: dict | None = None  # registry for kind == "name"
    none_ok: bool = False  # None (TOML: leave the key out) means "the default rule"

    def allowed(self) -> str:
        """What values are allowed, in words."""
        if self.kind == "name":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "widths":
            what = "a positive integer" if self.hi is None else f"an integer >= 1 and <= {_fmt(self.hi)}"
            return f"{what}, or a list of them (one per hidden layer)"
        if self.kind == "betas":
            return "a pair [beta1, beta2] with 0 <= beta < 1"
        what = "an integer" if self.kind == "int" else "a number"
        return what + self._range_words()

    def _range_words(self) -> str:
        parts = []
        if self.lo is not None:
            parts.append(("> " if self.lo_open else ">= ") + _fmt(self.lo))
        if self.hi is not None:
            parts.append(("< " if self.hi_open else "<= ") + _fmt(self.hi))
        return (" " + " and ".join(parts)) if parts else ""

    def check(self, value: Any) -> Any:
        if value is None:
            if self.none_ok:
                return None
            raise ValueError(f"{self.name} must be {self.allowed()}, not None")
        k = self.kind
        if k == "name":
            if not isinstance(value, str):
                raise ValueError(f"{self.name} must be a name ({self.allowed()}), not {_type(value)}")
            if value not in self.choices:
                raise ValueError(f"{self.name}: " + registry.unknown_name_message(self.name, self.choices, value))
            return value
        if k == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} must be true or false, not {_type(value)}")
            return value
        if k == "widths":
            if isinstance(value, (list, tuple)):
                if not value:
                    raise ValueError(f"{self.name} must be {self.allowed()}, not an empty list")
                return [self._int(v, f"{self.name}[{i}]", 1, self.hi) for i, v in enumerate(value)]
            return self._int(value, self.name, 1, self.hi)
        if k == "betas":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise ValueError(f"{self.name} must be {self.allowed()}, not {value!r}")
            out = []
            for i, v in enumerate(value):
                v = self._float(v, f"{self.name}[{i}]")
                if not 0.0 <= v < 1.0:
                    raise ValueError(f"{self.name}[{i}] must be >= 0 and < 1, not {_fmt(v)}")
                out.append(v)
            return tuple(out)
        if k == "int":
            v = self._int(value, self.name, None)
        else:
            v = self._float(value, self.name)
        self._check_range(v)
        return v

    def _int(self, value: Any, name: str, lo: int | None, hi: float | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ValueError(f"{name} must be an integer, not {_type(value)}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            bounds = f">= {lo}" + (f" and <= {_fmt(hi)}" if hi is not None else "")
            raise ValueError(f"{name} must be an integer {bounds}, not {value}")
        return value

    def _float(self, value: Any, name: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, not {_type(value)}")
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number, not {value!r}")
        return v

    def _check_range(self, v: float) -> None:
        bad = False
        if self.lo is not None:
            bad |= v <= self.lo if self.lo_open else v < self.lo
        if self.hi is not None:
            bad |= v >= self.hi if self.hi_open else v > self.hi
        if bad:
            raise ValueError(f"{self.name} must be {self.allowed()}, not {_fmt(v)}")


def _fmt(v: float) -> str:
    return repr(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(v)


def _type(v: Any) -> str:
    if isinstance(v, str):
        return f"the text {v!r}"
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, dict):
        return "a table"
    return f"{type(v).__name__} {v!r}"


def _table(*params: Param) -> dict[str, Param]:
    return {p.name: p for p in params}


# Sizes a user could want, and no more: a 8192-wide layer is a 0.5 GB matrix in float64
# (what a whole scenario needs is checked against the machine: tuisim.scenario.budget).
MAX_DEPTH = 200
MAX_WIDTH = 8192

MODEL_PARAMS: dict[str, Param] = _table(
    Param("depth", "int", 3, "number of hidden layers", lo=1, hi=MAX_DEPTH),
    Param("width", "widths", 64, "hidden width: one number, or a list with one per hidden layer", lo=1,
          hi=MAX_WIDTH),
    Param("activation", "name", "relu", "hidden activation", choices=registry.ACTIVATIONS),
    Param("negative_slope", "float", 0.01, "leaky_relu's slope for negative inputs", lo=0),
    Param("alpha", "float", 1.0, "elu's alpha", lo=0, lo_open=True),
    Param("pieces", "int", 2, "maxout: linear pieces per unit", lo=2, hi=16),
    Param("init", "name", "he_normal", "weight initialization of every linear layer", choices=registry.INITS),
    Param("init_std", "float", 1.0, "standard deviation of `normal` and `truncated_normal`", lo=0, lo_open=True),
    Param("init_range", "float", None, "`uniform` draws from U(-a, a), a = init_range (default 1/sqrt(fan_in))",
          lo=0, lo_open=True, none_ok=True),
    Param("init_gain", "float", None,
          "gain of xavier_* and orthogonal (default 1) and he_* (default: the activation's gain)",
          lo=0, lo_open=True, none_ok=True),
    Param("init_value", "float", 0.1, "the value of `constant` init"),
    Param("init_scale", "float", 1.0, "multiplier applied to every initial weight (0.01, 10, ...)",
          lo=0, lo_open=True),
    Param("bias_init", "float", None, "initial value of every bias (default 0; torch_default draws it)",
          none_ok=True),
    Param("norm", "name", "none", "normalization of every hidden layer", choices=registry.NORMS),
    Param("norm_position", "name", "before", "normalize before the activation, or after it",
          choices=registry.NORM_POSITIONS),
    Param("architecture", "name", "plain", "plain, residual or highway blocks", choices=registry.ARCHITECTURES),
    Param("skip_every", "int", None, "hidden layers per residual/highway block (default 2 residual, 1 highway)",
          lo=1, none_ok=True),
    Param("shortcut", "name", "projection", "shortcut where a block changes width", choices=registry.SHORTCUTS),
    Param("gate_bias", "float", -2.0, "initial bias of highway gates (negative: carry the input at first)"),
    Param("dropout", "float", 0.0, "dropout probability after every hidden layer (training only)",
          lo=0, hi=1, hi_open=True),
    Param("dtype", "name", "float64", "float64, or float32", choices=registry.DTYPES),
)

OPTIMIZER_PARAMS: dict[str, Param] = _table(
    Param("optimizer", "name", "sgd", "the update rule", choices=registry.OPTIMIZERS),
    Param("lr", "float", None, "learning rate (default: torch.optim's for the optimizer)", lo=0, lo_open=True,
          none_ok=True),
    Param("momentum", "float", None, "momentum factor (default 0.9 for momentum and nesterov, else 0)",
          lo=0, hi=1, hi_open=True, none_ok=True),
    Param("dampening", "float", 0.0, "SGD dampening", lo=0, hi=1),
    Param("betas", "betas", (0.9, 0.999), "Adam-family moment decay rates"),
    Param("eps", "float", None, "term added to denominators (default: torch.optim's)", lo=0, lo_open=True,
          none_ok=True),
    Param("rho", "float", 0.9, "Adadelta's decay rate", lo=0, hi=1, hi_open=True),
    Param("alpha", "float", 0.99, "RMSprop's decay rate", lo=0, hi=1, hi_open=True),
    Param("weight_decay", "float", None, "L2 penalty (AdamW: decoupled; default 0.01 there, else 0)", lo=0,
          none_ok=True),
    Param("lr_decay", "float", 0.0, "Adagrad's learning-rate decay", lo=0),
    Param("initial_accumulator_value", "float", 0.0, "Adagrad's starting sum of squares", lo=0),
    Param("centered", "bool", False, "RMSprop: divide by the centred second moment"),
    Param("amsgrad", "bool", False, "Adam/AdamW: keep the maximum of the second moment"),
    Param("momentum_decay", "float", 4e-3, "NAdam's momentum decay", lo=0),
    Param("clip_norm", "float", None, "clip the global gradient norm to this value", lo=0, lo_open=True,
          none_ok=True),
    Param("clip_value", "float", None, "clip every gradient element to [-value, value]", lo=0, lo_open=True,
          none_ok=True),
    Param("schedule", "name", "constant", "learning-rate schedule", choices=registry.SCHEDULES),
    Param("step_size", "int", 100, "`step` schedule: steps between decays", lo=1),
    Param("gamma", "float", None, "`step` / `exponential` schedule: decay factor (default 0.1 / 0.99)", lo=0,
          lo_open=True, hi=1, none_ok=True),
    Param("t_max", "int", 1000, "`cosine` schedule: steps of one half period (a run uses its own steps)", lo=1),
    Param("eta_min", "float", 0.0, "`cosine` schedule: the lowest learning rate", lo=0),
    Param("warmup_steps", "int", 0, "linear warmup steps, on top of any schedule", lo=0),
    Param("loss", "name", "cross_entropy", "the loss function", choices=registry.LOSSES),
)

# torch.optim defaults that depend on the optimizer
DEFAULT_LR = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 1e-2, "adadelta": 1.0,
              "rmsprop": 1e-2, "adam": 1e-3, "adamw": 1e-3, "nadam": 2e-3}
DEFAULT_EPS = {"adagrad": 1e-10, "adadelta": 1e-6, "rmsprop": 1e-8, "adam": 1e-8, "adamw": 1e-8, "nadam": 1e-8}
DEFAULT_MOMENTUM = {"momentum": 0.9, "nesterov": 0.9}
DEFAULT_WEIGHT_DECAY = {"adamw": 1e-2}
DEFAULT_GAMMA = {"step": 0.1, "exponential": 0.99}


def check_kwargs(table: dict[str, Param], kwargs: dict, what: str) -> dict:
    """Validate and normalise keyword arguments against a table; unknown names raise
    with the nearest known one suggested. Returns a dict with every key of the table."""
    out = {}
    for key, value in kwargs.items():
        if key not in table:
            raise ValueError(f"{what}: " + registry.unknown_name_message("keyword", table, key))
        out[key] = table[key].check(value)
    for key, p in table.items():
        out.setdefault(key, p.default)
    return out
