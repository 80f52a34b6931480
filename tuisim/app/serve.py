"""`tuisim serve`: the same app in a browser on localhost, through textual-serve.

A classroom's students drive the served app, so it opens files only inside the served
folder (and the bundled lessons, read only): `serve` works out that folder and passes it
to every app process textual-serve starts (`--root`); `main`, that process, confines itself
and its worker processes to it (tuisim.data.confine) before building the app."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from contextlib import contextmanager
from pathlib import Path

from tuisim.i18n import _


class ServeError(ValueError):
    """What `tuisim serve` was asked cannot be served; the CLI prints it and exits 2."""


def served(target: str | None, root: str | None = None) -> tuple[Path, str | None]:
    """(the served folder, the scenario the app opens on or None) of `tuisim serve [target]
    [--root root]`: a folder serves that folder; anything else serves the current directory,
    except a scenario file outside it, which serves its own folder. `root` overrides the
    folder (a scenario must be inside it). Raises ServeError or ScenarioError."""
    from tuisim.data.confine import Confinement, Refused
    from tuisim.scenario import bundled_dir, find_scenario

    scenario = None
    given = Path(target).expanduser() if target else None
    if given is not None and given.is_dir():
        if root is not None:
            raise ServeError(_("tuisim serve {target} serves that folder; --root is for a scenario file "
                               "(give one or the other)").format(target=target))
        folder = given
    elif given is not None:
        path = find_scenario(target)  # ScenarioError: no such file or bundled lesson
        bundled = not given.is_file()
        scenario = target if bundled else str(path.resolve())
        if root is not None:
            folder = Path(root).expanduser()
        elif bundled or _under(path.resolve(), Path.cwd().resolve()):
            folder = Path.cwd()
        else:
            folder = path.resolve().parent
    else:
        folder = Path(root).expanduser() if root is not None else Path.cwd()
    if not folder.is_dir():
        raise ServeError(_("--root {root}: no such folder").format(root=root))
    folder = Path(os.path.realpath(folder))
    if scenario is not None and Path(scenario).is_absolute():
        try:
            Confinement(str(folder), (os.path.realpath(bundled_dir()),)).check_read(scenario)
        except Refused as e:
            raise ServeError(_("{target} {reason}: serve a folder that holds it (--root FOLDER)").format(
                target=target, reason=e.reason)) from None
    return folder, scenario


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def app_command(root: str | Path, scenario: str | None = None, lang: str | None = None) -> list[str]:
    """The command textual-serve runs for each browser tab: the app directly (under
    textual-serve stdout is not a terminal, and the CLI would then run the scenario
    headless), confined to `root`, in `lang` (default: the served app's locale)."""
    command = [sys.executable, "-m", "tuisim.app.serve", "--root", str(root)]
    if lang:
        command += ["--lang", lang]
    if scenario:
        command += ["--", scenario]
    return command


def serve(scenario: str | None = None, port: int = 8000, root: str | None = None) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        print(_("tuisim serve needs textual-serve, which is not installed:") + "\n\n"
              "    pip install 'tuisim[serve]'\n", file=sys.stderr)
        return 2
    folder, scenario = served(scenario, root)
    if scenario is not None:
        from tuisim.scenario import ScenarioError, load_scenario

        with confined(folder):
            try:
                load_scenario(scenario)  # its problems (a data file outside the folder too): exit 2 before serving
            except ScenarioError as e:
                print(e, file=sys.stderr)
                if any("is outside the served folder" in p.message for p in e.problems):
                    print(_("(tuisim serve FILE --root FOLDER serves a folder that holds the scenario and its data)"),
                          file=sys.stderr)
                return e.exit_status
    print(_("serving tuisim on http://localhost:{port} (Ctrl-C stops)").format(port=port) + "\n"
          + _("the app opens files only inside {folder} (and the bundled lessons): its students can read every "
              "scenario and data file in it, and its exports are written there").format(folder=folder), file=sys.stderr)
    from tuisim.i18n import detect, language

    # every tab in the language `tuisim serve` runs in (its --lang, else the locale the app inherits)
    lang = language() if language() != detect() else None
    Server(shlex.join(app_command(folder, scenario, lang)), host="localhost", port=port, title="tuisim").serve()
    return 0


@contextmanager
def confined(root: str | Path):
    """This process confined to `root` and the bundled lessons for a while."""
    from tuisim.data import confine
    from tuisim.scenario import bundled_dir

    saved = {k: os.environ.get(k) for k in (confine.ROOT_ENV, confine.READ_ONLY_ENV)}
    confine.activate(root, [bundled_dir()])
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def main(argv: list[str] | None = None) -> int:
    """The process textual-serve starts for each browser tab: confined to --root (and its
    worker processes, which inherit the environment), working in it, then the app."""
    from tuisim.data import confine
    from tuisim.run.malloc import steady_malloc
    from tuisim.scenario import bundled_dir

    from .factory import make_app

    steady_malloc()  # flat memory through a whole class (glibc)

    p = argparse.ArgumentParser(prog="python -m tuisim.app.serve", description="the app of `tuisim serve`")
    p.add_argument("--root", required=True, help="the served folder: no file outside it is opened")
    p.add_argument("--lang", choices=("en", "zh"), help="the interface's language (default: the locale's)")
    p.add_argument("scenario", nargs="?", help="the scenario the app opens on (default: the lesson browser)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    confine.activate(args.root, [bundled_dir()])
    os.chdir(args.root)  # relative paths typed in the open dialog, and exports, are in the served folder
    from tuisim.i18n import set_language

    set_language(args.lang)  # None: the locale's
    make_app(args.scenario).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
