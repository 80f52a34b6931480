"""The NumPy reference step (tuisim.core.reference).

* gradients: central finite differences in float64 for every activation x norm x
  norm position x architecture/shortcut x dropout (and every loss), on tiny networks;
* the forward pass against an independent, deliberately naive re-implementation of
  the spec (scalar `math` activations, explicit blocks);
* batch-norm modes and running statistics, losses, targets, dropout masks, dtype;
* every statistic on hand-made cases;
* the first update of every optimizer against its closed form, clipping, schedules,
  weight decay and diverged steps.

Parametrisations iterate the registries, so a variant added to the registry without
support in the reference (or an entry in the tables here) fails.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.special import expit, logsumexp

from tuisim.core import init, params, registry, schedule
from tuisim.core import reference as ref

N_IN, N_OUT, BATCH = 3, 3, 6
WIDTHS = [5, 4, 4]  # 3 -> 5 -> 4 -> 4: projections / zero padding / truncation / identity shortcuts

NORM_VARIANTS = [("none", "before")] + [(n, p) for n in registry.NORMS if n != "none" for p in registry.NORM_POSITIONS]
ARCH_VARIANTS = [("plain", "projection")] + [
    (a, s) for a in registry.ARCHITECTURES if a != "plain" for s in registry.SHORTCUTS]
LOSS_NAMES = list(registry.LOSSES)

# Where each activation's derivative jumps (evaluated on a layer's tape: y = activation input,
# aux = maxout's chosen piece); None = smooth. A finite difference whose stencil crosses one
# of these is unstable and skipped. Every activation must be classified here.
KINKS = {
    "identity": None,
    "sigmoid": None,
    "tanh": None,
    "relu": lambda c: c["y"] > 0,
    "leaky_relu": lambda c: c["y"] > 0,
    "elu": lambda c: c["y"] > 0,
    "selu": lambda c: c["y"] > 0,
    "gelu": None,
    "silu": None,
    "softplus": lambda c: c["y"] > ref.SOFTPLUS_THRESHOLD,
    "maxout": lambda c: c["aux"],
}

# 6-point central stencil, O(h^6); h = 1e-4 balances truncation against rounding.
FD_STEP = 1e-4
FD_OFFSETS = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])
FD_WEIGHTS = np.array([-1.0, 9.0, -45.0, 45.0, -9.0, 1.0]) / 60.0
REL_TOL = 1e-6
# Rounding noise of a float64 finite difference at this step is ~1e-11 * |loss|, so the
# relative error |a - n| / max(|a| + |n|, floor) uses floor = FD_FLOOR * max(1, |loss|):
# gradients below it (e.g. exactly 0, like a linear bias right before batch norm) must
# agree to ~2e-11 absolute instead.
FD_FLOOR = 2e-5


# ----------------------------------------------------------------------------------------
# helpers


def make_config(**overrides) -> dict:
    cfg = {k: p.default for k, p in params.MODEL_PARAMS.items()}
    cfg.update(n_in=N_IN, n_out=N_OUT, depth=len(WIDTHS), width=list(WIDTHS), seed=0)
    cfg.update(overrides)
    return cfg


def make_state(cfg: dict, seed: int = 0) -> dict:
    """A state dict with the spec's names and shapes: lecun-normal weights (x1.3, from
    init.py), random biases, norm weights near 1, random running statistics."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(cfg.get("dtype", "float64"))
    state = {}
    for name, shape in ref.parameter_shapes(cfg).items():
        kind = name.rsplit(".", 1)[1]
        if kind == "num_batches_tracked":
            state[name] = np.array(0, dtype=np.int64)
        elif kind == "running_mean":
            state[name] = rng.normal(0.0, 0.3, shape).astype(dtype)
        elif kind == "running_var":
            state[name] = rng.uniform(0.5, 2.0, shape).astype(dtype)
        elif name.startswith("norms.") and kind == "weight":
            state[name] = (1.0 + rng.normal(0.0, 0.2, shape)).astype(dtype)
        elif kind == "weight":
            state[name] = init.init_weight(rng, shape, "lecun_normal", init_scale=1.3, dtype=dtype)
        else:
            state[name] = rng.normal(0.0, 0.3, shape).astype(dtype)
    return state


def make_targets(loss: str, batch: int, n_out: int, rng) -> np.ndarray:
    if loss == "cross_entropy":
        return rng.integers(0, n_out, batch)
    if loss == "bce":
        return rng.random((batch, n_out))
    return rng.normal(size=(batch, n_out))


def make_masks(widths, batch: int, p: float, rng):
    return [(rng.random((batch, w)) >= p) / (1.0 - p) for w in widths]


def numeric_grads(net: ref.ReferenceNet, X, target, loss: str, train: bool, masks):
    """Finite differences of every trainable element, all perturbed copies evaluated in
    one stacked forward pass. Returns (numeric gradient, unstable mask), flat in the
    order of net.trainable."""
    K = len(FD_OFFSETS)
    sizes = [net.params[n].size for n in net.trainable]
    N = sum(sizes)
    P = K * N  # copy K*j + k perturbs element j by FD_OFFSETS[k] * FD_STEP
    stacked = dict(net.params)
    start = 0
    for name, size in zip(net.trainable, sizes):
        base = net.params[name]
        arr = np.broadcast_to(base, (P,) + base.shape).copy()
        flat = arr.reshape(P, size)
        j = np.arange(size)
        for k, off in enumerate(FD_OFFSETS):
            flat[K * (start + j) + k, j] += off * FD_STEP
        stacked[name] = arr
        start += size
    with np.errstate(all="raise", under="ignore"):
        logits, tape = net.run(stacked, X, train, masks)
    values = ref.loss_value(loss, logits, target)
    assert values.shape == (P,)
    numeric = values.reshape(N, K) @ FD_WEIGHTS / FD_STEP
    unstable = np.zeros(N, dtype=bool)
    kink = KINKS[net.activation]
    if kink is not None:
        _, base_tape = net.run(net.params, X, train, masks)
        for lt, bt in zip(tape["layers"], base_tape["layers"]):
            changed = (kink(lt) != kink(bt)).reshape(P, -1).any(axis=1)
            unstable |= changed.reshape(N, K).any(axis=1)
    return numeric, unstable


def assert_grads_match(make, loss: str, train: bool = True, tries: int = 6):
    """Check the gradients of the network and batch made by `make(seed) -> (net, X, y, masks)`.
    A finite difference that crosses a kink is unstable: then the next seed is tried, and
    at the last try the unstable elements are skipped (at most a quarter of them)."""
    for seed in range(tries):
        if _check_grads(*make(seed), loss, train, last_try=seed == tries - 1):
            return


def _check_grads(net: ref.ReferenceNet, X, y, masks, loss: str, train: bool, last_try: bool) -> bool:
    L, grads, stats = net.loss_and_grads(X, y, loss, train=train, masks=masks)
    assert list(grads) == net.trainable
    for name, g in grads.items():
        assert g.shape == net.params[name].shape and g.dtype == np.float64, name
    assert not stats["diverged"]
    analytic = np.concatenate([grads[n].ravel() for n in net.trainable])
    target = net.prepare_target(loss, y, X.shape[0])
    numeric, unstable = numeric_grads(net, np.asarray(X, dtype=np.float64), target, loss, train, masks)
    if unstable.any() and not last_try:
        return False
    assert unstable.mean() < 0.25, f"{unstable.sum()} of {unstable.size} elements near a kink"
    floor = FD_FLOOR * max(1.0, abs(L))
    rel = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), floor)
    rel[unstable] = 0.0
    worst = int(rel.argmax())
    if rel[worst] >= REL_TOL:
        bounds = np.cumsum([0] + [net.params[n].size for n in net.trainable])
        which = int(np.searchsorted(bounds, worst, side="right")) - 1
        name = net.trainable[which]
        idx = np.unravel_index(worst - bounds[which], net.params[name].shape)
        raise AssertionError(f"{name}{list(idx)}: analytic {analytic[worst]!r} numeric {numeric[worst]!r} "
                             f"relative error {rel[worst]:.3g}")
    return True


def naive_act(name: str, cfg: dict):
    """The spec's activations one scalar at a time with `math` (maxout handled apart)."""
    s, al = cfg["negative_slope"], cfg["alpha"]
    sa, ss = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    f = {
        "identity": lambda v: v,
        "sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v)),
        "tanh": math.tanh,
        "relu": lambda v: max(v, 0.0),
        "leaky_relu": lambda v: v if v > 0 else s * v,
        "elu": lambda v: v if v > 0 else al * (math.exp(v) - 1.0),
        "selu": lambda v: ss * (v if v > 0 else sa * (math.exp(v) - 1.0)),
        "gelu": lambda v: 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))),
        "silu": lambda v: v / (1.0 + math.exp(-v)),
        "softplus": lambda v: v if v > 20 else math.log1p(math.exp(v)),
    }[name]
    return np.vectorize(f, otypes=[float])


def naive_forward(cfg: dict, state: dict, X, train: bool, masks=None):
    """Logits by a direct transcription of the spec (float64)."""
    D, widths, act = cfg["depth"], cfg["width"], cfg["activation"]
    arch, B = cfg["architecture"], X.shape[0]
    st = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}

    def norm(i, x):
        kind = cfg["norm"]
        g = st[f"norms.{i}.weight"]
        if kind == "batch":
            if train:
                mu, var = x.mean(axis=0), x.var(axis=0)
            else:
                mu, var = st[f"norms.{i}.running_mean"], st[f"norms.{i}.running_var"]
            return (x - mu) / np.sqrt(var + 1e-5) * g + st[f"norms.{i}.bias"]
        if kind == "layer":
            mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
            return (x - mu) / np.sqrt(var + 1e-5) * g + st[f"norms.{i}.bias"]
        assert kind == "rms"
        return x / np.sqrt((x ** 2).mean(axis=1, keepdims=True) + np.finfo(np.float64).eps) * g

    def layer(i, h):
        z = h @ st[f"layers.{i}.weight"].T + st[f"layers.{i}.bias"]
        y = norm(i, z) if cfg["norm"] != "none" and cfg["norm_position"] == "before" else z
        if act == "maxout":
            a = y.reshape(B, widths[i], cfg["pieces"]).max(axis=2)
        else:
            a = naive_act(act, cfg)(y)
        o = norm(i, a) if cfg["norm"] != "none" and cfg["norm_position"] == "after" else a
        if train and cfg["dropout"] > 0:
            o = o * masks[i]
        return o

    h = np.asarray(X, dtype=np.float64)
    if arch == "plain":
        for i in range(D):
            h = layer(i, h)
    else:
        s = cfg["skip_every"] or {"residual": 2, "highway": 1}[arch]
        for b, start in enumerate(range(0, D, s)):
            x = h
            for i in range(start, min(start + s, D)):
                h = layer(i, h)
            if x.shape[1] == h.shape[1]:
                S = x
            elif cfg["shortcut"] == "projection":
                S = x @ st[f"shortcuts.{b}.weight"].T
            else:
                S = np.zeros_like(h)
                m = min(x.shape[1], h.shape[1])
                S[:, :m] = x[:, :m]
            if arch == "residual":
                h = h + S
            else:
                T = 1.0 / (1.0 + np.exp(-(x @ st[f"gates.{b}.weight"].T + st[f"gates.{b}.bias"])))
                h = h * T + S * (1.0 - T)
    return h @ st[f"layers.{D}.weight"].T + st[f"layers.{D}.bias"]


def grad_cases():
    cases = []
    for n, (act, (norm, pos), (arch, sc), p) in enumerate(
            itertools.product(registry.ACTIVATIONS, NORM_VARIANTS, ARCH_VARIANTS, (0.0, 0.3))):
        loss = LOSS_NAMES[n % len(LOSS_NAMES)]  # round robin: every activation meets every loss
        cases.append(pytest.param(act, norm, pos, arch, sc, p, loss,
                                  id=f"{act}-{norm}-{pos}-{arch}-{sc}-p{p}-{loss}"))
    return cases


def test_kink_table_covers_every_activation():
    assert set(KINKS) == set(registry.ACTIVATIONS)


def test_reference_implements_every_registered_variant():
    assert set(ref.ACTIVATION_FUNCS) == set(registry.ACTIVATIONS)
    assert set(ref.NORM_FUNCS) | {"none"} == set(registry.NORMS)
    assert set(ref.NORM_PARAMS) == set(registry.NORMS)
    assert set(ref.LOSS_FUNCS) == set(registry.LOSSES)
    assert set(ref.UPDATE_RULES) == set(registry.OPTIMIZERS)


# ----------------------------------------------------------------------------------------
# gradients


@pytest.mark.parametrize("act,norm,pos,arch,shortcut,dropout,loss", grad_cases())
def test_gradients_match_finite_differences(act, norm, pos, arch, shortcut, dropout, loss):
    cfg = make_config(activation=act, norm=norm, norm_position=pos, architecture=arch, shortcut=shortcut,
                      dropout=dropout, pieces=3, negative_slope=0.2, alpha=0.7)

    def make(seed):
        net = ref.ReferenceNet(cfg, make_state(cfg, seed=seed))
        rng = np.random.default_rng(100 + seed)
        X = rng.normal(size=(BATCH, N_IN))
        y = make_targets(loss, BATCH, N_OUT, rng)
        return net, X, y, make_masks(net.widths, BATCH, dropout, rng) if dropout else None

    assert_grads_match(make, loss)


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("n_out", [1, 4])
def test_gradients_every_loss(loss, n_out):
    cfg = make_config(n_out=n_out, activation="tanh", norm="layer", architecture="residual", dropout=0.3)

    def make(seed):
        net = ref.ReferenceNet(cfg, make_state(cfg, seed=2 + seed))
        rng = np.random.default_rng(200 + seed)
        X = rng.normal(size=(BATCH, N_IN))
        y = make_targets(loss, BATCH, n_out, rng)
        if n_out == 1 and loss != "cross_entropy":
            y = y[:, 0]  # (B,) targets are accepted when n_out == 1
        return net, X, y, make_masks(net.widths, BATCH, 0.3, rng)

    assert_grads_match(make, loss)


@pytest.mark.parametrize("norm,pos", NORM_VARIANTS)
@pytest.mark.parametrize("arch,shortcut", [("residual", "projection"), ("highway", "zeros")])
def test_gradients_in_eval_mode(norm, pos, arch, shortcut):
    # eval: batch norm uses the running statistics, dropout is off
    cfg = make_config(activation="softplus", norm=norm, norm_position=pos, architecture=arch, shortcut=shortcut,
                      dropout=0.5)

    def make(seed):
        rng = np.random.default_rng(300 + seed)
        return (ref.ReferenceNet(cfg, make_state(cfg, seed=4 + seed)), rng.normal(size=(BATCH, N_IN)),
                rng.integers(0, N_OUT, BATCH), None)

    assert_grads_match(make, "cross_entropy", train=False)


@pytest.mark.parametrize("skip_every", [1, 2, 3])
@pytest.mark.parametrize("arch", ["residual", "highway"])
def test_gradients_other_block_sizes(arch, skip_every):
    cfg = make_config(depth=4, width=[4, 6, 3, 3], activation="silu", architecture=arch, skip_every=skip_every,
                      shortcut="zeros", norm="batch")

    def make(seed):
        rng = np.random.default_rng(400 + seed)
        return (ref.ReferenceNet(cfg, make_state(cfg, seed=6 + seed)), rng.normal(size=(BATCH, N_IN)),
                rng.random((BATCH, N_OUT)), None)

    assert_grads_match(make, "bce")


# ----------------------------------------------------------------------------------------
# forward pass against the naive transcription of the spec


@pytest.mark.parametrize("act", list(registry.ACTIVATIONS))
def test_forward_matches_naive_spec(act):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(BATCH, N_IN)) * 2.0
    for (norm, pos), (arch, sc), p in itertools.product(NORM_VARIANTS, ARCH_VARIANTS, (0.0, 0.4)):
        cfg = make_config(activation=act, norm=norm, norm_position=pos, architecture=arch, shortcut=sc, dropout=p,
                          negative_slope=0.2, alpha=0.7, pieces=3)
        state = make_state(cfg, seed=9)
        masks = make_masks(WIDTHS, BATCH, p, rng) if p else None
        for train in (False, True):
            net = ref.ReferenceNet(cfg, state)
            got = net.forward(X, train=train, masks=masks)
            want = naive_forward(cfg, state, X, train, masks)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{act} {norm} {pos} {arch} {sc} p={p} train={train}")


def test_softplus_threshold_and_selu_constants():
    net = ref.ReferenceNet(make_config(), make_state(make_config()))
    a, _ = ref.ACTIVATION_FUNCS["softplus"][0](np.array([-30.0, 20.0, 25.0]), net)
    np.testing.assert_array_equal(a, [math.log1p(math.exp(-30.0)), math.log1p(math.exp(20.0)), 25.0])
    a, _ = ref.ACTIVATION_FUNCS["selu"][0](np.array([1.0, -1.0]), net)
    scale, alpha = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
    np.testing.assert_allclose(a, [scale, scale * alpha * (math.exp(-1.0) - 1.0)], rtol=1e-15)


def test_maxout_ties_pick_the_first_piece():
    cfg = make_config(activation="maxout", pieces=2, depth=1, width=[2], n_in=1, n_out=1)
    state = make_state(cfg)
    state["layers.0.weight"][:] = 0.0
    state["layers.0.bias"][:] = [1.0, 1.0, 2.0, 0.5]  # unit 0: tie, unit 1: piece 0 wins
    net = ref.ReferenceNet(cfg, state)
    _, tape = net.run(net.params, np.zeros((2, 1)))
    np.testing.assert_array_equal(tape["layers"][0]["a"], [[1.0, 2.0], [1.0, 2.0]])
    np.testing.assert_array_equal(tape["layers"][0]["aux"][..., 0], [[0, 0], [0, 0]])
    _, grads, _ = net.loss_and_grads(np.zeros((2, 1)), np.array([0.3, -0.2]), "mse")
    g = grads["layers.0.bias"]
    assert g[1] == 0.0 and g[3] == 0.0 and g[0] != 0.0 and g[2] != 0.0


# ----------------------------------------------------------------------------------------
# structure, state and inputs


def test_parameter_names_and_shapes():
    cfg = make_config(n_out=2, depth=2, width=[4, 4], activation="maxout", pieces=3, norm="batch",
                      architecture="highway", shortcut="projection")
    want = {
        "layers.0.weight": (12, 3), "layers.0.bias": (12,), "layers.1.weight": (12, 4), "layers.1.bias": (12,),
        "layers.2.weight": (2, 4), "layers.2.bias": (2,),
        "norms.0.weight": (12,), "norms.0.bias": (12,), "norms.0.running_mean": (12,),
        "norms.0.running_var": (12,), "norms.0.num_batches_tracked": (),
        "norms.1.weight": (12,), "norms.1.bias": (12,), "norms.1.running_mean": (12,),
        "norms.1.running_var": (12,), "norms.1.num_batches_tracked": (),
        "gates.0.weight": (4, 3), "gates.0.bias": (4,), "gates.1.weight": (4, 4), "gates.1.bias": (4,),
        "shortcuts.0.weight": (4, 3),
    }
    assert ref.parameter_shapes(cfg) == want
    assert list(ref.parameter_shapes(cfg)) == list(want)  # torch's order
    net = ref.ReferenceNet(cfg, make_state(cfg))
    sd = net.state_dict()
    assert {k: v.shape for k, v in sd.items()} == want
    assert sd["norms.0.num_batches_tracked"].dtype == np.int64
    assert net.trainable == [n for n in want if n.rsplit(".", 1)[1] not in
                             ("running_mean", "running_var", "num_batches_tracked")]
    # norm after the activation normalises the w units; rms has no bias; residual blocks of 2
    cfg = make_config(n_in=4, depth=3, width=[4, 4, 6], activation="maxout", norm="rms", norm_position="after",
                      architecture="residual", shortcut="projection")
    shapes = ref.parameter_shapes(cfg)
    assert shapes["norms.0.weight"] == (4,) and "norms.0.bias" not in shapes
    assert [n for n in shapes if n.startswith("shortcuts")] == ["shortcuts.1.weight"]
    assert shapes["shortcuts.1.weight"] == (6, 4)
    assert [b.layers for b in ref.make_blocks(cfg)] == [(0, 1), (2,)]
    cfg["shortcut"] = "zeros"
    assert not [n for n in ref.parameter_shapes(cfg) if n.startswith("shortcuts")]


def test_state_is_copied_and_checked():
    cfg = make_config(norm="batch")
    state = make_state(cfg)
    net = ref.ReferenceNet(cfg, state)
    state["layers.0.weight"][0, 0] += 1.0
    assert net.params["layers.0.weight"][0, 0] != state["layers.0.weight"][0, 0]
    sd = net.state_dict()
    sd["layers.0.bias"][0] += 1.0
    assert net.params["layers.0.bias"][0] != sd["layers.0.bias"][0]
    bad = dict(state)
    del bad["norms.1.bias"]
    with pytest.raises(ValueError, match="norms.1.bias"):
        ref.ReferenceNet(cfg, bad)
    bad = dict(state, **{"layers.0.weight": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="layers.0.weight"):
        ref.ReferenceNet(cfg, bad)
    with pytest.raises(ValueError, match="gates.0.weight"):
        ref.ReferenceNet(cfg, dict(state, **{"gates.0.weight": np.zeros((5, 3))}))
    with pytest.raises(ValueError, match="depth"):
        ref.ReferenceNet(make_config(width=[3, 3]), state)


def test_targets_and_labels():
    cfg = make_config(n_out=1)
    net = ref.ReferenceNet(cfg, make_state(cfg))
    X = np.random.default_rng(0).normal(size=(4, N_IN))
    t = np.array([0.0, 1.0, 1.0, 0.0])
    for loss in ("bce", "mse"):
        a = net.loss_and_grads(X, t, loss)[0]
        b = net.loss_and_grads(X, t[:, None], loss)[0]
        assert a == b
        with pytest.raises(ValueError):
            net.loss_and_grads(X, t[:3], loss)
    net3 = ref.ReferenceNet(make_config(), make_state(make_config()))
    with pytest.raises(ValueError):
        net3.loss_and_grads(X, np.array([0, 1, 3, 0]), "cross_entropy")
    with pytest.raises(ValueError):
        net3.loss_and_grads(X, np.zeros((4, 3)), "cross_entropy")
    with pytest.raises(ValueError, match="cross_entropy"):
        net3.loss_and_grads(X, np.array([0, 1, 2, 0]), "cross_entropyy")


# ----------------------------------------------------------------------------------------
# batch norm


def _bn_net(position="before", batch=5):
    cfg = make_config(depth=1, width=[4], activation="identity", norm="batch", norm_position=position)
    state = make_state(cfg, seed=10)
    rng = np.random.default_rng(11)
    X = rng.normal(size=(batch, N_IN))
    return cfg, state, X


def _bn_by_hand(state, X, mean, var):
    z = X @ state["layers.0.weight"].T + state["layers.0.bias"]
    y = (z - mean) / np.sqrt(var + 1e-5) * state["norms.0.weight"] + state["norms.0.bias"]
    return y @ state["layers.1.weight"].T + state["layers.1.bias"]


def test_batch_norm_eval_uses_running_stats():
    cfg, state, X = _bn_net()
    net = ref.ReferenceNet(cfg, state)
    want = _bn_by_hand(state, X, state["norms.0.running_mean"], state["norms.0.running_var"])
    np.testing.assert_allclose(net.forward(X, train=False), want, rtol=1e-13)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_array_equal(net.params[f"norms.0.{name}"], state[f"norms.0.{name}"])
    net.loss_and_grads(X, np.zeros(5, dtype=int), train=False)
    np.testing.assert_array_equal(net.params["norms.0.running_mean"], state["norms.0.running_mean"])
    assert net.params["norms.0.num_batches_tracked"] == 0
    net.forward(X[:1], train=False)  # one example is fine in eval mode


def test_batch_norm_train_uses_batch_stats_and_updates_running_stats():
    cfg, state, X = _bn_net()
    net = ref.ReferenceNet(cfg, state)
    z = X @ state["layers.0.weight"].T + state["layers.0.bias"]
    mean, var = z.mean(axis=0), z.var(axis=0)
    np.testing.assert_allclose(net.forward(X, train=True), _bn_by_hand(state, X, mean, var), rtol=1e-13)
    rm = 0.9 * state["norms.0.running_mean"] + 0.1 * mean
    rv = 0.9 * state["norms.0.running_var"] + 0.1 * z.var(axis=0, ddof=1)
    np.testing.assert_allclose(net.params["norms.0.running_mean"], rm, rtol=1e-14)
    np.testing.assert_allclose(net.params["norms.0.running_var"], rv, rtol=1e-14)
    assert net.params["norms.0.num_batches_tracked"] == 1
    # a second training pass (through loss_and_grads) updates again
    X2 = X[::-1] * 2.0 + 1.0
    z2 = X2 @ state["layers.0.weight"].T + state["layers.0.bias"]
    net.loss_and_grads(X2, np.zeros(5, dtype=int), train=True)
    np.testing.assert_allclose(net.params["norms.0.running_mean"], 0.9 * rm + 0.1 * z2.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(net.params["norms.0.running_var"], 0.9 * rv + 0.1 * z2.var(axis=0, ddof=1),
                               rtol=1e-14)
    assert net.params["norms.0.num_batches_tracked"] == 2
    assert net.state_dict()["norms.0.num_batches_tracked"].shape == ()


def test_batch_norm_after_activation_updates_on_unit_features():
    cfg, state, X = _bn_net(position="after")
    net = ref.ReferenceNet(cfg, state)
    net.forward(X, train=True)
    z = X @ state["layers.0.weight"].T + state["layers.0.bias"]  # identity activation: a = z
    np.testing.assert_allclose(net.params["norms.0.running_mean"],
                               0.9 * state["norms.0.running_mean"] + 0.1 * z.mean(axis=0), rtol=1e-14)


def test_batch_norm_training_needs_two_examples():
    cfg, state, X = _bn_net()
    net = ref.ReferenceNet(cfg, state)
    with pytest.raises(ValueError, match="batch"):
        net.forward(X[:1], train=True)


# ----------------------------------------------------------------------------------------
# losses and statistics


def _plain(act="identity", depth=1, width=(4,), n_in=2, n_out=3, **kw):
    cfg = make_config(activation=act, depth=depth, width=list(width), n_in=n_in, n_out=n_out, **kw)
    return cfg, make_state(cfg, seed=12)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_loss_values_and_accuracy(loss):
    cfg, state = _plain(n_out=3)
    rng = np.random.default_rng(13)
    X = rng.normal(size=(7, 2))
    y = make_targets(loss, 7, 3, rng)
    net = ref.ReferenceNet(cfg, state)
    z = naive_forward(cfg, state, X, train=False)
    L, _, stats = net.loss_and_grads(X, y, loss, train=False)
    if loss == "cross_entropy":
        want = np.mean(logsumexp(z, axis=1) - z[np.arange(7), y])
        acc = np.mean(z.argmax(axis=1) == y)
    elif loss == "bce":
        s = expit(z)
        want = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))
        acc = np.mean((z > 0) == (y > 0.5))
    elif loss == "mse":
        want, acc = np.mean((z - y) ** 2), math.nan
    else:
        raise AssertionError(f"add a hand-made check for the loss {loss!r}")
    assert L == pytest.approx(want, rel=1e-12)
    assert stats["loss"] == L
    np.testing.assert_equal(stats["accuracy"], acc)


def test_cross_entropy_accuracy_ties_pick_the_first_class():
    cfg, state = _plain(n_out=3)
    state["layers.1.weight"][:] = 0.0
    state["layers.1.bias"][:] = [1.0, 1.0, 0.0]
    net = ref.ReferenceNet(cfg, state)
    _, _, stats = net.loss_and_grads(np.ones((4, 2)), np.array([0, 1, 0, 2]), train=False)
    assert stats["accuracy"] == 0.5


@pytest.mark.parametrize("act", list(registry.ACTIVATIONS))
def test_dead_units(act):
    cfg, state = _plain(act=act, depth=2, width=(4, 4))
    k = cfg["pieces"] if act == "maxout" else 1
    state["layers.0.bias"][:] = -100.0  # every pre-activation of layer 0 is very negative
    state["layers.1.weight"][:] = 0.0
    state["layers.1.bias"][:] = np.repeat([1.0, -1.0, 0.5, 0.0], k)  # layer 1: y = bias for every example
    net = ref.ReferenceNet(cfg, state)
    X = np.abs(np.random.default_rng(14).normal(size=(5, 2)))
    _, _, stats = net.loss_and_grads(X, np.zeros(5, dtype=int))
    if act in registry.DEAD_ACTIVATIONS:
        np.testing.assert_array_equal(stats["dead"], [1.0, 0.5, 0.0])  # y <= 0 counts as dead
    else:
        np.testing.assert_array_equal(stats["dead"], [0.0, 0.0, 0.0])


def test_dead_uses_the_whole_batch():
    cfg, state = _plain(act="relu", width=(3,))
    state["layers.0.weight"][:] = [[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]]
    state["layers.0.bias"][:] = [0.0, 0.0, -1.0]
    net = ref.ReferenceNet(cfg, state)
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 0.0]])  # units 0 and 1 alive in some example, unit 2 dead
    _, _, stats = net.loss_and_grads(X, np.zeros(3, dtype=int))
    np.testing.assert_allclose(stats["dead"], [1 / 3, 0.0])


@pytest.mark.parametrize("act", list(registry.ACTIVATIONS))
def test_saturation(act):
    cfg, state = _plain(act=act, width=(4,))
    k = 2 if act == "maxout" else 1
    W = np.array([[10.0, 10.0], [0.0, 0.0], [-10.0, -10.0], [0.01, 0.0]])
    state["layers.0.weight"] = np.repeat(W, k, axis=0)
    state["layers.0.bias"] = np.zeros(4 * k)
    net = ref.ReferenceNet(cfg, state)
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    _, _, stats = net.loss_and_grads(X, np.zeros(3, dtype=int))
    want = 0.5 if act in registry.SATURATING_ACTIVATIONS else 0.0  # units 0 and 2 saturated
    np.testing.assert_array_equal(stats["saturated"], [want, 0.0])
    # huge weights: (nearly) everything saturates
    state["layers.0.weight"] = np.random.default_rng(15).normal(size=(4 * k, 2)) * 1e4
    net = ref.ReferenceNet(cfg, state)
    _, _, stats = net.loss_and_grads(np.random.default_rng(16).normal(size=(50, 2)), np.zeros(50, dtype=int))
    if act in registry.SATURATING_ACTIVATIONS:
        assert stats["saturated"][0] > 0.99
    assert stats["saturated"][1] == 0.0


def test_norms_means_and_deltas_by_hand():
    cfg, state = _plain(act="tanh", width=(4,), n_out=3)
    net = ref.ReferenceNet(cfg, state)
    rng = np.random.default_rng(17)
    X, y = rng.normal(size=(6, 2)), rng.integers(0, 3, 6)
    L, grads, stats = net.loss_and_grads(X, y)
    a = np.tanh(X @ state["layers.0.weight"].T + state["layers.0.bias"])
    z = a @ state["layers.1.weight"].T + state["layers.1.bias"]
    p = np.exp(z - logsumexp(z, axis=1, keepdims=True))
    dz1 = (p - np.eye(3)[y]) / 6
    dz0 = (dz1 @ state["layers.1.weight"]) * (1 - a ** 2)
    np.testing.assert_allclose(stats["act_mean"], [a.mean(), z.mean()], rtol=1e-13)
    np.testing.assert_allclose(stats["act_std"], [a.std(), z.std()], rtol=1e-13)
    np.testing.assert_allclose(stats["delta_norm"], [np.linalg.norm(dz0), np.linalg.norm(dz1)], rtol=1e-13)
    np.testing.assert_allclose(stats["grad_norm"], [np.linalg.norm(dz0.T @ X), np.linalg.norm(dz1.T @ a)],
                               rtol=1e-13)
    np.testing.assert_allclose(stats["weight_norm"], [np.linalg.norm(state["layers.0.weight"]),
                                                      np.linalg.norm(state["layers.1.weight"])], rtol=1e-14)
    total = math.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    assert stats["grad_total_norm"] == pytest.approx(total, rel=1e-13)
    assert stats["diverged"] is False
    for key in ("grad_norm", "delta_norm", "weight_norm", "act_mean", "act_std", "saturated", "dead"):
        assert stats[key].shape == (2,) and stats[key].dtype == np.float64, key
    assert "act_hist" not in stats and "grad_hist" not in stats


def test_act_mean_uses_the_activation_before_norm_and_dropout():
    cfg, state = _plain(act="relu", width=(4,), norm="layer", norm_position="after", dropout=0.5)
    net = ref.ReferenceNet(cfg, state)
    X = np.random.default_rng(18).normal(size=(6, 2))
    masks = [np.zeros((6, 4))]
    _, _, stats = net.loss_and_grads(X, np.zeros(6, dtype=int), masks=masks)
    a = np.maximum(X @ state["layers.0.weight"].T + state["layers.0.bias"], 0)
    assert stats["act_mean"][0] == pytest.approx(a.mean(), rel=1e-13)
    assert stats["act_std"][0] == pytest.approx(a.std(), rel=1e-13)


def test_histograms():
    cfg, state = _plain(act="identity", width=(8,), n_out=2)
    state["layers.0.weight"][:] = 0.0
    state["layers.0.bias"][:] = [-5.0, -4.0, -3.9, 0.0, 3.99, 4.0, 100.0, 0.5]
    state["layers.1.weight"][:] = 0.0
    state["layers.1.bias"][:] = [0.0, 1.0]
    net = ref.ReferenceNet(cfg, state)
    X = np.zeros((2, 2))
    _, _, stats = net.loss_and_grads(X, np.array([0, 1]), histograms=8)
    assert stats["act_hist"].shape == (2, 8) and stats["grad_hist"].shape == (2, 8)
    assert stats["act_hist"].dtype == np.float64
    # [-4, 4] in 8 bins of width 1, out-of-range values in the end bins; two examples;
    # exact zeros in no bin, counted apart
    np.testing.assert_array_equal(stats["act_hist"][0], [6, 0, 0, 0, 2, 0, 0, 6])
    np.testing.assert_array_equal(stats["act_hist"][1], [0, 0, 0, 0, 0, 2, 0, 0])  # logits 0 and 1
    np.testing.assert_array_equal(stats["act_zero"], [2, 2])
    # gradient of layer 0 is exactly 0 (W1 = 0): all 16 in the zero count, none in the 1e-14 bin
    np.testing.assert_array_equal(stats["grad_hist"][0], [0, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(stats["grad_zero"], [16, 0])
    p = expit(1.0)
    dz = np.log10(np.abs(np.array([[1 - p - 1, p], [1 - p, p - 1]]) / 2))  # softmax - onehot, / B
    want = np.histogram(np.clip(dz, -14, 2), bins=8, range=(-14, 2))[0]
    np.testing.assert_array_equal(stats["grad_hist"][1], want)


@pytest.mark.parametrize("act", list(registry.ACTIVATIONS))
def test_histogram_ranges_and_totals(act):
    cfg, state = _plain(act=act, depth=2, width=(5, 3), n_out=2)
    net = ref.ReferenceNet(cfg, state)
    X = np.random.default_rng(19).normal(size=(9, 2)) * 3
    _, _, stats = net.loss_and_grads(X, np.zeros(9, dtype=int), histograms=12)
    _, tape = net.run(net.params, X)
    lo, hi = {"sigmoid": (0, 1), "tanh": (-1, 1)}.get(act, (-4, 4))
    for i, (a, rng_) in enumerate([(tape["layers"][0]["a"], (lo, hi)), (tape["layers"][1]["a"], (lo, hi)),
                                   (tape["logits"], (-4, 4))]):
        want = np.histogram(np.clip(a[a != 0], *rng_), bins=12, range=rng_)[0]
        np.testing.assert_array_equal(stats["act_hist"][i], want)
        assert stats["act_zero"][i] == np.count_nonzero(a == 0)
    k = 2 if act == "maxout" else 1
    np.testing.assert_array_equal(stats["grad_hist"].sum(axis=1) + stats["grad_zero"], [9 * 5 * k, 9 * 3 * k, 9 * 2])


def test_diverged():
    cfg, state = _plain(act="relu", width=(4,))
    state["layers.0.weight"][:] = 1e300
    state["layers.1.weight"][:] = 1e300
    net = ref.ReferenceNet(cfg, state)
    L, _, stats = net.loss_and_grads(np.ones((3, 2)), np.zeros(3, dtype=int))
    assert stats["diverged"] is True and not math.isfinite(L)
    cfg, state = _plain(act="relu", width=(4,))
    net = ref.ReferenceNet(cfg, state)
    assert net.loss_and_grads(np.ones((3, 2)), np.zeros(3, dtype=int))[2]["diverged"] is False


# ----------------------------------------------------------------------------------------
# dropout and dtype


def _dropout_net(p):
    cfg = make_config(depth=1, width=[5], n_in=2, n_out=5, activation="identity", dropout=p, seed=21)
    state = make_state(cfg)
    state["layers.0.bias"][:] = 1.0
    state["layers.0.weight"][:] = 0.0
    state["layers.1.weight"] = np.eye(5)
    state["layers.1.bias"][:] = 0.0
    return cfg, state  # logits = the dropped-out hidden output (all ones before dropout)


def test_dropout_draws_inverted_masks_from_the_seed():
    cfg, state = _dropout_net(0.3)
    net = ref.ReferenceNet(cfg, state)
    X = np.zeros((2000, 2))
    out = net.forward(X, train=True)
    assert set(np.unique(out)) == {0.0, 1.0 / 0.7}
    assert abs(np.mean(out > 0) - 0.7) < 5 * math.sqrt(0.21 / out.size)
    again = ref.ReferenceNet(cfg, state).forward(X, train=True)  # same seed: same masks
    np.testing.assert_array_equal(out, again)
    assert not np.array_equal(out, net.forward(X, train=True))  # the generator moves on
    np.testing.assert_array_equal(net.forward(X, train=False), np.ones((2000, 5)))  # no dropout in eval


def test_given_masks_are_used():
    cfg, state = _dropout_net(0.5)
    net = ref.ReferenceNet(cfg, state)
    mask = np.array([[2.0, 0.0, 2.0, 0.0, 0.0], [0.0, 2.0, 2.0, 2.0, 0.0]])
    np.testing.assert_array_equal(net.forward(np.zeros((2, 2)), train=True, masks=[mask]), mask)
    np.testing.assert_array_equal(net.forward(np.zeros((2, 2)), train=False, masks=[mask]), np.ones((2, 5)))
    with pytest.raises(ValueError):
        net.forward(np.zeros((2, 2)), train=True, masks=[mask[:, :3]])
    cfg0, state0 = _dropout_net(0.0)  # dropout 0: nothing is dropped
    np.testing.assert_array_equal(ref.ReferenceNet(cfg0, state0).forward(np.zeros((2, 2)), train=True),
                                  np.ones((2, 5)))


@pytest.mark.parametrize("norm", list(registry.NORMS))
def test_float32(norm):
    cfg64 = make_config(activation="gelu", norm=norm, architecture="highway", dropout=0.2)
    cfg32 = dict(cfg64, dtype="float32")
    state = make_state(cfg64, seed=22)
    net64, net32 = ref.ReferenceNet(cfg64, state), ref.ReferenceNet(cfg32, state)
    assert all(v.dtype == (np.int64 if k.endswith("tracked") else np.float32) for k, v in net32.state_dict().items())
    rng = np.random.default_rng(23)
    X, y = rng.normal(size=(BATCH, N_IN)), rng.integers(0, N_OUT, BATCH)
    masks = make_masks(WIDTHS, BATCH, 0.2, rng)
    L64, g64, s64 = net64.loss_and_grads(X, y, masks=masks, histograms=4)
    L32, g32, s32 = net32.loss_and_grads(X, y, masks=masks, histograms=4)
    assert isinstance(L32, float) and L32 == pytest.approx(L64, rel=1e-5)
    for name in g64:
        assert g32[name].dtype == np.float32, name
        np.testing.assert_allclose(g32[name], g64[name], rtol=1e-3, atol=1e-5, err_msg=name)
    assert net32.forward(X).dtype == np.float32
    for key in ("grad_norm", "act_mean", "act_hist"):
        assert s32[key].dtype == np.float64


# ----------------------------------------------------------------------------------------
# optimizer


def _opt_setup(**net_overrides):
    cfg = make_config(activation="tanh", **net_overrides)
    state = make_state(cfg, seed=24)
    rng = np.random.default_rng(25)
    X, y = rng.normal(size=(BATCH, N_IN)), rng.integers(0, N_OUT, BATCH)
    return cfg, state, X, y


def _nadam_first(p, g, lr, eps, b1=0.9, b2=0.999, md=4e-3):
    mu = b1 * (1 - 0.5 * 0.96 ** (1 * md))
    mu_next = b1 * (1 - 0.5 * 0.96 ** (2 * md))
    denom = np.sqrt((1 - b2) * g * g / (1 - b2)) + eps
    return p - lr * (1 - mu) / (1 - mu) * g / denom - lr * mu_next / (1 - mu * mu_next) * (1 - b1) * g / denom


# the first update of each optimizer with its defaults: p, g, lr, eps -> new p
FIRST_STEP = {
    "sgd": lambda p, g, lr, eps: p - lr * g,
    "momentum": lambda p, g, lr, eps: p - lr * g,  # buf = g at t = 1
    "nesterov": lambda p, g, lr, eps: p - lr * (g + 0.9 * g),
    "adagrad": lambda p, g, lr, eps: p - lr * g / (np.abs(g) + eps),
    "adadelta": lambda p, g, lr, eps: p - lr * math.sqrt(eps) / np.sqrt(0.1 * g * g + eps) * g,
    "rmsprop": lambda p, g, lr, eps: p - lr * g / (np.sqrt(0.01 * g * g) + eps),
    "adam": lambda p, g, lr, eps: p - lr * g / (np.abs(g) + eps),
    "adamw": lambda p, g, lr, eps: p * (1 - lr * 1e-2) - lr * g / (np.abs(g) + eps),
    "nadam": _nadam_first,
}


@pytest.mark.parametrize("name", list(registry.OPTIMIZERS))
def test_first_update_of_every_optimizer(name):
    assert name in FIRST_STEP, "add the optimizer's first update to FIRST_STEP"
    cfg, state, X, y = _opt_setup()
    _, grads, _ = ref.ReferenceNet(cfg, state).loss_and_grads(X, y)
    net = ref.ReferenceNet(cfg, state)
    opt = ref.ReferenceOptimizer(net, optimizer=name)
    loss, stats = opt.step(X, y)
    lr, eps = params.DEFAULT_LR[name], params.DEFAULT_EPS.get(name)
    assert stats["lr"] == lr and stats["diverged"] is False
    for pname, g in grads.items():
        np.testing.assert_allclose(net.params[pname], FIRST_STEP[name](state[pname], g, lr, eps), rtol=1e-12,
                                   atol=1e-15, err_msg=pname)
    for i in range(len(WIDTHS) + 1):
        w0, w1 = state[f"layers.{i}.weight"], net.params[f"layers.{i}.weight"]
        assert stats["update_ratio"][i] == pytest.approx(np.linalg.norm(w1 - w0) / np.linalg.norm(w0), rel=1e-12)


@pytest.mark.parametrize("name", list(registry.OPTIMIZERS))
def test_every_optimizer_lowers_the_loss(name):
    cfg, state, X, y = _opt_setup(norm="batch", architecture="residual")
    opt = ref.ReferenceOptimizer(ref.ReferenceNet(cfg, state), optimizer=name,
                                 lr={"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05}.get(name))
    first = opt.step(X, y)[0]
    for _ in range(30):
        last = opt.step(X, y)[0]
    assert last < first
    assert opt.t == 31


def test_momentum_and_adam_second_step():
    cfg, state, X, y = _opt_setup()
    net = ref.ReferenceNet(cfg, state)
    twin = ref.ReferenceNet(cfg, state)
    opt = ref.ReferenceOptimizer(net, optimizer="nesterov", lr=0.1, momentum=0.8, dampening=0.0)
    _, g1, _ = twin.loss_and_grads(X, y)
    opt.step(X, y)
    twin = ref.ReferenceNet(cfg, net.state_dict())
    _, g2, _ = twin.loss_and_grads(X, y)
    p1 = net.state_dict()
    opt.step(X, y)
    for n in g1:
        buf = 0.8 * g1[n] + g2[n]
        np.testing.assert_allclose(net.params[n], p1[n] - 0.1 * (g2[n] + 0.8 * buf), rtol=1e-12, atol=1e-15)
    # adam with L2 weight decay, two steps
    net = ref.ReferenceNet(cfg, state)
    opt = ref.ReferenceOptimizer(net, optimizer="adam", lr=0.01, weight_decay=0.1, betas=[0.8, 0.9])
    m = {n: 0.0 for n in net.trainable}
    v = dict(m)
    for t in (1, 2):
        before = net.state_dict()
        _, g, _ = ref.ReferenceNet(cfg, before).loss_and_grads(X, y)
        opt.step(X, y)
        for n in g:
            gg = g[n] + 0.1 * before[n]
            m[n] = 0.8 * m[n] + 0.2 * gg
            v[n] = 0.9 * v[n] + 0.1 * gg * gg
            want = before[n] - 0.01 / (1 - 0.8 ** t) * m[n] / (np.sqrt(v[n]) / math.sqrt(1 - 0.9 ** t) + 1e-8)
            np.testing.assert_allclose(net.params[n], want, rtol=1e-12, atol=1e-15)


def test_clipping():
    cfg, state, X, y = _opt_setup()
    _, grads, stats0 = ref.ReferenceNet(cfg, state).loss_and_grads(X, y)
    # clip_value, then clip_norm on the clamped gradients
    net = ref.ReferenceNet(cfg, state)
    opt = ref.ReferenceOptimizer(net, optimizer="sgd", lr=0.1, clip_value=0.05, clip_norm=0.1)
    _, stats = opt.step(X, y)
    clamped = {n: np.clip(g, -0.05, 0.05) for n, g in grads.items()}
    total = math.sqrt(sum(np.sum(g ** 2) for g in clamped.values()))
    coef = 0.1 / (total + 1e-6)
    assert coef < 1
    for n, g in clamped.items():
        np.testing.assert_allclose(net.params[n], state[n] - 0.1 * g * coef, rtol=1e-12, atol=1e-15)
    # statistics report the raw gradients
    assert stats["grad_total_norm"] == pytest.approx(stats0["grad_total_norm"], rel=1e-14)
    np.testing.assert_allclose(stats["grad_norm"], stats0["grad_norm"], rtol=1e-14)
    # a norm bound above the gradient norm changes nothing
    net = ref.ReferenceNet(cfg, state)
    ref.ReferenceOptimizer(net, optimizer="sgd", lr=0.1, clip_norm=1e6).step(X, y)
    for n, g in grads.items():
        np.testing.assert_allclose(net.params[n], state[n] - 0.1 * g, rtol=1e-12, atol=1e-15)


def test_sgd_weight_decay_and_schedule():
    cfg, state, X, y = _opt_setup()
    net = ref.ReferenceNet(cfg, state)
    kw = dict(schedule="step", step_size=2, gamma=0.5, warmup_steps=3)
    opt = ref.ReferenceOptimizer(net, optimizer="sgd", lr=0.2, weight_decay=0.01, **kw)
    for t in range(5):
        before = net.state_dict()
        _, g, _ = ref.ReferenceNet(cfg, before).loss_and_grads(X, y)
        _, stats = opt.step(X, y)
        lr = schedule.lr_at(t, 0.2, "step", step_size=2, gamma=0.5, warmup_steps=3)
        assert stats["lr"] == lr
        for n in g:
            np.testing.assert_allclose(net.params[n], before[n] - lr * (g[n] + 0.01 * before[n]), rtol=1e-12,
                                       atol=1e-15)


def test_diverged_step_applies_no_update():
    cfg, state, X, y = _opt_setup(norm="batch")
    net = ref.ReferenceNet(cfg, state)
    opt = ref.ReferenceOptimizer(net, optimizer="adam")
    opt.step(X, y)
    before = net.state_dict()
    steps = {n: s["step"] for n, s in opt.state.items()}
    bad = X.copy()
    bad[0, 0] = np.nan
    loss, stats = opt.step(bad, y)
    assert stats["diverged"] is True and math.isnan(loss)
    np.testing.assert_array_equal(stats["update_ratio"], np.zeros(len(WIDTHS) + 1))
    for n in net.trainable:
        np.testing.assert_array_equal(net.params[n], before[n], err_msg=n)
    assert {n: s["step"] for n, s in opt.state.items()} == steps  # optimizer state untouched
    assert opt.t == 2  # the schedule's clock counts the step
    loss, stats = opt.step(X, y)
    assert stats["diverged"] is False and math.isfinite(loss)


def test_optimizer_arguments():
    cfg, state, X, y = _opt_setup()
    net = ref.ReferenceNet(cfg, state)
    with pytest.raises(ValueError, match="momentum"):
        ref.ReferenceOptimizer(net, optimizer="sgd", momentun=0.9)
    with pytest.raises(ValueError, match="'adam'"):
        ref.ReferenceOptimizer(net, optimizer="adan")
    with pytest.raises(ValueError, match="nesterov"):
        ref.ReferenceOptimizer(net, optimizer="nesterov", momentum=0.0)
    with pytest.raises(ValueError, match="warmup"):
        ref.ReferenceOptimizer(net, schedule="warmup")
    o = ref.ReferenceOptimizer(net, optimizer="momentum")
    assert (o.momentum, o.nesterov, o.lr) == (0.9, False, 1e-3)
    o = ref.ReferenceOptimizer(net, optimizer="adamw")
    assert (o.weight_decay, o.eps) == (1e-2, 1e-8)
    o = ref.ReferenceOptimizer(net, optimizer="rmsprop", loss="mse")
    assert (o.momentum, o.lr, o.weight_decay, o.loss) == (0.0, 1e-2, 0.0, "mse")


def _manual_rule(name, kw):
    """The spec's update rule for one array, written out: (p, g, state dict, t) -> new p."""
    lr, wd = kw["lr"], kw.get("weight_decay", 0.0)

    def sgd(p, g, s, t):
        g = g + wd * p
        mom, damp = kw["momentum"], kw.get("dampening", 0.0)
        s["buf"] = g if t == 1 else mom * s["buf"] + (1 - damp) * g
        return p - lr * s["buf"]

    def adagrad(p, g, s, t):
        s["sum"] = s.get("sum", kw["initial_accumulator_value"]) + g * g
        return p - lr / (1 + (t - 1) * kw["lr_decay"]) * g / (np.sqrt(s["sum"]) + 1e-10)

    def adadelta(p, g, s, t):
        g = g + wd * p
        rho, eps = kw["rho"], 1e-6
        s["sq"] = rho * s.get("sq", 0) + (1 - rho) * g * g
        delta = np.sqrt(s.get("acc", 0) + eps) / np.sqrt(s["sq"] + eps) * g
        s["acc"] = rho * s.get("acc", 0) + (1 - rho) * delta * delta
        return p - lr * delta

    def rmsprop(p, g, s, t):
        a = kw["alpha"]
        s["sq"] = a * s.get("sq", 0) + (1 - a) * g * g
        s["ga"] = a * s.get("ga", 0) + (1 - a) * g
        avg = np.sqrt(s["sq"] - s["ga"] ** 2) + 1e-8
        s["buf"] = kw["momentum"] * s.get("buf", 0) + g / avg
        return p - lr * s["buf"]

    def adam(p, g, s, t):
        b1, b2 = kw["betas"]
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        s["vmax"] = np.maximum(s.get("vmax", 0), s["v"])
        return p - lr / (1 - b1 ** t) * s["m"] / (np.sqrt(s["vmax"]) / math.sqrt(1 - b2 ** t) + 1e-8)

    def nadam(p, g, s, t):
        g = g + wd * p
        b1, b2, md = 0.9, 0.999, kw["momentum_decay"]
        mu, mu_next = b1 * (1 - 0.5 * 0.96 ** (t * md)), b1 * (1 - 0.5 * 0.96 ** ((t + 1) * md))
        s["prod"] = s.get("prod", 1.0) * mu
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        denom = np.sqrt(s["v"] / (1 - b2 ** t)) + 1e-8
        return p - lr * (1 - mu) / (1 - s["prod"]) * g / denom - lr * mu_next / (1 - s["prod"] * mu_next) * s["m"] / denom

    return {"sgd": sgd, "adagrad": adagrad, "adadelta": adadelta, "rmsprop": rmsprop, "adam": adam,
            "nadam": nadam}[name]


@pytest.mark.parametrize("name,kw", [
    ("sgd", dict(lr=0.1, momentum=0.5, dampening=0.3)),
    ("adagrad", dict(lr=0.05, lr_decay=0.1, initial_accumulator_value=0.5)),
    ("adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    ("rmsprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5)),
    ("adam", dict(lr=0.01, amsgrad=True, betas=(0.5, 0.6))),
    ("nadam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
], ids=["sgd-dampening", "adagrad-decay", "adadelta-wd", "rmsprop-centered", "adam-amsgrad", "nadam-wd"])
def test_optimizer_options_over_three_steps(name, kw):
    cfg, state, X, y = _opt_setup()
    net = ref.ReferenceNet(cfg, state)
    opt = ref.ReferenceOptimizer(net, optimizer=name, **kw)
    rule = _manual_rule(name, kw)
    mstate = {n: {} for n in net.trainable}
    rng = np.random.default_rng(26)
    for t in (1, 2, 3):
        Xt = X + 0.5 * rng.normal(size=X.shape)  # a different batch each step
        before = net.state_dict()
        _, g, _ = ref.ReferenceNet(cfg, before).loss_and_grads(Xt, y)
        opt.step(Xt, y)
        for n in g:
            np.testing.assert_allclose(net.params[n], rule(before[n], g[n], mstate[n], t), rtol=1e-11,
                                       atol=1e-14, err_msg=f"{n} t={t}")
