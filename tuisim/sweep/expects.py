"""Checking [[sweep.expect]] claims against a sweep's results (the means over seeds).

A claim is judged only when every cell it reads is complete (each of its seeds ran, to
a value or a failure): on a sweep that ended early (Ctrl-C, a lost cluster) a claim
that reads a cell with runs missing is not judged, says how many of its cells are
incomplete, and is not a pass."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from tuisim.scenario.sweep import VARIANT_AXIS, SweepExpect

from tuisim.run.compare import compare as _compare
from tuisim.run.compare import fmt as _fmt

from .view import SweepResults


@dataclass
class SweepCheck:
    expect: SweepExpect
    value: float | str | None
    passed: bool
    text: str
    skipped: str = ""  # why the claim could not be read off this grid (then it neither passes nor fails)
    missing: str = ""  # which of the cells it reads have runs missing (then it is not judged, and not a pass)

    def line(self) -> str:
        mark = "SKIP" if self.skipped else "MISSING" if self.missing else ("PASS" if self.passed else "FAIL")
        claim = f"  {self.expect.claim}" if self.expect.claim else ""
        return f"{mark}  {self.text}{claim}"


class _Skip(Exception):
    pass


class _Missing(Exception):
    pass


def check_sweep(results: SweepResults) -> list[SweepCheck]:
    return [check_sweep_expect(e, results) for e in results.grid.sweep.expects]


def check_sweep_expect(e: SweepExpect, results: SweepResults) -> SweepCheck:
    grid = results.grid
    desc = _describe(e, len(grid.variants) > 1, grid)
    means = results.means()
    incomplete = results.missing() > 0
    reads: list[tuple[int, int]] = []  # (incomplete cells, cells) of each quantity the claim reads

    def quantity(variant, at):
        try:
            return _quantity(e, results, means, incomplete, variant, at, reads)
        except _Missing:
            return None

    try:
        value = quantity(e.variant, dict(e.at))
        relative = e.relative_to is not None or e.relative_at is not None
        if relative:
            other = e.relative_to if e.relative_to is not None else e.variant
            at = {**dict(e.at), **dict(e.relative_at or ())}
            base = quantity(other, at)
        n, of = sum(r[0] for r in reads), sum(r[1] for r in reads)
        if n:
            why = (f"{n} of the {of} cells it reads {'have' if n != 1 else 'has'} runs missing" if of > 1
                   else "its cell has runs missing")
            return SweepCheck(e, None, False, f"{desc}: not judged: {why}", missing=why)
        if relative:
            value = _divide(value, base)
            rel = []
            if e.relative_to is not None:
                rel.append(repr(e.relative_to))
            if e.relative_at is not None:
                rel.append("at " + _point(e.relative_at, grid))
            desc += " / the same of " + " ".join(rel)
    except _Skip as why:
        return SweepCheck(e, None, False, f"{desc}: not checked: {why}", skipped=str(why))
    passed, rule = _compare(value, e)
    tick = _tick(grid, e.axis, value) if e.quantity not in ("value", "trend") and not relative else None
    if tick is not None:  # a point of an axis titled in other terms than its key: say it in both
        return SweepCheck(e, value, passed, f"{desc} = {tick} ({e.axis} = {_fmt(value)}: {rule})")
    return SweepCheck(e, value, passed, f"{desc} = {_fmt(value)} ({rule})")


def _quantity(e: SweepExpect, results: SweepResults, means: np.ndarray, incomplete: np.ndarray, variant: str | None,
              at: dict, reads: list):
    grid = results.grid
    index: list = []
    free: list[int] = []
    along = e.axis
    for k, axis in enumerate(grid.axes):
        if axis.key == VARIANT_AXIS:
            if along == VARIANT_AXIS:
                index.append(slice(None))
            else:
                index.append(grid.variants.index(variant))
            continue
        if axis.key == along:
            index.append(slice(None))
        elif axis.key in at:
            i = _find(axis, at[axis.key])
            if i is None:
                raise _Skip(f"{axis.key} = {at[axis.key]!r} is not in this grid")
            index.append(i)
        else:
            index.append(slice(None))
            free.append(k)
    if along is not None and grid.axis_index(along) is None:
        raise _Skip(f"{along} is not an axis of this grid")
    short = np.asarray(incomplete[tuple(index)])
    reads.append((int(short.sum()), int(short.size)))
    if short.any():  # judged on complete cells only: never on the part of a map that ran
        raise _Missing
    sub = means[tuple(index)]
    # the axes still present, in order: the sliced ones; average the free ones
    kept = [k for k, ix in enumerate(index) if isinstance(ix, slice)]
    free_pos = tuple(kept.index(k) for k in free)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        reduced = np.nanmean(sub, axis=free_pos) if free_pos else sub
    if e.quantity == "value":
        v = float(reduced)
        if math.isnan(v):
            raise _Skip("no result at that cell")
        return v
    series = np.asarray(reduced, dtype=float)
    axis_values = grid.axes[grid.axis_index(along)].values
    ok = ~np.isnan(series)
    if not ok.any():
        raise _Skip(f"no result along {along}")
    q = e.quantity
    if q in ("argmax", "argmin"):
        s = np.where(ok, series, -np.inf if q == "argmax" else np.inf)
        return axis_values[int(np.argmax(s) if q == "argmax" else np.argmin(s))]
    if q == "trend":
        if ok.sum() < 3:
            raise _Skip(f"a trend needs 3 or more values along {along}")
        return _spearman(np.array(axis_values, dtype=float)[ok], series[ok])
    hits = [i for i in range(len(series)) if ok[i] and (series[i] > e.level if q.endswith("above")
                                                        else series[i] < e.level)]
    if not hits:
        return math.nan
    return axis_values[hits[0] if q.startswith("first") else hits[-1]]


def _find(axis, value):
    for i, v in enumerate(axis.values):
        if v == value or (isinstance(v, (int, float)) and isinstance(value, (int, float))
                          and math.isclose(v, value, rel_tol=1e-9)):
            return i
    return None


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=float)
    for v in np.unique(x):  # ties share their mean rank
        same = x == v
        ranks[same] = ranks[same].mean()
    return ranks


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum() / denom) if denom > 0 else 0.0


def _divide(a, b) -> float:
    if isinstance(a, str) or isinstance(b, str):
        raise _Skip("a text cannot be divided")
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))


# An axis with a title of its own (label = "sigma_w^2" on key model.init_scale, tick
# labels "0.5", "1", ...) is named in the claims' lines as the map names it: by its title
# and tick labels, not by its key and values.

def _titled(grid, key):
    """The grid's axis of `key` when it has a title other than its key, else None."""
    k = grid.axis_index(key) if grid is not None and key is not None else None
    return grid.axes[k] if k is not None and grid.axes[k].label != key else None


def _tick(grid, key, value) -> str | None:
    """The tick label of `value` on a titled axis (None if untitled or not on it)."""
    axis = _titled(grid, key)
    i = _find(axis, value) if axis is not None else None
    return None if i is None else axis.labels[i]


def _point(pairs, grid=None) -> str:
    parts = []
    for k, v in pairs:
        axis, tick = _titled(grid, k), _tick(grid, k, v)
        parts.append(f"{axis.label}={tick}" if tick is not None else f"{k}={_fmt(v)}")
    return ", ".join(parts)


def _describe(e: SweepExpect, series: bool, grid=None) -> str:
    who = f"{e.variant}: " if e.variant and series else ""
    axis = _titled(grid, e.axis)
    along = axis.label if axis is not None else e.axis
    if e.quantity == "value":
        s = f"{who}value"
    elif e.quantity in ("argmax", "argmin", "trend"):
        s = f"{who}{e.quantity} along {along}"
    else:
        s = f"{who}{e.quantity} {_fmt(e.level)} along {along}"
    if e.at:
        s += f" at {_point(e.at, grid)}"
    return s
