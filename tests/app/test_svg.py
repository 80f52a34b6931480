"""Screenshots with Chinese text: each run of text as long as its cells (Rich gives it
one cell per character, so a viewer squeezes CJK text to half its width)."""

import re

from rich.console import Console

from tuisim.app.svg import fix_wide_text


def _svg(text: str) -> str:
    console = Console(record=True, width=40, force_terminal=True, color_system="truecolor", file=open("/dev/null", "w"))
    console.print(text, highlight=False)
    return console.export_svg()


def _lengths(svg: str) -> dict:
    return {m[2]: float(m[1]) for m in re.finditer(r'textLength="([0-9.]+)"[^>]*>([^<]*)</text>', svg)}


def test_a_chinese_run_gets_two_cells_a_character_and_english_is_untouched():
    english = _svg("loss 0.5, step 300")
    assert fix_wide_text(english) == english
    mixed = _svg("第 300 步 loss")
    fixed = _lengths(fix_wide_text(mixed))
    (run_en, length_en), = [(k, v) for k, v in _lengths(english).items() if "loss" in k]
    cell = length_en / len(run_en.replace("&#160;", " "))
    run = next(k for k in fixed if "步" in k)
    text = run.replace("&#160;", " ")
    assert fixed[run] == round(cell * (len(text) + sum(1 for c in text if "\u4e00" <= c <= "\u9fff")), 4)
