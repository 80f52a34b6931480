"""`TuisimApp`: the scenario browser, the run screen and the sweep screen. Build it with
`factory.make_app`."""

from __future__ import annotations

import dataclasses
from functools import partial
from pathlib import Path
from typing import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tuisim.scenario import Scenario, ScenarioError, load_scenario

from .screens.browser import BrowserScreen
from .screens.dialogs import MAP, PANELS, ErrorScreen, HelpScreen
from .screens.run import RunScreen
from .screens.sweep import SweepScreen
from .sweep_driver import SweepSpec


class TuisimApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "tuisim"
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, target: str | Path | Scenario | None = None, *, fps: float = 10.0,
                 screenshots: str | Path | None = None, seed: int | None = None, pause_at: int | None = None,
                 deterministic: bool = False, export_dir: str | Path | None = None,
                 library: str | Path | None = None, sweep: SweepSpec | None = None,
                 workers: int | None = None) -> None:
        super().__init__()
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
        paths = sorted(self.library.glob("*.toml")) if self.library else None
        self.push_screen(BrowserScreen(paths))
        if self.target is not None:
            self.open_scenario(self.target)
        elif self.sweep is not None:
            self.open_sweep(self.sweep)

    def open_scenario(self, target: str | Path | Scenario) -> None:
        """Load and start a scenario; a file that does not load shows its problems."""
        try:
            scenario = target if isinstance(target, Scenario) else load_scenario(target)
        except ScenarioError as e:
            self.push_screen(ErrorScreen(f"Cannot open {target}", str(e)))
            return
        while isinstance(self.screen, RunScreen):
            self.pop_screen()
        self.push_screen(RunScreen(scenario, seed=self.seed, pause_at=self.pause_at,
                                   deterministic=self.deterministic))

    def open_sweep(self, spec: SweepSpec | str | Path, quick: bool | None = None) -> None:
        """Open a scenario's sweep and start it; a sweep that does not load shows its problems."""
        if not isinstance(spec, SweepSpec):
            spec = SweepSpec(spec, workers=self.sweep_workers)
        if quick is not None:
            spec = dataclasses.replace(spec, quick=quick)
        try:
            spec.plan()
        except (ScenarioError, ValueError) as e:
            self.push_screen(ErrorScreen(f"Cannot open the sweep of {spec.scenario}", str(e)))
            return
        while isinstance(self.screen, (RunScreen, SweepScreen)):
            self.pop_screen()
        self.push_screen(SweepScreen(spec, deterministic=self.deterministic))

    def action_help(self) -> None:
        if isinstance(self.screen, (HelpScreen, ErrorScreen)):
            return
        groups = []
        if isinstance(self.screen, (RunScreen, BrowserScreen, SweepScreen)):
            groups.append(("This screen", list(type(self.screen).BINDINGS)))
        groups.append(("Everywhere", list(self.BINDINGS) + [Binding("ctrl+p", "command_palette",
                                                                   "Command palette: every command")]))
        self.push_screen(HelpScreen(groups, MAP if isinstance(self.screen, SweepScreen) else PANELS))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, (RunScreen, BrowserScreen, SweepScreen)):
            for b in type(screen).BINDINGS:
                if b.description and b.action not in ("back",):
                    yield SystemCommand(b.description, f"key: {b.key_display or b.key}",
                                        partial(screen.run_action, b.action))
        yield SystemCommand("Help", "Keys and what the panels show (?)", self.action_help)
