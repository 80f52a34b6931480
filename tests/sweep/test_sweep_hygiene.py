"""Layering: the sweep package plans and schedules without the engine or the app (the
workers load the engine), and never imports the app."""

import subprocess
import sys
from pathlib import Path


def test_importing_the_sweep_package_stays_light():
    code = ("import sys, tuisim.sweep, tuisim.sweep.headless, tuisim.sweep.cluster; "
            "print(sorted(m for m in ('numba', 'textual', 'distributed', 'tuisim.app', 'tuisim.core.network') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[2]).stdout
    assert out.strip() == "[]"


def test_the_sweep_package_never_imports_the_app():
    package = Path(__file__).parents[2] / "tuisim" / "sweep"
    for path in package.glob("*.py"):
        assert "tuisim.app" not in path.read_text(), path.name
