"""The core, the run loop and the scenario format never import textual (or rich, plotext)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import sys
import tuisim.core, tuisim.core.network, tuisim.core.optimizer, tuisim.core.surface
import tuisim.run, tuisim.run.session, tuisim.run.headless, tuisim.run.record
import tuisim.scenario
from tuisim.scenario import load_scenario
from tuisim.run.session import ScenarioRun
s = ScenarioRun(load_scenario("{path}"))
s.advance(1)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich", "plotext", "tuisim.app"))
bad += sorted(m for m in sys.modules if m.startswith("tuisim.app"))
print(",".join(bad))
"""


def test_core_run_and_scenario_import_without_textual():
    path = Path(__file__).parent / "scenarios" / "tiny_two.toml"
    out = subprocess.run([sys.executable, "-c", CODE.format(path=path.as_posix())], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                                     "OPENBLAS_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"imported UI modules: {out.stdout.strip()}"
