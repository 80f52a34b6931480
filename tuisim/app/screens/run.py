"""The run screen: a scenario training live, its panels, and every control."""

from __future__ import annotations

import gc
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher
from textual.worker import Worker, get_current_worker

from tuisim.i18n import N_, _, scenario_text
from tuisim.scenario import ScenarioError, parse_scenario

from .. import messages as m
from ..driver import Driver, export_summary, speed_label
from ..boundary import applies, why_not
from ..format import num
from .dialogs import report_worker_failure, writable
from ..widgets.boundary import Boundary
from ..widgets.footer import KeyFooter
from ..widgets.grad_bars import GradBars, QUANTITIES
from ..widgets.health_table import HealthTable
from ..widgets.heat_strip import HeatStrip
from ..widgets.histograms import Histograms
from ..widgets.lesson import LessonPanel
from ..widgets.loss_plot import LossPlot
from ..widgets.panel import VariantView
from ..widgets.plot import preload
from ..widgets.status import StatusBar, TitleBar, ViewTabs

VIEWS = ("heat", "health", "hist", "about", "boundary")
VIEW_NAMES = {"heat": N_("Heat strip"), "health": N_("Health"), "hist": N_("Histograms"), "about": N_("About"),
              "boundary": N_("Decision boundary")}  # translated where shown (ViewTabs)


class RunScreen(Screen):
    KIND = "run"
    BINDINGS = [  # descriptions and tooltips translated where shown (the footer, the help)
        Binding("space", "toggle_pause", N_("Pause"), tooltip=N_("Pause or resume every variant")),
        Binding("n", "step", N_("Step"), tooltip=N_("One training step (pauses first)")),
        Binding("r", "restart", N_("Restart"), tooltip=N_("Restart every variant from its initial weights")),
        Binding("plus,equals_sign", "faster", N_("Faster"), key_display="+", tooltip=N_("Train faster")),
        Binding("minus", "slower", N_("Slower"), key_display="-", tooltip=N_("Train slower")),
        Binding("g", "toggle_quantity", "dW↔dz", tooltip=N_("Bars and heat strip: the weights' gradient "
                "‖dL/dW‖ or the back-propagated signal ‖dL/dz‖")),
        Binding("v", "next_variant", N_("Variant"),
                tooltip=N_("Focus the next variant (health table, lr, settings)")),
        Binding("p", "next_view", N_("View"), tooltip=N_("The lower panel's next view")),
        Binding("h", "toggle_histogram", N_("Hist act↔grad"), show=False,
                tooltip=N_("Histograms: activations or log10 |dL/dz|")),
        Binding("d", "toggle_distribution", N_("Heat strip: norms ↔ |dL/dz| percentiles"), show=False),
        Binding("1", "view('heat')", N_("Heat strip"), show=False),
        Binding("2", "view('health')", N_("Health table"), show=False),
        Binding("3", "view('hist')", N_("Histograms"), show=False),
        Binding("4", "view('about')", N_("About the lesson"), show=False),
        Binding("5", "view('boundary')", N_("Decision boundary (2-D classification data)"), show=False),
        Binding("0", "view('none')", N_("Hide the lower panel"), show=False),
        Binding("z", "zoom", N_("Zoom the focused panel"), show=False),
        Binding("f", "toggle_bars_axis", N_("Bars: fixed axis ↔ zoomed on the data"), show=False,
                tooltip=N_("Gradient bars: the fixed 1e-14..1e6 axis, or one around the data")),
        Binding("left_square_bracket", "scale_lr(0.5)", N_("Halve the lr"), key_display="[", show=False),
        Binding("right_square_bracket", "scale_lr(2.0)", N_("Double the lr"), key_display="]", show=False),
        Binding("e", "settings", N_("Settings"), tooltip=N_("Change lr, momentum, weight decay, clipping live; "
                "any KEY=VALUE with a restart")),
        Binding("s", "screenshot", N_("Screenshot"), tooltip=N_("Save the screen as SVG")),
        Binding("x", "export", N_("Export"),
                tooltip=N_("Write steps.jsonl, steps.csv, summary.json and the weights")),
        Binding("escape", "back", N_("Lessons"), show=False, tooltip=N_("Back to the lessons (or out of a zoom)")),
    ]
    # what the footer keeps when the line is short, most important first (after q and ?)
    FOOTER_PRIORITY = ("toggle_pause", "step", "toggle_quantity", "next_view", "settings", "next_variant",
                       "restart", "faster", "slower", "export", "screenshot")

    def __init__(self, scenario, *, seed: int | None = None, overrides: list[str] | None = None,
                 pause_at: int | None = None, deterministic: bool = False, focus: int = 0,
                 threads: int | None = None) -> None:
        super().__init__()
        self.scenario = scenario
        self.threads = threads
        self.seed = seed
        self.overrides = list(overrides or [])
        self.pause_at = pause_at
        self.deterministic = deterministic
        self.driver: Driver | None = None
        self.focus_index = focus  # the variant the health table and the status bar follow
        self.quantity = "grad_norm"
        self.hist_kind = "act"
        self.view = "heat"
        self._view_chosen = False
        self._last_key = None
        # why the boundary view does not apply (shown translated), None: it applies
        self.boundary_why: str | None = N_("the data is not known yet")

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        sc = self.scenario
        yield TitleBar(scenario_text(sc, "title"), list(sc.lessons), id="title")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield LossPlot(id="loss")
                yield ViewTabs(id="tabs")
                with ContentSwitcher(id="lower", initial="heat"):
                    yield HeatStrip(id="heat")
                    yield HealthTable(id="health")
                    yield Histograms(id="hist")
                    yield LessonPanel(sc, id="about")
                    yield Boundary(id="boundary")
            with Vertical(id="right"):
                yield GradBars(id="bars")
                yield LessonPanel(sc, id="lesson")
        yield StatusBar(id="status", deterministic=self.deterministic)
        yield KeyFooter()

    def on_mount(self) -> None:
        self._layout_for(self.size.width, self.size.height)
        fps = max(0.5, min(float(getattr(self.app, "fps", 10.0)), 60.0))
        self.set_interval(1 / fps, self.refresh_frame)
        self.query_one("#bars").focus()
        # the training thread starts after the first frame: its imports (numba) would
        # otherwise hold the GIL while that frame is drawn
        self.call_after_refresh(self.start)
        self.call_after_refresh(preload)

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        short = height < 34
        large = width >= 140 and height >= 40
        self.set_class(width < 110, "-narrow")
        self.set_class(short, "-short")
        self.set_class(large, "-large")
        if not self._view_chosen:
            self.view = "none" if short else "heat"
        if large and self.view == "about":
            self.view = "heat"
        self._apply_view()

    def _views_cycle(self) -> list[str]:
        views = [v for v in VIEWS if self._has_view(v)]
        return views + (["none"] if self.has_class("-short") else [])

    def _apply_view(self) -> None:
        hidden = self.view == "none"
        self.set_class(hidden, "-no-lower")
        if not hidden:
            self.query_one("#lower", ContentSwitcher).current = self.view
        self.query_one(ViewTabs).set_views([(k, VIEW_NAMES[v], v == self.view) for k, v in enumerate(VIEWS, 1)
                                            if self._has_view(v)])
        if self.driver is not None:
            self.driver.ask_weights(self.view == "boundary")
        self._last_key = None

    def _has_view(self, view: str) -> bool:
        if view == "about":
            return not self.has_class("-large")
        return view != "boundary" or self.boundary_why is None

    # ------------------------------------------------------------------ training
    def start(self) -> None:
        if self.driver is not None:
            self.driver.cancel()
        self.driver = self._make_driver()
        self._reset_panels()
        status = self.query_one(StatusBar)
        status.driver, status.error, status.focus_index = self.driver, None, self.focus_index
        self.driver.ask_weights(self.view == "boundary")
        for w in self._panels():
            w.show([], force=True)
        self._last_key = None
        self._train(self.driver)

    def _make_driver(self) -> Driver:
        return Driver(self.scenario, seed=self.seed, pause_at=self.pause_at, threads=self.threads,
                      deterministic=self.deterministic, compiler=getattr(self.app, "compiler", None))

    def _reset_panels(self) -> None:
        """Forget what the panels drew of the last run (a restart)."""
        self.query_one("#heat", HeatStrip).reset()

    @work(thread=True, exclusive=True, exit_on_error=False, group="train", description="training")
    def _train(self, driver: Driver) -> None:
        driver.run(self.post_message, get_current_worker().cancelled_event)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event, "train", "run", self.query_one(StatusBar))

    def _mine(self, message: m.DriverMessage) -> bool:
        return message.driver is self.driver

    def on_session_ready(self, message: m.SessionReady) -> None:
        if not self._mine(message):
            return
        nets = [(g.label, g.runs[0].net.describe()) for g in message.driver.session.groups]
        for p in self.query(LessonPanel):
            p.set_info(networks=nets)
        data = [g.runs[0].data for g in message.driver.session.groups]
        self.boundary_why = None if any(applies(d) for d in data) else \
            _("the decision boundary needs 2-D classification data: {why}").format(why=why_not(data[0]))
        self._apply_view()

    def on_engine_ready(self, message: m.EngineReady) -> None:
        if self._mine(message):
            # numba, textual and the compiled engine are loaded: keep those hundreds of
            # thousands of long-lived objects out of the garbage collector's full passes,
            # which otherwise stall the interface for 100-150 ms every few seconds
            gc.freeze()
            self.refresh_frame(force=True)

    def on_progress(self, message: m.Progress) -> None:
        pass  # the frame timer pulls the data

    def on_paused(self, message: m.Paused) -> None:
        if self._mine(message):
            self.refresh_frame(force=True)

    def on_variant_diverged(self, message: m.VariantDiverged) -> None:
        if self._mine(message) and not self.deterministic:
            who = message.label + (_(" (seed {seed})").format(seed=message.seed) if message.seed is not None else "")
            self.notify(_("{who} diverged at step {step}: its loss or gradients are no longer finite").format(
                who=who, step=message.step), title=_("Diverged"), severity="warning")

    def on_run_finished(self, message: m.RunFinished) -> None:
        if not self._mine(message):
            return
        for p in self.query(LessonPanel):
            p.set_info(checks=message.checks)
        self.refresh_frame(force=True)
        if message.checks and not self.deterministic:
            ok = sum(1 for passed, __ in message.checks if passed)
            self.notify(_("{ok} of {n} expectations hold (see About)").format(ok=ok, n=len(message.checks)),
                        title=_("Run finished"))

    def on_notice(self, message: m.Notice) -> None:
        if self._mine(message):
            self.notify(message.text, severity=message.severity)

    # ------------------------------------------------------------------ drawing
    def _panels(self):
        return [self.query_one(s) for s in ("#loss", "#bars", "#heat", "#health", "#hist")]

    def views(self) -> list[VariantView]:
        session = self.driver.session if self.driver else None
        if session is None:
            return []
        return [VariantView.of(i, g) for i, g in enumerate(session.groups)]

    def refresh_frame(self, force: bool = False) -> None:
        """Pull the latest records into the visible panels (called at the display rate)."""
        self.query_one(StatusBar).update_if_changed()
        views = self.views()
        if self.view == "boundary":  # a new copy of the weights may have come without new records
            self.query_one(Boundary).show_boundary(self.driver, views, self.focus_index)
        key = tuple(v.key() for v in views)
        if not force and key == self._last_key:
            return
        self._last_key = key
        self.query_one(LossPlot).show(views, force=force)
        self.query_one(GradBars).show(views, force=force)
        if self.view == "heat" or self.has_class("-large"):
            self.query_one(HeatStrip).show(views, force=force)
        if self.view == "health":
            self.query_one(HealthTable).show_focus(views, self.focus_index, force=force)
        if self.view == "hist":
            self.query_one(Histograms).show(views, force=force)

    # ------------------------------------------------------------------ actions
    def action_toggle_pause(self) -> None:
        d = self.driver
        if d is not None:
            d.set_paused(not d.paused)
            self.query_one(StatusBar).refresh()

    def action_step(self) -> None:
        if self.driver is not None:
            self.driver.step_once()

    def action_restart(self) -> None:
        self.start()

    def action_faster(self) -> None:
        if self.driver is not None:
            self.driver.faster()
            self.notify(_("speed: {speed}").format(speed=speed_label(self.driver.speed)), timeout=1.5)

    def action_slower(self) -> None:
        if self.driver is not None:
            self.driver.slower()
            self.notify(_("speed: {speed}").format(speed=speed_label(self.driver.speed)), timeout=1.5)

    def action_toggle_quantity(self) -> None:
        self.quantity = "delta_norm" if self.quantity == "grad_norm" else "grad_norm"
        self.query_one(GradBars).set_quantity(self.quantity)
        self.query_one(HeatStrip).set_quantity(self.quantity)
        self.refresh_frame(force=True)

    def action_toggle_distribution(self) -> None:
        heat = self.query_one(HeatStrip)
        heat.set_mode("norms" if heat.mode == "dist" else "dist")
        if self.view != "heat":
            self.action_view("heat")
        self.refresh_frame(force=True)

    def action_toggle_bars_axis(self) -> None:
        bars = self.query_one(GradBars)
        bars.set_zoomed(not bars.zoomed)

    def action_toggle_histogram(self) -> None:
        self.hist_kind = "grad" if self.hist_kind == "act" else "act"
        self.query_one(Histograms).set_kind(self.hist_kind)
        if self.view != "hist":
            self.action_view("hist")
        self.refresh_frame(force=True)

    def action_next_variant(self) -> None:
        n = len(self.driver.session.groups) if self.driver and self.driver.session else 1
        self.focus_index = (self.focus_index + 1) % n
        st = self.query_one(StatusBar)
        st.focus_index = self.focus_index
        if self.view not in ("health", "boundary") and not self.has_class("-short"):
            self.action_view("health")
        self.refresh_frame(force=True)

    def action_next_view(self) -> None:
        cycle = self._views_cycle()
        i = cycle.index(self.view) if self.view in cycle else -1
        self.action_view(cycle[(i + 1) % len(cycle)])

    def action_view(self, view: str) -> None:
        if view == "about" and self.has_class("-large"):
            self.query_one("#lesson").focus()
            return
        if view == "boundary" and self.boundary_why is not None:
            self.notify(_(self.boundary_why), severity="warning")
            return
        self.view = view
        self._view_chosen = True
        self._apply_view()
        self.refresh_frame(force=True)

    def action_zoom(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        target = self.focused or self.query_one("#bars")
        self.maximize(target, container=False)

    def action_back(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        self.app.back_to_lessons()

    def on_unmount(self) -> None:
        if self.driver is not None:
            self.driver.cancel()

    def action_scale_lr(self, factor: float) -> None:
        if self.driver is None or self.driver.session is None:
            return

        def apply(session) -> str:
            for r in session.runs:  # every seed of every variant
                r.set_live(lr=r.opt.hparams["lr"] * factor)
            return "lr " + ("×2" if factor > 1 else "÷2") + ": " + ", ".join(
                f"{num(g.runs[0].opt.hparams['lr'])} ({g.label})" for g in session.groups)

        self.driver.call(apply, _("change the learning rate"))

    def action_settings(self) -> None:
        from .settings import SettingsScreen

        if self.driver is None or self.driver.session is None:
            self.notify(_("the networks are still being built"), severity="warning")
            return
        groups = self.driver.session.groups
        focus = groups[self.focus_index % len(groups)].runs[0]
        self.app.push_screen(SettingsScreen(focus.label, dict(focus.opt.hparams), self._check_override),
                             self._apply_settings)

    def _check_override(self, setting: str):
        """The scenario with one more override, or raise ScenarioError."""
        sc = self.scenario
        return parse_scenario(sc.source, sc.path, self.overrides + [setting], file_label=sc.path.name if sc.path
                              else None)

    def _apply_settings(self, result: dict | None) -> None:
        if not result:
            return
        if "restart" in result:
            setting, scenario = result["restart"]
            self.overrides.append(setting)
            self.scenario = scenario
            self.query_one(TitleBar).title_text = f"{scenario_text(scenario, 'title')} · " + ", ".join(self.overrides)
            self.query_one(TitleBar).refresh()
            self.notify(_("restarted with {setting}").format(setting=setting))
            self.start()
            return
        changes, every = result["live"], result["every"]
        if not changes:
            return
        groups = self.driver.session.groups
        focus_label = groups[self.focus_index % len(groups)].label

        def apply(session) -> str:
            for r in session.runs:  # the variant's every seed
                if every or r.label == focus_label:
                    r.set_live(**changes)
            changed = ", ".join(f"{k} = {v}" for k, v in changes.items())
            if every:
                return _("changed {changes} for every variant").format(changes=changed)
            return _("changed {changes} for {variant}").format(changes=changed, variant=focus_label)

        self.driver.call(apply, _("change the settings"))

    def action_screenshot(self) -> None:
        directory = Path(getattr(self.app, "screenshot_dir", None) or Path.cwd())
        if not writable(self, directory):
            return
        directory.mkdir(parents=True, exist_ok=True)
        step = self.driver.step if self.driver else 0
        name = f"tuisim-{self.scenario.name}-step{step}"
        path = directory / f"{name}.svg"
        k = 1
        while path.exists():
            k += 1
            path = directory / f"{name}-{k}.svg"
        self.app.save_screenshot(filename=path.name, path=str(directory))
        self.notify(_("saved {path}").format(path=path), title=_("Screenshot"))

    def action_export(self) -> None:
        if self.driver is None or self.driver.session is None:
            self.notify(_("nothing to export yet"), severity="warning")
            return
        directory = Path(getattr(self.app, "export_dir", None) or Path.cwd())
        if not writable(self, directory):
            return
        sc, driver = self.scenario, self.driver

        def export(session) -> str:
            from tuisim.run.record import RunWriter

            out = directory / f"tuisim-{sc.name}-step{driver.step}"
            RunWriter(out, session).close(export_summary(session, sc, self.overrides, driver.train_seconds))
            if sc.surface:
                return _("exported {out}/steps.jsonl, steps.csv, summary.json").format(out=out)
            return _("exported {out}/steps.jsonl, steps.csv, summary.json and weights/").format(out=out)

        self.driver.call(export, _("export"))
