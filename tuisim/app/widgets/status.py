"""The one-line title bar and status bars of the run screen and the sweep screen."""

from __future__ import annotations

import time

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tuisim.run.compare import clock

from ..driver import speed_label
from ..format import num

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class TitleBar(Widget):
    """tuisim · the scenario's title · its lessons."""

    COMPONENT_CLASSES = {"title-bar--app", "title-bar--lessons"}
    DEFAULT_CSS = "TitleBar { height: 1; }"

    def __init__(self, title: str, lessons: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title_text = title
        self.lessons = lessons

    def render(self):
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" tuisim ", self.get_component_rich_style("title-bar--app"))
        t.append(f" {self.title_text}", Style(bold=True))
        if self.lessons:
            t.append("  " + " ".join(self.lessons), self.get_component_rich_style("title-bar--lessons"))
        return t


def variant_state(runs) -> list[tuple[str, str]]:
    """What a variant's runs (one per seed) are doing, as (text, kind) pieces, kind one of
    the status bar's classes: ok, error, muted. Finished only when every seed is."""
    div = [r for r in runs if r.status == "diverged"]
    if len(runs) == 1:
        r = runs[0]
        if div:
            return [(f"diverged at step {r.diverged_at}", "error")]
        return [("done", "ok")] if r.status == "done" else [(r.pretrain_status or r.status, "muted")]
    n = len(runs)
    if len(div) == n:
        return [(f"all {n} seeds diverged", "error")]
    if all(r.finished for r in runs):
        state = [("done", "ok")]
    else:
        going = [r for r in runs if not r.finished]
        note = next((r.pretrain_status for r in going if r.pretrain_status), "")
        state = [(note or ("running" if any(r.status == "running" for r in going) else going[0].status), "muted")]
    if div:
        state.append((f", {len(div)} of {n} diverged", "error"))
    return state


class StatusBar(Widget):
    """Run state, step, speed, learning rate and each variant's state, from the driver."""

    COMPONENT_CLASSES = {"status-bar--state", "status-bar--busy", "status-bar--muted", "status-bar--error",
                         "status-bar--ok"}
    DEFAULT_CSS = "StatusBar { height: 1; }"

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
        c = self.get_component_rich_style
        muted = c("status-bar--muted")
        t, done = self._line()
        if done:
            return t
        d = self.driver
        if d is None or d.phase in ("starting", "building"):
            self._busy(t, "preparing the networks…")
            return t
        session = d.session
        if d.phase == "compiling":
            notes = [r.pretrain_status for r in session.runs if r.pretrain_status]
            if notes:
                self._busy(t, f"{notes[0]}…")
            else:
                secs = "" if self.deterministic else f" {time.monotonic() - d.phase_since:.0f} s"
                self._busy(t, f"compiling the engine (first run only)…{secs}")
            return t
        if d.phase == "finished":
            t.append(" ✓ finished ", c("status-bar--ok"))
        elif d.paused:
            t.append(" ⏸ paused ", c("status-bar--state"))
        else:
            t.append(" ▶ running ", c("status-bar--state"))
        total = max(r.total_steps for r in session.runs)
        t.append(f" step {d.step}/{total}")
        if len(session.seeds) > 1:
            diverged = sum(r.status == "diverged" for r in session.runs)
            t.append(f" · {len(session.seeds)} seeds")
            if diverged:
                t.append(f" · {diverged} diverged", c("status-bar--error"))
        if not self.deterministic and d.phase != "finished":
            rate = d.rate
            t.append(f" · {rate:.0f} steps/s" if rate == rate else " · – steps/s", muted)
        t.append(f" · speed {speed_label(d.speed)}", muted)
        groups = session.groups
        focus = groups[self.focus_index % len(groups)].runs[0]
        t.append(f" · lr {num(focus.opt.lr_at(max(focus.step - 1, 0)))}")
        if len(groups) > 1:
            t.append(f" ({focus.label})", muted)
        t.append("  ")
        for g in groups:
            (first, kind), *rest = variant_state(g.runs)
            t.append(f" {g.label}: {first}", c(f"status-bar--{kind}"))
            for text, kind in rest:
                t.append(text, c(f"status-bar--{kind}"))
            t.append(" ·", muted)
        t.right_crop(2)
        return t

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
    where the runs go and which grid."""

    def __init__(self, *, id: str | None = None, deterministic: bool = False) -> None:
        super().__init__(id=id, deterministic=deterministic)
        self.grid_name = "full grid"

    def _text(self) -> Text:
        c = self.get_component_rich_style
        muted = c("status-bar--muted")
        t, done = self._line()
        if done:
            return t
        d = self.driver
        if d is None:
            self._busy(t, "loading the sweep…")
            return t
        p = d.progress()
        state = d.state
        if state == "starting":
            self._busy(t, f"starting {d.executor_name} (loading the engine)… ")
        elif state == "running":
            t.append(" ▶ running ", c("status-bar--state"))
        elif state == "pausing":
            self._busy(t, "pausing after the runs in flight… ")
        elif state == "paused":
            t.append(" ⏸ paused (space resumes) ", c("status-bar--state"))
        elif state == "finished":
            t.append(" ✓ finished ", c("status-bar--ok"))
        else:
            t.append(f" {state} ", muted)
        done, total = p["done"], p["total"]
        t.append(f" {done}/{total} runs ")
        cells = 12
        k = int(cells * done / total) if total else cells
        t.append("━" * k, c("status-bar--ok") if state == "finished" else c("status-bar--state"))
        t.append("─" * (cells - k), muted)
        if p["failed"]:
            t.append(f" · {p['failed']} failed", c("status-bar--error"))
        if not self.deterministic:
            t.append(f" · {clock(p['elapsed'])} elapsed", muted)
            if state in ("starting", "running"):
                t.append(f" · ETA {clock(p['eta'])}")
        if state != "starting":
            t.append(f" · {d.executor_name}", muted)
        t.append(f" · {self.grid_name}", muted)
        return t


class ViewTabs(Widget):
    """The lower panel's views as tabs, the current one highlighted; the key hint is
    added when the line has room for it (never cut in the middle)."""

    DEFAULT_CSS = "ViewTabs { height: 1; }"
    HINT = "p: next view · 0: hide"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.views: list[tuple[int, str, bool]] = []

    def set_views(self, views: list[tuple[int, str, bool]]) -> None:
        """(key, name, current) for each view."""
        self.views = views
        self.refresh()

    SHORT = {"Heat strip": "Heat", "Histograms": "Hist", "Health": "Health", "About": "About"}

    def _tabs(self, names: str) -> Text:
        """names: "full", "short", or "keys" (only the current view named)."""
        t = Text(no_wrap=True, overflow="ellipsis")
        for k, (key, name, current) in enumerate(self.views):
            if k:
                t.append(" ")
            label = name if names == "full" else self.SHORT.get(name, name)
            if current:
                t.append(f" {key} {label} ", Style(reverse=True))
            elif names == "keys":
                t.append(f" {key}", Style(dim=True))
            else:
                t.append(f" {key}", Style(dim=True))
                t.append(f" {label} ")
        return t

    def render(self):
        width = self.size.width
        for names in ("full", "short", "keys"):
            t = self._tabs(names)
            if t.cell_len <= width:
                break
        if t.cell_len + 2 + len(self.HINT) <= width:
            t.append("  " + self.HINT, Style(dim=True))
        return t
