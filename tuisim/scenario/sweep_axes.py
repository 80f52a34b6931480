"""[[sweep.axis]]: the key an axis sweeps, its values or range, each value checked like the
key's own; and `--grid KEY=VALUES`, which adds or replaces an axis from the command line."""

from __future__ import annotations

import math

from tuisim.core.params import MODEL_PARAMS, Param
from tuisim.data import DATA_PARAMS
from tuisim.data.keys import ValueProblem, check_value, unknown_key_message

from .keys import NOT_MODEL_KEYS, PRETRAIN_PARAMS, TOP_PARAMS, TRAIN_PARAMS
from .report import Report
from .sweep_keys import AXIS_PARAMS, MAX_VALUES
from .sweep_model import Axis, Context, show
from .tables import check_keys

SECTION_PARAMS: dict[str, dict[str, Param]] = {
    "model": MODEL_PARAMS, "train": TRAIN_PARAMS, "pretrain": PRETRAIN_PARAMS, "data": DATA_PARAMS}


def axis_param(key: str, ctx: Context) -> tuple[Param | None, str | None]:
    """The Param a sweep key sets, or (None, why not)."""
    parts = key.split(".")
    where = ""
    if parts[0] == "variant":
        n = len(ctx.raw_variants)
        if len(parts) < 2 or not parts[1].isdigit():
            return None, "a variant's key is variant.N.<table>.<key>, N its index from 0: variant.1.train.lr"
        if int(parts[1]) >= n:
            return None, (f"variant {parts[1]}: the scenario has {n} [[variant]] table{'s' if n != 1 else ''} "
                          f"(numbered from 0)")
        where = f"variant.{parts[1]}."
        parts = parts[2:]
    if parts == ["steps"] and not where:
        return TOP_PARAMS["steps"], None
    if parts and parts[0] == "seed" and len(parts) == 1:
        return None, "seed is not an axis: `seeds = N` runs every point at seeds seed, seed + 1, ..."
    if len(parts) == 1 and parts[0] in TOP_PARAMS:
        return None, f"{parts[0]} cannot be swept (the keys are steps and those of [model], [train], [data], " \
                     f"[pretrain])"
    if len(parts) != 2 or parts[0] not in SECTION_PARAMS:
        return None, (f"a sweep key is {where or ''}<table>.<key> with a table among model, train, data and "
                      f"pretrain{'' if where else ', or steps'}: model.depth, train.lr")
    section, name = parts
    if section == "model" and name in NOT_MODEL_KEYS:
        return None, NOT_MODEL_KEYS[name]
    params = SECTION_PARAMS[section]
    if name not in params:
        return None, unknown_key_message(name, params, f"[{section}]")
    return params[name], None


def read_axis(report: Report, raw: dict, path: tuple, ctx: Context, main: Axis | None = None) -> Axis | None:
    values, bad = check_keys(report, AXIS_PARAMS, raw, path, "[[sweep.axis]]")
    key = values.get("key")
    if key is None:
        if "key" not in raw:
            report.add(path, "missing: key, the key this axis sweeps (as for --set: \"model.depth\")")
        return None
    param, why = axis_param(key, ctx)
    if param is None:
        report.add(path + ("key",), why)
        return None
    before = len(report)
    if main is None:  # (a quick axis has the same key as its main axis: reported there)
        _check_not_overridden(report, key, path, ctx)
    range_keys = [k for k in ("from", "to", "num", "step", "scale") if k in raw]
    if "values" in raw and range_keys:
        report.add(path + (range_keys[0],), "give either values = [...] or a range (from, to and num or step), "
                                            "not both")
        return None
    if bad:
        return None
    if "values" in raw:
        checked = _check_values(report, param, values["values"], path + ("values",), indexed=True)
    elif range_keys:
        checked = _range(report, param, values, raw, path)
    else:
        report.add(path, "missing: the axis's values: values = [...], or a range: from = ..., to = ..., num = ...")
        return None
    if checked is None or len(report) > before:
        return None
    seen = {}
    for j, v in enumerate(checked):
        k = repr(v)
        if k in seen:
            where = ("values", j) if "values" in raw else ("num" if "num" in raw else "step",)
            report.add(path + where, f"the value {show(v)} comes twice (positions {seen[k]} and {j}); every value "
                                     f"of an axis must differ")
            return None
        seen[k] = j
    if main is not None:
        missing = [v for v in checked if main.index(v) is None]
        if missing:
            report.add(path + ("values" if "values" in raw else "from",),
                       f"{show(missing[0])} is not a value of the axis {key} of [sweep]: a quick grid takes "
                       f"some of its values")
            return None
    labels = values.get("labels")
    if labels is not None and len(labels) != len(checked):
        report.add(path + ("labels",), f"gives {len(labels)} labels for {len(checked)} values: one per value")
        return None
    if main is not None:  # a quick axis shows its values as the full axis names them
        label = values.get("label") or main.label
        if labels is None:
            labels = [main.labels[main.index(v)] for v in checked]
    else:
        label = values.get("label") or key
    return Axis(key=key, values=tuple(checked), label=label,
                labels=tuple(labels) if labels is not None else tuple(show(v) for v in checked))


def _check_not_overridden(report: Report, key: str, path: tuple, ctx: Context) -> None:
    parts = key.split(".")
    if parts[0] not in SECTION_PARAMS or len(parts) != 2:
        return
    section, name = parts
    for i, v in enumerate(ctx.raw_variants):
        table = v.get(section)
        if isinstance(table, dict) and name in table:
            label = f' ("{ctx.labels[i]}")' if i < len(ctx.labels) and ctx.labels[i] else ""
            report.add(path + ("key",), f"variant[{i}]{label} sets {key} itself, so this axis would not "
                                        f"change it: sweep variant.{i}.{key} instead, or take {key} out of the "
                                        f"variant")


def _check_values(report: Report, param: Param, raw_values: list, path: tuple, indexed: bool) -> list | None:
    out, ok = [], True
    for j, v in enumerate(raw_values):
        try:
            out.append(check_value(param, v))
        except ValueProblem as e:
            ok = False
            report.add(path + ((j,) if indexed else ()), f"{param.name} = {show(v)}: {e.message}" if not indexed
                       else e.message)
    return out if ok else None


def _range(report: Report, param: Param, values: dict, raw: dict, path: tuple) -> list | None:
    if param.kind not in ("int", "float"):
        report.add(path + ("from" if "from" in raw else next(iter(raw)),),
                   f"{param.name} takes {param.allowed()}: list its values (values = [...]); a range needs a number "
                   f"key")
        return None
    missing = [k for k in ("from", "to") if k not in raw]
    if missing:
        report.add(path, f"missing: {' and '.join(missing)}: a range needs from, to and num (or step)")
        return None
    lo, hi, scale = values["from"], values["to"], values.get("scale", "linear")
    num, step = values.get("num"), values.get("step")
    if num is not None and step is not None:
        report.add(path + ("step",), "give num or step, not both")
        return None
    if num is None and step is None:
        report.add(path, "missing: num (how many values, from and to included) or step")
        return None
    if scale == "log":
        if step is not None:
            report.add(path + ("step",), "a log range takes num (values at equal ratios), not step")
            return None
        if lo <= 0 or hi <= 0:
            report.add(path + ("from" if lo <= 0 else "to",), "a log range needs from > 0 and to > 0")
            return None
    if step is not None:
        if hi < lo:
            report.add(path + ("to",), f"to = {show(hi)} is below from = {show(lo)}: a step range goes up")
            return None
        span = (hi - lo) / step
        count = int(math.floor(span + 1e-9)) + 1 if math.isfinite(span) else MAX_VALUES + 1
        if count > MAX_VALUES:
            many = f"{count:,}" if count < 10**12 else "more than 10**12"
            report.add(path + ("step",), f"gives {many} values; at most {MAX_VALUES}")
            return None
        raw_values = [lo + i * step for i in range(count)]
    elif num == 1:
        raw_values = [lo]
    elif scale == "log":
        raw_values = [lo * (hi / lo) ** (i / (num - 1)) for i in range(num)]
    else:
        raw_values = [lo + (hi - lo) * i / (num - 1) for i in range(num)]
    if not all(math.isfinite(v) for v in raw_values):
        report.add(path + ("to",), f"the range from {show(lo)} to {show(hi)} overflows: its values must be finite "
                                   f"numbers")
        return None
    raw_values = [float(f"{v:.12g}") for v in raw_values]
    if param.kind == "int":
        raw_values = [int(round(v)) for v in raw_values]
    return _check_values(report, param, raw_values, path + ("from",), indexed=False)


# ------------------------------------------------------------------------------ --grid

def parse_grid_values(text: str) -> dict:
    """The VALUES of --grid KEY=VALUES as an axis table: "5,10,20", "[5, 10, 20]", "1e-4:1:9:log"
    (from:to:num, linear unless :log), "{from = 1, to = 4, step = 0.5}", or one value."""
    from .load import parse_value

    value = parse_value(text)
    if isinstance(value, list):
        return {"values": value}
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and "," in value:
        return {"values": [parse_value(p) for p in value.split(",") if p.strip()]}
    if isinstance(value, str) and ":" in value:
        parts = [p.strip() for p in value.split(":")]
        scale = "linear"
        if len(parts) == 4 and parts[3] in ("log", "linear"):
            scale = parts.pop()
        if len(parts) == 3:
            return {"from": parse_value(parts[0]), "to": parse_value(parts[1]), "num": parse_value(parts[2]),
                    "scale": scale}
    return {"values": [value]}


def apply_grid(doc: dict, setting: str, report: Report, origins: dict) -> None:
    """--grid KEY=VALUES: replace the values of the axis KEY of [sweep], or add it as the last axis
    (making a [sweep] table when the file has none)."""
    origin = f"--grid {setting}"
    key, sep, text = setting.partition("=")
    key = key.strip()
    if not sep or not key or not text.strip():
        report.add((), "expected KEY=VALUES, e.g. --grid model.depth=5,10,20 or --grid train.lr=1e-4:1:9:log",
                   file=origin)
        return
    sweep = doc.setdefault("sweep", {})
    if not isinstance(sweep, dict):
        return  # reported by read_sweep
    axes = sweep.setdefault("axis", [])
    if not isinstance(axes, list):
        return
    table = parse_grid_values(text)
    quick = sweep.get("quick")
    if isinstance(quick, dict) and isinstance(quick.get("axis"), list):  # --grid replaces the quick grid's axis too
        quick["axis"] = [a for a in quick["axis"] if not (isinstance(a, dict) and a.get("key") == key)]
    for i, axis in enumerate(axes):
        if isinstance(axis, dict) and axis.get("key") == key:
            for k in ("values", "from", "to", "num", "step", "scale", "labels"):
                axis.pop(k, None)
            axis.update(table)
            break
    else:
        axes.append({"key": key, **table})
        i = len(axes) - 1
    origins[("sweep", "axis", i)] = origin

