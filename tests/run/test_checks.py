"""The expectation vocabulary measures what FORMAT.md says it measures."""

import math
from pathlib import Path

import numpy as np
import pytest

from tuisim.run.checks import metric_value
from tuisim.run.session import ScenarioRun
from tuisim.scenario import load_scenario
from tuisim.scenario.metrics import METRICS

TINY = Path(__file__).resolve().parents[1] / "data" / "good_scenarios" / "tiny.toml"


@pytest.fixture(scope="module")
def run():
    s = ScenarioRun(load_scenario(TINY))
    s.run()
    return s.runs[0]


def test_per_step_metrics_and_at(run):
    h = run.history
    loss = h.column("loss")
    assert metric_value(run, "loss", at="start") == loss[0]
    assert metric_value(run, "loss", at="end") == loss[-1]
    assert metric_value(run, "loss", at=7) == loss[7]
    assert metric_value(run, "loss", at="min") == loss.min()
    assert metric_value(run, "loss", at="mean") == pytest.approx(loss.mean())
    gn = h.column("grad_norm")
    assert metric_value(run, "grad_norm", layer=0, at=3) == gn[3, 0]
    assert metric_value(run, "grad_norm", layer=-1, at=3) == gn[3, -1]
    assert metric_value(run, "grad_norm", layer="max", at=3) == gn[3].max()
    assert metric_value(run, "grad_norm", at=3) == pytest.approx(gn[3].mean())
    assert metric_value(run, "grad_norm_ratio", at=3) == pytest.approx(gn[3, 0] / gn[3, -1])
    sd = h.column("act_std")
    assert metric_value(run, "act_std_ratio", at=0) == pytest.approx(sd[0, -2] / sd[0, 0])
    # test metrics exist only every eval_every steps: a step between reads the last one
    tl = h.column("test_loss")
    assert metric_value(run, "test_loss", at=7) == tl[5]


def test_run_metrics(run):
    assert metric_value(run, "diverged") is False
    assert metric_value(run, "diverged_at") == math.inf
    loss = run.history.column("loss")
    thr = float(np.sort(loss)[len(loss) // 2])
    first = int(np.flatnonzero(loss <= thr)[0])
    assert metric_value(run, "steps_to_loss", threshold=thr) == first
    assert metric_value(run, "steps_to_loss", threshold=-1.0) == math.inf
    W0, W1 = run.initial_weights[1], run.net.parameter("layers.1.weight")
    assert metric_value(run, "weight_change", layer=1) == pytest.approx(np.linalg.norm(W1 - W0))
    assert metric_value(run, "weight_rank", layer=1) == np.linalg.matrix_rank(W1)
    prod = run.initial_weights[2] @ run.initial_weights[1]
    s = np.linalg.svd(prod, compute_uv=False)
    assert metric_value(run, "cond", at="start") == pytest.approx(s[0] / s[-1])


def test_every_metric_is_measurable(run):
    for name, info in METRICS.items():
        if info.applies == "surface":
            continue
        kw = {"threshold": 1.0} if name == "steps_to_loss" else {}
        if info.layered:
            kw["layer"] = 0
        v = metric_value(run, name, at="end" if info.at else None, **kw)
        assert isinstance(v, (bool, float, int)), name
