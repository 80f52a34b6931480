"""A braille canvas: lines drawn in dots, 2 x 4 to a character, in layers.

Every character of a plot is a braille pattern (U+2800-U+28FF), so a line has four times
the rows and twice the columns of the text grid. A line is drawn through every dot
column between its first and last point, from its own height to halfway to its
neighbours', so it has no gaps however steep it falls (plotext's markers leave one dot
per data point; btop's graphs fill the area under a single series instead).

A character has one colour, so where lines cross the layer of the higher `tier` owns the
character (the loss plot: the seeds' faint lines, then the heavy train lines, then the
thin dashed test lines on top); lines of one tier share the character, in the colour of
the last drawn. Whole-character marks (▲ where a line leaves the top of the plot, a
variant's marker) go over everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.text import Span, Text

# the bit of each dot of a braille character, by [row][column] within it
DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int64)
# SPAN[dx, a, b]: the bits of dots a..b (rows within a character) of its column dx
SPAN = np.zeros((2, 4, 4), dtype=np.int64)
for _dx in range(2):
    for _a in range(4):
        for _b in range(_a, 4):
            SPAN[_dx, _a, _b] = DOT_BITS[_a:_b + 1, _dx].sum()
ABOVE, BELOW = "▲", "▼"


@dataclass
class Layer:
    bits: np.ndarray  # (rows, cols) braille codes
    style: Style
    tier: int


class Canvas:
    """`cols` x `rows` characters of dots: x runs 0..2*cols from the left, y 0..4*rows
    from the top (floats; a dot covers [i, i + 1))."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = max(cols, 0), max(rows, 0)
        self.w, self.h = 2 * self.cols, 4 * self.rows
        self.layers: list[Layer] = []
        self.marks: dict[tuple[int, int], tuple[str, Style]] = {}  # (row, col): a whole character

    def dots(self, columns: np.ndarray, top: np.ndarray, bottom: np.ndarray, style: Style, tier: int = 0) -> None:
        """A layer with, in each dot column of `columns`, the dots from row `top` to row
        `bottom` (integers, top <= bottom, within the canvas)."""
        half = np.zeros((self.rows, self.cols, 2), dtype=np.int64)  # each dot column's bits apart
        if len(columns):
            col, dx = columns // 2, columns % 2
            first, last = top // 4, bottom // 4
            for k in range(int((last - first).max()) + 1):  # the characters each column's dots span
                sel = last - first >= k
                r = first[sel] + k
                a = np.maximum(top[sel] - 4 * r, 0)
                b = np.minimum(bottom[sel] - 4 * r, 3)
                half[r, col[sel], dx[sel]] = SPAN[dx[sel], a, b]  # one dot column: no index twice
        self.layers.append(Layer(half[:, :, 0] | half[:, :, 1], style, tier))

    def line(self, x: np.ndarray, y: np.ndarray, style: Style, tier: int = 0, thick: int = 1,
             dash: int = 0, clip_marks: bool = False) -> None:
        """A line through the points (x, y), x increasing (points sharing a dot column:
        the caller averages them first). `thick` dots tall; `dash` > 0: drawn `dash`
        characters on, `dash` off. Beyond the top or the bottom it runs along the edge,
        and with `clip_marks` each stretch there starts with ▲ (▼ at the bottom)."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        if len(x) == 0 or self.w == 0 or self.h == 0:
            return
        c0 = int(np.clip(np.floor(x[0]), 0, self.w - 1))
        c1 = int(np.clip(np.floor(x[-1]), 0, self.w - 1))
        cols = np.arange(c0, c1 + 1)
        yc = np.interp(cols + 0.5, x, y) if len(x) > 1 else np.full(len(cols), y[0])
        at = np.clip(yc, 0, self.h - 1e-9)
        lo, hi = at.copy(), at.copy()
        if len(cols) > 1:  # halfway to each neighbour: consecutive columns touch
            mid = (at[1:] + at[:-1]) / 2
            lo[1:], hi[1:] = np.minimum(lo[1:], mid), np.maximum(hi[1:], mid)
            lo[:-1], hi[:-1] = np.minimum(lo[:-1], mid), np.maximum(hi[:-1], mid)
        top = np.floor(lo).astype(np.int64)
        bottom = np.minimum(np.floor(hi).astype(np.int64) + thick - 1, self.h - 1)
        top = np.minimum(top, bottom)
        keep = (cols // (2 * dash)) % 2 == 0 if dash > 0 else slice(None)
        self.dots(cols[keep], top[keep], bottom[keep], style, tier)
        if clip_marks:
            for out, row, mark in ((yc < 0, 0, ABOVE), (yc >= self.h, self.rows - 1, BELOW)):
                starts = np.flatnonzero(out & ~np.concatenate([[False], out[:-1]]))
                for s in starts:
                    self.marks[(row, int(cols[s]) // 2)] = (mark, style)

    def vline(self, x: float, style: Style, tier: int = 0, dash: int = 0) -> None:
        """A vertical line at x, the whole height (`dash`: characters on and off)."""
        if self.w == 0 or self.h == 0 or not np.isfinite(x):
            return
        c = int(np.clip(np.floor(x), 0, self.w - 1))
        rows = np.arange(self.rows)
        if dash > 0:
            rows = rows[(rows // dash) % 2 == 0]
        self.dots(np.full(len(rows), c), 4 * rows, 4 * rows + 3, style, tier)

    def mark(self, x: float, y: float, char: str, style: Style) -> None:
        """A whole character at the cell holding the dot (x, y), over every line."""
        if self.w == 0 or self.h == 0 or not (np.isfinite(x) and np.isfinite(y)):
            return
        col = int(np.clip(x // 2, 0, self.cols - 1))
        row = int(np.clip(y // 4, 0, self.rows - 1))
        self.marks[(row, col)] = (char, style)

    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows x cols) braille codes (0: empty) and the index of the layer whose colour
        each character takes (-1: none), by the tier rule above."""
        code = np.zeros((self.rows, self.cols), dtype=np.int64)
        owner = np.full((self.rows, self.cols), -1, dtype=np.int64)
        best = np.full((self.rows, self.cols), -1, dtype=np.int64)
        for k, layer in enumerate(self.layers):
            drawn = layer.bits > 0
            higher = drawn & (layer.tier > best)
            same = drawn & (layer.tier == best)
            code[higher] = layer.bits[higher]
            code[same] |= layer.bits[same]
            owner[higher | same] = k
            best[higher] = layer.tier
        return code, owner

    def lines(self) -> list[Text]:
        """The canvas as one Text per row."""
        code, owner = self.cells()
        chars = np.where(owner >= 0, 0x2800 + code, 0x20).astype(np.uint32)
        styles = [layer.style for layer in self.layers]
        for (r, c), (ch, st) in self.marks.items():  # each mark: a style of its own
            chars[r, c] = ord(ch)
            owner[r, c] = len(styles)
            styles.append(st)
        # a blank takes the style before it (any colour draws a space), so a row has as
        # few runs of one style as its lines allow
        pos = np.where(owner >= 0, np.arange(self.cols)[None, :], 0)
        np.maximum.accumulate(pos, axis=1, out=pos)
        owner = np.take_along_axis(owner, pos, axis=1)
        out = []
        for r in range(self.rows):
            row = chars[r].tobytes().decode("utf-32-le")
            own = owner[r]
            cuts = np.flatnonzero(own[1:] != own[:-1]) + 1
            spans = [Span(int(a), int(b), styles[own[a]]) for a, b in
                     zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [self.cols]])) if own[a] >= 0]
            out.append(Text(row, no_wrap=True, overflow="crop", spans=spans))
        return out
