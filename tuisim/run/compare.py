"""Comparing a measured value with a claim's below / above / between / equals, and
printing numbers the same way, for [[expect]] and [[sweep.expect]] alike."""

from __future__ import annotations

import math

from tuisim.i18n import _


def compare(value, e) -> tuple[bool, str]:
    """(whether every comparison the claim `e` gives holds for `value`, the rules in words).
    A NaN value never passes."""
    rules, ok = [], True
    if e.equals is not None:
        rules.append(_("equals {x}").format(x=repr(e.equals) if isinstance(e.equals, str) else e.equals))
        if isinstance(e.equals, str) or isinstance(value, str):
            ok &= value == e.equals
        else:
            ok &= isinstance(value, (int, float)) and math.isclose(float(value), float(e.equals), rel_tol=1e-9)
    if isinstance(value, str):
        return bool(ok), ", ".join(rules)
    v = float(value)
    if e.below is not None:
        rules.append(_("below {x}").format(x=fmt(e.below)))
        ok &= v < e.below
    if e.above is not None:
        rules.append(_("above {x}").format(x=fmt(e.above)))
        ok &= v > e.above
    if e.between is not None:
        lo, hi = e.between
        d = digits(e)
        rules.append(_("between {lo} and {hi}").format(lo=fmt(lo, d), hi=fmt(hi, d)))
        ok &= lo <= v <= hi
    if math.isnan(v):
        ok = False
    return bool(ok), ", ".join(rules)


def digits(e) -> int:
    """The significant digits that print a claim's `between` bounds as written (4 at
    least): [-0.100001, -0.099999] needs 6."""
    d = 4
    if getattr(e, "between", None) is not None:
        while d < 15 and any(float(fmt(b, d)) != b for b in e.between):
            d += 1
    return d


def fmt(v, digits: int = 4) -> str:
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, bool):
        return str(v)
    if v is None:
        return "-"
    v = float(v)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.{digits - 1}g}"
    return f"{v:.{digits}g}"


def clock(seconds: float | None) -> str:
    """0:42, 12:03, 1:02:03; --:-- when unknown (elapsed times and ETAs)."""
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
