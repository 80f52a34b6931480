"""The engine's histograms against the NumPy reference's, bin for bin, zero count
included, for every activation; and exact zeros (a ReLU unit that is off, the dL/dz it
passes back) counted in the zero bin, not in the smallest or the middle bin."""

import numpy as np
import pytest

import tuisim
from tuisim.core import reference as ref
from tuisim.core import registry

BINS = 16


def _batch(seed=3, B=12, n_in=3, n_out=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(B, n_in)) * 2, rng.integers(0, n_out, B)


def _both(**cfg):
    net = tuisim.Network(n_in=3, n_out=3, depth=3, width=6, seed=1, **cfg)
    X, y = _batch()
    ref_net = ref.ReferenceNet(net.config, {k: v.copy() for k, v in net.state_dict().items()})
    _, _, want = ref_net.loss_and_grads(X, y, train=False, histograms=BINS)
    net.loss_and_grads(X, y, train=False, histograms=BINS)
    return net.stats, want


@pytest.mark.parametrize("activation", list(registry.ACTIVATIONS))
def test_engine_histograms_equal_the_reference(activation):
    st, want = _both(activation=activation)
    for key in ("act_hist", "grad_hist", "act_zero", "grad_zero"):
        np.testing.assert_array_equal(getattr(st, key), want[key], err_msg=key)


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_engine_histograms_equal_the_reference_with_a_norm(norm):
    st, want = _both(activation="relu", norm=norm)
    for key in ("act_hist", "grad_hist", "act_zero", "grad_zero"):
        np.testing.assert_array_equal(getattr(st, key), want[key], err_msg=key)


def test_relu_zeros_are_in_the_zero_bin_not_the_smallest():
    net = tuisim.Network(n_in=3, n_out=3, depth=4, width=32, activation="relu", seed=0)
    X, y = _batch(B=64)
    net.loss_and_grads(X, y, histograms=BINS)
    st = net.stats
    hidden = slice(0, 4)
    # about half of a He-initialised ReLU layer's outputs are 0, and so are their dL/dz
    off = st.act_zero[hidden] / (64 * 32)
    assert np.all((off > 0.3) & (off < 0.7)), off
    np.testing.assert_array_equal(st.grad_zero[hidden], st.act_zero[hidden])
    # the 1e-14 bin holds no zeros: nothing of a healthy net's dL/dz is that small
    assert np.all(st.grad_hist[hidden, 0] == 0)
    # and the activations' bin around 0 holds only the small positive ones
    z = net.forward(X)  # logits: not exactly 0
    assert st.act_zero[4] == np.count_nonzero(z == 0) == 0
    lo, hi = -4.0, 4.0
    middle = int((0 - lo) / ((hi - lo) / BINS))
    assert st.act_hist[0, middle] < st.act_zero[0]


@pytest.mark.parametrize("values,lo,hi,logabs,counts,zeros", [
    ([np.nan, np.inf, -np.inf, 0.0, 1e-300, 5.0], -4.0, 4.0, False, [1, 0, 0, 0, 1, 0, 0, 2], 1),
    ([0.0, -0.0, 1e-20, 1e-3, np.inf, np.nan], -14.0, 2.0, True, [1, 0, 0, 0, 0, 1, 0, 1], 2),
])
def test_nan_is_counted_nowhere_and_inf_in_the_end_bins(values, lo, hi, logabs, counts, zeros):
    from tuisim.core.step import _histogram

    got, z = ref._histogram(np.array(values), lo, hi, 8, logabs=logabs)
    np.testing.assert_array_equal(got, counts)
    assert z == zeros
    out = np.zeros(9)
    _histogram(np.array([values]), lo, hi, out, logabs)
    np.testing.assert_array_equal(out, counts + [zeros])
