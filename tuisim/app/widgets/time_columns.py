"""What the heat strip and the distributions over time (grad_dist) share: variants side
by side, one time column each, under a row of their names and over a time axis."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tuisim.i18n import _

from ..format import head_cells, pad_cells, shorten_labels, tail_cells


def names_row(cols, col_w: int, gap: int, label_w: int) -> Text:
    """Each column's variant name (shortened alike to fit), bold in its colour."""
    head = Text(" " * label_w, no_wrap=True)
    n = len(cols)
    for k, (c, name) in enumerate(zip(cols, shorten_labels([c.label for c in cols], col_w))):
        t = Text(name, style=c.style + Style(bold=True))
        t.pad_right(col_w - t.cell_len)
        head.append_text(t)
        if k < n - 1:
            head.append(" " * gap)
    return head


def time_axis(cols, col_w: int, gap: int, label_w: int, total: int, muted: Style) -> Text:
    """Under each column "0 step ... total", with ✗ at the bin where its variant diverged."""
    axis = Text(" " * label_w, no_wrap=True)
    n = len(cols)
    for k, c in enumerate(cols):
        end = f"{total}"
        word = _("step") if col_w > 16 else ""
        head = f"0 {word}"
        if col_w > len(end) + 3:
            plain = pad_cells(head_cells(head, col_w - len(end)), col_w - len(end)) + end
        else:
            plain = pad_cells(head_cells(head, col_w), col_w)
        line = Text(plain, style=muted)
        if c.diverged_bin is not None and c.diverged_bin < col_w:
            x = max(c.diverged_bin, 1)
            left, right = head_cells(plain, x), tail_cells(plain, col_w - x - 1)  # a wide character: cut whole
            line = Text(pad_cells(left, x), style=muted) + Text("✗", style=c.style + Style(bold=True)) + \
                Text(pad_cells(right, col_w - x - 1, ">"), style=muted)
        axis.append_text(line)
        if k < n - 1:
            axis.append(" " * gap)
    return axis
