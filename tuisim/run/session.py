"""`ScenarioRun`: every variant of a scenario, at every seed, advanced side by side.

A scenario with `seeds = N` runs each variant N times, at seeds `seed`, `seed + 1`, ...,
`seed + N - 1`; seed k of that run is bit for bit the one-seed run with `seed = k` (its
own data, initialization and batches). The runs are independent, and the compiled
chunk of steps releases the GIL, so they train on threads side by side: `threads`
(default: the cores this process may use) runs at a time.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field

import numpy as np

from tuisim.data import load_dataset

from .checks import CheckResult, check_expect, claim_tracks
from .cores import available_cores
from .surface_run import SurfaceRun
from .variant_run import DIVERGED, VariantRun

CHUNK_SECONDS = 0.02  # a worker thread's compiled call: long enough to amortise Python, short enough to stop


@dataclass
class VariantGroup:
    """One variant at every seed of the run: `runs[k]` trained with `seeds[k]`."""

    label: str
    variant: object
    runs: list[VariantRun] = field(default_factory=list)

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs]

    @property
    def finished(self) -> bool:
        return all(r.finished for r in self.runs)

    @property
    def diverged_seeds(self) -> list[int]:
        return [r.seed for r in self.runs if r.status == DIVERGED]

    @property
    def step(self) -> int:
        """The step every seed has reached."""
        return min(r.step for r in self.runs)

    def summary(self) -> dict:
        """Per seed the run's summary; per number, the median and [min, max] across the
        seeds (the median of the finite values; a seed without one is left out)."""
        per_seed = [dict(r.summary(), seed=r.seed) for r in self.runs]
        out: dict = {"variant": self.label, "seeds": self.seeds, "diverged_seeds": self.diverged_seeds}
        for key in self.runs[0].SPREAD_KEYS:
            vals = np.array([s[key] for s in per_seed if s[key] is not None], dtype=float)
            vals = vals[np.isfinite(vals)]
            out[key] = {"median": float(np.median(vals)), "min": float(vals.min()), "max": float(vals.max())} \
                if len(vals) else None
        out["runs"] = per_seed
        return out




class ScenarioRun:
    """The variants of `scenario`, each at `seeds` seeds (default: the scenario's), each
    (variant, seed) a `VariantRun`. `runs` lists them variant by variant; `groups` gives
    one `VariantGroup` per variant. `perturb` multiplies every initial parameter by
    1 + perturb * N(0, 1): the tests' stand-in for another machine's rounding."""

    def __init__(self, scenario, *, seed: int | None = None, seeds: int | None = None, steps: int | None = None,
                 record_every: int = 1, histograms: int = 0, threads: int | None = None, perturb: float = 0.0):
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        n = scenario.seeds if seeds is None else seeds
        self.seeds = [self.seed + k for k in range(max(1, int(n)))]
        self.threads = available_cores() if threads is None else max(1, int(threads))
        datasets: dict[tuple, object] = {}
        track = claim_tracks(scenario.expects)
        self.groups: list[VariantGroup] = []
        self.runs: list[VariantRun] = []
        for v in scenario.variants:
            group = VariantGroup(v.label, v)
            for s in self.seeds:
                if v.surface is not None:  # a point on a 2-D surface, not a network
                    run = SurfaceRun(scenario, v, seed=s, steps=steps, track=track)
                    group.runs.append(run)
                    self.runs.append(run)
                    continue
                key = (repr(sorted(v.data.items())), s)
                if key not in datasets:  # variants on the same data share one copy per seed
                    datasets[key] = load_dataset(v.data, s, scenario.base_dir)
                run = VariantRun(scenario, v, seed=s, steps=steps, record_every=record_every,
                                 histograms=histograms, dataset=datasets[key], perturb=perturb,
                                 track=track)
                group.runs.append(run)
                self.runs.append(run)
            self.groups.append(group)

    @property
    def finished(self) -> bool:
        return all(r.finished for r in self.runs)

    @property
    def by_label(self) -> dict[str, VariantGroup]:
        return {g.label: g for g in self.groups}

    @property
    def surface(self) -> bool:
        """Whether the runs are points on a 2-D surface (tuisim.run.surface_run)."""
        return bool(self.runs) and isinstance(self.runs[0], SurfaceRun)

    @property
    def dtypes(self) -> list[str]:
        """The dtypes of the networks' compiled engine (none for points on a surface)."""
        return sorted({r.net.config["dtype"] for r in self.runs if not isinstance(r, SurfaceRun)})

    def engine_cached(self) -> bool | None:
        """Whether the compiled step of every dtype the runs use is in Numba's disk cache,
        so the first step loads it instead of compiling it (None: cannot tell)."""
        from tuisim.core import engine_cached
        from tuisim.core.surface import surface_cached

        found = [engine_cached(d) for d in self.dtypes] if not self.surface else [surface_cached()]
        if False in found:
            return False
        return None if None in found else True

    def engine_text(self) -> str:
        """What the first step does: load or compile the compiled code the runs need."""
        from tuisim.core import engine_text

        return engine_text(self.engine_cached(), self.surface)

    def warm_up(self) -> None:
        """Load (or compile) the compiled code the runs need, so that no run's time includes it."""
        if self.surface:
            from tuisim.core.surface import warm_up_surface

            warm_up_surface()
            return
        from tuisim.core import warm_up

        for dtype in self.dtypes:
            warm_up(dtype)

    def advance(self, chunk: int = 10) -> int:
        """`chunk` more steps of every unfinished run, one after another in this thread."""
        done = 0
        for r in self.runs:
            done += r.advance(chunk)
        return done

    def each(self, fn, runs=None, threads: int | None = None) -> list:
        """fn(run) for every run given (default: the unfinished ones), on up to `threads`
        threads side by side; returns the results in order. An exception in any of them
        is raised here once all have returned."""
        runs = [r for r in self.runs if not r.finished] if runs is None else list(runs)
        threads = min(self.threads if threads is None else threads, len(runs))
        if threads <= 1:
            return [fn(r) for r in runs]
        return list(self._pool(threads).map(fn, runs))

    _executor = None

    def _pool(self, threads: int):
        from concurrent.futures import ThreadPoolExecutor

        if self._executor is None or self._executor._max_workers != threads:
            self.close()
            self._executor = ThreadPoolExecutor(threads, thread_name_prefix="tuisim-train")
        return self._executor

    def close(self) -> None:
        """Let the worker threads of `each` go."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def run(self, chunk: int = 25, on_chunk=None, should_stop=None, every: float = 0.1) -> None:
        """Run to the end (or until should_stop() is true), calling on_chunk(self) about
        every `every` seconds. On `threads` threads, each takes the next unfinished run
        from a queue, trains it for a chunk (at least `chunk` steps, about CHUNK_SECONDS
        of them) and puts it back, so the runs progress together. Ctrl-C stops every
        thread after its current chunk and is raised here. From the main thread the
        training runs on worker threads even with one thread, so that a Ctrl-C lands
        between two chunks, where every run's weights, step and records agree (raised in
        the middle of one, it would leave weights a chunk ahead of the step)."""
        todo = [r for r in self.runs if not r.finished]
        threads = min(self.threads, len(todo))
        if threads <= 1 and threading.current_thread() is not threading.main_thread():
            while not self.finished:
                if should_stop is not None and should_stop():
                    return
                self.advance(chunk)
                if on_chunk is not None:
                    on_chunk(self)
            return
        q: queue.SimpleQueue = queue.SimpleQueue()
        for r in todo:
            q.put(r)
        threads = max(1, threads)
        stop = threading.Event()
        all_done = threading.Event()
        errors: list[BaseException] = []
        left = [threads]
        lock = threading.Lock()

        def work() -> None:
            try:
                while not stop.is_set():
                    try:
                        r = q.get_nowait()
                    except queue.Empty:
                        return
                    sps = r.steps_per_second
                    r.advance(chunk if not sps > 0 else max(chunk, int(CHUNK_SECONDS * sps)))
                    if not r.finished:
                        q.put(r)
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                errors.append(exc)
                stop.set()
            finally:
                with lock:
                    left[0] -= 1
                    if not left[0]:
                        all_done.set()

        workers = [threading.Thread(target=work, name=f"tuisim-train-{k}", daemon=True) for k in range(threads)]
        try:
            for w in workers:  # in the try: a Ctrl-C between two starts still stops the first
                w.start()
            while not all_done.wait(every):
                if should_stop is not None and should_stop():
                    stop.set()
                if on_chunk is not None:
                    on_chunk(self)
        except BaseException:
            stop.set()
            for w in workers:
                while w.is_alive():  # a second Ctrl-C must not leave a thread training behind
                    try:
                        w.join()
                    except BaseException:  # noqa: BLE001 - the first one is raised below
                        pass
            raise
        if on_chunk is not None:
            on_chunk(self)
        if errors:
            raise errors[0]

    def check(self) -> list[CheckResult]:
        groups = self.by_label
        return [check_expect(e, groups) for e in self.scenario.expects]
