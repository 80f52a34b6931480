"""Headless runs: progress on stderr, a summary table on stdout, optional files and checks."""

from __future__ import annotations

import math
import sys
import time

from .checks import CheckResult
from .record import RunWriter
from .session import ScenarioRun


class Progress:
    """One bar per variant on stderr; redrawn in place on a terminal, else a line now and then."""

    def __init__(self, session: ScenarioRun, stream=None):
        self.session = session
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.drawn = 0
        self.last = 0.0
        self.width = max(len(r.label) for r in session.runs)

    def line(self, run) -> str:
        total = run.total_steps
        frac = run.step / total if total else 1.0
        n = 24
        fill = int(frac * n)
        bar = "#" * fill + "-" * (n - fill)
        state = run.status if run.status != "diverged" else f"diverged at step {run.diverged_at}"
        if run.pretrain_status:
            state = run.pretrain_status
        loss = run.history.column("loss")
        last = f"loss {loss[-1]:.4g}" if len(loss) else ""
        return f"{run.label:<{self.width}} [{bar}] {run.step:>6}/{total} {state:<10} {last}"

    def update(self, session=None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < (0.1 if self.tty else 5.0):
            return
        self.last = now
        lines = [self.line(r) for r in self.session.runs]
        if self.tty:
            if self.drawn:
                self.stream.write(f"\x1b[{self.drawn}F")
            for ln in lines:
                self.stream.write("\x1b[2K" + ln + "\n")
            self.drawn = len(lines)
        else:
            for ln in lines:
                self.stream.write(ln + "\n")
        self.stream.flush()


def summary_table(session: ScenarioRun) -> str:
    rows = [("variant", "status", "steps", "train loss", "train acc", "test loss", "test acc", "|dW| first",
             "|dW| last", "time")]
    for r in session.runs:
        s = r.summary()
        status = s["status"] if not s["diverged"] else f"diverged@{s['diverged_at']}"
        rows.append((r.label, status, str(s["steps"]), _g(s["train_loss"]), _pct(s["train_accuracy"]),
                     _g(s["test_loss"]), _pct(s["test_accuracy"]), _g(s["grad_norm_first"]),
                     _g(s["grad_norm_last"]), f"{s['wall_time']:.1f}s"))
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    out = []
    for k, row in enumerate(rows):
        out.append("  ".join(cell.ljust(w) if c < 2 else cell.rjust(w) for c, (cell, w) in
                             enumerate(zip(row, widths))).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _g(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3g}" if abs(v) < 1e-3 or abs(v) >= 1e4 else f"{v:.4f}"


def _pct(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{100 * v:.1f}%"


def run_headless(scenario, *, out_dir=None, record_every: int = 1, check: bool = False, seed: int | None = None,
                 stdout=None, stderr=None, quiet: bool = False) -> tuple[ScenarioRun, list[CheckResult]]:
    """Run every variant to the end. Ctrl-C stops early and still writes what was done."""
    stdout = stdout or sys.stdout
    # every step is kept in memory (the checks need them all); --every thins the files
    session = ScenarioRun(scenario, seed=seed)
    writer = RunWriter(out_dir, session, every=record_every) if out_dir else None
    progress = None if quiet else Progress(session, stderr)
    interrupted = False
    if not quiet:
        err = stderr or sys.stderr
        print("loading the compiled engine (the very first run compiles it: about 30 s)...", file=err, flush=True)
    from tuisim.core import warm_up

    for dtype in sorted({r.net.config["dtype"] for r in session.runs}):
        warm_up(dtype)  # so that no variant's time includes the compilation
    t0 = time.perf_counter()

    def on_chunk(s):
        if writer is not None:
            writer.flush()
        if progress is not None:
            progress.update()

    try:
        if progress is not None:
            progress.update(force=True)
        session.run(chunk=25, on_chunk=on_chunk)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if progress is not None:
            progress.update(force=True)
        results = session.check() if (check and not interrupted) else []
        if writer is not None:
            writer.close({
                "scenario": scenario.name, "title": scenario.title, "seed": session.seed,
                "interrupted": interrupted, "wall_time": time.perf_counter() - t0,
                "variants": [r.summary() for r in session.runs],
                "checks": [{"text": c.text, "claim": c.expect.claim, "passed": c.passed} for c in results],
            })
    print(f"\n{scenario.title}" + ("  (interrupted)" if interrupted else ""), file=stdout)
    print(summary_table(session), file=stdout)
    if results:
        print("\nExpectations:", file=stdout)
        for c in results:
            print("  " + c.line(), file=stdout)
    if interrupted:
        raise KeyboardInterrupt
    return session, results
