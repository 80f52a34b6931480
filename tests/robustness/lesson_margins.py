"""How far every lesson's claims are from failing, on this CPU kernel and at many seeds.

By hand, never collected by pytest. A lesson's claims are judged on the median of its
`seeds` runs; seed k of an N-seed run is bit for bit the one-seed run with seed k, so
one-seed runs at seeds 0..S-1 give the median of every base seed 0..S-N at once.

    # one-seed runs of every bundled scenario at seeds 0-9, under each OpenBLAS kernel
    # (set OPENBLAS_CORETYPE by hand; never in the tests), and with the initial weights
    # perturbed by a relative 1e-12 (the test suite's stand-in for another CPU):
    python tests/robustness/lesson_margins.py run --seeds 10 --out runs/margins/default.jsonl
    OPENBLAS_CORETYPE=Haswell python tests/robustness/lesson_margins.py run --seeds 10 --out runs/margins/Haswell.jsonl
    OPENBLAS_CORETYPE=Sandybridge python tests/robustness/lesson_margins.py run ... Sandybridge.jsonl
    OPENBLAS_CORETYPE=Prescott python tests/robustness/lesson_margins.py run ... Prescott.jsonl
    python tests/robustness/lesson_margins.py run --seeds 10 --perturb 1e-12 --out runs/margins/perturb.jsonl

    # every claim's median at base seeds 0-4 under every condition file: failures, and the
    # claims closest to failing (the ratio by which the worst median clears its threshold)
    python tests/robustness/lesson_margins.py report runs/margins/*.jsonl [--bases 5] [--lessons a,b]

`run --lessons a,b` re-runs some lessons (appended lines replace earlier ones for the
same lesson and seed). The figures in README.md's lesson library section come from this.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path


def _run(args) -> int:
    from tuisim.run.session import ScenarioRun
    from tuisim.scenario import bundled_scenarios, load_scenario

    names = set(args.lessons.split(",")) if args.lessons else None
    kernel = os.environ.get("OPENBLAS_CORETYPE", "default")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a", encoding="utf-8") as out:
        for path in bundled_scenarios():
            if names and path.stem not in names:
                continue
            sc = load_scenario(path)
            for seed in range(args.seeds):
                t0 = time.perf_counter()
                session = ScenarioRun(sc, seed=seed, seeds=1, threads=1, perturb=args.perturb)
                session.run()
                values = [c.value if isinstance(c.value, bool) or c.value is None else float(c.value)
                          for c in session.check()]
                out.write(json.dumps({"lesson": path.stem, "kernel": kernel, "perturb": args.perturb, "seed": seed,
                                      "values": values, "secs": time.perf_counter() - t0}) + "\n")
                out.flush()
                print(f"{path.stem} seed {seed}: {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    return 0


def clearance(value, e) -> float:
    """How many times the value clears the claim's threshold (below 1: it fails); for a
    claim that holds exactly (equals) 1e9 or 0."""
    if isinstance(value, bool) or isinstance(e.equals, bool):
        return 1e9 if value == e.equals else 0.0
    if value is None or math.isnan(value):
        return 0.0
    out = []

    def ratio(a, b):  # a over b, where a should exceed b
        if a == b:
            return 1.0
        if a == math.inf or b == -math.inf:
            return 1e9
        if a > 0 and b > 0:
            return a / b
        return 1e9 if a > b else 0.0

    if e.below is not None:
        out.append(ratio(e.below, value))
    if e.above is not None:
        out.append(ratio(value, e.above))
    if e.between is not None:
        out += [ratio(value, e.between[0]), ratio(e.between[1], value)]
    if e.equals is not None:
        out.append(1e9 if math.isclose(value, e.equals, rel_tol=1e-9) else 0.0)
    return min(out) if out else 1e9


def _report(args) -> int:
    from tuisim.run.checks import median_of
    from tuisim.run.compare import compare, fmt
    from tuisim.scenario import load_scenario

    data: dict = defaultdict(dict)  # lesson -> condition -> seed -> values
    for f in args.files:
        cond = Path(f).stem
        for line in open(f, encoding="utf-8"):
            r = json.loads(line)
            data[r["lesson"]].setdefault(cond, {})[r["seed"]] = r["values"]
    only = set(args.lessons.split(",")) if args.lessons else None
    failures, rows = 0, []
    for lesson in sorted(data):
        if only and lesson not in only:
            continue
        sc = load_scenario(lesson)
        n = sc.seeds
        for j, e in enumerate(sc.expects):
            worst, fails, meds = (math.inf, None), [], []
            for cond, by_seed in sorted(data[lesson].items()):
                for base in range(args.bases):
                    seeds = range(base, base + n)
                    if not all(s in by_seed for s in seeds):
                        continue
                    vals = [by_seed[s][j] for s in seeds]
                    vals = [math.inf if v is None else v for v in vals]  # JSON keeps no infinity
                    m = median_of(vals)
                    meds.append(m)
                    if m is None or not compare(m, e)[0]:
                        fails.append((cond, base, m))
                    c = clearance(m, e)
                    if c < worst[0]:
                        worst = (c, (cond, base))
            if not meds:
                print(f"{lesson} #{j}: no runs with {n} consecutive seeds from base 0-{args.bases - 1}")
                continue
            failures += len(fails)
            num = [m for m in meds if isinstance(m, float)]
            span = f"medians [{fmt(min(num))}, {fmt(max(num))}]" if num else ""
            rows.append((worst[0], f"{lesson} #{j} ({e.variant}: {e.metric}{'' if e.at is None else f' at {e.at}'}) "
                                   f"{compare(0.0, e)[1] if not isinstance(e.equals, bool) else e.equals}: {span}; "
                                   f"worst {worst[1][0]} base {worst[1][1]}"))
            for cond, base, m in fails:
                print(f"FAIL {lesson} #{j}: {cond}, base seed {base}: median {m}")
    print(f"\n{failures} failing medians; the claims closest to their thresholds (clearance: how many times "
          "the worst median clears it; near 1 on a claim that sits on an exact value, such as ln 3, is fine):")
    for c, text in sorted(rows)[:args.closest]:
        print(f"  {c:8.3g}  {text}")
    return 1 if failures else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--seeds", type=int, default=10)
    r.add_argument("--lessons", help="comma-separated scenario names (default: every bundled one)")
    r.add_argument("--perturb", type=float, default=0.0)
    r.add_argument("--out", required=True)
    q = sub.add_parser("report")
    q.add_argument("files", nargs="+")
    q.add_argument("--bases", type=int, default=5, help="base seeds 0..B-1 (default 5)")
    q.add_argument("--lessons")
    q.add_argument("--closest", type=int, default=15)
    args = p.parse_args()
    return _run(args) if args.cmd == "run" else _report(args)


if __name__ == "__main__":
    sys.exit(main())
