"""Small text helpers shared by the widgets: numbers, layer names, row sampling."""

from __future__ import annotations

import math
import re

import numpy as np
from rich.cells import cell_len, get_character_cell_size

# Every width here is in terminal cells, not characters: a CJK character takes two
# (`cell_len`); for ASCII text the two are the same.


def head_cells(text: str, width: int) -> str:
    """The longest start of `text` that fits in `width` cells (a wide character that would
    straddle the end is left out, never cut)."""
    used = 0
    for i, ch in enumerate(text):
        used += get_character_cell_size(ch)
        if used > width:
            return text[:i]
    return text


def tail_cells(text: str, width: int) -> str:
    """The longest end of `text` that fits in `width` cells."""
    used = 0
    for i in range(len(text) - 1, -1, -1):
        used += get_character_cell_size(text[i])
        if used > width:
            return text[i + 1:]
    return text


def pad_cells(text: str, width: int, align: str = "<") -> str:
    """`text` padded with spaces to `width` cells ("<" left-aligned, ">" right, "^" centred
    with the odd space on the right); a longer text as it is."""
    pad = max(width - cell_len(text), 0)
    if align == ">":
        return " " * pad + text
    if align == "^":
        return " " * (pad // 2) + text + " " * (pad - pad // 2)
    return text + " " * pad


def sci(v: float, digits: int = 1) -> str:
    """A compact scientific number: 1.2e-13, 3.4e-2, 5.0e0 (digits=0: 1e-13), NaN, inf."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "NaN"
    v = float(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    m, e = f"{v:.{digits}e}".split("e")
    return f"{m}e{int(e)}"


def num(v: float, digits: int = 3) -> str:
    """A short general number (0.0421, 12.3, 1.2e-5)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    v = float(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return sci(v)
    return f"{v:.{digits}g}"


def pct(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{100 * v:.0f}%"


def layer_name(i: int, layers: int) -> str:
    """Linear layer i (0 = input side) of `layers`: "0".."depth-1", the last is "out".

    0-based, like the state dict's `layers.{i}`, the records' per-layer lists and the
    expectations' `layer`, so a number read on screen means the same everywhere."""
    return "out" if i == layers - 1 else str(i)


def sample_rows(n: int, rows: int) -> np.ndarray:
    """At most `rows` indices of range(n), evenly spread, always the first and the last."""
    if rows <= 0:
        return np.zeros(0, dtype=np.int64)
    if n <= rows:
        return np.arange(n)
    if rows == 1:
        return np.array([n - 1])
    return np.unique(np.round(np.linspace(0, n - 1, rows)).astype(np.int64))


def log10_safe(a: np.ndarray) -> np.ndarray:
    """log10 of |a|: -inf for 0, +inf for inf, NaN for NaN, without warnings."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.abs(a))


def ellipsize(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if cell_len(text) <= width else head_cells(text, max(0, width - 1)) + "…"


def _inside_number(text: str, i: int) -> bool:
    """Whether a cut before text[i] would split a number ("40" into "4" and "0", "-1" into
    "-" and "1")."""
    if not 0 < i < len(text):
        return False
    a, b = text[i - 1], text[i]
    return (b.isdigit() or b == ".") and (a.isdigit() or a == "." or (a in "-+" and b.isdigit()))


def cut_middle(text: str, width: int, head: int | None = None) -> str:
    """`text` in at most `width` cells: cut in the middle with "…", keeping `head` cells
    of its start (default: half, rounded up) and the rest of its end. A cut never splits
    a number: the part of it that would be cut goes, whole ("depth 40" does not become
    "depth 4…"), nor a wide character."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:max(width, 0)]
    room = width - 1
    head = (room + 1) // 2 if head is None else min(max(head, 0), room)
    tail = room - head
    head = len(head_cells(text, head))  # cells to characters
    start = len(text) - len(tail_cells(text, tail))
    while _inside_number(text, head):
        head -= 1
    while _inside_number(text, start):
        start += 1
    return text[:head].rstrip("…") + "…" + text[start:].lstrip("…")


def shorten_labels(labels: list[str], width: int) -> list[str]:
    """Each label in at most `width` cells, labels that differ kept different.

    A label that fits stays whole; a longer one is cut in the middle ("…"), keeping its
    start and its end (where "plain, depth 8" and "plain, depth 40" differ), with the
    same split for every label, moved off the middle as far as needed to keep them apart.
    Labels that differ only in their middle keep the part where they differ, between
    two "…"; when even that does not tell them apart in `width`, each ends with its
    number (1-based) instead."""
    labels = [str(s) for s in labels]
    if all(cell_len(s) <= width for s in labels):
        return labels
    if width <= 0:
        return ["" for _ in labels]
    distinct = len(set(labels))

    def apart(cut: list[str]) -> bool:
        return len(set(cut)) == distinct

    room = width - 1
    mid = (room + 1) // 2
    for head in sorted(range(room + 1), key=lambda h: (abs(h - mid), -h)):
        cut = [cut_middle(s, width, head) for s in labels]
        if apart(cut):
            return cut
    squeezed = _squeeze_common(labels, width)
    if squeezed is not None and apart(squeezed):
        return squeezed
    # they differ only in the middle: show each around where it first differs from the others
    cut = []
    for s in labels:
        at = max((_common_prefix(s, o) for o in labels if o != s), default=0)
        if cell_len(s) <= width:
            cut.append(s)
            continue
        inner = max(width - 2, 1)
        start = min(max(at - inner // 2, 1), len(s) - inner)
        end = start + inner
        cut.append(("…" if start > 0 else "") + head_cells(s[start:end], width - (start > 0) - (end < len(s)))
                   + ("…" if end < len(s) else ""))
    if apart(cut) and all(cell_len(c) <= width for c in cut):
        return cut
    numbered = []
    for k, s in enumerate(labels, 1):
        tag = str(k)
        numbered.append(cut_middle(s, width - len(tag), width - len(tag) - 1) + tag if width > len(tag) else tag[:width])
    return numbered


TOKEN = re.compile(r"[-+]?\d[\w.]*|\w+|\s+|[^\w\s]")


def _squeeze_common(labels: list[str], width: int) -> list[str] | None:
    """The labels with the words they all share, at the same place, folded into "…"
    (the longest run first, as many as needed): "depth 10, gate bias -1" and "depth 30,
    gate bias -3" become "depth 10…-1" and "depth 30…-3" (the words a longer label has
    beyond the others' stay); then cut in the middle if still too long."""
    words = [TOKEN.findall(s) for s in labels]
    if len(labels) < 2:
        return None
    n = min(len(w) for w in words)  # the places every label has a word at
    common = [all(w[i] == words[0][i] for w in words) for i in range(n)]
    runs, i = [], 0
    while i < n:
        if common[i]:
            j = i
            while j < n and common[j]:
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    runs.sort(key=lambda r: -sum(cell_len(t) for t in words[0][r[0]:r[1]]))
    folded: set[int] = set()

    def join(w: list[str]) -> str:
        out, k = [], 0
        while k < len(w):
            run = next((r for r in runs if r[0] == k and r[0] in folded), None)
            if run:
                out.append("…")
                k = run[1]
            else:
                out.append(w[k])
                k += 1
        return "".join(out)

    out = [join(w) for w in words]
    for start, _ in runs:
        if all(cell_len(s) <= width for s in out):
            break
        folded.add(start)
        out = [join(w) for w in words]
    return [cut_middle(s, width) for s in out]


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def ratio_text(first: float, last: float) -> str:
    """first / last, as a teacher would say it: "1/120" when first is the smaller, "35"
    when it is the larger, two significant digits ("1/1.5", "1/3e12"); "–" when either
    is not a finite positive number."""
    if not (math.isfinite(first) and math.isfinite(last)) or first <= 0 or last <= 0:
        return "–"
    r = first / last

    def short(v: float) -> str:
        if v >= 1e4:
            m, e = f"{v:.0e}".split("e")
            return f"{m}e{int(e)}"
        return f"{v:.2g}" if v < 100 else f"{v:.0f}"

    if r >= 1 or short(1 / r) == "1":
        return short(r) if r >= 1 else "1"
    return "1/" + short(1 / r)
