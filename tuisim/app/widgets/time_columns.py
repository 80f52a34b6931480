"""What the heat strip and the distributions over time (grad_dist) share: variants side
by side, one time column each, under a row of their names and over a time axis."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from ..format import shorten_labels


def names_row(cols, col_w: int, gap: int, label_w: int) -> Text:
    """Each column's variant name (shortened alike to fit), bold in its colour."""
    head = Text(" " * label_w, no_wrap=True)
    n = len(cols)
    for k, (c, name) in enumerate(zip(cols, shorten_labels([c.label for c in cols], col_w))):
        t = Text(name, style=c.style + Style(bold=True))
        t.pad_right(col_w - len(t))
        head.append_text(t)
        if k < n - 1:
            head.append(" " * gap)
    return head


def time_axis(cols, col_w: int, gap: int, label_w: int, total: int, muted: Style) -> Text:
    """Under each column "0 step ... total", with ✗ at the bin where its variant diverged."""
    axis = Text(" " * label_w, no_wrap=True)
    n = len(cols)
    for k, c in enumerate(cols):
        chars = list(f"0 {'step' if col_w > 16 else ''}".ljust(col_w))
        end = f"{total}"
        if col_w > len(end) + 3:
            chars[col_w - len(end):] = end
        line = Text("".join(chars[:col_w]), style=muted)
        if c.diverged_bin is not None and c.diverged_bin < col_w:
            x = max(c.diverged_bin, 1)
            line = line[:x] + Text("✗", style=c.style + Style(bold=True)) + line[x + 1:]
        axis.append_text(line[:col_w])
        if k < n - 1:
            axis.append(" " * gap)
    return axis
