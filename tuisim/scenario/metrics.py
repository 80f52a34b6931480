"""The expectation vocabulary: every quantity an [[expect]] can check, by name.

kind "scalar": one number per step; "layer": one number per linear layer per step (pick
one with `layer`); "run": one number for the whole run. `applies`: to networks, to points
on a [surface] (tuisim.core.surface), or to both.
"""

from __future__ import annotations

from dataclasses import dataclass

AT_NAMES = ("start", "end", "min", "max", "mean")  # `at` of per-step metrics (or a step number)
LAYER_NAMES = ("mean", "min", "max")  # `layer` of per-layer metrics (or a layer index)
RELATIVE_AT_NAMES = ("start", "end")


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "scalar" | "layer" | "run"
    doc: str
    layered: bool = False  # takes `layer`
    at: tuple[str, ...] | None = AT_NAMES  # named values of `at`; None: `at` does not apply
    at_steps: bool = True  # `at` may be a step number
    value: str = "number"  # "number" | "bool" | "step" (a step number, inf when never)
    classification: bool = False  # needs class labels (accuracy)
    test: bool = False  # needs the test split
    applies: str = "network"  # "network", "surface" or "both"
    minimum: bool = False  # needs a surface with a minimum (not the saddles)


METRICS: dict[str, Metric] = {}


def _metric(name: str, kind: str, doc: str, **info) -> None:
    if kind == "layer":
        info.setdefault("layered", True)
    if kind == "run":
        info.setdefault("at", None)
        info.setdefault("at_steps", False)
    METRICS[name] = Metric(name, kind, doc, **info)


# scalars, every step
_metric("loss", "scalar", "training loss of the step's batch; on a surface, its value at the step's point",
        applies="both")
_metric("accuracy", "scalar", "training accuracy of the step's batch (classification)", classification=True)
_metric("test_loss", "scalar", "loss on the test split (computed every `eval_every` steps)", test=True)
_metric("test_accuracy", "scalar", "accuracy on the test split (every `eval_every` steps)", test=True,
        classification=True)
_metric("grad_total_norm", "scalar", "global norm of all trainable gradients, before clipping")
_metric("lr", "scalar", "the step's learning rate (after schedule and warmup)", applies="both")
# per linear layer, every step (layer 0 = first, -1 = output)
_metric("grad_norm", "layer", "||dL/dW|| of the layer's weights (before clipping and weight decay); on a surface "
        "(no layers) the norm of the step's gradient, noise included", applies="both")
_metric("delta_norm", "layer", "||dL/dz|| over the batch, z = the layer's linear output (the back-propagated signal)")
_metric("weight_norm", "layer", "||W|| of the layer's weights, before the step's update")
_metric("update_ratio", "layer", "||W after - W before|| / ||W before||: the step's relative update")
_metric("act_mean", "layer", "mean of the layer's activations (the logits for the output layer)")
_metric("act_std", "layer", "standard deviation of the layer's activations")
_metric("saturated", "layer", "fraction of saturated units (sigmoid < 0.03 or > 0.97, |tanh| > 0.94; else 0)")
_metric("dead", "layer", "fraction of (leaky) ReLU units that are off for the whole batch (else 0)")
# ratios, every step
_metric("grad_norm_ratio", "scalar", "grad_norm of the first linear layer / grad_norm of the last (output) layer")
_metric("delta_norm_ratio", "scalar", "delta_norm of the first linear layer / delta_norm of the last")
_metric("update_ratio_ratio", "scalar", "update_ratio of the first linear layer / update_ratio of the last")
_metric("act_std_ratio", "scalar", "act_std of the last hidden layer / act_std of the first hidden layer")
# whole run
_metric("diverged", "run", "whether the loss or a gradient became NaN or infinite (compare with equals)",
        value="bool", applies="both")
_metric("diverged_at", "run", "the first step that diverged; inf when none did", value="step", applies="both")
_metric("steps_to_loss", "run", "the first step whose training loss is <= threshold; inf when none is",
        value="step", applies="both")
_metric("weight_change", "run", "||W end - W start|| of a layer over the whole run", layered=True)
_metric("weight_rank", "run", "numerical rank of a layer's weights at the end (1 = every unit identical)",
        layered=True)
_metric("cond", "run", "condition number of the product of the hidden weight matrices, at start or end",
        at=("start", "end"))
# a point on a [surface], every step: the values describe the step's starting point and the
# change the step made (tuisim.core.surface.PathTrace)
_metric("x", "scalar", "the point's x at the step's start", applies="surface")
_metric("y", "scalar", "the point's y at the step's start", applies="surface")
_metric("update_x", "scalar", "the change of x the step made (its update)", applies="surface")
_metric("update_y", "scalar", "the change of y the step made", applies="surface")
_metric("update_norm", "scalar", "the length of the step's update", applies="surface")
_metric("distance_to_minimum", "scalar", "the distance from the step's point to the nearest minimum",
        applies="surface", minimum=True)
_metric("path_length", "scalar", "the length travelled by the end of the step (the sum of the updates' lengths)",
        applies="surface")
_metric("oscillation", "scalar", "sign changes of the steep coordinate's update by the end of the step (the "
        "zig-zag across a ravine: y on ravine, quadratic, saddle; see the table of surfaces)", applies="surface")
_metric("steps_to_minimum", "run", "the first step whose point is within threshold of a minimum; inf when none "
        "is", value="step", applies="surface", minimum=True)
