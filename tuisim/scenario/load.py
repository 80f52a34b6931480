"""Finding, reading and parsing scenario files, with `--set key=value` overrides."""

from __future__ import annotations

import ast
import difflib
import re
import tomllib
from pathlib import Path
from typing import Any, Sequence

import tuisim
from tuisim.data import confine
from tuisim.data.keys import found, shorten

from .errors import Problem, ScenarioError
from .locate import too_deep
from .model import Scenario
from .report import Report
from .sweep import apply_grid
from .validate import validate

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")
_TOML_TWICE = re.compile(r"Cannot declare (\(.*\)) twice", re.S)
MAX_NESTING = 32  # arrays and inline tables inside each other; a scenario needs 3
_NESTING_MESSAGE = (f"arrays or inline tables nested more than {MAX_NESTING} deep; a scenario needs at most a few "
                    f"levels ([[variant]] with model.width = [64, 32])")


_TOML_IMMUTABLE = re.compile(r"Cannot mutate immutable namespace (\((?:'[^']*'|\"(?:[^\"\\]|\\.)*\"|[^()'\"])*\))",
                             re.S)


def _dotted(keys: str) -> str | None:
    """tomllib's key tuple "('sweep', 'axis')" -> "sweep.axis", or None"""
    try:
        parts = ast.literal_eval(keys)
        return ".".join(k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else shorten(k) for k in parts)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return None


def _declared_twice(m: re.Match) -> str:
    """tomllib's "Cannot declare ('model',) twice" -> "[model] is declared twice" """
    name = _dotted(m[1])
    if name is None:
        return "a table is declared twice"
    return f"[{name}] is declared twice (a table is written once; [[{name}]] makes an array of tables)"


def _immutable(m: re.Match) -> str:
    name = _dotted(m[1])
    what = f"{name} is" if name else "it is"
    return f"{what} already a value (an array or inline table), so a table header cannot add to it"


def bundled_dir() -> Path:
    """The bundled scenarios: tuisim/_scenarios in an installed wheel, else the repository's
    scenarios/ beside the package."""
    package = Path(tuisim.__file__).parent
    installed = package / "_scenarios"
    return installed if installed.is_dir() else package.parent / "scenarios"


def bundled_scenarios() -> list[Path]:
    d = bundled_dir()
    return sorted(d.glob("*.toml")) if d.is_dir() else []


def find_scenario(name: str | Path) -> Path:
    """A path that exists, else the bundled scenario with that file stem (`spirals` or
    `spirals.toml`). Raises ScenarioError naming the bundled ones."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    stem = path.stem if path.suffix == ".toml" else path.name
    bundled = {p.stem: p for p in bundled_scenarios()}
    if stem in bundled and len(path.parts) == 1:
        return bundled[stem]
    if path.is_dir():
        raise ScenarioError([Problem(str(name), None, None, "is a folder, not a scenario file")])
    near = difflib.get_close_matches(stem, list(bundled), n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    known = f"; bundled: {', '.join(bundled)}" if bundled else "; no scenarios are bundled"
    raise ScenarioError([Problem(str(name), None, None, f"no such scenario file or bundled scenario{hint}{known}")])


def load_scenario(path_or_name: str | Path, overrides: Sequence[str] = (), grid: Sequence[str] = ()) -> Scenario:
    """Find, read and validate a scenario, with `--set` overrides and `--grid` axes (see
    sweep.apply_grid). Raises ScenarioError with every problem."""
    _confined(path_or_name, bundled_name=True)  # under `tuisim serve`, before looking at the file system
    path = find_scenario(path_or_name)
    _confined(path)
    given = Path(path_or_name).expanduser()
    label = str(path_or_name) if given.is_file() else path.name
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ScenarioError([Problem(label, line, None, f"is not UTF-8 text (byte {e.start}, column {column}); "
                                                        f"TOML files are UTF-8")]) from None
    except OSError as e:
        raise ScenarioError([Problem(label, None, None, f"cannot be read: {e.strerror}")]) from None
    return parse_scenario(text, path, overrides, file_label=label, grid=grid)


def _confined(path_or_name: str | Path, bundled_name: bool = False) -> None:
    """Under `tuisim serve`: a ScenarioError for a file outside the served folder (a bare
    bundled name passes when `bundled_name`: find_scenario then finds the file, checked next)."""
    confinement = confine.active()
    if confinement is None:
        return
    given = Path(path_or_name).expanduser()
    if bundled_name and len(given.parts) == 1 and ((given.stem if given.suffix == ".toml" else given.name)
                                                   in {p.stem for p in bundled_scenarios()}):
        return
    try:
        confinement.check_read(given)
    except confine.Refused as e:
        raise ScenarioError([Problem(str(path_or_name), None, None, e.reason)]) from None


def parse_scenario(text: str, path: Path | None = None, overrides: Sequence[str] = (), *,
                   file_label: str | None = None, grid: Sequence[str] = ()) -> Scenario:
    """Validate a scenario's text; `path` (the file it came from) anchors relative data
    paths and names the scenario. Raises ScenarioError with every problem."""
    path = Path(path) if path is not None else None
    label = file_label or (str(path) if path is not None else "<scenario>")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ScenarioError([Problem(label, line, None, "contains a NUL byte: a scenario is a UTF-8 text file")])
    deep = too_deep(text, MAX_NESTING)
    if deep is not None:
        raise ScenarioError([Problem(label, deep, None, _NESTING_MESSAGE)])
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError([_syntax_problem(label, str(e), text)]) from None
    except RecursionError:  # nesting the scan above missed
        raise ScenarioError([Problem(label, None, None, _NESTING_MESSAGE)]) from None
    except ValueError:  # an integer of over 4300 digits
        m = re.search(r"\d{4000}", text)
        line = text.count("\n", 0, m.start()) + 1 if m else None
        raise ScenarioError([Problem(label, line, None, "an integer of thousands of digits: numbers in a scenario "
                                                        "are below 2**63 in size")]) from None
    origins: dict[tuple, str] = {}
    report = Report(label, text, origins)
    for setting in overrides:
        apply_override(doc, setting, report, origins)
    for setting in grid:
        apply_grid(doc, setting, report, origins)
    base_dir = path.resolve().parent if path is not None else Path.cwd()
    name = path.stem if path is not None else "scenario"
    return validate(doc, report, path=path, name=name, source=text, base_dir=base_dir)


def _syntax_problem(label: str, message: str, source: str = "") -> Problem:
    message = _TOML_TWICE.sub(_declared_twice, message)
    message = _TOML_IMMUTABLE.sub(_immutable, message)
    message = message.replace("Cannot overwrite a value", "a key is set twice, or a key and a table share a "
                                                           "name (each key is set once)")
    m = _TOML_POSITION.search(message)
    if m:
        text = message[: m.start()]
        return Problem(label, int(m[1]), None, f"TOML syntax error at column {m[2]}: {text}")
    text = _TOML_END.sub("", message)
    return Problem(label, source.count("\n") + 1 if source else None, None, f"TOML syntax error at the end of the file: {text}")


def parse_value(text: str) -> Any:
    """A --set value as a TOML value (30, 0.01, true, [64, 32], "x"), else the bare text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):  # (nested ~300 deep; 4300+ digits)
        return text.strip()


def apply_override(doc: dict, setting: str, report: Report, origins: dict[tuple, str]) -> None:
    """Apply one `key.path=value` to the parsed document: "steps=200", "model.depth=30",
    "variant.1.model.init=he_normal" (variants and expectations by 0-based index)."""
    origin = f"--set {setting}"
    key, sep, raw = setting.partition("=")
    parts = [p.strip() for p in key.split(".")]
    if not sep or not all(parts):
        report.add((), "expected KEY=VALUE, e.g. --set model.depth=30 or --set train.lr=0.01", file=origin)
        return
    path: list[str | int] = [int(p) if p.isdigit() else p for p in parts]
    node: Any = doc
    for i, part in enumerate(path[:-1]):
        where = ".".join(parts[:i]) or "the top level"
        if isinstance(node, list):
            if not isinstance(part, int) or part >= len(node):
                what = f"{len(node)} {parts[i - 1]}{'s' if len(node) != 1 else ''}"
                report.add((), f"{'.'.join(parts[:i + 1])}: no such element; the scenario has {what} "
                               f"(numbered from 0)", file=origin)
                return
            node = node[part]
            continue
        if not isinstance(node, dict):
            report.add((), f"{where} is not a table", file=origin)
            return
        if isinstance(part, int):
            report.add((), f"{'.'.join(parts[:i + 1])}: {where} is a table, not a list", file=origin)
            return
        if part not in node and isinstance(path[i + 1], int):
            report.add((), f"{'.'.join(parts[:i + 2])}: the scenario has no [[{part}]]", file=origin)
            return
        node = node.setdefault(part, {})
    last = path[-1]
    if not isinstance(node, (dict, list)):
        report.add((), f"{'.'.join(parts[:-1])} is not a table: it is {found(node)}", file=origin)
        return
    if isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = parse_value(raw)
    elif isinstance(node, dict) and isinstance(last, str):
        node[last] = parse_value(raw)
    else:
        report.add((), f"{'.'.join(parts)}: cannot be set", file=origin)
        return
    origins[tuple(path)] = origin
