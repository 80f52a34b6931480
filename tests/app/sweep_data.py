"""A fixed, partial sweep for the map's tests: an 8 x 6 phase diagram (init scale across,
depth down) of two variants and two seeds, filled seed-major up to a point, with a failed
run and diverged ones. No run, no file: the arrays are made here."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np

from tuisim.app.sweep_map import MapData, MapLayout
from tuisim.sweep.grid import GridAxis

SCALES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0)
DEPTHS = (5, 10, 15, 20, 25, 30)
VARIANTS = ("tanh", "tanh + BN")


def grid(variants=VARIANTS):
    axes = [GridAxis("model.init_scale", "sigma_w^2", SCALES, tuple(f"{s:g}" for s in SCALES)),
            GridAxis("model.depth", "depth", DEPTHS, tuple(str(d) for d in DEPTHS))]
    if len(variants) > 1:
        axes.append(GridAxis("variant", "variant", variants, variants))
    return SimpleNamespace(axes=tuple(axes), shape=tuple(len(a) for a in axes), seeds=(0, 1), variants=variants)


def partial_map(variants=VARIANTS, done: int = 60) -> MapData:
    """The first `done` of the runs (seed-major, cells in grid order), as the sweep would have them."""
    g = grid(variants)
    shape = g.shape
    x, y = np.meshgrid(np.log2(np.array(SCALES)), np.array(DEPTHS), indexing="ij")
    acc = np.clip(1.0 - np.abs(x - 0.3) * y / 40, 0.5, 1.0)  # a wedge around the critical line
    if len(variants) > 1:
        acc = np.stack([acc, np.clip(acc + 0.2, 0.5, 1.0)], axis=-1)
    values = np.stack([acc, acc - 0.02], axis=-1)  # (*shape, seeds)
    status = np.zeros(shape + (2,), dtype=int)
    for k, cell in enumerate(list(np.ndindex(shape)) * 2):
        if k >= done:
            break
        status[cell + (k // int(np.prod(shape)),)] = 1
    rest = (0,) * (len(shape) - 2)
    status[(0, 1) + rest] = 2  # a cell whose runs both failed
    status[(1, 0) + rest + (0,)] = 2  # one failed, one gave a value
    vals = np.where(status == 1, values, np.nan)
    div = np.zeros(shape, dtype=int)
    div[(7, 5) + rest] = 1  # a diverged one
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(vals, axis=-1)
        spread = np.nanstd(vals, axis=-1, ddof=1)
    counts = (status == 1).sum(axis=-1)
    spread[counts < 2] = np.nan
    return MapData.of(MapLayout.of(g), "train_accuracy", 2, means=means, spread=spread, counts=counts,
                      failures=(status == 2).sum(axis=-1), diverged=np.where(counts > 0, div, 0), chance=0.5)
