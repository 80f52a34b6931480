"""The scenario's lesson: its description (markdown), its variants and, once the run is
over, its expectations checked; for a sweep, what its map shows and its claims."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown

from tuisim.i18n import N_, _, scenario_text


def lesson_markdown(scenario, networks: list[tuple[str, str]] | None = None,
                    checks: list[tuple[bool, str]] | None = None) -> str:
    """The description and the variants; once the run is over its expectations come
    first, as they are what the end of the run shows (in a short terminal the panel is
    a few lines high)."""
    parts = [(scenario_text(scenario, "description") or "").strip() or _("_(this scenario has no description)_")]
    if networks:
        parts.append("**" + _("Variants") + "**\n\n"
                     + "\n".join(f"- **{label}**: {desc}" for label, desc in networks))
    if checks:
        ok = sum(1 for passed, __ in checks if passed)
        parts.insert(0, _("**Expectations** ({ok} of {n} hold)").format(ok=ok, n=len(checks)) + "\n\n"
                     + "\n".join(f"- {'✓' if passed else '✗'} {line}" for passed, line in checks))
    return "\n\n".join(parts)


class LessonPanel(VerticalScroll, can_focus=True):
    """The description, scrollable; in the interface's language (`relabel` after a switch)."""

    TITLE = N_("About this lesson")

    DEFAULT_CSS = """
    LessonPanel Markdown { margin: 0 1; padding: 0; }
    """

    def __init__(self, scenario, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.scenario = scenario
        self.border_title = _(self.TITLE)
        self.networks: list[tuple[str, str]] | None = None
        self.checks: list[tuple[bool, str]] | None = None

    def markdown(self) -> str:
        return lesson_markdown(self.scenario, self.networks, self.checks)

    def compose(self):
        # the text is laid out when the panel is first shown: a hidden panel's markdown
        # widgets would only slow the first frame
        self._shown = False
        yield Markdown()

    def on_show(self) -> None:
        if not self._shown:
            self._shown = True
            self.query_one(Markdown).update(self.markdown())

    def relabel(self) -> None:
        """Everything again in the language of the moment."""
        self.border_title = _(self.TITLE)
        if self._shown:
            self.query_one(Markdown).update(self.markdown())

    def set_info(self, networks=None, checks=None) -> None:
        if networks is not None:
            self.networks = networks
        if checks is not None:
            self.checks = checks
        if self._shown:
            self.query_one(Markdown).update(self.markdown())


def sweep_markdown(scenario, layout, plan, quick: bool, checks=None) -> str:
    """What the map shows (measure, axes, seeds, runs), the lesson, and the claims once checked."""
    from tuisim.scenario import MEASURES

    g = plan.grid
    measure = MEASURES.get(plan.measure.name)
    what = f"**{plan.measure.describe().replace('_', ' ')}**" + (
        f", {_(measure.doc)}" if measure is not None else "")
    axes = [_("across, **{title}** ({labels})").format(title=layout.x.title, labels=", ".join(layout.x.labels))
            ] if layout.x.title else []
    if layout.y is not None:
        axes.append(_("down, **{title}** ({labels})").format(title=layout.y.title, labels=", ".join(layout.y.labels)))
    for a in layout.panel_axes:
        axes.append(_("side by side, **{title}** ({labels})").format(title=a.title, labels=", ".join(a.labels)))
    seeds = len(g.seeds)
    runs = len(plan.tasks)
    grid = _("quick grid") if quick else _("full grid")
    per_point = (_("{n} seed per point") if seeds == 1 else _("{n} seeds per point")).format(n=seeds)
    parts = [_("**The map** ({grid}): {what}; {axes}; {seeds}, {runs} runs.").format(
        grid=grid, what=what, axes=_("; ").join(axes), seeds=per_point, runs=runs)]
    if checks:
        lines = []
        for c in checks:
            mark = "–" if c.skipped else ("✓" if c.passed else "✗")
            text = scenario_text(c.expect, "claim")
            claim = f"{text}: " if text else ""
            lines.append(f"- {mark} {claim}{c.text}")
        ok = sum(1 for c in checks if c.passed and not c.skipped)
        parts.append(_("**Claims about the map** ({ok} of {n} hold)").format(ok=ok, n=len(checks)) + "\n\n"
                     + "\n".join(lines))
    elif scenario.sweep is not None and scenario.sweep.expects:
        n = len(scenario.sweep.expects)
        what = _("Its claim about the map is checked when every run is done.") if n == 1 else _(
            "Its {n} claims about the map are checked when every run is done.").format(n=n)
        parts.append(f"_{what}_")
    parts.append((scenario_text(scenario, "description") or "").strip())
    return "\n\n".join(parts)


class SweepAbout(LessonPanel):
    """The sweep's lesson: what the map shows, the description, and its claims checked."""

    TITLE = N_("About this map")

    def __init__(self, scenario, layout, plan, quick: bool, *, id: str | None = None) -> None:
        self.map_layout, self.plan, self.quick = layout, plan, quick
        super().__init__(scenario, id=id)
        self.border_title = _(self.TITLE)

    def markdown(self) -> str:
        return sweep_markdown(self.scenario, self.map_layout, self.plan, self.quick, self.checks)

    def set_grid(self, layout, plan, quick: bool) -> None:
        self.map_layout, self.plan, self.quick, self.checks = layout, plan, quick, None
        self.set_info()
