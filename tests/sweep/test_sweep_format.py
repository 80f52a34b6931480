"""The [sweep] table: axes (values and ranges), the measure, the quick grid, the claims,
and --grid; bad sweeps are in tests/data/bad_scenarios/sweep_*.toml (checked by
tests/scenario/test_bad_scenarios.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuisim.scenario import MEASURES, METRICS, QUANTITIES, ScenarioError, bundled_scenarios, parse_scenario
from tuisim.scenario.sweep import parse_grid_values

HEAD = 'title = "t"\n[data]\nname = "moons"\n[model]\ndepth = 3\n'
TWO = HEAD + '[[variant]]\nlabel = "a"\n[[variant]]\nlabel = "b"\nmodel.norm = "batch"\n'


def sweep(text: str, grid=(), overrides=()):
    return parse_scenario(text, Path("s.toml"), overrides, grid=grid).sweep


def problems(text: str, grid=(), overrides=()) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, Path("s.toml"), overrides, grid=grid)
    return str(info.value)


def test_no_sweep_table():
    assert sweep(HEAD) is None


def test_values_ranges_labels_and_defaults():
    s = sweep(HEAD + '[sweep]\n[[sweep.axis]]\nkey = "model.depth"\nvalues = [2, 4.0, 8]\n'
                     '[[sweep.axis]]\nkey = "train.lr"\nfrom = 1e-4\nto = 1\nnum = 5\nscale = "log"\n'
                     '[[sweep.axis]]\nkey = "data.noise"\nfrom = 0\nto = 0.3\nstep = 0.1\nlabel = "noise"\n'
                     '[[sweep.axis]]\nkey = "model.norm"\nvalues = ["none", "layer"]\nlabels = ["-", "LN"]\n')
    assert (s.measure, s.seeds, s.layer, s.at) == ("train_loss", 1, None, None)
    depth, lr, noise, norm = s.axes
    assert depth.values == (2, 4, 8) and depth.labels == ("2", "4", "8") and depth.label == "model.depth"
    assert lr.values == (1e-4, 1e-3, 1e-2, 0.1, 1.0) and lr.numeric
    assert noise.values == (0.0, 0.1, 0.2, 0.3) and noise.label == "noise"
    assert norm.values == ("none", "layer") and norm.labels == ("-", "LN") and not norm.numeric


def test_integer_keys_round_a_range():
    (a,) = sweep(HEAD + '[sweep]\n[[sweep.axis]]\nkey = "model.depth"\nfrom = 2\nto = 32\nnum = 5\nscale = "log"\n'
                 ).axes
    assert a.values == (2, 4, 8, 16, 32) and all(isinstance(v, int) for v in a.values)


def test_measure_options_follow_the_expect_rules():
    s = sweep(HEAD + '[sweep]\nmeasure = "grad_norm_ratio"\nat = 0\n')
    assert (s.measure, s.at) == ("grad_norm_ratio", 0)
    s = sweep(HEAD + '[sweep]\nmeasure = "grad_norm"\n')
    assert (s.layer, s.at) == ("mean", "end")
    s = sweep(HEAD + '[sweep]\nmeasure = "steps_to_loss"\nthreshold = 0.3\n')
    assert s.threshold == 0.3
    text = problems(HEAD + '[sweep]\nmeasure = "train_accuracy"\nat = 3\n')
    assert "s.toml:8: sweep.at: does not apply to train_accuracy" in text


def test_variant_keys_and_steps_are_axes():
    s = sweep(TWO + '[sweep]\n[[sweep.axis]]\nkey = "variant.1.train.lr"\nvalues = [0.1, 0.2]\n'
                    '[[sweep.axis]]\nkey = "steps"\nvalues = [10, 20]\n')
    assert [a.key for a in s.axes] == ["variant.1.train.lr", "steps"]
    assert "variant 2: the scenario has 2 [[variant]] tables" in problems(
        TWO + '[sweep]\n[[sweep.axis]]\nkey = "variant.2.train.lr"\nvalues = [0.1]\n')


def test_quick_grid_replaces_axes_values_and_seeds():
    s = sweep(HEAD + '[sweep]\nseeds = 3\n[[sweep.axis]]\nkey = "model.depth"\nvalues = [2, 4, 8]\n'
                     '[[sweep.axis]]\nkey = "train.lr"\nvalues = [0.1, 0.2]\n'
                     '[sweep.quick]\nseeds = 1\n[[sweep.quick.axis]]\nkey = "model.depth"\nvalues = [2, 8]\n')
    q = s.quick()
    assert q.seeds == 1 and [a.values for a in q.axes] == [(2, 8), (0.1, 0.2)]
    assert s.seeds == 3 and s.axes[0].values == (2, 4, 8)


def test_claims():
    s = sweep(TWO + '[sweep]\n[[sweep.axis]]\nkey = "model.depth"\nvalues = [2, 4, 8]\n'
                    '[[sweep.expect]]\nvariant = "a"\nquantity = "last_above"\naxis = "model.depth"\nlevel = 0.9\n'
                    'relative_to = "b"\nabove = 1\n'
                    '[[sweep.expect]]\nquantity = "argmax"\naxis = "variant"\nat = { model.depth = 4 }\n'
                    'equals = "b"\n')
    e0, e1 = s.expects
    assert (e0.variant, e0.quantity, e0.level, e0.relative_to, e0.line) == ("a", "last_above", 0.9, "b", 15)
    assert (e1.variant, e1.axis, e1.at, e1.equals) == (None, "variant", (("model.depth", 4),), "b")


@pytest.mark.parametrize("text, expected", [
    ("5,10,20", {"values": [5, 10, 20]}),
    ("[5, 10]", {"values": [5, 10]}),
    ("none,batch", {"values": ["none", "batch"]}),
    ("1e-4:1:5:log", {"from": 1e-4, "to": 1, "num": 5, "scale": "log"}),
    ("0:1:3", {"from": 0, "to": 1, "num": 3, "scale": "linear"}),
    ("{from = 1, to = 2, step = 0.5}", {"from": 1, "to": 2, "step": 0.5}),
    ("7", {"values": [7]}),
])
def test_grid_values(text, expected):
    assert parse_grid_values(text) == expected


def test_grid_adds_and_replaces_axes_and_makes_a_sweep():
    s = sweep(HEAD, grid=["model.width=8,16", "train.lr=1e-3:1e-1:3:log"])
    assert [(a.key, a.values) for a in s.axes] == [("model.width", (8, 16)), ("train.lr", (1e-3, 1e-2, 0.1))]
    base = HEAD + ('[sweep]\n[[sweep.axis]]\nkey = "model.depth"\nvalues = [2, 4, 8]\nlabels = ["a", "b", "c"]\n'
                   '[sweep.quick]\n[[sweep.quick.axis]]\nkey = "model.depth"\nvalues = [2]\n'
                   '[[sweep.expect]]\nat = { "model.depth" = 4 }\nbelow = 1\n')
    s = sweep(base, grid=["model.depth=3,5"])
    assert s.axes[0].values == (3, 5) and s.axes[0].labels == ("3", "5")  # the file's labels are dropped
    assert s.quick().axes[0].values == (3, 5)  # and its quick values: --grid wins
    assert s.expects[0].at == (("model.depth", 4),)  # kept; the check says it is not in the grid


def test_grid_problems_name_the_option():
    text = problems(HEAD, grid=["model.depth=2,x", "modle.depth=3", "nothing"])
    assert "--grid model.depth=2,x: sweep.axis[0].values[1]: must be an integer >= 1 and <= 200, not the text 'x'" \
        in text
    assert "--grid modle.depth=3: sweep.axis[1].key: a sweep key is <table>.<key>" in text
    assert "--grid nothing: expected KEY=VALUES" in text


def test_every_measure_and_quantity_is_documented_and_accepted():
    for name in MEASURES:
        extra = "threshold = 0.5\n" if name == "steps_to_loss" else ""
        assert sweep(HEAD + f'[sweep]\nmeasure = "{name}"\n{extra}').measure == name
    assert {n for n, m in METRICS.items() if m.applies != "surface"} <= set(MEASURES)  # sweeps map networks
    assert set(QUANTITIES) == {"value", "argmax", "argmin", "trend", "first_above", "first_below", "last_above",
                               "last_below"}


def test_the_bundled_sweeps_have_claims_and_a_quick_grid():
    sweeps = [p for p in bundled_scenarios() if p.stem.startswith("sweep_")]
    assert {p.stem for p in sweeps} >= {"sweep_tanh_phase", "sweep_lr_batchnorm", "sweep_depth_degradation"}
    for p in sweeps:
        s = parse_scenario(p.read_text(), p).sweep
        assert s is not None and s.expects and s.has_quick, p.stem
