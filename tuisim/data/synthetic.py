"""Generated datasets: six classification sets and two regression sets.

Each generator draws everything from the `rng` it is given and returns raw arrays
(neither shuffled nor split nor standardised: `dataset.load_dataset` does that), with
classes as balanced as the sample count allows. `noise` is the standard deviation of
Gaussian noise, on the inputs after labelling unless the dataset says otherwise.
"""

from __future__ import annotations

import numpy as np

from .errors import DatasetError
from .registry import dataset


def class_sizes(samples: int, classes: int) -> list[int]:
    """Split `samples` into `classes` counts that differ by at most one."""
    base, extra = divmod(samples, classes)
    return [base + (j < extra) for j in range(classes)]


def _labels(sizes: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def _jitter(rng: np.random.Generator, X: np.ndarray, noise: float) -> np.ndarray:
    return X + noise * rng.standard_normal(X.shape) if noise > 0 else X


def _check_classes(name: str, classes: int, most: int) -> None:
    if classes > most:
        raise DatasetError(f"{name} has {most} classes, not {classes}; leave `classes` out or set it to {most}",
                           key="classes")


@dataset("spirals", task="classification", noise=0.2, classes=3, n_in=2,
         noise_doc="std of the angle (radians)")
def spirals(rng, *, samples, noise, classes, features=None):
    """K interleaved spiral arms, the CS231n spiral: arm j has radius 0 to 1 while its angle
    runs over [4j, 4j + 4] radians plus N(0, noise^2)."""
    sizes = class_sizes(samples, classes)
    X = []
    for j, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(4.0 * j, 4.0 * (j + 1), m) + noise * rng.standard_normal(m)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    return np.concatenate(X), _labels(sizes)


@dataset("circles", task="classification", noise=0.05, classes=3, features=2,
         noise_doc="std of Gaussian noise on the inputs")
def circles(rng, *, samples, noise, classes, features):
    """K concentric rings (spheres in `features` dimensions): class j at radius (j + 1) / K,
    at uniformly random directions."""
    sizes = class_sizes(samples, classes)
    X = []
    for j, m in enumerate(sizes):
        d = rng.standard_normal((m, features))
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
        X.append(d * (j + 1) / classes)
    return _jitter(rng, np.concatenate(X), noise), _labels(sizes)


@dataset("moons", task="classification", noise=0.1, classes=2, max_classes=2, n_in=2,
         noise_doc="std of Gaussian noise on the inputs")
def moons(rng, *, samples, noise, classes=2, features=None):
    """Two interleaving half circles (scikit-learn's make_moons)."""
    _check_classes("moons", classes, 2)
    sizes = class_sizes(samples, 2)
    t0 = np.linspace(0.0, np.pi, sizes[0])
    t1 = np.linspace(0.0, np.pi, sizes[1])
    outer = np.column_stack([np.cos(t0), np.sin(t0)])
    inner = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    return _jitter(rng, np.concatenate([outer, inner]), noise), _labels(sizes)


@dataset("xor", task="classification", noise=0.05, classes=2, max_classes=2, features=2,
         noise_doc="std of Gaussian noise on the inputs, added after labelling")
def xor(rng, *, samples, noise, classes=2, features):
    """Uniform points in [-1, 1]^features labelled by the parity of their negative
    coordinates: the four quadrants in 2-D (XOR of the signs)."""
    _check_classes("xor", classes, 2)
    X = rng.uniform(-1.0, 1.0, (samples, features))
    y = (np.sum(X < 0, axis=1) % 2).astype(np.int64)
    return _jitter(rng, X, noise), y


@dataset("blobs", task="classification", noise=0.3, classes=3, features=2,
         noise_doc="std of each Gaussian blob")
def blobs(rng, *, samples, noise, classes, features):
    """K Gaussian blobs with centres at distance 1 from the origin: evenly spaced on the
    unit circle (random rotation) in 2-D, on [-1, 1] in 1-D, random directions above."""
    sizes = class_sizes(samples, classes)
    if features == 1:
        centres = np.linspace(-1.0, 1.0, classes)[:, None]
    elif features == 2:
        a = rng.uniform(0.0, 2.0 * np.pi) + 2.0 * np.pi * np.arange(classes) / classes
        centres = np.column_stack([np.cos(a), np.sin(a)])
    else:
        centres = rng.standard_normal((classes, features))
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    X = np.repeat(centres, sizes, axis=0) + noise * rng.standard_normal((samples, features))
    return X, _labels(sizes)


CHECKERBOARD_CELLS = 4  # cells per axis


@dataset("checkerboard", task="classification", noise=0.0, classes=2, features=2,
         noise_doc="std of Gaussian noise on the inputs, added after labelling")
def checkerboard(rng, *, samples, noise, classes, features):
    """Uniform points in [-1, 1]^features on a board of 4 cells per axis, coloured by
    (sum of the cell indices) mod K: a 4 x 4 checkerboard in 2-D with K = 2."""
    X = rng.uniform(-1.0, 1.0, (samples, features))
    cell = np.clip(np.floor((X + 1.0) / 2.0 * CHECKERBOARD_CELLS), 0, CHECKERBOARD_CELLS - 1)
    y = (cell.sum(axis=1).astype(np.int64)) % classes
    return _jitter(rng, X, noise), y


@dataset("sine", task="regression", noise=0.1, n_in=1, noise_doc="std of Gaussian noise on the target")
def sine(rng, *, samples, noise, classes=None, features=None):
    """Regression: x uniform on [-pi, pi], target sin(x) + N(0, noise^2)."""
    x = rng.uniform(-np.pi, np.pi, (samples, 1))
    return x, np.sin(x) + noise * rng.standard_normal((samples, 1))


@dataset("linear", task="regression", noise=0.1, features=2, noise_doc="std of Gaussian noise on the target")
def linear(rng, *, samples, noise, classes=None, features):
    """Regression: x ~ N(0, I), target w.x + N(0, noise^2) with w ~ N(0, I / features)."""
    X = rng.standard_normal((samples, features))
    w = rng.standard_normal((features, 1)) / np.sqrt(features)
    return X, X @ w + noise * rng.standard_normal((samples, 1))
