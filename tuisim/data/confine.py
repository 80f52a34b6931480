"""`tuisim serve`'s file confinement: which paths the served app may read and write.

A classroom's students drive a served app from their browsers, so every file it opens on
a user's behalf (a scenario from the open dialog, a csv or npz a scenario names, an
export) must be inside the folder the teacher served, or in the bundled lessons (read
only). The serve process sets it up with `activate(root, read_only)`, which puts it in the
environment, so the app's worker processes inherit it; `active()` reads it back. Outside
`tuisim serve` nothing is set and `check_read` / `check_write` return their path unchanged:
on your own machine every file is yours to open.

A path is allowed when its real path (symlinks followed, `..` and `.` gone, relative to
the current directory, exactly as `open` would find it) is inside an allowed root, no
folder or file below the root is hidden (a name starting with '.': .ssh, .env, .git) and it
is not a device, a pipe or a socket (a FIFO would block the reader). Callers check the very
path they then open (after `expanduser`). A refused path is refused before anything is read,
whether it exists or not, so the message says nothing about what is outside.

No Textual here: the data, scenario and app packages all check through this module.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

ROOT_ENV = "TUISIM_SERVE_ROOT"  # the served folder: read and write inside it
READ_ONLY_ENV = "TUISIM_SERVE_READ_ONLY"  # more folders to read (the bundled lessons), os.pathsep-separated
SYSTEM = ("/proc", "/sys", "/dev")  # never read, even when a root contains them


class Refused(ValueError):
    """A path `tuisim serve` does not open. str(): "'<path>' <reason>"; callers that name
    the file themselves use `reason`, which completes a sentence about the path."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{_shown(self.path)} {reason}")


@dataclass(frozen=True)
class Confinement:
    root: str  # real path of the served folder
    read_only: tuple[str, ...] = ()  # real paths of folders that may be read too

    @property
    def roots(self) -> tuple[str, ...]:
        return (self.root,) + self.read_only

    def check_read(self, path: str | os.PathLike) -> Path:
        """The real path of `path` if the served app may read it, else raise Refused. A path
        that does not exist inside a root passes (the reader then says it is missing), and so
        does a folder (the reader says it is not a file)."""
        real = self._real(path)
        if self._root_of(real) is None:
            raise Refused(path, f"is outside the served folder {self.root}; tuisim serve only reads files inside "
                                f"it")
        self._allowed_below_root(path, real)
        try:
            mode = os.stat(real).st_mode  # stat, never open: opening a FIFO blocks
        except OSError:  # missing or not reachable: the reader reports it
            return Path(real)
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise Refused(path, "is not a regular file but a device, a pipe or a socket; tuisim serve only reads "
                                "files")
        return Path(real)

    def check_write(self, path: str | os.PathLike) -> Path:
        """The real path of `path` if the served app may write it (create it, or a folder
        there), else raise Refused. Only the served folder is writable."""
        real = self._real(path)
        if self._root_of(real) != self.root:
            raise Refused(path, f"is outside the served folder {self.root}; tuisim serve only writes inside it")
        self._allowed_below_root(path, real)
        try:
            mode = os.stat(real).st_mode
        except OSError:
            return Path(real)
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise Refused(path, "is not a regular file but a device, a pipe or a socket; tuisim serve only writes "
                                "files")
        return Path(real)

    def allows(self, path: str | os.PathLike) -> bool:
        """Whether check_read would pass (for listings: what the open dialog shows)."""
        try:
            self.check_read(path)
        except Refused:
            return False
        return True

    # -- the parts -------------------------------------------------------------------------
    @staticmethod
    def _real(path: str | os.PathLike) -> str:
        try:
            return os.path.realpath(os.fspath(path))
        except (ValueError, OSError):  # a NUL byte, a name the system cannot take
            raise Refused(path, "is not a valid path") from None

    def _root_of(self, real: str) -> str | None:
        if any(_under(real, s) for s in SYSTEM):
            return None
        return next((r for r in self.roots if _under(real, r)), None)

    def _allowed_below_root(self, path, real: str) -> None:
        root = self._root_of(real)
        below = os.path.relpath(real, root) if root is not None else ""
        if any(part.startswith(".") and part not in (".", "..") for part in below.split(os.sep)):
            raise Refused(path, "is hidden (a file or folder whose name starts with '.'); tuisim serve does not "
                                "open hidden files")


def _under(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _shown(path: str) -> str:
    """repr(path), cut when long."""
    return repr(path) if len(path) <= 160 else f"{path[:120]!r}... ({len(path):,} characters)".replace("'...", "...'")


def environment(root: str | os.PathLike, read_only=()) -> dict[str, str]:
    """The environment variables that confine this process and its children to `root`
    (read and write) and `read_only` (read)."""
    return {ROOT_ENV: os.path.realpath(os.fspath(root)),
            READ_ONLY_ENV: os.pathsep.join(os.path.realpath(os.fspath(p)) for p in read_only)}


def activate(root: str | os.PathLike, read_only=()) -> Confinement:
    """Confine this process, and the processes it starts, to `root` (and `read_only`)."""
    os.environ.update(environment(root, read_only))
    confinement = active()
    assert confinement is not None
    return confinement


def active() -> Confinement | None:
    """The confinement of `tuisim serve`, or None (not serving: no limits)."""
    root = os.environ.get(ROOT_ENV)
    if not root:
        return None
    extra = tuple(os.path.realpath(p) for p in os.environ.get(READ_ONLY_ENV, "").split(os.pathsep) if p)
    return Confinement(os.path.realpath(root), extra)


def check_read(path: str | os.PathLike) -> Path:
    """`path` unchanged when not serving; else its real path, or raise Refused."""
    c = active()
    return Path(path) if c is None else c.check_read(path)


def check_write(path: str | os.PathLike) -> Path:
    """`path` unchanged when not serving; else its real path, or raise Refused."""
    c = active()
    return Path(path) if c is None else c.check_write(path)
