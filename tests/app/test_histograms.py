"""The histogram panel's drawing: exact zeros in their own labelled column, one scale
for every row (and the legend saying what a full cell is), axes that fit."""

import numpy as np
from rich.style import Style

from tuisim.app.widgets.histograms import HistColumn, _with_zeros, legend, render_histograms, share_text, spark

RIDGE = [1, 3, 8, 12, 8, 3, 1, 0]


def _rows(text) -> list[str]:
    return text.plain.splitlines()


def test_zeros_have_their_own_column_not_the_smallest_bin():
    hist = np.zeros((3, 16))
    hist[:, 6:14] = RIDGE
    zero = np.array([36.0, 0.0, 3600.0])  # layer 2: almost all of it exactly 0
    text, _ = render_histograms([HistColumn("relu", Style(), hist, -14, 2, log=True, zero=zero)], 40, 10,
                                Style(), "grad")
    rows = _rows(text)
    assert rows[1].startswith("  0 50% ") and rows[2].startswith("  1   · ") and rows[3].startswith("out 99% ")
    # the 1e-14 end of every ridge is empty: the zeros are not there
    assert all(r[8] == " " for r in rows[1:4])
    assert rows[4].startswith("    =0  1e-14")  # the column is labelled
    assert rows[5].endswith("=0: exactly 0")  # and the legend says what it holds
    wide = _rows(render_histograms([HistColumn("relu", Style(), hist, -14, 2, log=True, zero=zero)], 120, 10,
                                   Style(), "grad")[0])
    assert wide[5].endswith("=0: dL/dz exactly 0 (a unit that is off)")


def test_one_scale_for_every_row():
    hist = np.zeros((2, 8))
    hist[0] = RIDGE  # 36 values, spread
    hist[1, 3] = 36  # 36 values, all in one bin: the peak of the panel
    text, _ = render_histograms([HistColumn("a", Style(), hist, -4, 4)], 4 + 4 + 8, 10, Style())
    rows = _rows(text)
    spread, spike = rows[1][8:], rows[2][8:]
    assert spike.strip() == "█"
    # scaled to its own peak the spread row would reach █; on the shared scale its
    # highest cell is 12/36 of a full one
    assert "█" not in spread and max(spread) == "▃"
    assert "█ = 100% of a layer" in rows[-1]
    # a layer with more values does not look taller for it: heights are shares
    hist2 = hist.copy()
    hist2[0] *= 10
    assert _rows(render_histograms([HistColumn("a", Style(), hist2, -4, 4)], 16, 10, Style())[0])[1] == rows[1]


def test_the_scale_is_shared_across_variants_and_says_so():
    a = np.zeros((1, 8))
    a[0] = RIDGE
    b = np.zeros((1, 8))
    b[0, 4] = 10
    b_zero = np.array([10.0])  # half of b's values are 0: its spike is half a layer
    text, _ = render_histograms([HistColumn("a", Style(), a, -4, 4), HistColumn("b", Style(), b, -4, 4, zero=b_zero)],
                                120, 8, Style())
    rows = _rows(text)
    assert "█ = 50% of a layer's values, one scale for every row" in rows[-1]
    assert "=0: exactly 0 (a ReLU unit that is off)" in rows[-1]


def test_share_text_and_spark_and_legend():
    assert [share_text(x) for x in (0, 0.001, 0.05, 0.5, 0.996, 1.0)] == ["  ·", "<1%", " 5%", "50%", "99%", "all"]
    assert spark(np.array([0, 1, 8])) == " ▁█"
    assert spark(np.array([0, 1, 8]), peak=16.0) == " ▁▄"
    assert legend(0.3, "grad", 20) == "█ = 30% of a layer"
    assert legend(0.0, "grad", 80) == "no values in range"
    assert legend(0.012, "act", 200).startswith("█ = 1.2% of a layer's values")


def test_narrow_columns_keep_their_axis_apart():
    hist = np.ones((2, 8))
    cols = [HistColumn(f"v{k}", Style(), hist, -14, 2, log=True, zero=np.zeros(2)) for k in range(3)]
    axis = _rows(render_histograms(cols, 4 + 3 * 9 + 4, 10, Style())[0])[3]
    assert axis.split() == ["=0", "-14", "2"] * 3  # exponents when 1e-14 and 1e2 do not fit


class _History:
    def __init__(self, hist, zero):
        self.act_hist, self.act_zero, self.grad_hist, self.grad_zero = hist, zero, None, None


def test_the_zero_count_travels_with_the_bins_into_the_median():
    h = _with_zeros(_History(np.ones((2, 3)), np.array([5.0, 6.0])), "act")
    assert h.tolist() == [[1, 1, 1, 5], [1, 1, 1, 6]]
    assert _with_zeros(_History(np.ones((2, 3)), None), "act")[:, -1].tolist() == [0, 0]
    assert _with_zeros(_History(np.ones((2, 3)), None), "grad") is None
