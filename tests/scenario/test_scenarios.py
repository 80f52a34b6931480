"""Scenarios that load: defaults filled, variants merged, overrides applied and checked,
every registry name and every metric accepted, the reference complete."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tuisim.core import registry
from tuisim.core.params import MODEL_PARAMS, OPTIMIZER_PARAMS
from tuisim.data import DATA_PARAMS, DATASETS, load_dataset
from tuisim.scenario import (EXPECT_PARAMS, METRICS, PRETRAIN_PARAMS, RUN_PARAMS, TOP_PARAMS, VARIANT_PARAMS,
                             ScenarioError, bundled_scenarios, find_scenario, format_reference_markdown,
                             load_scenario, parse_scenario, parse_value)
from tuisim.scenario import load as load_module
from tuisim.scenario.locate import find_line, key_lines

EXAMPLE = Path(__file__).parents[1] / "data" / "good_scenarios" / "example.toml"
MINIMAL = 'title = "t"\n[data]\nname = "spirals"\n'


def parse(text: str, overrides=(), path=None):
    return parse_scenario(text, path, overrides)


def problems(text: str, overrides=(), path=None) -> str:
    with pytest.raises(ScenarioError) as info:
        parse(text, overrides, path)
    return str(info.value)


# -- the example -----------------------------------------------------------------------------

def test_example_loads_with_every_default_filled():
    sc = load_scenario(EXAMPLE)
    assert (sc.name, sc.title, sc.lessons, sc.seed, sc.steps) == (
        "example", "Sigmoid gradients vanish with depth", ["L1.2", "L1.5"], 0, 1500)
    assert sc.path == EXAMPLE and sc.source == EXAMPLE.read_text() and sc.sweep is None
    assert "[model]\ndepth = 3" in sc.description
    assert sc.data == {"name": "spirals", "samples": 600, "noise": 0.1, "classes": 3, "features": None,
                       "test_fraction": 0.2, "path": None, "task": "classification"}
    sigmoid, relu = sc.variants
    assert (sigmoid.label, relu.label) == ("sigmoid, N(0, 1)", "relu, He")
    assert sigmoid.model is not relu.model
    for v in sc.variants:
        assert v.train["t_max"] == 1500
        assert set(v.model) == set(MODEL_PARAMS)
        assert set(v.train) == set(OPTIMIZER_PARAMS) | set(RUN_PARAMS)
        assert set(v.optimizer_kwargs) == set(OPTIMIZER_PARAMS)
        assert v.data == sc.data and v.pretrain is None
        assert (v.model["depth"], v.train["lr"], v.train["loss"], v.train["batch_size"]) == (20, 0.1,
                                                                                            "cross_entropy", 64)
        assert (v.train["eval_every"], v.train["shuffle"], v.model["dropout"]) == (10, True, 0.0)
    assert (sigmoid.model["activation"], sigmoid.model["init"]) == ("sigmoid", "normal")
    assert (relu.model["activation"], relu.model["init"]) == ("relu", "he_normal")
    assert sc.variant("relu, He") is relu


def test_example_expectations():
    sc = load_scenario(EXAMPLE)
    lines = EXAMPLE.read_text().splitlines()
    headers = [i + 1 for i, s in enumerate(lines) if s.strip() == "[[expect]]"]
    assert [e.line for e in sc.expects] == headers
    ratio, relative, grad, diverged = sc.expects
    assert (ratio.metric, ratio.at, ratio.layer, ratio.below) == ("grad_norm_ratio", 0, None, 1e-4)
    assert (relative.variant, relative.relative_to, relative.at) == ("relu, He", "sigmoid, N(0, 1)", "end")
    assert (grad.layer, grad.at, grad.above) == (0, "mean", 1e-3)
    assert (diverged.equals, diverged.at, diverged.layer) == (False, None, None)
    assert relative.claim == "relu's final loss is below half of sigmoid's"


def test_scenario_is_frozen():
    sc = load_scenario(EXAMPLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.steps = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.variants[0].label = "x"


# -- defaults and merging ------------------------------------------------------------------------

def test_minimal_scenario():
    sc = parse(MINIMAL)
    assert (sc.name, sc.path, sc.steps, sc.seed, sc.lessons, sc.description) == ("scenario", None, 1000, 0, [], "")
    (v,) = sc.variants
    assert v.label == "t"
    assert v.model == {k: p.default for k, p in MODEL_PARAMS.items()}
    assert v.train["loss"] == "cross_entropy" and v.train["batch_size"] == 64
    assert sc.data["classes"] == 3 and sc.data["noise"] == 0.2 and sc.expects == []
    assert v.train["t_max"] == 1000 == sc.steps
    assert parse(MINIMAL, ["steps=50"]).variants[0].train["t_max"] == 50
    assert parse(MINIMAL + "[train]\nt_max = 7\n", ["steps=50"]).variants[0].train["t_max"] == 7


def test_loss_defaults_to_mse_on_regression_data():
    sc = parse('title = "t"\n[data]\nname = "sine"\n[[variant]]\nlabel = "a"\n[[variant]]\nlabel = "b"\n'
               'data.name = "moons"\n')
    assert [v.train["loss"] for v in sc.variants] == ["mse", "cross_entropy"]


def test_loss_set_by_the_user_is_kept():
    sc = parse(MINIMAL + '[train]\nloss = "mse"\n')
    assert sc.variants[0].train["loss"] == "mse"
    sc = parse('title = "t"\n[data]\nname = "moons"\n[train]\nloss = "bce"\n')
    assert sc.variants[0].train["loss"] == "bce"


def test_single_unlabelled_variant_takes_the_title():
    sc = parse(MINIMAL + '[[variant]]\nmodel.depth = 5\n')
    assert sc.variants[0].label == "t" and sc.variants[0].model["depth"] == 5


def test_variants_deep_merge_every_table():
    sc = parse(MINIMAL + """
[model]
depth = 4
width = [8, 8, 8, 8]
[train]
optimizer = "adam"
lr = 0.01
[[variant]]
label = "base"
[[variant]]
label = "changed"
model.depth = 2
model.width = [16, 4]
train.lr = 0.5
data.name = "moons"
data.noise = 0.3
[variant.pretrain]
steps_per_layer = 50
""")
    base, changed = sc.variants
    assert (base.model["depth"], base.model["width"], base.train["lr"], base.pretrain) == (4, [8] * 4, 0.01, None)
    assert (changed.model["depth"], changed.model["width"], changed.train["lr"]) == (2, [16, 4], 0.5)
    assert changed.train["optimizer"] == "adam"  # inherited
    assert (changed.data["name"], changed.data["noise"], changed.data["classes"]) == ("moons", 0.3, 2)
    assert changed.pretrain == {"steps_per_layer": 50, "lr": 0.01, "optimizer": "adam", "batch_size": 64}
    assert sc.data["name"] == "spirals"


def test_pretrain_defaults_and_disabling():
    sc = parse(MINIMAL + '[train]\nbatch_size = "full"\n[pretrain]\n[[variant]]\nlabel = "with"\n'
                         '[[variant]]\nlabel = "without"\npretrain.steps_per_layer = 0\n')
    assert sc.variants[0].pretrain == {"steps_per_layer": 300, "lr": 0.01, "optimizer": "adam",
                                       "batch_size": "full"}
    assert sc.variants[1].pretrain is None


def test_sweep_is_validated():
    """(The sweep format's own tests are in tests/sweep/.)"""
    sc = parse(MINIMAL + '[sweep]\n[[sweep.axis]]\nkey = "model.depth"\nvalues = [2, 4, 8]\n')
    assert [(a.key, a.values) for a in sc.sweep.axes] == [("model.depth", (2, 4, 8))]
    assert "key is a [[sweep.axis]] key" in problems(MINIMAL + '[sweep]\nkey = "model.depth"\n')


def test_problems_in_a_shared_base_are_reported_once():
    text = MINIMAL + '[model]\nwidth = [8, 8]\n[[variant]]\nlabel = "a"\n[[variant]]\nlabel = "b"\n'
    assert problems(text).count("width lists 2 hidden layers but depth is 3") == 1


def test_variant_fixes_what_the_base_gets_wrong_together():
    """Cross-key rules apply to the merged variant, not to the base alone."""
    sc = parse(MINIMAL + '[model]\nwidth = [8, 8]\n[[variant]]\nmodel.depth = 2\n')
    assert sc.variants[0].model["depth"] == 2


# -- data files --------------------------------------------------------------------------------

def test_csv_path_is_relative_to_the_scenario(tmp_path):
    (tmp_path / "sub").mkdir()
    rows = "\n".join(f"{i},{i * i % 7},{i % 2}" for i in range(20))
    (tmp_path / "sub" / "pts.csv").write_text("a,b,label\n" + rows)
    scenario = tmp_path / "s.toml"
    scenario.write_text('title = "t"\n[data]\nname = "csv"\npath = "sub/pts.csv"\n[train]\nbatch_size = 16\n')
    sc = load_scenario(scenario)
    v = sc.variants[0]
    assert v.data["path"] == str((tmp_path / "sub" / "pts.csv").resolve()) == sc.data["path"]
    assert v.train["loss"] == "cross_entropy"
    ds = load_dataset(v.data, sc.seed)
    assert (ds.n_train, ds.n_test, ds.n_out) == (16, 4, 2)
    assert "batch_size 17 is larger than the training set (16 examples" in problems(
        scenario.read_text().replace("16", "17"), path=scenario)


# -- overrides ----------------------------------------------------------------------------------

def test_overrides_apply_to_the_top_level_base_and_variants():
    sc = load_scenario(EXAMPLE, ["steps=200", "model.depth=30", "train.lr=0.01", "variant.1.model.init=he_uniform",
                                 "model.width=[32, 32]", "model.depth=2", "data.name=blobs", "seed=4"])
    assert (sc.steps, sc.seed, sc.data["name"]) == (200, 4, "blobs")
    for v in sc.variants:
        assert (v.model["depth"], v.model["width"], v.train["lr"]) == (2, [32, 32], 0.01)
    assert sc.variants[1].model["init"] == "he_uniform" and sc.variants[0].model["init"] == "normal"


def test_override_adds_a_table():
    sc = parse(MINIMAL, ["pretrain.steps_per_layer=10", "train.shuffle=false", "title=Hello there"])
    assert sc.variants[0].pretrain["steps_per_layer"] == 10
    assert sc.variants[0].train["shuffle"] is False and sc.title == "Hello there"


@pytest.mark.parametrize("setting, words", [
    ("model.depth=x", "--set model.depth=x: model.depth: must be an integer >= 1 and <= 200, not the text 'x'"),
    ("model.activation=sigmoud", "--set model.activation=sigmoud: model.activation: unknown activation 'sigmoud'"),
    ("model.dpeth=3", "--set model.dpeth=3: model.dpeth: unknown key 'dpeth' in [model] (did you mean 'depth'?)"),
    ("variant.1.train.lr=-1", '--set variant.1.train.lr=-1: variant[1] ("relu, He").train.lr: must be a number > 0'),
    ("variant.5.model.depth=3", "--set variant.5.model.depth=3: variant.5: no such element; the scenario has 2 "
                                "variants (numbered from 0)"),
    ("depth", "--set depth: expected KEY=VALUE"),
    ("model.depth.x=3", "--set model.depth.x=3: model.depth is not a table: it is the integer 20"),
    ("model.depth=300", "--set model.depth=300: model.depth: must be an integer >= 1 and <= 200, not 300"),
    ("train.batch_size=1", None),
])
def test_bad_override(setting, words):
    overrides = [setting] + (["model.norm=batch"] if words is None else [])
    with pytest.raises(ScenarioError) as info:
        load_scenario(EXAMPLE, overrides)
    text = str(info.value)
    if words is None:  # a cross-key rule broken by two overrides: reported at one of them
        assert "--set train.batch_size=1: train.batch_size: batch norm needs batch_size >= 2" in text
    else:
        assert words in text
    assert all(p.line is None for p in info.value.problems)


def test_override_in_a_scenario_without_variants():
    assert "--set variant.0.model.depth=3: variant.0: the scenario has no [[variant]]" in problems(
        MINIMAL, ["variant.0.model.depth=3"])


def test_parse_value():
    assert parse_value("30") == 30 and parse_value("0.01") == 0.01 and parse_value("true") is True
    assert parse_value("[64, 32]") == [64, 32] and parse_value('"a b"') == "a b"
    assert parse_value("he_normal") == "he_normal" and parse_value("relu, He") == "relu, He"


# -- every registry name and every metric is accepted ------------------------------------------

NAME_PARAMS = [(table, key, name) for table, params in (("model", MODEL_PARAMS), ("train", OPTIMIZER_PARAMS),
                                                         ("pretrain", PRETRAIN_PARAMS))
               for key, p in params.items() if p.kind == "name" for name in p.choices]


@pytest.mark.parametrize("table, key, name", NAME_PARAMS, ids=[f"{t}.{k}={n}" for t, k, n in NAME_PARAMS])
def test_every_registry_name_is_accepted(table, key, name):
    extra = {"warmup": "warmup_steps = 10\n"}.get(name, "")
    data = "moons" if name == "bce" else ("sine" if name == "mse" else "spirals")
    sc = parse(f'title = "t"\n[data]\nname = "{data}"\n[{table}]\n{key} = "{name}"\n{extra}')
    got = sc.variants[0].pretrain if table == "pretrain" else getattr(sc.variants[0], table)
    assert got[key] == name


@pytest.mark.parametrize("name", [n for n in DATASETS if not DATASETS[n].from_file])
def test_every_generated_dataset_is_accepted(name):
    sc = parse(f'title = "t"\n[data]\nname = "{name}"\n')
    assert sc.data["name"] == name and sc.data["task"] == DATASETS[name].task


def expectation(metric: str) -> str:
    m = METRICS[metric]
    lines = [f'metric = "{metric}"']
    if m.layered:
        lines.append("layer = -1")
    if m.at is not None:
        lines.append(f'at = "{m.at[0]}"')
    if metric == "steps_to_loss":
        lines.append("threshold = 0.5")
    lines.append("equals = true" if m.value == "bool" else "below = 1e9")
    return "[[expect]]\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("metric", [n for n, m in METRICS.items() if m.applies != "surface"])
def test_every_metric_is_accepted(metric):
    sc = parse(MINIMAL + expectation(metric))
    (e,) = sc.expects
    assert e.metric == metric and e.variant == "t"
    assert (e.layer is not None) == METRICS[metric].layered
    assert (e.at is not None) == (METRICS[metric].at is not None)


def test_relative_expectations():
    sc = load_scenario(EXAMPLE)
    text = sc.source + ('\n[[expect]]\nvariant = "relu, He"\nmetric = "act_std"\nlayer = "min"\nat = 100\n'
                        'relative_at = "start"\nrelative_to = "sigmoid, N(0, 1)"\nbetween = [0.5, 2]\n')
    e = parse(text, path=EXAMPLE).expects[-1]
    assert (e.layer, e.at, e.relative_at, e.relative_to, e.between) == ("min", 100, "start", "sigmoid, N(0, 1)",
                                                                        (0.5, 2.0))


# -- finding scenarios --------------------------------------------------------------------------

def test_find_scenario_by_path_and_bundled_name(tmp_path, monkeypatch):
    (tmp_path / "b.toml").write_text(MINIMAL)
    (tmp_path / "a.toml").write_text(MINIMAL)
    monkeypatch.setattr(load_module, "bundled_dir", lambda: tmp_path)
    assert bundled_scenarios() == [tmp_path / "a.toml", tmp_path / "b.toml"]
    assert find_scenario("b") == tmp_path / "b.toml" == find_scenario("b.toml")
    assert find_scenario(EXAMPLE) == EXAMPLE
    assert load_scenario("a").name == "a"
    with pytest.raises(ScenarioError, match=r"no such scenario file or bundled scenario \(did you mean 'b'\?\); "
                                            r"bundled: a, b"):
        find_scenario("bb")


def test_bundled_scenarios_all_load():
    for path in bundled_scenarios():
        load_scenario(path)


# -- line numbers ----------------------------------------------------------------------------------

def test_key_lines():
    text = '''title = "x" # [model]
description = """
[model]
depth = 3
"""
lessons = ['L1.1',
  "L1.2"]
[model]
"depth" = 20   # quoted
width = [
  1, 2,
]
[[variant]]
label = "a"
[[variant]]
model = { init = "he_normal" }
[variant.train]
lr = 1
[ expect ]
x.y.z = 1
'''
    lines = key_lines(text)
    assert lines[("model", "depth")] == 9 and lines[("model", "width")] == 10
    assert lines[("variant", 0, "label")] == 14
    assert find_line(lines, ("variant", 1, "model", "init")) == 16
    assert lines[("variant", 1, "train", "lr")] == 18
    assert lines[("expect", "x", "y", "z")] == 20
    assert ("depth",) not in lines and lines[("lessons",)] == 6
    assert find_line(lines, ("nothing",)) is None


# -- the reference ------------------------------------------------------------------------------

def test_reference_names_every_key_dataset_and_metric():
    md = format_reference_markdown()
    for params in (TOP_PARAMS, DATA_PARAMS, MODEL_PARAMS, OPTIMIZER_PARAMS, RUN_PARAMS, PRETRAIN_PARAMS,
                   VARIANT_PARAMS, EXPECT_PARAMS):
        for key in params:
            assert f"| `{key}` |" in md, key
    for name in list(DATASETS) + list(METRICS):
        assert f"| `{name}` |" in md, name
    for name in registry.ACTIVATIONS:
        assert f'`"{name}"`' in md


def test_dataset_generation_uses_its_own_stream():
    """The data must not reuse the network's random numbers (same seed, PCG64)."""
    ds = load_dataset({"name": "linear", "samples": 10, "test_fraction": 0}, seed=0)
    first = np.random.default_rng(0).standard_normal(4)
    raw = ds.X_train * ds.x_std + ds.x_mean
    assert not np.isin(first.round(12), raw.round(12)).any()
