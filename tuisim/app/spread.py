"""Across seeds: the median and [min, max] that the run screen's panels draw.

Plain numpy, no Textual: every panel calls these, and the tests check them directly.

The rule for a seed that diverged: from its divergence step on it counts as +inf (loss,
gradient norm), not as missing. Leaving it out would show the median of the seeds that
survived, a healthy-looking line when most seeds blew up; counted as +inf, the median
itself turns infinite (and the loss line ends, with a divergence mark) as soon as at
least half the seeds have diverged, which is what `np.median` and the expectations'
median (tuisim.run.checks.median_of) say too: with an even number of seeds, half of
them diverged is enough, as the median of [x, inf] is inf.

A seed that has not reached a step yet (it lags, or is not evaluated there) is left out
of that step's median: NaN, not +inf.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from tuisim.i18n import _


def _quiet(fn, a: np.ndarray, axis: int = 0) -> np.ndarray:
    """fn (nanmedian, nanmin, nanmax) without the all-NaN warnings: a step no seed has
    reached is NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(invalid="ignore"):
            return fn(a, axis=axis)


def align(series: list[tuple[np.ndarray, np.ndarray, int | None]]) -> tuple[np.ndarray, np.ndarray]:
    """The seeds' values on their common steps: (steps, values of shape seeds x steps).

    Each series is (steps, values, diverged_at). A step is kept when every seed that has
    reached it (recorded it or a later one) has a record of it: a long run's history
    keeps its older records thinned (tuisim.run.history), more so in a seed that got
    further, and the median is not taken over whichever seeds kept a step. A seed that
    has not reached a step is NaN there; from its divergence on (the step it diverged
    at included: its values there are no longer finite) it is +inf."""
    if not series:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0))
    steps = [np.asarray(s, dtype=np.int64) for s, _, _ in series]
    if all(len(s) == len(steps[0]) and np.array_equal(s, steps[0]) for s in steps[1:]):
        grid = steps[0]
        out = np.array([np.asarray(v, dtype=np.float64) for _, v, _ in series]).reshape(len(series), len(grid))
    else:
        grid = np.unique(np.concatenate(steps))
        out = np.full((len(series), len(grid)), np.nan)
        keep = np.ones(len(grid), dtype=bool)
        for k, (s, (_, v, _)) in enumerate(zip(steps, series)):
            at = np.searchsorted(grid, s)
            out[k, at] = v
            if len(s):
                has = np.zeros(len(grid), dtype=bool)
                has[at] = True
                keep &= has | (grid > s[-1])
        grid, out = grid[keep], out[:, keep]
    for k, (_, _, d) in enumerate(series):
        if d is not None:
            out[k, grid >= d] = np.inf
    return grid, out


def median_series(series: list[tuple[np.ndarray, np.ndarray, int | None]]) -> tuple[np.ndarray, np.ndarray]:
    """(steps, the median across the seeds at each step), by the rule above."""
    grid, vals = align(series)
    if len(series) == 1:  # one seed: its own values, exactly
        return grid, vals[0]
    return grid, _quiet(np.nanmedian, vals)


def median_divergence(diverged_at: list[int | None]) -> int | None:
    """The step at which the median across the seeds becomes infinite: when at least half
    of them (ceil(n / 2)) have diverged; None if that never happens."""
    n = len(diverged_at)
    steps = sorted(d for d in diverged_at if d is not None)
    need = math.ceil(n / 2)
    return steps[need - 1] if n and len(steps) >= need else None


def latest_spread(rows: list[np.ndarray | None], diverged: list[bool] | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Per layer, the median, min and max across the seeds' latest records (rows of one
    value per layer; None for a seed without a record yet, left out).

    By the rule above a seed that diverged counts as +inf in every layer (its latest
    record is its divergence step, where some layers may still look finite), and so
    does any non-finite value (a NaN gradient is one that blew up). With one seed, its
    row as it is."""
    diverged = diverged or [False] * len(rows)
    have = [(np.asarray(r, dtype=np.float64), d) for r, d in zip(rows, diverged) if r is not None]
    if not have:
        return None
    if len(have) == 1:
        return have[0][0], have[0][0], have[0][0]
    a = np.array([np.full_like(r, np.inf) if d else r for r, d in have])
    a = np.where(np.isfinite(a), a, np.inf)
    return np.median(a, axis=0), a.min(axis=0), a.max(axis=0)


def nan_spread(rows: list[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Per column, the median, min and max of the finite values across the seeds (NaN
    where none is): for statistics with no direction to blow up in (activation means,
    saturation), a diverged seed's NaN is left out. With one seed, its row as it is."""
    have = [np.asarray(r, dtype=np.float64) for r in rows if r is not None]
    if not have:
        return None
    if len(have) == 1:
        return have[0], have[0], have[0]
    a = np.array(have)
    a = np.where(np.isfinite(a), a, np.nan)
    return _quiet(np.nanmedian, a), _quiet(np.nanmin, a), _quiet(np.nanmax, a)


def median_grid(grids: list[np.ndarray], diverged_bins: list[int | None], hi: float) -> np.ndarray:
    """The median across the seeds of (time bins x layers) grids of log10 values (NaN
    where a seed has no record yet). A seed that diverged in bin d counts as `hi` (the
    axis' top) in the bins after d, up to the last bin any seed has reached."""
    if len(grids) == 1:
        return grids[0]
    a = np.array([np.asarray(g, dtype=np.float64) for g in grids])
    reached = np.flatnonzero(np.any(~np.isnan(a), axis=(0, 2)))
    last = int(reached[-1]) if len(reached) else -1
    for k, d in enumerate(diverged_bins):
        if d is not None and d + 1 <= last:
            a[k, d + 1:last + 1] = hi
    return _quiet(np.nanmedian, a)


def median_histogram(hists: list[tuple[np.ndarray | None, int]]) -> tuple[np.ndarray | None, int, int]:
    """The median count per bin across the seeds' latest histograms ((layers, bins), each
    with the step it was taken at), of the seeds whose histograms are of the latest step:
    (counts, step, how many seeds). A seed that stopped (diverged) earlier is left out,
    its picture being of another step."""
    have = [(h, s) for h, s in hists if h is not None and s >= 0]
    if not have:
        return None, -1, 0
    step = max(s for _, s in have)
    at = [np.asarray(h, dtype=np.float64) for h, s in have if s == step]
    if len(at) == 1:
        return at[0], step, 1
    return np.median(np.array(at), axis=0), step, len(at)


def seed_span(seeds: list[int]) -> str:
    """"seeds 0-2" for consecutive seeds, else "seeds 0, 4, 7"; "seed 3" for one."""
    if len(seeds) == 1:
        return _("seed {seed}").format(seed=seeds[0])
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return _("seeds {first}-{last}").format(first=seeds[0], last=seeds[-1])
    return _("seeds {list}").format(list=", ".join(map(str, seeds)))
