"""Pretraining in compiled chunks (issue 11): bit for bit the steps one by one, progress
within a layer, and a prompt stop: from a watch, from Ctrl-C / SIGTERM sent to a real
`tuisim run` process (in the main thread, and on training threads), and when the app
cancels its run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tuisim.core import Network, Optimizer
from tuisim.run.pretrain import PretrainingStopped, Progress, pretrain_layers, watch

ROOT = Path(__file__).resolve().parents[2]
LONG = """title = "long pretraining"
seed = 0
steps = 50
[data]
name = "spirals"
samples = 400
[model]
depth = 3
width = 32
activation = "sigmoid"
[train]
batch_size = 64
[pretrain]
steps_per_layer = 1000000
"""


def one_step_at_a_time(net, X, spec, default_batch, seed):
    """Pretraining as it was written before the chunks: one `Optimizer.step` per step."""
    cfg = net.config
    steps, bs = spec["steps_per_layer"], spec.get("batch_size") or default_batch
    rng = np.random.default_rng([seed, 0x9E7])
    H = X
    keep = {k: cfg[k] for k in ("activation", "negative_slope", "alpha", "pieces", "init", "init_std", "init_range",
                                "init_gain", "init_value", "init_scale", "bias_init", "dtype")}
    for i in range(net.depth):
        ae = Network(n_in=H.shape[1], n_out=H.shape[1], depth=1, width=net.widths[i], seed=seed + 1 + i, **keep)
        ae.parameter("layers.0.weight")[...] = net.parameter(f"layers.{i}.weight")
        ae.parameter("layers.0.bias")[...] = net.parameter(f"layers.{i}.bias")
        opt = Optimizer(ae, spec["optimizer"], lr=spec["lr"], loss="mse")
        n = len(H)
        B = n if bs == "full" else min(int(bs), n)
        for _ in range(steps):
            Hb = H[rng.integers(0, n, size=B) if B < n else slice(None)]
            opt.step(Hb, Hb)
            if opt.stats.diverged:
                break
        net.parameter(f"layers.{i}.weight")[...] = ae.parameter("layers.0.weight")
        net.parameter(f"layers.{i}.bias")[...] = ae.parameter("layers.0.bias")
        H = ae.layer_inputs(H)[1]


@pytest.mark.parametrize("model,spec,batch", [
    ({}, dict(steps_per_layer=300, lr=0.01, optimizer="adam"), 32),
    ({"activation": "sigmoid", "width": [7, 5, 9]}, dict(steps_per_layer=200, lr=0.05, optimizer="momentum",
                                                         batch_size="full"), 32),
    ({"dtype": "float32", "activation": "maxout"}, dict(steps_per_layer=150, lr=0.01, optimizer="rmsprop",
                                                        batch_size=7), 32),
    # diverges in its first layer: the next layer's batches are drawn as if the steps had been one by one
    ({"activation": "relu", "init_scale": 30.0}, dict(steps_per_layer=400, lr=50.0, optimizer="sgd"), 16),
], ids=["adam", "full-batch", "float32-maxout", "diverges"])
def test_chunks_are_bit_for_bit_the_steps_one_by_one(model, spec, batch):
    X = np.random.default_rng(0).normal(size=(200, 3))
    width = model.pop("width", 6)
    a, b = (Network(n_in=3, n_out=2, depth=3, width=width, seed=4, **model) for _ in range(2))
    one_step_at_a_time(a, X, spec, batch, 4)
    pretrain_layers(b, X, spec, batch, 4)
    sa, sb = a.state_dict(), b.state_dict()
    assert all(np.array_equal(sa[k], sb[k], equal_nan=True) for k in sa)


def test_progress_within_each_layer_and_a_stop_between_chunks():
    net = Network(n_in=2, n_out=2, depth=3, width=16, activation="sigmoid", seed=0)
    X = np.random.default_rng(1).normal(size=(300, 2))
    seen: list[Progress] = []
    watch(net, on_progress=seen.append)
    pretrain_layers(net, X, dict(steps_per_layer=5000, lr=0.01, optimizer="adam"), 32, 0)
    for layer in range(3):
        steps = [p.step for p in seen if p.layer == layer]
        assert steps[0] == 0 and steps[-1] == 5000 and steps == sorted(steps)
        assert len(steps) >= 3  # reported within the layer, not only at its end
    assert str(seen[-1]) == "pretraining layer 3/3, step 5,000/5,000"

    stop = threading.Event()

    def note(p: Progress) -> None:
        if p.step > 0:
            stop.set()

    net2 = Network(n_in=2, n_out=2, depth=3, width=16, activation="sigmoid", seed=0)
    before = net2.state_dict()
    watch(net2, should_stop=stop.is_set, on_progress=note)
    t0 = time.perf_counter()
    with pytest.raises(PretrainingStopped, match=r"stopped in layer 1/3 at step [\d,]+/1,000,000"):
        pretrain_layers(net2, X, dict(steps_per_layer=1_000_000, lr=0.01, optimizer="adam"), 32, 0)
    assert time.perf_counter() - t0 < 2  # the whole of it would take about a minute
    after = net2.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # the layer was not replaced


def _start(path: Path, out: Path, *extra: str) -> tuple[subprocess.Popen, list[str]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "tuisim", "run", str(path), "--headless", "--out", str(out),
                             *extra], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()
    return proc, lines


@pytest.mark.parametrize("sig,extra", [(signal.SIGINT, ()), (signal.SIGTERM, ("--seeds", "3", "--threads", "2"))],
                         ids=["INT-main-thread", "TERM-2-threads"])
def test_a_signal_stops_a_long_pretraining_at_once(tmp_path, sig, extra):
    """10^6 steps per layer (about a minute): the signal ends the run within seconds, with
    exit 130 / 143, the step reached within the layer on stderr, and whole files."""
    path = tmp_path / "long.toml"
    path.write_text(LONG)
    out = tmp_path / "out"
    proc, lines = _start(path, out, *extra)
    try:
        end = time.monotonic() + 60
        while not any("/50" in ln for ln in lines):  # the first progress line: training (pretraining) starts
            assert proc.poll() is None, "".join(lines)[-2000:]
            assert time.monotonic() < end, "no progress line in 60 s"
            time.sleep(0.02)
        time.sleep(1.0)
        proc.send_signal(sig)
        t0 = time.monotonic()
        proc.wait(timeout=30)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    time.sleep(0.1)
    err = "".join(lines)
    assert proc.returncode == 128 + int(sig), err[-2000:]
    assert took < 5, took
    steps = [int(s.replace(",", "")) for s in re.findall(r"pretraining layer 1/3, step ([\d,]+)/1,000,000", err)]
    assert steps and max(steps) > 0, err[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True
    # every run that started was pretraining (with 3 seeds on 2 threads, the third waits, ready)
    status = [r["status"] for g in summary["variants"] for r in g["runs"]]
    assert status[:2 if extra else 1] == ["pretraining"] * (2 if extra else 1) and set(status) <= {"pretraining",
                                                                                                     "ready"}
    assert (out / "steps.jsonl").read_text() == ""
    assert (out / "steps.csv").read_text().count("\n") == 1  # the header only


def test_the_app_shows_the_steps_and_cancels_a_long_pretraining():
    from tuisim.app.driver import Driver
    from tuisim.scenario import parse_scenario

    driver = Driver(parse_scenario(LONG), threads=1)
    failed: list[BaseException] = []

    def body() -> None:
        try:
            driver.run(lambda message: None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failed.append(exc)

    worker = threading.Thread(target=body, daemon=True)
    worker.start()
    notes: set[str] = set()
    end = time.monotonic() + 60
    while len([n for n in notes if ", step " in n]) < 3:
        assert time.monotonic() < end and worker.is_alive(), (notes, failed)
        if driver.session is not None:
            notes.update(r.pretrain_status for r in driver.session.runs)
        time.sleep(0.01)
    assert any(n.startswith("pretraining layer 1/3, step ") for n in notes)
    t0 = time.monotonic()
    driver.cancel()
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - t0 < 2
    assert not failed
