"""Learning-rate schedules, per step (t = 0 is the first step), after torch.optim.lr_scheduler."""

from __future__ import annotations

import math

from .params import DEFAULT_GAMMA
from .registry import SCHEDULES, unknown_name_message


def lr_at(t: int, lr: float, schedule: str = "constant", *, step_size: int = 100, gamma: float | None = None,
          t_max: int = 1000, eta_min: float = 0.0, warmup_steps: int = 0) -> float:
    """The learning rate of step t (0-based).

    constant     lr
    step         lr * gamma ** (t // step_size)           (StepLR, gamma 0.1)
    exponential  lr * gamma ** t                          (ExponentialLR, gamma 0.99)
    cosine       eta_min + (lr - eta_min) * (1 + cos(pi * t / t_max)) / 2   (CosineAnnealingLR: past t_max it
                 climbs back, reaching lr again at 2 t_max)
    warmup       lr (the linear warmup below does the work)
    warmup_steps > 0 multiplies any of them by min(1, (t + 1) / warmup_steps).
    """
    if gamma is None:
        gamma = DEFAULT_GAMMA.get(schedule, 1.0)
    if schedule in ("constant", "warmup"):
        out = lr
    elif schedule == "step":
        out = lr * gamma ** (t // step_size)
    elif schedule == "exponential":
        out = lr * gamma ** t
    elif schedule == "cosine":
        out = eta_min + (lr - eta_min) * (1.0 + math.cos(math.pi * t / t_max)) / 2.0
    else:
        raise ValueError(unknown_name_message("schedule", SCHEDULES, schedule))
    if warmup_steps > 0:
        out *= min(1.0, (t + 1) / warmup_steps)
    return out
