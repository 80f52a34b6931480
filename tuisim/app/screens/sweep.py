"""The sweep screen: a scenario's [sweep] running, its map filling in cell by cell.

A 2-D sweep draws a heatmap (small multiples for the variants); a 1-D sweep draws its
curves over a strip with one row per variant. The sweep runs in a thread worker (the
runs themselves in worker processes); the screen pulls the results at the app's frame
rate. Enter opens the selected cell's run in the run screen, esc there comes back.
Leaving this screen (or quitting) stops the sweep and its worker processes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.worker import Worker, get_current_worker

from tuisim.i18n import N_, _, scenario_text
from tuisim.scenario import ScenarioError

from .. import messages as m
from ..sweep_driver import SweepDriver, SweepSpec
from ..sweep_map import MapData, MapLayout, carry_cursor, chance_of, measure_title
from .dialogs import report_worker_failure, writable
from ..widgets.cell_info import CellInfo, summarize
from ..widgets.footer import KeyFooter
from ..widgets.heatmap import Heatmap
from ..widgets.lesson import SweepAbout
from ..widgets.status import SweepStatusBar, TitleBar
from ..widgets.sweep_curves import SweepCurves


class SweepScreen(Screen):
    KIND = "sweep"
    BINDINGS = [  # descriptions and tooltips translated where shown (the footer, the help)
        Binding("enter", "open_cell", N_("Open run"), tooltip=N_("Open the selected cell's run in the run screen")),
        Binding("left", "move(-1, 0)", N_("Select the cell to the left"), show=False),
        Binding("right", "move(1, 0)", N_("Select the cell to the right"), show=False),
        Binding("up", "move(0, -1)", N_("Select the cell above"), show=False),
        Binding("down", "move(0, 1)", N_("Select the cell below"), show=False),
        Binding("v", "next_variant", N_("Variant"), tooltip=N_("The next variant's map")),
        Binding("n", "next_seed", N_("Seed"), tooltip=N_("The next seed: which of the cell's runs enter opens")),
        Binding("space", "toggle_pause", N_("Pause"),
                tooltip=N_("Pause or resume the sweep (the runs done are kept)")),
        Binding("k", "toggle_quick", N_("Quick/full"), tooltip=N_("Switch between the quick grid and the full one")),
        Binding("a", "toggle_about", N_("About"), tooltip=N_("Show or hide what the map shows and its claims")),
        Binding("s", "screenshot", N_("Screenshot"), tooltip=N_("Save the screen as SVG")),
        Binding("escape", "back", N_("Lessons"), show=False, tooltip=N_("Back to the lessons (stops the sweep)")),
    ]
    # what the footer keeps when the line is short, most important first (after q and ?)
    FOOTER_PRIORITY = ("open_cell", "toggle_pause", "toggle_about", "next_variant", "next_seed", "toggle_quick",
                       "screenshot")

    def __init__(self, spec: SweepSpec, *, deterministic: bool = False) -> None:
        super().__init__()
        self.spec = spec
        self.deterministic = deterministic
        self.quick = spec.quick
        self.drivers: dict[bool, SweepDriver] = {}
        self.driver: SweepDriver | None = None
        plan = spec.plan(self.quick)  # loaded by the caller: errors are shown before this screen
        self.map_layout = self._layout_of(plan, self.quick)
        self.cursor = (0, 0, 0)
        self.chance: float | None = None
        self.seed_index = 0
        self.about: bool | None = None  # None: shown on large terminals
        self._last_key = None
        self._told_failure = False

    def _layout_of(self, plan, quick: bool) -> MapLayout:
        return MapLayout.of(plan.grid, like=self.spec.plan(False).grid if quick else None)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        plan = self.spec.plan(self.quick)
        sc = plan.scenario
        yield TitleBar(_("Sweep · {title}").format(title=scenario_text(sc, "title")), list(sc.lessons), id="title")
        with Horizontal(id="sweep-body"):
            with Vertical(id="sweep-left"):
                yield SweepCurves(id="curves")
                yield Heatmap(id="map")
                yield CellInfo(id="cell")
            yield SweepAbout(sc, self.map_layout, plan, self.quick, id="about")
        yield SweepStatusBar(id="status", deterministic=self.deterministic)
        yield KeyFooter()

    def on_mount(self) -> None:
        self._layout_for(self.size.width, self.size.height)
        fps = max(0.5, min(float(getattr(self.app, "fps", 10.0)), 60.0))
        self.set_interval(1 / fps, self.refresh_frame)
        self.query_one(Heatmap).focus()
        self.activate(self.quick)

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        large = width >= 140 and height >= 40
        self.set_class(large, "-large")
        self.set_class(self.about if self.about is not None else large, "-about")

    # ------------------------------------------------------------------ the sweep
    def activate(self, quick: bool) -> None:
        """Show the full or the quick grid, and run it (the other one pauses: one at a time)."""
        for q, d in self.drivers.items():
            if q != quick:
                d.pause()
        plan = self.spec.plan(quick)
        status = self.query_one(SweepStatusBar)
        driver = self.drivers.get(quick)
        if driver is None:
            mine = quick == self.spec.quick  # --out and --resume are for the grid the command line asked for
            try:
                driver = SweepDriver(plan, workers=self.spec.workers, scheduler=self.spec.scheduler,
                                     out_dir=self.spec.out_dir if mine else None,
                                     resume=self.spec.resume if mine else False)
            except Exception as exc:  # SweepError: e.g. Dask asked for but not installed
                from tuisim.errors import user_message

                status.error = user_message(exc) or f"{type(exc).__name__}: {exc}"
                return
            self.drivers[quick] = driver
        old = self.map_layout
        self.quick, self.driver = quick, driver
        self.map_layout = lay = self._layout_of(plan, quick)
        self.chance = chance_of(plan.scenario)
        self.cursor = carry_cursor(old, lay, self.cursor)
        self.set_class(lay.y is None or lay.row_variant, "-one-axis")
        status.driver, status.error = driver, driver.notice or None  # a lost cluster stays said
        self.plan = plan
        self._label_grid()
        about = self.query_one(SweepAbout)
        about.set_grid(lay, plan, quick)
        if driver.checks is not None:
            about.set_info(checks=driver.checks)
        if driver.state in ("ready", "paused"):
            self._run(driver)
        self.refresh_frame(force=True)

    def _label_grid(self) -> None:
        """The map's title and subtitle and the status line's grid name, in the current language."""
        plan, g = self.plan, self.plan.grid
        grid_name = _("quick grid") if self.quick else _("full grid")
        self.query_one(SweepStatusBar).grid_name = grid_name
        heat = self.query_one(Heatmap)
        seeds = len(g.seeds)
        heat.border_title = f"{measure_title(plan.measure.describe())} · " + (
            _("mean of {n} seeds").format(n=seeds) if seeds > 1 else _("one seed"))
        shape = " × ".join(str(len(a)) for a in g.explicit_axes) or "1"
        heat.border_subtitle = (_("{grid}: {shape}").format(grid=grid_name, shape=shape)
                                + (_(" × {n} variants").format(n=len(g.variants)) if len(g.variants) > 1 else "")
                                + (_(" × {n} seeds = {runs} runs") if seeds != 1 else _(" × {n} seed = {runs} runs"))
                                .format(n=seeds, runs=len(plan.tasks)))

    def relabel(self) -> None:
        """After a switch of language (tuisim.app.app.relabel): the texts set once."""
        if getattr(self, "plan", None) is not None:
            self._label_grid()

    @work(thread=True, exit_on_error=False, group="sweep", description="sweep")
    def _run(self, driver: SweepDriver) -> None:
        driver.run(self.post_message, get_current_worker().cancelled_event)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event, "sweep", "sweep", self.query_one(SweepStatusBar))

    def _mine(self, message: m.DriverMessage) -> bool:
        return message.driver is self.driver

    def on_sweep_finished(self, message: m.SweepFinished) -> None:
        if not self._mine(message):
            return
        self.refresh_frame(force=True)
        self.query_one(SweepAbout).set_info(checks=message.checks)
        checks = [c for c in message.checks if not c.skipped]
        if checks and not self.deterministic:
            ok = sum(1 for c in checks if c.passed)
            self.notify(_("{ok} of {n} claims about the map hold (a: About)").format(ok=ok, n=len(checks)),
                        title=_("Sweep finished"))

    def on_sweep_paused(self, message: m.SweepPaused) -> None:
        if self._mine(message):
            self.refresh_frame(force=True)
            d = self.driver
            if d.state == "interrupted":  # the cluster was lost: say so, and how to go on
                self.query_one(SweepStatusBar).error = d.notice
                self.query_one(SweepStatusBar).update_if_changed()
                if not self.deterministic:
                    self.notify(d.hint, title=_("The sweep's cluster was lost"), severity="error", timeout=30,
                                markup=False)

    def on_sweep_run_failed(self, message: m.SweepRunFailed) -> None:
        if self._mine(message) and not self._told_failure and not self.deterministic:
            self._told_failure = True
            self.notify(message.text + "\n" + _("The map marks failed cells with !; select one to read why."),
                        title=_("A run failed"), severity="warning", timeout=10)

    def on_unmount(self) -> None:
        for d in self.drivers.values():
            d.close()

    # ------------------------------------------------------------------ drawing
    def refresh_frame(self, force: bool = False) -> None:
        """Pull the results into the map (called at the display rate; draws only what changed)."""
        status = self.query_one(SweepStatusBar)
        status.update_if_changed()
        d = self.driver
        if d is None:
            return
        res = d.results
        key = (id(res), res.done, self.cursor, self.seed_index, self.quick)
        if not force and key == self._last_key:
            return
        self._last_key = key
        data = MapData.from_results(self.map_layout, d.plan.measure.name, res, self.chance)
        self.query_one(Heatmap).show_map(data, self.cursor)
        if self.has_class("-one-axis"):
            self.query_one(SweepCurves).show_map(data, self.cursor)
        cell = self.map_layout.cell(*self.cursor)
        self.query_one(CellInfo).show(summarize(self.map_layout, res, cell, d.plan.measure.name, self.seed_index,
                                                unit=data.scale.fixed))

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Hide the keys that do nothing for this sweep (one variant, one seed, no quick grid)."""
        lay, d = self.map_layout, self.driver
        if action == "next_variant":
            return lay.npanels > 1 or lay.row_variant
        if action == "next_seed":
            return d is None or len(d.grid.seeds) > 1
        if action == "toggle_quick":
            try:
                return self.spec.has_quick
            except ScenarioError:
                return False
        return True

    def action_move(self, dx: int, dy: int) -> None:
        lay = self.map_layout
        p, c, r = self.cursor
        c += dx
        if c < 0:
            p, c = (p - 1, lay.nx - 1) if p > 0 else (p, 0)
        elif c >= lay.nx:
            p, c = (p + 1, 0) if p < lay.npanels - 1 else (p, lay.nx - 1)
        r = min(max(r + dy, 0), lay.ny - 1)
        self.cursor = (p, c, r)
        self.refresh_frame(force=True)

    def action_next_variant(self) -> None:
        lay = self.map_layout
        p, c, r = self.cursor
        if lay.npanels > 1:
            self.cursor = ((p + 1) % lay.npanels, c, r)
        elif lay.row_variant:
            self.cursor = (p, c, (r + 1) % lay.ny)
        else:
            self.notify(_("this sweep has one variant"), timeout=2)
            return
        self.refresh_frame(force=True)

    def action_next_seed(self) -> None:
        n = len(self.driver.grid.seeds) if self.driver else 1
        if n < 2:
            self.notify(_("this sweep runs one seed per point"), timeout=2)
            return
        self.seed_index = (self.seed_index + 1) % n
        self.refresh_frame(force=True)

    def action_toggle_pause(self) -> None:
        d = self.driver
        if d is None:
            return
        if d.active:
            d.pause()
        elif d.state in ("paused", "interrupted"):
            self.query_one(SweepStatusBar).error = None
            self._run(d)
        elif d.state == "finished":
            self.notify(_("every run of this grid is done"), timeout=2)
        self.query_one(SweepStatusBar).update_if_changed()

    def action_toggle_quick(self) -> None:
        try:
            has_quick = self.spec.has_quick
        except ScenarioError as e:
            self.notify(str(e), severity="error")
            return
        if not has_quick:
            self.notify(_("this sweep has no [sweep.quick] grid"), timeout=3)
            return
        self.activate(not self.quick)
        self.refresh_bindings()
        d = self.driver
        text = (_("quick grid: {n} runs") if self.quick else _("full grid: {n} runs")).format(n=d.progress()["total"])
        self.notify(text + ("" if d.state != "finished" else _(", all done")), timeout=3)

    def action_toggle_about(self) -> None:
        self.about = not self.has_class("-about")
        self.set_class(self.about, "-about")

    def action_open_cell(self) -> None:
        """The selected cell's run, in the run screen: the cell's scenario (as `tuisim run FILE
        --set ...` loads it) at the chosen seed, every variant, the cell's one in focus."""
        from .dialogs import ErrorScreen
        from .run import RunScreen

        d = self.driver
        if d is None:
            return
        plan, grid = d.plan, d.grid
        cell = self.map_layout.cell(*self.cursor)
        seed = grid.seeds[self.seed_index % len(grid.seeds)]
        try:
            sc = plan.scenario_at(cell)
        except ScenarioError as e:
            self.app.push_screen(ErrorScreen(_("Cannot open this cell"), str(e)))
            return
        variant = grid.variant(cell)
        focus = next((i for i, v in enumerate(sc.variants) if v.label == variant), 0)
        where = self.map_layout.describe(cell)
        summary = summarize(self.map_layout, d.results, cell, plan.measure.name, self.seed_index).runs
        got = next((r for r in summary if r.seed == seed and r.status == "ok"), None)
        value = _(" Its {measure} in the sweep: **{value}**.").format(
            measure=measure_title(plan.measure.describe()), value=f"{got.value:.4g}") if got else ""
        others = (_(" Every variant of the scenario runs; the cell is the variant **{variant}**.").format(
            variant=variant) if len(sc.variants) > 1 else "")
        note = _("**One cell of the map**: {where}, seed {seed}.{value}{others} The scenario's own "
                 "expectations are left out: they are about its default point.").format(
            where=where, seed=seed, value=value, others=others) + "\n\n"
        # the one seed the map's cell shows, whatever `seeds` the scenario file sets; a lone
        # variant (named after the scenario's title) takes the cell's parameters as its name
        lone = len(sc.variants) == 1 and sc.variants[0].label == sc.title
        variants = [dataclasses.replace(sc.variants[0], label=where)] if lone else sc.variants
        # the title and description in the current language (the scenario's Chinese ones included)
        sc = dataclasses.replace(sc, title=_("{where} · seed {seed} · {title}").format(
            where=where, seed=seed, title=scenario_text(sc, "title")), title_zh=None, expects=[],
            description=note + scenario_text(sc, "description"), description_zh=None, seeds=1, variants=variants)
        self.app.push_screen(RunScreen(sc, seed=seed, overrides=list(plan.overrides) + grid.overrides(cell),
                                       pause_at=getattr(self.app, "pause_at", None),
                                       deterministic=self.deterministic, focus=focus))

    def action_screenshot(self) -> None:
        directory = Path(getattr(self.app, "screenshot_dir", None) or Path.cwd())
        if not writable(self, directory):
            return
        directory.mkdir(parents=True, exist_ok=True)
        name = f"tuisim-sweep-{self.spec.plan(self.quick).scenario.name}"
        path = directory / f"{name}.svg"
        k = 1
        while path.exists():
            k += 1
            path = directory / f"{name}-{k}.svg"
        self.app.save_screenshot(filename=path.name, path=str(directory))
        self.notify(_("saved {path}").format(path=path), title=_("Screenshot"))

    def action_back(self) -> None:
        self.app.back_to_lessons()
