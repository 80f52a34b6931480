"""The interface's language: English, or Chinese (the language of the course notes the
lessons come from).

Texts of the interface are marked `_("...")` and translated by a gettext catalog,
`tuisim/locale/<lang>/LC_MESSAGES/tuisim.po`, compiled to the `.mo` beside it (the
standard library's gettext reads it; Babel builds it: `python -m tuisim.i18n compile`,
and `python -m tuisim.i18n extract` lists the marked texts the catalog lacks). A
lesson's own texts (title, description, claims) come from its scenario file
(`title_zh`, ...), by `scenario_text`.

The language: `--lang zh|en` on every command, else the locale (LC_ALL, then
LC_MESSAGES, then LANG: zh_* gives Chinese), else English; the app switches it live
from its command palette.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LANGUAGES = {"en": "English", "zh": "中文"}
DOMAIN = "tuisim"
LOCALE_DIR = Path(__file__).parent / "locale"

_current = "en"
_translation: gettext.NullTranslations = gettext.NullTranslations()


def detect(environ=None) -> str:
    """The language the locale asks for: the first of LC_ALL, LC_MESSAGES and LANG that
    is set (POSIX's order) decides; zh_CN.UTF-8, zh_TW, zh give "zh", anything else "en"."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(lang: str | None) -> str:
    """Use `lang` ("en" or "zh"; None: the locale's, see `detect`) from now on; returns it."""
    global _current, _translation
    lang = detect() if lang is None else lang
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    _current = lang
    _translation = gettext.NullTranslations() if lang == "en" else gettext.translation(
        DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
    return lang


def language() -> str:
    return _current


def _(message: str) -> str:
    """`message` in the current language."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a text for the catalog where it is defined (a table of names); `_` translates it where it is shown."""
    return message


def scenario_text(obj, field: str) -> str | None:
    """A scenario's (or a claim's) `field` ("title", "description", "claim") in the
    current language: its `<field>_<lang>` when the file gives one, else the English."""
    if _current != "en":
        value = getattr(obj, f"{field}_{_current}", None)
        if value:
            return value
    return getattr(obj, field)


# ------------------------------------------------------------------ the catalogs (Babel: a development tool)
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract():
    """Every text marked in tuisim's code, as a Babel catalog (the template)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    template = Catalog(project="tuisim", domain=DOMAIN)
    root = Path(__file__).parent
    for filename, lineno, message, comments, context in extract_from_dir(
            root, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)):
        template.add(message, None, [(f"tuisim/{filename}", lineno)], auto_comments=comments, context=context)
    return template


def update(lang: str = "zh") -> list[str]:
    """Merge the marked texts into the language's .po (new ones untranslated, gone ones
    dropped); returns the texts it still lacks a translation for."""
    from babel.messages.pofile import read_po, write_po

    path = po_path(lang)
    with open(path, "rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    catalog.update(extract(), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    with open(path, "wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=True, include_lineno=False)
    return [m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and not m.string]


def compile_mo(lang: str = "zh") -> bytes:
    """The .mo of the language's .po, as bytes (what compile writes beside it)."""
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po_path(lang), "rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def main(argv=None) -> int:
    import sys

    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else ""
    if command == "update":
        missing = update()
        print(f"{po_path('zh')}: {len(missing)} texts untranslated" + "".join(f"\n  {m!r}" for m in missing[:40]))
        return 0
    if command == "compile":
        po_path("zh").with_suffix(".mo").write_bytes(compile_mo())
        print(f"wrote {po_path('zh').with_suffix('.mo')}")
        return 0
    print("usage: python -m tuisim.i18n update|compile", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
