"""Line numbers of TOML keys. tomllib reports none, so scan the source: table headers
([model], [[variant]] #n, [variant.model]) and key lines (dotted keys too), skipping the
insides of strings (multi-line descriptions) and of arrays that span lines.

`key_lines(text)` maps key paths to 1-based lines: ("model", "depth"), ("variant", 1),
("variant", 1, "model", "init"), ("expect", 0, "metric"). `find_line(lines, path)` looks a
path up, falling back to its longest known prefix (a key inside an inline table, an element
of a list), or None.
"""

from __future__ import annotations

import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def key_lines(text: str) -> dict[tuple, int]:
    out: dict[tuple, int] = {}
    arrays: dict[tuple, int] = {}  # resolved path of each array of tables -> elements so far
    table: tuple = ()
    state = _State()
    for number, line in enumerate(text.splitlines(), start=1):
        if state.busy():
            state.scan(line, 0)
            continue
        s = line.lstrip()
        if not s or s.startswith("#"):
            continue
        start = len(line) - len(s)
        if s.startswith("["):
            double = s.startswith("[[")
            keys, end = _key_path(line, start + (2 if double else 1))
            if keys is None:
                continue
            resolved = _resolve(keys[:-1], arrays) + (keys[-1],)
            if double:
                arrays[resolved] = arrays.get(resolved, 0) + 1
                table = resolved + (arrays[resolved] - 1,)
            else:
                table = _resolve(keys, arrays)
            out.setdefault(table, number)
            continue
        keys, end = _key_path(line, start)
        if keys is None:
            continue
        eq = _skip_space(line, end)
        if eq >= len(line) or line[eq] != "=":
            continue
        out.setdefault(table + tuple(keys), number)
        state.scan(line, eq + 1)
    return out


def too_deep(text: str, limit: int) -> int | None:
    """The first line where arrays and inline tables nest more than `limit` deep, else None
    (tomllib recurses once per level and ends in a RecursionError ~300 levels down)."""
    state = _State()
    for number, line in enumerate(text.splitlines(), start=1):
        state.scan(line, 0)
        if state.deepest > limit:
            return number
    return None


def find_line(lines: dict[tuple, int], path: tuple) -> int | None:
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def _resolve(keys: list[str], arrays: dict[tuple, int]) -> tuple:
    """A header's path with the current element index after every array of tables."""
    out: tuple = ()
    for k in keys:
        out += (k,)
        if out in arrays:
            out += (arrays[out] - 1,)
    return out


def _skip_space(line: str, i: int) -> int:
    while i < len(line) and line[i] in " \t":
        i += 1
    return i


def _key_path(line: str, i: int) -> tuple[list[str] | None, int]:
    """Parse `a.b."c d"` from position i; returns (keys, end) or (None, i)."""
    keys = []
    while True:
        i = _skip_space(line, i)
        if i < len(line) and line[i] in "\"'":
            q = line[i]
            j = i + 1
            buf = []
            while j < len(line) and line[j] != q:
                if q == '"' and line[j] == "\\" and j + 1 < len(line):
                    j += 1
                buf.append(line[j])
                j += 1
            if j >= len(line):
                return None, i
            keys.append("".join(buf))
            i = j + 1
        else:
            m = _BARE.match(line, i)
            if not m:
                return None, i
            keys.append(m.group())
            i = m.end()
        j = _skip_space(line, i)
        if j < len(line) and line[j] == ".":
            i = j + 1
            continue
        return keys, j


class _State:
    """Where a value that spans lines is: inside a multi-line string, or brackets deep."""

    def __init__(self):
        self.string: str | None = None  # '"""' or "'''"
        self.depth = 0
        self.deepest = 0

    def busy(self) -> bool:
        return self.string is not None or self.depth > 0

    def scan(self, line: str, i: int) -> None:
        n = len(line)
        while i < n:
            if self.string is not None:
                j = line.find(self.string, i)
                if self.string == '"""':
                    while j > 0 and _escaped(line, j):
                        j = line.find('"""', j + 1)
                if j < 0:
                    return
                i = j + 3
                while i < n and line[i] == self.string[0]:  # up to two quotes may end the string
                    i += 1
                self.string = None
                continue
            c = line[i]
            if c == "#":
                return
            if line.startswith('"""', i) or line.startswith("'''", i):
                self.string = line[i:i + 3]
                i += 3
                continue
            if c in "\"'":
                j = i + 1
                while j < n and line[j] != c:
                    j += 2 if c == '"' and line[j] == "\\" else 1
                i = j + 1
                continue
            if c in "[{":
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)
            elif c in "]}":
                self.depth = max(0, self.depth - 1)
            i += 1


def _escaped(line: str, j: int) -> bool:
    k, count = j - 1, 0
    while k >= 0 and line[k] == "\\":
        count += 1
        k -= 1
    return count % 2 == 1
