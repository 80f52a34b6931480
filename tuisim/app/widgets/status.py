"""The one-line title bar and status bars of the run screen and the sweep screen."""

from __future__ import annotations

import time

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tuisim.i18n import N_, _, scenario_text
from tuisim.run.compare import clock

from ..driver import speed_label
from ..format import num, shorten_labels

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class TitleBar(Widget):
    """tuisim · the scenario's title · its lessons. The title is a text, or what gives it in
    the language of the moment: a scenario (its title, by `scenario_text`) or a function
    of no argument (the language can change while the bar is shown)."""

    COMPONENT_CLASSES = {"title-bar--app", "title-bar--lessons"}
    DEFAULT_CSS = "TitleBar { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }"

    def __init__(self, title: str, lessons: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title_text = title
        self.lessons = lessons

    def title(self) -> str:
        title = self.title_text
        if callable(title):
            return title()
        if not isinstance(title, str):
            return scenario_text(title, "title")
        return title

    def render(self):
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" tuisim ", self.get_component_rich_style("title-bar--app"))
        t.append(f" {self.title()}", Style(bold=True))
        if self.lessons:
            t.append("  " + " ".join(self.lessons), self.get_component_rich_style("title-bar--lessons"))
        return t


def variant_state(runs, paused: bool = False) -> list[tuple[str, str]]:
    """What a variant's runs (one per seed) are doing, as (text, kind) pieces, kind one of
    the status bar's classes: ok, error, muted. Finished only when every seed is; while the
    run is paused, a run that would be training is "paused"."""

    def going(status: str) -> str:
        shown = "paused" if paused and status in ("running", "ready") else status
        return _(shown)

    div = [r for r in runs if r.status == "diverged"]
    if len(runs) == 1:
        r = runs[0]
        if div:
            return [(_("diverged at step {step}").format(step=r.diverged_at), "error")]
        return [(_("done"), "ok")] if r.status == "done" else [(r.pretrain_status or going(r.status), "muted")]
    n = len(runs)
    if len(div) == n:
        return [(_("all {n} seeds diverged").format(n=n), "error")]
    if all(r.finished for r in runs):
        state = [(_("done"), "ok")]
    else:
        still = [r for r in runs if not r.finished]
        note = next((r.pretrain_status for r in still if r.pretrain_status), "")
        state = [(note or going("running" if any(r.status == "running" for r in still) else still[0].status),
                  "muted")]
    if div:
        state.append((_(", {k} of {n} diverged").format(k=len(div), n=n), "error"))
    return state


# a run's statuses, for the catalog (the status bar shows them translated)
STATUSES = (N_("running"), N_("ready"), N_("paused"), N_("done"), N_("diverged"), N_("pretraining"),
            N_("quick grid"), N_("full grid"))


def fit(pieces: list[tuple[int, Text]], width: int) -> Text:
    """The pieces (priority, text), in their order, without the least important ones until
    the line fits in `width` cells (priority 0: always kept; the highest number goes first,
    the later of equals first); what still overflows is cut with an ellipsis."""
    kept = list(pieces)
    if width > 0:
        while sum(t.cell_len for _, t in kept) > width:
            droppable = [k for k, (p, _) in enumerate(kept) if p > 0]
            if not droppable:
                break
            worst = max(droppable, key=lambda k: (kept[k][0], k))
            del kept[worst]
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    for _, t in kept:
        out.append_text(t)
    if width > 0 and out.cell_len > width:
        out.truncate(width, overflow="ellipsis")
    return out


class StatusBar(Widget):
    """Run state, step, speed, learning rate and the variants whose state says more than
    the run's (done while others train, diverged, pretraining), from the driver. When the
    line is short the least useful parts go first: the steps/s, the speed, which variant
    the lr is of, the seed count."""

    COMPONENT_CLASSES = {"status-bar--state", "status-bar--busy", "status-bar--muted", "status-bar--error",
                         "status-bar--ok"}
    DEFAULT_CSS = "StatusBar { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }"

    def __init__(self, *, id: str | None = None, deterministic: bool = False) -> None:
        super().__init__(id=id)
        self.driver = None
        self.focus_index = 0
        self.error: str | None = None
        self.deterministic = deterministic

    def update_if_changed(self) -> None:
        """Redraw only when the text changed (called every frame)."""
        text = self._text()
        if text.plain != getattr(self, "_shown", None):
            self._shown = text.plain
            self.refresh()

    def render(self):
        return self._text()

    def _text(self) -> Text:
        t, done = self._line()
        if done:
            return t
        d = self.driver
        if d is None or d.phase in ("starting", "building"):
            self._busy(t, _("preparing the networks…"))
            return t
        session = d.session
        if d.phase == "compiling":
            notes = [r.pretrain_status for r in session.runs if r.pretrain_status]
            if notes:
                self._busy(t, f"{notes[0]}…")
            else:
                secs = "" if self.deterministic else " " + _("{secs} s").format(
                    secs=f"{time.monotonic() - d.phase_since:.0f}")
                self._busy(t, f"{d.engine_text}…{secs}")
            return t
        return fit(self._pieces(d, session), self.size.width)

    def _pieces(self, d, session) -> list[tuple[int, Text]]:
        c = self.get_component_rich_style
        muted = c("status-bar--muted")
        pieces: list[tuple[int, Text]] = []

        def add(priority: int, text: str, style=None) -> None:
            pieces.append((priority, Text(text, style=style or "")))

        finished = d.phase == "finished"
        if finished:
            add(0, " ✓ " + _("finished") + " ", c("status-bar--ok"))
            word = _("done")
        elif d.paused:
            add(0, " ⏸ " + _("paused") + " ", c("status-bar--state"))
            word = _("paused")
        else:
            add(0, " ▶ " + _("running") + " ", c("status-bar--state"))
            word = _("running")
        total = max(r.total_steps for r in session.runs)
        add(0, " " + _("step {step}/{total}").format(step=d.step, total=total))
        if len(session.seeds) > 1:
            add(2, " · " + _("{n} seeds").format(n=len(session.seeds)))
            diverged = sum(r.status == "diverged" for r in session.runs)
            if diverged:
                add(1, " · " + _("{n} diverged").format(n=diverged), c("status-bar--error"))
        if not self.deterministic and not finished and not d.paused:
            rate = d.rate
            add(5, " · " + _("{rate} steps/s").format(rate=f"{rate:.0f}" if rate == rate else "–"), muted)
        add(6 if d.speed is None else 4, " · " + _("speed {speed}").format(speed=speed_label(d.speed)), muted)
        groups = session.groups
        focus = groups[self.focus_index % len(groups)].runs[0]
        add(2, f" · lr {num(focus.opt.lr_at(max(focus.step - 1, 0)))}")
        names = shorten_labels([g.label for g in groups], 24)  # long names cut alike, kept apart
        if len(groups) > 1:
            add(4, f" ({names[self.focus_index % len(groups)]})", muted)
        for g, name in zip(groups, names):
            state = variant_state(g.runs, paused=d.paused and not finished)
            (first, kind), *rest = state
            if first == word and not rest:
                continue  # what the run as a whole is doing: said once, at the start
            piece = Text(" · ", style=muted)
            piece.append(_("{name}: ").format(name=name))
            for text, kind in state:
                piece.append(text, c(f"status-bar--{kind}"))
            pieces.append((1 if any(k == "error" for _, k in state) else 3, piece))
        return pieces

    def _line(self) -> tuple[Text, bool]:
        """A new status line, and whether it is complete already (an error shows alone)."""
        t = Text(no_wrap=True, overflow="ellipsis")
        if self.error:
            t.append(f" ✗ {self.error}", self.get_component_rich_style("status-bar--error"))
        return t, bool(self.error)

    def _busy(self, t: Text, what: str) -> Text:
        """A spinner and what is under way."""
        t.append(f" {self._spin()} {what}", self.get_component_rich_style("status-bar--busy"))
        return t

    def _spin(self) -> str:
        if self.deterministic:
            return SPINNER[0]
        return SPINNER[int(time.monotonic() * 10) % len(SPINNER)]


class SweepStatusBar(StatusBar):
    """The sweep's state, runs done of the total (with a bar), failures, elapsed time, ETA,
    where the runs go and which grid (the last ones go first when the line is short)."""

    def __init__(self, *, id: str | None = None, deterministic: bool = False) -> None:
        super().__init__(id=id, deterministic=deterministic)
        self.grid_name = N_("full grid")  # shown translated

    def _text(self) -> Text:
        c = self.get_component_rich_style
        muted = c("status-bar--muted")
        t, done = self._line()
        if done:
            return t
        d = self.driver
        if d is None:
            self._busy(t, _("loading the sweep…"))
            return t
        p = d.progress()
        state = d.state
        pieces: list[tuple[int, Text]] = []

        def add(priority: int, text: str, style=None) -> None:
            pieces.append((priority, Text(text, style=style or "")))

        if state == "starting":
            add(0, f" {self._spin()} " + _("starting {executor} (loading the engine)…").format(
                executor=d.executor_name) + " ", c("status-bar--busy"))
        elif state == "running":
            add(0, " ▶ " + _("running") + " ", c("status-bar--state"))
        elif state == "pausing":
            add(0, f" {self._spin()} " + _("pausing after the runs in flight…") + " ", c("status-bar--busy"))
        elif state == "paused":
            add(0, " ⏸ " + _("paused (space resumes)") + " ", c("status-bar--state"))
        elif state == "finished":
            add(0, " ✓ " + _("finished") + " ", c("status-bar--ok"))
        else:
            add(0, f" {_(state)} ", muted)
        done, total = p["done"], p["total"]
        add(0, " " + _("{done}/{total} runs").format(done=done, total=total))
        cells = 12
        k = int(cells * done / total) if total else cells
        bar = Text(" ")
        bar.append("━" * k, c("status-bar--ok") if state == "finished" else c("status-bar--state"))
        bar.append("─" * (cells - k), muted)
        pieces.append((4, bar))
        if p["failed"]:
            add(1, " · " + _("{n} failed").format(n=p["failed"]), c("status-bar--error"))
        if not self.deterministic:
            add(5, " · " + _("{time} elapsed").format(time=clock(p["elapsed"])), muted)
            if state in ("starting", "running"):
                add(2, " · " + _("ETA {time}").format(time=clock(p["eta"])))
        if state != "starting":
            add(6, f" · {d.executor_name}", muted)
        add(3, f" · {_(self.grid_name)}", muted)
        return fit(pieces, self.size.width)


class ViewTabs(Widget):
    """The lower panel's views as tabs, the current one highlighted; the key hint is
    added when the line has room for it (never cut in the middle). The views' names
    (English, marked N_ where they are defined) are shown in the interface's language;
    the shorter forms too (SHORT and the others are English names to their marked short
    forms), all measured in cells."""

    DEFAULT_CSS = "ViewTabs { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }"
    HINT = N_("p: next view · 0: hide")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.views: list[tuple[int, str, bool]] = []

    def set_views(self, views: list[tuple[int, str, bool]]) -> None:
        """(key, name, current) for each view."""
        self.views = views
        self.refresh()

    # TRANSLATORS: the lower panel's tabs when the line is short: a word (SHORT), four
    # letters (ABBREV: Chinese two characters), two letters (INITIALS: one character)
    SHORT = {"Heat strip": N_("Heat"), "Histograms": N_("Hist"), "Health": N_("Health"), "About": N_("About"),
             "Decision boundary": N_("Boundary")}
    ABBREV = {"Heat strip": N_("Heat"), "Histograms": N_("Hist"), "Health": N_("Hlth"), "About": N_("Abt"),
              "Decision boundary": N_("Bnd")}
    INITIALS = {"Heat strip": N_("He"), "Histograms": N_("Hi"), "Health": N_("Hl"), "About": N_("Ab"),
                "Decision boundary": N_("Bd")}
    LEVELS = ("full", "short", "tight", "abbrev", "initials", "keys")

    def _tabs(self, names: str) -> Text:
        """names: "full", "short", "tight" (short names, closer together), "abbrev" (four
        letters at most), "initials" (the others as key and two letters: "2Hl 3Hi") or
        "keys" (only the current view named: the last resort of a very narrow terminal).
        The current view always keeps its short name."""
        t = Text(no_wrap=True, overflow="ellipsis")
        tight = names != "full" and names != "short"
        for k, (key, name, current) in enumerate(self.views):
            if k:
                t.append(" ")
            table = {"full": {}, "abbrev": self.ABBREV, "initials": self.INITIALS}.get(names, self.SHORT)
            label = name if names == "full" else table.get(name, name)
            label = _(label)
            if current:
                shown = self.SHORT.get(name, name) if names != "full" else name
                t.append(f" {key} {_(shown)} ", Style(reverse=True))
            elif names == "keys":
                t.append(f"{key}", Style(dim=True))
            elif names == "initials":
                t.append(f"{key}", Style(dim=True))
                t.append(label)
            elif tight:
                t.append(f"{key}", Style(dim=True))
                t.append(f" {label}")
            else:
                t.append(f" {key}", Style(dim=True))
                t.append(f" {label} ")
        return t

    def render(self):
        width = self.size.width
        for names in self.LEVELS:
            t = self._tabs(names)
            if t.cell_len <= width:
                break
        hint = _(self.HINT)
        if t.cell_len + 2 + cell_len(hint) <= width:
            t.append("  " + hint, Style(dim=True))
        return t
