"""Names of every variant the engine knows, in one place.

Each registry is a plain dict, name -> integer code used inside the compiled kernels
(the kernels switch on these small integers, so one compiled step serves every
combination). Scenario validation, the CLI and the tests all iterate these dicts,
so an entry added here without support elsewhere fails the test suite.
"""

from __future__ import annotations

import difflib

ACTIVATIONS = {
    "identity": 0,
    "sigmoid": 1,
    "tanh": 2,
    "relu": 3,
    "leaky_relu": 4,
    "elu": 5,
    "selu": 6,
    "gelu": 7,
    "silu": 8,
    "softplus": 9,
    "maxout": 10,
}

INITS = {
    "zeros": 0,
    "constant": 1,
    "uniform": 2,
    "normal": 3,
    "truncated_normal": 4,
    "xavier_uniform": 5,
    "xavier_normal": 6,
    "he_uniform": 7,
    "he_normal": 8,
    "lecun_uniform": 9,
    "lecun_normal": 10,
    "orthogonal": 11,
    "torch_default": 12,
}

NORMS = {"none": 0, "batch": 1, "layer": 2, "rms": 3}

NORM_POSITIONS = {"before": 0, "after": 1}

ARCHITECTURES = {"plain": 0, "residual": 1, "highway": 2}

SHORTCUTS = {"projection": 0, "zeros": 1}

LOSSES = {"cross_entropy": 0, "bce": 1, "mse": 2}

OPTIMIZERS = {
    "sgd": 0,
    "momentum": 1,
    "nesterov": 2,
    "adagrad": 3,
    "adadelta": 4,
    "rmsprop": 5,
    "adam": 6,
    "adamw": 7,
    "nadam": 8,
}

SCHEDULES = {"constant": 0, "step": 1, "exponential": 2, "cosine": 3, "warmup": 4}

DTYPES = {"float64": 0, "float32": 1}

# The per-layer statistics every step measures (StepStats fields, record columns)
LAYER_FIELDS = ("grad_norm", "delta_norm", "weight_norm", "update_ratio", "act_mean", "act_std", "saturated", "dead")

# Activations whose units can be "dead" (zero, or on the negative slope, for a whole batch)
DEAD_ACTIVATIONS = ("relu", "leaky_relu")
# Activations with bounded outputs that can saturate: (low bound, high bound)
SATURATING_ACTIVATIONS = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
# A unit counts as saturated when its output lies within this fraction of the output
# range from either bound (sigmoid: below 0.03 or above 0.97; tanh: |a| above 0.94).
SATURATION_MARGIN = 0.03


def lookup(kind: str, registry: dict, name: str) -> int:
    """Code of `name` in `registry`, or a ValueError that lists the known names and
    suggests the nearest one."""
    if name in registry:
        return registry[name]
    raise ValueError(unknown_name_message(kind, registry, name))


def unknown_name_message(kind: str, registry: dict, name: object) -> str:
    known = ", ".join(registry)
    near = difflib.get_close_matches(str(name), list(registry), n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return f"unknown {kind} {name!r}{hint}; known: {known}"
