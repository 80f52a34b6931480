"""`Panel`: the bordered, focusable base of the run screen's panels, and the data they share."""

from __future__ import annotations

from dataclasses import dataclass

import time

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from tuisim.i18n import N_, _
from tuisim.run.history import History, HistoryView

from ..spread import median_divergence

N_VARIANT_COLORS = 8  # variant--0..7 in app.tcss: Okabe-Ito's eight, a set for dark and one for light themes
MARKERS = ("", "◆", "●", "■", "▲")  # past the colours, a variant's second cue: its marker along its line
HEALTH = ("vanishing", "healthy", "exploding")


@dataclass
class SeedView:
    """One seed's run of a variant at one refresh: the `n` records of `view`, a snapshot
    of `history` (which the training thread goes on appending to, and thins)."""

    seed: int
    status: str  # ready, pretraining, running, done, diverged
    step: int
    diverged_at: int | None
    history: History
    view: HistoryView

    @classmethod
    def of(cls, run) -> "SeedView":
        return cls(seed=run.seed, status=run.status, step=run.step, diverged_at=run.diverged_at,
                   history=run.history, view=run.history.snapshot())

    @property
    def n(self) -> int:
        return self.view.n

    @property
    def made(self) -> int:
        """Records made so far (more than `n` once the history thinned older ones)."""
        return int(self.view.index[self.view.n - 1]) + 1 if self.view.n else 0

    def column(self, name: str):
        return self.view.column(name)

    def latest(self, name: str):
        """The last record's per-layer row, or None before the first record."""
        return self.view.column(name)[-1] if self.view.n else None


def group_status(statuses: list[str]) -> str:
    """A variant's state from its seeds': diverged when all did, done when all are
    finished (some may have diverged), else the state of the ones still going."""
    if all(s == "diverged" for s in statuses):
        return "diverged"
    if all(s in ("done", "diverged") for s in statuses):
        return "done"
    for s in ("running", "pretraining", "ready"):
        if s in statuses:
            return s
    return statuses[0]


@dataclass
class VariantView:
    """One variant, at every seed it runs, as the panels see it at one refresh.

    With one seed `history`, `n`, `column` and `latest` are that run's; with several the
    panels draw the median across `seeds` (tuisim.app.spread), and these give the first."""

    index: int
    label: str
    status: str  # the variant's: see group_status
    step: int  # the step every seed has reached
    total: int
    diverged_at: int | None  # one seed: its divergence; several: where their median diverges
    activation: str
    norm: str
    lr: float
    seeds: list[SeedView]
    note: str = ""  # pretraining progress

    @classmethod
    def of(cls, index: int, runs) -> "VariantView":
        """From a variant's runs (a VariantGroup's, or a single VariantRun)."""
        runs = list(getattr(runs, "runs", None) or [runs])
        first = runs[0]
        model = first.variant.model
        seeds = [SeedView.of(r) for r in runs]
        diverged = [s.diverged_at for s in seeds]
        return cls(index=index, label=first.label, status=group_status([s.status for s in seeds]),
                   step=min(s.step for s in seeds), total=first.total_steps,
                   diverged_at=diverged[0] if len(seeds) == 1 else median_divergence(diverged),
                   activation=str(model.get("activation", "")), norm=str(model.get("norm", "none")),
                   lr=float(first.opt.lr_at(max(first.step - 1, 0))), seeds=seeds,
                   note=next((r.pretrain_status for r in runs if r.pretrain_status), ""))

    @property
    def history(self) -> History:
        return self.seeds[0].history

    @property
    def n(self) -> int:
        return self.seeds[0].n

    @property
    def several(self) -> bool:
        return len(self.seeds) > 1

    @property
    def diverged_seeds(self) -> list[SeedView]:
        return [s for s in self.seeds if s.status == "diverged"]

    def column(self, name: str):
        return self.seeds[0].column(name)

    def latest(self, name: str):
        return self.seeds[0].latest(name)

    def key(self) -> tuple:
        """What changes when new records arrive."""
        return tuple((s.made, s.status) for s in self.seeds)

    @property
    def layers(self) -> int:
        return self.history.layers

    @property
    def state(self) -> str:
        if self.status == "diverged":
            return _("diverged at step {step}").format(step=self.diverged_at)
        if self.note:
            return self.note
        return _(self.status)  # ready, pretraining, running, done: in the catalog


class Panel(Widget, can_focus=True):
    """A bordered panel that draws `build()` (a Rich renderable) through the line API,
    caching the lines until new data arrives: converting a renderable costs far more
    than drawing cached lines, and the UI thread must leave the engine its GIL.
    Its component classes give the colours every panel shares: one per variant, and
    the three gradient health classes."""

    COMPONENT_CLASSES = {f"variant--{i}" for i in range(N_VARIANT_COLORS)} | {
        "health--vanishing", "health--healthy", "health--exploding", "panel--muted", "panel--axis",
        "panel--warning"}
    MIN_INTERVAL = 0.0  # seconds between two redraws for new data (0: every frame)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.views: list[VariantView] = []
        self.placeholder = N_("waiting for the first step…")  # translated when drawn
        self._strips: list[Strip] | None = None
        self._strips_size: Size | None = None
        self._drawn_at = 0.0
        self._pending = False

    def show(self, views: list[VariantView], force: bool = False) -> None:
        """New data to draw (at most every MIN_INTERVAL seconds unless forced)."""
        self.views = views
        self.titles()
        wait = self.MIN_INTERVAL - (time.monotonic() - self._drawn_at)
        if not force and wait > 0:
            if not self._pending:
                self._pending = True
                self.set_timer(wait, self._flush)
            return
        self._flush()

    def _flush(self) -> None:
        self._pending = False
        self.redraw()

    def redraw(self) -> None:
        self._strips = None
        self.refresh()

    def build(self) -> RenderableType:
        return Text("")

    def titles(self) -> None:
        """Set the border's title and subtitle from `views` (with `set_titles`): here,
        before the draw, so a frame never shows the title of the data before (build runs
        while the border is drawn)."""

    def set_titles(self, title: str | None = None, subtitle: str | None = None) -> None:
        """Set the border's title and subtitle, the ones given and only if they changed:
        setting either redraws the whole panel, which done every frame costs training
        speed (the app's cost in `tuisim bench --app` rose by 7-9 points)."""
        shown = self.__dict__.setdefault("_tuisim_titles", {})
        for key, text in (("border_title", title), ("border_subtitle", subtitle)):
            if text is not None and shown.get(key) != text:
                shown[key] = text
                setattr(self, key, text)

    def empty(self) -> bool:
        return not self.views or not any(s.n for v in self.views for s in v.seeds)

    def render_line(self, y: int) -> Strip:
        size = self.content_size
        if self._strips is None or self._strips_size != size:
            self._drawn_at = time.monotonic()
            self._strips_size = size
            renderable = Text(_(self.placeholder), style=self.style_of("muted")) if self.empty() else self.build()
            console = self.app.console
            options = console.options.update(width=size.width, height=size.height,
                                             no_wrap=True, highlight=False)
            lines = console.render_lines(renderable, options, style=self.rich_style, pad=True, new_lines=False)
            self._strips = [Strip(line, size.width) for line in lines[: size.height]]
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(size.width, self.rich_style)

    def on_resize(self) -> None:
        self.titles()
        self.redraw()

    def component_style(self, name: str) -> Style:
        """A component class's style, cached until the styles change."""
        cache = self.__dict__.setdefault("_tuisim_styles", {})
        if name not in cache:
            cache[name] = self.get_component_rich_style(name, partial=True)
        return cache[name]

    def notify_style_update(self) -> None:
        self.__dict__.pop("_tuisim_styles", None)
        super().notify_style_update()

    def variant_style(self, index: int) -> Style:
        return self.component_style(f"variant--{index % N_VARIANT_COLORS}")

    @staticmethod
    def variant_marker(index: int) -> str:
        """The marker that tells variant `index` from the one sharing its colour ("" for
        the first N_VARIANT_COLORS)."""
        return MARKERS[(index // N_VARIANT_COLORS) % len(MARKERS)]

    def health_styles(self) -> dict[str, Style]:
        return {h: self.component_style(f"health--{h}") for h in HEALTH}

    def style_of(self, name: str) -> Style:
        return self.component_style(f"panel--{name}")
