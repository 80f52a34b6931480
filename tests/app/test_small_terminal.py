"""80x24 (and smaller) as a first-class size: the footer keeps `q` and `?`, the status line
and the lower panel's tabs keep what matters, the health table fits its numbers, the
dialogs keep their buttons on screen, and toasts stay off the status line."""

import numpy as np
import pytest
from rich.console import Console
from rich.style import Style
from textual.widgets._footer import FooterKey

from tuisim.app.factory import make_app
from tuisim.scenario import load_scenario
from tuisim.app.screens.dialogs import ErrorScreen
from tuisim.app.screens.settings import SettingsScreen
from tuisim.app.widgets.footer import choose, key_width
from tuisim.app.widgets.health_table import HEADERS, HealthRows, health_subtitle, health_title, render_health
from tuisim.app.widgets.status import StatusBar, ViewTabs, fit, variant_state
from rich.text import Text

from .conftest import SCENARIOS, paused_at, scenario_path
from .test_spread import R

STYLES = {"vanishing": Style(), "healthy": Style(), "exploding": Style()}
BAD = str(__import__("pathlib").Path(__file__).parent / "bad" / "many_problems.toml")


def plain(renderable, width: int = 200) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


# ---------------------------------------------------------------- the footer
RUN_KEYS = [("toggle_pause", "space", "Pause"), ("step", "n", "Step"), ("restart", "r", "Restart"),
            ("faster", "+", "Faster"), ("slower", "-", "Slower"), ("toggle_quantity", "g", "dW↔dz"),
            ("next_variant", "v", "Variant"), ("next_view", "p", "View"), ("settings", "e", "Settings"),
            ("screenshot", "s", "Screenshot"), ("export", "x", "Export"), ("help", "?", "Help"),
            ("quit", "q", "Quit")]
RANKING = ["quit", "help", "toggle_pause", "step", "toggle_quantity", "next_view", "settings"]
PALETTE = ("^p", "palette")


@pytest.mark.parametrize("width", [20, 30, 40, 60, 80, 100, 120, 160, 240])
def test_the_footer_keeps_quit_and_help_and_drops_the_least_important_first(width):
    kept, compact, palette = choose(RUN_KEYS, RANKING, width, PALETTE)
    actions = [RUN_KEYS[i][0] for i in kept]
    used = sum(key_width(RUN_KEYS[i][1], RUN_KEYS[i][2], compact) for i in kept) + 12 * palette
    assert used <= width
    if width >= 14:  # room for "q Quit ? Help" in some style
        assert "quit" in actions and "help" in actions
    # what is kept is a prefix of the ranking, then of the display order: never a less
    # important key instead of a more important one
    order = RANKING + [a for a, _, _ in RUN_KEYS if a not in RANKING]
    assert actions and set(actions) == set(order[:len(actions)])
    assert kept == sorted(kept)  # shown in their usual order
    if width >= 240:
        assert len(kept) == len(RUN_KEYS) and palette and not compact


def test_the_footer_goes_compact_only_when_that_shows_more():
    kept, compact, palette = choose(RUN_KEYS[-3:], ["quit", "help"], 80, PALETTE)
    assert len(kept) == 3 and palette and not compact  # room to spare: Textual's usual style
    order = RANKING + [a for a, _, _ in RUN_KEYS if a not in RANKING]
    keys = {a: (k, d) for a, k, d in RUN_KEYS}
    for width in range(40, 200, 7):
        def fits(compact):  # how many of the ranked keys fit, the palette after the first three
            used, n = 12, 0
            for a in order:
                used += key_width(*keys[a], compact)
                if used > width:
                    break
                n += 1
            return n
        kept, compact, _ = choose(RUN_KEYS, RANKING, width, PALETTE)
        assert compact == (fits(True) > fits(False)) and len(kept) == max(fits(True), fits(False))


async def test_the_run_footer_at_80x24_shows_quit_and_help_inside_the_screen():
    app = make_app(scenario_path("tiny_two"), seed=0, pause_at=5, deterministic=True, library=SCENARIOS)
    async with app.run_test(size=(80, 24)) as pilot:
        await paused_at(pilot, 5)
        keys = {k.key_display: k for k in app.screen.query(FooterKey)}
        assert {"?", "q", "space", "^p"} <= set(keys)
        for k in keys.values():  # every key drawn whole, inside the 80 columns
            assert k.region.width > 0 and k.region.right <= 80
        # the widths the footer reckons with are the ones Textual lays out
        compact = app.screen.query_one("KeyFooter").compact
        for k in keys.values():
            if not k.has_class("-command-palette"):
                assert k.outer_size.width + k.styles.margin.width == key_width(k.key_display, k.description,
                                                                                compact)
        await pilot.resize_terminal(160, 50)
        await pilot.pause(0.3)
        shown = {k.key_display for k in app.screen.query(FooterKey)}
        assert {"s", "x", "e", "r", "?", "q"} <= shown  # a wide terminal shows them all


# ---------------------------------------------------------------- the status line
def test_a_paused_run_never_calls_its_variants_running():
    assert variant_state([R("running")], paused=True) == [("paused", "muted")]
    assert variant_state([R("running"), R("done")], paused=True) == [("paused", "muted")]
    assert variant_state([R("done")], paused=True) == [("done", "ok")]
    assert variant_state([R("diverged", 4)], paused=True) == [("diverged at step 4", "error")]


def test_the_status_line_drops_its_least_useful_parts_first():
    pieces = [(0, Text(" ⏸ paused ")), (0, Text(" step 30/60")), (2, Text(" · 3 seeds")),
              (6, Text(" · speed max")), (2, Text(" · lr 0.1")), (4, Text(" (sigmoid)")),
              (1, Text(" · relu: diverged at step 7"))]
    full = fit(pieces, 200).plain
    assert full == " ⏸ paused  step 30/60 · 3 seeds · speed max · lr 0.1 (sigmoid) · relu: diverged at step 7"
    at60 = fit(pieces, 60).plain
    assert "speed" not in at60 and "(sigmoid)" not in at60 and "diverged at step 7" in at60
    assert len(at60) <= 60
    assert fit(pieces, 24).plain.startswith(" ⏸ paused  step 30/60") and len(fit(pieces, 24).plain) <= 24
    assert fit(pieces, 0).plain == full  # not laid out yet: everything


async def test_the_status_words_follow_the_pause():
    long = load_scenario(scenario_path("tiny_two"), ["steps=100000"])
    app = make_app(long, seed=0, pause_at=5, deterministic=True, library=SCENARIOS)
    async with app.run_test(size=(160, 30)) as pilot:
        await paused_at(pilot, 5)
        status = app.screen.query_one(StatusBar)
        text = status.render().plain
        assert "paused" in text and "running" not in text
        await pilot.press("space")
        await pilot.pause(0.1)
        text = status.render().plain
        assert "running" in text and "paused" not in text


# ---------------------------------------------------------------- the lower panel's tabs
@pytest.mark.parametrize("width, names", [(34, ["Heat", "Health", "Hist", "About"]),
                                          (80, ["Heat strip", "Health", "Histograms", "About"])])
def test_the_view_tabs_keep_their_names(width, names):
    tabs = ViewTabs()
    tabs.views = [(1, "Heat strip", False), (2, "Health", True), (3, "Histograms", False), (4, "About", False)]
    for style in ("full", "short", "tight"):
        t = tabs._tabs(style)
        if t.cell_len <= width:
            break
    assert t.cell_len <= width and all(n in t.plain for n in names)
    assert all(f"{k} " in t.plain for k in (1, 2, 3, 4))


@pytest.mark.parametrize("width, current, want", [
    (35, 1, " 1 Heat  2 Hlth 3 Hist 4 Abt 5 Bnd"),  # the lower panel at 80x24, five views
    (35, 5, "1He 2Hl 3Hi 4Ab  5 Boundary "),
    (20, 2, "1  2 Health  3 4 5")])
def test_five_view_tabs_keep_a_name_or_two_letters_for_every_view(width, current, want):
    """With the decision boundary's tab at 80x24 every view keeps at least its key and two
    letters (it fell back to "1 Heat 2345"); the current view keeps its name."""
    tabs = ViewTabs()
    tabs.views = [(k, n, k == current) for k, n in
                  enumerate(("Heat strip", "Health", "Histograms", "About", "Decision boundary"), 1)]
    for level in ViewTabs.LEVELS:
        t = tabs._tabs(level)
        if t.cell_len <= width:
            break
    assert t.plain == want


# ---------------------------------------------------------------- the health table
def health_rows(activation="relu", n=20, seeds=False):
    rng = np.random.default_rng(0)
    rows = HealthRows("relu, He", activation, rng.normal(0, 0.5, n), rng.uniform(0.05, 3.0, n),
                      np.zeros(n), rng.uniform(0, 0.4, n), 10.0 ** rng.uniform(-6, -1, n))
    if seeds:
        rows.spread = {f: (np.zeros(n), np.ones(n)) for f in HEADERS}
    return rows


@pytest.mark.parametrize("width", [14, 24, 32, 40, 60, 90, 150])
@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_the_health_table_fits_its_width_without_cutting_a_number(width, activation):
    table, note = render_health(health_rows(activation, seeds=True), 12, STYLES, Style(), Style(), Style(),
                                width=width)
    out = plain(table, 400)
    lines = out.rstrip("\n").splitlines()
    if width >= 24:  # the layer, its update ratio and one more column always fit from here
        assert max(len(line.rstrip()) for line in lines) <= width
        assert "…" not in out
        assert "layer" in lines[0] and "upd/W" in lines[0]
    if width >= 32:  # 80x24's lower panel: every column that can be non-zero, with its name
        assert "mean" in lines[0] and "std" in lines[0] and "hidden" not in note
        assert "dead%" in lines[0] or activation != "relu"
        assert "sat%" in lines[0] or activation != "tanh"
    if width == 32:  # no room for a column that is 0 by definition
        assert ("dead%" in lines[0]) == (activation == "relu") and ("sat%" in lines[0]) == (activation == "tanh")
    if width >= 90:
        assert "sat%" in lines[0] and "dead%" in lines[0]  # room for both
    if width < 24:
        assert "hidden" in note  # what is left out is said


def test_the_health_titles_fit_their_border():
    assert health_title("relu, He", 3, 80) == "Activation health · relu, He · median of 3 seeds"
    assert health_title("relu, He", 3, 31) == "Health · relu, He · median of 3"
    assert health_title("relu, He", 3, 30) == "Health · relu, He · median"
    assert health_title("relu, He", 1, 30) == "Activation health · relu, He"
    assert len(health_title("relu, He", 5, 26)) <= 26
    assert health_subtitle("8 of 21 layers", 30) == "8 of 21 layers · v: variant"
    assert health_subtitle("", 60) == "v: next variant · guide upd/W ≈ 1e-3"


# ---------------------------------------------------------------- dialogs
@pytest.mark.parametrize("size", [(80, 24), (40, 12), (160, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_settings_buttons_and_the_key_value_field_are_reachable(size):
    app = make_app(scenario_path("tiny_two"), seed=0, pause_at=5, deterministic=True, library=SCENARIOS)
    async with app.run_test(size=size) as pilot:
        await paused_at(pilot, 5)
        await pilot.press("e")
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        dialog = screen.query_one("#dialog").region
        for button in screen.query("Button"):  # always on screen, inside the dialog
            assert dialog.contains_region(button.region) and button.region.height >= 1
        override = screen.query_one("#override")
        override.focus()
        await pilot.pause(0.2)  # focusing it scrolls the form to it
        assert dialog.contains_region(override.region) and override.region.height >= 1
        for ch in "model.depth=":
            await pilot.press(ch)
        await pilot.press("x", "y", "z")
        await pilot.click("#restart")
        await pilot.pause(0.3)
        error = screen.query_one("#error")
        assert error.display and error.region.height >= 1 and dialog.contains_region(error.region)
        for button in screen.query("Button"):
            assert screen.query_one("#dialog").region.contains_region(button.region)


async def test_a_long_error_scrolls_and_keeps_its_close_key_in_view():
    app = make_app(BAD, library=SCENARIOS)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, ErrorScreen) and screen.has_class("-fill")
        dialog = screen.query_one("#dialog").region
        assert dialog.contains_region(screen.query_one("#dialog-keys").region)
        scroll = screen.query_one(".grow")
        assert scroll.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause(0.2)
        assert scroll.scroll_y == scroll.max_scroll_y  # the last problem can be read
        await pilot.press("escape")
        assert not isinstance(app.screen, ErrorScreen)


# ---------------------------------------------------------------- toasts
async def test_a_toast_stays_above_the_status_line():
    app = make_app(scenario_path("tiny_two"), seed=0, pause_at=5, deterministic=True, library=SCENARIOS)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await paused_at(pilot, 5)
        app.notify("3 of 3 expectations hold (see About)", title="Run finished")
        await pilot.pause(0.3)
        toast = app.screen.query_one("Toast")
        status = app.screen.query_one(StatusBar)
        assert toast.region.height >= 1 and toast.region.bottom <= status.region.y


# ---------------------------------------------------------------- 40x12: nothing breaks
async def test_every_screen_and_dialog_at_40x12_draws_and_tells_the_truth():
    """A tiny terminal: every view, dialog and screen opens without an error; the footer
    keeps q and ?, the status line starts with the true state, the settings keep their
    buttons on screen."""
    from tuisim.app.screens.dialogs import HelpScreen
    from tuisim.app.screens.run import RunScreen
    from tuisim.app.sweep_driver import SweepSpec

    app = make_app(scenario_path("tiny_two"), seed=0, pause_at=5, deterministic=True, library=SCENARIOS)
    async with app.run_test(size=(40, 12)) as pilot:
        await paused_at(pilot, 5)
        shown = {k.key_display for k in app.screen.query(FooterKey)}
        assert {"?", "q"} <= shown
        status = app.screen.query_one(StatusBar).render().plain
        assert status.startswith(" ⏸ paused  step 5/60") and "running" not in status
        for key in ("1", "2", "3", "4", "0", "v", "g", "z", "z"):
            await pilot.press(key)
            app.screen.refresh_frame(force=True)
            await pilot.pause(0.1)
            assert isinstance(app.screen, RunScreen)
        await pilot.press("2")
        app.screen.refresh_frame(force=True)
        await pilot.pause(0.2)
        table = app.screen.query_one("HealthTable")
        assert "…" not in "".join(s.text for s in table.render_line(1))  # no number cut
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "e")
        await pilot.pause(0.3)
        assert isinstance(app.screen, SettingsScreen)
        dialog = app.screen.query_one("#dialog").region
        assert all(dialog.contains_region(b.region) and b.region.width >= 6 for b in app.screen.query("Button"))
        await pilot.press("escape", "escape")  # to the browser
        await pilot.pause(0.3)
        assert {"?", "q"} <= {k.key_display for k in app.screen.query(FooterKey)}
        app.open_sweep(SweepSpec(scenario_path("tiny_sweep"), workers=0))
        await pilot.pause(0.5)
        assert {"?", "q"} <= {k.key_display for k in app.screen.query(FooterKey)}
        await pilot.press("a", "a", "escape")
        await pilot.pause(0.3)
    app = make_app(BAD, library=SCENARIOS)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause(0.3)
        assert isinstance(app.screen, ErrorScreen)
        keys = app.screen.query_one("#dialog-keys").region
        assert app.screen.query_one("#dialog").region.contains_region(keys) and keys.height == 1


def test_a_column_zero_by_definition_gives_way_to_the_seeds_ranges():
    n = 4
    rows = HealthRows("tanh", "tanh", np.linspace(-0.1, 0.1, n), np.linspace(0.4, 1.5, n), np.zeros(n), np.zeros(n),
                      np.linspace(5e-3, 8e-3, n),
                      spread={"act_mean": (np.full(n, -0.2), np.full(n, 0.2)), "act_std": (np.full(n, 0.36),
                              np.full(n, 0.46)), "saturated": (np.zeros(n), np.full(n, 0.01)),
                              "dead": (np.zeros(n), np.zeros(n)), "update_ratio": (np.full(n, 7.3e-3),
                                                                                   np.full(n, 8.7e-3))})
    counts, traded = [], False
    for width in range(40, 140):
        header = plain(render_health(rows, 10, STYLES, Style(), Style(), Style(), width=width)[0], 300).splitlines()[0]
        counts.append(header.count("[min, max]"))
        traded |= "dead%" not in header and "sat%" in header and counts[-1] > 0
    assert traded  # somewhere tanh's dead% (always 0) made room for a range
    assert counts == sorted(counts) and counts[-1] == 4  # more room never shows fewer; all four with room
