"""Small modal screens: the help screen and the error screen; what screens share to report."""

from __future__ import annotations

from rich.console import Group
from rich.cells import cell_len
from rich.markup import escape
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.worker import WorkerState
from textual.widgets import Markdown, Static

from tuisim.i18n import N_, _

PANELS = N_("""
**Panels**

- **Gradients**: one bar per linear layer, the input layer at the top, on a fixed log10 axis
  (1e-14 to 1e6, never rescaled). Blue ▾: vanishing (< 1e-5); green: healthy; red ▴: exploding
  (> 10, or not finite). `g` switches between the weights' gradient ‖dL/dW‖ and the
  back-propagated signal ‖dL/dz‖: with a tiny init the first stays level across layers
  while the second collapses. `f` zooms the axis onto the data (and back), where a 100x
  difference between layers is plain; under each variant, first/last = the first layer's
  value over the last's (0/out when narrow; 1/120: the input side gets 120 times less).
- **Loss**: train loss (heavy lines) and test loss (dashed) per variant, in the variant's
  colour; log scale when the losses span more than a decade; ▲ where a line leaves the top
  of the axis (the first steps' spike); a vertical line and ✗ where a variant diverged.
- **Heat strip**: each layer's gradient norm over the whole run (time left to right). `d`
  shows instead each layer's distribution of |dL/dz| over time: the median (line), 25-75%
  and 5-95% (shades), exact zeros in each chart's bottom row (=0), to within 0.4 decade.
- **Health**: per layer mean, std, saturated %, dead % and the update/weight ratio with its
  1e-3 guide (1e-5: the layer barely moves).
- **Histograms**: each layer's distribution of activations (or of log10 |dL/dz|, `h`).
""")


MAP = N_("""
**The map**

- **Cells**: one per point of the sweep (the first axis across, the second down; the variants
  side by side, or one at a time with `v`), coloured by the measure's mean over the seeds on a
  fixed scale: bright is good, dark is bad (an accuracy scale starts at chance). The mean is
  written in the cell when there is room, ± the standard deviation over the seeds below it.
- **Marks**: `·` not run yet, `✗` some runs diverged, `!` some failed (select the cell to read
  why). The cells fill in as the runs finish; the status bar counts them, with the ETA.
- **A 1-D sweep** draws the measure against the swept value, a curve per variant, over a strip
  of cells (a row per variant).
- **Enter** opens the selected cell's run in the run screen: the scenario at that point, every
  variant, at the seed `n` picks; esc comes back to the map. `space` pauses the sweep (the
  runs done are kept); `k` switches to the quick grid and back; leaving the map stops it.
""")


def key_name(binding) -> str:
    return binding.key_display or ", ".join(_key_name(k) for k in binding.key.split(","))


def keys_table(groups: list[tuple[str, list]], width: int, styles: dict[str, Style] | None = None) -> Group:
    """Every key of `groups` ((title, bindings)) with what it does (its tooltip, else its
    description), a line each under its group's title; in two columns when `width` allows.
    Titles, tooltips and descriptions are shown in the interface's language, measured in cells."""
    styles = styles or {}
    groups = [(_(title), [(key_name(b), _(b.tooltip or b.description)) for b in bindings if b.description])
              for title, bindings in groups]
    rows = [r for __, g in groups for r in g]
    key_w = max([cell_len(k) for k, __ in rows], default=1)
    text_w = max([cell_len(d) for __, d in rows], default=1)
    pairs = 2 if width >= 2 * (key_w + 1 + min(text_w, 44)) + 2 else 1
    parts = []
    for title, g in groups:
        if not g:
            continue
        if parts:
            parts.append(Text(""))
        parts.append(Text(title, style=styles.get("title", Style(bold=True, underline=True))))
        t = Table(box=None, show_header=False, padding=(0, 2, 0, 0), pad_edge=False, expand=True)
        for __ in range(pairs):
            t.add_column(style=styles.get("key", Style(bold=True)), no_wrap=True, width=key_w)
            t.add_column(ratio=1)
        half = (len(g) + pairs - 1) // pairs
        for k in range(half):
            line = []
            for col in range(pairs):
                line += list(g[col * half + k]) if col * half + k < len(g) else ["", ""]
            t.add_row(*line)
        parts.append(t)
    return Group(*parts)


def _key_name(key: str) -> str:
    return {"space": "space", "question_mark": "?", "equals_sign": "=", "plus": "+", "minus": "-",
            "left_square_bracket": "[", "right_square_bracket": "]", "escape": "esc"}.get(key, key)


class KeyList(Widget):
    """The keys of the help screen, laid out for its width."""

    COMPONENT_CLASSES = {"key-list--key", "key-list--title"}
    DEFAULT_CSS = "KeyList { height: auto; }"

    def __init__(self, groups: list[tuple[str, list]]) -> None:
        super().__init__()
        self.groups = groups

    def render(self):
        return keys_table(self.groups, self.size.width or 80, {
            "key": self.get_component_rich_style("key-list--key"),
            "title": self.get_component_rich_style("key-list--title")})


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", N_("Close"))]

    def __init__(self, groups: list[tuple[str, list]], about: str = PANELS) -> None:
        super().__init__()
        self.groups = groups
        self.about = about

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="help"):
            yield Static(self._title(), id="dialog-title")
            yield KeyList(self.groups)
            yield Markdown(_(self.about))

    @staticmethod
    def _title() -> str:
        return "[b]" + _("tuisim · keys") + "[/b]   [dim]" + _("↑↓ scroll · esc closes · ctrl+p: every command") + "[/]"

    def relabel(self) -> None:
        self.query_one("#dialog-title", Static).update(self._title())
        self.query_one(Markdown).update(_(self.about))


class FittedDialog(ModalScreen):
    """A dialog (#dialog, at most 90% of the screen high) whose part of class `grow`
    scrolls when the whole does not fit; the rest (its title, buttons, hints) stays on
    screen. Sets the class -fill on the screen then (see app.tcss)."""

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit)

    def fit(self) -> None:
        dialog = self.query_one("#dialog")
        grow = dialog.query_one(".grow")
        others = dialog.outer_size.height - dialog.content_size.height  # its border and padding
        others += sum(w.outer_size.height + w.styles.margin.height for w in dialog.children
                      if w is not grow and w.display)
        self.set_class(others + grow.virtual_size.height > int(self.size.height * 0.9), "-fill")


class ErrorScreen(FittedDialog):
    """A problem the user can fix (a scenario that does not load), shown in the app; a long
    list of problems scrolls, "esc: close" stays in view."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", N_("Close"))]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="error"):
            yield Static(f"[b]{escape(self.title_text)}[/b]", id="dialog-title")
            with VerticalScroll(classes="grow"):
                yield Static(self.text, id="error-text", markup=False)
            yield Static("[dim]" + _("esc: close · ↑↓ scroll") + "[/]", id="dialog-keys")

    def on_mount(self) -> None:
        self.query_one(".grow").focus()


def report_worker_failure(screen, event, group: str, what: str, status) -> None:
    """Every failure of a screen's worker (`group`) ends here: in the status bar and a
    notification, never a traceback. `what`: "run" or "sweep"."""
    from tuisim.errors import failure_text

    if event.worker.group != group or event.state != WorkerState.ERROR:
        return
    text = failure_text(event.worker.error)
    if what == "sweep":
        status.error = _("the sweep stopped: {text}").format(text=text)
        title = _("The sweep stopped")
    else:
        status.error = _("the run stopped: {text}").format(text=text)
        title = _("The run stopped")
    screen.notify(text, title=title, severity="error", timeout=15)


def writable(screen, directory) -> bool:
    """Whether the app may write in `directory` (an export, a screenshot): always, except under
    `tuisim serve` outside the served folder, which the screen then says in a notification."""
    from tuisim.data.confine import Refused, check_write

    try:
        check_write(directory)
    except Refused as e:
        screen.notify(_("not written: {reason}").format(reason=e), title=_("Outside the served folder"),
                      severity="error", timeout=15)
        return False
    return True
