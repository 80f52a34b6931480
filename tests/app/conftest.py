"""Shared helpers of the app tests: small scenarios, and waiting for the worker."""

from __future__ import annotations

import asyncio
import inspect
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"


def scenario_path(name: str) -> str:
    return str(SCENARIOS / f"{name}.toml")


async def until(pilot, condition, timeout: float = 60.0, what: str = "condition") -> None:
    """Let the app run until condition() holds (the worker runs in a thread)."""
    t0 = time.monotonic()
    while not condition():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def driver(app):
    return getattr(app.screen, "driver", None)


async def paused_at(pilot, step: int) -> None:
    """Wait until the run screen's driver is paused at `step`, then draw everything."""
    app = pilot.app
    await until(pilot, lambda: driver(app) is not None and driver(app).paused and driver(app).step >= step
                and driver(app).phase != "compiling", what=f"a pause at step {step}")
    app.screen.refresh_frame(force=True)
    await pilot.pause()
    await asyncio.sleep(0.05)
    await pilot.pause()


@pytest.fixture
def tiny_two() -> str:
    return scenario_path("tiny_two")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run `async def` tests in a fresh event loop (no asyncio plugin needed)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None
