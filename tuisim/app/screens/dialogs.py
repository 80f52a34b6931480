"""Small modal screens: the help screen and the error screen; what screens share to report."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.worker import WorkerState
from textual.widgets import Markdown, Static

PANELS = """
**Panels**

- **Gradients**: one bar per linear layer, the input layer at the top, on a fixed log10 axis
  (1e-14 to 1e6, never rescaled). Blue ▾: vanishing (< 1e-5); green: healthy; red ▴: exploding
  (> 10, or not finite). `g` switches between the weights' gradient ‖dL/dW‖ and the
  back-propagated signal ‖dL/dz‖: with a tiny init the first stays level across layers
  while the second collapses.
- **Loss**: train loss (lines) and test loss (dots) per variant; log scale when the losses
  span more than a decade; a vertical line where a variant diverged.
- **Heat strip**: each layer's gradient norm over the whole run (time left to right).
- **Health**: per layer mean, std, saturated %, dead % and the update/weight ratio with its
  1e-3 guide (1e-5: the layer barely moves).
- **Histograms**: each layer's distribution of activations (or of log10 |dL/dz|, `h`).
"""


MAP = """
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
"""


def keys_markdown(groups: list[tuple[str, list]]) -> str:
    out = []
    for title, bindings in groups:
        rows = []
        for b in bindings:
            if not b.description:
                continue
            keys = b.key_display or ", ".join(_key_name(k) for k in b.key.split(","))
            rows.append(f"| `{keys}` | {b.description} |")
        if rows:
            out.append(f"**{title}**\n\n| key | action |\n|---|---|\n" + "\n".join(rows))
    return "\n\n".join(out)


def _key_name(key: str) -> str:
    return {"space": "space", "question_mark": "?", "equals_sign": "=", "plus": "+", "minus": "-",
            "left_square_bracket": "[", "right_square_bracket": "]", "escape": "esc"}.get(key, key)


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def __init__(self, groups: list[tuple[str, list]], about: str = PANELS) -> None:
        super().__init__()
        self.groups = groups
        self.about = about

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static("[b]tuisim · keys[/b]   [dim](esc closes; ctrl+p: every command)[/]", id="dialog-title")
            yield Markdown(keys_markdown(self.groups) + "\n\n" + self.about)


class ErrorScreen(ModalScreen):
    """A problem the user can fix (a scenario that does not load), shown in the app."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="error"):
            yield Static(f"[b]{self.title_text}[/b]", id="dialog-title")
            yield Static(self.text, id="error-text", markup=False)
            yield Static("[dim]esc: close[/]")


def report_worker_failure(screen, event, group: str, what: str, status) -> None:
    """Every failure of a screen's worker (`group`) ends here: in the status bar and a
    notification, never a traceback. `what`: "run" or "sweep"."""
    from tuisim.errors import failure_text

    if event.worker.group != group or event.state != WorkerState.ERROR:
        return
    text = failure_text(event.worker.error)
    status.error = f"the {what} stopped: {text}"
    screen.notify(text, title=f"The {what} stopped", severity="error", timeout=15)


def writable(screen, directory) -> bool:
    """Whether the app may write in `directory` (an export, a screenshot): always, except under
    `tuisim serve` outside the served folder, which the screen then says in a notification."""
    from tuisim.data.confine import Refused, check_write

    try:
        check_write(directory)
    except Refused as e:
        screen.notify(f"not written: {e}", title="Outside the served folder", severity="error", timeout=15)
        return False
    return True
