"""A plain NumPy implementation of one training step of the tuisim MLP.

This is the reference the Numba engine is tested against, and the baseline that
`tuisim bench` times the engine against: vectorised per-layer NumPy (`@` for the
matrix products, no Python loop over examples or units). It follows the
engine conventions (ENGINE_SPEC) to the letter: the layer pipeline linear -> [norm] -> activation
-> [norm] -> dropout, residual/highway blocks, torch's parameter names and
conventions, the losses, the per-layer statistics and the torch.optim update rules.

The forward pass (`ReferenceNet.run`, `loss_value`) is written with the batch on
axis -2 and the features on axis -1, so every parameter may carry extra leading
"stack" dimensions: the gradient tests evaluate hundreds of perturbed copies of a
network in one call. The backward pass works on plain 2-D arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from . import params as _params
from . import registry, schedule

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
LN_EPS = 1e-5
SOFTPLUS_THRESHOLD = 20.0
CLIP_NORM_EPS = 1e-6
DEFAULT_SKIP_EVERY = {"residual": 2, "highway": 1}
# value ranges of the activation histograms (values outside go to the end bins)
ACT_HIST_RANGE = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
ACT_HIST_DEFAULT_RANGE = (-4.0, 4.0)
GRAD_HIST_RANGE = (-14.0, 2.0)  # of log10 |dL/dz|

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _t(w: np.ndarray) -> np.ndarray:
    """Transpose of the last two axes (w.T for a matrix, per copy for a stack)."""
    return np.swapaxes(w, -1, -2)


def _row(v: np.ndarray) -> np.ndarray:
    """A per-feature vector (..., F) as (..., 1, F), to broadcast over the batch axis."""
    return v[..., None, :]


# ----------------------------------------------------------------------------------------
# Activations: name -> (forward(y, net) -> (a, aux), backward(da, y, a, aux, net) -> dy)


def _identity_f(y, net):
    return y, None


def _identity_b(da, y, a, aux, net):
    return da


def _sigmoid_f(y, net):
    return special.expit(y), None


def _sigmoid_b(da, y, a, aux, net):
    return da * a * (1.0 - a)


def _tanh_f(y, net):
    return np.tanh(y), None


def _tanh_b(da, y, a, aux, net):
    return da * (1.0 - a * a)


def _relu_f(y, net):
    return np.maximum(y, 0.0), None


def _relu_b(da, y, a, aux, net):
    return np.where(y > 0, da, 0.0)


def _leaky_relu_f(y, net):
    return np.where(y > 0, y, y * net.negative_slope), None


def _leaky_relu_b(da, y, a, aux, net):
    return np.where(y > 0, da, da * net.negative_slope)


def _elu_f(y, net):
    return np.where(y > 0, y, net.alpha * np.expm1(np.minimum(y, 0.0))), None


def _elu_b(da, y, a, aux, net):
    return np.where(y > 0, da, da * (net.alpha * np.exp(np.minimum(y, 0.0))))


def _selu_f(y, net):
    return SELU_SCALE * np.where(y > 0, y, SELU_ALPHA * np.expm1(np.minimum(y, 0.0))), None


def _selu_b(da, y, a, aux, net):
    return np.where(y > 0, da * SELU_SCALE, da * (SELU_SCALE * SELU_ALPHA) * np.exp(np.minimum(y, 0.0)))


def _gelu_f(y, net):
    cdf = 0.5 * (1.0 + special.erf(y * _INV_SQRT2))
    return y * cdf, cdf


def _gelu_b(da, y, a, cdf, net):
    return da * (cdf + y * (_INV_SQRT_2PI * np.exp(-0.5 * y * y)))


def _silu_f(y, net):
    s = special.expit(y)
    return y * s, s


def _silu_b(da, y, a, s, net):
    return da * (s * (1.0 + y * (1.0 - s)))


def _softplus_f(y, net):
    # torch.nn.Softplus(beta=1, threshold=20): linear above the threshold
    return np.where(y > SOFTPLUS_THRESHOLD, y, np.log1p(np.exp(np.minimum(y, SOFTPLUS_THRESHOLD)))), None


def _softplus_b(da, y, a, aux, net):
    return np.where(y > SOFTPLUS_THRESHOLD, da, da * special.expit(y))


def _maxout_f(y, net):
    k = net.pieces
    pieces = y.reshape(y.shape[:-1] + (y.shape[-1] // k, k))  # unit j, piece p = column j*k + p
    best = pieces.argmax(axis=-1)[..., None]  # ties: the first piece
    return np.take_along_axis(pieces, best, axis=-1)[..., 0], best


def _maxout_b(da, y, a, best, net):
    k = net.pieces
    dy = np.zeros(y.shape[:-1] + (y.shape[-1] // k, k), dtype=da.dtype)
    np.put_along_axis(dy, best, da[..., None], axis=-1)
    return dy.reshape(y.shape)


ACTIVATION_FUNCS = {
    "identity": (_identity_f, _identity_b),
    "sigmoid": (_sigmoid_f, _sigmoid_b),
    "tanh": (_tanh_f, _tanh_b),
    "relu": (_relu_f, _relu_b),
    "leaky_relu": (_leaky_relu_f, _leaky_relu_b),
    "elu": (_elu_f, _elu_b),
    "selu": (_selu_f, _selu_b),
    "gelu": (_gelu_f, _gelu_b),
    "silu": (_silu_f, _silu_b),
    "softplus": (_softplus_f, _softplus_b),
    "maxout": (_maxout_f, _maxout_b),
}


# ----------------------------------------------------------------------------------------
# Normalizations: name -> (forward(x, p, train) -> (out, cache), backward(dout, cache) -> (dx, {param: grad}))
# `p` maps "weight", "bias", "running_mean", "running_var" to arrays (those that exist).


def _standardize_b(dxhat, xhat, inv, axis):
    """Gradient through xhat = (x - mean(x)) * inv with mean/biased variance along `axis`."""
    return inv * (dxhat - dxhat.mean(axis=axis, keepdims=True)
                  - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True))


def _batch_f(x, p, train):
    if train:
        mean = x.mean(axis=-2, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=-2, keepdims=True)  # biased, for normalising
        inv = 1.0 / np.sqrt(var + BN_EPS)
        xhat = xc * inv
        cache = {"xhat": xhat, "inv": inv, "w": p["weight"], "train": True,
                 "mean": mean[..., 0, :], "var": var[..., 0, :]}
    else:
        inv = 1.0 / np.sqrt(_row(p["running_var"]) + BN_EPS)
        xhat = (x - _row(p["running_mean"])) * inv
        cache = {"xhat": xhat, "inv": inv, "w": p["weight"], "train": False}
    return xhat * _row(p["weight"]) + _row(p["bias"]), cache


def _batch_b(dout, c):
    dxhat = dout * c["w"]
    grads = {"weight": (dout * c["xhat"]).sum(axis=0), "bias": dout.sum(axis=0)}
    if c["train"]:
        return _standardize_b(dxhat, c["xhat"], c["inv"], 0), grads
    return dxhat * c["inv"], grads


def _layer_f(x, p, train):
    mean = x.mean(axis=-1, keepdims=True)
    xc = x - mean
    inv = 1.0 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + LN_EPS)
    xhat = xc * inv
    return xhat * _row(p["weight"]) + _row(p["bias"]), {"xhat": xhat, "inv": inv, "w": p["weight"]}


def _layer_b(dout, c):
    grads = {"weight": (dout * c["xhat"]).sum(axis=0), "bias": dout.sum(axis=0)}
    return _standardize_b(dout * c["w"], c["xhat"], c["inv"], 1), grads


def _rms_f(x, p, train):
    eps = float(np.finfo(x.dtype).eps)  # torch.nn.RMSNorm(eps=None)
    inv = 1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps)
    xn = x * inv
    return xn * _row(p["weight"]), {"xn": xn, "inv": inv, "w": p["weight"]}


def _rms_b(dout, c):
    xn = c["xn"]
    dxn = dout * c["w"]
    dx = c["inv"] * (dxn - xn * (dxn * xn).mean(axis=1, keepdims=True))
    return dx, {"weight": (dout * xn).sum(axis=0)}


NORM_FUNCS = {
    "batch": (_batch_f, _batch_b),
    "layer": (_layer_f, _layer_b),
    "rms": (_rms_f, _rms_b),
}
# parameters of each normalization, trainable first
NORM_PARAMS = {
    "none": (),
    "batch": ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
    "layer": ("weight", "bias"),
    "rms": ("weight",),
}
BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


# ----------------------------------------------------------------------------------------
# Losses (mean reduction). `logits` (..., B, n_out); the value is one number per stack copy.


def _ce_value(z, y):
    m = z.max(axis=-1, keepdims=True)
    lse = m[..., 0] + np.log(np.exp(z - m).sum(axis=-1))
    idx = np.broadcast_to(y[:, None], z.shape[:-1] + (1,))
    return (lse - np.take_along_axis(z, idx, axis=-1)[..., 0]).mean(axis=-1)


def _ce_grad(z, y):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    g = e / e.sum(axis=1, keepdims=True)
    g[np.arange(z.shape[0]), y] -= 1.0
    return g * (1.0 / z.shape[0])


def _ce_accuracy(z, y):
    return float(np.mean(z.argmax(axis=1) == y))


def _bce_value(z, t):
    return (np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))).mean(axis=(-2, -1))


def _bce_grad(z, t):
    return (special.expit(z) - t) * (1.0 / z.size)


def _bce_accuracy(z, t):
    return float(np.mean((z > 0) == (t > 0.5)))


def _mse_value(z, t):
    d = z - t
    return (d * d).mean(axis=(-2, -1))


def _mse_grad(z, t):
    return (z - t) * (2.0 / z.size)


def _mse_accuracy(z, t):
    return math.nan


LOSS_FUNCS = {  # name -> (value, gradient wrt the logits, accuracy)
    "cross_entropy": (_ce_value, _ce_grad, _ce_accuracy),
    "bce": (_bce_value, _bce_grad, _bce_accuracy),
    "mse": (_mse_value, _mse_grad, _mse_accuracy),
}


def loss_value(loss: str, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The loss of logits (..., B, n_out) against a target prepared by
    `ReferenceNet.prepare_target`: one value per leading stack index (0-d for 2-D logits)."""
    return _impl(LOSS_FUNCS, "loss", loss)[0](logits, target)


# ----------------------------------------------------------------------------------------
# Structure


@dataclass(frozen=True)
class Block:
    """A residual/highway block (or, for `plain`, one layer with no shortcut)."""

    index: int
    layers: tuple[int, ...]
    n_first: int  # width of the block input
    w_last: int  # width of the block output
    shortcut: str  # "none" (plain), "identity", "projection" or "zeros"


def _model_config(config: dict) -> dict:
    model = {k: config[k] for k in _params.MODEL_PARAMS if k in config}
    out = _params.check_kwargs(_params.MODEL_PARAMS, model, "ReferenceNet")
    for key in ("n_in", "n_out"):
        n = config.get(key)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"ReferenceNet: {key} must be an integer >= 1, not {n!r}")
        out[key] = int(n)
    out["seed"] = int(config.get("seed", 0))
    depth, width = out["depth"], out["width"]
    if isinstance(width, list):
        if len(width) != depth:
            raise ValueError(f"ReferenceNet: width lists {len(width)} widths but depth is {depth}")
        out["width"] = list(width)
    else:
        out["width"] = [width] * depth
    if out["skip_every"] is None and out["architecture"] in DEFAULT_SKIP_EVERY:
        out["skip_every"] = DEFAULT_SKIP_EVERY[out["architecture"]]
    return out


def make_blocks(config: dict) -> list[Block]:
    """The blocks of a network (`plain`: one per layer, shortcut "none")."""
    c = _model_config(config)
    widths, depth = c["width"], c["depth"]
    fan_in = [c["n_in"]] + widths
    if c["architecture"] == "plain":
        return [Block(i, (i,), fan_in[i], widths[i], "none") for i in range(depth)]
    s = c["skip_every"]
    blocks = []
    for b, start in enumerate(range(0, depth, s)):
        layers = tuple(range(start, min(start + s, depth)))
        n_first, w_last = fan_in[start], widths[layers[-1]]
        kind = "identity" if n_first == w_last else c["shortcut"]
        blocks.append(Block(b, layers, n_first, w_last, kind))
    return blocks


def parameter_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """Every state_dict name of a network with its shape, in torch's order
    (layers, norms, gates, shortcuts). num_batches_tracked is 0-d."""
    c = _model_config(config)
    widths, depth = c["width"], c["depth"]
    k = c["pieces"] if c["activation"] == "maxout" else 1
    fan_in = [c["n_in"]] + widths
    zo = [w * k for w in widths] + [c["n_out"]]
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(depth + 1):
        shapes[f"layers.{i}.weight"] = (zo[i], fan_in[i])
        shapes[f"layers.{i}.bias"] = (zo[i],)
    if c["norm"] != "none":
        for i in range(depth):
            f = zo[i] if c["norm_position"] == "before" else widths[i]
            for p in NORM_PARAMS[c["norm"]]:
                shapes[f"norms.{i}.{p}"] = () if p == "num_batches_tracked" else (f,)
    blocks = make_blocks(config)
    if c["architecture"] == "highway":
        for blk in blocks:
            shapes[f"gates.{blk.index}.weight"] = (blk.w_last, blk.n_first)
            shapes[f"gates.{blk.index}.bias"] = (blk.w_last,)
    for blk in blocks:
        if blk.shortcut == "projection":
            shapes[f"shortcuts.{blk.index}.weight"] = (blk.w_last, blk.n_first)
    return shapes


def _impl(table: dict, kind: str, name: str):
    """The implementation of a registered variant (NotImplementedError when it has none)."""
    if name not in table:
        raise NotImplementedError(f"the NumPy reference has no implementation of the {kind} {name!r}")
    return table[name]


def _is_buffer(name: str) -> bool:
    return name.rsplit(".", 1)[-1] in BUFFERS


def _sq(x: np.ndarray) -> float:
    """Sum of squares in float64."""
    x = np.asarray(x, dtype=np.float64).ravel()
    return float(np.dot(x, x))


def _fro(x: np.ndarray) -> float:
    return math.sqrt(_sq(x))


def _histogram(values: np.ndarray, lo: float, hi: float, nbins: int, logabs: bool = False) -> tuple[np.ndarray, float]:
    """(counts, zeros): counts (float64) of the nonzero values in nbins equal bins over
    [lo, hi] (of log10 |v| with logabs); values outside go to the end bins (bin =
    floor((v - lo) / ((hi - lo) / nbins)) clipped to 0..nbins-1); zeros: how many values
    are exactly 0, counted in no bin. NaN is not counted."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[~np.isnan(v)]
    zeros = float(np.count_nonzero(v == 0.0))
    v = v[v != 0.0]
    if logabs:
        v = np.log10(np.abs(v))
    idx = np.clip(np.floor((v - lo) / ((hi - lo) / nbins)), 0, nbins - 1).astype(np.intp)
    return np.bincount(idx, minlength=nbins).astype(np.float64), zeros


# ----------------------------------------------------------------------------------------


class ReferenceNet:
    """The MLP of the spec in plain NumPy, holding a copy of a state dict.

    config: every key of params.MODEL_PARAMS (missing keys take their defaults) plus
    n_in, n_out and seed. state: the spec's parameter names and shapes (see
    `parameter_shapes`); converted to the network's dtype and copied.
    """

    def __init__(self, config: dict, state: dict[str, np.ndarray]):
        c = _model_config(config)
        self.config = c
        self.n_in, self.n_out, self.seed = c["n_in"], c["n_out"], c["seed"]
        self.depth, self.widths = c["depth"], c["width"]
        self.activation = c["activation"]
        self.negative_slope, self.alpha = float(c["negative_slope"]), float(c["alpha"])
        self.pieces = c["pieces"] if self.activation == "maxout" else 1
        self.norm, self.norm_position = c["norm"], c["norm_position"]
        self.architecture = c["architecture"]
        self.dropout = float(c["dropout"])
        self.dtype = np.dtype(c["dtype"])
        self.blocks = make_blocks(c)
        self.shapes = parameter_shapes(c)
        self.trainable = [n for n in self.shapes if not _is_buffer(n)]
        self._act_f, self._act_b = _impl(ACTIVATION_FUNCS, "activation", self.activation)
        if self.norm != "none":
            self._norm_f, self._norm_b = _impl(NORM_FUNCS, "norm", self.norm)
        self._rng = np.random.Generator(np.random.PCG64(self.seed))
        self.params = self._load(state)

    # -- state ---------------------------------------------------------------------------

    def _load(self, state: dict) -> dict[str, np.ndarray]:
        missing = [n for n in self.shapes if n not in state]
        extra = [n for n in state if n not in self.shapes]
        if missing or extra:
            raise ValueError(f"ReferenceNet: state does not match the config: missing {missing}, unexpected {extra}")
        out = {}
        for name, shape in self.shapes.items():
            v = np.asarray(state[name])
            if v.shape != shape:
                raise ValueError(f"ReferenceNet: {name} has shape {v.shape}, expected {shape}")
            dt = np.int64 if name.endswith("num_batches_tracked") else self.dtype
            out[name] = np.array(v, dtype=dt, copy=True)
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter and buffer."""
        return {n: v.copy() for n, v in self.params.items()}

    # -- inputs --------------------------------------------------------------------------

    def _input(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ValueError(f"X must have shape (batch, {self.n_in}), not {X.shape}")
        return X

    def prepare_target(self, loss: str, y, batch: int) -> np.ndarray:
        """Labels (B,) int64 for cross_entropy; (B, n_out) floats of the net's dtype otherwise
        ((B,) accepted when n_out == 1)."""
        registry.lookup("loss", registry.LOSSES, loss)
        if loss == "cross_entropy":
            y = np.asarray(y)
            if y.shape != (batch,) or not (np.issubdtype(y.dtype, np.integer) or np.all(y == np.round(y))):
                raise ValueError(f"cross_entropy needs integer labels of shape ({batch},), not {y.shape} {y.dtype}")
            y = y.astype(np.int64)
            if y.size and (y.min() < 0 or y.max() >= self.n_out):
                raise ValueError(f"labels must lie in 0..{self.n_out - 1}")
            return y
        t = np.asarray(y, dtype=self.dtype)
        if t.ndim == 1 and self.n_out == 1:
            t = t.reshape(-1, 1)
        if t.shape != (batch, self.n_out):
            raise ValueError(f"{loss} needs targets of shape ({batch}, {self.n_out}), not {np.shape(y)}")
        return t

    def _masks(self, batch: int, masks, train: bool):
        """The dropout masks of a pass: None when not training or dropout is 0; else the
        given ones (cast to the dtype) or freshly drawn ones (values 0 or 1/(1-p))."""
        if not train or self.dropout == 0.0:
            return None
        if masks is None:
            keep = 1.0 - self.dropout
            scale = self.dtype.type(1.0 / keep)
            return [(self._rng.random((batch, w)) < keep) * scale for w in self.widths]
        if len(masks) != self.depth:
            raise ValueError(f"masks needs one array per hidden layer ({self.depth}), not {len(masks)}")
        out = []
        for i, (m, w) in enumerate(zip(masks, self.widths)):
            m = np.asarray(m, dtype=self.dtype)
            if m.shape != (batch, w):
                raise ValueError(f"masks[{i}] must have shape ({batch}, {w}), not {m.shape}")
            out.append(m)
        return out

    def _check_batch(self, batch: int, train: bool) -> None:
        if train and self.norm == "batch" and batch < 2:
            raise ValueError("batch norm needs at least 2 examples per batch in training")

    # -- forward -------------------------------------------------------------------------

    def _norm_params(self, params: dict, i: int) -> dict:
        return {p: params[f"norms.{i}.{p}"] for p in NORM_PARAMS[self.norm][:4] if f"norms.{i}.{p}" in params}

    def _layer_forward(self, params, i, h, train, mask):
        z = h @ _t(params[f"layers.{i}.weight"]) + _row(params[f"layers.{i}.bias"])
        c = {"h": h}
        y = z
        if self.norm != "none" and self.norm_position == "before":
            y, c["norm"] = self._norm_f(z, self._norm_params(params, i), train)
        a, c["aux"] = self._act_f(y, self)
        c["y"], c["a"] = y, a
        o = a
        if self.norm != "none" and self.norm_position == "after":
            o, c["norm"] = self._norm_f(a, self._norm_params(params, i), train)
        if mask is not None:
            o = o * mask
            c["mask"] = mask
        return o, c

    def _shortcut(self, params, blk: Block, x):
        if blk.shortcut == "identity":
            return x
        if blk.shortcut == "projection":
            return x @ _t(params[f"shortcuts.{blk.index}.weight"])
        s = np.zeros(x.shape[:-1] + (blk.w_last,), dtype=x.dtype)  # "zeros": pad or truncate
        m = min(blk.n_first, blk.w_last)
        s[..., :m] = x[..., :m]
        return s

    def run(self, params: dict, X: np.ndarray, train: bool = False, masks=None):
        """Pure forward pass with the given parameters: (logits, tape). Changes nothing
        (running statistics are returned in the tape, not applied). Parameters may carry
        leading stack dimensions; X (B, n_in) and the masks are shared by every copy."""
        tape = {"layers": [None] * self.depth, "blocks": []}
        h = X
        for blk in self.blocks:
            x = h
            for i in blk.layers:
                h, tape["layers"][i] = self._layer_forward(params, i, h, train, None if masks is None else masks[i])
            bt = {"x": x}
            if self.architecture == "residual":
                h = h + self._shortcut(params, blk, x)
            elif self.architecture == "highway":
                g = blk.index
                gate = special.expit(x @ _t(params[f"gates.{g}.weight"]) + _row(params[f"gates.{g}.bias"]))
                s = self._shortcut(params, blk, x)
                bt.update(F=h, S=s, T=gate)
                h = h * gate + s * (1.0 - gate)
            tape["blocks"].append(bt)
        D = self.depth
        logits = h @ _t(params[f"layers.{D}.weight"]) + _row(params[f"layers.{D}.bias"])
        tape["h"], tape["logits"] = h, logits
        return logits, tape

    def _update_running(self, tape: dict, batch: int) -> None:
        """torch's BatchNorm1d update of the running statistics after a training pass."""
        if self.norm != "batch":
            return
        m = BN_MOMENTUM
        for i, lt in enumerate(tape["layers"]):
            nc = lt["norm"]
            rm, rv = self.params[f"norms.{i}.running_mean"], self.params[f"norms.{i}.running_var"]
            rm *= 1.0 - m
            rm += m * nc["mean"]
            rv *= 1.0 - m
            rv += (m * batch / (batch - 1)) * nc["var"]
            self.params[f"norms.{i}.num_batches_tracked"] += 1

    def forward(self, X, train: bool = False, masks=None) -> np.ndarray:
        """Logits (B, n_out). train=True: batch statistics, running statistics updated,
        dropout (with `masks`, or masks drawn from the net's generator)."""
        X = self._input(X)
        self._check_batch(X.shape[0], train)
        masks = self._masks(X.shape[0], masks, train)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            logits, tape = self.run(self.params, X, train, masks)
            if train:
                self._update_running(tape, X.shape[0])
        return logits

    # -- backward ------------------------------------------------------------------------

    def _layer_backward(self, params, i, do, c, grads, deltas, need_dx=True):
        if "mask" in c:
            do = do * c["mask"]
        da = do
        if self.norm != "none" and self.norm_position == "after":
            da, ng = self._norm_b(do, c["norm"])
            for p, g in ng.items():
                grads[f"norms.{i}.{p}"] = g
        dy = self._act_b(da, c["y"], c["a"], c["aux"], self)
        dz = dy
        if self.norm != "none" and self.norm_position == "before":
            dz, ng = self._norm_b(dy, c["norm"])
            for p, g in ng.items():
                grads[f"norms.{i}.{p}"] = g
        W = params[f"layers.{i}.weight"]
        grads[f"layers.{i}.weight"] = dz.T @ c["h"]
        grads[f"layers.{i}.bias"] = dz.sum(axis=0)
        deltas[i] = dz
        return dz @ W if need_dx else None

    def _backward(self, params, tape, dlogits):
        grads: dict[str, np.ndarray] = {}
        deltas: list = [None] * (self.depth + 1)
        D = self.depth
        grads[f"layers.{D}.weight"] = dlogits.T @ tape["h"]
        grads[f"layers.{D}.bias"] = dlogits.sum(axis=0)
        deltas[D] = dlogits
        dh = dlogits @ params[f"layers.{D}.weight"]
        for blk in reversed(self.blocks):
            bt = tape["blocks"][blk.index]
            x = bt["x"]
            first = blk.index == 0
            dF, dS, dx_extra = dh, None, None
            if self.architecture == "residual":
                dS = dh
            elif self.architecture == "highway":
                T, g = bt["T"], blk.index
                dF, dS = dh * T, dh * (1.0 - T)
                dpre = dh * (bt["F"] - bt["S"]) * T * (1.0 - T)
                grads[f"gates.{g}.weight"] = dpre.T @ x
                grads[f"gates.{g}.bias"] = dpre.sum(axis=0)
                if not first:
                    dx_extra = dpre @ params[f"gates.{g}.weight"]
            for i in reversed(blk.layers):
                dF = self._layer_backward(params, i, dF, tape["layers"][i], grads, deltas,
                                          need_dx=not (first and i == 0))
            if first:
                dh = None
            if dS is not None:
                if blk.shortcut == "projection":
                    grads[f"shortcuts.{blk.index}.weight"] = dS.T @ x
                if not first:
                    if blk.shortcut == "identity":
                        dF = dF + dS
                    elif blk.shortcut == "projection":
                        dF = dF + dS @ params[f"shortcuts.{blk.index}.weight"]
                    else:
                        m = min(blk.n_first, blk.w_last)
                        dF = dF.copy()
                        dF[:, :m] += dS[:, :m]
                    if dx_extra is not None:
                        dF = dF + dx_extra
            if not first:
                dh = dF
        return {n: grads[n] for n in self.trainable}, deltas

    # -- one pass with gradients and statistics -----------------------------------------

    def loss_and_grads(self, X, y, loss: str = "cross_entropy", train: bool = True, masks=None,
                       histograms: int = 0):
        """(loss, grads, stats) of one batch. grads: every trainable parameter, by name.
        train=True: batch statistics (running statistics updated) and dropout."""
        X = self._input(X)
        B = X.shape[0]
        target = self.prepare_target(loss, y, B)
        self._check_batch(B, train)
        masks = self._masks(B, masks, train)
        value_f, grad_f, acc_f = _impl(LOSS_FUNCS, "loss", loss)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            logits, tape = self.run(self.params, X, train, masks)
            if train:
                self._update_running(tape, B)
            L = float(value_f(logits, target))
            acc = acc_f(logits, target)
            grads, deltas = self._backward(self.params, tape, grad_f(logits, target))
            stats = self._stats(L, acc, grads, deltas, tape, int(histograms))
        return L, grads, stats

    def _stats(self, L, acc, grads, deltas, tape, nbins):
        D = self.depth
        total_sq = sum(_sq(g) for g in grads.values())
        finite = math.isfinite(total_sq) or all(bool(np.isfinite(g).all()) for g in grads.values())
        acts = [lt["a"] for lt in tape["layers"]] + [tape["logits"]]
        sat = np.zeros(D + 1)
        dead = np.zeros(D + 1)
        if self.activation in registry.SATURATING_ACTIVATIONS:
            lo, hi = registry.SATURATING_ACTIVATIONS[self.activation]
            margin = registry.SATURATION_MARGIN * (hi - lo)
            for i in range(D):
                a = acts[i]
                sat[i] = np.mean((a < lo + margin) | (a > hi - margin))
        if self.activation in registry.DEAD_ACTIVATIONS:
            for i in range(D):
                dead[i] = np.mean(np.all(tape["layers"][i]["y"] <= 0, axis=0))
        stats = {
            "loss": L,
            "accuracy": acc,
            "diverged": not (math.isfinite(L) and finite),
            "grad_total_norm": math.sqrt(total_sq),
            "grad_norm": np.array([_fro(grads[f"layers.{i}.weight"]) for i in range(D + 1)]),
            "delta_norm": np.array([_fro(d) for d in deltas]),
            "weight_norm": np.array([_fro(self.params[f"layers.{i}.weight"]) for i in range(D + 1)]),
            "act_mean": np.array([a.mean(dtype=np.float64) for a in acts]),
            "act_std": np.array([a.std(dtype=np.float64) for a in acts]),
            "saturated": sat,
            "dead": dead,
        }
        if nbins > 0:
            lo, hi = ACT_HIST_RANGE.get(self.activation, ACT_HIST_DEFAULT_RANGE)
            ranges = [(lo, hi)] * D + [ACT_HIST_DEFAULT_RANGE]
            counts, zeros = zip(*(_histogram(a, *r, nbins) for a, r in zip(acts, ranges)))
            stats["act_hist"], stats["act_zero"] = np.stack(counts), np.array(zeros)
            counts, zeros = zip(*(_histogram(d, *GRAD_HIST_RANGE, nbins, logabs=True) for d in deltas))
            stats["grad_hist"], stats["grad_zero"] = np.stack(counts), np.array(zeros)
        return stats


# ----------------------------------------------------------------------------------------
# Optimizers: update rules after torch.optim, in place on p, with per-parameter state `st`.


def _sgd(o, p, g, st, lr):
    if o.weight_decay:
        g = g + o.weight_decay * p
    if o.momentum != 0.0:
        buf = st.get("momentum_buffer")
        if buf is None:
            buf = st["momentum_buffer"] = g.copy()
        else:
            buf *= o.momentum
            buf += (1.0 - o.dampening) * g
        g = g + o.momentum * buf if o.nesterov else buf
    p -= lr * g


def _adagrad(o, p, g, st, lr):
    if "sum" not in st:
        st["sum"] = np.full_like(p, o.initial_accumulator_value)
        st["step"] = 0
    st["step"] += 1
    if o.weight_decay:
        g = g + o.weight_decay * p
    clr = lr / (1.0 + (st["step"] - 1) * o.lr_decay)
    st["sum"] += g * g
    p -= clr * g / (np.sqrt(st["sum"]) + o.eps)


def _adadelta(o, p, g, st, lr):
    if "square_avg" not in st:
        st["square_avg"], st["acc_delta"], st["step"] = np.zeros_like(p), np.zeros_like(p), 0
    st["step"] += 1
    if o.weight_decay:
        g = g + o.weight_decay * p
    rho, sq, acc = o.rho, st["square_avg"], st["acc_delta"]
    sq *= rho
    sq += (1.0 - rho) * g * g
    delta = np.sqrt(acc + o.eps) / np.sqrt(sq + o.eps) * g
    acc *= rho
    acc += (1.0 - rho) * delta * delta
    p -= lr * delta


def _rmsprop(o, p, g, st, lr):
    if "square_avg" not in st:
        st["square_avg"], st["step"] = np.zeros_like(p), 0
        if o.centered:
            st["grad_avg"] = np.zeros_like(p)
        if o.momentum > 0:
            st["momentum_buffer"] = np.zeros_like(p)
    st["step"] += 1
    if o.weight_decay:
        g = g + o.weight_decay * p
    a, sq = o.alpha, st["square_avg"]
    sq *= a
    sq += (1.0 - a) * g * g
    if o.centered:
        ga = st["grad_avg"]
        ga *= a
        ga += (1.0 - a) * g
        avg = np.sqrt(sq - ga * ga) + o.eps
    else:
        avg = np.sqrt(sq) + o.eps
    if o.momentum > 0:
        buf = st["momentum_buffer"]
        buf *= o.momentum
        buf += g / avg
        p -= lr * buf
    else:
        p -= lr * g / avg


def _adam(o, p, g, st, lr):
    if "exp_avg" not in st:
        st["exp_avg"], st["exp_avg_sq"], st["step"] = np.zeros_like(p), np.zeros_like(p), 0
        if o.amsgrad:
            st["max_exp_avg_sq"] = np.zeros_like(p)
    st["step"] += 1
    t = st["step"]
    if o.decoupled:
        p *= 1.0 - lr * o.weight_decay
    elif o.weight_decay:
        g = g + o.weight_decay * p
    b1, b2 = o.betas
    m, v = st["exp_avg"], st["exp_avg_sq"]
    m *= b1
    m += (1.0 - b1) * g
    v *= b2
    v += (1.0 - b2) * g * g
    if o.amsgrad:
        np.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
        v = st["max_exp_avg_sq"]
    denom = np.sqrt(v) / math.sqrt(1.0 - b2 ** t) + o.eps
    p -= (lr / (1.0 - b1 ** t)) * m / denom


def _nadam(o, p, g, st, lr):
    if "exp_avg" not in st:
        st["exp_avg"], st["exp_avg_sq"], st["step"], st["mu_product"] = np.zeros_like(p), np.zeros_like(p), 0, 1.0
    st["step"] += 1
    t = st["step"]
    if o.weight_decay:
        g = g + o.weight_decay * p
    b1, b2 = o.betas
    mu = b1 * (1.0 - 0.5 * 0.96 ** (t * o.momentum_decay))
    mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * o.momentum_decay))
    st["mu_product"] *= mu
    mu_prod = st["mu_product"]
    m, v = st["exp_avg"], st["exp_avg_sq"]
    m *= b1
    m += (1.0 - b1) * g
    v *= b2
    v += (1.0 - b2) * g * g
    denom = np.sqrt(v / (1.0 - b2 ** t)) + o.eps
    p -= (lr * (1.0 - mu) / (1.0 - mu_prod)) * g / denom
    p -= (lr * mu_next / (1.0 - mu_prod * mu_next)) * m / denom


UPDATE_RULES = {
    "sgd": _sgd,
    "momentum": _sgd,
    "nesterov": _sgd,
    "adagrad": _adagrad,
    "adadelta": _adadelta,
    "rmsprop": _rmsprop,
    "adam": _adam,
    "adamw": _adam,
    "nadam": _nadam,
}


class ReferenceOptimizer:
    """torch.optim-style training of a ReferenceNet; keyword names of params.OPTIMIZER_PARAMS."""

    def __init__(self, net: ReferenceNet, **kwargs):
        kw = _params.check_kwargs(_params.OPTIMIZER_PARAMS, kwargs, "Optimizer")
        name = kw["optimizer"]
        self.net = net
        self.optimizer = name
        self.lr = kw["lr"] if kw["lr"] is not None else _params.DEFAULT_LR[name]
        self.eps = kw["eps"] if kw["eps"] is not None else _params.DEFAULT_EPS.get(name, 1e-8)
        self.momentum = kw["momentum"] if kw["momentum"] is not None else _params.DEFAULT_MOMENTUM.get(name, 0.0)
        self.weight_decay = (kw["weight_decay"] if kw["weight_decay"] is not None
                             else _params.DEFAULT_WEIGHT_DECAY.get(name, 0.0))
        self.nesterov = name == "nesterov"
        self.decoupled = name == "adamw"
        self.dampening, self.betas, self.rho, self.alpha = kw["dampening"], kw["betas"], kw["rho"], kw["alpha"]
        self.lr_decay, self.initial_accumulator_value = kw["lr_decay"], kw["initial_accumulator_value"]
        self.centered, self.amsgrad, self.momentum_decay = kw["centered"], kw["amsgrad"], kw["momentum_decay"]
        self.clip_norm, self.clip_value = kw["clip_norm"], kw["clip_value"]
        self.schedule = kw["schedule"]
        self.schedule_kwargs = {k: kw[k] for k in ("step_size", "gamma", "t_max", "eta_min", "warmup_steps")}
        self.loss = kw["loss"]
        if self.nesterov and (self.momentum <= 0.0 or self.dampening != 0.0):
            raise ValueError("Optimizer: nesterov needs momentum > 0 and dampening 0")
        if self.schedule == "warmup" and kw["warmup_steps"] < 1:
            raise ValueError("Optimizer: the warmup schedule needs warmup_steps >= 1")
        self._rule = _impl(UPDATE_RULES, "optimizer", name)
        self.t = 0  # steps taken (diverged ones included): the schedule's clock
        self.state: dict[str, dict] = {n: {} for n in net.trainable}

    def lr_at(self, t: int) -> float:
        return schedule.lr_at(t, self.lr, self.schedule, **self.schedule_kwargs)

    def step(self, X, y, masks=None, histograms: int = 0):
        """One training step on a batch: (loss, stats); stats as ReferenceNet.loss_and_grads
        plus `update_ratio` (per linear layer) and `lr`."""
        net = self.net
        lr = self.lr_at(self.t)
        self.t += 1
        loss, grads, stats = net.loss_and_grads(X, y, self.loss, train=True, masks=masks, histograms=histograms)
        ratio = np.zeros(net.depth + 1)
        if not stats["diverged"]:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                if self.clip_value is not None:
                    c = self.clip_value
                    for g in grads.values():
                        np.clip(g, -c, c, out=g)
                if self.clip_norm is not None:
                    total = math.sqrt(sum(_sq(g) for g in grads.values()))
                    coef = self.clip_norm / (total + CLIP_NORM_EPS)
                    if coef < 1.0:
                        for g in grads.values():
                            g *= coef
                before = [net.params[f"layers.{i}.weight"].copy() for i in range(net.depth + 1)]
                for name, g in grads.items():
                    self._rule(self, net.params[name], g, self.state[name], lr)
                for i, w0 in enumerate(before):
                    diff = _fro(net.params[f"layers.{i}.weight"] - w0)
                    w = _fro(w0)
                    ratio[i] = diff / w if w > 0 else (0.0 if diff == 0 else math.inf)
        stats["update_ratio"] = ratio
        stats["lr"] = lr
        return loss, stats
