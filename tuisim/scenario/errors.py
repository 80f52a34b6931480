"""What goes wrong in a scenario file, all of it at once.

A `ScenarioError` carries every `Problem` found; `str(error)` is one line per problem,
in the compiler format editors understand:

    spirals.toml:12: model.activation: unknown activation 'sigmoud' (did you mean 'sigmoid'?); known: ...
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str | None  # the scenario file as named to the user, or "--set key=value" for an override
    line: int | None  # 1-based; None when the file does not say where
    key: str | None  # dotted: model.activation, variant[1] ("relu, He").model.init, expect[0].metric
    message: str

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario that cannot be loaded. The CLI prints str(error) and exits with status 2."""

    exit_status = 2

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
