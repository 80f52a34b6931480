"""Weight/bias initialisation (tuisim.core.init) against the spec's formulas.

Every test iterates registry.INITS / registry.ACTIVATIONS, so a scheme or an
activation added to the registry without an entry in the tables below fails here.
Moment checks use tolerances of several standard errors of the sample statistic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tuisim.core import init, registry

SHAPES = [(512, 512), (256, 512), (512, 256)]  # (rows = fan_out, cols = fan_in)
Z = 5.0  # standard errors allowed for a sample mean / variance

# torch.nn.init.calculate_gain, as documented; the spec adds sqrt(2) for the rest
TORCH_GAIN = {
    "identity": lambda s: 1.0,
    "sigmoid": lambda s: 1.0,
    "tanh": lambda s: 5.0 / 3.0,
    "relu": lambda s: math.sqrt(2.0),
    "leaky_relu": lambda s: math.sqrt(2.0 / (1.0 + s ** 2)),
    "selu": lambda s: 3.0 / 4.0,
    "elu": lambda s: math.sqrt(2.0),
    "gelu": lambda s: math.sqrt(2.0),
    "silu": lambda s: math.sqrt(2.0),
    "softplus": lambda s: math.sqrt(2.0),
    "maxout": lambda s: math.sqrt(2.0),
}

OPTION_SETS = {
    "defaults": {},
    "custom": dict(activation="tanh", negative_slope=0.2, init_std=0.7, init_range=0.3, init_gain=1.7,
                   init_value=-0.25),
}


def _opt(o, key):
    defaults = dict(activation="relu", negative_slope=0.01, init_std=1.0, init_range=None, init_gain=None,
                    init_value=0.1)
    return o.get(key, defaults[key])


def _he_gain(o):
    g = _opt(o, "init_gain")
    return g if g is not None else TORCH_GAIN[_opt(o, "activation")](_opt(o, "negative_slope"))


def _gain1(o):
    g = _opt(o, "init_gain")
    return 1.0 if g is None else g


# name -> (rows, cols, options) -> (kind, parameter): the distribution the spec prescribes
EXPECTED = {
    "zeros": lambda r, c, o: ("constant", 0.0),
    "constant": lambda r, c, o: ("constant", _opt(o, "init_value")),
    "uniform": lambda r, c, o: ("uniform", _opt(o, "init_range") or 1.0 / math.sqrt(c)),
    "normal": lambda r, c, o: ("normal", _opt(o, "init_std")),
    "truncated_normal": lambda r, c, o: ("truncated_normal", _opt(o, "init_std")),
    "xavier_uniform": lambda r, c, o: ("uniform", _gain1(o) * math.sqrt(6.0 / (c + r))),
    "xavier_normal": lambda r, c, o: ("normal", _gain1(o) * math.sqrt(2.0 / (c + r))),
    "he_uniform": lambda r, c, o: ("uniform", _he_gain(o) * math.sqrt(3.0 / c)),
    "he_normal": lambda r, c, o: ("normal", _he_gain(o) / math.sqrt(c)),
    "lecun_uniform": lambda r, c, o: ("uniform", math.sqrt(3.0 / c)),
    "lecun_normal": lambda r, c, o: ("normal", 1.0 / math.sqrt(c)),
    "orthogonal": lambda r, c, o: ("orthogonal", _gain1(o)),
    "torch_default": lambda r, c, o: ("uniform", 1.0 / math.sqrt(c)),
}

# variance of N(0, 1) truncated to [-2, 2]: 1 - 2*2*phi(2) / (Phi(2) - Phi(-2))
_PHI2 = math.exp(-2.0) / math.sqrt(2.0 * math.pi)
TRUNC_VAR = 1.0 - 4.0 * _PHI2 / math.erf(2.0 / math.sqrt(2.0))


def _check_moments(w, mean, var, var_se):
    n = w.size
    assert abs(w.mean() - mean) < Z * math.sqrt(var / n) + 1e-15, (w.mean(), mean)
    assert abs(w.var() - var) < Z * var_se, (w.var(), var)


def test_every_init_has_an_expectation():
    assert set(EXPECTED) == set(registry.INITS), "add the new init's distribution to EXPECTED"


@pytest.mark.parametrize("options", list(OPTION_SETS), ids=list(OPTION_SETS))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(registry.INITS))
def test_distribution_matches_formula(name, shape, options):
    o = OPTION_SETS[options]
    rows, cols = shape
    w = init.init_weight(np.random.default_rng(1234), shape, name, **o)
    assert w.shape == shape and w.dtype == np.float64
    kind, p = EXPECTED[name](rows, cols, o)
    n = w.size
    if kind == "constant":
        np.testing.assert_array_equal(w, np.full(shape, p))
    elif kind == "uniform":
        assert np.abs(w).max() <= p
        _check_moments(w, 0.0, p * p / 3.0, math.sqrt(4.0 / 45.0 / n) * p ** 2)
    elif kind == "normal":
        _check_moments(w, 0.0, p * p, math.sqrt(2.0 / n) * p * p)
        # a normal, not a uniform of the same variance: about 4.55% lies beyond 2 std
        beyond = np.mean(np.abs(w) > 2 * p)
        assert abs(beyond - 0.0455) < Z * math.sqrt(0.0455 * 0.9545 / n)
    elif kind == "truncated_normal":
        assert np.abs(w).max() <= 2 * p
        _check_moments(w, 0.0, TRUNC_VAR * p * p, math.sqrt(2.0 / n) * p * p)
    elif kind == "orthogonal":
        if rows <= cols:
            np.testing.assert_allclose(w @ w.T, p * p * np.eye(rows), atol=1e-12)
        else:
            np.testing.assert_allclose(w.T @ w, p * p * np.eye(cols), atol=1e-12)
    else:
        raise AssertionError(f"unknown kind {kind}")


def test_orthogonal_follows_torch_recipe():
    # QR of a standard normal matrix drawn with the same generator, signs fixed by diag(R)
    rows, cols = 6, 9
    w = init.init_weight(np.random.default_rng(5), (rows, cols), "orthogonal", init_gain=2.0)
    a = np.random.default_rng(5).standard_normal((rows, cols)).T
    q, r = np.linalg.qr(a)
    q = (q * np.sign(np.diag(r))).T
    np.testing.assert_allclose(w, 2.0 * q, rtol=0, atol=1e-14)
    w2 = init.init_weight(np.random.default_rng(5), (cols, rows), "orthogonal")
    q, r = np.linalg.qr(np.random.default_rng(5).standard_normal((cols, rows)))
    np.testing.assert_allclose(w2, q * np.sign(np.diag(r)), rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", list(registry.INITS))
def test_init_scale_multiplies(name):
    kw = dict(init_value=0.3, activation="selu")
    w1 = init.init_weight(np.random.default_rng(7), (40, 30), name, **kw)
    w2 = init.init_weight(np.random.default_rng(7), (40, 30), name, init_scale=0.01, **kw)
    np.testing.assert_array_equal(w2, w1 * 0.01)


def test_truncated_normal_bound_scales_with_init_scale():
    w = init.init_weight(np.random.default_rng(0), (512, 512), "truncated_normal", init_std=0.5, init_scale=3.0)
    assert np.abs(w).max() <= 2 * 0.5 * 3.0
    assert np.abs(w).max() > 0.95 * 2 * 0.5 * 3.0  # the tails are there, up to the bound


@pytest.mark.parametrize("name", list(registry.INITS))
def test_float32_is_the_rounded_float64_draw(name):
    w64 = init.init_weight(np.random.default_rng(3), (20, 10), name)
    w32 = init.init_weight(np.random.default_rng(3), (20, 10), name, dtype=np.float32)
    assert w32.dtype == np.float32
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


@pytest.mark.parametrize("name", list(registry.INITS))
def test_same_seed_same_numbers(name):
    a = init.init_weight(np.random.default_rng(11), (16, 8), name)
    b = init.init_weight(np.random.default_rng(11), (16, 8), name)
    np.testing.assert_array_equal(a, b)
    if EXPECTED[name](16, 8, {})[0] != "constant":
        c = init.init_weight(np.random.default_rng(12), (16, 8), name)
        assert not np.array_equal(a, c)


def test_constant_and_zeros_draw_nothing():
    rng = np.random.default_rng(0)
    init.init_weight(rng, (4, 4), "zeros")
    init.init_weight(rng, (4, 4), "constant", init_value=2.0)
    assert rng.random() == np.random.default_rng(0).random()


def test_he_gain_follows_activation_and_init_gain():
    rng = np.random.default_rng
    base = init.init_weight(rng(0), (8, 50), "he_normal", activation="identity")
    np.testing.assert_allclose(init.init_weight(rng(0), (8, 50), "he_normal", activation="tanh"), base * 5 / 3)
    np.testing.assert_allclose(init.init_weight(rng(0), (8, 50), "he_normal", activation="leaky_relu",
                                                negative_slope=0.5), base * math.sqrt(2 / 1.25))
    np.testing.assert_allclose(init.init_weight(rng(0), (8, 50), "he_normal", init_gain=3.0), base * 3.0)
    # xavier and orthogonal ignore the activation (gain 1 unless init_gain)
    x1 = init.init_weight(rng(0), (8, 50), "xavier_normal", activation="tanh")
    np.testing.assert_allclose(x1, init.init_weight(rng(0), (8, 50), "xavier_normal"))


def test_unknown_init_names_the_nearest():
    with pytest.raises(ValueError, match="he_normal"):
        init.init_weight(np.random.default_rng(0), (3, 3), "he_normall")
    with pytest.raises(ValueError, match="xavier_uniform"):
        init.init_bias(np.random.default_rng(0), 3, 3, "xavier_unifrom", None, np.float64)


@pytest.mark.parametrize("activation", list(registry.ACTIVATIONS))
def test_gain_matches_torch(activation):
    assert activation in TORCH_GAIN, "add the new activation's gain to TORCH_GAIN"
    for s in (0.01, 0.2, 1.0):
        assert init.gain(activation, s) == pytest.approx(TORCH_GAIN[activation](s), rel=1e-15)
    assert init.gain(activation) == pytest.approx(TORCH_GAIN[activation](0.01), rel=1e-15)


def test_gain_unknown_activation():
    with pytest.raises(ValueError, match="'relu'"):
        init.gain("rellu")


@pytest.mark.parametrize("name", list(registry.INITS))
def test_bias(name):
    rng = np.random.default_rng(0)
    b = init.init_bias(rng, 25, 7, name, 0.5, np.float32)
    assert b.dtype == np.float32 and b.shape == (7,)
    np.testing.assert_array_equal(b, np.full(7, 0.5, np.float32))
    b = init.init_bias(np.random.default_rng(0), 25, 4000, name, None, np.float64)
    if name == "torch_default":
        assert np.abs(b).max() <= 1 / 5 and np.abs(b).max() > 0.19
        _check_moments(b, 0.0, (1 / 5) ** 2 / 3, math.sqrt(4.0 / 45.0 / b.size) * (1 / 5) ** 2)
        np.testing.assert_array_equal(b, np.random.default_rng(0).uniform(-0.2, 0.2, 4000))
    else:
        np.testing.assert_array_equal(b, np.zeros(4000))
