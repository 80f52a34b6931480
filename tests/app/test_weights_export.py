"""The app's export (`x`) writes the weights of every variant at every seed next to its
summary, as `tuisim run --out` does: mid-run, the networks as they are at that step."""

import json

import numpy as np

import tuisim

from .conftest import driver, paused_at, until
from .test_seeds import app_for


async def test_export_writes_every_seeds_weights_at_the_step_it_shows(tmp_path):
    app = app_for(tmp_path)  # tiny.toml at 3 seeds, paused at step 10
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 10)
        await pilot.press("x")
        out = tmp_path / "tuisim-tiny-step10"
        await until(pilot, lambda: (out / "summary.json").exists(), what="the export")
        summary = json.loads((out / "summary.json").read_text())
        runs = driver(app).session.runs
        listed = summary["weights"]
        assert [(w["variant"], w["seed"]) for w in listed] == [(r.label, r.seed) for r in runs]
        assert [w["file"] for w in listed[:3]] == [f"weights/tanh.seed{k}.safetensors" for k in range(3)]
        assert sorted(p.name for p in (out / "weights").iterdir()) == sorted(w["file"][8:] for w in listed)
        for w, run in zip(listed, runs):
            assert w["step"] == 10 and w["interrupted"] is True and w["status"] == "running"
            net = tuisim.Network.load(out / w["file"])
            mine, theirs = net.state_dict(), run.net.state_dict()
            assert all(np.array_equal(mine[k], theirs[k]) for k in theirs)
