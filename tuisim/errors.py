"""Turning the errors that bad input can cause into one clear message (no traceback)."""

from __future__ import annotations


def user_message(exc: BaseException) -> str | None:
    """The message to print for an error caused by input, or None for a bug (re-raised)."""
    from tuisim.data import DatasetError
    from tuisim.scenario import ScenarioError

    if isinstance(exc, ScenarioError):
        return str(exc)
    if isinstance(exc, DatasetError):
        return f"error: data: {exc}"
    if isinstance(exc, (ValueError, KeyError)):
        return f"error: {exc}"
    if isinstance(exc, MemoryError):  # past the memory check (scenario/budget.py): others took the memory since
        return (f"error: out of memory ({str(exc) or 'an allocation failed'}): the scenario needs more memory than is "
                f"free now; make it smaller (width, depth, seeds, samples), close other programs, or set "
                f"TUISIM_MEMORY to what tuisim may use")
    if isinstance(exc, OSError):
        return f"error: {exc.strerror or exc}: {exc.filename}" if exc.filename else f"error: {exc}"
    return None


def failure_text(exc: BaseException | None) -> str:
    """One line for an error that stopped a worker: the input's message, or the type and text."""
    return (user_message(exc) if exc is not None else None) or f"{type(exc).__name__}: {exc}"
