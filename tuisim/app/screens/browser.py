"""The scenario browser: the bundled lessons grouped by lesson number, then the sweeps
(maps of many runs), a preview of the highlighted one, and a way to open a file."""

from __future__ import annotations

import re

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DirectoryTree, Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from tuisim.data import confine
from tuisim.i18n import N_, _, scenario_text
from tuisim.scenario import ScenarioError, bundled_scenarios, load_scenario

from ..widgets.footer import KeyFooter

# The groups of LESSONS.md (shown translated)
LESSON_GROUPS = {
    1: N_("Vanishing and exploding gradients"),
    2: N_("Weight initialization"),
    3: N_("Activation functions"),
    4: N_("Normalization and regularization"),
    5: N_("Architectures"),
    6: N_("Optimizers"),
    7: N_("Symptoms to read"),
    8: N_("What measurement adds"),
}


def lesson_key(lessons: list[str]) -> tuple:
    if not lessons:
        return (99, 0)
    m = re.match(r"L(\d+)(?:\.(\d+))?", lessons[0])
    return (int(m[1]), int(m[2] or 0)) if m else (99, 0)


def load_library(paths=None) -> list[tuple[str, object]]:
    """(name, Scenario or the error text) of every file (the bundled ones by default), in
    lesson order."""
    items = []
    for path in (bundled_scenarios() if paths is None else paths):
        try:
            items.append((path.stem, load_scenario(path)))
        except ScenarioError as e:
            items.append((path.stem, str(e)))
    return sorted(items, key=lambda it: (lesson_key(it[1].lessons) if not isinstance(it[1], str) else (99, 0),
                                         it[0]))


def preview_markdown(name: str, sc) -> str:
    if isinstance(sc, str):
        return f"# {name}\n\n" + _("This file does not load:") + f"\n\n```\n{sc}\n```"
    variants = "\n".join(f"- **{v.label}**: {_describe(v)}" for v in sc.variants)
    facts = _("{steps} steps · seed {seed}").format(steps=sc.steps, seed=sc.seed)
    heading, run_it = _("Variants"), _("enter: run it")
    return (f"# {scenario_text(sc, 'title')}\n\n`{name}` · {' '.join(sc.lessons)} · {facts}\n\n"
            f"{scenario_text(sc, 'description').strip()}\n\n**{heading}**\n\n{variants}\n\n_{run_it}_")


def sweep_runs(sweep, variants: int) -> int:
    """Runs of a [sweep]: points x variants x seeds."""
    n = sweep.seeds * max(variants, 1)
    for axis in sweep.axes:
        n *= len(axis.values)
    return n


def sweep_preview_markdown(name: str, sc) -> str:
    sw = sc.sweep
    axes = " × ".join(f"{a.label} ({len(a.values)}: {a.labels[0]} … {a.labels[-1]})" for a in sw.axes)
    variants = (" × " + _("{n} variants").format(n=len(sc.variants))) if len(sc.variants) > 1 else ""
    runs = sweep_runs(sw, len(sc.variants))
    quick = ""
    if sw.has_quick:
        quick = _(" · **k**: the quick grid, {runs} runs").format(runs=sweep_runs(sw.quick(), len(sc.variants)))
    lessons = f" · {' '.join(sc.lessons)}" if sc.lessons else ""
    seeds = (_("{n} seed per point") if sw.seeds == 1 else _("{n} seeds per point")).format(n=sw.seeds)
    the_map = _("**The map**: {measure} over {axes}{variants}, {seeds}: **{runs} runs** of {steps} steps, "
                "on every core.").format(measure=sw.measure.replace("_", " "), axes=axes, variants=variants,
                                         seeds=seeds, runs=runs, steps=sc.steps)
    a_sweep, run_it = _("a sweep"), _("enter: run the full grid{quick}").format(quick=quick)
    return (f"# {scenario_text(sc, 'title')}\n\n`{name}` · {a_sweep}{lessons}\n\n{the_map}\n\n"
            f"_{run_it}_\n\n{scenario_text(sc, 'description').strip()}")


def _describe(v) -> str:
    md = v.model
    parts = [_("depth {depth}").format(depth=md.get("depth")), str(md.get("activation")), str(md.get("init"))]
    if md.get("norm") not in (None, "none"):
        parts.append(_("{norm} norm").format(norm=md.get("norm")))
    if md.get("architecture") not in (None, "plain"):
        parts.append(str(md.get("architecture")))
    parts.append(f"{v.train.get('optimizer')} lr {v.train.get('lr')}")
    return ", ".join(parts)


SWEEP = "sweep:"  # the option id of a sweep: "sweep:NAME"


class ServedFolder(DirectoryTree):
    """Under `tuisim serve`: the served folder's scenario files and folders, nothing above it
    (it is the tree's root) and nothing its confinement refuses (hidden names, symlinks out
    of it, devices and pipes)."""

    def __init__(self, confinement: confine.Confinement, **kwargs) -> None:
        super().__init__(confinement.root, **kwargs)
        self.confinement = confinement

    def filter_paths(self, paths):
        return [p for p in paths if not p.name.startswith(".") and self.confinement.allows(p)
                and (p.suffix == ".toml" and p.is_file() or p.is_dir())]


class BrowserScreen(Screen):
    KIND = "browser"
    BINDINGS = [
        Binding("o", "open_file", N_("Open a file"), tooltip=N_("Open a scenario file by its path")),
        Binding("k", "quick_sweep", N_("Quick sweep"), tooltip=N_("Run the highlighted sweep's quick grid")),
        Binding("escape", "close_file", N_("Cancel"), show=False),
    ]

    def __init__(self, paths=None) -> None:
        super().__init__()
        self.items = load_library(paths)

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="title")
        with Horizontal(id="browser"):
            yield OptionList(*self._options(), id="lessons")
            with VerticalScroll(id="preview"):
                yield Markdown(id="preview-md")
        with Vertical(id="open-file"):
            served = confine.active()
            if served is None:
                yield Static(_("Open a scenario file (enter opens, esc cancels):"), id="open-hint")
                yield Input(placeholder=_("path/to/scenario.toml or a bundled name"), id="path")
            else:  # tuisim serve: what the served folder holds, or a path inside it
                yield Static(_("The served folder: enter opens a scenario, tab types a path, esc cancels"),
                             id="open-hint")
                yield ServedFolder(served, id="served")
                yield Input(placeholder=_("a scenario file inside the served folder, or a bundled name"), id="path")
        yield KeyFooter()

    @staticmethod
    def _title() -> str:
        return (" [b reverse] tuisim [/] [b]" + _("Lessons") + "[/b]  [dim]"
                + _("watch deep networks learn, or fail to") + "[/]")

    def _options(self) -> list:
        opts: list = []
        group = None
        if not self.items:
            return [Option(_("no bundled scenarios found: press o to open a file"), disabled=True)]
        for name, sc in self.items:
            g = lesson_key(sc.lessons)[0] if not isinstance(sc, str) else 99
            if g != group:
                group = g
                title = _(LESSON_GROUPS[g]) if g in LESSON_GROUPS else _("Other")
                opts.append(Option(Text.assemble((f"L{g} " if g != 99 else "", "bold"), (title, "bold underline")),
                                   disabled=True))
            if isinstance(sc, str):
                opts.append(Option(Text.assemble(f"  {name}", (" " + _("(does not load)"), "red")), id=name))
            else:
                lessons = f" · {' '.join(sc.lessons)}" if sc.lessons else ""
                opts.append(Option(Text.assemble(f"  {scenario_text(sc, 'title')}\n", (f"  {name}{lessons}", "dim")),
                                   id=name))
        sweeps = [(name, sc) for name, sc in self.items if not isinstance(sc, str) and sc.sweep is not None]
        if sweeps:
            opts.append(Option(Text.assemble((_("Sweeps"), "bold"), " ", (_("maps of many runs"), "bold underline")),
                               disabled=True))
            for name, sc in sweeps:
                runs = _("{n} runs").format(n=sweep_runs(sc.sweep, len(sc.variants)))
                opts.append(Option(Text.assemble(f"  {scenario_text(sc, 'title')}\n", (f"  {name} · {runs}", "dim")),
                                   id=SWEEP + name))
        return opts

    def relabel(self) -> None:
        """The title, the list (the same option highlighted) and the preview in the language of the moment."""
        self.query_one("#title", Static).update(self._title())
        self.border_title = _("Lessons")
        ol = self.query_one(OptionList)
        highlighted = ol.highlighted
        ol.clear_options()
        ol.add_options(self._options())
        if highlighted is not None and highlighted < ol.option_count:
            ol.highlighted = highlighted
        item = self._highlighted()
        if item is not None:
            self._show_preview(item)
        served = confine.active()
        hint = _("Open a scenario file (enter opens, esc cancels):") if served is None else _(
            "The served folder: enter opens a scenario, tab types a path, esc cancels")
        self.query_one("#open-hint", Static).update(hint)
        self.query_one("#path", Input).placeholder = _("path/to/scenario.toml or a bundled name") if served is None \
            else _("a scenario file inside the served folder, or a bundled name")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.focus()
        for i in range(ol.option_count):
            if not ol.get_option_at_index(i).disabled:
                ol.highlighted = i
                break
        self.border_title = _("Lessons")

    def _item(self, option_id: str | None):
        """(name, Scenario or error text, is it the sweep) of an option."""
        if option_id is None:
            return None
        sweep = option_id.startswith(SWEEP)
        name = option_id[len(SWEEP):] if sweep else option_id
        return next(((n, sc, sweep) for n, sc in self.items if n == name), None)

    def _highlighted(self):
        ol = self.query_one(OptionList)
        if ol.highlighted is None:
            return None
        return self._item(ol.get_option_at_index(ol.highlighted).id)

    @on(OptionList.OptionHighlighted)
    def _preview(self, event: OptionList.OptionHighlighted) -> None:
        item = self._item(event.option.id)
        if item is not None:
            self._show_preview(item)
        self.refresh_bindings()

    def _show_preview(self, item) -> None:
        n, sc, sweep = item
        self.query_one("#preview-md", Markdown).update(sweep_preview_markdown(n, sc) if sweep
                                                       else preview_markdown(n, sc))

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        item = self._item(event.option.id)
        if item is None:
            return
        n, sc, sweep = item
        if sweep:
            self.app.open_sweep(sc.path or n)
        else:
            self.app.open_scenario(sc if not isinstance(sc, str) else n)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "quick_sweep":
            item = self._highlighted() if self.is_mounted else None
            return bool(item and item[2] and item[1].sweep.has_quick)
        return True

    def action_quick_sweep(self) -> None:
        item = self._highlighted()
        if item and item[2]:
            self.app.open_sweep(item[1].path or item[0], quick=True)

    def action_open_file(self) -> None:
        self.add_class("-open-file")
        served = self.query(ServedFolder)
        (served.first() if served else self.query_one("#path", Input)).focus()

    def action_close_file(self) -> None:
        self.remove_class("-open-file")
        self.query_one(OptionList).focus()

    @on(DirectoryTree.FileSelected, "#served")
    def _open_served(self, event: DirectoryTree.FileSelected) -> None:
        self.action_close_file()
        self.app.open_scenario(str(event.path))

    @on(Input.Submitted, "#path")
    def _open_path(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.action_close_file()
            self.app.open_scenario(event.value.strip())
