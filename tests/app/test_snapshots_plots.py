"""Snapshots of the plots (issue 12, parts 1, 2, 4 and the bars' zoom): the loss plot's
braille lines and ticks at 40x12, every variant in its own colour (and a marker past eight),
the gradient bars zoomed with `f`. Update with `pytest tests/app/test_snapshots_plots.py
--snapshot-update` after looking at the new pictures."""

from pathlib import Path

from tuisim.app.factory import make_app

from .conftest import SCENARIOS
from .test_snapshots import paused, run_app

PLOTS = Path(__file__).parent / "plots"  # not in SCENARIOS: the browser's snapshots list those


def plots_app(name, at):
    return make_app(str(PLOTS / f"{name}.toml"), seed=0, pause_at=at, deterministic=True, library=SCENARIOS)


def test_plots_at_40x12(snap_compare):
    """The smallest size: the loss ticks each on their own row, the lines continuous."""
    assert snap_compare(run_app("tiny_two"), terminal_size=(40, 12), run_before=paused(30))


def test_plots_nine_variants(snap_compare):
    """Eight colours for the first eight, the ninth ◆ along its line and in the legend."""
    assert snap_compare(plots_app("tiny_nine", 25), terminal_size=(160, 50), run_before=paused(25))


def test_plots_bars_zoomed(snap_compare):
    """Four nets of two depths, f pressed: one axis around the data, first/last under each."""
    assert snap_compare(plots_app("tiny_depths", 20), terminal_size=(120, 40), run_before=paused(20, "f"))
