"""The settings form: change optimizer settings live, or any scenario key with a restart."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static

from tuisim.i18n import N_, _
from tuisim.scenario import ScenarioError

from .dialogs import FittedDialog

LIVE = (  # (key, label shown translated, optional)
    ("lr", N_("learning rate"), False),
    ("momentum", N_("momentum"), False),
    ("weight_decay", N_("weight decay (L2)"), False),
    ("clip_norm", N_("clip gradient norm at (empty: off)"), True),
    ("clip_value", N_("clip gradient values at (empty: off)"), True),
)


COMPACT_BELOW = 40  # rows: a shorter terminal gets one-line inputs and buttons
NARROW_BELOW = 70  # columns: a narrower one puts each label above its input
BUTTONS = ((N_("Apply live"), N_("Apply")), (N_("Restart with change"), N_("Restart")),
           (N_("Cancel"), N_("Cancel")))  # (wide, narrow), shown translated


class SettingsScreen(FittedDialog):
    """Returns {"live": {key: value}, "every": bool} or {"restart": (setting, scenario)}."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, focus_label: str, hparams: dict, check_override) -> None:
        super().__init__()
        self.focus_label = focus_label
        self.hparams = hparams
        self.check_override = check_override

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="settings"):
            yield Static("[b]" + _("Settings") + f"[/b] · [dim]{self.focus_label}[/]", id="dialog-title")
            with VerticalScroll(id="form", classes="grow"):
                yield Static(_("Live: applied between two steps, the run goes on."), classes="hint")
                for key, text, optional in LIVE:
                    value = self.hparams.get(key)
                    with Horizontal(classes="field"):
                        yield Label(_(text))
                        yield Input("" if value is None else f"{value:g}", id=f"f-{key}",
                                    placeholder=_("off") if optional else "", type="text")
                yield Checkbox(_("apply to every variant"), True, id="every")
                yield Static(_("Restart with any scenario key changed (as --set): e.g. model.depth=50, "
                               "model.norm=\"batch\", train.optimizer=\"adam\", variant.1.model.init=\"orthogonal\""),
                             classes="hint")
                yield Input(placeholder="KEY=VALUE", id="override")
            yield Static("", id="error")
            with Horizontal(id="buttons"):
                for (label, __), (key, variant) in zip(BUTTONS, (("apply", "primary"), ("restart", "default"),
                                                                 ("cancel", "default"))):
                    yield Button(_(label), id=key, variant=variant)

    def on_mount(self) -> None:
        if getattr(self.app, "deterministic", False):  # snapshots: the cursor drawn whatever the clock
            for field in self.query(Input):
                field.cursor_blink = False
        self.query_one("#f-lr", Input).focus()
        self.query_one("#error").display = False
        self._layout_for(self.size.width, self.size.height)

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        """Short terminals get the one-line (compact) inputs and buttons, narrow ones each
        label above its input; then, when the form still does not fit, it scrolls between
        the title and the buttons, which stay on screen."""
        compact = height < COMPACT_BELOW
        for w in self.query("Input, Button, Checkbox"):
            w.compact = compact
        self.set_class(compact, "-compact")
        narrow = width < NARROW_BELOW
        self.set_class(narrow, "-narrow")
        for button, (long, short) in zip(self.query(Button), BUTTONS):
            button.label = _(short if narrow else long)
        self.call_after_refresh(self.fit)

    def _error(self, text: str) -> None:
        error = self.query_one("#error", Static)
        error.update(Text(text, style="bold"))  # no markup: errors quote [tables]
        error.display = bool(text)
        self.call_after_refresh(self.fit)

    def _live(self) -> dict | None:
        changes = {}
        for key, __, optional in LIVE:
            raw = self.query_one(f"#f-{key}", Input).value.strip()
            old = self.hparams.get(key)
            if raw == "" or raw.lower() in ("off", "none", _("off")):
                if optional:
                    if old:
                        changes[key] = None
                    continue
                self._error(_("{key}: a number is needed").format(key=key))
                return None
            try:
                value = float(raw)
            except ValueError:
                self._error(_("{key}: {raw} is not a number").format(key=key, raw=repr(raw)))
                return None
            if old is None or value != float(old):
                changes[key] = value
        return changes

    @on(Button.Pressed, "#apply")
    @on(Input.Submitted, ".field Input")
    def apply(self) -> None:
        changes = self._live()
        if changes is None:
            return
        self.dismiss({"live": changes, "every": self.query_one("#every", Checkbox).value})

    @on(Button.Pressed, "#restart")
    @on(Input.Submitted, "#override")
    def restart(self) -> None:
        setting = self.query_one("#override", Input).value.strip()
        if "=" not in setting:
            self._error(_("write KEY=VALUE, e.g. model.depth=50"))
            return
        try:
            scenario = self.check_override(setting)
        except ScenarioError as e:
            self._error(str(e))
            return
        self.dismiss({"restart": (setting, scenario)})

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
