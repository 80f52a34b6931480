"""Every rule of the scenario format has a bad file in tests/data/bad_scenarios/: its
`# expect: <fragment>` comments are words the error must contain, and a `# <-` comment
marks each line the error must point at (file:line:)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tuisim.scenario import ScenarioError, load_scenario

BAD = Path(__file__).parents[1] / "data" / "bad_scenarios"
FILES = sorted(BAD.glob("*.toml"))


def expectations(path: Path) -> tuple[list[str], list[int]]:
    fragments, lines = [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        s = line.strip()
        if s.startswith("# expect:"):
            fragments.append(s.removeprefix("# expect:").strip())
        elif line.rstrip().endswith("# <-"):
            lines.append(number)
    return fragments, lines


@pytest.fixture(autouse=True)
def _memory(monkeypatch):
    """The memory a scenario may use, the same on every machine: the memory_*.toml files'
    messages name it and the largest value that fits."""
    monkeypatch.setenv("TUISIM_MEMORY", "8G")


def test_there_is_a_bad_file_per_rule():
    assert len(FILES) >= 30


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bad_scenario(path: Path):
    fragments, lines = expectations(path)
    assert fragments, f"{path.name} has no '# expect:' line"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in the error:\n{text}"
    for n in lines:
        assert f"{path.name}:{n}: " in text, f"no problem reported at line {n}:\n{text}"
    # one line per problem, each naming the file (or the --set override)
    assert len(text.splitlines()) == len(info.value.problems)
    for problem in info.value.problems:
        assert problem.file and problem.message
        assert "Traceback" not in problem.message


def test_multiple_problems_are_all_reported():
    with pytest.raises(ScenarioError) as info:
        load_scenario(BAD / "multiple_problems.toml")
    assert len(info.value.problems) == 8


def test_problem_format():
    with pytest.raises(ScenarioError) as info:
        load_scenario(BAD / "misspelt_activation.toml")
    (p,) = info.value.problems
    assert (Path(p.file).name, p.line, p.key) == ("misspelt_activation.toml", 9, "model.activation")
    assert str(p) == (f"{p.file}:9: model.activation: unknown activation 'sigmoud' (did you mean 'sigmoid'?); "
                      "known: identity, sigmoid, tanh, relu, leaky_relu, elu, selu, gelu, silu, softplus, maxout")


def test_error_names_the_path_as_given(monkeypatch):
    monkeypatch.chdir(BAD)
    with pytest.raises(ScenarioError) as info:
        load_scenario("negative_lr.toml")
    assert str(info.value).startswith("negative_lr.toml:11: train.lr: ")


def test_unknown_scenario_name():
    with pytest.raises(ScenarioError) as info:
        load_scenario("no_such_scenario_anywhere")
    assert "no_such_scenario_anywhere: no such scenario file or bundled scenario" in str(info.value)


def test_not_utf8(tmp_path):
    p = tmp_path / "latin.toml"
    p.write_bytes('title = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError, match="is not UTF-8 text"):
        load_scenario(p)


def test_importing_the_scenario_package_stays_light():
    """Validation must not pay for Numba or Textual (the CLI checks a file in milliseconds)."""
    code = "import sys, tuisim.scenario, tuisim.data; print(sorted(m for m in ('numba', 'textual', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
