"""The panels' drawing code is plain Rich: rendered here without an app."""

import math

import numpy as np
from rich.console import Console
from rich.style import Style

from tuisim.app.format import sample_rows, sci
from tuisim.app.widgets.grad_bars import BarColumn, health, render_bars
from tuisim.app.widgets.health_table import HealthRows, ratio_gauge, render_health
from tuisim.app.widgets.heat_strip import BinCache, time_bins
from tuisim.app.widgets.histograms import HistColumn, render_histograms, resample, spark
from tuisim.app.widgets.loss_plot import Curve, build_plot, decade_ticks

STYLES = {h: Style(color=c) for h, c in (("vanishing", "blue"), ("healthy", "green"), ("exploding", "red"))}


def plain(renderable, width=100) -> str:
    c = Console(width=width, color_system=None, record=True)
    c.print(renderable)
    return c.export_text()


def test_sci_and_sampling():
    assert sci(1.23e-13) == "1.2e-13" and sci(0.034) == "3.4e-2" and sci(math.inf) == "inf"
    assert sci(float("nan")) == "NaN" and sci(3e-7, 0) == "3e-7"
    idx = sample_rows(21, 10)
    assert idx[0] == 0 and idx[-1] == 20 and len(idx) <= 10
    assert list(sample_rows(5, 10)) == [0, 1, 2, 3, 4]


def test_health_classes():
    assert health(1e-9) == "vanishing" and health(0.1) == "healthy" and health(1e3) == "exploding"
    assert health(math.inf) == "exploding" and health(math.nan) == "exploding"


def test_bars_side_by_side_on_a_fixed_axis():
    sig = np.logspace(-13, -1, 21)
    relu = np.full(21, 0.05)
    text, note = render_bars([BarColumn("sigmoid", Style(), "", sig), BarColumn("relu", Style(), "✓ done", relu)],
                             80, 30, STYLES)
    out = text.plain
    assert "sigmoid" in out and "relu" in out and "✓ done" in out
    assert "1.0e-13▾" in out  # the first layer's value, marked vanishing
    assert "out" in out and note == ""
    lines = out.splitlines()
    first, last = lines[1], lines[21]
    assert first.lstrip().startswith("0 ") and last.lstrip().startswith("out")
    # the same value draws the same bar in both frames: the axis does not rescale
    again, _ = render_bars([BarColumn("sigmoid", Style(), "", sig * 1e6), BarColumn("relu", Style(), "", relu)],
                           80, 30, STYLES)
    assert again.plain.splitlines()[5].split("  ")[-1] == out.splitlines()[5].split("  ")[-1]


def test_bars_sample_rows_to_fit_and_say_so():
    text, note = render_bars([BarColumn("deep", Style(), "", np.full(101, 0.1))], 60, 20, STYLES)
    assert note.endswith("of 101 layers")
    assert len(text.plain.splitlines()) <= 20


def test_bars_show_non_finite_as_exploding():
    v = np.full(6, np.inf)
    text, _ = render_bars([BarColumn("boom", Style(), "✗ diverged@3", v)], 60, 14, STYLES)
    assert "inf▴" in text.plain and "diverged@3" in text.plain


def test_bars_with_different_depths_label_each_column():
    text, _ = render_bars([BarColumn("8", Style(), "", np.full(9, 0.1)), BarColumn("40", Style(), "", np.full(41, 0.1))],
                          90, 30, STYLES)
    assert text.plain.count("out") == 2


def test_time_bins_cover_the_whole_run_and_cache():
    steps = np.arange(50.0)
    vals = np.tile(np.logspace(-10, 0, 4), (50, 1))
    g = time_bins(steps, vals, total=100, bins=10)
    assert g.shape == (10, 4)
    assert np.allclose(g[:5], np.log10(vals[0]))  # the first half of the run is filled
    assert np.isnan(g[5:]).all()  # the rest is still empty: never rescaled
    cache = BinCache()
    a = cache.get("k", steps[:30], vals[:30], 100, 10).copy()
    b = cache.get("k", steps, vals, 100, 10)
    assert np.allclose(b, g, equal_nan=True) and np.isnan(a[3:]).all()


def test_histogram_ridges():
    assert spark(np.array([0, 1, 8])) == " ▁█"
    assert resample(np.arange(8.0), 4).tolist() == [1.0, 5.0, 9.0, 13.0]
    hist = np.zeros((3, 8))
    hist[:, 3] = 10
    text, note = render_histograms([HistColumn("bn", Style(), hist, -4, 4)], 40, 10, Style())
    assert "█" in text.plain and "-4" in text.plain and "4" in text.plain and note == ""


def test_health_table_and_gauge():
    rows = HealthRows("x", "relu", np.zeros(5), np.ones(5), np.zeros(5), np.array([0, .9, 0, 0, 0]),
                      np.array([1e-3, 1e-6, 1e-1, 1e-3, 1e-3]))
    table, note = render_health(rows, 12, STYLES, Style(), Style(), Style())
    out = plain(table)
    assert "90%" in out and "1.0e-3" in out and "upd/W" in out
    assert "│" in ratio_gauge(1e-6, 10, Style(), Style()).plain  # the guide, not yet reached
    assert "┃" in ratio_gauge(1e-1, 10, Style(), Style()).plain  # the guide, passed


def test_loss_plot_log_scale_and_divergence_marker():
    x = np.arange(100.0)
    curves = [Curve("a", (255, 0, 0), x, np.exp(-x / 10) + 1e-3, x[::10], np.exp(-x[::10] / 10) + 1e-3),
              Curve("b", (0, 0, 255), x[:40], np.full(40, 1.1), x[:0], x[:0], diverged_at=40)]
    lines, log = build_plot(curves, 200, 60, 16)
    out = "\n".join(t.plain for t in lines)
    assert log and len(lines) == 16 and all(t.cell_len == 60 for t in lines)
    assert "│" in out and "┤" in out and "└" in out
    assert "✗" in lines[0].plain  # b diverged at step 40: marked at the top, on its vertical line
    col = lines[0].plain.index("✗")
    assert all(t.plain[col] != " " for t in lines[1:-2])
    pos, labels = decade_ticks(-3, 0, 16)
    assert "1" in labels and "0.001" in labels and "100" in decade_ticks(0, 3, 16)[1]  # not "1e+02"


def test_histograms_before_any_was_taken_say_so():
    text, note = render_histograms([HistColumn("a", Style(), None, -1, 1), HistColumn("b", Style(), None, -1, 1)],
                                   80, 10, Style())
    assert "no histograms yet" in text.plain and note == ""


def test_view_tabs_shorten_to_fit_and_always_show_the_current_view():
    from tuisim.app.widgets.status import ViewTabs

    tabs = ViewTabs()
    tabs.views = [(1, "Heat strip", False), (2, "Health", False), (3, "Histograms", True), (4, "About", False)]
    full, short, keys = (tabs._tabs(n).plain for n in ("full", "short", "keys"))
    assert "3 Histograms" in full and "3 Hist " in short and "Heat" not in keys and "3 Hist" in keys
    assert len(keys) < len(short) < len(full)


def test_the_loss_axis_follows_the_lines_after_the_first_steps():
    """An early spike (a seed's 1e4 at step 1, a batch-norm net's 1e6 test loss at step
    20) does not squeeze the run into a flat band: the axis spans the lines after the
    first 2% of the run, and test losses up to a decade above them; what lies beyond is
    drawn on the edge. A run in its first steps still spans everything."""
    from tuisim.app.widgets.loss_plot import axis_values

    x = np.arange(200)
    loss = np.where(x < 2, 1e4, 1.0 / (1 + x / 10))
    test_steps = x[::10]
    test = np.where(test_steps == 20, 1e6, 1.2 / (1 + test_steps / 10))
    seeds = [(x, loss * 50)]  # a faint seed far above: it does not stretch the axis
    c = Curve("a", (255, 0, 0), x, loss, test_steps, test, seeds=seeds, n_seeds=2)
    vals = axis_values([c], 200)
    assert vals.max() == 10 * loss[4:].max() and vals.min() == loss.min()
    assert axis_values([Curve("a", (255, 0, 0), x[:3], loss[:3], x[:0], x[:0])], 200).max() == 1e4
    lines, log = build_plot([c], 200, 60, 16)
    ylabels = {t.plain.split("┤")[0].strip() for t in lines if "┤" in t.plain}
    assert log and ylabels and not ylabels & {"1e4", "1000", "100"}
    assert "▲" in lines[0].plain  # the spike left out runs along the top edge, marked
    spiky, _ = build_plot([Curve("a", (255, 0, 0), x[:3], loss[:3], x[:0], x[:0])], 200, 60, 16)
    assert "1e4" in "\n".join(t.plain for t in spiky)  # the same labels do show when the axis reaches there
