"""What the app's plots share: `new_figure`, a plotext figure set up the way the sweep's
curves draw (its own figure, no global `plt` state; a clear background; muted ticks;
plotext is imported on the first plot, not before the app's first frame), and the axes
of the braille plots (tuisim.app.widgets.braille): ticks that each sit on their own row
at any size, and the frame around the canvas."""

from __future__ import annotations

import math
import threading

from rich.style import Style
from rich.text import Text


def rgb_of(style) -> tuple[int, int, int]:
    """A rich Style's colour as plotext takes it (light grey when it has none)."""
    if style.color is None:
        return (200, 200, 200)
    tc = style.color.get_truecolor()
    return (tc.red, tc.green, tc.blue)


def new_figure(width: int, height: int, muted_rgb: tuple[int, int, int] | None = None):
    from plotext._figure import _figure_class as Figure

    f = Figure()
    f.plotsize(width, height)
    f.theme("clear")
    if muted_rgb is not None:
        f.ticks_color(muted_rgb)
    return f


def preload() -> None:
    """Import plotext in a background thread (0.1 s), so the first plot does not stall
    the interface for that long."""
    threading.Thread(target=lambda: __import__("plotext._figure"), name="tuisim-preload", daemon=True).start()


# ---------------------------------------------------------------- axes of the braille plots
def tick_label(v: float, decimals: int | None = None) -> str:
    """A tick's label: 0.05, 2, 5000; 1e4, 2e-5 beyond; `decimals` fixed for a linear axis."""
    if v == 0:
        return "0"
    if decimals is not None and 1e-3 <= abs(v) < 1e5:
        return f"{v:.{decimals}f}"
    e = math.floor(math.log10(abs(v)) + 1e-9)
    m = v / 10.0 ** e
    if -3 <= e <= 3:
        return f"{round(v, max(0, -e) + 1):g}" if abs(m - round(m)) > 1e-6 else f"{v:.{max(0, -e)}f}"
    return f"{m:g}e{e}" if abs(m - round(m)) > 1e-6 else f"{round(m)}e{e}"


def row_of(p: float, lo: float, hi: float, rows: int) -> int:
    """The text row (0 at the top) holding position p of an axis from lo (bottom) to hi (top):
    the row whose dots the canvas draws p in."""
    y = (hi - p) / (hi - lo) * 4 * rows
    return int(min(max(y // 4, 0), rows - 1))


def _spaced(ticks: list[tuple[float, str]], lo: float, hi: float, rows: int, gap: int) -> bool:
    at = [row_of(p, lo, hi, rows) for p, _ in ticks]
    return all(b - a >= gap for a, b in zip(sorted(at), sorted(at)[1:]))


def _gap(rows: int) -> int:
    return 3 if rows >= 12 else (2 if rows >= 5 else 1)


def log_ticks(lo: float, hi: float, rows: int) -> list[tuple[float, str]]:
    """Ticks of a log10 axis from lo to hi (log10 values) over `rows` text rows: (position,
    label), as many as stand `gap` rows apart (1, 2, 5 in every decade; every decade; every
    2nd, 5th...), each on its own row; a linear choice of values when no decade fits."""
    gap = _gap(rows)
    sets = []
    for subs, every in (((1, 2, 5), 1), ((1, 3), 1), ((1,), 1), ((1,), 2), ((1,), 3), ((1,), 5), ((1,), 10),
                        ((1,), 20), ((1,), 50)):
        ticks = []
        for e in range(math.floor(lo) - 1, math.ceil(hi) + 1):
            if e % every:
                continue
            for s in subs:
                p = e + math.log10(s)
                if lo - 1e-9 <= p <= hi + 1e-9:
                    ticks.append((p, tick_label(s * 10.0 ** e)))
        sets.append(ticks)
    for ticks in sets:  # the densest set whose ticks stand apart
        if len(ticks) >= 2 and _spaced(ticks, lo, hi, rows, gap):
            return ticks
    lin = linear_ticks(10.0 ** lo, 10.0 ** hi, rows, transform=math.log10)
    if len(lin) >= 2:
        return lin
    one = next((t for t in sets if t), [])
    return one[:1] if one else lin


def linear_ticks(lo: float, hi: float, rows: int, transform=None) -> list[tuple[float, str]]:
    """Ticks on round values (steps of 1, 2 or 5 x 10^k) between lo and hi, `gap` rows
    apart; positions through `transform` (the identity, or log10 for a log axis)."""
    tr = transform or (lambda v: v)
    if not hi > lo:
        return [(tr(lo), tick_label(lo))] if lo > 0 or transform is None else []
    gap = _gap(rows)
    plo, phi = tr(lo), tr(hi)
    e0 = math.floor(math.log10(hi - lo)) - 2
    for e in range(e0, e0 + 5):
        for m in (1, 2, 5):
            step = m * 10.0 ** e
            first = math.ceil(lo / step - 1e-9)
            vals = [k * step for k in range(first, int(math.floor(hi / step + 1e-9)) + 1)]
            vals = [v for v in vals if transform is None or v > 0]
            if len(vals) > 2 * rows:
                continue
            decimals = max(0, -math.floor(math.log10(step) + 1e-9))
            ticks = [(tr(v), tick_label(v, decimals)) for v in vals]
            if ticks and _spaced(ticks, plo, phi, rows, gap) and len({lab for _, lab in ticks}) == len(ticks):
                return ticks
    return []


def step_label(v: int) -> str:
    """A step count on the x axis: 300, 4500, 12k, 1.5M."""
    if v < 10_000:
        return str(v)
    if v < 1_000_000:
        return f"{v / 1000:.3g}k"
    return f"{v / 1e6:.3g}M"


def x_ticks(total: int, cols: int) -> list[tuple[int, str]]:
    """(column, label) of the step axis 0..total over `cols` columns: quarters, halves or
    the two ends, as many as fit with a space between."""
    total = max(int(total), 1)
    for n in (4, 2, 1):
        vals = sorted({round(total * k / n) for k in range(n + 1)})
        out, end = [], -1
        for v in vals:
            lab = step_label(v)
            col = min(int(v / total * cols), cols - 1)
            start = min(max(col - len(lab) // 2, 0), max(cols - len(lab), 0))
            if start <= end:
                break
            out.append((col, lab))
            end = start + len(lab)
        else:
            if end <= cols:
                return out
    return [(0, "0")]


def framed(canvas: list[Text], yticks: list[tuple[int, str]], xticks: list[tuple[int, str]], muted: Style,
           label_w: int) -> list[Text]:
    """The canvas' rows with the y axis (labels `label_w` wide, right-aligned, ┤ at each
    tick's row) on the left and the x axis (┬ at each tick, labels under it) below."""
    cols = canvas[0].cell_len if canvas else 0
    at = dict(yticks)
    out = []
    for r, row in enumerate(canvas):
        t = Text(no_wrap=True, overflow="crop")
        t.append(f"{at.get(r, ''):>{label_w}}" + ("┤" if r in at else "│"), muted)
        t.append_text(row)
        out.append(t)
    axis = ["─"] * cols
    labels = [" "] * cols
    for col, lab in xticks:
        axis[col] = "┬"
        start = min(max(col - len(lab) // 2, 0), max(cols - len(lab), 0))
        labels[start:start + len(lab)] = list(lab)
    out.append(Text(" " * label_w + "└" + "".join(axis), muted, no_wrap=True, overflow="crop"))
    out.append(Text(" " * (label_w + 1) + "".join(labels)[:cols], muted, no_wrap=True, overflow="crop"))
    return out
