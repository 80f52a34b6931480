"""Weights files (`net.save`, `Network.load`): safetensors with torch's names, the config
as JSON in the metadata, round trips bit for bit for every combination the scenario
format allows, and a bad file is a ValueError that says what is wrong."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

import tuisim
from tuisim.core import registry
from tuisim.core.weights import read

ROOT = Path(__file__).resolve().parents[2]
ARCHS = [(a, sc) for a in registry.ARCHITECTURES for sc in (registry.SHORTCUTS if a != "plain" else ["projection"])]
NORMS = [(n, p) for n in registry.NORMS for p in (registry.NORM_POSITIONS if n != "none" else ["before"])]


def _trained_looking(net, seed):
    """Every parameter and buffer moved off its init value (running statistics too), so
    that a round trip that dropped or swapped any tensor shows in the outputs."""
    rng = np.random.default_rng(seed)
    sd = net.state_dict()
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            sd[k] = np.array(rng.integers(1, 1000), dtype=np.int64)
        elif k.endswith("running_var"):
            sd[k] = rng.uniform(0.5, 2.0, v.shape)
        else:
            sd[k] = v + 0.3 * rng.normal(size=v.shape)
    net.load_state_dict(sd)
    return net


def _same_network(a, b, X, y):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype and np.array_equal(sa[k], sb[k]), k
    assert b.config == a.config
    assert a.forward(X).tobytes() == b.forward(X).tobytes()  # evaluation mode: running statistics
    if a.config["dropout"] == 0:  # training mode: batch statistics; the gradients too
        la, ga = a.loss_and_grads(X, y)
        lb, gb = b.loss_and_grads(X, y)
        assert la == lb and all(ga[k].tobytes() == gb[k].tobytes() for k in ga)


@pytest.mark.parametrize("norm,position", NORMS)
def test_every_combination_round_trips_bit_for_bit(tmp_path, norm, position):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 3, size=7)
    for k, activation in enumerate(registry.ACTIVATIONS):
        for arch, shortcut in ARCHS:
            skip = {"plain": None, "residual": 2, "highway": 1}[arch] if k % 2 else None
            net = tuisim.Network(n_in=3, n_out=3, depth=3, width=[4, 5, 5], activation=activation, norm=norm,
                                 norm_position=position, architecture=arch, shortcut=shortcut, skip_every=skip,
                                 dropout=0.25 if k % 3 == 0 else 0.0, dtype="float32" if k % 4 == 1 else "float64",
                                 seed=k)
            _trained_looking(net, k)
            path = tmp_path / f"{activation}-{arch}-{shortcut}.safetensors"
            net.save(path)
            back = tuisim.Network.load(path)
            _same_network(net, back, X, y)
            # the file itself: torch's state dict as is, in the engine's dtype, and the config
            tensors = load_file(path)
            assert set(tensors) == set(net.state_dict())
            assert all(v.dtype == (np.int64 if n.endswith("num_batches_tracked") else net.dtype)
                       for n, v in tensors.items())
            with safe_open(path, framework="np") as f:
                assert json.loads(f.metadata()["config"]) == net.config


def test_a_network_from_a_run_round_trips_after_training(tmp_path):
    net = tuisim.Network(n_in=2, n_out=2, depth=4, width=8, activation="relu", norm="batch", seed=0)
    opt = tuisim.Optimizer(net, "adam", lr=1e-2)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 2)), (rng.random(64) > 0.5).astype(np.int64)
    opt.run(X, y, rng.integers(0, 64, size=(50, 16)))
    net.save(tmp_path / "n.safetensors")
    back = tuisim.Network.load(tmp_path / "n.safetensors")
    assert back.num_batches_tracked == net.num_batches_tracked == 50
    _same_network(net, back, X, y)


def test_the_config_is_what_network_takes(tmp_path):
    net = tuisim.Network(n_in=5, n_out=1, depth=2, width=[3, 6], activation="maxout", pieces=3, seed=7)
    net.save(tmp_path / "w.safetensors")
    with safe_open(tmp_path / "w.safetensors", framework="np") as f:
        config = json.loads(f.metadata()["config"])
    assert tuisim.Network(**config).config == net.config
    assert config["seed"] == 7 and config["width"] == [3, 6]


def test_saving_writes_the_file_whole_and_keeps_extra_metadata(tmp_path):
    from tuisim.core.weights import save

    net = tuisim.Network(n_in=2, n_out=2, depth=1, width=3)
    save(net, tmp_path / "w.safetensors", metadata={"step": 12, "interrupted": False, "variant": "a, b"})
    _, _, meta = read(tmp_path / "w.safetensors")
    assert json.loads(meta["step"]) == 12 and json.loads(meta["interrupted"]) is False and meta["variant"] == "a, b"
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]  # no temporary file left
    with pytest.raises(ValueError, match="'config' is reserved"):
        save(net, tmp_path / "x.safetensors", metadata={"config": "{}"})


# ---------------------------------------------------------------------------- bad files
def _good(tmp_path, **kw):
    net = tuisim.Network(n_in=2, n_out=3, depth=2, width=4, norm="batch", **kw)
    path = tmp_path / "good.safetensors"
    net.save(path)
    with safe_open(path, framework="np") as f:
        meta = f.metadata()
    return load_file(path), meta


def _write(tmp_path, tensors, meta, name="bad.safetensors"):
    path = tmp_path / name
    save_file(tensors, path, metadata=meta)
    return path


def _bytes(tmp_path, data: bytes):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    return path


def _refused(path, *words):
    with pytest.raises(ValueError) as info:
        tuisim.Network.load(path)
    msg = str(info.value)
    assert msg.startswith(str(path)), msg
    for w in words:
        assert w in msg, msg
    return msg


def test_a_file_that_is_not_safetensors_is_refused(tmp_path):
    _refused(_bytes(tmp_path, b"just some text, not a weights file\n"), "not a safetensors file")
    _refused(_bytes(tmp_path, b""), "not a safetensors file")
    _refused(_bytes(tmp_path, json.dumps({"layers.0.weight": [[1.0]]}).encode()), "not a safetensors file")
    header = json.dumps({"a": {"dtype": "F64", "shape": [4], "data_offsets": [0, 32]}}).encode()
    _refused(_bytes(tmp_path, struct.pack("<Q", len(header)) + header + b"\0" * 8), "not a safetensors file")  # cut
    _refused(tmp_path / "nowhere.safetensors", "no such file")
    _refused(tmp_path, "a folder")


def test_a_bad_or_missing_config_is_refused(tmp_path):
    tensors, meta = _good(tmp_path)
    _refused(_write(tmp_path, tensors, None), "no 'config' in its metadata", "not a tuisim weights file")
    _refused(_write(tmp_path, tensors, {"config": "{depth: 2"}), "the config is not JSON")
    _refused(_write(tmp_path, tensors, {"config": "[2, 3]"}), "must be a JSON object, not list")
    config = json.loads(meta["config"])
    for change, words in [({"activation": "sigmoud"}, ("bad config", "did you mean 'sigmoid'")),
                          ({"depth": 0}, ("bad config", "depth")),
                          ({"widht": 4}, ("bad config", "widht")),
                          ({"n_in": -1}, ("bad config", "n_in must be a positive integer")),
                          ({"n_out": 2.5}, ("bad config", "n_out")),
                          ({"width": [4, 4, 4]}, ("bad config", "3 entries but depth is 2"))]:
        _refused(_write(tmp_path, tensors, {"config": json.dumps({**config, **change})}), *words)
    del config["n_out"]
    _refused(_write(tmp_path, tensors, {"config": json.dumps(config)}), "the config has no n_out")


def test_tensors_that_do_not_fit_the_config_are_refused(tmp_path):
    tensors, meta = _good(tmp_path)
    less = {k: v for k, v in tensors.items() if k != "norms.1.running_var"}
    _refused(_write(tmp_path, less, meta), "missing 1 tensor (norms.1.running_var)")
    more = dict(tensors, **{"layers.9.weight": np.zeros((2, 2))})
    _refused(_write(tmp_path, more, meta), "unexpected 1 tensor (layers.9.weight)")
    wide = dict(tensors, **{"layers.1.weight": np.zeros((5, 4))})
    _refused(_write(tmp_path, wide, meta), "layers.1.weight has shape (5, 4)", "needs (4, 4)")
    ints = dict(tensors, **{"layers.0.bias": np.zeros(4, dtype=np.int64)})
    _refused(_write(tmp_path, ints, meta), "layers.0.bias holds I64, not floats")
    count = dict(tensors, **{"norms.0.num_batches_tracked": np.array(3.0)})
    _refused(_write(tmp_path, count, meta), "norms.0.num_batches_tracked holds F64, not an integer")
    # another network's file under this config: every mismatch named at once
    other = tuisim.Network(n_in=2, n_out=3, depth=2, width=4, architecture="highway").state_dict()
    msg = _refused(_write(tmp_path, other, meta), "missing 10 tensors", "unexpected 5 tensors")
    assert "norms.0.weight" in msg and "gates.0.weight" in msg


def test_float32_tensors_under_a_float64_config_load_as_torch_would(tmp_path):
    tensors, meta = _good(tmp_path)
    f32 = {k: (v.astype(np.float32) if v.dtype == np.float64 else v) for k, v in tensors.items()}
    net = tuisim.Network.load(_write(tmp_path, f32, meta))
    assert net.dtype == np.float64
    assert all(np.array_equal(net.state_dict()[k], f32[k]) for k in f32)


def test_the_engine_saves_and_loads_without_torch(tmp_path):
    code = ("import sys, tuisim\n"
            "net = tuisim.Network(n_in=2, n_out=2, depth=1, width=3, norm='batch')\n"
            f"net.save({str(tmp_path / 'w.safetensors')!r})\n"
            f"tuisim.Network.load({str(tmp_path / 'w.safetensors')!r})\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow', 'jax')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_torch_module_file_is_the_readme_module():
    """tests/crosscheck/torch_module.py and the README's module: the same code."""
    module = (ROOT / "tests" / "crosscheck" / "torch_module.py").read_text(encoding="utf-8")
    assert module.split('"""', 2)[2].strip() == readme_module_code().strip()


# ---------------------------------------------------------------------------- torch, when it is there
def test_a_weights_file_loads_into_the_readme_module_strict(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file as torch_load

    ns: dict = {}
    exec(compile(readme_module_code(), "README.md (TuisimMLP)", "exec"), ns)
    TuisimMLP = ns["TuisimMLP"]

    rng = np.random.default_rng(3)
    X = rng.normal(size=(9, 3))
    for kw in [dict(norm="batch", architecture="residual", activation="gelu"),
               dict(norm="layer", norm_position="after", architecture="highway", activation="maxout"),
               dict(norm="rms", architecture="residual", shortcut="zeros", activation="tanh", dtype="float32"),
               dict(activation="selu", dropout=0.2)]:
        net = _trained_looking(tuisim.Network(n_in=3, n_out=2, depth=4, width=[5, 6, 6, 4], seed=1, **kw), 5)
        path = tmp_path / "w.safetensors"
        net.save(path)
        with safe_open(path, framework="pt") as f:
            config = json.loads(f.metadata()["config"])
        model = TuisimMLP(**config)
        model.load_state_dict(torch_load(path), strict=True)
        model.eval()
        with torch.no_grad():
            out = model(torch.from_numpy(X.astype(net.dtype))).numpy()
        assert out.dtype == net.dtype
        tol = 1e-5 if net.dtype == np.float32 else 1e-12
        assert np.abs(out - net.forward(X)).max() <= tol * max(1.0, np.abs(out).max()), kw


def readme_module_code() -> str:
    """The README's ```python block that defines TuisimMLP."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    return next(b for b in blocks if "class TuisimMLP" in b)
