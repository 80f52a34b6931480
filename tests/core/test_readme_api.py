"""The README's Python API example runs as printed, and says what it shows."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_python_api_block_runs():
    text = README.read_text(encoding="utf-8")
    section = text.split("### Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    ns: dict = {}
    exec(compile(code, "README.md (Python API)", "exec"), ns)
    tr = ns["tr"]
    assert tr.loss.shape == (500,) and tr.grad_norm.shape == (500, 21)
    assert np.isfinite(tr.test_loss[::50]).all() and np.isnan(tr.test_loss[1:50]).all()
    assert ns["opt"].steps == 501
