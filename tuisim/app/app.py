"""`TuisimApp`: the scenario browser, the run screen and the sweep screen. Build it with
`factory.make_app`.

Only the screen the app opens on is imported and built before the first frame: `tuisim
NAME` shows its run screen without building the lesson browser (esc builds it then), and
the sweep screen's modules load only for a sweep."""

from __future__ import annotations

import dataclasses
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tuisim.scenario import Scenario, ScenarioError, load_scenario

from .screens.dialogs import MAP, PANELS, ErrorScreen, HelpScreen
from .screens.paths import PathScreen
from .screens.run import RunScreen

if TYPE_CHECKING:
    from .sweep_driver import SweepSpec

MAIN_SCREENS = ("browser", "run", "sweep")


def kind(screen: Screen) -> str | None:
    """"browser", "run" or "sweep" for the app's main screens (without importing them)."""
    return getattr(screen, "KIND", None)


class TuisimApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "tuisim"
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?", tooltip="These keys, and what the panels show"),
        Binding("q", "quit", "Quit", tooltip="Quit tuisim"),
    ]

    def __init__(self, target: str | Path | Scenario | None = None, *, fps: float = 10.0,
                 screenshots: str | Path | None = None, seed: int | None = None, pause_at: int | None = None,
                 deterministic: bool = False, export_dir: str | Path | None = None,
                 library: str | Path | None = None, sweep: SweepSpec | None = None,
                 workers: int | None = None, threads: int | None = None) -> None:
        super().__init__()
        self.threads = threads
        self.sweep = sweep
        self.sweep_workers = workers
        self.target = target
        self.fps = fps
        self.screenshot_dir = Path(screenshots) if screenshots else None
        self.export_dir = Path(export_dir) if export_dir else None
        self.seed = seed
        self.pause_at = pause_at
        self.deterministic = deterministic
        self.library = Path(library) if library else None

    def on_mount(self) -> None:
        if self.target is not None:
            self.open_scenario(self.target)
        elif self.sweep is not None:
            self.open_sweep(self.sweep)
        else:
            self.push_screen(self._browser())

    def _browser(self) -> Screen:
        from .screens.browser import BrowserScreen

        return BrowserScreen(sorted(self.library.glob("*.toml")) if self.library else None)

    def _error(self, screen: Screen) -> None:
        """Show a problem; closing it leads to the lessons when nothing else is open."""
        if not any(kind(s) for s in self.screen_stack):
            self.push_screen(self._browser())
        self.push_screen(screen)

    def back_to_lessons(self) -> None:
        """Leave a run or a sweep: to the screen below it, or to the lesson browser."""
        if len(self.screen_stack) > 2:
            self.pop_screen()
        else:
            self.switch_screen(self._browser())

    def open_scenario(self, target: str | Path | Scenario) -> None:
        """Load and start a scenario; a file that does not load shows its problems."""
        try:
            scenario = target if isinstance(target, Scenario) else load_scenario(target)
        except ScenarioError as e:
            self._error(ErrorScreen(f"Cannot open {target}", str(e)))
            return
        while kind(self.screen) == "run":
            self.pop_screen()
        screen = PathScreen if scenario.surface else RunScreen  # a point on a surface: its path on a map
        self.push_screen(screen(scenario, seed=self.seed, pause_at=self.pause_at, deterministic=self.deterministic,
                                threads=self.threads))

    def open_sweep(self, spec: SweepSpec | str | Path, quick: bool | None = None) -> None:
        """Open a scenario's sweep and start it; a sweep that does not load shows its problems."""
        from .screens.sweep import SweepScreen
        from .sweep_driver import SweepSpec

        if not isinstance(spec, SweepSpec):
            spec = SweepSpec(spec, workers=self.sweep_workers)
        if quick is not None:
            spec = dataclasses.replace(spec, quick=quick)
        try:
            spec.plan()
        except (ScenarioError, ValueError) as e:
            self._error(ErrorScreen(f"Cannot open the sweep of {spec.scenario}", str(e)))
            return
        while kind(self.screen) in ("run", "sweep"):
            self.pop_screen()
        self.push_screen(SweepScreen(spec, deterministic=self.deterministic))

    def action_help(self) -> None:
        if isinstance(self.screen, (HelpScreen, ErrorScreen)):
            return
        groups = []
        if kind(self.screen) in MAIN_SCREENS:
            groups.append(("This screen", list(type(self.screen).BINDINGS)))
        groups.append(("Everywhere", list(self.BINDINGS) + [Binding("ctrl+p", "command_palette",
                                                                   "Command palette: every command")]))
        self.push_screen(HelpScreen(groups, MAP if kind(self.screen) == "sweep" else PANELS))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if kind(screen) in MAIN_SCREENS:
            for b in type(screen).BINDINGS:
                if b.description and b.action not in ("back",):
                    yield SystemCommand(b.description, f"key: {b.key_display or b.key}",
                                        partial(screen.run_action, b.action))
        yield SystemCommand("Help", "Keys and what the panels show (?)", self.action_help)
