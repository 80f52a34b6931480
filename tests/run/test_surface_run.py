"""[surface] scenarios end to end: validation, the run, its records, files and claims."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tuisim.core.surface import Descent, Surface, oscillation, path_length
from tuisim.run import history as history_module
from tuisim.run.checks import metric_value
from tuisim.run.headless import run_headless
from tuisim.run.session import ScenarioRun
from tuisim.scenario import parse_scenario
from tuisim.scenario.metrics import METRICS

RAVINE = """
title = "ravine"
steps = 120
[surface]
name = "ravine"
condition = 50
start = [-8.0, 1.0]
[train]
optimizer = "sgd"
lr = 0.035
[[variant]]
label = "SGD"
[[variant]]
label = "momentum"
train.optimizer = "momentum"
[[variant]]
label = "adam"
train.optimizer = "adam"
train.lr = 0.5
"""


def scenario(text: str = RAVINE, *overrides: str):
    return parse_scenario(text, overrides=list(overrides))


def test_a_surface_scenario_validates_with_defaults():
    sc = scenario()
    assert sc.surface and len(sc.variants) == 3
    v = sc.variants[1]
    assert v.surface == {"name": "ravine", "params": {"condition": 50.0}, "start": (-8.0, 1.0), "noise": 0.0}
    assert v.model == {} and v.data == {} and v.pretrain is None
    assert "batch_size" not in v.train and v.train["optimizer"] == "momentum"
    plain = parse_scenario('title = "t"\n[surface]\nname = "rosenbrock"\n')
    assert plain.variants[0].surface["start"] == (-1.5, 2.0)
    assert plain.variants[0].surface["params"] == {"a": 1.0, "b": 100.0}


def test_the_path_is_the_engines_descent_step_for_step():
    sc = scenario()
    session = ScenarioRun(sc, threads=1)
    session.run(chunk=7)
    for v, run in zip(sc.variants, session.runs):
        d = Descent(Surface("ravine", condition=50), (-8.0, 1.0), **v.optimizer_kwargs)
        trace = d.run(120)
        h = run.history
        assert run.status == "done" and h.n == 120
        assert np.array_equal(h.column("position"), trace.position)
        assert np.array_equal(h.column("update"), trace.update)
        assert np.array_equal(h.column("loss"), trace.loss)
        assert np.array_equal(h.column("path_length"), path_length(trace.update))
        assert np.array_equal(h.column("oscillation"), oscillation(trace.update, 1))
        assert np.array_equal(run.position, d.position)


def test_chunks_do_not_change_a_noisy_path():
    text = RAVINE.replace('start = [-8.0, 1.0]', 'start = [-8.0, 1.0]\nnoise = 2.0')
    one = ScenarioRun(scenario(text), threads=1)
    one.advance(120)
    many = ScenarioRun(scenario(text), threads=1)
    for n in (1, 2, 5, 13, 99):
        many.advance(n)
    for a, b in zip(one.runs, many.runs):
        for name in ("position", "update", "loss", "grad_norm", "oscillation", "path_length", "distance_to_minimum"):
            assert np.array_equal(a.history.column(name), b.history.column(name)), name


def test_seeds_draw_their_own_noise_and_seed_k_is_the_one_seed_run():
    text = RAVINE.replace('start = [-8.0, 1.0]', 'start = [-8.0, 1.0]\nnoise = 1.0')
    three = ScenarioRun(scenario(text, "seeds=3"), threads=1)
    three.advance(120)
    paths = [r.history.column("position") for r in three.groups[0].runs]
    assert not np.array_equal(paths[0], paths[1])
    alone = ScenarioRun(scenario(text, "seed=2"), threads=1)
    alone.advance(120)
    assert np.array_equal(alone.runs[0].history.column("position"), paths[2])


def test_no_noise_means_every_seed_runs_the_same_path():
    three = ScenarioRun(scenario(RAVINE, "seeds=2"), threads=1)
    three.advance(50)
    a, b = three.groups[0].runs
    assert np.array_equal(a.history.column("position"), b.history.column("position"))


def test_every_surface_metric_is_measurable_and_right():
    session = ScenarioRun(scenario(), threads=1)
    session.advance(120)
    run = session.groups[1].runs[0]
    pos, upd = run.history.column("position"), run.history.column("update")
    for name, m in METRICS.items():
        if m.applies == "network":
            continue
        kw = {"threshold": 0.5} if name in ("steps_to_loss", "steps_to_minimum") else {}
        v = metric_value(run, name, at="end" if m.at else None, **kw)
        assert isinstance(v, (bool, float, int)), name
    assert metric_value(run, "x", at=3) == pos[3, 0]
    assert metric_value(run, "update_y", at="start") == upd[0, 1]
    assert metric_value(run, "distance_to_minimum", at="end") == pytest.approx(float(np.hypot(*pos[-1])))
    hit = np.flatnonzero(np.hypot(pos[:, 0], pos[:, 1]) <= 0.5)
    assert metric_value(run, "steps_to_minimum", threshold=0.5) == float(hit[0])
    assert metric_value(run, "grad_norm", at="max") == run.history.column("grad_norm").max()


def test_claims_stay_exact_when_a_long_paths_history_is_thinned(monkeypatch):
    monkeypatch.setattr(history_module, "default_limit", lambda layers, fields=None: 64)
    text = RAVINE.replace("steps = 120", "steps = 3000") + """
[[expect]]
variant = "momentum"
metric = "oscillation"
relative_to = "SGD"
below = 1
[[expect]]
variant = "SGD"
metric = "distance_to_minimum"
at = "mean"
below = 100
[[expect]]
variant = "adam"
metric = "steps_to_minimum"
threshold = 0.01
below = 3000
"""
    session = ScenarioRun(scenario(text), threads=1)
    session.run(chunk=50)
    assert all(r.history.thinned and r.history.n <= 64 for r in session.runs)
    exact = ScenarioRun(scenario(text), threads=1)
    for r in exact.runs:
        r.history.limit = 10 ** 6
    exact.run(chunk=50)
    assert not any(r.history.thinned for r in exact.runs)
    assert [c.value for c in session.check()] == [c.value for c in exact.check()]


def test_out_files_hold_every_step_with_position_and_update(tmp_path):
    sc = scenario(RAVINE + '\n[[expect]]\nvariant = "momentum"\nmetric = "oscillation"\nrelative_to = "SGD"\n'
                  'below = 0.75\n')
    session, results = run_headless(sc, out_dir=tmp_path, check=True, quiet=True, stdout=open("/dev/null", "w"))
    assert [r.passed for r in results] == [True]
    lines = [json.loads(ln) for ln in (tmp_path / "steps.jsonl").read_text().splitlines()]
    assert len(lines) == 3 * 120
    first = next(ln for ln in lines if ln["variant"] == "SGD" and ln["step"] == 0)
    assert first["position"] == [-8.0, 1.0] and first["loss"] == 57.0
    assert first["update"] == pytest.approx([0.035 * 8.0, -0.035 * 50.0])
    header = (tmp_path / "steps.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["variant", "seed", "step", "loss"] and header[-4:] == ["x", "y", "update_x", "update_y"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["weights"] == [] and not (tmp_path / "weights").exists()
    run = summary["variants"][1]["runs"][0]
    assert run["position"] == pytest.approx(list(session.runs[1].position))
    assert summary["checks"][0]["passed"]


def test_a_diverging_path_stops_at_its_first_non_finite_step():
    text = 'title = "t"\nsteps = 200\n[surface]\nname = "rosenbrock"\n[train]\nlr = 0.01\n'
    session = ScenarioRun(scenario(text), threads=1)
    session.run()
    run = session.runs[0]
    assert run.status == "diverged" and run.diverged_at is not None and run.diverged_at < 200
    h = run.history
    assert h.column("diverged")[-1] == 1 and h.column("diverged")[:-1].sum() == 0
    assert not math.isfinite(h.column("loss")[-1]) or not math.isfinite(h.column("grad_norm")[-1])
    assert metric_value(run, "diverged") is True and metric_value(run, "diverged_at") == run.diverged_at


def test_a_live_lr_change_applies_from_the_next_step():
    session = ScenarioRun(scenario(), threads=1)
    run = session.runs[0]
    run.advance(10)
    run.set_live(lr=0.01)
    run.advance(5)
    lr = run.history.column("lr")
    assert list(lr[:10]) == [0.035] * 10 and list(lr[10:]) == [0.01] * 5
