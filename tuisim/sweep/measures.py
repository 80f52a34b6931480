"""What one run contributes to its cell: the sweep's measure, computed from the finished run.

The names, their documentation and their validation live with the scenario format
(`tuisim.scenario.sweep_keys.MEASURES`); this is the computation.
"""

from __future__ import annotations

import math

from tuisim.run.checks import metric_value
from tuisim.run.variant_run import DIVERGED, VariantRun

from .tasks import MeasureSpec


def measure_value(run: VariantRun, spec: MeasureSpec) -> float:
    """The measure of a finished run, as a float (booleans 1.0 / 0.0; never-reached steps inf)."""
    if spec.name == "train_loss":
        if run.status == DIVERGED:
            return math.inf
        return float(run.evaluate("train")[0])
    if spec.name == "train_accuracy":
        return float(run.evaluate("train")[1])
    return float(metric_value(run, spec.name, spec.layer, spec.at, spec.threshold))
