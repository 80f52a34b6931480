"""`ScenarioRun`: every variant of a scenario, advanced side by side."""

from __future__ import annotations

from tuisim.data import load_dataset

from .checks import CheckResult, check_expect
from .variant_run import VariantRun


class ScenarioRun:
    """The variants of `scenario`, each a `VariantRun`; `advance(chunk)` gives every
    unfinished variant `chunk` more steps, round robin, so they progress together."""

    def __init__(self, scenario, *, seed: int | None = None, steps: int | None = None, record_every: int = 1,
                 histograms: int = 0):
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        datasets: dict[str, object] = {}
        self.runs: list[VariantRun] = []
        for v in scenario.variants:
            key = repr(sorted(v.data.items()))
            if key not in datasets:  # variants on the same data share one copy
                datasets[key] = load_dataset(v.data, self.seed, scenario.base_dir)
            self.runs.append(VariantRun(scenario, v, seed=self.seed, steps=steps, record_every=record_every,
                                        histograms=histograms, dataset=datasets[key]))

    @property
    def finished(self) -> bool:
        return all(r.finished for r in self.runs)

    @property
    def by_label(self) -> dict[str, VariantRun]:
        return {r.label: r for r in self.runs}

    def advance(self, chunk: int = 10) -> int:
        done = 0
        for r in self.runs:
            done += r.advance(chunk)
        return done

    def run(self, chunk: int = 25, on_chunk=None, should_stop=None) -> None:
        """Run to the end (or until should_stop() is true), calling on_chunk(self) between chunks."""
        while not self.finished:
            if should_stop is not None and should_stop():
                return
            self.advance(chunk)
            if on_chunk is not None:
                on_chunk(self)

    def check(self) -> list[CheckResult]:
        runs = self.by_label
        return [check_expect(e, runs) for e in self.scenario.expects]
