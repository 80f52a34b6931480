"""How sweeps scale: the same runs one after another in one process, on 1 and on N local
worker processes, and on a Dask LocalCluster; the per-run overhead of the workers.

    python -m tuisim.sweep.bench                        # 24 runs of 2000 steps, 2 workers
    python -m tuisim.sweep.bench --runs 8 --steps 8000  # longer runs
    python -m tuisim.sweep.bench --dask                 # add a Dask LocalCluster

Every wall time includes starting the workers and loading the engine in them; the
one-after-another baseline runs in this (already warm) process, so the ratios are
conservative.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

TEMPLATE = """title = "bench"
seed = 0
steps = {steps}
[data]
name = "spirals"
samples = 400
[model]
depth = {depth}
width = {width}
activation = "relu"
[train]
optimizer = "sgd"
lr = 0.01
batch_size = 32
eval_every = 100
[sweep]
measure = "train_loss"
[[sweep.axis]]
key = "train.lr"
from = 0.001
to = 0.1
num = {runs}
scale = "log"
"""


def _plan(args):
    from tuisim.sweep import load_sweep

    path = Path(tempfile.mkdtemp(prefix="tuisim-bench-")) / "bench.toml"
    path.write_text(TEMPLATE.format(steps=args.steps, depth=args.depth, width=args.width, runs=args.runs))
    return load_sweep(path)


def _sequential(plan) -> tuple[float, list]:
    from tuisim.sweep import execute, warm_up

    warm_up(plan.dtypes)
    t0, c0 = time.perf_counter(), time.process_time()
    results = [execute(t) for t in plan.tasks]
    wall = time.perf_counter() - t0
    _sequential.cores = (time.process_time() - c0) / wall
    return wall, results


def _swept(plan, **kw) -> tuple[float, object]:
    from tuisim.sweep import SweepRun

    sweep = SweepRun(plan, **kw)
    t0 = time.perf_counter()
    sweep.run_all()
    return time.perf_counter() - t0, sweep


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tuisim.sweep.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=24, help="runs in the sweep (default 24)")
    p.add_argument("--steps", type=int, default=2000, help="training steps per run (default 2000)")
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    p.add_argument("--repeats", type=int, default=1, help="repeats of every measurement (median)")
    p.add_argument("--dask", action="store_true", help="also time a Dask LocalCluster of --workers processes")
    args = p.parse_args(argv)

    plan = _plan(args)
    seq, pool1, pooln, dask = [], [], [], []
    for _ in range(args.repeats):
        wall, results = _sequential(plan)
        seq.append((wall, results))
        pool1.append(_swept(plan, workers=1))
        pooln.append(_swept(plan, workers=args.workers))
        if args.dask:
            dask.append(_swept(plan, workers=args.workers, scheduler="local"))

    def med(xs):
        return statistics.median(x[0] for x in xs)

    t_seq = med(seq)
    per_run = t_seq / args.runs
    one = sorted(pool1, key=lambda x: x[0])[len(pool1) // 2][1]
    timing = one.timing()
    startup = timing["startup"]
    overhead_all = (med(pool1) - t_seq) / args.runs
    overhead_warm = (med(pool1) - startup - t_seq) / args.runs
    in_worker = timing["task_overhead_mean"]
    rows = [("one after another, this process", t_seq, 1.0)]
    rows.append(("1 worker process", med(pool1), med(pool1) / t_seq))
    rows.append((f"{args.workers} worker processes", med(pooln), med(pooln) / t_seq))
    if dask:
        rows.append((f"Dask LocalCluster, {args.workers} workers", med(dask), med(dask) / t_seq))
    print(f"{args.runs} runs of {args.steps} steps (ReLU, depth {args.depth}, width {args.width}, batch 32): "
          f"{per_run:.2f} s a run, one after another\n")
    w = max(len(r[0]) for r in rows)
    print(f"{'':<{w}}  {'wall':>7}  {'x sequential':>12}")
    for name, t, ratio in rows:
        print(f"{name:<{w}}  {t:6.1f}s  {ratio:11.2f}x")
    print(f"\nper-run overhead of a worker process, startup included: {1000 * overhead_all:.0f} ms "
          f"({100 * overhead_all / per_run:.1f}% of a run here, {100 * overhead_all / 2.0:.1f}% of a 2-second run)")
    print(f"  without its startup ({startup:.2f} s, once per worker: start, import, engine load): "
          f"{1000 * overhead_warm:.0f} ms a run")
    print(f"  inside the task, around the training (data, network, measure): {1000 * in_worker:.0f} ms a run")
    busy = sorted(pooln, key=lambda x: x[0])[len(pooln) // 2][1].timing()
    print(f"\ncores actually used (CPU time / wall time): {_sequential.cores:.2f} one after another, "
          f"{busy['cores_used']:.2f} by the {args.workers} workers; on a machine shared with other work the "
          f"speed-up is bounded by what the workers get")
    same = all(a.value == b.value for a, b in zip(seq[0][1], sorted(pooln[0][1].results.results, key=lambda r: r.task)))
    print(f"\nthe {args.workers}-worker sweep gives the same values as the runs one after another: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
