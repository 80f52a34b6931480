"""`KeyFooter`: Textual's footer, keeping the important keys when the line is short.

Textual's `Footer` lays out every shown binding in declaration order and lets the line
overflow, so at 80 columns the run screen's `? Help` and `q Quit` fell off the end. This
footer ranks the keys (`q` and `?` first, then the screen's `FOOTER_PRIORITY`, then the
rest in declaration order), switches to Textual's compact style when that fits more, and
drops the least important keys until the line fits; the ones it keeps stay in their
usual order. Every key stays reachable: `?` lists them all and `ctrl+p` runs any.

The descriptions and tooltips are shown in the interface's language (the screens mark
them `N_`), and measured in terminal cells (a CJK character takes two)."""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tuisim.i18n import N_, _

ALWAYS = ("quit", "help")  # the app's keys every screen keeps
PALETTE = "command_palette"  # its key comes right after ALWAYS and the screen's first key
TEXTUAL_DESCRIPTIONS = (N_("palette"),)  # the palette key's, Textual's: for the catalog


def key_width(key_display: str, description: str, compact: bool) -> int:
    """Cells a FooterKey takes (its margin included), as Textual's footer CSS lays it out:
    " key desc " normally, "key desc" plus a 1-cell margin in the compact style."""
    return cell_len(key_display) + cell_len(description) + (2 if compact else 3)


PALETTE_WIDTH_EXTRA = 3  # the palette key: its left border, padding and margin


def choose(keys: list[tuple[str, str, str]], ranking: list[str], width: int,
           palette: tuple[str, str] | None = None) -> tuple[list[int], bool, bool]:
    """Which of `keys` ((action, key display, description), in display order) to show in
    `width` cells: (their indices, in display order; compact style?; show the palette key?).

    `ranking` lists actions most important first (actions not in it rank after, in display
    order). The most important keys are kept as a prefix of that ranking, never skipping one
    to fit a shorter one, so what disappears first is always the least important."""
    order = sorted(range(len(keys)), key=lambda i: (ranking.index(keys[i][0]) if keys[i][0] in ranking
                                                    else len(ranking) + i))
    palette_rank = min(len(ALWAYS) + 1, len(order))  # after q, ? and the screen's first key

    def fit(compact: bool) -> tuple[list[int], bool]:
        used, kept, with_palette = 0, [], False
        pw = (cell_len(palette[0]) + cell_len(palette[1]) + PALETTE_WIDTH_EXTRA) if palette else 0
        for rank, i in enumerate(order + [None]):
            if rank == palette_rank and palette:
                if used + pw > width:
                    break
                used, with_palette = used + pw, True
            if i is None:
                break
            w = key_width(keys[i][1], keys[i][2], compact)
            if used + w > width:
                break
            used += w
            kept.append(i)
        return kept, with_palette

    wide = fit(False)
    if len(wide[0]) == len(keys) and (wide[1] or not palette):
        return sorted(wide[0]), False, wide[1]
    small = fit(True)
    if (len(small[0]), small[1]) > (len(wide[0]), wide[1]):
        return sorted(small[0]), True, small[1]
    return sorted(wide[0]), False, wide[1]


class KeyFooter(Footer):
    """The footer of the main screens: see the module's docstring. A screen may set
    `FOOTER_PRIORITY`, its actions most important first."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._fitted: tuple | None = None

    def _width(self) -> int:
        return self.size.width or self.screen.size.width or self.app.size.width

    def compose(self):
        widgets = list(super().compose())
        for w in widgets:  # in the language of the moment (a switch recomposes the footer)
            if isinstance(w, FooterKey):
                w.description = _(w.description) if w.description else w.description
                if isinstance(w.tooltip, str) and w.tooltip:
                    w.tooltip = _(w.tooltip)
        keys = [w for w in widgets if isinstance(w, FooterKey) and not w.has_class("-command-palette")]
        palette = next((w for w in widgets if isinstance(w, FooterKey) and w.has_class("-command-palette")), None)
        others = [w for w in widgets if not isinstance(w, FooterKey)]
        ranking = list(ALWAYS) + list(getattr(self.screen, "FOOTER_PRIORITY", ()))
        width = self._width() - 12 * len(others)
        kept, compact, with_palette = choose([(k.action, k.key_display, k.description) for k in keys], ranking,
                                             width, (palette.key_display, palette.description) if palette else None)
        self._fitted = (self._width(), tuple(kept), compact, with_palette)
        self.compact = compact
        yield from others
        yield from (keys[i] for i in kept)
        if palette is not None and with_palette:
            yield palette

    def on_resize(self) -> None:
        if self._fitted is not None and self._fitted[0] != self._width():
            self._fitted = None
            self.call_after_refresh(self.recompose)
