"""The 2-D test surfaces by name: codes, parameters with their defaults, formulas, minima
and classic starting points. No numba here: the scenario format validates `[surface]`
with it, and validation must not load the compiler (tuisim.core.surface has the kernels).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

ROSENBROCK, BEALE, SADDLE, RAVINE, HIMMELBLAU, QUADRATIC = range(6)
SADDLE_KINDS = ("quadratic", "monkey")

HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118086952745, 3.131312518250573), (-3.779310253377747, -3.283185991286170),
                      (3.584428340330492, -1.848126526964404))


@dataclass(frozen=True)
class SurfaceSpec:
    """One surface: its code, its parameters with their defaults, its formula and its
    minimum in words."""

    code: int
    params: dict
    formula: str
    minimum: str
    start: tuple[float, float]  # the classic starting point, when a scenario gives none


SURFACES: dict[str, SurfaceSpec] = {
    "rosenbrock": SurfaceSpec(ROSENBROCK, {"a": 1.0, "b": 100.0}, "(a - x)^2 + b (y - x^2)^2",
                              "0 at (a, a^2), at the end of a long curved valley", (-1.5, 2.0)),
    "beale": SurfaceSpec(BEALE, {}, "(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
                         "0 at (3, 0.5); flat plateaus and steep walls", (1.0, 1.5)),
    "saddle": SurfaceSpec(SADDLE, {"kind": "quadratic"}, "x^2 - y^2 (kind = \"quadratic\"), "
                          "x^3 - 3 x y^2 (kind = \"monkey\")",
                          "none: unbounded below; the stationary point (0, 0) is a saddle", (1.0, 0.01)),
    "ravine": SurfaceSpec(RAVINE, {"condition": 10.0}, "(x^2 + condition y^2) / 2",
                          "0 at (0, 0); the curvature across (y) is `condition` times that along (x)", (-8.0, 1.0)),
    "himmelblau": SurfaceSpec(HIMMELBLAU, {}, "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
                              "0 at four points: (3, 2), (-2.805, 3.131), (-3.779, -3.283), (3.584, -1.848)", (0.0, 0.0)),
    "quadratic": SurfaceSpec(QUADRATIC, {"a": 1.0, "b": 1.0}, "(a x^2 + b y^2) / 2", "0 at (0, 0)", (-1.0, 1.0)),
}


def minima(name: str, params: dict) -> tuple[tuple[float, float], ...]:
    """The global minima (x, y) of surface `name` with `params` (its defaults filled in);
    empty for the saddles, which have none."""
    code = SURFACES[name].code
    if code == ROSENBROCK:
        a = float(params["a"])
        return ((a, a * a),)
    if code == BEALE:
        return ((3.0, 0.5),)
    if code == HIMMELBLAU:
        return HIMMELBLAU_MINIMA
    if code == SADDLE:
        return ()
    return ((0.0, 0.0),)



def param_problems(name, params: dict) -> list[tuple[str | None, str]]:
    """What is wrong with surface `name` and its `params`: (the key at fault, None for
    the name; the message) for each problem, empty when they are fine."""
    if name not in SURFACES:
        near = difflib.get_close_matches(str(name), SURFACES, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        return [(None, f"unknown surface {name!r}{hint}; known: {', '.join(SURFACES)}")]
    spec = SURFACES[name]
    out: list[tuple[str | None, str]] = []
    for key, value in params.items():
        if key not in spec.params:
            known = ", ".join(spec.params) or "none"
            near = difflib.get_close_matches(key, spec.params, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            out.append((key, f"surface {name!r} has no parameter {key!r}{hint}; its parameters: {known}"))
        elif key == "kind":
            if value not in SADDLE_KINDS:
                out.append((key, f"saddle kind must be one of {', '.join(map(repr, SADDLE_KINDS))}, not {value!r}"))
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            out.append((key, f"{name} {key} must be a finite number, not {value!r}"))
        elif (key != "a" or name == "quadratic") and value <= 0:
            out.append((key, f"{name} {key} must be a number > 0, not {value!r}"))
    return out
