"""`make_app`: the one place the app is built, for the CLI, the screenshots and the tests."""

from __future__ import annotations

from pathlib import Path

from tuisim.scenario import Scenario


def make_app(name_or_scenario: str | Path | Scenario | None = None, fps: float = 10.0,
             screenshots: str | Path | None = None, seed: int | None = None, *, pause_at: int | None = None,
             deterministic: bool = False, export_dir: str | Path | None = None, library: str | Path | None = None,
             sweep=None, workers: int | None = None, threads: int | None = None, lang: str | None = None):
    """The app: the scenario browser when `name_or_scenario` is None, else that scenario,
    started. `pause_at` pauses every variant at that step and `deterministic` hides
    everything that depends on time (steps/s, elapsed seconds): the snapshot tests
    and the README screenshots set both. `export_dir` is where `x` exports (default: the
    current directory); `library` a folder of scenarios the browser lists instead of
    the bundled ones. `sweep`, a `SweepSpec` (tuisim.app.sweep_driver), opens the app on
    that sweep's screen, running; `workers` is how many worker processes run the sweeps
    opened from the browser (default: one per core; 0: in the app's process). `threads` is
    how many of a run's variants and seeds train side by side (default: one per core).
    A scenario with `seeds = N` (or the override `seeds=N`) shows every variant's median
    across its seeds, with their spread. `lang` ("en", "zh") sets the interface's language
    (default: keep the one set, by the CLI's --lang or the locale); the command palette
    switches it live."""
    from .app import TuisimApp

    return TuisimApp(name_or_scenario, fps=fps, screenshots=screenshots, seed=seed, pause_at=pause_at,
                     deterministic=deterministic, export_dir=export_dir, library=library, sweep=sweep,
                     workers=workers, threads=threads, lang=lang)
