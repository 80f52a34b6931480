"""The decision boundary of a 2-D classifier: its predicted class and confidence over a
grid of the input plane, from a copy of its weights.

Plain numpy and the engine, no Textual: the Boundary panel calls these in a worker
thread, and the tests check them directly.

The training thread never waits for a picture: between two chunks, while the view is on
screen, the driver copies each variant's parameters (`Driver.weights`, at most every
WEIGHTS_EVERY s; a copy of P and R costs a memcpy). The grid then goes through a
*shadow* network (same configuration, its own buffers: a `Network`'s forward writes
into its workspace, so the training network cannot be used from another thread) loaded
with that copy: one batched forward pass of the compiled engine, which releases the GIL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tuisim.i18n import _

MARGIN = 0.08  # of the data's range, on every side of the plane


def applies(data) -> bool:
    """Whether a dataset has a decision boundary to draw: 2 features, classes."""
    return data.task == "classification" and data.n_in == 2


def why_not(data) -> str:
    """Why the decision boundary is not drawn for a dataset (for a notice)."""
    if data.task != "classification":
        return _("{name} is a regression dataset").format(name=data.name)
    return _("{name} has {n} features, not 2").format(name=data.name, n=data.n_in)


def plane(X: np.ndarray, margin: float = MARGIN) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1): the training inputs' extent with `margin` of its range around."""
    lo, hi = X[:, :2].min(axis=0), X[:, :2].max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    lo, hi = lo - margin * span, hi + margin * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def cell_centres(extent: tuple[float, float, float, float], cols: int, rows: int) -> np.ndarray:
    """The centres of a cols x rows grid over the plane, (rows * cols, 2), row by row from
    the top (the largest x2) down, each row from the left."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    ys = y1 - (np.arange(rows) + 0.5) * (y1 - y0) / rows
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def predict(outputs: np.ndarray, loss: str, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(class, confidence) of each row of a network's outputs. Confidence runs from 0 at
    chance (1/classes) to 1 at certainty: softmax for cross_entropy, the sigmoid for
    bce's one output; for mse (one-hot targets) the largest output, clipped to [0, 1]."""
    outputs = np.asarray(outputs, dtype=np.float64)
    with np.errstate(all="ignore"):
        if loss == "bce":
            p1 = 1.0 / (1.0 + np.exp(-outputs[:, 0]))
            cls = (p1 > 0.5).astype(np.int64)
            top = np.where(cls == 1, p1, 1.0 - p1)
        elif loss == "cross_entropy":
            z = outputs - outputs.max(axis=1, keepdims=True)
            e = np.exp(z)
            cls = outputs.argmax(axis=1)
            top = e.max(axis=1) / e.sum(axis=1)
        else:
            cls = outputs.argmax(axis=1)
            top = np.clip(outputs.max(axis=1), 1.0 / classes, 1.0)
        conf = (top - 1.0 / classes) / (1.0 - 1.0 / classes)
    bad = ~np.isfinite(outputs).all(axis=1)  # a diverged net: no class anywhere
    cls = np.where(bad, -1, cls)
    conf = np.where(bad | ~np.isfinite(conf), 0.0, np.clip(conf, 0.0, 1.0))
    return cls.astype(np.int64), conf


@dataclass
class Map:
    """One variant's picture: the class and confidence of each grid cell (rows x cols,
    top row first), the step of the weights, and the training accuracy they reach."""

    step: int
    classes: np.ndarray
    confidence: np.ndarray
    accuracy: float


class ShadowNet:
    """A network with the configuration of a run's, that forwards with copied weights."""

    def __init__(self, net) -> None:
        from tuisim.core import Network

        cfg = {k: v for k, v in net.config.items() if k not in ("n_in", "n_out", "seed")}
        self.net = Network(net.n_in, net.n_out, **cfg)

    def forward(self, P: np.ndarray, R: np.ndarray, X: np.ndarray) -> np.ndarray:
        self.net.P[:] = P
        self.net.R[:] = R
        return self.net.forward(X)


def boundary_map(shadow: ShadowNet, weights, extent, cols: int, rows: int, X: np.ndarray, y: np.ndarray,
                 loss: str, classes: int) -> Map:
    """The grid of `cols` x `rows` cells over `extent` and the training points, in one
    forward pass of `shadow` loaded with `weights` (a driver's WeightsCopy)."""
    grid = cell_centres(extent, cols, rows)
    out = shadow.forward(weights.P, weights.R, np.concatenate([grid, X[:, :2]]))
    cls, conf = predict(out, loss, classes)
    n = cols * rows
    acc = float(np.mean(cls[n:] == y)) if len(y) else float("nan")
    return Map(weights.step, cls[:n].reshape(rows, cols), conf[:n].reshape(rows, cols), acc)
