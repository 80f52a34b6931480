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

    def __post_init__(self) -> None:  # a message line stays readable whatever the file holds
        if self.file is not None and self.file.startswith("--"):  # a --set or --grid with a long value
            object.__setattr__(self, "file", _cut(self.file, MAX_KEY))
        object.__setattr__(self, "key", _cut(self.key, MAX_KEY))
        object.__setattr__(self, "message", _cut(self.message, MAX_MESSAGE))

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


MAX_KEY = 100  # characters of a problem's dotted key (and --set origin), and of its message: every line
MAX_MESSAGE = 280  # under 500


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit - 40]}... ({len(text):,} characters)"


class ScenarioError(Exception):
    """A scenario that cannot be loaded. The CLI prints str(error) and exits with status 2."""

    exit_status = 2

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
