"""The [data] keys, declared with the engine's `Param` class so every table of the
scenario format looks alike, and the checks that need to know the dataset.

`Key` extends `Param` with the kinds the scenario format adds (text, lists of text, and
anything a `checker` function validates); the scenario package declares its own tables
with it too.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from tuisim.core import registry
from tuisim.core.params import Param

from .registry import DATASETS

TASKS = {"classification": 0, "regression": 1}


@dataclass(frozen=True)
class Key(Param):
    required: bool = False
    noun: str | None = None  # unknown names read "unknown <noun> 'x'" (default: the key's name)
    words: str | None = None  # what is allowed, in words, when the kind cannot say it
    default_doc: str | None = None  # the default, in words, when it is a rule rather than a value
    checker: Callable[["Key", Any], Any] | None = field(default=None, compare=False)

    def allowed(self) -> str:
        if self.words:
            return self.words
        if self.kind == "text":
            return "a text"
        if self.kind == "texts":
            return "a list of texts"
        return super().allowed()

    def check(self, value: Any) -> Any:
        if value is None and self.none_ok:
            return None
        if self.checker is not None:
            return self.checker(self, value)
        if self.kind == "text":
            if not isinstance(value, str):
                raise ValueError(f"{self.name} must be {self.allowed()}, not {found(value)}")
            return value
        if self.kind == "texts":
            if not isinstance(value, list):
                raise ValueError(f"{self.name} must be {self.allowed()}, not {found(value)}")
            for i, v in enumerate(value):
                if not isinstance(v, str):
                    raise ValueError(f"{self.name}[{i}] must be a text, not {found(v)}")
            return list(value)
        if self.kind == "name" and isinstance(value, str) and value not in self.choices:
            raise ValueError(f"{self.name}: "
                             + registry.unknown_name_message(self.noun or self.name, self.choices, value))
        return super().check(value)


class ValueProblem(ValueError):
    """A value that failed its key's check: `message` without the key's name, `index`
    the list element at fault (width[2]) or None."""

    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.message = message
        self.index = index


_PARAM_MESSAGE = re.compile(r"^(?P<name>\w+)(?:\[(?P<i>\d+)\])?(?::\s*|\s+)(?P<msg>.*)$", re.S)
_TYPE_ERROR = re.compile(r"^must be (an integer|a number|true or false|a name \(.*\)|a text)(?: >= 1)?, not ", re.S)


# integers at or beyond this size fit no engine array (int64) and overflow a float's exactness
MAX_INT = 2**63


def _bad_number(value: Any) -> str | None:
    """The message for a number no key accepts (nan, inf, an integer out of int64), else None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {value!r}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_INT:
        return f"{found(value)} is out of range: numbers in a scenario are below 2**63 in size"
    return None


def check_value(param: Param, value: Any) -> Any:
    """`param.check(value)`, with the error reworded for a message that already names the
    key: 'must be an integer >= 1 and <= 200, not the text "x"' (type errors also say what
    is allowed, and name the value found in TOML terms). Non-finite numbers and integers
    beyond int64 are refused here, for every key that takes numbers."""
    if getattr(param, "kind", None) not in ("text", "texts", "name", "bool"):
        bad = _bad_number(value)
        if bad is not None:
            raise ValueProblem(bad)
        if isinstance(value, list) and param.kind != "list":  # (a sweep's values: each checked by its key)
            for i, v in enumerate(value):
                bad = _bad_number(v)
                if bad is not None:
                    raise ValueProblem(bad, i)
    if (getattr(param, "kind", None) == "name" and isinstance(value, str) and len(value) > 100
            and param.choices and value not in param.choices):  # the registry's message would echo it whole
        noun = getattr(param, "noun", None) or param.name
        raise ValueProblem(f"unknown {noun} {shorten(value)}; known: {', '.join(param.choices)}")
    try:
        return param.check(value)
    except (OverflowError, RecursionError):
        raise ValueProblem(f"must be {param.allowed()}, not {found(value)}") from None
    except ValueError as e:
        text = str(e)
        m = _PARAM_MESSAGE.match(text)
        if not m or m["name"] != param.name:
            raise ValueProblem(text) from None
        index = int(m["i"]) if m["i"] is not None else None
        msg = m["msg"]
        if _TYPE_ERROR.match(msg) or (param.kind == "widths" and msg.startswith("must be an integer")):
            v = value[index] if index is not None else value
            what = param.allowed() if index is None else _element_words(param)
            msg = f"must be {what}, not {found(v)}"
        raise ValueProblem(msg, index) from None


def _element_words(param: Param) -> str:
    if param.kind == "widths" and param.hi is not None:
        return f"an integer >= 1 and <= {int(param.hi)}"
    return {"widths": "a positive integer", "betas": "a number >= 0 and < 1"}.get(param.kind, "a text")


def found(value: Any) -> str:
    """A value as TOML would call it: the text 'x', the number 1.5, a list, a table."""
    if isinstance(value, str):
        return f"the text {shorten(value)}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        digits = len(str(abs(value))) if value.bit_length() < 10_000 else None
        if digits is None or digits > 40:
            return f"an integer of {digits or 'thousands of'} digits"
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value!r}" if math.isfinite(value) else f"the non-finite number {value!r}"
    if isinstance(value, (list, tuple)):
        n = len(value)
        return f"a list of {n} item{'s' if n != 1 else ''}" if n else "an empty list"
    if isinstance(value, dict):
        return "a table" if value else "an empty table"
    return f"a {type(value).__name__}"


def shorten(text: str, limit: int = 60) -> str:
    """repr(text), cut when long: 'aaaa...' (100,000 characters)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit - 20]!r}... ({len(text):,} characters)".replace("'...", "...'", 1)


def unknown_key_message(key: str, table: Mapping[str, Any], where: str, elsewhere: Mapping[str, str] = {}) -> str:
    """'unknown key 'activaton' in [model] (did you mean 'activation'?)'; the known keys are
    listed when none is near. `elsewhere` maps keys of other tables to a hint."""
    msg = f"unknown key {shorten(key)} in {where}"
    if key in elsewhere:
        return f"{msg}: {elsewhere[key]}"
    near = difflib.get_close_matches(key, list(table), n=1) if len(key) <= 100 else []
    if near:
        return f"{msg} (did you mean {near[0]!r}?)"
    return f"{msg}; known: {', '.join(table)}"


DATA_PARAMS: dict[str, Param] = {p.name: p for p in (
    Key("name", "name", None, "the dataset (see the datasets table)", choices=DATASETS, required=True,
        noun="dataset"),
    Param("samples", "int", 600, "number of examples generated (train + test)", lo=4, hi=1_000_000),
    Key("noise", "float", None, "noise level; what it means depends on the dataset", lo=0, none_ok=True,
        default_doc="the dataset's"),
    Key("classes", "int", None, "number of classes (classification datasets)", lo=2, hi=1000, none_ok=True,
        default_doc="the dataset's"),
    Key("features", "int", None, "input dimensions (blobs, circles, xor, checkerboard, linear)", lo=1,
        hi=10_000, none_ok=True, default_doc="the dataset's"),
    Param("test_fraction", "float", 0.2, "fraction of the examples held out as the test split (0: none)",
          lo=0, hi=1, hi_open=True),
    Key("path", "text", None, "csv / npz: the file, relative to the scenario file's folder", none_ok=True,
        default_doc="required for csv and npz"),
    Key("task", "name", None, "csv / npz: the task (default: classification when every label is an integer)",
        choices=TASKS, none_ok=True, default_doc="from the labels"),
)}


def check_data_keys(spec: Mapping[str, Any]) -> tuple[dict, list[tuple[tuple[str, ...], ValueProblem]]]:
    """Check every key of a [data] table on its own. Returns the valid values (None values
    count as absent) and the problems as ((key, [index]), problem)."""
    values, problems = {}, []
    for key, value in spec.items():
        if key not in DATA_PARAMS:
            problems.append(((key,), ValueProblem(unknown_key_message(key, DATA_PARAMS, "[data]"))))
            continue
        if value is None:
            continue
        try:
            values[key] = check_value(DATA_PARAMS[key], value)
        except ValueProblem as e:
            problems.append(((key,) if e.index is None else (key, e.index), e))
    return values, problems


def resolve_data(values: Mapping[str, Any]) -> tuple[dict | None, list[tuple[tuple[str, ...], str]]]:
    """Fill the dataset's defaults into checked values and check the keys against the
    dataset. Returns (resolved dict with every DATA_PARAMS key, problems); a problem is
    (the keys involved, the one at fault first; message). None when there is no dataset."""
    name = values.get("name")
    if name is None:
        return None, [(("name",), f"missing: the dataset's name, {DATA_PARAMS['name'].allowed()}")]
    kind = DATASETS[name]
    problems = []
    for key, value in values.items():
        if key == "task" and value == kind.task:
            continue  # true of the dataset anyway (and what a resolved spec holds)
        if key != "name" and not kind.applies(key):
            problems.append(((key, "name"), _not_applicable(kind, key)))
    classes = values.get("classes", kind.classes)
    if kind.max_classes is not None and classes is not None and classes > kind.max_classes:
        problems.append((("classes", "name"), f"{name} has {kind.max_classes} classes, not {classes}; leave "
                                              f"`classes` out or set it to {kind.max_classes}"))
    if kind.from_file and values.get("path") is None:
        problems.append((("path", "name"), f"missing: {name} needs the file's path, relative to the scenario "
                                           f"file's folder"))
    out = {k: None for k in DATA_PARAMS}
    out["name"] = name
    out["test_fraction"] = values.get("test_fraction", DATA_PARAMS["test_fraction"].default)
    if kind.from_file:
        out["path"] = values.get("path")
        out["task"] = values.get("task")
    else:
        out["samples"] = values.get("samples", DATA_PARAMS["samples"].default)
        out["noise"] = values.get("noise", kind.noise)
        out["classes"] = classes
        out["features"] = values.get("features", kind.features)
        out["task"] = kind.task
    return out, problems


def _not_applicable(kind, key: str) -> str:
    name = kind.name
    if kind.from_file:
        return f"{name} loads a file; {key} does not apply (keys for {name}: path, task, test_fraction)"
    if key in ("path", "task"):
        return f"{key} is only for csv and npz; {name} is generated"
    if key == "classes":
        return f"{name} is a regression dataset; classes does not apply"
    if key == "features":
        with_features = ", ".join(n for n, k in DATASETS.items() if k.features is not None)
        return f"{name} has {kind.n_in}-D inputs; features does not apply (datasets with features: {with_features})"
    return f"{key} does not apply to {name}"
