"""Messages the training worker posts to the run screen, and the sweep's worker to the
sweep screen (Toolong's pattern).

Data never travels in messages: the screens pull the latest `History` (or the sweep's
results) on a timer.
Messages say that something happened. The frequent one (`Progress`) may be replaced by
a newer one waiting in the queue; the ones that carry an event never are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message


@dataclass
class DriverMessage(Message):
    """From the worker of one `Driver` (or `SweepDriver`); the screen ignores those of a replaced
    driver."""

    driver: object


@dataclass
class SessionReady(DriverMessage):
    """The variants are built (networks initialised, data loaded)."""


@dataclass
class EngineReady(DriverMessage):
    """The first step ran: the engine is compiled (or loaded from the cache)."""

    seconds: float = 0.0


@dataclass
class Progress(DriverMessage):
    """A chunk of steps ran. Only the latest matters."""

    steps: int = 0

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Progress) and message.driver is self.driver


@dataclass
class Paused(DriverMessage):
    """The run paused or resumed (by a key, or at `pause_at`)."""

    paused: bool = True


@dataclass
class VariantDiverged(DriverMessage):
    """One run diverged: a variant's (at `seed` when the scenario runs several)."""

    label: str = ""
    step: int = 0
    seed: int | None = None


@dataclass
class RunFinished(DriverMessage):
    """Every variant is done or diverged at every seed; `checks` are the scenario's
    expectations (each line with the median and every seed's value when there are several)."""

    checks: list[tuple[bool, str]] = field(default_factory=list)


@dataclass
class Notice(DriverMessage):
    """The outcome of a request run between chunks (a live change, an export)."""

    text: str = ""
    severity: str = "information"


# ---------------------------------------------------------------- the sweep screen's worker
@dataclass
class SweepFinished(DriverMessage):
    """Every run of the grid is done; `checks` are its [[sweep.expect]] claims (SweepCheck)."""

    checks: list = field(default_factory=list)


@dataclass
class SweepPaused(DriverMessage):
    """The sweep stopped before the end (a pause): it can resume."""


@dataclass
class SweepRunFailed(DriverMessage):
    """The first run of the grid that failed (the map marks every one)."""

    text: str = ""
