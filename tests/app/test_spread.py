"""Medians and ranges across seeds (tuisim.app.spread), and the panels' drawing of them,
without an app."""

import math

import numpy as np
from rich.style import Style

from tuisim.app.spread import (align, latest_spread, median_divergence, median_grid, median_histogram,
                               median_series, nan_spread, seed_span)
from tuisim.app.widgets.grad_bars import CAP, SPREAD, WHISKER, BarColumn, render_bars, whiskered
from tuisim.app.widgets.health_table import HealthRows, render_health
from tuisim.app.widgets.loss_plot import Curve, blend, build_plot, legend, plot_title
from tuisim.app.widgets.panel import group_status
from tuisim.app.widgets.status import variant_state

from .test_renderables import STYLES, plain

INF = math.inf


def test_the_median_line_is_the_median_at_every_step():
    s = np.arange(5)
    steps, med = median_series([(s, np.array([1.0, 2, 3, 4, 5]), None), (s, np.array([3.0, 1, 1, 1, 1]), None),
                                (s, np.array([2.0, 9, 9, 9, 9]), None)])
    assert steps.tolist() == [0, 1, 2, 3, 4]
    assert med.tolist() == [2.0, 2.0, 3.0, 4.0, 5.0]


def test_one_seed_is_its_own_line():
    s = np.arange(4)
    loss = np.array([1.0, 0.5, np.nan, 0.2])
    steps, med = median_series([(s, loss, None)])
    assert np.array_equal(med, loss, equal_nan=True)


def test_a_diverged_seed_counts_as_inf_from_its_divergence_on():
    s = np.arange(6)
    ok = (s, np.full(6, 1.0), None)
    boom = (s[:3], np.array([2.0, 3.0, np.nan]), 2)  # diverged at step 2: its records end there
    steps, med = median_series([ok, ok, boom])
    assert steps.tolist() == list(range(6)) and med.tolist() == [1.0] * 6  # one of three: the median holds
    steps, med = median_series([ok, boom, (s[:4], np.array([2.0, 2, 2, np.inf]), 3)])
    assert med[:2].tolist() == [2.0, 2.0]
    assert med[2] == 2.0  # seed 2's inf and seed 3's 2: the median is of [1, inf, 2]
    assert np.isinf(med[3:]).all()  # two of three diverged: the median line diverges too
    assert median_divergence([None, 2, 3]) == 3 and median_divergence([None, 2, None]) is None
    assert median_divergence([None, 5]) == 5  # an even count: half diverged is enough, as in np.median
    assert median_divergence([7]) == 7 and median_divergence([None]) is None


def test_a_lagging_seed_is_left_out_not_counted_as_inf():
    grid, vals = align([(np.arange(4), np.ones(4), None), (np.arange(2), np.full(2, 3.0), None)])
    assert grid.tolist() == [0, 1, 2, 3] and np.isnan(vals[1, 2:]).all()
    _, med = median_series([(np.arange(4), np.ones(4), None), (np.arange(2), np.full(2, 3.0), None),
                            (np.arange(4), np.full(4, 2.0), None)])
    assert med.tolist() == [2.0, 2.0, 1.5, 1.5]


def test_steps_a_seed_passed_without_a_record_are_left_out():
    """Step 5: the second seed went past it without keeping a record (its history
    thinned): not a median of the first seed alone. Step 10: the first seed has not
    reached it, and is left out there."""
    grid, vals = align([(np.array([0, 5]), np.array([1.0, 2.0]), None), (np.array([0, 10]), np.array([3.0, 4.0]),
                                                                        None)])
    assert grid.tolist() == [0, 10]
    assert np.array_equal(vals, [[1, np.nan], [3, 4]], equal_nan=True)


def test_seeds_thinned_to_different_widths_meet_on_their_common_steps():
    """One seed's older records at every 4th step, another's (it is behind) at every
    2nd, a third's all there: the median is drawn on every 4th step where the first
    seed is thinned, then on every step where all are whole."""
    far = np.r_[np.arange(0, 40, 4), np.arange(40, 60)]
    mid = np.r_[np.arange(0, 40, 2), np.arange(40, 50)]
    near = np.arange(0, 45)
    grid, vals = align([(s, s.astype(float), None) for s in (far, mid, near)])
    assert grid.tolist() == list(range(0, 40, 4)) + list(range(40, 60))
    assert not np.isnan(vals[:, grid < 45]).any()
    assert np.isnan(vals[1:, grid >= 50]).all() and np.isnan(vals[2, grid >= 45]).all()


def test_bars_spread_median_min_max_and_divergence():
    a, b, c = np.array([1e-3, 1.0]), np.array([1e-1, 2.0]), np.array([1e-2, np.nan])
    med, lo, hi = latest_spread([a, b, c])
    assert med.tolist() == [1e-2, 2.0] and lo.tolist() == [1e-3, 1.0] and hi[0] == 1e-1 and hi[1] == INF
    med, lo, hi = latest_spread([a, b, c], [False, False, True])  # a diverged seed: inf in every layer
    assert med.tolist() == [1e-1, 2.0] and hi.tolist() == [INF, INF]
    one = np.array([np.nan, 1.0])
    med, lo, hi = latest_spread([one, None])  # one seed with a record: its row as it is
    assert med is lo is hi and np.isnan(med[0])
    assert latest_spread([None, None]) is None


def test_statistics_spread_leaves_nan_out():
    med, lo, hi = nan_spread([np.array([0.1, np.nan]), np.array([0.3, 0.5]), np.array([0.2, np.nan])])
    assert med.tolist() == [0.2, 0.5] and lo.tolist() == [0.1, 0.5] and hi.tolist() == [0.3, 0.5]


def test_heat_grid_median_fills_a_diverged_seed_with_the_top():
    g1 = np.array([[-2.0], [-2.0], [-2.0], [np.nan]])
    g2 = np.array([[-4.0], [-4.0], [-4.0], [np.nan]])
    g3 = np.array([[5.0], [np.nan], [np.nan], [np.nan]])  # diverged in bin 0
    med = median_grid([g1, g2, g3], [None, None, 0], hi=6.0)
    assert med[:3, 0].tolist() == [-2.0, -2.0, -2.0] and np.isnan(med[3, 0])  # not past what the others reached
    med = median_grid([g1, g3, g3], [None, 0, 0], hi=6.0)
    assert med[:3, 0].tolist() == [5.0, 6.0, 6.0]
    assert median_grid([g1], [None], 6.0) is g1


def test_histogram_median_of_the_latest_step():
    a, b, c = np.array([[0, 2, 4]]), np.array([[2, 2, 0]]), np.array([[9, 9, 9]])
    counts, step, used = median_histogram([(a, 10), (b, 10), (c, 4)])  # c stopped earlier: left out
    assert step == 10 and used == 2 and counts.tolist() == [[1, 2, 2]]
    counts, step, used = median_histogram([(a, 10), (b, 10), (np.array([[4, 0, 1]]), 10)])
    assert used == 3 and counts.tolist() == [[2, 2, 1]]
    assert median_histogram([(None, -1)]) == (None, -1, 0)


def test_seed_span_and_states():
    assert seed_span([3]) == "seed 3" and seed_span([0, 1, 2]) == "seeds 0-2" and seed_span([0, 4]) == "seeds 0, 4"
    assert group_status(["done", "diverged"]) == "done" and group_status(["diverged"] * 2) == "diverged"
    assert group_status(["done", "running"]) == "running"


class R:  # a run as the status line sees it
    def __init__(self, status, diverged_at=None):
        self.status, self.diverged_at, self.pretrain_status = status, diverged_at, ""
        self.finished = status in ("done", "diverged")


def test_the_status_line_never_calls_finished_seeds_running():
    assert variant_state([R("running")]) == [("running", "muted")]
    assert variant_state([R("diverged", 7)]) == [("diverged at step 7", "error")]
    assert variant_state([R("done"), R("done"), R("diverged", 3)]) == [("done", "ok"), (", 1 of 3 diverged", "error")]
    assert variant_state([R("done"), R("running"), R("done")]) == [("running", "muted")]
    assert variant_state([R("diverged", 1), R("diverged", 2)]) == [("all 2 seeds diverged", "error")]


# ---------------------------------------------------------------- drawing the spread
def test_whisker_parts():
    # axis 0..10 decades over 10 cells: a value 10**x sits at cell x
    runs = whiskered(1e5, 1e2, 1e8, 10, 0, 10)
    assert runs == [("██", "bar"), (SPREAD * 3, "spread"), (WHISKER * 3 + CAP, "whisker"), (" ", "space")]
    runs = whiskered(1e5, 1e5, 1e5, 10, 0, 10)  # no spread: the plain bar
    assert "".join(t for t, _ in runs) == "█████" + CAP + " " * 4
    assert sum(len(t) for t, _ in whiskered(1e5, 0.0, INF, 10, 0, 10)) == 10  # the cap stays on the axis
    assert whiskered(1e5, 0.0, INF, 10, 0, 10)[0] == (SPREAD * 5, "spread")


def test_bars_draw_the_median_value_and_a_whisker():
    med, lo, hi = np.full(4, 1e-2), np.full(4, 1e-4), np.full(4, 1e0)
    text, _ = render_bars([BarColumn("relu", Style(), "", med, lo, hi)], 80, 14, STYLES)
    out = text.plain
    assert "1.0e-2" in out  # the median is the value printed
    row = out.splitlines()[1]
    assert SPREAD in row and row.count(CAP) == 1 and WHISKER in row
    assert row.index(SPREAD) < row.index(CAP)
    assert "seeds' min, median, max" in out  # the key, where there is room
    one, _ = render_bars([BarColumn("relu", Style(), "", med)], 80, 14, STYLES)
    assert SPREAD not in one.plain and CAP not in one.plain


def test_loss_plot_draws_seeds_faint_under_the_median():
    x = np.arange(50.0)
    seeds = [(x, np.exp(-x / k)) for k in (5, 10, 20)]
    _, med = median_series([(s, y, None) for s, y in seeds])
    faint = blend((200, 100, 0), (0, 0, 0), 0.5)
    assert faint == (100, 50, 0)
    c = Curve("a", (200, 100, 0), x, med, x[:0], x[:0], seeds=seeds, seed_rgb=faint, n_seeds=3)
    lines, log = build_plot([c], 50, 60, 16)
    colours = {span.style.color.get_truecolor() for t in lines for span in t.spans if span.style.color}
    assert (100, 50, 0) in colours and (200, 100, 0) in colours  # both shades drawn
    assert log
    c.seeds_diverged = [12, 30]
    assert "✗2/3" in legend([c], Style(), 60)[0].plain
    one = Curve("b", (0, 0, 255), x, med, x[:0], x[:0], diverged_at=40)
    assert "✗@40" in legend([one], Style(), 60)[0].plain  # one seed: where it diverged


def test_loss_titles_fit():
    assert plot_title(1, True, 80) == "Loss · log scale" and plot_title(1, False, 10) == "Loss"
    assert plot_title(3, True, 80) == "Loss · median of 3 seeds (faint: each seed) · log scale"
    assert plot_title(3, True, 30) == "Loss · median of 3 seeds · log"
    assert len(plot_title(5, True, 26)) <= 26


def test_health_table_adds_ranges_where_they_fit():
    n = 4
    rows = HealthRows("x", "relu", np.zeros(n), np.ones(n), np.zeros(n), np.zeros(n), np.full(n, 1e-3),
                      spread={f: (np.full(n, 0.1), np.full(n, 0.9)) for f in
                              ("act_mean", "act_std", "saturated", "dead", "update_ratio")})
    wide = plain(render_health(rows, 10, STYLES, Style(), Style(), Style(), width=150)[0], 160)
    assert wide.count("[min, max]") == 5 and "[1.0e-1, 9.0e-1]" in wide and "[10%, 90%]" in wide and "[0.1, 0.9]" in wide
    narrow = plain(render_health(rows, 10, STYLES, Style(), Style(), Style(), width=70)[0], 160)
    assert 0 < narrow.count("[min, max]") < 5 and "[1.0e-1, 9.0e-1]" in narrow  # the update ratio's first
    assert max(len(line) for line in narrow.splitlines()) <= 70
    rows.spread = None
    assert "[min, max]" not in plain(render_health(rows, 10, STYLES, Style(), Style(), Style(), width=150)[0], 160)
    rows.spread = {f: (np.zeros(n), np.zeros(n) if f == "dead" else np.ones(n)) for f in
                   ("act_mean", "act_std", "saturated", "dead", "update_ratio")}
    same = plain(render_health(rows, 10, STYLES, Style(), Style(), Style(), width=150)[0], 160)
    assert same.count("[min, max]") == 4  # every seed 0% dead: no range to show


def test_bars_of_many_variants_wrap_onto_bands_instead_of_being_cut():
    cols = [BarColumn(f"v{k}", Style(), "", np.full(4, 0.1), np.full(4, 0.05), np.full(4, 0.2)) for k in range(7)]
    text, _ = render_bars(cols, 40, 22, STYLES)
    out = text.plain
    assert all(f"v{k}" in out for k in range(7))  # every variant, none past the edge
    assert max(len(line) for line in out.splitlines()) <= 40 and len(out.splitlines()) <= 22
    assert "min..max" in out.splitlines()[-1]
    wide, _ = render_bars(cols, 160, 22, STYLES)  # room side by side: one band
    assert len([ln for ln in wide.plain.splitlines() if "v0" in ln]) == 1 and "v6" in wide.plain
    lines = out.splitlines()
    first = next(ln for ln in lines if ln.lstrip().startswith("0 "))
    last = [ln for ln in lines if ln.lstrip().startswith("0 ")][-1]  # the band of v6 alone
    assert len(last.rstrip()) <= len(first.rstrip())  # its column as wide as the others', not the whole width
