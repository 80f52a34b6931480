"""Percentiles of |dL/dz| read off the engine's histograms, and their bounded series."""

import numpy as np
import pytest

from tuisim.run.percentiles import GRAD_RANGE, PERCENTILES, PercentileSeries, histogram_percentiles

BINS = 40
WIDTH = (GRAD_RANGE[1] - GRAD_RANGE[0]) / BINS  # 0.4 decade


def counts_of(values: np.ndarray) -> tuple[np.ndarray, float]:
    """As the engine counts them (tuisim.core.step._histogram): log10 |v| in BINS bins,
    the end bins taking what lies beyond, exact zeros apart."""
    v = values[values != 0]
    lv = np.log10(np.abs(v))
    k = np.clip(np.floor((lv - GRAD_RANGE[0]) / WIDTH), 0, BINS - 1).astype(int)
    return np.bincount(k, minlength=BINS).astype(float), float(np.sum(values == 0))


@pytest.mark.parametrize("kind", ["lognormal", "loguniform", "two_modes", "with_zeros", "mostly_zeros"])
def test_within_one_bin_of_numpy(kind):
    rng = np.random.default_rng(3)
    n = 20000
    if kind == "lognormal":
        v = 10 ** rng.normal(-4, 1.5, n) * rng.choice([-1, 1], n)
    elif kind == "loguniform":
        v = 10 ** rng.uniform(-12, 1, n)
    elif kind == "two_modes":
        v = np.concatenate([10 ** rng.normal(-9, 0.3, n // 2), 10 ** rng.normal(-2, 0.3, n // 2)])
    elif kind == "with_zeros":
        v = np.where(rng.random(n) < 0.15, 0.0, 10 ** rng.normal(-3, 1, n))
    else:
        v = np.where(rng.random(n) < 0.6, 0.0, 10 ** rng.normal(-3, 1, n))
    c, z = counts_of(v)
    got = histogram_percentiles(c[None], np.array([z]))[0]
    # numpy's percentile lies between the values ranked below and above it (in a gap
    # between two modes, anywhere between); the histogram's within a bin of that span
    below = np.percentile(np.abs(v), PERCENTILES, method="lower")
    above = np.percentile(np.abs(v), PERCENTILES, method="higher")
    for g, lo, hi in zip(got, below, above):
        if hi == 0:
            assert g == -np.inf  # the percentile is an exact zero: "=0"
        elif lo > 0:
            assert np.log10(lo) - WIDTH - 1e-9 <= g <= np.log10(hi) + WIDTH + 1e-9, (g, lo, hi)
    if kind == "two_modes":  # the median falls in the gap: [1e-9ish, 1e-2ish], not in a mode's middle
        assert -9 < got[2] < -2


def test_the_spread_is_read_better_than_a_bin_on_smooth_data():
    """Log-uniform within bins: the interpolation is close to exact, not merely within a bin."""
    v = 10 ** np.linspace(-10, -2, 100001)
    c, z = counts_of(v)
    got = histogram_percentiles(c[None], np.array([z]))[0]
    want = np.log10(np.percentile(v, PERCENTILES))
    assert np.max(np.abs(got - want)) < 0.01


def test_a_layer_without_values_is_nan_and_layers_are_apart():
    c = np.zeros((2, BINS))
    c[1, 10] = 5
    p = histogram_percentiles(c, np.zeros(2))
    assert np.isnan(p[0]).all()
    lo = GRAD_RANGE[0] + 10 * WIDTH
    assert np.all((p[1] >= lo) & (p[1] <= lo + WIDTH))


def _hist(level: float, layers: int = 3) -> tuple[np.ndarray, np.ndarray]:
    c = np.zeros((layers, BINS))
    c[:, int(level)] = 10
    return c, np.zeros(layers)


def test_series_is_bounded_and_thinned_by_doubling_buckets():
    s = PercentileSeries(3, limit=64)
    size = s.nbytes()
    thinnings = 0
    for step in range(0, 100000, 7):
        before = s.n
        s.add(step, *_hist(step % BINS))
        assert s.n <= 64
        if s.n <= before:  # it thinned: all but the newest quarter (and the new one) one per bucket
            thinnings += 1
            old = s.snapshot().steps[:s.n - 17]
            assert len(np.unique(old // s.width)) == len(old) <= 32
            assert np.all(np.diff(s.snapshot().steps[-17:]) == 7)  # the newest at full resolution
    assert thinnings > 5
    assert s.nbytes() == size  # memory flat: the arrays never grow
    v = s.snapshot()
    assert v.steps[0] == 0  # the first stays
    assert np.all(np.diff(v.steps) > 0)
    assert s.width > 1 and (s.width & (s.width - 1)) == 0
    # each kept snapshot still holds the percentiles of its own step
    for step, pct in zip(v.steps, v.pct):
        k = step % BINS
        assert np.all((pct >= GRAD_RANGE[0] + k * WIDTH - 1e-5) & (pct <= GRAD_RANGE[0] + (k + 1) * WIDTH + 1e-5))


def test_a_snapshot_does_not_change_under_its_reader():
    s = PercentileSeries(2, limit=16)
    for step in range(16):
        s.add(step, *_hist(5, 2))
    v = s.snapshot()
    before = (v.steps.copy(), v.pct.copy())
    for step in range(16, 200):
        s.add(step, *_hist(30, 2))
    assert np.array_equal(v.steps, before[0]) and np.array_equal(v.pct, before[1])


def test_zero_share_and_a_step_taken_twice_is_kept_once():
    s = PercentileSeries(1)
    c = np.zeros((1, BINS))
    c[0, 20] = 30
    s.add(5, c, np.array([70.0]))
    s.add(5, c, np.array([0.0]))
    v = s.snapshot()
    assert v.n == 1 and v.zero[0, 0] == pytest.approx(0.7)
    assert np.isneginf(v.pct[0, 0, :3]).all() and np.isfinite(v.pct[0, 0, 3:]).all()
