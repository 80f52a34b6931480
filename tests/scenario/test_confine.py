"""`tuisim serve`'s confinement (tuisim.data.confine): what a served app may open, and
that scenario and data loading go through it, with messages that name the key and the file
but never quote a refused file."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from tuisim.data import confine
from tuisim.data.confine import Confinement, Refused
from tuisim.scenario import ScenarioError, bundled_dir, bundled_scenarios, load_scenario

SECRET = "s3cr3t-marker"  # in every file outside the served folder: no message may quote it

SCENARIO = """title = "course"
steps = 5

[data]
name = "{kind}"
path = "{path}"

[[variant]]
label = "a"
"""


def csv_text(n: int = 100) -> str:
    return "x,y,label\n" + "".join(f"{i},{i * 0.5},{i % 2}\n" for i in range(n))


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """tmp/course (served) beside tmp/outside, with every kind of path a student may try."""
    root = tmp_path / "course"
    outside = tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "data.csv").write_text(csv_text())
    (root / "sub" / "inner.csv").write_text(csv_text())
    (root / "link_in.csv").symlink_to(root / "data.csv")
    (outside / "secret.csv").write_text(f"{SECRET},{SECRET}\n{SECRET},1\n")
    (root / "link_out.csv").symlink_to(outside / "secret.csv")
    (root / "dir_out").symlink_to(outside)
    (root / ".hidden").mkdir()
    (root / ".hidden" / "data.csv").write_text(csv_text())
    (root / ".env").write_text(f"TOKEN={SECRET}\n")
    os.mkfifo(root / "pipe.csv")
    return root


@pytest.fixture
def served(course: Path, monkeypatch) -> Confinement:
    """This test's process confined to the course folder, as `tuisim serve` confines its app."""
    for key, value in confine.environment(course, [bundled_dir()]).items():
        monkeypatch.setenv(key, value)
    c = confine.active()
    assert c is not None and c.root == os.path.realpath(course)
    return c


def refused(c: Confinement, path, *, write: bool = False) -> str:
    with pytest.raises(Refused) as e:
        (c.check_write if write else c.check_read)(path)
    assert SECRET not in str(e.value)
    return str(e.value)


# -- the policy ----------------------------------------------------------------------------

def test_files_and_folders_inside_are_allowed(course, served):
    assert served.check_read(course / "data.csv") == Path(os.path.realpath(course / "data.csv"))
    assert served.check_read(course / "sub" / "inner.csv").name == "inner.csv"
    assert served.check_read(course / "sub") == Path(os.path.realpath(course / "sub"))
    assert served.check_read(course / "sub" / ".." / "data.csv").name == "data.csv"  # .. that stays inside
    assert served.check_read(course / "missing.csv").name == "missing.csv"  # the reader says it is missing


def test_a_symlink_inside_pointing_inside_is_allowed_as_its_target(course, served):
    assert served.check_read(course / "link_in.csv") == Path(os.path.realpath(course / "data.csv"))


def test_a_symlink_pointing_out_is_refused(course, served):
    msg = refused(served, course / "link_out.csv")
    assert "is outside the served folder" in msg and os.path.realpath(course) in msg
    refused(served, course / "dir_out" / "secret.csv")  # through a symlinked folder


def test_dotdot_and_absolute_paths_out_are_refused(course, served, monkeypatch):
    monkeypatch.chdir(course)
    assert "outside the served folder" in refused(served, "../outside/secret.csv")
    assert "outside the served folder" in refused(served, "sub/../../outside/secret.csv")
    assert "outside the served folder" in refused(served, course.parent / "outside" / "secret.csv")
    assert refused(served, "/etc/passwd") == (f"'/etc/passwd' is outside the served folder {served.root}; tuisim "
                                              f"serve only reads files inside it")


def test_outside_reads_the_same_whether_it_exists_or_not(course, served):
    there = refused(served, course.parent / "outside" / "secret.csv")
    missing = refused(served, course.parent / "outside" / "nothing.csv")
    assert there.replace("secret", "nothing") == missing


def test_proc_and_devices_are_refused(course, served):
    assert "outside the served folder" in refused(served, "/proc/self/environ")
    assert "outside the served folder" in refused(served, "/dev/zero")
    # even when the served folder holds them
    everything = Confinement("/")
    refused(everything, "/proc/self/environ")
    refused(everything, "/dev/zero")
    refused(everything, "/sys/kernel")
    (course / "zero").symlink_to("/dev/zero")
    refused(served, course / "zero")


def test_a_fifo_is_refused_without_being_opened(course, served):
    outcome = []

    def check():
        try:
            served.check_read(course / "pipe.csv")
        except Refused as e:
            outcome.append(str(e))

    t = threading.Thread(target=check, daemon=True)
    t.start()
    t.join(10)  # opening a FIFO with no writer would block here
    assert not t.is_alive(), "check_read opened the FIFO"
    assert outcome and "a pipe" in outcome[0]


def test_hidden_files_and_folders_are_refused(course, served):
    assert "hidden" in refused(served, course / ".env")
    assert "hidden" in refused(served, course / ".hidden" / "data.csv")
    (course / "visible.csv").symlink_to(course / ".hidden" / "data.csv")
    assert "hidden" in refused(served, course / "visible.csv")


def test_a_nul_byte_is_not_a_path(served):
    assert "not a valid path" in refused(served, "data\x00.csv")


def test_the_bundled_lessons_are_read_only(course, served):
    lesson = bundled_scenarios()[0]
    assert served.check_read(lesson).name == lesson.name
    assert "only writes inside it" in refused(served, bundled_dir() / "new.toml", write=True)


def test_writes_stay_inside(course, served):
    assert served.check_write(course / "exports" / "run1").name == "run1"
    assert "only writes inside it" in refused(served, course.parent / "outside" / "x.json", write=True)
    refused(served, course / "link_out.csv", write=True)
    refused(served, course / "pipe.csv", write=True)
    refused(served, course / ".hidden" / "x", write=True)


def test_nothing_is_confined_outside_serve_mode(course, monkeypatch):
    monkeypatch.delenv(confine.ROOT_ENV, raising=False)
    assert confine.active() is None
    assert confine.check_read("/etc/passwd") == Path("/etc/passwd")
    assert confine.check_write(course.parent / "outside" / "x") == course.parent / "outside" / "x"


def test_activate_puts_it_in_the_environment_for_child_processes(course, monkeypatch):
    for key in (confine.ROOT_ENV, confine.READ_ONLY_ENV):
        monkeypatch.setenv(key, "")  # restored after the test
    c = confine.activate(course / "sub" / "..", [bundled_dir()])
    assert os.environ[confine.ROOT_ENV] == os.path.realpath(course) == c.root
    assert c.read_only == (os.path.realpath(bundled_dir()),)


# -- loading under the confinement ---------------------------------------------------------

def scenario(course: Path, path: str, kind: str = "csv", name: str = "lesson.toml") -> Path:
    f = course / name
    f.write_text(SCENARIO.format(kind=kind, path=path))
    return f


def problems(target) -> str:
    with pytest.raises(ScenarioError) as e:
        load_scenario(target)
    text = str(e.value)
    assert SECRET not in text
    return text


@pytest.mark.parametrize("path", ["../outside/secret.csv", "link_out.csv", "dir_out/secret.csv", "{outside}",
                                  "/proc/self/environ", "/etc/shadow"])
def test_a_data_path_outside_is_refused_naming_the_key(course, served, path):
    path = path.format(outside=course.parent / "outside" / "secret.csv")
    text = problems(scenario(course, path))
    assert f"lesson.toml:6: data.path: data file '" in text
    assert f"is outside the served folder {served.root}; tuisim serve only reads files inside it" in text


def test_npz_fifo_and_hidden_data_paths_are_refused(course, served):
    np.savez(course.parent / "outside" / "d.npz", X=np.zeros((8, 2)), y=np.arange(8) % 2)
    assert "outside the served folder" in problems(scenario(course, "../outside/d.npz", kind="npz"))
    assert "a device, a pipe or a socket" in problems(scenario(course, "pipe.csv"))
    assert "hidden" in problems(scenario(course, ".hidden/data.csv"))


def test_data_inside_loads(course, served):
    for path, real in (("data.csv", "data.csv"), ("sub/inner.csv", "sub/inner.csv"), ("link_in.csv", "data.csv")):
        assert load_scenario(scenario(course, path)).data["path"] == os.path.realpath(course / real)


def test_a_scenario_outside_is_refused_before_it_is_read(course, served):
    outside = course.parent / "outside"
    (outside / "lesson.toml").write_text(f"{SECRET} = 1\n")
    for target in (outside / "lesson.toml", str(outside / "lesson.toml"), outside / "missing.toml",
                   "/etc/passwd", course / "sub" / ".." / ".." / "outside" / "lesson.toml"):
        text = problems(target)
        assert text == f"{target}: is outside the served folder {served.root}; tuisim serve only reads files inside it"
    assert "hidden" in problems(course / ".env")


def test_bundled_lessons_and_scenarios_inside_load(course, served, monkeypatch):
    monkeypatch.chdir(course.parent)  # a bare name is a bundled lesson wherever the app runs
    assert load_scenario("vanishing_sigmoid").name == "vanishing_sigmoid"
    assert load_scenario(bundled_dir() / "vanishing_sigmoid.toml").name == "vanishing_sigmoid"
    assert load_scenario(scenario(course, "data.csv")).title == "course"


def test_outside_serve_mode_data_anywhere_loads(course, monkeypatch):
    monkeypatch.delenv(confine.ROOT_ENV, raising=False)
    (course.parent / "outside" / "ok.csv").write_text(csv_text())
    assert load_scenario(scenario(course, "../outside/ok.csv")).data["path"].endswith("ok.csv")
