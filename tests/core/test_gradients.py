"""The engine's gradients against central finite differences, for every combination
of activation x normalization x position x architecture x dropout the scenario format
allows, and for every loss. The registries are iterated, so a new entry is covered
(or fails) automatically."""

import numpy as np
import pytest
from gradcheck import check_gradients

import tuisim
from tuisim.core import registry

ARCHS = [(a, sc) for a in registry.ARCHITECTURES for sc in (registry.SHORTCUTS if a != "plain" else ["projection"])]
NORMS = [(n, p) for n in registry.NORMS for p in (registry.NORM_POSITIONS if n != "none" else ["before"])]
TOL = 1e-6


def _data(seed, loss, n_out=3, B=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(B, 3))
    if loss == "cross_entropy":
        y = rng.integers(0, n_out, size=B)
    elif loss == "bce":
        y = (rng.random((B, n_out)) > 0.5).astype(float)
    else:
        y = rng.normal(size=(B, n_out))
    return X, y


@pytest.mark.parametrize("activation", list(registry.ACTIVATIONS))
@pytest.mark.parametrize("norm,position", NORMS)
def test_gradients_every_combination(activation, norm, position):
    worst_all = []
    for arch, shortcut in ARCHS:
        for dropout in (0.0, 0.3):
            net = tuisim.Network(n_in=3, n_out=3, depth=3, width=[4, 5, 5], activation=activation, norm=norm,
                                 norm_position=position, architecture=arch, shortcut=shortcut, dropout=dropout,
                                 init="xavier_normal", seed=2)
            X, y = _data(7, "cross_entropy")
            err, name, skipped = check_gradients(net, X, y, h=1e-5)
            worst_all.append((err, name, arch, shortcut, dropout))
            assert skipped < 0.35, f"too many elements at kinks ({skipped:.0%}): {arch} {shortcut} {dropout}"
            assert err < TOL, f"{arch}/{shortcut}/dropout {dropout}: {name} relative error {err:.2e}"


@pytest.mark.parametrize("loss", list(registry.LOSSES))
@pytest.mark.parametrize("architecture", list(registry.ARCHITECTURES))
def test_gradients_every_loss(loss, architecture):
    net = tuisim.Network(n_in=3, n_out=2, depth=2, width=4, activation="tanh", architecture=architecture,
                         init="xavier_normal", seed=3)
    X, y = _data(11, loss, n_out=2)
    err, name, _ = check_gradients(net, X, y, loss=loss, h=1e-5)
    assert err < TOL, f"{loss}: {name} relative error {err:.2e}"


def test_losses_match_their_formulas():
    net = tuisim.Network(n_in=3, n_out=3, depth=2, width=4, activation="tanh", seed=0)
    X, _ = _data(0, "mse")
    z = net.forward(X)
    y = np.array([0, 1, 2, 0, 1, 2])
    lse = np.log(np.exp(z).sum(1))
    loss, _ = net.loss_and_grads(X, y, train=False)
    assert loss == pytest.approx(np.mean(lse - z[np.arange(6), y]), rel=1e-12)
    assert net.stats.accuracy == pytest.approx(np.mean(z.argmax(1) == y))
    t = (np.arange(18).reshape(6, 3) % 2).astype(float)
    loss, _ = net.loss_and_grads(X, t, loss="bce", train=False)
    ref = np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))
    assert loss == pytest.approx(ref, rel=1e-12)
    assert net.stats.accuracy == pytest.approx(np.mean((z > 0) == (t > 0.5)))
    loss, _ = net.loss_and_grads(X, t, loss="mse", train=False)
    assert loss == pytest.approx(np.mean((z - t) ** 2), rel=1e-12)
    assert np.isnan(net.stats.accuracy)
