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

from tuisim.i18n import LANGUAGES, N_, _, language, scenario_text, set_language
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
        Binding("question_mark", "help", N_("Help"), key_display="?", tooltip=N_("These keys, and what the panels show")),
        Binding("q", "quit", N_("Quit"), tooltip=N_("Quit tuisim")),
    ]

    def __init__(self, target: str | Path | Scenario | None = None, *, fps: float = 10.0,
                 screenshots: str | Path | None = None, seed: int | None = None, pause_at: int | None = None,
                 deterministic: bool = False, export_dir: str | Path | None = None,
                 library: str | Path | None = None, sweep: SweepSpec | None = None,
                 workers: int | None = None, threads: int | None = None, lang: str | None = None) -> None:
        super().__init__()
        if lang is not None:  # else the language the CLI set (or English)
            set_language(lang)
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
        # a first run on this machine: the engine compiles in another process while the
        # browser is in use (not in the deterministic mode of the tests and screenshots)
        from .compile import BackgroundCompile

        self.compiler = BackgroundCompile()

    def on_mount(self) -> None:
        if not self.deterministic:
            self.run_worker(self.compiler.start_if_needed, thread=True, group="compile", exit_on_error=False)
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
            self._error(ErrorScreen(_("Cannot open {target}").format(target=target), str(e)))
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
            self._error(ErrorScreen(_("Cannot open the sweep of {scenario}").format(scenario=spec.scenario), str(e)))
            return
        while kind(self.screen) in ("run", "sweep"):
            self.pop_screen()
        self.push_screen(SweepScreen(spec, deterministic=self.deterministic))

    def on_unmount(self) -> None:
        self.compiler.close()

    def export_screenshot(self, *, title: str | None = None, simplify: bool = False) -> str:
        """Textual's SVG, its Chinese text laid out in two cells a character (tuisim.app.svg)."""
        from .svg import fix_wide_text

        return fix_wide_text(super().export_screenshot(title=title, simplify=simplify))

    def action_help(self) -> None:
        if isinstance(self.screen, (HelpScreen, ErrorScreen)):
            return
        groups = []
        if kind(self.screen) in MAIN_SCREENS:
            groups.append((N_("This screen"), list(type(self.screen).BINDINGS)))
        groups.append((N_("Everywhere"), list(self.BINDINGS) + [Binding("ctrl+p", "command_palette",
                                                                       N_("Command palette: every command"))]))
        self.push_screen(HelpScreen(groups, MAP if kind(self.screen) == "sweep" else PANELS))

    def action_command_palette(self) -> None:
        """Textual's palette, its prompt in the interface's language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(placeholder=_("Search for commands…"), id="--command-palette"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):  # Textual's, in the interface's language
            yield SystemCommand(_(command.title), _(command.help), command.callback, command.discover)
        if kind(screen) in MAIN_SCREENS:
            for b in type(screen).BINDINGS:
                if b.description and b.action not in ("back",):
                    yield SystemCommand(_(b.description), _("key: {key}").format(key=b.key_display or b.key),
                                        partial(screen.run_action, b.action))
        yield SystemCommand(_("Help"), _("Keys and what the panels show (?)"), self.action_help)
        for lang, name in LANGUAGES.items():  # named in their own language; found by typing (not listed unasked)
            yield SystemCommand(f"Language: {name}", LANGUAGE_HELP[lang], partial(self.switch_language, lang),
                                discover=False)

    def switch_language(self, lang: str) -> None:
        """Show everything in `lang` from now on: every open screen is drawn again in it."""
        if lang == language():
            return
        titles = [(bar, sc, title_forms(sc)) for screen in self.screen_stack
                  for sc in [scenario_of(screen)] if sc is not None for bar in screen.query("TitleBar")]
        set_language(lang)
        for bar, sc, old in titles:  # a title given as a text, in the language it was shown in
            if isinstance(bar.title_text, str):
                for before, after in zip(old, title_forms(sc)):
                    if before in bar.title_text:
                        bar.title_text = bar.title_text.replace(before, after, 1)
                        break
        for screen in self.screen_stack:
            relabel(screen)


# Textual's own commands of the palette, for the catalog (translated as they are listed)
TEXTUAL_COMMANDS = (
    N_("Theme"), N_("Change the current theme"), N_("Quit"), N_("Quit the application as soon as possible"),
    N_("Keys"), N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Minimize"), N_("Minimize the widget and restore to normal size"), N_("Maximize"),
    N_("Maximize the focused widget"), N_("Screenshot"), N_("Save an SVG 'screenshot' of the current screen"),
)
LANGUAGE_HELP = {"en": "Show the interface and the lessons in English (英文界面)",
                 "zh": "用中文显示界面和课程 (the interface and the lessons in Chinese)"}


def scenario_of(screen: Screen) -> Scenario | None:
    """The scenario a run, path or sweep screen shows (its lesson panel's), else None."""
    sc = getattr(screen, "scenario", None)
    if sc is None:
        panel = next(iter(screen.query("LessonPanel")), None)
        sc = getattr(panel, "scenario", None)
    return sc if hasattr(sc, "title") else None


def title_forms(sc) -> list[str]:
    """The ways a screen's title bar may show the scenario's title, in the current language."""
    title = scenario_text(sc, "title")
    return [_("Sweep · {title}").format(title=title), title]


def relabel(screen: Screen) -> None:
    """Draw `screen` again in the current language: every widget with a `relabel` method
    (texts built once: the lesson's markdown, the browser's list, a dialog) builds them
    again, the others render their texts when drawn; then a forced frame, the footer's keys
    laid out again (their widths change) and a new layout."""
    for widget in [screen, *screen.walk_children()]:
        hook = getattr(widget, "relabel", None)
        if callable(hook):
            hook()
        if widget is not screen:
            widget.refresh()
    frame = getattr(screen, "refresh_frame", None)
    if callable(frame) and screen.is_mounted:
        frame(force=True)
    for footer in screen.query("KeyFooter"):
        footer.refresh(recompose=True)
    screen.refresh_bindings()
    screen.refresh(layout=True)
