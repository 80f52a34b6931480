"""The path screen: a [surface] scenario's points training live, their paths on a contour
map of the surface, their loss beside it.

It is the run screen (the same driver, keys, live changes, settings, export and
screenshots) with other panels: the map (`PathView`) fills the left, the loss plot and
the lesson share the right. The run starts slowed down (SPEED steps/s), so that a path
of a few hundred steps can be watched as it goes; `+` and `-` change the speed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical

from tuisim.core.surface import Surface
from tuisim.i18n import N_, _, scenario_text

from ..driver import SPEEDS, Driver
from ..widgets.footer import KeyFooter
from ..widgets.lesson import LessonPanel
from ..widgets.loss_plot import LossPlot
from ..widgets.path_map import MapPath, PathView
from ..widgets.plot import preload
from ..widgets.status import StatusBar, TitleBar
from .run import RunScreen

SPEED = 20  # steps per second at the start: a 200-step lesson takes 10 s to watch
KEPT = ("toggle_pause", "step", "restart", "faster", "slower", "next_variant", "scale_lr(0.5)", "scale_lr(2.0)",
        "settings", "screenshot", "export", "back")


class PathScreen(RunScreen, inherit_bindings=False):
    BINDINGS = [b for b in RunScreen.BINDINGS if b.action in KEPT] + [
        Binding("z", "zoom_paths", N_("Zoom"),
                tooltip=N_("The map: the surface's classic window, or zoomed onto the paths")),
        Binding("a", "toggle_lesson", N_("About"), tooltip=N_("The lesson's text (and its checked claims) in place "
                "of the loss plot, when the screen is too short for both")),
    ]
    FOOTER_PRIORITY = ("toggle_pause", "step", "zoom_paths", "restart", "settings", "toggle_lesson", "faster",
                       "slower", "next_variant", "export", "screenshot")

    def __init__(self, scenario, **kwargs) -> None:
        super().__init__(scenario, **kwargs)
        spec = scenario.variants[0].surface
        self.surface = Surface(spec["name"], **spec["params"])
        self.zoomed = False
        self.view = "none"
        self.lesson_shown = False

    def compose(self) -> ComposeResult:
        sc = self.scenario
        yield TitleBar(scenario_text(sc, "title"), list(sc.lessons), id="title")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield PathView(id="paths")
            with Vertical(id="right"):
                yield LossPlot(id="loss")
                yield LessonPanel(sc, id="lesson")
        yield StatusBar(id="status", deterministic=self.deterministic)
        yield KeyFooter()

    def on_mount(self, event) -> None:
        event.prevent_default()  # Textual would call RunScreen's too, which looks for its panels
        self._layout_for(self.size.width, self.size.height)
        fps = max(0.5, min(float(getattr(self.app, "fps", 10.0)), 60.0))
        self.set_interval(1 / fps, self.refresh_frame)
        self.query_one("#paths").focus()
        self.call_after_refresh(self.start)  # after the first frame, as the run screen does
        self.call_after_refresh(preload)

    # ------------------------------------------------------------------ layout
    def _layout_for(self, width: int, height: int) -> None:
        self.set_class(width < 110, "-narrow")
        self.set_class(height < 34, "-short")
        self._apply_view()

    def _apply_view(self) -> None:
        """The lesson below the loss plot when there is room, else in its place on `a`."""
        self.set_class(self.lesson_shown, "-lesson")
        self._last_key = None

    def _has_view(self, view: str) -> bool:
        return False

    def _panels(self):
        return [self.query_one("#loss")]

    # ------------------------------------------------------------------ training
    def _make_driver(self) -> Driver:
        driver = Driver(self.scenario, seed=self.seed, pause_at=self.pause_at, threads=self.threads,
                        deterministic=self.deterministic, histograms=0)  # a point has no layers
        if not self.deterministic:
            driver.speed_index = SPEEDS.index(SPEED)
        return driver

    def _reset_panels(self) -> None:
        self.query_one(PathView).show_paths(self.surface, [], self.zoomed, force=True)

    def on_session_ready(self, message) -> None:
        message.prevent_default()  # not RunScreen's: a point has no network to describe
        if not self._mine(message):
            return
        about = []
        for g in message.driver.session.groups:
            v = g.variant
            x, y = v.surface["start"]
            noise = _(", gradient noise {noise}").format(noise=f"{v.surface['noise']:g}") if v.surface["noise"] else ""
            lr = g.runs[0].opt.hparams["lr"]
            about.append((g.label, _("{optimizer}, lr {lr}, from ({x}, {y}){noise}").format(
                optimizer=v.train["optimizer"], lr=f"{lr:g}", x=f"{x:g}", y=f"{y:g}", noise=noise)))
        for p in self.query(LessonPanel):
            p.set_info(networks=about)

    # ------------------------------------------------------------------ drawing
    def refresh_frame(self, force: bool = False) -> None:
        self.query_one(StatusBar).update_if_changed()
        views = self.views()
        key = tuple(v.key() for v in views)
        if not force and key == self._last_key:
            return
        self._last_key = key
        self.query_one(LossPlot).show(views, force=force)
        # the other seeds of a variant (each with its own gradient noise) faint underneath
        paths = [MapPath(v.label, seed.column("position"), seed.status == "diverged", v.index, faint=True)
                 for v in views for seed in v.seeds[1:]]
        paths += [MapPath(v.label, v.column("position"), v.status == "diverged", v.index) for v in views]
        self.query_one(PathView).show_paths(self.surface, paths, self.zoomed, force=force)

    # ------------------------------------------------------------------ actions
    def action_zoom_paths(self) -> None:
        self.zoomed = not self.zoomed
        self.notify(_("the map: zoomed onto the paths") if self.zoomed else _("the map: the surface's classic window"),
                    timeout=1.5)
        self.refresh_frame(force=True)

    def action_toggle_lesson(self) -> None:
        self.lesson_shown = not self.lesson_shown
        self._apply_view()
        if self.lesson_shown:
            self.query_one("#lesson").focus()
        self.refresh_frame(force=True)

    def action_next_variant(self) -> None:
        n = len(self.driver.session.groups) if self.driver and self.driver.session else 1
        self.focus_index = (self.focus_index + 1) % n
        self.query_one(StatusBar).focus_index = self.focus_index
        self.refresh_frame(force=True)

    def action_back(self) -> None:
        self.app.back_to_lessons()
