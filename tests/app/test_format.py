"""The text helpers the panels share (tuisim.app.format): labels cut to a width, ratios."""

import itertools

import pytest

from tuisim.app.format import cut_middle, ratio_text, shorten_labels

DEGRADATION = ["plain, depth 8", "plain, depth 40", "residual, depth 40", "highway, depth 40"]
HIGHWAY = ["depth 10, gate bias -1", "depth 30, gate bias -1", "depth 30, gate bias -3", "depth 50, gate bias -2",
           "depth 50, gate bias -3", "depth 50, gate bias -4", "depth 50, gate bias -5"]
OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam"]


def test_cut_middle_keeps_both_ends_and_never_splits_a_number():
    assert cut_middle("plain, depth 40", 20) == "plain, depth 40"
    assert cut_middle("plain, depth 40", 11) == "plain…th 40"
    assert cut_middle("plain, depth 40", 11, head=8) == "plain, d…40"
    assert cut_middle("plain, depth 40", 10, head=9) == "plain, de…"  # not "…0": it would read as 0
    assert cut_middle("gate bias -1", 8, head=6) == "gate b…"  # not "…1": the sign would be lost
    assert cut_middle("depth 40 wide", 8, head=7) == "depth …"  # not "depth 4…"
    assert cut_middle("abc", 1) == "…" and cut_middle("abc", 0) == ""


@pytest.mark.parametrize("labels", [DEGRADATION, HIGHWAY, OPTIMIZERS, ["a" * 30 + "x", "a" * 30 + "y"],
                                    ["x" + "a" * 30, "y" + "a" * 30], ["a" * 15 + "x" + "a" * 15, "a" * 31]])
def test_shortened_labels_fit_and_stay_distinct(labels):
    for width in range(4, 40):
        short = shorten_labels(labels, width)
        assert len(short) == len(labels)
        assert all(len(s) <= width for s in short), (width, short)
        assert len(set(short)) == len(set(labels)), (width, short)
        for s, full in zip(short, labels):
            if len(full) <= width:
                assert s == full  # what fits stays whole


def test_shortened_labels_keep_the_distinguishing_end():
    assert shorten_labels(DEGRADATION, 12) == ["plain,…pth 8", "plain,…th 40", "residu…th 40", "highwa…th 40"]
    # "depth 8" and "depth 40" stay apart however narrow, and never read as "depth 4"
    for width in range(4, 18):
        short = shorten_labels(DEGRADATION, width)
        assert short[0] != short[1]
        assert not any(s.endswith(" 4") or "4…" in s for s in short)
    # the words every highway label shares fold away before the values they differ in
    assert shorten_labels(HIGHWAY, 10) == ["…10…-1", "…30…-1", "…30…-3", "…50…-2", "…50…-3", "…50…-4", "…50…-5"]
    assert shorten_labels(HIGHWAY, 14)[0].startswith("depth 10")
    assert shorten_labels(["sgd", "adam"], 3) == ["sgd", "a…m"]


def test_labels_that_cannot_be_told_apart_get_numbers():
    short = shorten_labels(HIGHWAY, 4)
    assert len(set(short)) == len(HIGHWAY) and all(len(s) <= 4 for s in short)
    assert shorten_labels(["x", "y"], 0) == ["", ""]
    assert shorten_labels(["same", "same"], 2) == ["s…", "s…"]  # equal labels stay equal


def test_ratio_text():
    assert [ratio_text(a, b) for a, b in itertools.product([1.0], [120.0, 1.5, 1.0, 0.5, 1e-12])] == [
        "1/120", "1/1.5", "1", "2", "1e12"]
    assert ratio_text(1e-12, 3.0) == "1/3e12"
    assert ratio_text(35.0, 1.0) == "35"
    assert ratio_text(1.0, 1.04) == "1" and ratio_text(1.04, 1.0) == "1"  # not "1/1"
    for bad in [(0.0, 1.0), (1.0, 0.0), (float("nan"), 1.0), (1.0, float("inf"))]:
        assert ratio_text(*bad) == "–"


def test_a_long_name_in_the_health_title_keeps_both_ends():
    from tuisim.app.widgets.health_table import health_title

    title = health_title("depth 50, gate bias -4, no momentum, lr x 10", 3, 40)
    assert len(title) <= 40 and title.startswith("Health · depth 50") and title.endswith("lr x 10")


def test_widths_are_cells_not_characters():
    """A CJK character takes two cells: cuts and pads count cells, and never split one."""
    from rich.cells import cell_len

    from tuisim.app.format import ellipsize, pad_cells

    assert ellipsize("梯度消失了", 6) == "梯度…" and cell_len(ellipsize("梯度消失了", 6)) == 5
    assert ellipsize("梯度", 4) == "梯度"
    cut = cut_middle("普通网络，深度 40", 11)
    assert cell_len(cut) <= 11 and cut.endswith(" 40") and cut.startswith("普通")
    short = shorten_labels(["普通网络，深度 8", "普通网络，深度 40", "残差网络，深度 40"], 10)
    assert len(set(short)) == 3 and all(cell_len(s) <= 10 for s in short)
    assert pad_cells("层", 4) == "层  " and pad_cells("层", 4, ">") == "  层"
