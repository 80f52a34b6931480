"""The Chinese interface: the language chosen as documented, every marked text translated
in the catalog, the compiled catalog up to date, every lesson's texts in both languages."""

from __future__ import annotations

import re
import string
import subprocess
import sys
import unicodedata

import pytest

from tuisim import i18n
from tuisim.scenario import bundled_scenarios, load_scenario

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def english_after():
    yield
    i18n.set_language("en")


@pytest.mark.parametrize("env, lang", [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_TW.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
    ({"LC_ALL": "zh_CN.UTF-8", "LC_MESSAGES": "en_GB.UTF-8", "LANG": "en_US"}, "zh"),
    ({"LC_ALL": "", "LANG": "zh_CN"}, "zh"),
])
def test_the_locale_chooses_the_language(env, lang):
    assert i18n.detect(env) == lang


def test_a_marked_text_is_translated_and_english_is_itself():
    assert i18n.set_language("zh") == "zh"
    assert i18n._("PASS") == "通过"
    i18n.set_language("en")
    assert i18n._("PASS") == "PASS"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        i18n.set_language("fr")


def _catalog():
    from babel.messages.pofile import read_po

    with open(i18n.po_path("zh"), "rb") as f:
        return read_po(f, locale="zh", domain=i18n.DOMAIN)


def test_every_marked_text_has_a_translation():
    catalog = _catalog()
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy translations are not used (check them and drop the flag): {fuzzy}"
    missing = [m.id for m in i18n.extract() if m.id and not (catalog.get(m.id) and catalog.get(m.id).string)]
    assert not missing, f"untranslated (run `python -m tuisim.i18n update`, translate, then compile): {missing[:20]}"


def _fields(text: str) -> set:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def test_translations_keep_every_placeholder():
    for m in _catalog():
        if m.id and m.string and isinstance(m.id, str):
            assert _fields(m.id) == _fields(m.string), (m.id, m.string)


def test_the_compiled_catalog_is_up_to_date():
    """The .mo gettext reads holds exactly the .po's translations (compared as catalogs:
    Babel versions differ in the bytes of the header)."""
    import gettext

    with open(i18n.po_path("zh").with_suffix(".mo"), "rb") as f:
        mo = {k: v for k, v in gettext.GNUTranslations(f)._catalog.items() if k != ""}
    po = {}
    for m in _catalog():
        if m.id and m.string:
            if isinstance(m.id, str):
                po[m.id] = m.string
            else:
                po.update({(m.id[0], k): s for k, s in enumerate(m.string)})
    assert mo == po, "run `python -m tuisim.i18n compile`"


def test_every_lesson_has_every_text_in_both_languages():
    for path in bundled_scenarios():
        sc = load_scenario(path)
        assert sc.title and sc.title_zh and CJK.search(sc.title_zh), path.stem
        assert sc.description and sc.description_zh and CJK.search(sc.description_zh), path.stem
        for e in sc.expects:
            assert (e.claim is None) == (e.claim_zh is None), (path.stem, e.claim)
        for e in (sc.sweep.expects if sc.sweep else ()):
            assert (e.claim is None) == (e.claim_zh is None), (path.stem, e.claim)
        assert not CJK.search(sc.title + sc.description), path.stem


def _list(*args, env=None):
    import os

    e = {k: v for k, v in os.environ.items() if not k.startswith("LC_") and k != "LANG"}
    e.update(env or {})
    out = subprocess.run([sys.executable, "-m", "tuisim", "list", *args], capture_output=True, text=True, env=e,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return [ln for ln in out.stdout.splitlines() if ln.startswith("L")]


def test_tuisim_list_in_chinese_gives_every_lesson_a_chinese_title():
    rows = _list("--lang", "zh")
    assert len(rows) == len(bundled_scenarios())
    assert all(CJK.search(r) for r in rows)
    assert all(CJK.search(r) for r in _list(env={"LANG": "zh_CN.UTF-8"}))
    english = _list()
    assert len(english) == len(rows) and not any(CJK.search(r) for r in english)


@pytest.mark.parametrize("words", [["--lang", "zh", "NAME"], ["--lang=zh", "NAME"], ["NAME", "--lang", "zh"]])
def test_a_lesson_by_name_takes_lang_before_or_after_it(words, monkeypatch):
    from tuisim import cli

    seen = {}

    def fake_run(args):
        seen["scenario"], seen["lang"] = args.scenario, args.lang
        return 0

    monkeypatch.setattr(cli, "_run", fake_run)
    assert cli.main([w if w != "NAME" else "vanishing_sigmoid" for w in words] + ["--headless"]) == 0
    assert seen == {"scenario": "vanishing_sigmoid", "lang": "zh"}


def test_a_headless_table_in_chinese_stays_aligned():
    from tuisim.run.headless import cell_len, pad

    assert cell_len("变体") == 4 and cell_len("ab") == 2
    assert cell_len(pad("状态", 10)) == 10 and pad("完成", 6, right=True) == "  完成"
    assert all(unicodedata.east_asian_width(c) == "W" for c in "中文")
