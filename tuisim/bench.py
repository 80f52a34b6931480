"""`tuisim bench`: full training steps of the Numba engine against the NumPy reference.

A step is everything the app needs: forward, loss, backward, every per-layer statistic
and the optimizer update (ReLU, He init, softmax cross-entropy, Adam, as in PERF.md).
The two engines run interleaved, the same number of repeats each, and the figures are
medians, so a noisy machine shifts both alike and the ratio stays honest. A last column
times the same steps 100 to a compiled call (`Optimizer.run`, as the run loop and the
app train), where the Python overhead per step is paid once per call; then the GFLOP/s
of those steps against one core's matrix-product peak (measured first), and against
the step's own matrix products timed alone at the same shapes: what BLAS allows there,
so the last column says how much of a step is left to the engine's own loops.

It also measures start-up in fresh processes: the very first compile (an empty Numba
cache) and a second process with the cache warm, each from process start to the end of
its first training step.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

STANDARD_SIZES = [(10, 32, 64), (20, 64, 128), (50, 64, 64), (100, 16, 32), (8, 256, 256), (4, 512, 1024)]
N_CLASSES = 10
CHUNK = 100

_STARTUP_CODE = """
import time
t0 = time.perf_counter()
import numpy as np
import tuisim
net = tuisim.Network(n_in=32, n_out=10, depth=10, width=32, seed=0, dtype={dtype!r})
opt = tuisim.Optimizer(net, "adam")
rng = np.random.default_rng(0)
opt.step(rng.normal(size=(64, 32)), rng.integers(0, 10, size=64))
print(time.perf_counter() - t0)
"""


def parse_sizes(text: str | None) -> list[tuple[int, int, int]]:
    if not text:
        return list(STANDARD_SIZES)
    out = []
    for part in text.split(","):
        try:
            d, w, b = (int(x) for x in part.lower().split("x"))
        except ValueError:
            raise ValueError(f"bench size {part!r} is not DEPTHxWIDTHxBATCH (e.g. 10x32x64)") from None
        if min(d, w, b) < 1:
            raise ValueError(f"bench size {part!r}: every number must be >= 1")
        out.append((d, w, b))
    return out


def step_flops(depth: int, width: int, batch: int) -> float:
    """Multiply-adds of the matrix products of one step, x2 (forward 1, backward 2)."""
    macs = width * width + (depth - 1) * width * width + width * N_CLASSES
    return 2.0 * 3.0 * batch * macs


def _setup(depth, width, batch, dtype):
    import tuisim
    from tuisim.core.reference import ReferenceNet, ReferenceOptimizer

    net = tuisim.Network(n_in=width, n_out=N_CLASSES, depth=depth, width=width, activation="relu", init="he_normal",
                         seed=0, dtype=dtype)
    opt = tuisim.Optimizer(net, "adam", lr=1e-3)
    ref = ReferenceNet(net.config, net.state_dict())
    ref_opt = ReferenceOptimizer(ref, optimizer="adam", lr=1e-3)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(batch, width)).astype(dtype)
    y = rng.integers(0, N_CLASSES, size=batch)
    whole = np.zeros((CHUNK, 0), dtype=np.int64)  # CHUNK steps on the batch X, one compiled call
    return (lambda: opt.step(X, y)), (lambda: ref_opt.step(X, y)), (lambda: opt.run(X, y, whole))


_PRODUCTS = None


def _products_kernel():
    """A compiled loop of one step's matrix products and nothing else: per layer, the
    forward product (`step._linear_forward`, as the step makes it), dL/dW and dL/dinput
    (not for the first layer), with the step's shapes and calls."""
    global _PRODUCTS
    if _PRODUCTS is None:
        import numba

        from tuisim.core._jit import gemm
        from tuisim.core.step import _linear_forward

        @numba.njit(nogil=True, _nrt=False)
        def products(H, W, Z, dW, Wo, Zo, dWo, dH, wt, reps):
            depth = W.shape[0]
            for _ in range(reps):
                for i in range(depth):
                    _linear_forward(H[i], W[i], Z[i], wt)
                _linear_forward(H[depth], Wo, Zo, wt)
                gemm(Zo.T, H[depth], dWo)
                gemm(Zo, Wo, dH[depth])
                for i in range(depth - 1, -1, -1):
                    gemm(Z[i].T, H[i], dW[i])
                    if i > 0:
                        gemm(Z[i], W[i], dH[i])

        _PRODUCTS = products
    return _PRODUCTS


def products_alone(depth: int, width: int, batch: int, dtype: str = "float64", seconds: float = 0.25) -> float:
    """Seconds per step of the step's matrix products alone (see `_products_kernel`):
    what BLAS takes for them at these shapes, the floor under a step's time."""
    from tuisim.core.step import WT_SIZE

    rng = np.random.default_rng(0)
    H = rng.normal(size=(depth + 1, batch, width)).astype(dtype)
    W = rng.normal(size=(depth, width, width)).astype(dtype) / np.sqrt(width)
    Wo = rng.normal(size=(N_CLASSES, width)).astype(dtype) / np.sqrt(width)
    Z, dW = np.zeros((depth, batch, width), dtype=dtype), np.zeros_like(W)
    Zo, dWo = np.zeros((batch, N_CLASSES), dtype=dtype), np.zeros_like(Wo)
    dH, wt = np.zeros_like(H), np.zeros(WT_SIZE, dtype=dtype)
    kernel = _products_kernel()
    args = (H, W, Z, dW, Wo, Zo, dWo, dH, wt)
    kernel(*args, 1)
    return _per_rep(lambda reps: kernel(*args, reps), seconds)


def _per_rep(run, seconds: float) -> float:
    """Seconds per repetition of run(reps), a compiled loop of reps repetitions: reps
    doubled until one call lasts `seconds`."""
    reps, dt = 1, 0.0
    while dt < seconds:
        reps *= 2
        t0 = time.perf_counter()
        run(reps)
        dt = time.perf_counter() - t0
    return dt / reps


def _time(fn, seconds: float, steps_per_call: int = 1) -> float:
    """Steps per second of fn over about `seconds`."""
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n * steps_per_call / dt


def measure(sizes, repeats: int = 7, seconds: float = 0.25, dtype: str = "float64", out=None,
            peak: float | None = None) -> list[dict]:
    out = out or sys.stdout
    rows = []
    for depth, width, batch in sizes:
        numba_step, numpy_step, numba_chunk = _setup(depth, width, batch, dtype)
        numba_step()  # compile or load the cache before timing
        numpy_step()
        a, b, c, g = [], [], [], []
        for _ in range(repeats):
            a.append(_time(numba_step, seconds))
            b.append(_time(numpy_step, seconds))
            c.append(_time(numba_chunk, seconds, CHUNK))
            g.append(products_alone(depth, width, batch, dtype, seconds))
        na, nb, nc, ng = statistics.median(a), statistics.median(b), statistics.median(c), statistics.median(g)
        row = {"depth": depth, "width": width, "batch": batch, "numba_steps_per_s": na, "numpy_steps_per_s": nb,
               "ratio": na / nb, "numba_gflops": na * step_flops(depth, width, batch) / 1e9,
               "numba_chunk_steps_per_s": nc, "chunk_gflops": nc * step_flops(depth, width, batch) / 1e9}
        row["percent_of_peak"] = 100 * row["chunk_gflops"] / peak if peak else None
        row["products_gflops"] = step_flops(depth, width, batch) / ng / 1e9
        row["products_share"] = 100 * ng * nc  # of a step's time (100 to a call), its products alone
        rows.append(row)
        pct = f"{row['percent_of_peak']:>5.0f}%" if peak else "      "
        print(f"  {depth:>5} {width:>5} {batch:>5}  {na:>12,.1f}  {nb:>12,.1f}  {na / nb:>6.2f}x  "
              f"{row['numba_gflops']:>7.2f}  {nc:>12,.1f}  {row['chunk_gflops']:>7.2f} {pct}"
              f"  {row['products_gflops']:>8.2f}  {row['products_share']:>5.0f}%", file=out, flush=True)
    return rows


def gemm_peak(dtype: str = "float64", sizes=(512, 1024), seconds: float = 0.4, repeats: int = 5) -> float:
    """GFLOP/s of one core's matrix product, measured here: square products of each of
    `sizes`, the best of `repeats` (a peak: noise from other work only lowers it), from
    compiled code as the engine calls BLAS (one BLAS thread)."""
    import numba

    from tuisim.core._jit import gemm as product

    @numba.njit(nogil=True, _nrt=False)
    def gemm(A, B, C, reps):
        for _ in range(reps):
            product(A, B, C)  # the BLAS call the engine's matrix products make (SciPy's, from @njit)

    rng = np.random.default_rng(0)
    rates = []
    for n in sizes:
        A, B = rng.normal(size=(n, n)).astype(dtype), rng.normal(size=(n, n)).astype(dtype)
        C = np.empty((n, n), dtype=dtype)
        gemm(A, B, C, 1)
        for _ in range(repeats):
            rates.append(2.0 * n ** 3 / _per_rep(lambda reps: gemm(A, B, C, reps), seconds) / 1e9)
    return max(rates)


SCALING_SCENARIO = "degradation"


def scaling(threads: int, scenario: str = SCALING_SCENARIO, steps: int = 150, repeats: int = 3) -> dict:
    """Multi-core scaling: a bundled lesson's variants and seeds trained for `steps`
    steps on one thread, then on `threads`, interleaved `repeats` times (medians):
    steps per second of all runs together, and the ratio."""
    from tuisim.run.session import ScenarioRun
    from tuisim.scenario import load_scenario

    sc = load_scenario(scenario, [f"steps={steps}"])
    ScenarioRun(sc, threads=1).warm_up()
    rates: dict[int, list[float]] = {1: [], threads: []}
    for _ in range(repeats):
        for k in (1, threads):
            session = ScenarioRun(sc, threads=k)
            t0 = time.perf_counter()
            session.run(chunk=25)
            dt = time.perf_counter() - t0
            session.close()
            rates[k].append(sum(r.step for r in session.runs) / dt)
    one, many = statistics.median(rates[1]), statistics.median(rates[threads])
    return {"scenario": scenario, "runs": len(sc.variants) * sc.seeds, "steps": steps, "threads": threads,
            "one_thread_steps_per_s": one, "steps_per_s": many, "speedup": many / one}


def startup(dtype: str = "float64") -> tuple[float, float]:
    """(cold compile, warm start) in seconds, each in a fresh process."""
    code = _STARTUP_CODE.format(dtype=dtype)
    with tempfile.TemporaryDirectory(prefix="tuisim-bench-cache-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if res.returncode != 0:
                raise RuntimeError(f"start-up measurement failed:\n{res.stderr[-2000:]}")
            times.append(wall)
    return times[0], times[1]


def main(args) -> int:
    sizes = parse_sizes(args.sizes)
    args.repeats = args.repeats or 7
    args.seconds = args.seconds or 0.25
    print(f"tuisim bench: {args.dtype}, one BLAS thread (OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}),"
          f" ReLU + He + softmax cross-entropy + Adam, every per-layer statistic;"
          f" medians of {args.repeats} interleaved repeats")
    peak = gemm_peak(args.dtype)
    print(f"one core's matrix-product peak, measured here ({args.dtype}, 512 and 1024 square, from compiled code, best of 5 each): "
          f"{peak:.1f} GFLOP/s")
    print(f"  {'depth':>5} {'width':>5} {'batch':>5}  {'numba step/s':>12}  {'numpy step/s':>12}  {'ratio':>7}  GFLOP/s"
          f"  {f'{CHUNK}/call st/s':>12}  GFLOP/s   peak  products  share")
    measure(sizes, args.repeats, args.seconds, args.dtype, peak=peak)
    print(f"  (products: GFLOP/s of the step's matrix products alone, the same BLAS calls at the same shapes, back to"
          f" back; share: the part of a step's time ({CHUNK} to a call) that they take, the rest being the"
          f" element-wise work and the statistics)")
    if not args.no_startup:
        cold, warm = startup(args.dtype)
        print(f"start-up, process start to the end of the first step: first compile (empty cache) {cold:.1f} s, "
              f"second process (warm cache) {warm:.2f} s")
    if not getattr(args, "no_scaling", False):
        from tuisim.run.cores import available_cores

        cores = available_cores()
        if cores > 1:
            sc = scaling(cores)
            print(f"multi-core: {sc['scenario']} ({sc['runs']} runs, {sc['steps']} steps each) on 1 thread "
                  f"{sc['one_thread_steps_per_s']:,.0f} steps/s, on {cores} threads {sc['steps_per_s']:,.0f} steps/s: "
                  f"{sc['speedup']:.2f}x")
        else:
            print("multi-core: one core available, nothing to scale")
    return 0
