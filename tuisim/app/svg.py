"""Screenshots (SVG) with wide characters laid out right.

Rich's SVG export gives each run of text a `textLength` of `len(text)` cells, where a
CJK character takes two: a viewer then squeezes Chinese text into half its width, the
glyphs overlap, and the rest of the line no longer lines up (Textualize/rich#2742,
open). The runs' positions are computed in cells already, so only the lengths need
fixing: `textLength` = the run's cells x the cell's width.
"""

from __future__ import annotations

import html
import re

from rich.cells import cell_len

_RUN = re.compile(r'(<text [^>]*?textLength=")([0-9.]+)("[^>]*>)([^<]*)(</text>)')


def fix_wide_text(svg: str) -> str:
    """`svg` (Rich's export) with every run of text that holds wide characters given the
    length of its cells; runs of narrow characters are left byte for byte as they are."""

    def fix(m: re.Match) -> str:
        text = html.unescape(m[4])
        cells = cell_len(text)
        if cells <= len(text):  # no wide character (a line's end, "\n", counts 0 cells and stays)
            return m[0]
        width = float(m[2]) / len(text)  # one cell, as Rich computed it
        return f"{m[1]}{round(width * cells, 4):g}{m[3]}{m[4]}{m[5]}"

    return _RUN.sub(fix, svg)
