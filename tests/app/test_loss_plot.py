"""The loss plot without an app: the braille canvas, the axes' ticks at every size, the legend."""

import math

import numpy as np
import pytest
from rich.style import Style

from tuisim.app.widgets.braille import ABOVE, Canvas
from tuisim.app.widgets.loss_plot import TEST, Curve, build_plot, legend
from tuisim.app.widgets.plot import linear_ticks, log_ticks, row_of, x_ticks

RED, BLUE = Style(color="red"), Style(color="blue")


def dots_of(ch: str) -> int:
    return ord(ch) - 0x2800 if "\u2800" <= ch <= "\u28ff" else 0


def test_a_steep_line_has_no_gaps():
    """From the top-left corner to the bottom-right in 10 columns of 10 rows: every dot
    row is reached, and every character column has dots (plotext's markers leave one dot
    per point, so a fall of 40 dots in 20 columns read as scattered dots)."""
    c = Canvas(10, 10)
    c.line(np.array([0.0, 19.9]), np.array([0.0, 39.9]), RED)
    code, owner = c.cells()
    assert (code > 0).any(axis=0).all()  # every column
    assert (code > 0).any(axis=1).all()  # every row: the line is continuous downwards
    c = Canvas(10, 3)  # a line of 20 points, one per dot column: a dot in each
    x = np.arange(20) + 0.5
    c.line(x, 6 + 5 * np.sin(x / 3), RED)
    bits = c.layers[0].bits
    for col in range(10):
        for dx, mask in ((0, 0x47), (1, 0xB8)):  # the left and the right dot column of a character
            assert (bits[:, col] & mask).any(), (col, dx)


def test_dashes_tiers_and_clip_marks():
    c = Canvas(8, 2)
    c.line(np.array([0.0, 16.0]), np.array([3.0, 3.0]), RED, tier=0)
    c.line(np.array([0.0, 16.0]), np.array([2.0, 2.0]), BLUE, tier=2, dash=1)
    code, owner = c.cells()
    assert owner[0].tolist() == [1, 0, 1, 0, 1, 0, 1, 0]  # the dashes own their characters, the faint line the rest
    assert code[0, 0] == 0x04 | 0x20  # the dashed line's dots (row 2) only, not the faint line's (row 3) beneath
    c = Canvas(8, 2)
    c.line(np.array([0.0, 4.0, 8.0, 16.0]), np.array([-5.0, -5.0, 3.0, 3.0]), RED, clip_marks=True)
    row = c.lines()[0].plain
    assert row[0] == ABOVE and row.count(ABOVE) == 1  # beyond the top: along the edge, marked where it leaves
    assert dots_of(row[1]) & 0x09  # the top dots: drawn on the edge


def ylabels(lines) -> list[tuple[int, str]]:
    return [(r, t.plain.split("┤")[0].strip()) for r, t in enumerate(lines) if "┤" in t.plain]


def xlabels(lines) -> list[tuple[int, str]]:
    """(column, label) under the axis, the column of each label's ┬ above it."""
    axis, labels = lines[-2].plain, lines[-1].plain
    ticks = [i for i, ch in enumerate(axis) if ch == "┬"]
    words = [(i, w) for i, w in enumerate(labels) if w != " " and (i == 0 or labels[i - 1] == " ")]
    return [(t, labels[i:].split()[0]) for t, (i, _) in zip(ticks, words)]


def value(label: str) -> float:
    return float(label.replace("k", "e3").replace("M", "e6"))


@pytest.mark.parametrize("width,height", [(14, 5), (20, 7), (36, 9), (40, 12), (60, 16), (84, 20), (150, 40)])
@pytest.mark.parametrize("lo,hi", [(1e-3, 2.0), (0.02, 1.3), (0.4, 1.2), (0.3, 0.35), (1e-5, 1e5), (1.05, 1.15)])
def test_every_tick_sits_where_its_value_is_drawn(width, height, lo, hi):
    """At every size: the y labels are distinct, each on its own row, falling downwards, and
    a flat line at a label's value is drawn on that label's row (the plot at 40x12 had a
    tick on the wrong row); the x labels are distinct, in order, and apart."""
    x = np.arange(300.0)
    loss = np.concatenate([np.full(10, hi), np.geomspace(hi, lo, 280), np.full(10, lo)])
    lines, log = build_plot([Curve("a", (255, 0, 0), x, loss, x[:0], x[:0])], 300, width, height)
    assert len(lines) == height and all(t.cell_len <= width for t in lines)
    ys = ylabels(lines)
    assert len(ys) >= (2 if height >= 5 else 1), [t.plain for t in lines]
    vals = [value(lab) for _, lab in ys]
    assert len(set(vals)) == len(vals) and vals == sorted(vals, reverse=True)
    for row, lab in ys:
        flat, _ = build_plot([Curve("a", (255, 0, 0), x, loss, x[:0], x[:0]),
                              Curve("b", (0, 0, 255), x, np.full(300, value(lab)), x[:0], x[:0])], 300, width, height)
        assert ylabels(flat) == ys  # the flat line inside the range: the same axis
        drawn = [r for r, t in enumerate(flat[:-2]) if any(s.style.color and s.style.color.name == "#0000ff"
                                                            for s in t.spans)]
        assert row in drawn, (lab, row, drawn, [t.plain for t in flat])
    xs = xlabels(lines)
    assert xs[0][1] == "0" and value(xs[-1][1]) == 300 and len(xs) >= 2
    assert [value(lab) for _, lab in xs] == sorted({value(lab) for _, lab in xs})
    left = lines[-2].plain.index("└") + 1
    cols = width - left
    for col, lab in xs:
        assert (col - left) / cols == pytest.approx(value(lab) / 300, abs=1.01 / cols)


def test_tick_choice():
    assert [lab for _, lab in log_ticks(-2.1, 0.1, 12)] == ["0.01", "0.1", "1"]
    assert [lab for _, lab in log_ticks(-1.4, 0.1, 20)] == ["0.05", "0.1", "0.2", "0.5", "1"]
    assert [lab for _, lab in log_ticks(-8, 6, 3)] == ["1e-5", "1", "1e5"]
    assert [lab for _, lab in linear_ticks(0.5, 0.52, 8)] == ["0.50", "0.51", "0.52"]
    assert row_of(0.0, 0.0, 1.0, 10) == 9 and row_of(1.0, 0.0, 1.0, 10) == 0
    assert x_ticks(300, 80) == [(0, "0"), (20, "75"), (40, "150"), (60, "225"), (79, "300")]
    assert x_ticks(600, 9) == [(0, "0"), (8, "600")]
    assert [lab for _, lab in x_ticks(120_000, 40)] == ["0", "30k", "60k", "90k", "120k"]


def test_train_heavy_test_dashed_and_told_apart_in_the_legend():
    x = np.arange(200.0)
    c = Curve("relu", (255, 0, 0), x, np.geomspace(1, 0.01, 200), x[::10], np.geomspace(2, 0.5, 20))
    lines, _ = build_plot([c], 200, 60, 18)
    rows = [t.plain[5:] for t in lines[:-2]]
    thick = [r for r in rows if any(dots_of(ch) in (0x1B, 0x36, 0x2D, 0x1B | 0x24, 0xE4, 0x3F) for ch in r)]
    assert thick  # two dots tall: ⠛ ⠶ and the like
    gaps = [r.rstrip() for r in rows if "  " in r.strip()]
    assert gaps  # the dashed test line: characters on and off
    keys = legend([c], Style(), 60)
    assert len(keys) == 1 and "━━ relu" in keys[0].plain and f"{TEST} test" in keys[0].plain
    assert f"{TEST} test" not in legend([Curve("a", (0, 0, 0), x, x, x[:0], x[:0])], Style(), 60)[0].plain


def test_the_legend_shortens_names_alike_and_wraps_where_it_may():
    x = np.arange(10.0)
    names = ["plain, depth 8", "plain, depth 40", "residual, depth 40", "highway, depth 40"]
    curves = [Curve(n, (k, 0, 0), x, x + 1, x, x + 1) for k, n in enumerate(names)]
    one = legend(curves, Style(), 60)[0].plain
    assert len(one) <= 60 and "╌╌ test" in one
    shown = [part.strip() for part in one.split("╌╌")[0].split("━━")[1:]]
    assert len(set(shown)) == 4  # still four different names, each its start and end
    assert all(s[:4] == n[:4] and s[-2:] == n[-2:] and "…" in s for s, n in zip(shown, names))
    two = legend(curves, Style(), 60, lines=2)
    assert len(two) == 2 and all(n in "".join(t.plain for t in two) for n in names)  # room: whole


def test_variants_past_the_palette_get_a_marker():
    x = np.arange(100.0)
    c = Curve("ninth", (255, 0, 0), x, np.geomspace(1, 0.1, 100), x[:0], x[:0], marker="◆")
    lines, _ = build_plot([c], 100, 60, 12)
    assert sum(t.plain.count("◆") for t in lines) >= 3
    assert "━━◆ ninth" in legend([c], Style(), 60)[0].plain


def test_build_is_fast_enough_for_seven_variants_at_three_seeds():
    import time

    x = np.arange(4000.0)
    rng = np.random.default_rng(0)
    curves = []
    for k in range(7):
        loss = np.exp(-x / (400 * (k + 1))) * (1 + 0.2 * rng.standard_normal(4000)) + 0.01
        curves.append(Curve(f"v{k}", (9, 9, 9), x, loss, x[::10], loss[::10], seed_rgb=(5, 5, 5), n_seeds=3,
                            seeds=[(x, loss * f) for f in (0.9, 1.0, 1.1)]))
    build_plot(curves, 4000, 84, 44)
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        build_plot(curves, 4000, 84, 44)
        best = min(best, time.perf_counter() - t)
    assert best < 0.1  # about 20 ms; the panel redraws at most every 0.75 s


def test_a_diverged_line_does_not_flatten_the_others():
    """highway_gate_bias at 40x12: one variant's loss climbed to 1e60 before it diverged, and
    the axis ran to 1e60, the others a flat line at its foot. Now it runs along the top
    (▲) to its ✗, the axis spanning the others and a decade above them."""
    x = np.arange(200.0)
    ok = Curve("ok", (255, 0, 0), x, np.geomspace(1.1, 0.05, 200), x[:0], x[:0])
    boom = Curve("boom", (0, 0, 255), x[:80], np.geomspace(1.1, 1e60, 80), x[:0], x[:0], diverged_at=80)
    lines, log = build_plot([ok, boom], 200, 40, 12)
    labels = [lab for _, lab in ylabels(lines)]
    assert labels and max(value(lab) for lab in labels) <= 11
    assert ABOVE in lines[0].plain and "✗" in lines[0].plain
    alone, _ = build_plot([boom], 200, 40, 12)  # all diverged: the axis spans what there is
    assert max(value(lab) for _, lab in ylabels(alone)) >= 1e40


def test_a_legend_too_long_keeps_readable_names_and_says_more_follow():
    x = np.arange(10.0)
    names = ["depth 10, gate bias -1", "depth 30, gate bias -1", "depth 30, gate bias -3", "depth 50, gate bias -2"]
    keys = legend([Curve(n, (1, 1, 1), x, x + 1, x, x + 1) for n in names], Style(), 34)
    assert len(keys) == 1 and keys[0].plain.endswith("…") and keys[0].cell_len <= 34
    assert "━━ …10…-1  ━━ …30…-1" in keys[0].plain  # names of 7 characters, not 3


def test_the_axis_spans_the_lines_as_drawn_not_single_batches():
    """batch_sizes: a batch of one example can have a loss of 1e-9; the line (a mean over
    each dot column's steps) never goes below 1e-3, and the axis stopped at 1e-9."""
    x = np.arange(640.0)
    loss = np.full(640, 0.5)
    loss[::7] = 1e-9  # every seventh batch: a single example, all but exactly right
    lines, log = build_plot([Curve("stochastic (1)", (255, 0, 0), x, loss, x[:0], x[:0])], 640, 58, 14)
    labels = [value(lab) for _, lab in ylabels(lines)]
    assert min(labels) >= 1e-3
