"""Every optimizer's 20-step trajectory against the published update rule, written
here in plain NumPy from torch.optim's documented algorithms (with weight decay and
both kinds of clipping too). The gradients come from the engine's loss_and_grads,
which test_gradients.py checks against finite differences."""

import math

import numpy as np
import pytest

import tuisim
from tuisim.core import registry


def _clip(grads, clip_value, clip_norm):
    if clip_value:
        grads = {k: np.clip(g, -clip_value, clip_value) for k, g in grads.items()}
    if clip_norm:
        total = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
        coef = clip_norm / (total + 1e-6)
        if coef < 1:
            grads = {k: g * coef for k, g in grads.items()}
    return grads


class Rule:
    """torch.optim's algorithms, one parameter tensor at a time."""

    def __init__(self, name, **hp):
        self.name, self.hp, self.state, self.t = name, hp, {}, 0

    def step(self, params, grads):
        self.t += 1
        for k in grads:
            params[k] = self.update(k, params[k], grads[k])

    def update(self, k, p, g):
        h, t, st = self.hp, self.t, self.state.setdefault(k, {})
        name, lr, wd = self.name, h["lr"], h.get("weight_decay", 0.0)
        if name == "adamw":
            p = p * (1 - lr * wd)
        elif wd:
            g = g + wd * p
        if name in ("sgd", "momentum", "nesterov"):
            mu = h.get("momentum", 0.0)
            if mu:
                st["b"] = g.copy() if t == 1 else mu * st["b"] + (1 - h.get("dampening", 0.0)) * g
                g = g + mu * st["b"] if name == "nesterov" else st["b"]
            return p - lr * g
        if name == "adagrad":
            clr = lr / (1 + (t - 1) * h.get("lr_decay", 0.0))
            st["sum"] = st.get("sum", np.full_like(p, h.get("initial_accumulator_value", 0.0))) + g * g
            return p - clr * g / (np.sqrt(st["sum"]) + h["eps"])
        if name == "adadelta":
            rho, eps = h["rho"], h["eps"]
            st["sq"] = rho * st.get("sq", 0 * p) + (1 - rho) * g * g
            delta = np.sqrt(st.get("acc", 0 * p) + eps) / np.sqrt(st["sq"] + eps) * g
            st["acc"] = rho * st.get("acc", 0 * p) + (1 - rho) * delta * delta
            return p - lr * delta
        if name == "rmsprop":
            a, eps = h["alpha"], h["eps"]
            st["sq"] = a * st.get("sq", 0 * p) + (1 - a) * g * g
            if h.get("centered"):
                st["ga"] = a * st.get("ga", 0 * p) + (1 - a) * g
                avg = np.sqrt(st["sq"] - st["ga"] ** 2) + eps
            else:
                avg = np.sqrt(st["sq"]) + eps
            if h.get("momentum", 0.0) > 0:
                st["b"] = h["momentum"] * st.get("b", 0 * p) + g / avg
                return p - lr * st["b"]
            return p - lr * g / avg
        b1, b2 = h["betas"]
        eps = h["eps"]
        st["m"] = b1 * st.get("m", 0 * p) + (1 - b1) * g
        st["v"] = b2 * st.get("v", 0 * p) + (1 - b2) * g * g
        if name in ("adam", "adamw"):
            v = st["v"]
            if h.get("amsgrad"):
                st["vmax"] = np.maximum(st.get("vmax", 0 * p), v)
                v = st["vmax"]
            denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps
            return p - lr / (1 - b1 ** t) * st["m"] / denom
        assert name == "nadam"
        md = h["momentum_decay"]
        mu = b1 * (1 - 0.5 * 0.96 ** (t * md))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * md))
        prod = self.state.setdefault("_mu_prod", {}).get(k, 1.0) * mu
        self.state["_mu_prod"][k] = prod
        denom = np.sqrt(st["v"] / (1 - b2 ** t)) + eps
        p = p - lr * (1 - mu) / (1 - prod) * g / denom
        return p - lr * mu_next / (1 - prod * mu_next) * st["m"] / denom


# torch.optim's defaults, written out independently of tuisim.core.params
DEFAULTS = {
    "sgd": dict(lr=1e-3), "momentum": dict(lr=1e-3, momentum=0.9), "nesterov": dict(lr=1e-3, momentum=0.9),
    "adagrad": dict(lr=1e-2, eps=1e-10), "adadelta": dict(lr=1.0, rho=0.9, eps=1e-6),
    "rmsprop": dict(lr=1e-2, alpha=0.99, eps=1e-8), "adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8),
    "adamw": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2),
    "nadam": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, momentum_decay=4e-3),
}

CASES = [(name, {}) for name in registry.OPTIMIZERS] + [
    (name, {"weight_decay": 0.05}) for name in registry.OPTIMIZERS] + [
    (name, {"clip_norm": 0.05}) for name in registry.OPTIMIZERS] + [
    (name, {"clip_value": 0.01}) for name in registry.OPTIMIZERS] + [
    ("sgd", {"momentum": 0.5, "dampening": 0.3}),
    ("adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.2}),
    ("rmsprop", {"centered": True}), ("rmsprop", {"momentum": 0.8, "centered": True}),
    ("adam", {"amsgrad": True}), ("adamw", {"amsgrad": True, "weight_decay": 0.1}),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.9)}),
]


def _net(**kw):
    return tuisim.Network(n_in=3, n_out=3, depth=3, width=6, activation="tanh", norm="layer", init="xavier_normal",
                          seed=4, **kw)


@pytest.mark.parametrize("name,extra", CASES, ids=[f"{n}-{'-'.join(e) or 'defaults'}" for n, e in CASES])
def test_trajectory_matches_published_rule(name, extra):
    rng = np.random.default_rng(0)
    batches = [(rng.normal(size=(8, 3)), rng.integers(0, 3, size=8)) for _ in range(20)]
    net = _net()
    opt = tuisim.Optimizer(net, name, **extra)
    ref_net = _net()
    hp = dict(DEFAULTS[name])
    hp.update({k: v for k, v in extra.items() if k not in ("clip_norm", "clip_value")})
    rule = Rule(name, **hp)
    for X, y in batches:
        loss = opt.step(X, y)
        ref_loss, grads = ref_net.loss_and_grads(X, y)
        assert loss == pytest.approx(ref_loss, rel=1e-9, abs=1e-12)
        grads = _clip(grads, extra.get("clip_value"), extra.get("clip_norm"))
        params = ref_net.state_dict()
        rule.step(params, grads)
        ref_net.load_state_dict(params)
    got, want = net.state_dict(), ref_net.state_dict()
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-12, err_msg=k)
    assert opt.t == 20


def test_every_optimizer_has_a_case():
    assert {n for n, _ in CASES} == set(registry.OPTIMIZERS)
    assert set(DEFAULTS) == set(registry.OPTIMIZERS)


def test_adam_first_step_is_lr():
    """Bias correction: Adam's first step moves every weight by lr (L8.10)."""
    net = _net()
    before = net.state_dict()["layers.1.weight"]
    opt = tuisim.Optimizer(net, "adam", lr=1e-3)
    X, y = np.random.default_rng(1).normal(size=(8, 3)), np.arange(8) % 3
    opt.step(X, y)
    moved = np.abs(net.state_dict()["layers.1.weight"] - before)
    np.testing.assert_allclose(moved[moved > 0], 1e-3, rtol=1e-4)


@pytest.mark.parametrize("schedule", list(registry.SCHEDULES))
def test_schedules(schedule):
    net = _net()
    kw = dict(lr=0.1, schedule=schedule, step_size=3, t_max=10, warmup_steps=4 if schedule == "warmup" else 0)
    opt = tuisim.Optimizer(net, "sgd", **kw)
    X, y = np.random.default_rng(1).normal(size=(8, 3)), np.arange(8) % 3
    lrs = []
    for _ in range(12):
        opt.step(X, y)
        lrs.append(opt.stats.lr)
    t = np.arange(12)
    want = {
        "constant": np.full(12, 0.1),
        "step": 0.1 * 0.1 ** (t // 3),
        "exponential": 0.1 * 0.99 ** t,
        "cosine": 0.05 * (1 + np.cos(np.pi * t / 10)),  # past t_max it climbs back, as torch's
        "warmup": 0.1 * np.minimum(1, (t + 1) / 4),
    }[schedule]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)


def test_live_change_reaches_the_engine():
    net = _net()
    opt = tuisim.Optimizer(net, "sgd", lr=0.1)
    X, y = np.random.default_rng(1).normal(size=(8, 3)), np.arange(8) % 3
    opt.step(X, y)
    opt.set(lr=0.0001)
    before = net.state_dict()["layers.0.weight"]
    opt.step(X, y)
    assert opt.stats.lr == 0.0001
    assert np.abs(net.state_dict()["layers.0.weight"] - before).max() < 1e-3
    with pytest.raises(ValueError, match="lr"):
        opt.set(lr=-1)


def test_bad_hyperparameters_raise_naming_the_value():
    net = _net()
    with pytest.raises(ValueError, match="lr must be a number > 0"):
        tuisim.Optimizer(net, "adam", lr=-0.1)
    with pytest.raises(ValueError, match="did you mean 'adam'"):
        tuisim.Optimizer(net, "adma")
    with pytest.raises(ValueError, match="did you mean 'momentum'"):
        tuisim.Optimizer(net, "sgd", momentun=0.9)
    with pytest.raises(ValueError, match="dampening 0"):
        tuisim.Optimizer(net, "nesterov", dampening=0.5)
