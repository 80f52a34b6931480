"""Headless runs through the CLI: outputs, their round trip, overrides, checks, exit
codes, and an interrupted run that still leaves valid files."""

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from tuisim.cli import main
from tuisim.run.record import RunWriter
from tuisim.run.session import ScenarioRun
from tuisim.scenario import load_scenario

TINY = Path(__file__).resolve().parents[1] / "data" / "good_scenarios" / "tiny.toml"


def test_run_writes_jsonl_csv_summary_that_round_trip(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(TINY), "--headless", "--out", str(out), "--check"]) == 0
    text = capsys.readouterr().out
    assert "Tiny two-variant run" in text and "relu, 4 deep" in text and "PASS" in text
    lines = (out / "steps.jsonl").read_text().splitlines()
    recs = [json.loads(x) for x in lines]
    assert len(recs) == 80  # 40 steps x 2 variants
    r0 = recs[0]
    for key in ("variant", "step", "loss", "accuracy", "test_loss", "test_accuracy", "diverged", "grad_norm",
                "delta_norm", "weight_norm", "update_ratio", "act_mean", "act_std", "saturated", "dead"):
        assert key in r0, key
    assert len(r0["grad_norm"]) == 4  # depth 3: 4 linear layers
    deep = [r for r in recs if r["variant"] == "relu, 4 deep"]
    assert len(deep[0]["grad_norm"]) == 5
    assert [r["step"] for r in deep] == list(range(40))
    assert recs[0]["test_loss"] is not None and recs[1]["test_loss"] is None  # eval_every 5
    with open(out / "steps.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 80
    for rec, row in zip(recs, rows):
        assert row["variant"] == rec["variant"] and int(row["step"]) == rec["step"]
        assert float(row["loss"]) == pytest.approx(rec["loss"], rel=1e-12)
        for i, v in enumerate(rec["grad_norm"]):
            assert float(row[f"grad_norm_{i}"]) == pytest.approx(v, rel=1e-12)
    assert rows[0]["grad_norm_4"] == ""  # the shallower variant leaves the extra layer empty
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is False and len(summary["variants"]) == 2
    assert all(c["passed"] for c in summary["checks"])


def test_every_k_records_every_kth_step_and_the_last(tmp_path):
    out = tmp_path / "o"
    assert main(["run", str(TINY), "--headless", "--out", str(out), "--every", "7"]) == 0
    steps = [json.loads(x)["step"] for x in (out / "steps.jsonl").read_text().splitlines()
             if json.loads(x)["variant"] == "tanh"]
    assert steps == [0, 7, 14, 21, 28, 35, 39]


def test_set_overrides_apply_and_validate(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", str(TINY), "--headless", "--out", str(out), "--set", "steps=5",
                 "--set", "model.width=4"]) == 0
    recs = [json.loads(x) for x in (out / "steps.jsonl").read_text().splitlines()]
    assert len(recs) == 10
    capsys.readouterr()
    assert main(["run", str(TINY), "--headless", "--set", "model.depth=x"]) == 2
    err = capsys.readouterr().err
    assert "--set model.depth=x" in err and "Traceback" not in err


def test_failed_expectation_exits_1(tmp_path, capsys):
    assert main(["run", str(TINY), "--headless", "--check", "--set", "expect.0.below=0.0001"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_bad_scenario_exits_2_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\n[data]\nname = "spiralz"\n[model]\nactivation = "sigmod"\n')
    assert main(["run", str(bad), "--headless"]) == 2
    err = capsys.readouterr().err
    assert "bad.toml:3" in err and "did you mean 'spirals'" in err and "did you mean 'sigmoid'" in err
    assert main(["check", str(bad)]) == 2
    assert main(["run", "no_such_lesson", "--headless"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_interrupted_run_leaves_valid_files(tmp_path):
    sc = load_scenario(TINY)
    session = ScenarioRun(sc)
    writer = RunWriter(tmp_path, session)
    session.advance(13)
    writer.flush()
    # stop here as Ctrl-C would: what was flushed is whole and parseable
    recs = [json.loads(x) for x in (tmp_path / "steps.jsonl").read_text().splitlines()]
    assert len(recs) == 26
    writer.close({"interrupted": True})
    assert json.loads((tmp_path / "summary.json").read_text())["interrupted"] is True


@pytest.mark.parametrize("threads", ["1", "2"])
def test_keyboard_interrupt_in_headless_run_still_writes(tmp_path, monkeypatch, threads):
    from tuisim.run import variant_run

    calls = {"n": 0}
    real = variant_run.VariantRun.advance

    def advance(self, n=1):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, min(n, 10))

    monkeypatch.setattr(variant_run.VariantRun, "advance", advance)
    out = tmp_path / "o"
    assert main(["run", str(TINY), "--headless", "--out", str(out), "--threads", threads]) == 130
    recs = [json.loads(x) for x in (out / "steps.jsonl").read_text().splitlines()]
    assert 0 < len(recs) < 80
    assert json.loads((out / "summary.json").read_text())["interrupted"] is True


def test_list_shows_bundled_lessons(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "vanishing_sigmoid" in out and "L1.2" in out


def test_no_terminal_runs_the_default_lesson_headless(capsys, monkeypatch):
    from tuisim import cli

    seen = {}

    def fake(scenario, **kw):
        seen["name"] = scenario.name
        seen.update(kw)
        return None, []

    monkeypatch.setattr("tuisim.run.headless.run_headless", fake)
    assert main([]) == 0
    assert seen["name"] == cli.DEFAULT_SCENARIO


def test_bench_output_on_a_tiny_size(capsys):
    assert main(["bench", "--sizes", "2x8x16", "--repeats", "2", "--seconds", "0.02", "--no-startup",
                 "--no-scaling"]) == 0
    out = capsys.readouterr().out
    row = [ln for ln in out.splitlines() if ln.strip().startswith("2 ")]
    assert row, out
    nums = row[0].replace(",", "").replace("x", "").replace("%", "").split()
    depth, width, batch, numba_sps, numpy_sps, ratio, gflops, chunk_sps, chunk_gflops, pct, prod, share = nums
    assert (depth, width, batch) == ("2", "8", "16")
    assert float(numba_sps) > 0 and float(numpy_sps) > 0
    assert float(ratio) == pytest.approx(float(numba_sps) / float(numpy_sps), rel=0.01)
    assert float(gflops) > 0 and float(chunk_sps) > 0
    peak = float(re.search(r"peak, measured here .*: ([\d.]+) GFLOP/s", out)[1])
    assert peak > 0 and float(pct) == pytest.approx(100 * float(chunk_gflops) / peak, abs=1)
    # the products alone are part of the step: faster than it (more GFLOP/s), a share of its time
    assert float(prod) > 0 and float(share) == pytest.approx(100 * float(chunk_gflops) / float(prod), abs=1)


def test_bench_scaling_trains_the_same_runs_on_one_thread_and_on_several():
    from tuisim.bench import scaling

    sc = scaling(2, scenario=str(Path(__file__).parents[1] / "app" / "scenarios" / "tiny_two.toml"), steps=20,
                 repeats=1)
    assert sc["threads"] == 2 and sc["steps"] == 20 and sc["runs"] >= 2
    assert sc["one_thread_steps_per_s"] > 0 and sc["speedup"] == pytest.approx(
        sc["steps_per_s"] / sc["one_thread_steps_per_s"])


def test_bench_rejects_bad_sizes(capsys):
    assert main(["bench", "--sizes", "10x32", "--no-startup"]) == 2
    assert "DEPTHxWIDTHxBATCH" in capsys.readouterr().err


def test_divergence_mid_run_is_recorded_and_reported(tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(["run", str(TINY), "--headless", "--out", str(out), "--set", "train.optimizer=sgd",
               "--set", "train.lr=5", "--set", "model.activation=identity",
               "--set", "variant.1.model.activation=identity", "--set", "expect=[]"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "diverged@" in text
    summary = json.loads((out / "summary.json").read_text())
    div = [r for v in summary["variants"] for r in v["runs"] if r["diverged"]]
    assert div and isinstance(div[0]["diverged_at"], int)
    recs = [json.loads(x) for x in (out / "steps.jsonl").read_text().splitlines()]
    last = [r for r in recs if r["variant"] == div[0]["variant"]][-1]
    assert last["diverged"] is True and last["step"] == div[0]["diverged_at"]
    assert np.isfinite([r["loss"] for r in recs if r["variant"] == div[0]["variant"]][:-1]).all()


@pytest.mark.parametrize("cached,says", [(False, "compiling the engine (first run only: about 15 s)..."),
                                         (True, "loading the engine...")])
def test_headless_names_its_losses_and_says_compiling_only_when_it_compiles(monkeypatch, cached, says):
    import io

    from tuisim.run.headless import run_headless

    monkeypatch.setattr("tuisim.core.engine_cached", lambda dtype="float64": cached)
    out, err = io.StringIO(), io.StringIO()
    run_headless(load_scenario(TINY, overrides=["steps=5"]), stdout=out, stderr=err)
    err, out = err.getvalue(), out.getvalue()
    assert err.splitlines()[0] == says and ("compiling" in err) == (not cached)
    assert "batch loss" in err  # the progress: the last training batch's loss
    head = next(ln for ln in out.splitlines() if ln.startswith("variant"))
    assert "train loss (eval)" in head and "test loss" in head
    assert "train and test: the whole sets, evaluated at the end" in out


def test_a_closed_pipe_ends_the_output_quietly():
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-m", "tuisim", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # the reader goes away before the output comes, as `| head` can
    err = p.stderr.read().decode()
    assert p.wait(60) in (0, 141) and "Broken pipe" not in err and "Traceback" not in err, err
