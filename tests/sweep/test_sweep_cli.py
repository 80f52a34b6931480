"""`tuisim sweep` end to end: the table, sweep.csv and sweep.json, --check, --resume, --quick,
--grid on any scenario, and bad input exiting 2 without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from sweep_support import TINY

from tuisim.cli import main
from tuisim.sweep.store import read_sweep_csv

LESSON = Path(__file__).parents[1] / "data" / "good_scenarios" / "tiny.toml"


def test_sweep_writes_the_table_the_files_and_checks(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(TINY), "--workers", "0", "--out", str(out), "--check"]) == 0
    cap = capsys.readouterr()
    assert "24/24 runs" in cap.err and "ETA" in cap.err
    text = cap.out
    assert "train_accuracy over 2 model.depth x 3 train.lr, 2 variants; 2 seeds per point" in text
    assert "tanh:\ntrain.lr \\ model.depth" in text and "relu:" in text and "±" in text
    assert text.count("PASS") == 2 and "FAIL" not in text
    rows = read_sweep_csv(out / "sweep.csv")
    assert len(rows) == 24
    assert list(rows[0]) == ["model.depth", "train.lr", "variant", "seed", "measure", "value", "status", "diverged",
                             "steps", "time", "worker", "error", "key"]
    assert rows[0]["train.lr"] == "0.001" and rows[0]["measure"] == "train_accuracy" and rows[0]["steps"] == "30"
    summary = json.loads((out / "sweep.json").read_text())
    assert [a["key"] for a in summary["axes"]] == ["model.depth", "train.lr", "variant"]
    assert len(summary["cells"]) == 12 and all(c["n"] == 2 and len(c["values"]) == 2 for c in summary["cells"])
    assert summary["interrupted"] is False and summary["timing"]["runs"] == 24
    assert all(c["passed"] for c in summary["checks"])

    # again: refused without --resume, nothing to run with it
    assert main(["sweep", str(TINY), "--workers", "0", "--out", str(out)]) == 2
    assert "sweep.csv exists: add --resume" in capsys.readouterr().err
    assert main(["sweep", str(TINY), "--workers", "0", "--out", str(out), "--resume"]) == 0
    assert json.loads((out / "sweep.json").read_text())["timing"]["resumed"] == 24
    assert len(read_sweep_csv(out / "sweep.csv")) == 24


def test_quick_grid_seeds_and_a_failing_claim(tmp_path, capsys):
    assert main(["sweep", str(TINY), "--quick", "--workers", "0", "--check",
                 "--set", "sweep.expect.1.above=0.5"]) == 1
    text = capsys.readouterr().out
    assert "(quick grid)" in text and "1 seed per point" in text and "FAIL  relu: argmax along train.lr" in text
    assert main(["sweep", str(TINY), "--quick", "--seeds", "2", "--workers", "0"]) == 0
    assert "2 seeds per point" in capsys.readouterr().out


def test_grid_makes_a_sweep_of_any_scenario(capsys):
    assert main(["sweep", str(LESSON), "--grid", "model.width=4,8", "--set", "steps=5", "--workers", "0"]) == 0
    text = capsys.readouterr().out
    assert "train_loss over 2 model.width, 2 variants" in text
    header = text.splitlines()[4].split()
    assert header == ["model.width", "tanh", "relu,", "4", "deep"] and text.splitlines()[6].startswith("4 ")


def test_bad_input_exits_2_without_a_traceback(tmp_path, capsys):
    cases = [
        (["sweep", str(LESSON), "--workers", "0"], "has no [sweep] table"),
        (["sweep", str(TINY), "--grid", "model.depth=0,2"], "--grid model.depth=0,2: sweep.axis[0].values[0]: "
                                                            "must be an integer >= 1"),
        (["sweep", str(TINY), "--resume"], "--resume continues the sweep written to --out DIR"),
        (["sweep", str(TINY), "--set", "model.norm=batch", "--set", "train.batch_size=1"], "batch norm needs"),
        (["sweep", str(TINY), "--grid", "train.batch_size=1,16", "--set", "model.norm=batch"],
         "--grid train.batch_size=1,16: train.batch_size: batch norm needs batch_size >= 2"),
    ]
    bs = tmp_path / "bs.toml"
    bs.write_text('title = "t"\n[data]\nname = "moons"\n[model]\nnorm = "batch"\n'
                  '[sweep]\n[[sweep.axis]]\nkey = "train.batch_size"\nvalues = [1, 16]\n')
    cases.append((["sweep", str(bs)], "bs.toml:7: train.batch_size: batch norm needs batch_size >= 2: the statistics "
                                      "of a batch of one example are undefined (sweep point train.batch_size=1)"))
    for argv, fragment in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert fragment in err and "Traceback" not in err, (argv, err)


def test_the_resume_command_repeats_what_made_the_sweep(tmp_path):
    from tuisim.sweep import SweepRun, load_sweep
    from tuisim.sweep.headless import resume_hint

    plan = load_sweep(str(TINY), ["steps=5", "model.width=4"], ["train.lr=0.1,0.2"], quick=True, seeds=2)
    out = tmp_path / "a b"
    sweep = SweepRun(plan, workers=1, out_dir=out)
    assert sweep.resume_command("--check") == (
        f"tuisim sweep {TINY} --set steps=5 --set model.width=4 --grid train.lr=0.1,0.2 --seeds 2 --quick "
        f"--workers 1 --out '{out}' --resume --check")
    on = SweepRun(plan, scheduler="tcp://10.0.0.5:8786", out_dir=out)  # the cluster decides the workers
    assert on.resume_command().endswith(f" --quick --scheduler tcp://10.0.0.5:8786 --out '{out}' --resume")
    assert SweepRun(plan, workers=1).resume_command() is None
    assert resume_hint(SweepRun(plan, workers=1)).startswith("Its 0 results so far are not kept (no --out)")
