"""`Optimizer.run`: many steps in one compiled call must be the same steps, bit for bit,
as `Optimizer.step` one at a time on the same batches: parameters, running statistics,
optimizer state and counters, every measurement, divergence and its stop."""

from __future__ import annotations

import numpy as np
import pytest

import tuisim

CASES = [
    (dict(depth=4, width=8, activation="tanh", norm="batch", dropout=0.2), "nadam",
     dict(schedule="cosine", t_max=7, lr=0.05)),
    (dict(depth=3, width=8, architecture="highway", norm="layer"), "adam", dict(schedule="step", step_size=5)),
    (dict(depth=5, width=6, activation="relu", architecture="residual", skip_every=2), "momentum",
     dict(clip_norm=0.5, weight_decay=1e-3)),
    (dict(depth=3, width=8, activation="maxout", pieces=2, norm="rms", norm_position="after"), "rmsprop",
     dict(centered=True, clip_value=0.1)),
    (dict(depth=3, width=8, activation="sigmoid", dtype="float32", norm="batch"), "sgd", dict(lr=0.3)),
]


def _data(n=50, n_in=2, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.integers(0, n_out, n), rng


def _pair(model, opt, okw, loss="cross_entropy", n_out=3):
    nets = [tuisim.Network(n_in=2, n_out=n_out, seed=1, **model) for _ in range(2)]
    return nets, [tuisim.Optimizer(n, opt, loss=loss, **okw) for n in nets]


def _same_state(nets, opts):
    a, b = nets
    assert np.array_equal(a.P, b.P)
    assert np.array_equal(a.R, b.R)
    assert a.num_batches_tracked == b.num_batches_tracked
    assert np.array_equal(opts[0].state, opts[1].state)
    assert (opts[0].t, opts[0].steps, opts[0]._mu_prod) == (opts[1].t, opts[1].steps, opts[1]._mu_prod)


@pytest.mark.parametrize("model,opt,okw", CASES)
def test_run_equals_step_by_step(model, opt, okw):
    X, y, rng = _data()
    index = np.stack([rng.permutation(len(X))[:16] for _ in range(23)])
    nets, opts = _pair(model, opt, okw)
    one = [opts[0].step(X[i], y[i]) for i in index[:10]]
    stats = opts[0].stats
    trace = opts[1].run(X, y, index[:10])
    assert len(trace) == 10
    assert np.array_equal(trace.loss, np.array(one, dtype=trace.loss.dtype))
    assert np.array_equal(trace.grad_norm[-1], stats.grad_norm)
    assert np.array_equal(trace.update_ratio[-1], stats.update_ratio)
    assert list(trace.step) == list(range(10))
    _same_state(nets, opts)
    # a second chunk continues where the first stopped (schedule clock, torch's step, NAdam)
    lrs = [opts[0].lr_at(opts[0].steps + k) for k in range(13)]
    one = [opts[0].step(X[i], y[i], histograms=8) for i in index[10:]]
    trace = opts[1].run(X, y, index[10:], histograms=8)
    assert np.array_equal(trace.loss, np.array(one, dtype=trace.loss.dtype))
    assert np.allclose(trace.lr, lrs)
    assert list(trace.step) == list(range(10, 23))
    assert np.array_equal(trace.act_hist, opts[0].stats.act_hist)
    assert np.array_equal(trace.grad_hist, opts[0].stats.grad_hist)
    assert opts[1].stats.step == 22 and opts[1].stats.act_hist is not None
    _same_state(nets, opts)


def test_whole_batch_index_and_mse_targets():
    X, _, rng = _data(n=24)
    Y = rng.normal(size=(24, 2))
    nets, opts = _pair(dict(depth=2, width=8), "adam", {}, loss="mse", n_out=2)
    one = [opts[0].step(X, Y) for _ in range(7)]
    trace = opts[1].run(X, Y, np.zeros((7, 0), dtype=np.int64))
    assert np.array_equal(trace.loss, one)
    assert trace.batch_size == 24
    _same_state(nets, opts)
    # gathered rows of regression targets
    index = np.stack([rng.permutation(24)[:8] for _ in range(5)])
    one = [opts[0].step(X[i], Y[i]) for i in index]
    assert np.array_equal(opts[1].run(X, Y, index).loss, one)
    _same_state(nets, opts)


def test_run_stops_at_the_diverged_step_and_keeps_the_last_finite_state():
    X, y, rng = _data(n=16)
    model = dict(depth=12, width=16, activation="relu", init="normal", init_scale=3.0, norm="batch")
    nets, opts = _pair(model, "sgd", dict(lr=1e100))  # BN keeps the hidden layers finite; the output layer blows up
    index = np.tile(np.arange(16), (60, 1))
    diverged_at = None
    for k, i in enumerate(index):
        opts[0].step(X[i], y[i])
        if opts[0].stats.diverged:
            diverged_at = k
            break
    assert diverged_at is not None
    trace = opts[1].run(X, y, index)
    assert len(trace) == diverged_at + 1
    assert trace.diverged[-1] and not trace.diverged[:-1].any()
    assert opts[1].stats.diverged and opts[1].stats.step == diverged_at
    _same_state(nets, opts)
    for v in nets[1].state_dict().values():
        assert np.all(np.isfinite(v))


def test_run_rejects_bad_indices_and_labels():
    X, y, _ = _data(n=10)
    net = tuisim.Network(n_in=2, n_out=3, depth=2, width=4)
    opt = tuisim.Optimizer(net)
    with pytest.raises(ValueError, match="rows of X"):
        opt.run(X, y, np.array([[0, 10]]))
    with pytest.raises(ValueError, match="2-D integer"):
        opt.run(X, y, np.array([0, 1]))
    with pytest.raises(ValueError, match="labels must lie"):
        opt.run(X, np.full(10, 7), np.array([[0, 1], [2, 3]]))
    assert len(opt.run(X, y, np.zeros((0, 4), dtype=np.int64))) == 0
    assert opt.steps == 0


@pytest.mark.parametrize("model,opt,okw", CASES[:2])
def test_run_evaluates_the_test_set_before_the_flagged_steps(model, opt, okw):
    X, y, rng = _data()
    Xt, yt, _ = _data(n=30, seed=5)
    index = np.stack([rng.permutation(len(X))[:16] for _ in range(9)])
    flags = np.array([1, 0, 0, 1, 1, 0, 0, 0, 1], dtype=bool)
    nets, opts = _pair(model, opt, okw)
    expect = []
    for k, i in enumerate(index):
        expect.append(nets[0].evaluate(Xt, yt) if flags[k] else (np.nan, np.nan))
        opts[0].step(X[i], y[i])
    trace = opts[1].run(X, y, index, test=(Xt, yt), evaluate=flags)
    assert np.array_equal(trace.test_loss, [e[0] for e in expect], equal_nan=True)
    assert np.array_equal(trace.test_accuracy, [e[1] for e in expect], equal_nan=True)
    _same_state(nets, opts)
    with pytest.raises(ValueError, match="one boolean per row"):
        opts[1].run(X, y, index, test=(Xt, yt), evaluate=flags[:3])
