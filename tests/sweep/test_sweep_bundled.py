"""Every bundled sweep's claims about its map hold: on its quick grid in the default
suite, on the full grid with `pytest -m slow`."""

from __future__ import annotations

import pytest

from tuisim.scenario import bundled_scenarios, load_scenario
from tuisim.sweep import SweepRun, load_sweep

SWEEPS = [p for p in bundled_scenarios() if load_scenario(p).sweep is not None]
IDS = [p.stem for p in SWEEPS]


def _check(path, quick: bool) -> None:
    sweep = SweepRun(load_sweep(path, quick=quick), workers=2)
    sweep.run_all()
    assert sweep.results.failed == 0
    checks = sweep.check()
    assert checks, f"{path.stem} states no [[sweep.expect]]"
    bad = [c.line() for c in checks if not c.passed or c.skipped]
    assert not bad, f"{path.stem} ({'quick' if quick else 'full'} grid):\n" + "\n".join(bad)


def test_there_are_bundled_sweeps():
    assert {"sweep_tanh_phase", "sweep_lr_batchnorm", "sweep_depth_degradation"} <= set(IDS)


@pytest.mark.parametrize("path", SWEEPS, ids=IDS)
def test_sweep_claims_hold_on_the_quick_grid(path):
    _check(path, quick=True)


@pytest.mark.slow
@pytest.mark.parametrize("path", SWEEPS, ids=IDS)
def test_sweep_claims_hold_on_the_full_grid(path):
    _check(path, quick=False)
