"""Checking tables key by key: every value against its `Param`, unknown keys with the
nearest known key suggested. Cross-key rules live in `variants.py`."""

from __future__ import annotations

import copy
from typing import Any, Mapping

from tuisim.core.params import MODEL_PARAMS, Param
from tuisim.data import check_data_keys
from tuisim.data.keys import ValueProblem, check_value, found, unknown_key_message

from .keys import (NOT_MODEL_KEYS, NOT_SURFACE_TRAIN_KEYS, PRETRAIN_PARAMS, SURFACE_PARAMS, SURFACE_TRAIN_PARAMS,
                   TRAIN_PARAMS, elsewhere)
from .report import Report

# The tables a base scenario and a variant may hold, with their keys.
SECTIONS: dict[str, dict[str, Param] | None] = {
    "model": MODEL_PARAMS,
    "train": TRAIN_PARAMS,
    "pretrain": PRETRAIN_PARAMS,
    "data": None,  # tuisim.data.check_data_keys
    "surface": SURFACE_PARAMS,
}
NETWORK_ONLY = ("model", "pretrain", "data")  # the tables a [surface] scenario has no use for


class Checked:
    """The valid values of one table, and the keys whose value was invalid (cross-key
    rules involving them are skipped: their problem is already reported)."""

    def __init__(self, values: dict | None = None, bad: set | None = None, present: bool = False):
        self.values = values if values is not None else {}
        self.bad = bad if bad is not None else set()
        self.present = present  # the table was written (matters for [pretrain])


def table_value(report: Report, raw: Mapping, name: str, path: tuple) -> dict | None:
    """raw[name] when it is a table (or absent: None); a problem otherwise."""
    value = raw.get(name)
    if value is None or isinstance(value, dict):
        return value
    report.add(path + (name,), f"must be a table ([{name}] or {name}.key = value), not {found(value)}")
    return None


def check_section(report: Report, section: str, raw: Mapping[str, Any] | None, path: tuple,
                  surface: bool = False) -> Checked:
    """Check one [model] / [train] / [pretrain] / [data] / [surface] table (or a variant's
    override of it); `surface`: in a scenario with a [surface] (which trains a point,
    not a network: [train] holds the optimizer only, and the network's tables are refused)."""
    if raw is None:
        return Checked()
    what, it = (f"[{section}] does", "it") if len(path) == 1 else (f"{section}.* overrides do", "them")
    at = path if len(path) == 1 or not raw else path + (next(iter(raw)),)  # a variant's: at its first key
    if surface and section in NETWORK_ONLY:
        report.add(at, f"{what} not apply with a [surface]: the scenario trains a point [x, y] on the surface, "
                         f"not a network on data (remove {it}, or the [surface] table)")
        return Checked()
    if not surface and section == "surface":
        report.add(at, "surface.* overrides need a [surface] table, which the scenario does not have: add "
                         "[surface] (name = \"rosenbrock\", ...) to train a point instead of a network")
        return Checked()
    if section == "data":
        values, problems = check_data_keys(raw)
        bad = set()
        for sub, p in problems:
            report.add(path + sub, p.message)
            if sub[0] in raw:
                bad.add(sub[0])
        return Checked(values, bad, True)
    params = SURFACE_TRAIN_PARAMS if surface and section == "train" else SECTIONS[section]
    values, bad = {}, set()
    hints = elsewhere(section, params)
    refused = NOT_MODEL_KEYS if section == "model" else NOT_SURFACE_TRAIN_KEYS if params is SURFACE_TRAIN_PARAMS \
        else {}
    for key, value in raw.items():
        if key in refused:
            report.add(path + (key,), refused[key])
            continue
        if key not in params:
            report.add(path + (key,), unknown_key_message(key, params, f"[{section}]", hints))
            continue
        try:
            values[key] = check_value(params[key], value)
        except ValueProblem as e:
            report.add(path + ((key,) if e.index is None else (key, e.index)), e.message)
            bad.add(key)
    return Checked(values, bad, True)


def check_keys(report: Report, params: Mapping[str, Param], raw: Mapping[str, Any], path: tuple, where: str,
               hints: Mapping[str, str] = {}) -> tuple[dict, set]:
    """Check the scalar keys of a table against `params`; keys naming sub-tables are the
    caller's. Returns (valid values, keys with invalid values)."""
    values, bad = {}, set()
    for key, value in raw.items():
        if key not in params:
            report.add(path + (key,), unknown_key_message(key, params, where, hints))
            continue
        try:
            values[key] = check_value(params[key], value)
        except ValueProblem as e:
            report.add(path + ((key,) if e.index is None else (key, e.index)), e.message)
            bad.add(key)
    return values, bad


def with_defaults(params: Mapping[str, Param], *layers: Mapping[str, Any]) -> dict:
    """Every key of `params`: its default, overridden by each layer in turn (copies, so no
    two variants share a list)."""
    out = {k: p.default for k, p in params.items()}
    for layer in layers:
        out.update(layer)
    return copy.deepcopy(out)
