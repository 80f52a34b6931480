"""Regenerate the README's screenshots from the app itself, on fixed seeds:

    python -m tuisim.app.screenshots [--out screenshots] [--only NAME]

Each shot opens a bundled scenario in the deterministic mode, pauses every variant at a
fixed step (or lets the run finish), presses the keys that pick the view, and saves
an SVG of the terminal. A sweep's shot runs its whole grid first (on every core: the
order-to-chaos map takes about 30 s on two). The shots of several seeds (NAME_seeds,
NAME_seeds_80x24) run the scenario to the end at its file's `seeds`, or at SEEDS when
the file runs one (degradation's five seeds take about 40 s per size on two cores).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tuisim.scenario import ScenarioError, bundled_scenarios, load_scenario

# a batch-norm comparison, when no bundled lesson on L4.1/L4.2 exists yet
BN_FALLBACK = ("vanishing_sigmoid", ['variant.1.label="sigmoid + batch norm"', 'variant.1.model.activation="sigmoid"',
                                     'variant.1.model.init="xavier_normal"', 'variant.1.model.norm="batch"'])


@dataclass
class Shot:
    name: str  # the file's stem
    scenario: str | None  # None: the browser
    size: tuple[int, int] = (160, 50)
    at: int | None = 300  # None: run to the end
    keys: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    sweep: bool = False  # the scenario's sweep, run to the end, on the sweep screen
    lang: str | None = None  # the interface's language ("zh"); None: English


def shots() -> list[Shot]:
    paths = bundled_scenarios()
    bn = next((p.stem for p in paths if "L4.2" in _lessons(p)), None) or next(
        (p.stem for p in paths if "L4.1" in _lessons(p)), None)
    bn_shot = Shot("batchnorm_histograms", bn, at=200, keys=["3"]) if bn else Shot(
        "batchnorm_histograms", BN_FALLBACK[0], at=200, keys=["3"], overrides=BN_FALLBACK[1])
    return [
        Shot("browser", None, size=(120, 36)),
        Shot("vanishing_sigmoid", "vanishing_sigmoid", at=300),
        Shot("vanishing_sigmoid_80x24", "vanishing_sigmoid", size=(80, 24), at=300),
        Shot("tiny_init_dz", "tiny_init", at=100, keys=["g"]),
        bn_shot,
        Shot("exploding", "exploding_init", at=None),
        # the decision boundary on the spirals: sigmoid's plane flat, relu's following the arms
        Shot("decision_boundary", "vanishing_sigmoid", at=None, keys=["5"]),
        # |dL/dz| percentiles over time: the dead variants sink into the =0 row
        Shot("dead_relu_distributions", "dead_relu", at=None, keys=["d"]),
        # optimizer paths on a surface: SGD's zig-zag across the ravine, momentum's smoother run
        Shot("paths_ravine", "path_momentum_ravine", at=None),
        Shot("paths_ravine_80x24", "path_momentum_ravine", size=(80, 24), at=None),
        Shot("paths_nesterov", "path_nesterov", at=60),
        # several seeds: each variant's median, its seeds faint, whiskers on the bars; run to the end
        *seeded("degradation"),
        *seeded("optimizers"),
        # the map, the cell at sigma_w^2 = 1.25, depth 25 selected
        Shot("sweep_tanh_phase", "sweep_tanh_phase", sweep=True, keys=["right"] * 3 + ["down"] * 4),
        # the interface and the lessons in Chinese (--lang zh)
        Shot("browser_zh", None, size=(120, 36), lang="zh"),
        Shot("vanishing_sigmoid_zh", "vanishing_sigmoid", at=300, lang="zh"),
        Shot("vanishing_sigmoid_zh_80x24", "vanishing_sigmoid", size=(80, 24), at=300, lang="zh"),
    ]


SEEDS = 3  # for the shots of several seeds, when the scenario file runs one


def seeded(name: str) -> list[Shot]:
    """A scenario at several seeds (its file's `seeds`, else SEEDS), run to the end, at
    160x50 and 80x24."""
    try:
        overrides = [] if load_scenario(name).seeds > 1 else [f"seeds={SEEDS}"]
    except ScenarioError:
        overrides = [f"seeds={SEEDS}"]
    return [Shot(f"{name}_seeds", name, at=None, overrides=overrides),
            Shot(f"{name}_seeds_80x24", name, size=(80, 24), at=None, overrides=overrides)]


def _lessons(path: Path) -> list[str]:
    try:
        return list(load_scenario(path).lessons)
    except ScenarioError:
        return []


async def take(shot: Shot, out: Path) -> Path:
    if shot.sweep:
        return await take_sweep(shot, out)
    from .factory import make_app
    from .screens.run import RunScreen

    scenario = load_scenario(shot.scenario, shot.overrides) if shot.scenario else None
    app = make_app(scenario, seed=0, pause_at=shot.at, deterministic=True, lang=shot.lang or "en")
    async with app.run_test(size=shot.size) as pilot:
        if scenario is not None:
            while True:
                await pilot.pause(0.1)
                screen = app.screen
                d = getattr(screen, "driver", None)
                if isinstance(screen, RunScreen) and d is not None and d.phase != "compiling" and (
                        d.phase == "finished" or (shot.at is not None and d.paused and d.step >= shot.at)):
                    break
                if isinstance(screen, RunScreen) and screen.query_one("StatusBar").error:
                    raise RuntimeError(screen.query_one("StatusBar").error)
            await pilot.press(*shot.keys)
            app.screen.refresh_frame(force=True)
        await pilot.pause(0.3)
        app.screen.refresh_frame(force=True) if scenario is not None else None
        await pilot.pause()
        path = out / f"{shot.name}.svg"
        path.write_text(app.export_screenshot(title=f"tuisim {shot.scenario or ''}".strip()), encoding="utf-8")
    return path


async def take_sweep(shot: Shot, out: Path) -> Path:
    from .factory import make_app
    from .screens.sweep import SweepScreen
    from .sweep_driver import SweepSpec

    # two workers on any machine, so the picture (its status bar) is the same everywhere
    app = make_app(None, deterministic=True, sweep=SweepSpec(shot.scenario, tuple(shot.overrides), workers=2),
                   lang=shot.lang or "en")
    async with app.run_test(size=shot.size) as pilot:
        while True:
            await pilot.pause(0.2)
            screen = app.screen
            if isinstance(screen, SweepScreen):
                if screen.query_one("SweepStatusBar").error:
                    raise RuntimeError(screen.query_one("SweepStatusBar").error)
                if screen.driver is not None and screen.driver.state == "finished":
                    break
        await pilot.press(*shot.keys)
        await pilot.pause(0.5)  # the finished sweep's notice is not in the shot: deterministic mode
        app.screen.refresh_frame(force=True)
        await pilot.pause()
        path = out / f"{shot.name}.svg"
        path.write_text(app.export_screenshot(title=f"tuisim sweep {shot.scenario}"), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tuisim.app.screenshots", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="screenshots", help="folder for the SVGs (default: screenshots)")
    p.add_argument("--only", action="append", help="only this shot (repeatable)")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for shot in shots():
        if args.only and shot.name not in args.only:
            continue
        what = f"the sweep of {shot.scenario}" if shot.sweep else shot.scenario or "the browser"
        print(f"{shot.name}: {what} at {shot.size[0]}x{shot.size[1]}...", file=sys.stderr)
        path = asyncio.run(take(shot, out))
        print(f"  wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
