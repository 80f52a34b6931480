"""The partial grid the app draws from (means with NaN for cells not done, heatmap and
curve shapes, spread over seeds) and the map claims' quantities, on made-up results."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sweep_support import TINY

from tuisim.scenario.sweep import SweepExpect
from tuisim.sweep import FAILED, OK, Result, SweepResults, load_sweep
from tuisim.sweep.expects import check_sweep_expect


def fill(plan, value_of, skip=lambda t: False, status=lambda t: OK) -> SweepResults:
    res = SweepResults(plan.grid)
    for t in plan.tasks:
        if not skip(t):
            s = status(t)
            res.add(Result(t.id, t.cell, t.variant, t.seed, t.key, value=value_of(t), status=s))
    return res


def test_partial_grid_means_spread_and_counts():
    plan = load_sweep(TINY)  # axes model.depth (2), train.lr (3), variant (2); seeds 5, 6
    res = fill(plan, lambda t: t.cell[0] + 10 * t.cell[1] + (t.seed - 5), skip=lambda t: t.cell[1] == 2)
    assert (res.done, res.total, res.failed) == (16, 24, 0)
    m = res.means()
    assert m.shape == (2, 3, 2)
    assert np.isnan(m[:, 2, :]).all() and m[1, 1, 0] == 11.5
    s = res.spread()
    assert s[1, 1, 0] == pytest.approx(math.sqrt(0.5)) and np.isnan(s[:, 2, :]).all()
    assert res.counts()[0, 0, 0] == 2 and res.counts()[0, 2, 0] == 0


def test_failed_runs_count_but_give_no_value():
    plan = load_sweep(TINY)
    res = fill(plan, lambda t: 1.0, status=lambda t: FAILED if t.seed == 6 and t.cell == (0, 0, 0) else OK)
    assert res.failures()[0, 0, 0] == 1 and res.counts()[0, 0, 0] == 1 and res.means()[0, 0, 0] == 1.0
    assert res.failed == 1 and res.done == 24


def test_heatmap_is_rows_of_the_second_axis():
    plan = load_sweep(TINY)
    res = fill(plan, lambda t: 100 * t.cell[0] + t.cell[1] + 0.5 * t.cell[2])
    x, y, z = res.heatmap("relu")
    assert (x.key, y.key, z.shape) == ("model.depth", "train.lr", (3, 2))
    assert z[2, 1] == 102.5  # row: lr index 2, column: depth index 1
    assert y.log and not x.log and x.numeric  # lr spans two decades: a log axis
    with pytest.raises(ValueError, match="curves need one axis"):
        res.curves()


def test_curves_of_a_one_axis_sweep(tmp_path):
    text = TINY.read_text()
    one_axis = text[:text.index("[[sweep.axis]]")] + '[[sweep.axis]]\nkey = "train.lr"\nvalues = [0.01, 0.1]\n'
    (tmp_path / "one.toml").write_text(one_axis)
    plan = load_sweep(tmp_path / "one.toml")
    res = fill(plan, lambda t: t.cell[0] + (t.variant == "relu") + (t.seed - 5), skip=lambda t: t.cell == (1, 0))
    x, means, spread = res.curves()
    assert x.key == "train.lr" and list(means) == ["tanh", "relu"]
    assert means["tanh"][0] == 0.5 and np.isnan(means["tanh"][1]) and means["relu"][1] == 2.5
    assert spread["relu"][1] == pytest.approx(math.sqrt(0.5))


def expect(**kw) -> SweepExpect:
    base = dict(claim=None, variant="tanh", quantity="value", axis=None, at=(), level=None, relative_to=None,
                relative_at=None, below=None, above=None, between=None, equals=None, line=None)
    return SweepExpect(**{**base, **kw})


@pytest.fixture(scope="module")
def made_up():
    """tanh: value = lr index - depth index; relu: 2 x that, on every seed."""
    plan = load_sweep(TINY)
    return fill(plan, lambda t: (t.cell[1] - t.cell[0]) * (1 if t.variant == "tanh" else 2))


@pytest.mark.parametrize("kw, value", [
    (dict(at=(("model.depth", 2), ("train.lr", 0.1))), 2.0),
    (dict(at=(("train.lr", 0.1),)), 1.5),  # depth is averaged over
    (dict(quantity="argmax", axis="train.lr"), 0.1),
    (dict(quantity="argmin", axis="model.depth"), 3),
    (dict(quantity="trend", axis="train.lr"), 1.0),
    (dict(quantity="first_above", axis="train.lr", level=0.2, at=(("model.depth", 3),)), 0.1),
    (dict(quantity="last_below", axis="train.lr", level=1.5, at=(("model.depth", 2),)), 0.01),
    (dict(quantity="first_above", axis="train.lr", level=5), math.nan),
    (dict(at=(("train.lr", 0.1),), relative_to="relu"), 0.5),
    (dict(at=(("train.lr", 0.1),), relative_at=(("train.lr", 0.01),)), 3.0),
    (dict(variant=None, quantity="argmax", axis="variant", at=(("train.lr", 0.1),)), "relu"),
])
def test_quantities(made_up, kw, value):
    c = check_sweep_expect(expect(**kw, above=-1e9), made_up)
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(c.value) and not c.passed
    else:
        assert c.value == pytest.approx(value) if not isinstance(value, str) else c.value == value


def test_comparisons_and_skips(made_up):
    assert check_sweep_expect(expect(quantity="trend", axis="train.lr", below=-0.5), made_up).passed is False
    c = check_sweep_expect(expect(variant=None, quantity="argmax", axis="variant", equals="relu"), made_up)
    assert c.passed and c.line().startswith("PASS  argmax along variant = 'relu'")
    c = check_sweep_expect(expect(at=(("train.lr", 0.5),), below=1), made_up)
    assert c.skipped and c.line().startswith("SKIP") and "train.lr = 0.5 is not in this grid" in c.text


def test_claims_are_judged_only_on_complete_cells():
    """A map cut short (seed-major: every cell at seed 5 but lr 0.1 at depth 3, then lr 0.001
    and 0.01 at seed 6): a claim that reads a cell with a seed missing is not judged, and is
    not a pass; one whose cells are all complete is judged as on the full map."""
    plan = load_sweep(TINY)
    value = lambda t: (t.cell[1] - t.cell[0]) * (1 if t.variant == "tanh" else 2)  # noqa: E731
    cut = fill(plan, value, skip=lambda t: t.cell[1] == 2 and (t.seed == 6 or t.cell[0] == 1))
    assert cut.missing()[0, 2, 0] == 1 and cut.missing()[1, 2, 0] == 2 and (cut.missing()[:, :2, :] == 0).all()
    judged = check_sweep_expect(expect(at=(("train.lr", 0.01),), above=-1e9), cut)  # lr 0.01 at both depths
    assert judged.passed and judged.value == pytest.approx(0.5) and not judged.missing
    # the full map's argmax is lr 0.1; with the cells that ran (NaN left out) it would be 0.01 at depth 3
    c = check_sweep_expect(expect(quantity="argmax", axis="train.lr", below=0.05, at=(("model.depth", 3),)), cut)
    assert c.missing == "1 of the 3 cells it reads has runs missing"
    assert c.value is None and not c.passed and not c.skipped
    assert c.line() == "MISSING  tanh: argmax along train.lr at model.depth=3: not judged: 1 of the 3 cells it " \
                       "reads has runs missing"
    c = check_sweep_expect(expect(quantity="argmax", axis="train.lr", above=0.005), cut)
    assert c.missing == "2 of the 6 cells it reads have runs missing" and not c.passed
    c = check_sweep_expect(expect(at=(("model.depth", 2), ("train.lr", 0.1)), above=-1e9), cut)
    assert c.missing == "its cell has runs missing" and not c.passed  # one seed of two is there
    c = check_sweep_expect(expect(at=(("train.lr", 0.001),), relative_at=(("train.lr", 0.1),), below=1e9), cut)
    assert c.missing == "2 of the 4 cells it reads have runs missing" and not c.passed
    # a failed run completes its cell: the claim is judged on the seeds that gave a value
    failed = fill(plan, value, status=lambda t: FAILED if t.seed == 6 and t.cell[1] == 2 else OK)
    assert not failed.missing().any()
    c = check_sweep_expect(expect(quantity="argmax", axis="train.lr", above=0.005), failed)
    assert c.passed and c.value == 0.1
    # a claim this grid cannot answer stays a skip, missing cells or not
    assert check_sweep_expect(expect(at=(("train.lr", 0.5),), below=1), cut).skipped


def test_claims_name_a_titled_axis_as_the_map_does(tmp_path):
    """An axis with a title and tick labels of its own (sigma_w^2 = 0.5, 1, 4 on the key
    model.init_scale = 0.7071, 1, 2): the claims' lines say its title and ticks, as the
    map's axis does, and a point of it also in the key's terms the bounds are in."""
    text = TINY.read_text()
    titled = text.replace('key = "train.lr"\nfrom = 0.001\nto = 0.1\nnum = 3\nscale = "log"',
                          'key = "model.init_scale"\nlabel = "sigma_w^2"\nvalues = [0.7071, 1.0, 2.0]\n'
                          'labels = ["0.5", "1", "4"]')
    titled = titled[:titled.index("[sweep.quick]")]
    (tmp_path / "titled.toml").write_text(titled)
    plan = load_sweep(tmp_path / "titled.toml")
    res = fill(plan, lambda t: [0.5, 0.9, 0.6][t.cell[1]] - 0.1 * t.cell[0])
    c = check_sweep_expect(expect(quantity="argmax", axis="model.init_scale", between=[0.99, 1.23]), res)
    assert c.passed and c.text == "tanh: argmax along sigma_w^2 = 1 (model.init_scale = 1: between 0.99 and 1.23)"
    c = check_sweep_expect(expect(at=(("model.depth", 3), ("model.init_scale", 0.7071)), below=0.7), res)
    assert c.text.startswith("tanh: value at model.depth=3, sigma_w^2=0.5 = 0.4")
    c = check_sweep_expect(expect(quantity="trend", axis="model.depth", at=(("model.init_scale", 2.0),),
                                  below=0), res)
    assert c.text.startswith("tanh: trend along model.depth at sigma_w^2=4: ")  # (2 depths: not checked)
