"""The memory estimate (tuisim/scenario/budget.py) against the peak RSS of real runs.

By hand, never collected by pytest (each case is a real `tuisim run --headless` in a
process of its own; the largest take a minute and a few GB):

    python tests/robustness/memory_estimate.py            # every case
    python tests/robustness/memory_estimate.py wide deep  # some of them

For each case it prints the estimate's total and its largest part, the process's peak
resident memory (ru_maxrss of the child), and estimate / measured. The engine's share
(ENGINE_BYTES) is in both. The figures in README.md's "Limits" paragraph come from this.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "data" / "good_scenarios" / "tiny.toml"

# name: (scenario, --set overrides)
CASES = {
    "small": ("vanishing_sigmoid", ["steps=200"]),
    "wide": (str(TINY), ["model.width=2048", "variant.1.model.width=2048", "steps=20", "seeds=1"]),
    "wide32": (str(TINY), ["model.width=2048", "variant.1.model.width=2048", "model.dtype=float32", "steps=20"]),
    "deep": (str(TINY), ["model.depth=200", "variant.1.model.depth=200", "model.width=256", "steps=20"]),
    "seeds": ("vanishing_sigmoid", ["seeds=32", "model.width=128", "steps=100"]),
    "data": (str(TINY), ["data.samples=400000", "model.width=128", "steps=20", "train.batch_size=256"]),
    "full": (str(TINY), ["data.samples=100000", "model.width=256", "steps=5", 'train.batch_size="full"']),
    "pretrain": ("pretraining", ["model.width=1024", "steps=20", "variant.1.pretrain.steps_per_layer=20",
                                 "seeds=2"]),
    "pretrain_full": ("pretraining", ["model.width=512", "steps=5", "variant.1.pretrain.steps_per_layer=3", "seeds=1",
                                      "data.samples=60000", 'variant.1.pretrain.batch_size="full"']),
}


def estimate(scenario: str, overrides: list[str]):
    from tuisim.scenario import load_scenario
    from tuisim.scenario.budget import estimate as est, run_spec
    from tuisim.data import describe_data

    sc = load_scenario(scenario, overrides)
    specs = [run_spec(v, describe_data(v.data, sc.base_dir)) for v in sc.variants]
    return est(specs, sc.seeds, sc.steps)


def measure(scenario: str, overrides: list[str]) -> tuple[int, float]:
    """Peak RSS in bytes of `tuisim run ... --headless` (this child only), and its seconds."""
    args = [sys.executable, "-m", "tuisim", "run", scenario, "--headless"]
    for o in overrides:
        args += ["--set", o]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run(args, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:  # an earlier child had the larger peak: RUSAGE_CHILDREN keeps the maximum
        print("  (peak hidden by an earlier, larger case: run this case alone)")
    return peak * 1024, time.perf_counter() - t0


def main(names: list[str]) -> int:
    from tuisim.scenario.budget import PARTS, format_bytes

    names = names or list(CASES)
    # smallest first, so that ru_maxrss (the largest child so far) is this child's peak
    rows = []
    for name in names:
        scenario, overrides = CASES[name]
        e = estimate(scenario, overrides)
        rows.append((e.total, name, scenario, overrides, e))
    rows.sort()
    print(f"{'case':<10} {'estimate':>10} {'measured':>10} {'ratio':>6}  largest part")
    for total, name, scenario, overrides, e in rows:
        rss, seconds = measure(scenario, overrides)
        part, size = e.largest_part()
        print(f"{name:<10} {format_bytes(total):>10} {format_bytes(rss):>10} {total / rss:>6.2f}  "
              f"{PARTS[part].split(' (')[0]} {format_bytes(size)}  ({e.runs} runs, {seconds:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
