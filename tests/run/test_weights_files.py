"""`tuisim run --out DIR` (and the writer the app's export uses) leaves the weights of
every variant at every seed in DIR/weights/: files named after the labels, safe on any
filesystem and unique, listed in summary.json, each bit for bit the run's network, and
after an interrupt the weights as they are, at the step they say."""

from __future__ import annotations

import io
import json
import re
import signal
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

import tuisim
from tuisim.core import step as engine_step
from tuisim.run.headless import run_headless
from tuisim.run.record import slug, slugs
from tuisim.run.session import ScenarioRun
from tuisim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "data" / "good_scenarios" / "tiny.toml"
SAFE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def _same(net, other) -> bool:
    a, b = net.state_dict(), other.state_dict()
    return list(a) == list(b) and all(a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a)


def _meta(path) -> dict:
    with safe_open(path, framework="np") as f:
        return f.metadata()


def test_slugs_are_safe_readable_and_unique():
    assert slug("relu, He") == "relu-he"
    assert slug("sigmoid, N(0, 1)") == "sigmoid-n-0-1"
    assert slug("σ_w² = 2") == "w2-2"
    assert slug("Élan / naïve\\path") == "elan-naive-path"
    assert slug("lr = 0.1") == "lr-0.1"
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("日本語") == slug("") == slug(" ,/ ") == "variant"
    assert slug("CON") == "con-" and slug("nul.txt") == "nul.txt-"  # names Windows keeps for devices
    assert len(slug("x" * 300)) == 60
    labels = ["relu, He", "ReLU he", "relu-he", "日本", "中文", "a/b", "a\\b", "a:b", "relu-he-2", ".", "..",
              "plain, depth 8", "plain, depth 40", "x" * 100, "x" * 100 + "y"]
    names = slugs(labels)
    assert len(set(names)) == len(names), names
    assert names[:3] == ["relu-he", "relu-he-2", "relu-he-3"] and names[8] == "relu-he-2-2"
    assert all(SAFE.match(n) and len(n) <= 64 for n in names), names


def test_every_variant_and_seed_gets_its_file_listed_in_the_summary(tmp_path):
    labels = ["relu, He", "ReLU: he", "σ² = 2 / deep", "日本"]
    text = TINY.read_text(encoding="utf-8").split("[[variant]]", 1)[0]
    text += "".join(f"[[variant]]\nlabel = {json.dumps(label)}\nmodel.depth = {2 + k}\n\n" for k, label in enumerate(labels))
    (tmp_path / "labels.toml").write_text(text, encoding="utf-8")
    sc = load_scenario(str(tmp_path / "labels.toml"), ["seeds=2"])
    session, _ = run_headless(sc, out_dir=tmp_path / "out", quiet=True, stdout=io.StringIO(), threads=2)
    tmp_path = tmp_path / "out"
    summary = json.loads((tmp_path / "summary.json").read_text())
    listed = summary["weights"]
    assert [(w["variant"], w["seed"]) for w in listed] == [(r.label, r.seed) for r in session.runs]
    assert sorted(p.name for p in (tmp_path / "weights").iterdir()) == sorted(Path(w["file"]).name for w in listed)
    assert [w["file"] for w in listed[::2]] == ["weights/relu-he.seed3.safetensors", "weights/relu-he-2.seed3.safetensors",
                                                "weights/2-2-deep.seed3.safetensors", "weights/variant.seed3.safetensors"]
    for w, run in zip(listed, session.runs):
        assert w["step"] == run.step == 40 and w["status"] == "done" and w["interrupted"] is False
        net = tuisim.Network.load(tmp_path / w["file"])
        assert _same(net, run.net)
        X = run.X_test
        assert net.forward(X).tobytes() == run.net.forward(X).tobytes()
        meta = _meta(tmp_path / w["file"])
        assert meta["variant"] == run.label and json.loads(meta["seed"]) == run.seed
        assert json.loads(meta["step"]) == 40 and json.loads(meta["interrupted"]) is False
        assert meta["scenario"] == sc.name and json.loads(meta["config"]) == run.net.config


def test_one_seed_names_no_seed(tmp_path):
    run_headless(load_scenario(str(TINY)), out_dir=tmp_path, quiet=True, stdout=io.StringIO())
    assert sorted(p.name for p in (tmp_path / "weights").iterdir()) == ["relu-4-deep.safetensors", "tanh.safetensors"]


def test_a_diverged_run_keeps_its_last_finite_weights(tmp_path):
    sc = load_scenario(str(TINY), ["train.optimizer=sgd", "train.lr=5", "model.activation=identity",
                                   "variant.1.model.activation=identity", "expect=[]"])
    session, _ = run_headless(sc, out_dir=tmp_path, quiet=True, stdout=io.StringIO())
    listed = json.loads((tmp_path / "summary.json").read_text())["weights"]
    diverged = [(w, r) for w, r in zip(listed, session.runs) if r.status == "diverged"]
    assert diverged, "lr 5 on a linear net should diverge"
    for w, run in diverged:
        assert w["status"] == "diverged" and w["step"] == run.diverged_at and w["interrupted"] is False
        net = tuisim.Network.load(tmp_path / w["file"])
        assert all(np.isfinite(v).all() for v in net.state_dict().values())
        replay = ScenarioRun(sc, threads=1).runs[session.runs.index(run)]
        replay.advance(run.diverged_at)  # the steps before the one that diverged
        assert _same(net, replay.net)


@pytest.mark.parametrize("threads", [1, 2])
def test_an_interrupted_run_writes_the_weights_at_the_step_they_say(tmp_path, monkeypatch, threads):
    """A signal that arrives while the compiled step runs (here sent from inside it, the
    8th call) is handled as the step returns: the weights written must be those of the
    step the files say, bit for bit a replay of that many steps."""
    real, calls = engine_step.train_steps, [0]

    def train_steps(*args):
        ran = real(*args)
        calls[0] += 1
        if calls[0] == 8:
            signal.raise_signal(signal.SIGINT)
        return ran

    monkeypatch.setattr(engine_step, "train_steps", train_steps)
    sc = load_scenario(str(TINY), ["steps=20000"])
    with pytest.raises(KeyboardInterrupt):
        run_headless(sc, out_dir=tmp_path, quiet=True, stdout=io.StringIO(), threads=threads)
    monkeypatch.undo()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interrupted"] is True
    steps = {(r["variant"], r["seed"]): r["steps"] for g in summary["variants"] for r in g["runs"]}
    replay = ScenarioRun(sc, threads=1)
    for w, run in zip(summary["weights"], replay.runs):
        assert w["step"] == steps[(w["variant"], w["seed"])] < 20000  # the step of the records and the summary
        assert w["interrupted"] is True and w["status"] in ("running", "ready")
        run.advance(w["step"])
        assert _same(tuisim.Network.load(tmp_path / w["file"]), run.net), (w, threads)


def test_the_readme_loads_a_file_that_the_command_it_names_writes(tmp_path, monkeypatch):
    """The README's three lines name `tuisim run vanishing_sigmoid --out runs/a` and a file
    of it: that file exists after the run, and (where torch is installed) loads into the
    README's module with strict=True and computes what the engine computes."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### A run's weights in PyTorch", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    command = re.search(r"# after: (tuisim run .*)", code).group(1).split()
    assert command[:2] == ["tuisim", "run"] and command[3] == "--out"
    monkeypatch.chdir(tmp_path)
    sc = load_scenario(command[2], ["steps=30"])
    session, _ = run_headless(sc, out_dir=command[4], quiet=True, stdout=io.StringIO())
    path = re.search(r'path = "(.*?)"', code).group(1)
    assert Path(path).is_file(), f"the README's {path} is not among {sorted(p.name for p in Path(command[4]).rglob('*'))}"
    torch = pytest.importorskip("torch")
    ns: dict = {}
    module = next(b.split("```", 1)[0] for b in text.split("```python\n")[1:] if "class TuisimMLP" in b)
    exec(compile(module, "README.md (TuisimMLP)", "exec"), ns)
    exec(compile(code, "README.md (weights)", "exec"), ns)
    listed = json.loads((Path(command[4]) / "summary.json").read_text())["weights"]
    run = session.runs[[w["file"] for w in listed].index(str(Path(path).relative_to(command[4])))]
    with torch.no_grad():
        out = ns["model"](torch.from_numpy(run.X_test)).numpy()
    assert np.abs(out - run.net.forward(run.X_test)).max() <= 1e-12 * max(1.0, np.abs(out).max())
