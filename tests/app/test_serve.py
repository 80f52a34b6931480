"""`tuisim serve`: what it serves and passes to the app process, and the served app confined
to that folder (the open dialog, scenario and csv paths, exports). No browser: textual-serve's
Server is replaced by a recorder, and the app runs under Pilot with the confinement the app
process sets up."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest
from textual.widgets import DirectoryTree

from tuisim.app import serve as serve_module
from tuisim.app.factory import make_app
from tuisim.app.screens.browser import BrowserScreen, ServedFolder
from tuisim.app.screens.dialogs import ErrorScreen
from tuisim.app.screens.run import RunScreen
from tuisim.app.serve import ServeError, app_command, serve
from tuisim.data import confine
from tuisim.scenario import ScenarioError, bundled_dir

from .conftest import SCENARIOS, paused_at, until

SECRET = "s3cr3t-marker"  # in the files outside the served folder: nothing on screen may show it


def test_serve_without_textual_serve_explains(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert serve("vanishing_sigmoid", 8123) == 2
    assert "pip install 'tuisim[serve]'" in capsys.readouterr().err


def course_text(data: str) -> str:
    """tiny_two on a csv file."""
    text = (SCENARIOS / "tiny_two.toml").read_text()
    return text.replace('name = "spirals"\nsamples = 200\nclasses = 3', f'name = "csv"\npath = "{data}"')


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """tmp/course, the folder a teacher serves, beside tmp/outside."""
    root, outside = tmp_path / "course", tmp_path / "outside"
    (root / "lessons").mkdir(parents=True)
    outside.mkdir()
    rows = "".join(f"{i % 7 * 0.3},{i % 5 * 0.2},{i % 3}\n" for i in range(200))
    (root / "points.csv").write_text("a,b,label\n" + rows)
    (outside / "secret.csv").write_text(f"{SECRET},{SECRET},{SECRET}\n" * 10)
    (outside / "lesson.toml").write_text(f"{SECRET} = 1\n")
    (root / "lessons" / "mine.toml").write_text(course_text("../points.csv"))
    (root / "lessons" / "leaks.toml").write_text(course_text("../../outside/secret.csv"))
    (root / "lessons" / "notes.txt").write_text("not a scenario")
    (root / ".private.toml").write_text(f"{SECRET} = 1\n")
    (root / "elsewhere").symlink_to(outside)
    return root


class Recorder:
    """textual_serve.server.Server, without a server."""

    calls: list = []

    def __init__(self, command, host, port, title):
        Recorder.calls.append(command)

    def serve(self):
        pass


@pytest.fixture
def recorder(monkeypatch):
    Recorder.calls = []
    server = types.ModuleType("textual_serve.server")
    server.Server = Recorder
    monkeypatch.setitem(sys.modules, "textual_serve", types.ModuleType("textual_serve"))
    monkeypatch.setitem(sys.modules, "textual_serve.server", server)
    return Recorder.calls


def command_of(calls) -> list[str]:
    import shlex

    (command,) = calls
    return shlex.split(command)


def test_serve_passes_the_served_folder_to_the_app_command(course, recorder, monkeypatch, capsys):
    root = os.path.realpath(course)
    monkeypatch.chdir(course / "lessons")
    assert serve(None) == 0  # here
    assert command_of(recorder)[1:] == ["-m", "tuisim.app.serve", "--root", os.path.realpath(course / "lessons")]
    assert f"the app opens files only inside {os.path.realpath(course / 'lessons')}" in capsys.readouterr().err
    recorder.clear()
    assert serve(str(course)) == 0  # a folder
    assert command_of(recorder)[-2:] == ["--root", root]
    recorder.clear()
    monkeypatch.chdir(course)
    assert serve("vanishing_sigmoid") == 0  # a bundled lesson: here
    assert command_of(recorder)[-4:] == ["--root", root, "--", "vanishing_sigmoid"]
    recorder.clear()
    assert serve("lessons/mine.toml") == 0  # a scenario file here: here
    assert command_of(recorder)[-4:] == ["--root", root, "--", os.path.realpath(course / "lessons" / "mine.toml")]
    recorder.clear()
    (course / "lessons" / "alone.toml").write_text((SCENARIOS / "tiny_two.toml").read_text())
    monkeypatch.chdir(course.parent / "outside")
    assert serve(str(course / "lessons" / "alone.toml")) == 0  # one elsewhere: its own folder...
    assert command_of(recorder)[-4:-2] == ["--root", os.path.realpath(course / "lessons")]
    recorder.clear()
    assert serve(str(course / "lessons" / "mine.toml"), root=str(course)) == 0  # ...or --root
    assert command_of(recorder)[-4:-2] == ["--root", root]


def test_serve_refuses_what_it_cannot_serve_before_serving(course, recorder, monkeypatch, capsys):
    monkeypatch.chdir(course)
    with pytest.raises(ServeError, match="is outside the served folder .*serve a folder that holds it"):
        serve("lessons/mine.toml", root=str(course / "elsewhere"))
    assert serve("lessons/leaks.toml") == 2  # its data outside the folder: said at once
    err = capsys.readouterr().err
    assert "leaks.toml:11: data.path: data file" in err and "outside the served folder" in err
    assert err.rstrip().endswith("--root FOLDER serves a folder that holds the scenario and its data)")
    assert SECRET not in err
    assert serve(str(course / "lessons" / "mine.toml"), root=str(course / "lessons")) == 2  # ../points.csv
    assert f"is outside the served folder {os.path.realpath(course / 'lessons')}" in capsys.readouterr().err
    with pytest.raises(ServeError, match="--root"):
        serve(str(course), root=str(course))
    with pytest.raises(ScenarioError, match="no such scenario"):
        serve("no_such_lesson_xyz")
    assert recorder == []
    assert confine.active() is None  # the check confined this process only for a while


def test_the_app_process_confines_itself_and_works_in_the_served_folder(course, monkeypatch):
    monkeypatch.setenv(confine.ROOT_ENV, "")  # restored after the test
    monkeypatch.setenv(confine.READ_ONLY_ENV, "")
    monkeypatch.chdir(course.parent)
    seen = {}

    class App:
        def __init__(self, target):
            seen["target"] = target

        def run(self):
            seen["confinement"] = confine.active()
            seen["cwd"] = os.getcwd()

    import tuisim.app.factory

    monkeypatch.setattr(tuisim.app.factory, "make_app", lambda target: App(target))  # main's, imported when it runs
    command = app_command(course, "lessons/mine.toml")
    assert serve_module.main(command[3:]) == 0
    c = seen["confinement"]
    assert c is not None and c.root == os.path.realpath(course)
    assert c.read_only == (os.path.realpath(bundled_dir()),)
    assert seen["cwd"] == os.path.realpath(course) and seen["target"] == "lessons/mine.toml"


# -- the served app ------------------------------------------------------------------------

@pytest.fixture
def served(course, monkeypatch):
    """This process set up as the app process of `tuisim serve course` is."""
    for key, value in confine.environment(course, [bundled_dir()]).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(course)
    return course


def tree_labels(tree: DirectoryTree) -> list[str]:
    out = []

    def walk(node, depth):
        for child in node.children:
            out.append("  " * depth + str(child.label))
            walk(child, depth + 1)

    walk(tree.root, 0)
    return out


def error_text(app) -> str:
    assert isinstance(app.screen, ErrorScreen), type(app.screen).__name__
    text = app.screen.title_text + "\n" + app.screen.text
    assert SECRET not in text
    return text


async def test_the_open_dialog_lists_the_served_folder_only(served):
    app = make_app(None, library=SCENARIOS, deterministic=True, pause_at=5)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("o")
        tree = app.screen.query_one(ServedFolder)
        assert tree.has_focus and str(tree.root.data.path) == os.path.realpath(served)
        await until(pilot, lambda: tree_labels(tree) == ["lessons"], what="the served folder listed")
        tree.root.children[0].expand()
        await until(pilot, lambda: len(tree_labels(tree)) > 1, what="lessons/ listed")
        # no hidden file, no symlink out of the folder, nothing but scenarios and folders
        assert tree_labels(tree) == ["lessons", "  leaks.toml", "  mine.toml"]
        assert tree.root.parent is None  # nothing above the served folder to go to
        tree.move_cursor(tree.root.children[0].children[1])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen), what="mine.toml to open")
        assert app.screen.scenario.name == "mine"


async def test_the_served_app_refuses_a_scenario_outside(served):
    app = make_app(None, library=SCENARIOS, deterministic=True, pause_at=5)
    async with app.run_test(size=(100, 30)) as pilot:
        for path in ("../outside/lesson.toml", "elsewhere/lesson.toml", "/etc/passwd", ".private.toml"):
            await pilot.press("o", "tab")
            app.screen.query_one("#path").value = path
            await pilot.press("enter")
            text = error_text(app)
            assert f"Cannot open {path}" in text
            if path == ".private.toml":
                assert "hidden" in text
            else:
                assert f"{path}: is outside the served folder {os.path.realpath(served)}; tuisim serve only reads " \
                       f"files inside it" in text
            await pilot.press("escape")
            assert isinstance(app.screen, BrowserScreen)


async def test_the_served_app_refuses_a_csv_outside(served):
    app = make_app(None, library=SCENARIOS, deterministic=True, pause_at=5)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("o", "tab")
        app.screen.query_one("#path").value = "lessons/leaks.toml"
        await pilot.press("enter")
        text = error_text(app)
        assert (f"leaks.toml:11: data.path: data file '{os.path.realpath(served.parent / 'outside' / 'secret.csv')}' "
                f"is outside the served folder {os.path.realpath(served)}; tuisim serve only reads files inside it"
                in text)
        # the same file through the settings form's overrides
        await pilot.press("escape")
        await pilot.press("o", "tab")
        app.screen.query_one("#path").value = "lessons/mine.toml"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen), what="mine.toml to open")
        with pytest.raises(ScenarioError, match="outside the served folder") as e:
            app.screen._check_override("data.path=\"/etc/passwd\"")
        assert SECRET not in str(e.value)


async def test_the_served_app_writes_inside_the_folder_only(served):
    outside = served.parent / "outside"
    app = make_app(str(served / "lessons" / "mine.toml"), seed=0, deterministic=True, pause_at=10,
                   export_dir=outside, screenshots=served / "shots")
    async with app.run_test(size=(100, 30)) as pilot:
        await paused_at(pilot, 10)
        await pilot.press("x")
        await pilot.pause(0.3)
        assert sorted(p.name for p in outside.iterdir()) == ["lesson.toml", "secret.csv"]  # nothing written
        notes = [n.message for n in app._notifications]
        assert any(m.startswith(f"not written: '{outside}' is outside the served folder") for m in notes), notes
        await pilot.press("s")
        assert [p.name for p in (served / "shots").iterdir()] == ["tuisim-mine-step10.svg"]
