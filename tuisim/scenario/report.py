"""Collects problems by key path while a scenario is validated, and turns them into
`Problem`s with the file, line and dotted key a user can find.

A key path is a tuple: ("model", "depth"), ("variant", 1, "model", "init"),
("model", "width", 2) for a list element, () for the file as a whole.
"""

from __future__ import annotations

from .errors import Problem, ScenarioError
from .locate import find_line, key_lines


class Report:
    def __init__(self, file: str | None, text: str = "", origins: dict[tuple, str] | None = None):
        self.file = file
        self.lines = key_lines(text) if text else {}
        self.origins = origins if origins is not None else {}  # key path -> "--set key=value"
        self.labels: dict[int, str] = {}  # variant index -> label, for messages
        self._items: list[tuple[tuple, str, str | None, int | None]] = []

    def add(self, path: tuple, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self._items.append((tuple(path), message, file, line))

    def __len__(self) -> int:
        return len(self._items)

    def line(self, path: tuple) -> int | None:
        return find_line(self.lines, path)

    def key(self, path: tuple) -> str | None:
        """('variant', 1, 'model', 'init') -> 'variant[1] ("relu, He").model.init'"""
        out = ""
        for i, p in enumerate(path):
            if isinstance(p, int):
                out += f"[{p}]"
                if i == 1 and path[0] == "variant" and p in self.labels:
                    out += f" ({_quote(self.labels[p])})"
            else:
                out += ("." if out else "") + p
        return out or None

    def problems(self) -> list[Problem]:
        out, seen = [], set()
        for path, message, file, line in self._items:
            if file is None:
                origin = next((self.origins[path[:n]] for n in range(len(path), 0, -1)
                               if path[:n] in self.origins), None)
                if origin is not None:
                    file, line = origin, None
                else:
                    file = self.file
                    line = line if line is not None else self.line(path)
            p = Problem(file, line, self.key(path), message)
            if p not in seen:
                seen.add(p)
                out.append(p)
        # in file order; problems without a line (missing keys, --set) after the rest
        order = {id(p): i for i, p in enumerate(out)}
        return sorted(out, key=lambda p: (p.line is None, p.line or 0, order[id(p)]))

    def raise_if_any(self) -> None:
        if self._items:
            raise ScenarioError(self.problems())


def _quote(label: str) -> str:
    return '"' + label.replace("\\", "\\\\").replace('"', '\\"') + '"'
