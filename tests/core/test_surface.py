"""Optimizer paths on 2-D surfaces: each surface's value against its formula written
here, its gradient against central differences, its minima; the path trained by the
engine's update against hand-computed steps and against the NumPy reference optimizer
(tuisim.core.reference, after torch.optim) for every optimizer, with weight decay,
clipping and schedules."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from tuisim.core import reference, registry
from tuisim.core.surface import (SURFACES, Descent, Surface, oscillation, path_length, steps_to_minimum)

# every surface with its default parameters and with others, and its formula written out
FORMULAS = {
    ("rosenbrock", ()): lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
    ("rosenbrock", (("a", 2.0), ("b", 5.0))): lambda x, y: (2 - x) ** 2 + 5 * (y - x * x) ** 2,
    ("beale", ()): lambda x, y: ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
                                 + (2.625 - x + x * y ** 3) ** 2),
    ("saddle", ()): lambda x, y: x * x - y * y,
    ("saddle", (("kind", "monkey"),)): lambda x, y: x ** 3 - 3 * x * y * y,
    ("ravine", ()): lambda x, y: (x * x + 10 * y * y) / 2,
    ("ravine", (("condition", 50.0),)): lambda x, y: (x * x + 50 * y * y) / 2,
    ("himmelblau", ()): lambda x, y: (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
    ("quadratic", ()): lambda x, y: (x * x + y * y) / 2,
    ("quadratic", (("a", 3.0), ("b", 0.5))): lambda x, y: (3 * x * x + 0.5 * y * y) / 2,
}
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in p) or 'defaults'}" for n, p in FORMULAS]


def test_every_surface_has_a_formula_case():
    assert {n for n, _ in FORMULAS} == set(SURFACES)


@pytest.mark.parametrize("name,params", list(FORMULAS), ids=IDS)
def test_value_and_gradient(name, params):
    s = Surface(name, **dict(params))
    f = FORMULAS[name, params]
    h = 1e-6
    for x, y in np.random.default_rng(3).uniform(-2.5, 2.5, size=(20, 2)):
        assert s.value(x, y) == pytest.approx(f(x, y), rel=1e-12, abs=1e-12)
        fd = np.array([(f(x + h, y) - f(x - h, y)) / (2 * h), (f(x, y + h) - f(x, y - h)) / (2 * h)])
        np.testing.assert_allclose(s.gradient(x, y), fd, rtol=1e-6, atol=1e-5 * max(1.0, abs(f(x, y))))


@pytest.mark.parametrize("name,params", list(FORMULAS), ids=IDS)
def test_minima(name, params):
    s = Surface(name, **dict(params))
    if name == "saddle":
        assert s.minima == ()
        assert s.value(0, 0) == 0 and not s.gradient(0, 0).any()
        with pytest.raises(ValueError, match="no minimum"):
            s.distance_to_minimum([0, 0])
        return
    f = FORMULAS[name, params]
    for x, y in s.minima:
        assert abs(s.value(x, y)) < 1e-20
        np.testing.assert_allclose(s.gradient(x, y), 0, atol=1e-10)
        # a minimum: lower than every point around it
        for dx, dy in ((1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3), (7e-4, 7e-4)):
            assert f(x + dx, y + dy) > s.value(x, y)
    assert s.distance_to_minimum(s.minima[0])[0] == 0


def test_steep_coordinate():
    assert Surface("ravine").steep == 1
    assert Surface("ravine", condition=0.1).steep == 0
    assert Surface("quadratic", a=3.0, b=0.5).steep == 0
    assert Surface("rosenbrock").steep == 0  # curvature 802 along x, 200 along y at (1, 1)
    assert Surface("saddle").steep == 1


def test_bad_surfaces_raise_naming_the_value():
    with pytest.raises(ValueError, match="did you mean 'rosenbrock'"):
        Surface("rosenbrok")
    with pytest.raises(ValueError, match="has no parameter 'condtion'.*did you mean 'condition'"):
        Surface("ravine", condtion=3)
    with pytest.raises(ValueError, match="condition must be a number > 0, not -1"):
        Surface("ravine", condition=-1)
    with pytest.raises(ValueError, match="kind must be one of 'quadratic', 'monkey', not 'horse'"):
        Surface("saddle", kind="horse")
    with pytest.raises(ValueError, match="start must be two finite numbers"):
        Descent(Surface(), [1.0])
    with pytest.raises(ValueError, match="noise must be a number >= 0"):
        Descent(Surface(), [1.0, 1.0], noise=-1)
    with pytest.raises(ValueError, match="did you mean 'adam'"):
        Descent(Surface(), [1.0, 1.0], "adma")


def test_sgd_and_momentum_steps_by_hand():
    # Rosenbrock at (-1.5, 2): r = y - x^2 = -0.25, g = (-2(1 + 1.5) - 400 (-1.5)(-0.25), 200 (-0.25)) = (-155, -50)
    s = Surface("rosenbrock")
    tr = Descent(s, [-1.5, 2.0], "sgd", lr=1e-3).run(1)
    assert tr.loss[0] == pytest.approx(2.5 ** 2 + 100 * 0.0625)
    assert tr.grad_norm[0] == pytest.approx(math.hypot(155, 50))
    np.testing.assert_allclose(tr.update[0], [0.155, 0.05], rtol=1e-13)
    # momentum on the ravine (x^2 + 10 y^2) / 2 from (1, 1), lr 0.1, mu 0.9:
    # g0 = (1, 10), b = g0, p1 = (0.9, 0); g1 = (0.9, 0), b = 0.9 (1, 10) + (0.9, 0) = (1.8, 9), p2 = (0.72, -0.9)
    d = Descent(Surface("ravine"), [1.0, 1.0], "momentum", lr=0.1, momentum=0.9)
    tr = d.run(2)
    np.testing.assert_allclose(tr.position, [[1, 1], [0.9, 0]], atol=1e-15)
    np.testing.assert_allclose(tr.update, [[-0.1, -1.0], [-0.18, -0.9]], atol=1e-15)
    np.testing.assert_allclose(d.position, [0.72, -0.9], atol=1e-15)


def test_adam_first_step_is_lr():
    """Bias correction: Adam's first step moves each coordinate by lr, whatever the
    gradient's size (L8.10)."""
    tr = Descent(Surface("rosenbrock"), [-1.5, 2.0], "adam", lr=0.05).run(1)
    np.testing.assert_allclose(tr.update[0], [0.05, 0.05], rtol=1e-9)


def _reference_path(surface, start, steps, noise, **kw):
    """The path of tuisim.core.reference's torch.optim rules, clipping included, with
    the gradient plus the same noise draws."""
    ref = reference.ReferenceOptimizer(SimpleNamespace(trainable=["p"]), **kw)
    p = np.array(start, dtype=np.float64)
    out = []
    for k in range(steps):
        out.append(p.copy())
        lr = ref.lr_at(ref.t)
        ref.t += 1
        g = surface.gradient(*p) + noise[k]
        if ref.clip_value is not None:
            g = np.clip(g, -ref.clip_value, ref.clip_value)
        if ref.clip_norm is not None:
            coef = ref.clip_norm / (math.sqrt(float(g @ g)) + reference.CLIP_NORM_EPS)
            if coef < 1:
                g = g * coef
        ref._rule(ref, p, g, ref.state["p"], lr)
    out.append(p.copy())
    return np.array(out)


LR = {"sgd": 1e-4, "momentum": 1e-4, "nesterov": 1e-4, "adagrad": 0.1, "adadelta": 1.0, "rmsprop": 1e-2,
      "adam": 0.05, "adamw": 0.05, "nadam": 0.05}
CASES = [(n, {}) for n in registry.OPTIMIZERS] + [(n, {"weight_decay": 0.1}) for n in registry.OPTIMIZERS] + [
    (n, {"clip_norm": 1.0}) for n in registry.OPTIMIZERS] + [(n, {"clip_value": 0.5}) for n in registry.OPTIMIZERS] + [
    ("sgd", {"momentum": 0.5, "dampening": 0.3}), ("adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.2}),
    ("rmsprop", {"momentum": 0.8, "centered": True}), ("adam", {"amsgrad": True}),
    ("momentum", {"schedule": "cosine", "t_max": 40}), ("adam", {"schedule": "warmup", "warmup_steps": 10}),
    ("nesterov", {"schedule": "step", "step_size": 7, "gamma": 0.5}),
]


@pytest.mark.parametrize("name,extra", CASES, ids=[f"{n}-{'-'.join(e) or 'defaults'}" for n, e in CASES])
@pytest.mark.parametrize("surface,start", [("rosenbrock", (-1.5, 2.0)), ("beale", (1.0, 1.5))])
def test_path_matches_reference_optimizer(surface, start, name, extra):
    s = Surface(surface)
    kw = {"optimizer": name, "lr": LR[name], **extra}
    d = Descent(s, start, **kw)
    got = np.vstack([d.run(25).position, d.run(35).position, d.position])
    want = _reference_path(s, start, 60, np.zeros((60, 2)), **kw)
    # the same arithmetic up to the order of a few roundings (NAdam's two terms, Adam's
    # decay), which Rosenbrock's curved valley amplifies over the steps
    np.testing.assert_allclose(got[:10], want[:10], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)
    assert d.optimizer.t == 60 and d.optimizer.steps == 60


def test_noise_is_the_seeds_and_split_invariant():
    s = Surface("quadratic")
    a = Descent(s, [2.0, -1.0], "sgd", lr=0.1, noise=0.5, seed=4)
    whole = a.run(30)
    b = Descent(s, [2.0, -1.0], "sgd", lr=0.1, noise=0.5, seed=4)
    parts = [b.run(7), b.run(23)]
    np.testing.assert_array_equal(whole.position, np.vstack([p.position for p in parts]))
    # the reference with the same draws
    draws = np.random.default_rng(4).normal(size=(30, 2)) * 0.5
    want = _reference_path(s, [2.0, -1.0], 30, draws, optimizer="sgd", lr=0.1)
    np.testing.assert_allclose(whole.position, want[:30], rtol=1e-13, atol=1e-15)
    quiet = Descent(s, [2.0, -1.0], "sgd", lr=0.1).run(30)
    assert not np.allclose(quiet.position, whole.position)
    # batch GD converges to the minimum, the noisy gradient keeps the point moving around it
    assert quiet.loss[-1] < 1e-2 < np.mean(whole.loss[10:])


def test_live_change_and_records():
    d = Descent(Surface("ravine"), [1.0, 1.0], "sgd", lr=0.1)
    d.run(3)
    d.optimizer.set(lr=0.01)
    tr = d.run(2)
    assert tr.first == 3 and list(tr.lr) == [0.01, 0.01]
    np.testing.assert_allclose(tr.position[1] - tr.position[0], tr.update[0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(d.position - tr.position[1], tr.update[1], rtol=0, atol=1e-15)


def test_divergence_stops_and_changes_nothing():
    d = Descent(Surface("rosenbrock"), [-1.5, 2.0], "sgd", lr=0.01)
    tr = d.run(200)
    assert d.diverged and tr.diverged and len(tr) < 200
    assert not math.isfinite(tr.loss[-1]) or not math.isfinite(tr.grad_norm[-1])
    assert not tr.update[-1].any()
    assert d.optimizer.t == len(tr) - 1


def test_clipping_coefficient_is_recorded():
    tr = Descent(Surface("rosenbrock"), [-1.5, 2.0], "sgd", lr=1e-3, clip_norm=1.0).run(1)
    assert tr.clip_coef[0] == pytest.approx(1.0 / (math.hypot(155, 50) + 1e-6))
    assert np.hypot(*tr.update[0]) == pytest.approx(1e-3, rel=1e-6)


def test_path_metrics():
    upd = np.array([[1.0, 0.5], [0.0, -0.5], [3.0, 0.0], [4.0, -1.0], [0.0, 2.0]])
    np.testing.assert_allclose(path_length(upd), np.cumsum([math.hypot(1, 0.5), 0.5, 3, math.hypot(4, 1), 2]))
    assert list(oscillation(upd, 1)) == [0, 1, 1, 1, 2]
    assert list(oscillation(upd, 0)) == [0, 0, 0, 0, 0]
    s = Surface("himmelblau")
    pos = np.array([[0.0, 0.0], [2.9, 2.0], [-3.7, -3.3], [3.0, 2.0]])
    np.testing.assert_allclose(s.distance_to_minimum(pos)[1:3],
                               [0.1, math.hypot(3.779310253377747 - 3.7, 3.283185991286170 - 3.3)])
    assert steps_to_minimum(s, pos, 0.2) == 1
    assert steps_to_minimum(s, pos, 1e-9) == 3
    assert steps_to_minimum(s, pos[:2], 1e-9) == math.inf


def test_momentum_damps_the_ravines_oscillation():
    """The lesson the metric is for: on an ill-conditioned ravine, SGD at a step size near
    the steep direction's limit zig-zags across it at every step; heavy-ball momentum with
    a tenth of the step crosses it far fewer times and gets closer to the minimum."""
    s = Surface("ravine", condition=50.0)
    sgd = Descent(s, [-5.0, 1.0], "sgd", lr=0.039).run(100)
    mom = Descent(s, [-5.0, 1.0], "momentum", lr=0.0039, momentum=0.9).run(100)
    assert oscillation(sgd.update, s.steep)[-1] == 99
    assert oscillation(mom.update, s.steep)[-1] < 30
    assert s.distance_to_minimum(mom.position[-1:])[0] < s.distance_to_minimum(sgd.position[-1:])[0]
