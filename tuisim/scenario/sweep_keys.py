"""The [sweep] table's keys, declared once (validation in `sweep.py` and the reference
documentation in `reference.py` both read them), with the vocabulary of measures (what
a map shows) and of map claims ([[sweep.expect]] quantities).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tuisim.core.params import Param
from tuisim.data.keys import Key, found

from .keys import EXPECT_PARAMS, _number, _table
from .metrics import METRICS


@dataclass(frozen=True)
class Measure:
    """What one run contributes to its cell of the map."""

    name: str
    doc: str
    better: str | None = None  # "high" | "low" | None: which end of the colour scale is good
    log: bool = False  # spans decades: draw it on a log scale
    classification: bool = False
    test: bool = False


# The sweep's own measures (the whole training split at the end of the run), then every
# [[expect]] metric, read exactly as an expectation reads it (`layer`, `at`, `threshold`).
MEASURES: dict[str, Measure] = {
    "train_loss": Measure("train_loss", "loss on the whole training split at the end (evaluation mode); "
                          "inf when the run diverged", better="low", log=True),
    "train_accuracy": Measure("train_accuracy", "accuracy on the whole training split at the end (evaluation "
                              "mode; a diverged run keeps its last finite weights)", better="high",
                              classification=True),
}
_BETTER = {"accuracy": "high", "test_accuracy": "high", "loss": "low", "test_loss": "low",
           "steps_to_loss": "low", "diverged": "low", "diverged_at": "high"}
_LOG = {"loss", "test_loss", "grad_total_norm", "grad_norm", "delta_norm", "weight_norm", "update_ratio",
        "grad_norm_ratio", "delta_norm_ratio", "update_ratio_ratio", "act_std_ratio", "weight_change", "cond",
        "steps_to_loss", "diverged_at"}
for _m in METRICS.values():
    if _m.applies == "surface":  # sweeps map networks
        continue
    _doc = _m.doc + ("; 1 or 0, so a cell's mean is the fraction of seeds that diverged"
                     if _m.name == "diverged" else "")
    MEASURES[_m.name] = Measure(_m.name, _doc, _BETTER.get(_m.name), _m.name in _LOG, _m.classification, _m.test)

# [[sweep.expect]] quantities: what is read off the map, with whether it needs `axis`,
# `level`, and whether it is an axis value (rather than a value of the measure).
QUANTITIES: dict[str, str] = {
    "value": "the measure's mean at the cell `at` (axes left out of `at` are averaged over)",
    "argmax": "the value of `axis` where the measure is highest (other axes fixed by `at` or averaged)",
    "argmin": "the value of `axis` where the measure is lowest",
    "trend": "Spearman's rank correlation of the measure with `axis` (1: rises all along, -1: falls all "
             "along)",
    "first_above": "the first value of `axis` (in the axis's order) where the measure is above `level`",
    "first_below": "the first value of `axis` where the measure is below `level`",
    "last_above": "the last value of `axis` where the measure is above `level`",
    "last_below": "the last value of `axis` where the measure is below `level`",
}
AXIS_QUANTITIES = tuple(q for q in QUANTITIES if q != "value")
LEVEL_QUANTITIES = ("first_above", "first_below", "last_above", "last_below")
SCALES = {"linear": 0, "log": 1}


def _positive_count(hi: int):
    def check(key: Key, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hi:
            raise ValueError(f"{key.name} must be {key.allowed()}, not {found(value)}")
        return value
    return check


def _list(key: Key, value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{key.name} must be {key.allowed()}, not {found(value)}")
    return list(value)


def _equals(key: Key, value: Any) -> bool | float | str:
    if isinstance(value, (bool, str)):
        return value
    return _number(key, value)


def _point(key: Key, value: Any) -> dict:
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{key.name} must be {key.allowed()}, not {found(value)}")
    return value


MAX_SEEDS = 1000
MAX_VALUES = 10_000
# a grid's size: every point is checked like a scenario file before anything runs (a few ms
# each), and every run is a task; past these a map is days of computing, or never starts
MAX_POINTS = 10_000
MAX_RUNS = 100_000

SWEEP_PARAMS: dict[str, Param] = _table(
    Key("measure", "name", "train_loss", "what each cell of the map shows (see the measures table)",
        choices=MEASURES, noun="measure"),
    EXPECT_PARAMS["layer"],
    EXPECT_PARAMS["at"],
    Param("threshold", "float", None, "steps_to_loss: the training loss to reach", none_ok=True),
    Key("seeds", "int", 1, "runs per point, at seeds seed, seed + 1, ...: the map shows their mean and spread",
        words=f"an integer >= 1 and <= {MAX_SEEDS}", checker=_positive_count(MAX_SEEDS)),
    Key("axis", "tables", None, "the axes, in order: the first is drawn across (x), the second down (y)",
        words="an array of tables ([[sweep.axis]])", none_ok=True, default_doc="none: the variants and seeds"),
    Key("quick", "table", None, "a shortened grid for a quick look (`tuisim sweep --quick`) and the test "
        "suite", words="a table ([sweep.quick])", none_ok=True),
    Key("expect", "tables", None, "claims about the map, checked by `tuisim sweep --check` and the tests",
        words="an array of tables ([[sweep.expect]])", none_ok=True),
)

AXIS_PARAMS: dict[str, Param] = _table(
    Key("key", "text", None, "the key swept, spelt as for --set: \"model.depth\", \"train.lr\", \"steps\", "
        "\"variant.1.model.init\"", required=True),
    Key("values", "list", None, "the values, in order (each checked like the key's own value)",
        words="a non-empty list of values of the key", checker=_list, none_ok=True,
        default_doc="— (or a range)"),
    Key("from", "number", None, "a range's first value", words="a number", checker=_number, none_ok=True),
    Key("to", "number", None, "a range's last value (included when the steps reach it)", words="a number",
        checker=_number, none_ok=True),
    Key("num", "int", None, "a range's number of values, from and to included",
        words=f"an integer >= 1 and <= {MAX_VALUES}", checker=_positive_count(MAX_VALUES), none_ok=True),
    Param("step", "float", None, "a linear range's spacing (instead of num)", lo=0, lo_open=True,
          none_ok=True),
    Param("scale", "name", "linear", "a range's spacing: evenly (linear) or by equal ratios (log)",
          choices=SCALES),
    Key("label", "text", None, "the axis's title", none_ok=True, default_doc="the key"),
    Key("labels", "texts", None, "one tick label per value", none_ok=True, default_doc="the values"),
)

QUICK_PARAMS: dict[str, Param] = _table(
    Key("seeds", "int", None, "seeds of the quick grid", words=f"an integer >= 1 and <= {MAX_SEEDS}",
        checker=_positive_count(MAX_SEEDS), none_ok=True, default_doc="[sweep]'s"),
    Key("axis", "tables", None, "axes of [sweep] with fewer values: the same keys (key and values, or a range)",
        words="an array of tables ([[sweep.quick.axis]])", none_ok=True),
)

SWEEP_EXPECT_PARAMS: dict[str, Param] = _table(
    Key("claim", "text", None, "the claim in words, printed with the check's result", none_ok=True),
    Key("claim_zh", "text", None, "the claim in Chinese", none_ok=True, default_doc="the English `claim`"),
    Key("variant", "text", None, "the series (variant label) the claim reads", none_ok=True,
        default_doc="the only variant"),
    Key("quantity", "name", "value", "what is read off the map (see the quantities table)", choices=QUANTITIES,
        noun="quantity"),
    Key("axis", "text", None, "the axis key the quantity runs along (\"variant\" for argmax / argmin over the "
        "series)", none_ok=True),
    Key("at", "point", None, "fixes axes: { \"model.depth\" = 30 } (values of the grid); axes left free are "
        "averaged over", words="a table of axis keys and values", checker=_point, none_ok=True),
    Key("level", "number", None, "first_* / last_*: the level the measure is compared with", words="a number",
        checker=_number, none_ok=True),
    Key("relative_to", "text", None, "another variant's label: divide by its value of the same quantity",
        none_ok=True),
    Key("relative_at", "point", None, "other axis values: divide by the same quantity there",
        words="a table of axis keys and values", checker=_point, none_ok=True),
    EXPECT_PARAMS["below"],
    EXPECT_PARAMS["above"],
    EXPECT_PARAMS["between"],
    Key("equals", "exact", None, "passes when the value equals it (a number, true / false, or a text for argmax "
        "/ argmin over a text axis)", words="a number, true, false or a text", checker=_equals, none_ok=True),
)
