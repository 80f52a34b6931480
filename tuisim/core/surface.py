"""Optimizer paths on 2-D test surfaces: a point (x, y) trained by the engine's own update.

`Descent` trains a parameter vector of length 2 with an `Optimizer` (the same settings,
defaults, schedules, state and live changes as for a network), and each step runs the
engine's own kernels: `clip_gradient` then `update_segment`, as the network's step does.
So a path on a surface is exactly what the MLP lessons' optimizers do, on a loss whose
picture everyone knows. Only the gradient differs: the surface's, plus optional Gaussian
noise (a stochastic gradient, SGD against batch GD).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._jit import jit
from . import update as u

from .surface_spec import (BEALE, HIMMELBLAU, QUADRATIC, RAVINE, ROSENBROCK, SADDLE,  # noqa: F401 - re-exported
                           SADDLE_KINDS, SURFACES, SurfaceSpec, minima, param_problems)


@jit
def value_grad(code, sp, x, y, G):
    """The surface's value at (x, y); its gradient goes to G[0], G[1]. sp holds the
    parameters in the order of SURFACES[name].params."""
    if code == ROSENBROCK:
        a = sp[0]
        b = sp[1]
        r = y - x * x
        G[0] = -2.0 * (a - x) - 4.0 * b * x * r
        G[1] = 2.0 * b * r
        return (a - x) ** 2 + b * r * r
    if code == BEALE:
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y * y
        t3 = 2.625 - x + x * y * y * y
        G[0] = 2.0 * (t1 * (y - 1.0) + t2 * (y * y - 1.0) + t3 * (y * y * y - 1.0))
        G[1] = 2.0 * x * (t1 + 2.0 * t2 * y + 3.0 * t3 * y * y)
        return t1 * t1 + t2 * t2 + t3 * t3
    if code == SADDLE:
        if sp[0] == 0.0:
            G[0] = 2.0 * x
            G[1] = -2.0 * y
            return x * x - y * y
        G[0] = 3.0 * x * x - 3.0 * y * y
        G[1] = -6.0 * x * y
        return x * x * x - 3.0 * x * y * y
    if code == RAVINE:
        c = sp[0]
        G[0] = x
        G[1] = c * y
        return 0.5 * (x * x + c * y * y)
    if code == HIMMELBLAU:
        p = x * x + y - 11.0
        q = x + y * y - 7.0
        G[0] = 4.0 * x * p + 2.0 * q
        G[1] = 2.0 * p + 4.0 * y * q
        return p * p + q * q
    # QUADRATIC
    G[0] = sp[0] * x
    G[1] = sp[1] * y
    return 0.5 * (sp[0] * x * x + sp[1] * y * y)


@jit
def descend_steps(code, sp, P, G, S, hp, opt_code, lrs, noise, t, mu_prod, pos, loss, gnorm, upd, coef):
    """len(lrs) steps of the point P (length 2) on the surface `code`. Step k: the value
    and gradient at P (recorded in pos[k], loss[k]), plus noise[k]; gnorm[k] the norm of
    that gradient; then, as the network's step does, `clip_gradient` (coef[k]) and
    `update_segment` with hp[H_LR] = lrs[k], the change going to upd[k].
    A step whose value or gradient is not finite changes nothing and is the last one run.
    Returns (steps run, torch's step count t, NAdam's momentum product, diverged)."""
    nadam = opt_code == u.NADAM
    for k in range(lrs.shape[0]):
        pos[k, 0] = P[0]
        pos[k, 1] = P[1]
        f = value_grad(code, sp, P[0], P[1], G)
        G[0] += noise[k, 0]
        G[1] += noise[k, 1]
        loss[k] = f
        gn = math.sqrt(G[0] * G[0] + G[1] * G[1])
        gnorm[k] = gn
        if not (math.isfinite(f) and math.isfinite(gn)):
            coef[k] = 1.0
            return k + 1, t, mu_prod, True
        hp[u.H_LR] = lrs[k]
        t += 1
        if nadam:
            mu_prod = mu_prod * u.nadam_mu(t, hp[u.H_BETA1], hp[u.H_MOMENTUM_DECAY])
        coef[k] = u.clip_gradient(G, hp)
        u.update_segment(opt_code, P, G, S, 0, 2, hp, t, mu_prod)
        upd[k, 0] = S[u.DELTA_ROW, 0]
        upd[k, 1] = S[u.DELTA_ROW, 1]
    return lrs.shape[0], t, mu_prod, False


class Surface:
    """A named 2-D test function with its parameters (keywords; those left out take the
    defaults of SURFACES[name].params). Raises ValueError for an unknown name or
    parameter, or a value out of range."""

    def __init__(self, name: str = "rosenbrock", **params):
        problems = param_problems(name, params)
        if problems:
            raise ValueError(problems[0][1])
        spec = SURFACES[name]
        self.name, self.code, self.formula = name, spec.code, spec.formula
        self.params = {**spec.params, **params}
        values = [float(SADDLE_KINDS.index(v)) if k == "kind" else float(v) for k, v in self.params.items()]
        self._sp = np.array(values or [0.0], dtype=np.float64)

    @property
    def minima(self) -> tuple[tuple[float, float], ...]:
        """The global minima (x, y); empty for the saddles, which have none."""
        return minima(self.name, self.params)

    @property
    def steep(self) -> int:
        """The steep coordinate (0 for x, 1 for y): the one of larger curvature at the
        (first) minimum, y on a tie and on the saddles (y is their way down). The
        oscillation metric counts the sign changes of its updates."""
        if not self.minima:
            return 1
        x, y = self.minima[0]
        h = 1e-4
        g1, g2 = np.empty(2), np.empty(2)
        value_grad(self.code, self._sp, x + h, y, g1)
        value_grad(self.code, self._sp, x - h, y, g2)
        hxx = abs(g1[0] - g2[0]) / (2 * h)
        value_grad(self.code, self._sp, x, y + h, g1)
        value_grad(self.code, self._sp, x, y - h, g2)
        hyy = abs(g1[1] - g2[1]) / (2 * h)
        return 0 if hxx > hyy * (1 + 1e-6) else 1

    def value(self, x: float, y: float) -> float:
        return float(value_grad(self.code, self._sp, float(x), float(y), np.empty(2)))

    def gradient(self, x: float, y: float) -> np.ndarray:
        g = np.empty(2)
        value_grad(self.code, self._sp, float(x), float(y), g)
        return g

    def distance_to_minimum(self, position) -> np.ndarray:
        """The distance of each point (rows of `position`) to the nearest minimum."""
        if not self.minima:
            raise ValueError(f"the {self.params['kind']} saddle has no minimum to measure a distance to")
        pts = np.atleast_2d(np.asarray(position, dtype=np.float64))
        mins = np.array(self.minima)
        return np.sqrt(((pts[:, None, :] - mins[None, :, :]) ** 2).sum(axis=2)).min(axis=1)


@dataclass
class PathTrace:
    """What each step of a `Descent.run` measured. Row k is step `first + k`: the point it
    started from (`position`, where `loss` and the gradient were taken), the norm of the
    gradient it used (noise included, before clipping), the change it made (`update`),
    its learning rate and the norm clipping's coefficient."""

    first: int
    position: np.ndarray  # (steps, 2)
    loss: np.ndarray
    grad_norm: np.ndarray
    update: np.ndarray  # (steps, 2)
    lr: np.ndarray
    clip_coef: np.ndarray
    diverged: bool

    def __len__(self) -> int:
        return self.loss.shape[0]


class Descent:
    """A point on `surface`, from `start` = (x, y), trained by the named optimizer.

    Keyword arguments are exactly `Optimizer`'s (the scenario's [train] optimizer keys,
    with torch.optim's defaults): the update is the engine's. `noise` > 0 adds N(0,
    noise^2) to each gradient coordinate, drawn from `seed`; the draws do not depend on
    how the steps are split between calls to `run`."""

    parameter_count = 2
    dtype = np.dtype(np.float64)

    def __init__(self, surface: Surface, start, optimizer: str = "sgd", noise: float = 0.0, seed: int = 0, **kwargs):
        from .optimizer import Optimizer

        start = np.asarray(start, dtype=np.float64)
        if start.shape != (2,) or not np.isfinite(start).all():
            raise ValueError(f"start must be two finite numbers [x, y], not {start.tolist()}")
        if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0 or not math.isfinite(noise):
            raise ValueError(f"noise must be a number >= 0, not {noise!r}")
        self.surface = surface
        self.P = start.copy()
        self.noise = float(noise)
        self._rng = np.random.default_rng(seed)
        self._G = np.zeros(2)
        self.optimizer = Optimizer(self, optimizer, **kwargs)
        self.diverged = False

    @property
    def position(self) -> np.ndarray:
        return self.P.copy()

    def run(self, steps: int) -> PathTrace:
        """`steps` updates in one compiled call (fewer when a step diverges: it is the last
        one run, and it changes nothing)."""
        opt = self.optimizer
        m = int(steps)
        lrs = np.array([opt.lr_at(opt.steps + k) for k in range(m)], dtype=np.float64)
        noise = self._rng.normal(size=(m, 2)) * self.noise if self.noise > 0 else np.zeros((m, 2))
        pos, upd = np.zeros((m, 2)), np.zeros((m, 2))
        loss, gnorm, coef = np.zeros(m), np.zeros(m), np.ones(m)
        first = opt.steps
        try:
            ran, t, mu_prod, diverged = descend_steps(self.surface.code, self.surface._sp, self.P, self._G, opt.state,
                                                      opt._hp, opt._code, lrs, noise, opt.t, opt._mu_prod, pos, loss,
                                                      gnorm, upd, coef)
        finally:
            opt._hp[u.H_LR] = opt.hparams["lr"]
        opt._advance_counts(ran, t, mu_prod)
        self.diverged = bool(diverged)
        return PathTrace(first, pos[:ran], loss[:ran], gnorm[:ran], upd[:ran], lrs[:ran], coef[:ran], self.diverged)


# ---------------------------------------------------------------- path metrics, per step


def path_length(update, start: float = 0.0) -> np.ndarray:
    """The length travelled by the end of each step (the cumulative sum of |update|),
    after `start` travelled before the first."""
    steps = np.hypot(update[:, 0], update[:, 1])
    return np.cumsum(np.concatenate([[start], steps]))[1:]  # summed in order: the same split into calls or not


def oscillation(update, axis: int, last: float = 0.0, count: int = 0) -> np.ndarray:
    """The number of sign changes of coordinate `axis` of the updates, by the end of each
    step (a zero update neither changes the sign nor resets it); `last` the sign of the
    last nonzero update before the first and `count` the changes by then (to carry the
    count across calls)."""
    d = np.sign(np.asarray(update)[:, axis])
    out = np.zeros(d.shape[0], dtype=np.int64)
    n = count
    for k, s in enumerate(d):
        if s != 0:
            if last != 0 and s != last:
                n += 1
            last = s
        out[k] = n
    return out


def steps_to_minimum(surface: Surface, position, eps: float) -> float:
    """The first step whose starting point is within `eps` of a minimum; inf if none."""
    hit = np.flatnonzero(surface.distance_to_minimum(position) <= eps)
    return float(hit[0]) if hit.size else math.inf


def surface_cached() -> bool | None:
    """Whether the compiled path step is in Numba's disk cache (see tuisim.core.engine_cached)."""
    from ._jit import in_disk_cache

    return in_disk_cache(descend_steps, "float64", arg=1)  # its second argument, the parameters, is an array


def warm_up_surface() -> float:
    """Compile (the first time: about 2 s) or load the path step; returns the seconds it took."""
    import time

    t0 = time.perf_counter()
    Descent(Surface("quadratic"), (1.0, 1.0)).run(1)
    return time.perf_counter() - t0
