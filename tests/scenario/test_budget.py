"""The memory estimate (tuisim/scenario/budget.py): its layout arithmetic is the engine's
to the number, the arrays a run allocates are what it counts, it grows with every key
that sizes a run, and a scenario that does not fit is refused at the key that drives it,
with a value that does fit. (Against real processes' peak RSS: tests/robustness/
memory_estimate.py, by hand; the figures are in the README.)"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tuisim.core.params import MODEL_PARAMS
from tuisim.data import describe_data
from tuisim.scenario import ScenarioError, parse_scenario
from tuisim.scenario import budget
from tuisim.scenario.budget import estimate, net_size, parse_size, run_spec, state_rows

ROOT = Path(__file__).resolve().parents[2]
BASE = 'title = "t"\nsteps = 50\n[data]\nname = "spirals"\n'


def parse(text: str, overrides=()):
    return parse_scenario(text, None, overrides)


def refusal(text: str, overrides=()) -> str:
    with pytest.raises(ScenarioError) as info:
        parse(text, overrides)
    (p,) = info.value.problems
    return str(p)


def scenario_estimate(text: str, overrides=()):
    sc = parse(text, overrides)
    return estimate([run_spec(v, describe_data(v.data)) for v in sc.variants], sc.seeds, sc.steps)


@pytest.fixture
def memory(monkeypatch):
    def set_to(size: str) -> None:
        monkeypatch.setenv("TUISIM_MEMORY", size)
    set_to("8G")
    return set_to


# -- the arithmetic is the engine's -----------------------------------------------------------

def _random_model(rng: random.Random) -> dict:
    depth = rng.randint(1, 9)
    m = {k: p.default for k, p in MODEL_PARAMS.items()}
    m.update(depth=depth, width=rng.choice([rng.randint(1, 40), [rng.randint(1, 40) for _ in range(depth)]]),
             activation=rng.choice(["relu", "maxout", "tanh"]), pieces=rng.randint(2, 4),
             norm=rng.choice(["none", "batch", "layer", "rms"]), norm_position=rng.choice(["before", "after"]),
             architecture=rng.choice(["plain", "residual", "highway"]), skip_every=rng.choice([None, 1, 2, 3]),
             shortcut=rng.choice(["projection", "zeros"]), dropout=rng.choice([0.0, 0.3]))
    return m


def test_net_size_is_the_engine_layout_to_the_number():
    from tuisim.core.layout import build_layout

    rng = random.Random(11)
    for _ in range(400):
        m = _random_model(rng)
        n_in, n_out = rng.randint(1, 30), rng.randint(1, 12)
        lay = build_layout({**m, "n_in": n_in, "n_out": n_out})
        got = net_size(m, n_in, n_out)
        largest = max(e.size for e in lay.entries if len(e.shape) == 2)
        assert (got.params, got.weights, got.running, got.rows, got.largest) == (
            lay.n_params, lay.n_weights, lay.n_running, lay.rows, largest), (m, n_in, n_out)


def test_mirrored_constants_match_their_sources():
    from tuisim.app import driver
    from tuisim.core import registry, step, update
    from tuisim.run import history, variant_run

    assert budget.STATE_ROWS == update.STATE_ROWS
    assert budget.STAT_ROWS == step.S_ROWS and budget.OUT_COLS == step.O_SIZE
    assert budget.MAX_CHUNK == variant_run.MAX_CHUNK
    assert budget.LAYER_FIELDS == len(registry.LAYER_FIELDS) and budget.RECORD_FIELDS == len(history.SCALAR_FIELDS)
    assert budget.HISTORY_BYTES == history.BUDGET
    assert budget.HISTORY_RECORDS == (history.MIN_RECORDS, history.MAX_RECORDS)
    assert budget.HISTOGRAM_BINS == driver.HISTOGRAM_BINS


@pytest.mark.parametrize("optimizer,extra", [("sgd", {}), ("sgd", {"momentum": 0.5}), ("momentum", {}),
                                             ("nesterov", {}), ("adagrad", {"initial_accumulator_value": 0.1}),
                                             ("adadelta", {}), ("rmsprop", {}),
                                             ("rmsprop", {"centered": True, "momentum": 0.9}), ("adam", {}),
                                             ("adam", {"amsgrad": True}), ("adamw", {}), ("nadam", {})])
def test_the_optimizer_state_rows_counted_are_those_the_rule_writes(optimizer, extra):
    """Rows of the state an optimizer never writes stay zero (numpy never maps their pages):
    the estimate counts the others, and the last update's row."""
    from tuisim.core import Network, Optimizer

    net = Network(n_in=3, n_out=2, depth=2, width=6, seed=1)
    opt = Optimizer(net, optimizer, lr=0.01, **extra)
    rng = np.random.default_rng(0)
    for _ in range(3):
        opt.step(rng.normal(size=(8, 3)), rng.integers(0, 2, size=8))
    written = sum(bool(np.any(row != 0)) for row in opt.state)
    assert written == state_rows({"optimizer": optimizer, **extra})


def test_a_run_allocates_what_the_estimate_counts():
    """Build and run a scenario, then count its runs' arrays: the weights part is their
    parameters, gradients, written optimizer rows, initial weights and running statistics;
    the activations part is the training batch's workspace and the evaluations', as far
    as a forward pass writes them."""
    from tuisim.run.session import ScenarioRun

    text = 'seeds = 2\n' + BASE + ('[model]\ndepth = 3\nwidth = 24\nnorm = "batch"\n[train]\noptimizer = "adam"\n'
                   'batch_size = 32\n[[variant]]\nlabel = "a"\n[[variant]]\nlabel = "b"\nmodel.width = 40\n'
                   'model.dropout = 0.2\ntrain.optimizer = "sgd"\n')
    sc = parse(text)
    session = ScenarioRun(sc, threads=1)
    session.run()
    for g in session.groups:
        g.summary()  # evaluates the whole training and test splits, as a run's end does
    for run in session.runs:
        spec = run_spec(run.variant, describe_data(run.variant.data))
        kept, _ = budget.run_parts(spec, sc.steps)
        net, opt = run.net, run.opt
        written = [row for row in opt.state if np.any(row != 0)]
        weights = (net.P.nbytes + net.G.nbytes + sum(r.nbytes for r in written)
                   + sum(w.nbytes for w in run.initial_weights) + net.R.nbytes + net._Rsave.nbytes)
        assert kept["weights"] == weights
        size = net_size(run.variant.model, net.n_in, net.n_out)
        assert set(net._workspaces) == {run.batch_size, len(run.X_train), len(run.X_test)}
        B = run.batch_size
        for n, ws in net._workspaces.items():
            assert ws.nbytes == size.rows * n * 8
            if n != B:  # an evaluation's workspace: nothing past what a forward pass writes is touched
                touched = np.flatnonzero(ws.reshape(size.rows, n).any(axis=1))
                assert len(touched) <= size.forward_rows
        assert kept["activations"] == (size.rows * B + size.forward_rows * (len(run.X_train) + len(run.X_test))) * 8


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the resident size from /proc")
def test_an_evaluation_maps_only_the_forward_pass_pages():
    """What the estimate's activations part rests on: a workspace's pages that a forward
    pass does not write take no memory (np.zeros maps them lazily)."""
    from tuisim.core import Network

    def resident() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    net = Network(n_in=4, n_out=3, depth=4, width=256, seed=0)
    size = net_size(net.config, 4, 3)
    X = np.random.default_rng(0).normal(size=(6000, 4))
    y = np.arange(6000) % 3
    net.evaluate(X[:50], y[:50])  # BLAS's own buffers, at its first call
    before = resident()
    net.evaluate(X, y)
    grew = resident() - before
    forward, whole = size.forward_rows * 6000 * 8, size.rows * 6000 * 8
    assert whole > 1.8 * forward  # the test tells them apart
    assert 0.9 * forward < grew < 1.1 * forward + (4 << 20), (grew, forward, whole)


# -- it grows with what sizes a run -------------------------------------------------------------

@pytest.mark.parametrize("key,values", [
    ("model.width", [8, 64, 512, 4096]), ("model.depth", [1, 5, 50, 200]), ("seeds", [1, 2, 16, 64]),
    ("data.samples", [100, 1000, 100_000, 1_000_000]), ("steps", [10, 1000, 100_000, 10_000_000]),
    ("train.batch_size", [1, 16, 64, 400]), ("model.pieces", [2, 4, 16]),
])
def test_the_estimate_grows_with_every_size(key, values):
    text = BASE + '[model]\nactivation = "maxout"\n'
    totals = [scenario_estimate(text, [f"{key}={v}"]).total for v in values]
    assert all(a < b for a, b in zip(totals, totals[1:])) or key == "steps" and totals == sorted(totals), totals
    assert totals[-1] > totals[0]


def test_a_longer_run_costs_no_more_past_the_history_limit():
    short, long = (scenario_estimate(BASE, [f"steps={n}"]).total for n in (100_000, 10_000_000))
    assert short == long


def test_the_figures_of_a_wide_net():
    """4 hidden layers of 4096 (3 of 4096 x 4096), Adam: 50.4 M parameters, each in P, G
    and Adam's 3 state rows, plus the initial weights (the weights without the biases);
    the largest matrix drawn in float64, scaled and cast while the network is made."""
    est = scenario_estimate(BASE, ["model.width=4096", "model.depth=4", "train.optimizer=adam"])
    params = 3 * 4096 * 4096 + 2 * 4096 + 4096 * 3 + 4 * 4096 + 3
    assert est.parts["weights"] == (5 * params + (params - 4 * 4096 - 3)) * 8
    assert est.parts["transient"] == 4 * 4096 * 4096 * 8
    assert est.parts["engine"] == budget.ENGINE_BYTES
    assert 3.2e9 < est.total < 3.5e9


# -- the check -----------------------------------------------------------------------------------

def test_what_fits_loads(memory):
    memory("8G")
    parse(BASE + "[model]\nwidth = 4096\ndepth = 4\n")


def test_a_scenario_that_does_not_fit_is_refused_at_the_key_that_drives_it(memory):
    memory("8G")
    text = BASE + "[model]\ndepth = 4\nwidth = 8000\n"
    msg = refusal(text)
    assert msg.startswith("<scenario>:7: model.width: 8,000 units per hidden layer need about "), msg
    assert "TUISIM_MEMORY is 8 GiB: use width <= " in msg
    # the value suggested fits; the next round one does not
    fit = int(msg.split("use width <= ")[1].split()[0].replace(",", ""))
    parse(text, [f"model.width={fit}"])
    step = 10 ** (len(str(fit)) - 2)
    refusal(text, [f"model.width={fit + 2 * step}"])


def test_the_key_is_found_where_it_is_written(memory):
    memory("2G")
    text = BASE + "[model]\ndepth = 30\n[[variant]]\nlabel = \"a\"\n[[variant]]\nlabel = \"b\"\nmodel.width = 3000\n"
    assert refusal(text).startswith('<scenario>:11: variant[1] ("b").model.width: 3,000 units')
    msg = refusal(BASE, ["model.width=3000", "model.depth=100"])
    assert msg.startswith("--set model.width=3000: model.width: 3,000 units"), msg


def test_seeds_and_samples_are_blamed_when_they_drive_it(memory):
    memory("4G")
    assert refusal("seeds = 64\n" + BASE + "[model]\ndepth = 40\nwidth = 256\n").startswith(
        "<scenario>:1: seeds: 1 variant x 64 seeds need about ")
    msg = refusal(BASE + "samples = 1000000\n[model]\nwidth = 256\n")
    assert msg.startswith("<scenario>:5: data.samples: 1,000,000 examples need about "), msg
    assert "activations (of a batch, and of all the data at once at evaluation)" in msg


def test_a_bad_memory_setting_is_reported(memory):
    memory("lots")
    with pytest.raises(ScenarioError) as info:
        parse(BASE)
    assert str(info.value) == ("TUISIM_MEMORY: must be a size like 8G, 1.5GiB or 512M (the memory tuisim may use), "
                               "not 'lots'")


def test_sizes():
    assert [parse_size(t) for t in ("8G", "512M", "1.5GiB", "1000", "2 tb", "", "x", "-1G", "1e3")] == [
        8 << 30, 512 << 20, 3 << 29, 1000, 2 << 40, None, None, None, None]


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="Linux")
def test_the_machine_says_what_it_has(monkeypatch):
    monkeypatch.delenv("TUISIM_MEMORY", raising=False)
    got = budget.available_memory()
    assert got.bytes > 0 and got.usable == int(got.bytes * budget.MARGIN)
    assert "available" in got.source or "cgroup" in got.source


def test_the_command_line_refuses_before_loading_the_engine(tmp_path):
    """exit 2 from `tuisim check` and `tuisim run`, the key's line, and no engine loaded."""
    f = tmp_path / "big.toml"
    f.write_text(BASE + "[model]\ndepth = 100\nwidth = 2000\n")
    env = dict(os.environ, TUISIM_MEMORY="4G", PYTHONPATH=str(ROOT))
    for cmd in (["check"], ["run", "--headless"]):
        p = subprocess.run([sys.executable, "-m", "tuisim", cmd[0], str(f), *cmd[1:]], capture_output=True,
                           text=True, env=env, stdin=subprocess.DEVNULL, timeout=60)
        assert p.returncode == 2, p.stderr
        assert f"{f}:7: model.width: 2,000 units per hidden layer need about " in p.stderr
        assert "Traceback" not in p.stderr and "ing the engine" not in p.stderr  # loading or compiling


def test_a_sweep_runs_no_more_worker_processes_than_the_memory_holds():
    """Each local worker process loads the engine and runs one (variant, seed) task at a
    time: as many as fit beside each other, at least one."""
    sc = parse(BASE + "[model]\nwidth = 2048\ndepth = 3\n[[variant]]\nlabel = \"a\"\n[[variant]]\nlabel = \"b\"\n"
                      "model.depth = 4\n")
    task = max(estimate([run_spec(v, describe_data(v.data))], 1, sc.steps, threads=1).total for v in sc.variants)
    for memory, workers in ((0.5, 1), (2.5, 2), (3.99, 3), (10, 4)):
        assert budget.workers_that_fit([sc], 4, environ={"TUISIM_MEMORY": str(int(memory * task))}) == workers
    assert budget.workers_that_fit([sc], 1, environ={"TUISIM_MEMORY": "1"}) == 1


def test_a_memory_error_past_the_check_is_a_message_not_a_traceback():
    """Memory others took between the check and the allocation: one line, what to do."""
    from tuisim.errors import user_message

    try:
        np.zeros(10**14)
    except MemoryError as exc:
        msg = user_message(exc)
    assert msg.startswith("error: out of memory (Unable to allocate 728. TiB for an array") and "TUISIM_MEMORY" in msg
    assert user_message(MemoryError()).startswith("error: out of memory (an allocation failed): ")
