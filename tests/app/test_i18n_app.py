"""The app in Chinese (issue 14): snapshots of the run screen and the browser in Chinese,
the command palette's live switch of the language, and nothing wider than the terminal.

Every test here leaves the language as it found it (English): the snapshots of the other
test files are English."""

import pytest
from rich.cells import cell_len

from tuisim.app.factory import make_app
from tuisim.app.widgets.footer import KeyFooter
from tuisim.app.widgets.status import StatusBar, TitleBar
from tuisim.i18n import language, set_language

from .conftest import SCENARIOS, paused_at, scenario_path

SIZES = [(80, 24), (160, 50)]
SMALL = (80, 24)


@pytest.fixture(autouse=True)
def english_after():
    before = language()
    yield
    set_language(before)


def zh_run_app(name="vanishing_sigmoid", at=30):
    """A bundled lesson (its texts have Chinese) in Chinese, paused at `at`."""
    return make_app(name, seed=0, pause_at=at, deterministic=True, library=SCENARIOS, lang="zh")


def paused(at):
    async def run_before(pilot):
        await paused_at(pilot, at)

    return run_before


# ---------------------------------------------------------------- snapshots
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_run_screen_in_chinese(snap_compare, size):
    assert snap_compare(zh_run_app(), terminal_size=size, run_before=paused(30))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_browser_in_chinese(snap_compare, size):
    assert snap_compare(make_app(None, library=SCENARIOS, deterministic=True, lang="zh"), terminal_size=size)


# ---------------------------------------------------------------- the language
def test_make_app_keeps_the_language_set_before_it():
    set_language("zh")
    make_app(None, library=SCENARIOS)  # no lang: what the CLI set stays
    assert language() == "zh"
    make_app(None, library=SCENARIOS, lang="en")
    assert language() == "en"


def footer_text(app) -> str:
    return " ".join(f"{k.key_display} {k.description}" for k in app.screen.query(KeyFooter).first().query("FooterKey"))


def title_text(app) -> str:
    return app.screen.query_one(TitleBar).render().plain


def status_text(app) -> str:
    return app.screen.query_one(StatusBar).render().plain


async def run_palette_command(pilot, text: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*text)
    await pilot.pause(0.5)
    await pilot.press("enter")
    await pilot.pause(0.3)
    await pilot.pause()


async def test_the_palette_switches_the_language_live():
    set_language("en")
    app = make_app("vanishing_sigmoid", seed=0, pause_at=5, deterministic=True, library=SCENARIOS)
    async with app.run_test(size=(160, 50)) as pilot:
        await paused_at(pilot, 5)
        english_title = title_text(app)
        assert "Quit" in footer_text(app) and "paused" in status_text(app)
        await run_palette_command(pilot, "Language: 中文")
        assert language() == "zh"
        assert "退出" in footer_text(app) and "帮助" in footer_text(app)
        assert "已暂停" in status_text(app) and "paused" not in status_text(app)
        assert title_text(app) != english_title and "梯度" in title_text(app)
        assert "热力条" in app.screen.query_one("ViewTabs").render().plain
        lesson = app.screen.query_one("#lesson")
        assert lesson.border_title == "关于本课"
        await run_palette_command(pilot, "Language: English")
        assert language() == "en"
        assert "Quit" in footer_text(app) and "paused" in status_text(app)
        assert title_text(app) == english_title
        assert "Heat strip" in app.screen.query_one("ViewTabs").render().plain


async def test_the_browser_switches_the_language_live():
    set_language("en")
    app = make_app(None, library=SCENARIOS, deterministic=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert "Lessons" in str(app.screen.query_one("#title").render())
        app.switch_language("zh")
        await pilot.pause()
        assert "课程" in str(app.screen.query_one("#title").render())
        assert "打开文件" in footer_text(app)
        prompts = [str(app.screen.query_one("OptionList").get_option_at_index(i).prompt)
                   for i in range(app.screen.query_one("OptionList").option_count)]
        assert any("梯度消失与梯度爆炸" in p for p in prompts)
        assert app.screen.query_one("OptionList").highlighted == 1  # still the first lesson


# ---------------------------------------------------------------- 80x24
async def test_nothing_wider_than_80_cells_in_chinese():
    """Every line of the Chinese run screen at 80x24 fits in 80 cells, the single-line bars'
    texts fit their widgets, and the key bar keeps q Quit and ? Help, inside the screen."""
    app = zh_run_app(at=30)
    async with app.run_test(size=SMALL) as pilot:
        await paused_at(pilot, 30)
        await pilot.pause()
        lines = ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]
        assert len(lines) == SMALL[1]
        for line in lines:
            assert cell_len(line) <= SMALL[0], line
        for name in ("TitleBar", "StatusBar", "ViewTabs"):
            for widget in app.screen.query(name):
                if widget.display and widget.size.width:
                    text = widget.render()
                    assert text.cell_len <= widget.size.width, (name, text.plain)
        keys = list(app.screen.query(KeyFooter).first().query("FooterKey"))
        shown = {k.action: k for k in keys}
        assert {"quit", "help"} <= set(shown)
        assert shown["quit"].description == "退出" and shown["help"].description == "帮助"
        for k in keys:
            assert k.region.right <= SMALL[0], (k.action, k.region)
        right = sorted(keys, key=lambda k: k.region.x)
        for a, b in zip(right, right[1:]):
            assert a.region.right <= b.region.x, (a.action, b.action)
