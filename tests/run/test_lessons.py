"""Every bundled scenario loads, runs headless in full and meets its expectations:
at its own seed in the default suite, at seeds 0 to 4 with `pytest -m slow`."""

import pytest

from tuisim.run.session import ScenarioRun
from tuisim.scenario import bundled_scenarios, load_scenario

SCENARIOS = [p for p in bundled_scenarios()]
IDS = [p.stem for p in SCENARIOS]


def _run(path, seed=None):
    sc = load_scenario(path)
    assert sc.expects, f"{path.stem} states no claim as [[expect]]"
    session = ScenarioRun(sc, seed=seed)
    session.run()
    failed = [r.line() for r in session.check() if not r.passed]
    assert not failed, f"{path.stem} (seed {session.seed}):\n" + "\n".join(failed)


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_lesson_holds_at_its_seed(path):
    _run(path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_lesson_holds_for_seeds_0_to_4(path, seed):
    _run(path, seed)


def test_there_is_a_lesson_for_every_claim():
    import re
    from pathlib import Path

    lessons_md = Path(__file__).resolve().parents[3] / "shared" / "LESSONS.md"
    if not lessons_md.exists():
        pytest.skip("shared/LESSONS.md is not beside the checkout")
    claims = set(re.findall(r"^- (L[1-8]\.\d+)", lessons_md.read_text(encoding="utf-8"), re.M)) - {"L5.3"}
    covered = {lesson for p in SCENARIOS for lesson in load_scenario(p).lessons}
    assert not claims - covered, f"lessons without a scenario: {sorted(claims - covered, key=lambda s: [int(x) for x in s[1:].split('.')])}"


def test_readme_lists_every_lesson():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [p.stem for p in SCENARIOS if not p.stem.startswith("sweep_") and f"`{p.stem}`" not in readme]
    assert not missing, f"README.md's lesson table lacks {missing}"
