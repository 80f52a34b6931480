"""Network behaviour: state dicts with torch's names, batch norm's two modes,
determinism, divergence, float32, and the per-layer statistics on cases whose
answer is known."""

import numpy as np
import pytest

import tuisim
from tuisim.core import registry


def _xy(B=16, n_in=2, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(B, n_in)), rng.integers(0, classes, size=B)


def test_state_dict_names_and_shapes_plain():
    net = tuisim.Network(n_in=2, n_out=3, depth=4, width=[8, 6, 6, 5], norm="batch", seed=0)
    sd = net.state_dict()
    assert sd["layers.0.weight"].shape == (8, 2)
    assert sd["layers.3.weight"].shape == (5, 6)
    assert sd["layers.4.weight"].shape == (3, 5) and sd["layers.4.bias"].shape == (3,)
    for i in range(4):
        assert {f"norms.{i}.{k}" for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")} <= set(sd)
    assert "norms.4.weight" not in sd
    grads = net.loss_and_grads(*_xy())[1]
    assert set(grads) == {k for k in sd if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    for k, g in grads.items():
        assert g.shape == sd[k].shape


def test_state_dict_blocks_and_maxout():
    net = tuisim.Network(n_in=2, n_out=3, depth=4, width=[8, 8, 6, 6], activation="maxout", pieces=3,
                         architecture="highway", skip_every=2, seed=0)
    sd = net.state_dict()
    assert sd["layers.0.weight"].shape == (24, 2)  # maxout: (out * k) x in
    assert sd["layers.1.weight"].shape == (24, 8)
    assert sd["gates.0.weight"].shape == (8, 2) and sd["gates.1.weight"].shape == (6, 8)
    assert sd["shortcuts.0.weight"].shape == (8, 2) and sd["shortcuts.1.weight"].shape == (6, 8)
    assert np.all(sd["gates.0.bias"] == -2.0)
    net2 = tuisim.Network(n_in=2, n_out=3, depth=4, width=8, architecture="residual", shortcut="zeros", seed=0)
    assert not any(k.startswith(("shortcuts", "gates")) for k in net2.state_dict())


def test_load_state_dict_round_trip_and_errors():
    a = tuisim.Network(n_in=2, n_out=3, depth=3, width=8, norm="batch", seed=1)
    b = tuisim.Network(n_in=2, n_out=3, depth=3, width=8, norm="batch", seed=2)
    X, y = _xy()
    a.forward(X, train=True)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.forward(X), b.forward(X))
    assert b.state_dict()["norms.0.num_batches_tracked"] == 1
    with pytest.raises(KeyError, match="missing"):
        b.load_state_dict({"layers.0.weight": np.zeros((8, 2))})
    sd = a.state_dict()
    sd["layers.0.weight"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="shape"):
        b.load_state_dict(sd)


def test_batchnorm_train_uses_batch_stats_eval_uses_running():
    net = tuisim.Network(n_in=2, n_out=3, depth=2, width=5, norm="batch", activation="identity", seed=0)
    X, _ = _xy(B=32)
    X = X * 3 + 1
    W0, b0 = net.state_dict()["layers.0.weight"], net.state_dict()["layers.0.bias"]
    z = X @ W0.T + b0
    net.forward(X, train=True)
    sd = net.state_dict()
    np.testing.assert_allclose(sd["norms.0.running_mean"], 0.1 * z.mean(0), rtol=1e-12)
    np.testing.assert_allclose(sd["norms.0.running_var"], 0.9 + 0.1 * z.var(0, ddof=1), rtol=1e-12)
    # training: the first hidden layer's output has batch mean 0 and (biased) variance 1
    h = net.forward(X, train=True)
    assert net.stats.act_mean[0] == pytest.approx(0.0, abs=1e-12)
    assert net.stats.act_std[0] == pytest.approx(np.sqrt(1 - 1e-5 / (z.var(0).mean() + 1e-5)), rel=1e-2)
    # evaluation: running statistics, so one example alone gets the same output as in a batch
    e1 = net.forward(X[:1])
    e_all = net.forward(X)
    np.testing.assert_allclose(e1[0], e_all[0], rtol=1e-12)
    t1 = net.forward(X[:2], train=True)
    assert not np.allclose(t1[0], h[0])  # training output depends on the batch


def test_same_seed_same_numbers_bit_for_bit():
    def run():
        net = tuisim.Network(n_in=2, n_out=3, depth=6, width=16, dropout=0.2, norm="batch", seed=5)
        opt = tuisim.Optimizer(net, "adam", lr=1e-2)
        X, y = _xy(B=32)
        losses = [opt.step(X, y) for _ in range(15)]
        return losses, net.state_dict(), opt.stats
    (l1, s1, st1), (l2, s2, st2) = run(), run()
    assert l1 == l2
    for k in s1:
        assert np.array_equal(s1[k], s2[k])
    assert np.array_equal(st1.delta_norm, st2.delta_norm)
    other = tuisim.Network(n_in=2, n_out=3, depth=6, width=16, seed=6).state_dict()
    assert not np.array_equal(other["layers.0.weight"], s1["layers.0.weight"])


def test_divergence_is_reported_at_its_step_and_nothing_crashes():
    net = tuisim.Network(n_in=2, n_out=3, depth=12, width=16, activation="relu", init="normal", init_scale=3.0, seed=0)
    opt = tuisim.Optimizer(net, "sgd", lr=1.0)
    X, y = _xy(B=16)
    diverged_at = None
    for step in range(60):
        opt.step(X, y)
        if opt.stats.diverged:
            diverged_at = step
            break
    assert diverged_at is not None
    assert opt.stats.step == diverged_at
    # the weights are those of the last finite step: nothing already computed is lost
    for k, v in net.state_dict().items():
        assert np.all(np.isfinite(v)), k


def test_float32_runs_and_agrees_with_float64():
    kw = dict(n_in=2, n_out=3, depth=4, width=16, activation="tanh", norm="layer", seed=3)
    n64, n32 = tuisim.Network(**kw), tuisim.Network(**kw, dtype="float32")
    assert n32.state_dict()["layers.0.weight"].dtype == np.float32
    X, y = _xy()
    l64, g64 = n64.loss_and_grads(X, y)
    l32, g32 = n32.loss_and_grads(X, y)
    assert g32["layers.0.weight"].dtype == np.float32
    assert l32 == pytest.approx(l64, rel=1e-5)
    np.testing.assert_allclose(g32["layers.2.weight"], g64["layers.2.weight"], rtol=2e-3, atol=1e-6)


def test_dead_and_saturated_fractions():
    net = tuisim.Network(n_in=2, n_out=3, depth=2, width=8, activation="relu", bias_init=-100.0, seed=0)
    net.loss_and_grads(*_xy())
    assert net.stats.dead[0] == 1.0 and net.stats.dead[1] == 1.0 and net.stats.dead[2] == 0.0
    net = tuisim.Network(n_in=2, n_out=3, depth=2, width=8, activation="sigmoid", init="normal", init_scale=100.0,
                         seed=0)
    net.loss_and_grads(*_xy())
    assert net.stats.saturated[0] > 0.9 and net.stats.saturated[2] == 0.0
    net = tuisim.Network(n_in=2, n_out=3, depth=2, width=8, activation="tanh", init="normal", init_scale=1e-3,
                         seed=0)
    net.loss_and_grads(*_xy())
    assert net.stats.saturated[0] == 0.0 and net.stats.dead[0] == 0.0


def test_statistics_match_their_definitions():
    net = tuisim.Network(n_in=2, n_out=3, depth=3, width=8, activation="tanh", init="xavier_normal", seed=0)
    X, y = _xy(B=10)
    _, grads = net.loss_and_grads(X, y)
    st, sd = net.stats, net.state_dict()
    for i in range(4):
        assert st.grad_norm[i] == pytest.approx(np.linalg.norm(grads[f"layers.{i}.weight"]), rel=1e-12)
        assert st.weight_norm[i] == pytest.approx(np.linalg.norm(sd[f"layers.{i}.weight"]), rel=1e-12)
    # the output layer's delta: dL/dz of mean cross-entropy = (softmax - onehot) / B
    z = net.forward(X)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(10), y] -= 1
    assert st.delta_norm[3] == pytest.approx(np.linalg.norm(p / 10), rel=1e-10)
    # the bias gradient is the column sum of delta, so ||db|| <= sqrt(B) ||delta||
    assert np.linalg.norm(grads["layers.3.bias"]) <= np.sqrt(10) * st.delta_norm[3]
    h = np.tanh(X @ sd["layers.0.weight"].T + sd["layers.0.bias"])
    assert st.act_mean[0] == pytest.approx(h.mean(), rel=1e-10)
    assert st.act_std[0] == pytest.approx(h.std(), rel=1e-10)


def test_update_ratio_is_the_applied_update():
    net = tuisim.Network(n_in=2, n_out=3, depth=3, width=8, seed=0)
    before = net.state_dict()
    opt = tuisim.Optimizer(net, "momentum", lr=0.1)
    opt.step(*_xy())
    after = net.state_dict()
    for i in range(4):
        w0, w1 = before[f"layers.{i}.weight"], after[f"layers.{i}.weight"]
        assert opt.stats.update_ratio[i] == pytest.approx(np.linalg.norm(w1 - w0) / np.linalg.norm(w0), rel=1e-10)


def test_tiny_init_weight_gradients_level_while_delta_vanishes():
    """Glorot & Bengio / L8.1: with a tiny init ||dL/dW|| stays level across layers while
    ||dL/dz|| collapses toward the input."""
    net = tuisim.Network(n_in=2, n_out=3, depth=10, width=64, activation="tanh", init="normal", init_scale=0.01,
                         seed=0)
    net.loss_and_grads(*_xy(B=64))
    st = net.stats
    assert st.delta_norm[0] / st.delta_norm[-1] < 1e-9
    hidden = st.grad_norm[1:-1]
    assert hidden.max() / hidden.min() < 10


def test_histograms_count_every_value():
    net = tuisim.Network(n_in=2, n_out=3, depth=3, width=8, activation="sigmoid", seed=0)
    net.loss_and_grads(*_xy(B=10), histograms=16)
    st = net.stats
    assert st.act_hist.shape == (4, 16) and st.grad_hist.shape == (4, 16)
    assert st.act_zero.shape == (4,) and st.grad_zero.shape == (4,)
    assert np.all(st.act_hist.sum(1) + st.act_zero == [80, 80, 80, 30])
    assert np.all(st.grad_hist.sum(1) + st.grad_zero == [80, 80, 80, 30])


def test_dropout_is_inverted_and_training_only():
    net = tuisim.Network(n_in=2, n_out=3, depth=2, width=200, dropout=0.25, seed=0)
    X, y = _xy(B=50)
    net.loss_and_grads(X, y)
    masks = net.dropout_masks()
    assert len(masks) == 2 and masks[0].shape == (50, 200)
    vals = np.unique(masks[0])
    np.testing.assert_allclose(vals, [0.0, 1 / 0.75])
    assert abs((masks[0] == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(net.forward(X), net.forward(X))  # evaluation: no dropout


@pytest.mark.parametrize("key,value,words", [
    ("activation", "sigmod", "did you mean 'sigmoid'"), ("init", "he", "known"), ("depth", 0, ">= 1"),
    ("width", 0, ">= 1"), ("dropout", 1.0, "< 1"), ("norm", "batchnorm", "did you mean 'batch'"),
    ("width", [4, 4], "one width per hidden layer"),
])
def test_bad_arguments_raise_clear_errors(key, value, words):
    with pytest.raises(ValueError, match=words):
        tuisim.Network(n_in=2, n_out=3, **{"depth": 3, key: value})


def test_every_registry_entry_builds_and_steps():
    X, y = _xy()
    for act in registry.ACTIVATIONS:
        for init in registry.INITS:
            net = tuisim.Network(n_in=2, n_out=3, depth=2, width=6, activation=act, init=init, seed=0)
            tuisim.Optimizer(net, "sgd", lr=0.01).step(X, y)


def test_labels_out_of_range_raise():
    net = tuisim.Network(n_in=2, n_out=3, depth=2, width=4, seed=0)
    X, _ = _xy(B=4)
    with pytest.raises(ValueError, match="labels must lie in 0..2"):
        net.loss_and_grads(X, [0, 1, 3, 0])
    with pytest.raises(ValueError, match="labels must lie"):
        tuisim.Optimizer(net, "sgd").step(X, [0, -1, 0, 0])
