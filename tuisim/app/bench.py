"""`tuisim bench --app`: what the app costs training, measured side by side.

The same scenario trains (a) headless, as `tuisim run --headless` does (chunks of 25
steps in the main thread, nothing drawn) and (b) in the app, which draws every panel at
`--fps` while its training thread runs. The two alternate, the same number of repeats
each, and the figures are medians, so a noisy machine shifts both alike.

Meanwhile a 10 ms tick measures how late the app's event loop answers: how long a key
pressed at that moment would wait before its handler runs.

The app runs in this process with a driver that renders every frame to terminal
escape codes exactly as on a terminal and then drops them, at the size given, so the
cost measured is the app's own (a terminal emulator's drawing is not counted: over SSH
it is on the other machine).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from textual.drivers.headless_driver import HeadlessDriver

PROBE = """
title = "App cost probe"
description = "A 20-layer ReLU net of width 64, for `tuisim bench --app`."
seed = 0
steps = 200000
[data]
name = "spirals"
samples = 600
[model]
depth = 20
width = 64
activation = "relu"
init = "he_normal"
[train]
optimizer = "sgd"
lr = 0.001
batch_size = 64
"""


class DiscardDriver(HeadlessDriver):
    """A terminal that takes everything and shows nothing: the app renders each frame
    to escape codes as it would for a real terminal (a headless driver skips that)."""

    @property
    def is_headless(self) -> bool:
        return False


def headless_rate(scenario, seconds: float) -> float:
    from tuisim.run.session import ScenarioRun

    session = ScenarioRun(scenario)
    session.advance(1)  # builds everything
    start = sum(r.step for r in session.runs)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        session.advance(25)
    return (sum(r.step for r in session.runs) - start) / (time.perf_counter() - t0)


TICK = 0.01


def app_rate(scenario, seconds: float, size: tuple[int, int], fps: float,
             view: str | None) -> tuple[float, list[float]]:
    """Steps per second in the app, and the event loop's lateness on 10 ms ticks meanwhile."""
    from .factory import make_app
    from .screens.run import RunScreen

    app = make_app(scenario, fps=fps)
    app.driver_class = DiscardDriver
    result: dict[str, float] = {}

    async def probe() -> None:
        try:
            while not (isinstance(app.screen, RunScreen) and app.screen.driver is not None
                       and app.screen.driver.phase == "running"):
                await asyncio.sleep(0.05)
            screen = app.screen
            if view is not None:
                screen.action_view(view)
            await asyncio.sleep(1.0)  # the panels' first full draw
            d = screen.driver
            a, t0 = d.steps_run, time.perf_counter()
            lags = []  # how late a 10 ms tick runs: how long a key would wait
            while time.perf_counter() - t0 < seconds:
                t = time.perf_counter()
                await asyncio.sleep(TICK)
                lags.append(time.perf_counter() - t - TICK)
            result["rate"] = (d.steps_run - a) / (time.perf_counter() - t0)
            result["lags"] = lags
        finally:
            app.exit()

    async def main() -> None:
        task = asyncio.get_running_loop().create_task(probe())
        await app.run_async(size=size)
        await task

    asyncio.run(main())
    if "rate" not in result:
        raise RuntimeError("the app stopped before the measurement ended")
    return result["rate"], result["lags"]


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size {text!r} is not COLUMNSxROWS (e.g. 160x50)") from None
    if w < 20 or h < 10:
        raise ValueError(f"--size {text!r} is too small (at least 20x10)")
    return w, h


def main(args, out=None) -> int:
    from tuisim.core import warm_up
    from tuisim.scenario import load_scenario, parse_scenario

    out = out or sys.stdout
    # long enough never to finish while measured
    scenario = load_scenario(args.scenario, overrides=["steps=1000000"]) if args.scenario else parse_scenario(PROBE)
    size = parse_size(args.size)
    repeats = args.repeats or 3
    seconds = args.seconds or 8.0
    warm_up()
    print(f"tuisim bench --app: {scenario.title}, the app at {size[0]}x{size[1]} and {args.fps:g} fps"
          f"{', view ' + args.view if args.view else ''}, against headless; {repeats} interleaved repeats of "
          f"{seconds:g} s", file=out, flush=True)
    heads, apps, lags = [], [], []
    for k in range(repeats):
        heads.append(headless_rate(scenario, seconds))
        rate, lag = app_rate(scenario, seconds, size, args.fps, args.view)
        apps.append(rate)
        lags.extend(lag)
        print(f"  repeat {k + 1}: headless {heads[-1]:,.0f} steps/s, app {apps[-1]:,.0f} steps/s, "
              f"longest wait of the interface {max(lag) * 1000:.0f} ms", file=out, flush=True)
    h, a = statistics.median(heads), statistics.median(apps)
    print(f"medians: headless {h:,.0f} steps/s, app {a:,.0f} steps/s: the app runs at {a / h:.0%} of headless "
          f"(costs {1 - a / h:.0%})", file=out)
    lags.sort()
    q = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))] * 1000  # noqa: E731
    print(f"the interface's event loop while training (how long a key waits): median {q(0.5):.0f} ms, "
          f"99th percentile {q(0.99):.0f} ms, longest {lags[-1] * 1000:.0f} ms", file=out)
    return 0
