"""A parsed TOML document -> a validated `Scenario`, every problem collected in a `Report`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuisim.data import resolve_data
from tuisim.data.keys import ValueProblem, check_value, found, unknown_key_message

from .budget import check_memory
from .expects import read_expects
from .keys import TABLES, TOP_PARAMS, elsewhere
from .model import Scenario
from .report import Report
from .sweep import read_sweep
from .tables import SECTIONS, check_section, table_value
from .variants import Merger, read_variants


def validate(doc: dict[str, Any], report: Report, *, path: Path | None, name: str, source: str,
             base_dir: Path) -> Scenario:
    """Raises ScenarioError with every problem found."""
    # the top level
    top: dict[str, Any] = {}
    hints = elsewhere("top", {**TOP_PARAMS, **TABLES})
    for key, value in doc.items():
        if key in TABLES:
            continue
        if key not in TOP_PARAMS:
            report.add((key,), unknown_key_message(key, {**TOP_PARAMS, **TABLES}, "the top level", hints))
            continue
        try:
            top[key] = check_value(TOP_PARAMS[key], value)
        except ValueProblem as e:
            report.add((key,) if e.index is None else (key, e.index), e.message)
    for key, p in TOP_PARAMS.items():
        if key not in doc and getattr(p, "required", False):
            report.add((key,), f"missing: the scenario needs a {key} ({p.allowed()})")
        top.setdefault(key, list(p.default) if isinstance(p.default, list) else p.default)
    steps = top["steps"] if "steps" not in doc or "steps" in top else None

    # the base tables, key by key; a [surface] trains a point instead of a network on data
    surface = isinstance(doc.get("surface"), dict)
    base = {s: check_section(report, s, table_value(report, doc, s, ()), (s,), surface) for s in SECTIONS}
    data: dict | None = {}
    if not surface:
        data, problems = resolve_data(base["data"].values)
        if "name" not in base["data"].bad:
            for keys, message in problems:
                report.add(("data", keys[0]), message)
        if data is not None and data["path"] is not None:
            data["path"] = str((base_dir / Path(data["path"]).expanduser()).resolve())

    # the variants, merged and checked as a whole
    raw_variants = _array(report, doc, "variant")
    specs = read_variants(report, raw_variants, top.get("title"), surface)
    merger = Merger(report, base, base_dir, steps, surface)
    resolved = [merger.resolve(spec) for spec in specs]
    by_label = {r.variant.label: r for spec, r in zip(specs, resolved) if spec.label is not None}

    # the expectations
    expects = read_expects(report, _array(report, doc, "expect"), by_label, steps)

    # the sweep: axes, measure and claims about the map
    if surface and "sweep" in doc:
        report.add(("sweep",), "a [sweep] maps networks over a grid of settings; a [surface] scenario compares its "
                               "optimizers side by side with [[variant]]s instead (remove [sweep] or [surface])")
        doc = {k: v for k, v in doc.items() if k != "sweep"}
    sweep = read_sweep(report, doc.get("sweep"), raw_variants, [s.label for s in specs], by_label, steps)

    # the memory every variant at every seed needs at once, against what this machine has
    check_memory(report, specs, resolved, top["seeds"], steps)

    report.raise_if_any()
    return Scenario(
        path=path, name=name, title=top["title"], lessons=top["lessons"], description=top["description"],
        seed=top["seed"], steps=top["steps"], data=data, variants=[r.variant for r in resolved],
        expects=expects, sweep=sweep, source=source, seeds=top["seeds"], title_zh=top.get("title_zh"),
        description_zh=top.get("description_zh"),
    )


def _array(report: Report, doc: dict, key: str) -> list[dict]:
    """An array of tables ([[variant]], [[expect]]), its bad elements reported and left out."""
    value = doc.get(key)
    if value is None:
        return []
    if isinstance(value, dict):
        report.add((key,), f"must be an array of tables: write [[{key}]] (two brackets), once per {key}")
        return []
    if not isinstance(value, list):
        report.add((key,), f"must be an array of tables ([[{key}]]), not {found(value)}")
        return []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            report.add((key, i), f"must be a table ([[{key}]]), not {found(item)}")
            return []
    return value

