"""The variants' colours on dark and light themes, and the gradient bars' zoom key, in the app."""

import itertools
import math
from pathlib import Path

from textual.app import App, ComposeResult

import tuisim.app
from tuisim.app.widgets.grad_bars import AXIS
from tuisim.app.widgets.panel import N_VARIANT_COLORS, Panel

from .conftest import paused_at
from .test_pilot import app_for


def lab(rgb) -> tuple[float, float, float]:
    """CIELAB of an sRGB colour (D65)."""
    lin = [c / 255 for c in rgb]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in lin]
    x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def contrast(a, b) -> float:
    def lum(rgb):
        c = [v / 255 for v in rgb]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


class PanelApp(App):
    CSS_PATH = str(Path(tuisim.app.__file__).parent / "app.tcss")

    def compose(self) -> ComposeResult:
        yield Panel()


async def test_eight_distinct_readable_colours_on_dark_and_light_themes():
    app = PanelApp()
    async with app.run_test(size=(40, 10)) as pilot:
        panel = app.query_one(Panel)
        seen = {}
        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause()
            panel.notify_style_update()
            bg = app.screen.styles.background.rgb
            rgbs = [panel.variant_style(i).color.get_truecolor() for i in range(N_VARIANT_COLORS)]
            assert len(set(rgbs)) == N_VARIANT_COLORS == 8
            for a, b in itertools.combinations(rgbs, 2):
                assert math.dist(lab(a), lab(b)) > 20, (theme, a, b)  # clearly apart
            assert min(contrast(c, bg) for c in rgbs) >= 3, theme  # readable on the theme's background
            seen[theme] = rgbs
            # past the palette, a variant shares a colour but gets a marker
            assert panel.variant_style(N_VARIANT_COLORS) == panel.variant_style(0)
            assert panel.variant_marker(0) == "" and panel.variant_marker(N_VARIANT_COLORS) != ""
        assert seen["textual-dark"] != seen["textual-light"]  # a set for each


async def test_f_zooms_the_bars_onto_the_data_and_back(tmp_path):
    app = app_for(tmp_path=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 10)
        bars = app.screen.query_one("#bars")
        assert not bars.zoomed and "f: zoom" in bars.border_subtitle
        fixed = bars.build().plain
        assert "1e-10" in fixed and "first/last = " in fixed  # the fixed axis' ticks, and the ratio
        await pilot.press("f")
        await pilot.pause()
        assert bars.zoomed and "zoomed" in bars.border_title and "f: fixed axis" in bars.border_subtitle
        zoomed = bars.build().plain
        lo, hi = bars.axis
        assert AXIS[0] < lo < hi < AXIS[1] and hi - lo >= 2
        assert "1e-10" not in zoomed and "first/last = " in zoomed
        await pilot.press("f")
        await pilot.pause()
        assert not bars.zoomed and bars.build().plain == fixed and bars.axis == AXIS
