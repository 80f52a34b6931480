"""The gradient bars without an app: values, names, the zoomed axis and the first/last ratio."""

import numpy as np
from rich.style import Style

from tuisim.app.format import shorten_labels
from tuisim.app.widgets.grad_bars import AXIS, BarColumn, _ticks, first_last, render_bars, zoomed_axis
from tuisim.app.widgets.heat_strip import HeatColumn, HeatRenderable
from tuisim.app.widgets.histograms import HistColumn, render_histograms

from .test_renderables import STYLES, plain

DEGRADATION = ["plain, depth 8", "plain, depth 40", "residual, depth 40", "highway, depth 40"]


def columns(depths=(9, 41, 41, 41), first=(1e-3, 1e-3, 1e-3, 1e-1)):
    """Four variants whose gradients grow toward the output: 1e-3 ... 1e-1 (first/last 1/100)."""
    return [BarColumn(label, Style(), "✓ done", np.geomspace(f, 1e-1, d))
            for label, d, f in zip(DEGRADATION, depths, first)]


def test_four_variants_show_values_and_distinct_names():
    """Degradation's four columns in a 56 x 36 panel (the app at 120x40): side by side they
    had no room for values (and the names read "plain, dep…" twice); in two bands of two
    every bar has its value and every name is whole."""
    text, note = render_bars(columns(), 56, 36, STYLES)
    lines = text.plain.splitlines()
    assert all(len(line) <= 56 for line in lines) and len(lines) <= 36
    assert all(name in text.plain for name in DEGRADATION)
    body = [ln for ln in lines if "█" in ln]
    assert len(body) >= 20 and all(ln.count("e-") == 2 for ln in body if ln.count("█") > 10)
    assert note  # 41 layers sampled, and said so
    side, _ = render_bars(columns(), 80, 16, STYLES)  # too short for bands: side by side, still with values
    rows = [ln for ln in side.plain.splitlines() if "█" in ln]
    assert rows[0].count("e-") == 4
    names = side.plain.splitlines()[0]
    assert "8" in names and "40" in names and "4…" not in names


def test_bar_lengths_do_not_depend_on_the_other_values_digits():
    a = [BarColumn("a", Style(), "", np.full(4, 1e-2)), BarColumn("b", Style(), "", np.full(4, 1e-13))]
    b = [BarColumn("a", Style(), "", np.full(4, 1e-2)), BarColumn("b", Style(), "", np.full(4, 1e-3))]
    bar_a = plain(render_bars(a, 40, 12, STYLES)[0]).splitlines()[1].split("1e-2")[0]
    bar_b = plain(render_bars(b, 40, 12, STYLES)[0]).splitlines()[1].split("1e-2")[0]
    assert bar_a == bar_b


def test_the_zoomed_axis_spans_the_data_and_shows_a_100x_difference():
    cols = columns()
    lo, hi = zoomed_axis(cols)
    assert lo <= -3.3 and hi >= -1 and hi - lo <= 5  # around 1e-3..1e-1, not 1e-14..1e6
    assert zoomed_axis([BarColumn("x", Style(), "", np.full(3, 0.5))])[1] - zoomed_axis(
        [BarColumn("x", Style(), "", np.full(3, 0.5))])[0] >= 2
    assert zoomed_axis([BarColumn("x", Style(), "", np.array([0.0, np.nan]))]) == AXIS
    fixed, _ = render_bars(cols[:1], 60, 16, STYLES)
    zoomed, _ = render_bars(cols[:1], 60, 16, STYLES, axis=(lo, hi))

    def lengths(text):
        rows = [ln for ln in text.plain.splitlines()[1:] if ln.lstrip().startswith(("0 ", "out "))]
        return [len(ln.split()[1].rstrip(" ")) for ln in rows]

    short, long_ = lengths(fixed), lengths(zoomed)
    assert long_[1] - long_[0] >= 4 * (short[1] - short[0]) and long_[1] - long_[0] >= 8  # 2 decades: plain
    assert "first/last = 1/100" in zoomed.plain and "first/last = 1/100" in fixed.plain
    whiskers = [BarColumn("w", Style(), "", np.full(3, 1e-2), np.full(3, 1e-6), np.full(3, 1e2))]
    lo, hi = zoomed_axis(whiskers)
    assert lo <= -6 and hi >= 2  # the whiskers' ends stay on the axis


def test_ticks_of_any_axis_and_the_ratio():
    assert _ticks(-14, 6, 40) == [(4, "1e-12"), (12, "1e-8"), (20, "1e-4"), (28, "1"), (36, "1e4")]
    labs = [lab for _, lab in _ticks(-4, 0, 20)]
    assert labs[0] == "1e-4" and labs[-1] == "1" and len(labs) >= 2
    cells = [c for c, _ in _ticks(-4, 0, 20)]
    assert cells == sorted(set(cells)) and max(cells) < 20
    assert len(_ticks(-4, 0, 6)) >= 1 and _ticks(-4, 0, 2) == []
    assert first_last(np.array([1e-3, 1.0, 1e-1])) == "1/100" and first_last(None) == "–"
    narrow, _ = render_bars(columns()[:2], 24, 16, STYLES)
    assert "0/out 1/100" in narrow.plain  # the short form, where "first/last" does not fit


def test_heat_strip_and_histograms_shorten_names_alike():
    from rich.color import Color

    cols = [HeatColumn(label, Style(), np.full((6, 4), -3.0)) for label in DEGRADATION]
    palette = [Color.from_rgb(k, k, k) for k in range(48)]
    names = shorten_labels(DEGRADATION, 8)  # the columns' width
    assert len(set(names)) == 4 and names[0].endswith(" 8") and names[1].endswith(" 40")
    head = plain(HeatRenderable(cols, palette, Style(), 100, 44, 10, 4), 60).splitlines()[0]
    assert all(n in head for n in names)
    hist = [HistColumn(label, Style(), None, -1, 1) for label in DEGRADATION]
    text, _ = render_histograms(hist, 44, 10, Style())
    assert all(n in text.plain.splitlines()[0] for n in names)


def test_every_band_says_the_ratio_alike():
    cols = [BarColumn(f"v{k}", Style(), "", np.geomspace(10.0 ** -k, 1.0, 4)) for k in range(7)]
    text, _ = render_bars(cols, 68, 40, STYLES)
    rows = [ln for ln in text.plain.splitlines() if "1/" in ln]
    assert len(rows) == 2 and rows[0].count("0/out ") == 4 and rows[1].count("0/out ") == 3  # "1/1e6" sets it
