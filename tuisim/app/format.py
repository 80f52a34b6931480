"""Small text helpers shared by the widgets: numbers, layer names, row sampling."""

from __future__ import annotations

import math

import numpy as np


def sci(v: float, digits: int = 1) -> str:
    """A compact scientific number: 1.2e-13, 3.4e-2, 5.0e0 (digits=0: 1e-13), NaN, inf."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "NaN"
    v = float(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    m, e = f"{v:.{digits}e}".split("e")
    return f"{m}e{int(e)}"


def num(v: float, digits: int = 3) -> str:
    """A short general number (0.0421, 12.3, 1.2e-5)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    v = float(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return sci(v)
    return f"{v:.{digits}g}"


def pct(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{100 * v:.0f}%"


def layer_name(i: int, layers: int) -> str:
    """Linear layer i (0 = input side) of `layers`: "0".."depth-1", the last is "out".

    0-based, like the state dict's `layers.{i}`, the records' per-layer lists and the
    expectations' `layer`, so a number read on screen means the same everywhere."""
    return "out" if i == layers - 1 else str(i)


def sample_rows(n: int, rows: int) -> np.ndarray:
    """At most `rows` indices of range(n), evenly spread, always the first and the last."""
    if rows <= 0:
        return np.zeros(0, dtype=np.int64)
    if n <= rows:
        return np.arange(n)
    if rows == 1:
        return np.array([n - 1])
    return np.unique(np.round(np.linspace(0, n - 1, rows)).astype(np.int64))


def log10_safe(a: np.ndarray) -> np.ndarray:
    """log10 of |a|: -inf for 0, +inf for inf, NaN for NaN, without warnings."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.abs(a))


def ellipsize(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
