"""The scenario format's reference, generated from the key tables so it cannot drift.

    python -m tuisim.scenario > reference.md
"""

from __future__ import annotations

from typing import Any

from tuisim.core.params import MODEL_PARAMS, OPTIMIZER_PARAMS, Param
from tuisim.data import DATA_PARAMS, DATASETS

from tuisim.core.surface_spec import SURFACES

from .keys import (ARRAY_TABLES, EXPECT_PARAMS, PRETRAIN_PARAMS, RUN_PARAMS, SURFACE_PARAMS, TABLES, TOP_PARAMS,
                   VARIANT_PARAMS)
from .metrics import METRICS
from .sweep_keys import AXIS_PARAMS, MEASURES, QUANTITIES, QUICK_PARAMS, SWEEP_EXPECT_PARAMS, SWEEP_PARAMS

# Defaults that are rules rather than values.
DEFAULT_WORDS = {
    ("train", "loss"): '`"cross_entropy"` (classification data), `"mse"` (regression data)',
    ("train", "lr"): "the optimizer's (torch.optim)",
    ("train", "eps"): "the optimizer's (torch.optim)",
    ("train", "momentum"): "0.9 (momentum, nesterov), else 0",
    ("train", "weight_decay"): "0.01 (adamw), else 0",
    ("train", "gamma"): "0.1 (step), 0.99 (exponential)",
    ("train", "t_max"): "the scenario's `steps`",
    ("model", "init_range"): "1/sqrt(fan_in)",
    ("model", "init_gain"): "1 (xavier, orthogonal); the activation's (he)",
    ("model", "bias_init"): "0",
    ("model", "skip_every"): "2 (residual), 1 (highway)",
}


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _allowed(p: Param) -> str:
    if p.kind == "name":
        return "one of " + ", ".join(f"`{_toml(c)}`" for c in p.choices)
    return p.allowed()


def _default(section: str, p: Param) -> str:
    if (section, p.name) in DEFAULT_WORDS:
        return DEFAULT_WORDS[section, p.name]
    if getattr(p, "required", False):
        return "**required**"
    if getattr(p, "default_doc", None):
        return p.default_doc
    if p.default is None:
        return "—"
    return f"`{_toml(p.default)}`"


def params_table(section: str, params: dict[str, Param]) -> str:
    rows = ["| key | allowed | default | meaning |", "|---|---|---|---|"]
    for p in params.values():
        rows.append(f"| `{p.name}` | {_cell(_allowed(p))} | {_cell(_default(section, p))} | {_cell(p.doc)} |")
    return "\n".join(rows)


def datasets_table() -> str:
    rows = ["| name | task | inputs | classes | noise | what it is |", "|---|---|---|---|---|---|"]
    for name, k in DATASETS.items():
        task = k.task or "from the labels"
        if k.from_file:
            inputs = "the file's columns"
        elif k.features is not None:
            inputs = f"`features` (default {k.features})"
        else:
            inputs = str(k.n_in)
        if k.classes is None:
            classes = "—" if k.task == "regression" else "from the labels"
        elif k.max_classes is not None:
            classes = str(k.max_classes)
        else:
            classes = f">= 2 (default {k.classes})"
        noise = f"{k.noise:g}: {k.noise_doc}" if k.noise is not None else "—"
        rows.append(f"| `{name}` | {task} | {inputs} | {classes} | {_cell(noise)} | {_cell(k.doc)} |")
    return "\n".join(rows)


def surfaces_table() -> str:
    rows = ["| name | formula | parameters (defaults) | minimum | default start |", "|---|---|---|---|---|"]
    for name, spec in SURFACES.items():
        params = ", ".join(f"`{k} = {_toml(v)}`" for k, v in spec.params.items()) or "—"
        start = f"`{_toml(list(spec.start))}`"
        rows.append(f"| `{name}` | {_cell(spec.formula)} | {params} | {_cell(spec.minimum)} | {start} |")
    return "\n".join(rows)


def metrics_table() -> str:
    rows = ["| metric | applies to | kind | `layer` | `at` | meaning |", "|---|---|---|---|---|---|"]
    applies = {"network": "networks", "surface": "[surface]", "both": "both"}
    for name, m in METRICS.items():
        kind = {"scalar": "per step", "layer": "per layer, per step", "run": "per run"}[m.kind]
        layer = "yes" if m.layered else "—"
        if m.at is None:
            at = "—"
        else:
            at = ("a step, " if m.at_steps else "") + ", ".join(f'"{a}"' for a in m.at)
        extra = {"bool": " (true / false)", "step": " (a step; inf when never)"}.get(m.value, "")
        rows.append(f"| `{name}` | {applies[m.applies]} | {kind}{extra} | {layer} | {_cell(at)} | {_cell(m.doc)} |")
    return "\n".join(rows)


def measures_table() -> str:
    rows = ["| measure | takes | good | scale | meaning |", "|---|---|---|---|---|"]
    for name, m in MEASURES.items():
        metric = METRICS.get(name)
        takes = []
        if metric is not None and metric.layered:
            takes.append("`layer`")
        if metric is not None and metric.at is not None:
            takes.append("`at`")
        if name == "steps_to_loss":
            takes.append("`threshold`")
        good = {"high": "high", "low": "low"}.get(m.better, "—")
        rows.append(f"| `{name}` | {', '.join(takes) or '—'} | {good} | {'log' if m.log else 'linear'} | "
                    f"{_cell(m.doc)} |")
    return "\n".join(rows)


def quantities_table() -> str:
    rows = ["| quantity | meaning |", "|---|---|"]
    rows += [f"| `{name}` | {_cell(doc)} |" for name, doc in QUANTITIES.items()]
    return "\n".join(rows)


def format_reference_markdown() -> str:
    """Every table and key of the scenario format (type, default, allowed values, meaning),
    the datasets and the expectation metrics, as markdown."""
    tables = "\n".join(f"- `[{'[' + name + ']' if name in ARRAY_TABLES else name}]`: {doc}"
                       for name, doc in TABLES.items())
    parts = [
        "### Top level\n\nKeys before the first `[table]`:\n\n" + params_table("top", TOP_PARAMS)
        + "\n\nand the tables:\n\n" + tables,
        "### [data]\n\n" + params_table("data", DATA_PARAMS)
        + "\n\nThe datasets (`noise`, `classes` and `features` apply only where a value is shown):\n\n"
        + datasets_table(),
        "### [model]\n\nThe keyword arguments of `tuisim.Network` (n_in, n_out and seed come from the data and "
        "the top-level seed):\n\n" + params_table("model", MODEL_PARAMS),
        "### [train]\n\nThe keyword arguments of `tuisim.Optimizer`:\n\n" + params_table("train", OPTIMIZER_PARAMS)
        + "\n\nand the run's settings:\n\n" + params_table("train", RUN_PARAMS),
        "### [pretrain]\n\nOptional: greedy layer-wise autoencoder pretraining before training.\n\n"
        + params_table("pretrain", PRETRAIN_PARAMS),
        "### [surface]\n\nInstead of `[data]`, `[model]` and `[pretrain]`: a point [x, y] trained on a 2-D test "
        "function by the `[train]` optimizer (the engine's own update, so a path is exactly what the networks' "
        "optimizers do), to watch its path. `[train]` then holds the optimizer keys alone (no `batch_size`, "
        "`eval_every`, `shuffle` or `loss`); a `[[variant]]` may change `surface.start` and `surface.noise`, and "
        "`seeds` draw different noise. The parameters `a`, `b`, `condition` and `kind` apply to the surfaces "
        "that have them. Records: `position` [x, y] where the step started, `loss` (the surface's value "
        "there), `grad_norm`, `update` [dx, dy], and the path's running measures (see the metrics).\n\n"
        + params_table("surface", SURFACE_PARAMS) + "\n\nThe surfaces:\n\n" + surfaces_table(),
        "### [[variant]]\n\nOne table per run compared side by side. Each variant is the base tables with its "
        "overrides merged in (TOML dotted keys: `model.activation = \"relu\"`), checked as a whole.\n\n"
        + params_table("variant", VARIANT_PARAMS),
        "### [[expect]]\n\nOne table per claim; it passes when every comparison given holds.\n\n"
        + params_table("expect", EXPECT_PARAMS),
        "### Metrics\n\n" + metrics_table(),
        "### [sweep]\n\nA map over the scenario: every combination of the axes' values, each variant a series, "
        "each point run `seeds` times (`tuisim sweep`).\n\n" + params_table("sweep", SWEEP_PARAMS),
        "### [[sweep.axis]]\n\nOne table per axis: `key` and its `values`, or a range (`from`, `to` and `num` or "
        "`step`).\n\n" + params_table("axis", AXIS_PARAMS),
        "### [sweep.quick]\n\n" + params_table("quick", QUICK_PARAMS),
        "### [[sweep.expect]]\n\nOne table per claim about the map; it passes when every comparison given "
        "holds.\n\n" + params_table("sweep_expect", SWEEP_EXPECT_PARAMS)
        + "\n\nThe quantities:\n\n" + quantities_table(),
        "### Sweep measures\n\nWhat a cell shows: the sweep's own measures, then every [[expect]] metric, read "
        "as an expectation reads it. `good` and `scale` guide the map's colours.\n\n" + measures_table(),
    ]
    return "\n\n".join(parts) + "\n"

