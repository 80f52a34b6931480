"""`new_figure`: a plotext figure set up the way every plot of the app draws (its own
figure, no global `plt` state; a clear background; muted ticks). plotext is imported on
the first plot, not before the app's first frame."""

from __future__ import annotations

import threading


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
