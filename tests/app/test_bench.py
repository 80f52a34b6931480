"""`tuisim bench --app` runs the app and headless side by side and reports both (its
figures are for the README, not asserted: machines here are noisy)."""

import re

import pytest

from tuisim import cli
from tuisim.app.bench import parse_size

from .conftest import scenario_path


def test_app_bench_reports_both_rates(capsys):
    assert cli.main(["bench", "--app", "--scenario", str(scenario_path("tiny_two")), "--repeats", "1",
                     "--seconds", "0.5", "--size", "80x24", "--view", "hist"]) == 0
    out = capsys.readouterr().out
    m = re.search(r"medians: headless ([\d,]+) steps/s, app ([\d,]+) steps/s", out)
    assert m, out
    assert int(m.group(1).replace(",", "")) > 0 and int(m.group(2).replace(",", "")) > 0
    assert re.search(r"how long a key waits\): median \d+ ms, 99th percentile \d+ ms, longest \d+ ms", out), out


def test_bad_size_is_explained():
    with pytest.raises(ValueError, match="COLUMNSxROWS"):
        parse_size("big")
    with pytest.raises(ValueError, match="too small"):
        parse_size("10x5")
