"""Weight and bias initialisation, after torch.nn.init (pure NumPy).

Every weight matrix has shape (rows, cols) = (fan_out, fan_in), like torch.nn.Linear.
Values are drawn in float64 from the caller's numpy Generator, multiplied by
`init_scale`, then cast to the requested dtype, so a float32 network gets exactly the
float32 rounding of the float64 network's initial weights. `zeros` and `constant`
draw nothing (the generator does not advance).

Each scheme registers itself in `_INITS` where it is defined (see `_scheme`); a name
of registry.INITS without a scheme raises NotImplementedError, an unknown name a
ValueError that suggests the nearest known one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import registry

# torch.nn.init.calculate_gain, by activation name; each takes the leaky_relu slope.
_GAINS: dict[str, Callable[[float], float]] = {
    "identity": lambda s: 1.0,
    "sigmoid": lambda s: 1.0,
    "tanh": lambda s: 5.0 / 3.0,
    "relu": lambda s: math.sqrt(2.0),
    "leaky_relu": lambda s: math.sqrt(2.0 / (1.0 + s * s)),
    "selu": lambda s: 0.75,
    # torch has no entry for these; the spec uses relu's sqrt(2)
    "elu": lambda s: math.sqrt(2.0),
    "gelu": lambda s: math.sqrt(2.0),
    "silu": lambda s: math.sqrt(2.0),
    "softplus": lambda s: math.sqrt(2.0),
    "maxout": lambda s: math.sqrt(2.0),
}


def gain(activation: str, negative_slope: float = 0.01) -> float:
    """The recommended gain of an activation (torch.nn.init.calculate_gain)."""
    registry.lookup("activation", registry.ACTIVATIONS, activation)
    fn = _GAINS.get(activation)
    if fn is None:
        raise NotImplementedError(f"no gain defined for activation {activation!r}")
    return float(fn(float(negative_slope)))


@dataclass(frozen=True)
class _Opts:
    activation: str
    negative_slope: float
    init_std: float
    init_range: float | None
    init_gain: float | None
    init_value: float


# name -> fn(rng, rows, cols, opts) -> float64 array (rows, cols), before init_scale
_INITS: dict[str, Callable[[np.random.Generator, int, int, _Opts], np.ndarray]] = {}


def _scheme(name: str):
    def register(fn):
        _INITS[name] = fn
        return fn

    return register


def _uniform(rng: np.random.Generator, rows: int, cols: int, bound: float) -> np.ndarray:
    return rng.uniform(-bound, bound, size=(rows, cols))


def _normal(rng: np.random.Generator, rows: int, cols: int, std: float) -> np.ndarray:
    return rng.normal(0.0, std, size=(rows, cols))


def _he_gain(o: _Opts) -> float:
    return o.init_gain if o.init_gain is not None else gain(o.activation, o.negative_slope)


def _gain_or_one(o: _Opts) -> float:
    return o.init_gain if o.init_gain is not None else 1.0


@_scheme("zeros")
def _zeros(rng, rows, cols, o):
    return np.zeros((rows, cols))


@_scheme("constant")
def _constant(rng, rows, cols, o):
    return np.full((rows, cols), float(o.init_value))


@_scheme("uniform")
def _uniform_init(rng, rows, cols, o):
    bound = o.init_range if o.init_range is not None else 1.0 / math.sqrt(cols)
    return _uniform(rng, rows, cols, bound)


@_scheme("normal")
def _normal_init(rng, rows, cols, o):
    return _normal(rng, rows, cols, o.init_std)


@_scheme("truncated_normal")
def _truncated_normal(rng, rows, cols, o):
    w = _normal(rng, rows, cols, o.init_std)
    limit = 2.0 * o.init_std
    bad = np.abs(w) > limit
    while bad.any():  # redraw every value beyond 2 std until none is left
        w[bad] = rng.normal(0.0, o.init_std, size=int(bad.sum()))
        bad = np.abs(w) > limit
    return w


@_scheme("xavier_uniform")
def _xavier_uniform(rng, rows, cols, o):
    return _uniform(rng, rows, cols, _gain_or_one(o) * math.sqrt(6.0 / (cols + rows)))


@_scheme("xavier_normal")
def _xavier_normal(rng, rows, cols, o):
    return _normal(rng, rows, cols, _gain_or_one(o) * math.sqrt(2.0 / (cols + rows)))


@_scheme("he_uniform")
def _he_uniform(rng, rows, cols, o):
    return _uniform(rng, rows, cols, _he_gain(o) * math.sqrt(3.0 / cols))


@_scheme("he_normal")
def _he_normal(rng, rows, cols, o):
    return _normal(rng, rows, cols, _he_gain(o) / math.sqrt(cols))


@_scheme("lecun_uniform")
def _lecun_uniform(rng, rows, cols, o):
    return _uniform(rng, rows, cols, math.sqrt(3.0 / cols))


@_scheme("lecun_normal")
def _lecun_normal(rng, rows, cols, o):
    return _normal(rng, rows, cols, 1.0 / math.sqrt(cols))


@_scheme("orthogonal")
def _orthogonal(rng, rows, cols, o):
    # torch.nn.init.orthogonal_: QR of a standard normal (rows x cols) matrix, transposed
    # when rows < cols so that Q has orthonormal columns; column signs fixed by diag(R).
    flat = rng.standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return np.ascontiguousarray(q) * _gain_or_one(o)


@_scheme("torch_default")
def _torch_default(rng, rows, cols, o):
    # nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in))
    return _uniform(rng, rows, cols, 1.0 / math.sqrt(cols))


def init_weight(rng: np.random.Generator, shape: tuple[int, int], init: str, *, activation: str = "relu",
                negative_slope: float = 0.01, init_std: float = 1.0, init_range: float | None = None,
                init_gain: float | None = None, init_value: float = 0.1, init_scale: float = 1.0,
                dtype=np.float64) -> np.ndarray:
    """A new (rows, cols) = (fan_out, fan_in) weight matrix initialised by scheme `init`
    (a name of registry.INITS), times `init_scale`, in `dtype`."""
    registry.lookup("init", registry.INITS, init)
    fn = _INITS.get(init)
    if fn is None:
        raise NotImplementedError(f"init {init!r} is in the registry but has no implementation")
    rows, cols = (int(n) for n in shape)
    if rows < 1 or cols < 1:
        raise ValueError(f"a weight matrix needs rows >= 1 and cols >= 1, not {shape}")
    opts = _Opts(activation=activation, negative_slope=float(negative_slope), init_std=float(init_std),
                 init_range=None if init_range is None else float(init_range),
                 init_gain=None if init_gain is None else float(init_gain), init_value=float(init_value))
    w = np.asarray(fn(rng, rows, cols, opts), dtype=np.float64)
    w = w * float(init_scale)
    return w.astype(dtype)


def init_bias(rng: np.random.Generator, fan_in: int, size: int, init: str, bias_init: float | None,
              dtype=np.float64) -> np.ndarray:
    """A new bias vector: `bias_init` everywhere when given; otherwise zeros, except for
    the `torch_default` init, which draws U(+-1/sqrt(fan_in)) like nn.Linear."""
    registry.lookup("init", registry.INITS, init)
    if bias_init is not None:
        return np.full(int(size), float(bias_init), dtype=dtype)
    if init == "torch_default":
        bound = 1.0 / math.sqrt(int(fan_in))
        return rng.uniform(-bound, bound, size=int(size)).astype(dtype)
    return np.zeros(int(size), dtype=dtype)
