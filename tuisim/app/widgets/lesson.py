"""The scenario's lesson: its description (markdown), its variants and, once the run is
over, its expectations checked."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown


def lesson_markdown(scenario, networks: list[tuple[str, str]] | None = None,
                    checks: list[tuple[bool, str]] | None = None) -> str:
    parts = [scenario.description.strip() or "_(this scenario has no description)_"]
    if networks:
        parts.append("**Variants**\n\n" + "\n".join(f"- **{label}**: {desc}" for label, desc in networks))
    if checks:
        parts.append("**Expectations**\n\n" + "\n".join(f"- {'✓' if ok else '✗'} {line}" for ok, line in checks))
    return "\n\n".join(parts)


class LessonPanel(VerticalScroll, can_focus=True):
    """The description, scrollable."""

    DEFAULT_CSS = """
    LessonPanel Markdown { margin: 0 1; padding: 0; }
    """

    def __init__(self, scenario, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.scenario = scenario
        self.border_title = "About this lesson"
        self.networks: list[tuple[str, str]] | None = None
        self.checks: list[tuple[bool, str]] | None = None

    def compose(self):
        yield Markdown(lesson_markdown(self.scenario))

    def set_info(self, networks=None, checks=None) -> None:
        if networks is not None:
            self.networks = networks
        if checks is not None:
            self.checks = checks
        self.query_one(Markdown).update(lesson_markdown(self.scenario, self.networks, self.checks))
