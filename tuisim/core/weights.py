"""Weights files: a network's state dict as a `.safetensors` file (no pickle; loads
straight into torch), with `net.config` as JSON under the metadata key "config".

    save(net, "net.safetensors")         # or net.save(path)
    net = load("net.safetensors")        # or tuisim.Network.load(path)

The tensors are `net.state_dict()`: PyTorch's names and shapes (batch norm's
`num_batches_tracked` included), in the network's dtype (float64 or float32), so the
README's `TuisimMLP(**config)` takes them with `strict=True`. The config holds every
keyword `Network` takes (the scenario's `[model]` keys, n_in, n_out, seed). Other
metadata (a run's variant, seed, step...) is kept as given, JSON for anything but text.

A file is checked before any network is built: that it is safetensors, that its config
is one `Network` accepts, that it holds exactly the tensors of that network with their
shapes, floats for the parameters and an integer for num_batches_tracked. Anything
else is a ValueError that names the file and what is wrong.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

CONFIG_KEY = "config"
SUFFIX = ".safetensors"
FLOAT_DTYPES = ("F64", "F32", "F16", "BF16")  # safetensors' names; cast to the network's dtype as torch does
INT_DTYPES = ("I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8")


def save(net, path: str | os.PathLike, metadata: dict | None = None) -> Path:
    """Write net's state dict to `path` (written whole or not at all: a temporary file
    renamed into place). `metadata`: more entries for the header (a value that is not a
    str is stored as JSON). Returns the path."""
    from safetensors.numpy import save_file

    path = Path(path)
    meta = {"format": "pt", CONFIG_KEY: json.dumps(net.config)}  # "format": the tensors are a torch state dict
    for key, value in (metadata or {}).items():
        if key in meta:
            raise ValueError(f"metadata key {key!r} is reserved")
        meta[str(key)] = value if isinstance(value, str) else json.dumps(value)
    tmp = path.with_name(path.name + ".tmp")
    try:
        save_file(_tensors(net), tmp, metadata=meta)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _tensors(net) -> dict[str, np.ndarray]:
    """`net.state_dict()` without the copies: live views of the network's buffers (a
    run's networks are written as it ends; safetensors writes from them directly)."""
    out = {e.name: net.parameter(e.name) for e in net.layout.entries}
    if net.config["norm"] == "batch":
        for i in range(net.depth):
            out[f"norms.{i}.num_batches_tracked"] = np.array(net.num_batches_tracked, dtype=np.int64)
    return out


def read(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray], dict[str, str]]:
    """(config, state dict, metadata) of a weights file, checked against the network its
    config describes (see the module's doc). Raises ValueError naming what is wrong."""
    from safetensors import SafetensorError, safe_open

    from .layout import build_layout
    from .params import MODEL_PARAMS, check_kwargs

    where = str(path)
    if not Path(path).exists():
        raise ValueError(f"{where}: no such file")
    if Path(path).is_dir():
        raise ValueError(f"{where}: a folder, not a weights file")
    try:
        with safe_open(str(path), framework="np") as f:
            meta = dict(f.metadata() or {})
            header = {k: (tuple(f.get_slice(k).get_shape()), f.get_slice(k).get_dtype()) for k in f.keys()}
            config = _config(meta, where)
            try:
                model = dict(config)
                n_in, n_out, seed = model.pop("n_in"), model.pop("n_out"), model.pop("seed", 0)
                cfg = check_kwargs(MODEL_PARAMS, model, "config")
                for name, v in (("n_in", n_in), ("n_out", n_out), ("seed", seed)):
                    if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "seed" else 1):
                        raise ValueError(f"{name} must be a {'non-negative' if name == 'seed' else 'positive'} "
                                         f"integer, not {v!r}")
                cfg.update(n_in=n_in, n_out=n_out, seed=seed)
                expected = {e.name: e.shape for e in build_layout(cfg).entries}
            except KeyError as exc:
                raise ValueError(f"{where}: the config has no {exc.args[0]}") from None
            except ValueError as exc:
                raise ValueError(f"{where}: bad config: {exc}") from None
            if cfg["norm"] == "batch":
                expected.update({f"norms.{i}.num_batches_tracked": () for i in range(cfg["depth"])})
            _check_tensors(header, expected, where)
            state = {k: f.get_tensor(k) for k in header}
    except SafetensorError as exc:
        raise ValueError(f"{where}: not a safetensors file ({exc})") from None
    except OSError as exc:
        raise ValueError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    return cfg, state, meta


def _config(meta: dict, where: str) -> dict:
    text = meta.get(CONFIG_KEY)
    if text is None:
        raise ValueError(f"{where}: no {CONFIG_KEY!r} in its metadata: not a tuisim weights file")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: the config is not JSON ({exc})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{where}: the config must be a JSON object, not {type(config).__name__}")
    return config


def _check_tensors(header: dict, expected: dict, where: str) -> None:
    missing = [k for k in expected if k not in header]
    unexpected = sorted(k for k in header if k not in expected)
    if missing or unexpected:
        what = []
        if missing:
            what.append(f"missing {_names(missing)}")
        if unexpected:
            what.append(f"unexpected {_names(unexpected)}")
        raise ValueError(f"{where}: the tensors do not match the config's network: {'; '.join(what)}")
    for name, shape in expected.items():
        got, dtype = header[name]
        if got != shape:
            raise ValueError(f"{where}: {name} has shape {got}, the config's network needs {shape}")
        counter = name.endswith(".num_batches_tracked")
        if dtype not in (INT_DTYPES if counter else FLOAT_DTYPES):
            raise ValueError(f"{where}: {name} holds {dtype}, not {'an integer' if counter else 'floats'}")


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return f"{len(names)} tensor{'s' if len(names) > 1 else ''} ({shown})"


def load(path: str | os.PathLike):
    """The network a weights file holds: built from its config, every tensor loaded."""
    from .network import Network

    cfg, state, _ = read(path)
    net = Network(**cfg)
    net.load_state_dict(state, strict=True)
    return net
