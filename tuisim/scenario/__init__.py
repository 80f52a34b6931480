"""Scenario files: TOML -> a validated, frozen `Scenario` (no Textual, no Numba here).

    from tuisim.scenario import load_scenario, ScenarioError
    try:
        sc = load_scenario("vanishing_sigmoid", overrides=["model.depth=30"])
    except ScenarioError as e:
        print(e)            # one line per problem: file:line: key: message
        raise SystemExit(e.exit_status)
"""

from .errors import Problem, ScenarioError
from .keys import EXPECT_PARAMS, PRETRAIN_PARAMS, RUN_PARAMS, TOP_PARAMS, TRAIN_PARAMS, VARIANT_PARAMS
from .load import bundled_dir, bundled_scenarios, find_scenario, load_scenario, parse_scenario, parse_value
from .metrics import METRICS, Metric
from .model import Expect, Scenario, Variant
from .reference import format_reference_markdown
from .sweep import Axis, Sweep, SweepExpect
from .sweep_keys import MEASURES, QUANTITIES, Measure

__all__ = ["Axis", "MEASURES", "Measure", "QUANTITIES", "Sweep", "SweepExpect", "EXPECT_PARAMS", "METRICS", "PRETRAIN_PARAMS", "RUN_PARAMS", "TOP_PARAMS", "TRAIN_PARAMS",
           "VARIANT_PARAMS", "Expect", "Metric", "Problem", "Scenario", "ScenarioError", "Variant", "bundled_dir",
           "bundled_scenarios", "find_scenario", "format_reference_markdown", "load_scenario", "parse_scenario",
           "parse_value"]
