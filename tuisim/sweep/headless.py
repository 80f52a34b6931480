"""Headless sweeps: a progress bar (count, failures, ETA) on stderr, then the map as a
table on stdout: mean ± spread over seeds per cell (a matrix for one or two axes, one
row per cell otherwise), the failed runs and the claims.

A sweep that ends early (Ctrl-C, or its Dask cluster lost) says so on its title line,
"(interrupted: N of M runs; why)", judges the claims only on complete cells, and ends
with the command that finishes it (`... --out DIR --resume`). A lost cluster is exit
status `CLUSTER_LOST` (3); Ctrl-C is raised on (130)."""

from __future__ import annotations

import math
import sys
import time

from tuisim.run.compare import clock

from .expects import SweepCheck
from .sweep_run import SweepRun
from .tasks import OK

CLUSTER_LOST = 3  # the exit status of a sweep that ended because its cluster was lost


class SweepProgress:
    """One line on stderr; redrawn in place on a terminal, else printed every few seconds."""

    def __init__(self, sweep: SweepRun, stream=None):
        self.sweep = sweep
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last = 0.0

    def line(self) -> str:
        p = self.sweep.progress()
        n = 24
        frac = p["done"] / p["total"] if p["total"] else 1.0
        bar = "#" * int(frac * n) + "-" * (n - int(frac * n))
        failed = f"  {p['failed']} failed" if p["failed"] else ""
        ex = self.sweep.executor
        where = f"  ({ex.name})" if ex is not None else ""
        ended = self.sweep.interrupted or self.sweep.lost is not None
        eta = ("cluster lost" if self.sweep.lost is not None else "interrupted") if ended else f"ETA {clock(p['eta'])}"
        return (f"[{bar}] {p['done']:>{len(str(p['total']))}}/{p['total']} runs{failed}  "
                f"{clock(p['elapsed'])} elapsed  {eta}{where}")

    def update(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        if self.tty:
            self.stream.write("\r\x1b[2K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def finish(self) -> None:
        self.update(force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4):
        return f"{v:.3g}"
    return f"{v:.3f}" if abs(v) < 10 else f"{v:.4g}"


def _cell_text(mean, spread, n, failed, diverged) -> str:
    if n == 0:
        return "failed" if failed else "-"
    s = fmt(mean)
    if not math.isnan(spread):
        s += f"±{fmt(spread)}"
    return s + ("!" if failed else "") + ("*" if diverged else "")


def _render(rows: list[list[str]], right_from: int = 1) -> str:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    out = []
    for k, row in enumerate(rows):
        out.append("  ".join(cell.rjust(w) if c >= right_from else cell.ljust(w)
                             for c, (cell, w) in enumerate(zip(row, widths))).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def sweep_table(sweep: SweepRun) -> str:
    """The map as text: mean±spread per cell ('!': some seeds failed, '*': some diverged)."""
    g, res = sweep.grid, sweep.results
    means, spread, counts, fails, div = res.means(), res.spread(), res.counts(), res.failures(), res.diverged()
    text = {cell: _cell_text(means[cell], spread[cell], counts[cell], fails[cell], div[cell]) for cell in g.cells()}
    axes = g.explicit_axes
    vk = g.axis_index("variant")
    blocks = []
    if len(axes) == 1:
        a = axes[0]
        rows = [[a.label] + list(g.variants)]
        for i, lab in enumerate(a.labels):
            rows.append([lab] + [text[(i, j) if vk is not None else (i,)] for j in range(len(g.variants))])
        blocks.append(_render(rows))
    elif len(axes) == 2:
        x, y = axes
        for j, variant in enumerate(g.variants):
            rows = [[f"{y.label} \\ {x.label}"] + list(x.labels)]
            for i, ylab in enumerate(y.labels):
                rows.append([ylab] + [text[(c, i, j) if vk is not None else (c, i)] for c in range(len(x))])
            title = f"{variant}:\n" if len(g.variants) > 1 else ""
            blocks.append(title + _render(rows))
    else:
        head = [a.label for a in g.axes] + ["mean±spread", "n"]
        rows = [head]
        for cell in g.cells():
            rows.append([a.labels[i] for a, i in zip(g.axes, cell)] + [text[cell], str(int(counts[cell]))])
        blocks.append(_render(rows, right_from=len(g.axes)))
    notes = []
    if sweep.interrupted and res.missing().any():
        notes.append("-: runs missing (the sweep was interrupted)")
    if fails.any():
        notes.append("!: some seeds failed")
    if div.any():
        notes.append("*: some seeds diverged")
    if len(g.seeds) > 1:
        notes.insert(0, f"mean±spread (standard deviation) over seeds {g.seeds[0]}..{g.seeds[-1]}")
    return "\n\n".join(blocks) + ("\n" + "; ".join(notes) if notes else "")


def interruption(sweep: SweepRun) -> str:
    """'interrupted: 9 of 27 runs; the Dask cluster at ... was lost: ...' ('' when every run is done)."""
    res = sweep.results
    if not sweep.interrupted and sweep.lost is None:
        return ""
    why = f"; {sweep.lost}" if sweep.lost is not None else ""
    return f"interrupted: {res.done} of {res.total} runs{why}"


def resume_hint(sweep: SweepRun, *flags: str) -> str:
    """What to do about an interrupted sweep: where its results are and the command that finishes it."""
    res = sweep.results
    left = res.total - res.done
    command = sweep.resume_command(*flags)
    where = "on a new cluster (or this one, restarted; give its scheduler's address if it moved)" \
        if sweep.lost is not None and sweep.scheduler not in (None, "local") else ""
    if command is None:
        return (f"Its {res.done} result{'s' * (res.done != 1)} so far {'are' if res.done != 1 else 'is'} not "
                f"kept (no --out): run the sweep with --out DIR, which keeps every result as it arrives, and a "
                f"sweep cut short finishes with --resume, running only the {left} missing.")
    kept = f"The {res.done} result{'s' * (res.done != 1)} so far {'are' if res.done != 1 else 'is'} in " \
           f"{sweep.out_dir / 'sweep.csv'}"
    return f"{kept}; to run the other {left}{' ' + where if where else ''}:\n  {command}"


def run_sweep_headless(sweep: SweepRun, *, check: bool = False, stdout=None, stderr=None, quiet: bool = False,
                       signals=None) -> list[SweepCheck]:
    """Run to the end; Ctrl-C (or SIGTERM, with `signals`, a tuisim.run.headless.Signals)
    stops early, prints what was done, and still writes the files (then raises the
    KeyboardInterrupt, Terminated for SIGTERM); a lost cluster ends it the same way
    (`sweep.lost` says why; the CLI exits CLUSTER_LOST). Either way the last lines say how
    to resume. With `signals`, a signal that comes once the sweep is over waits until
    everything is printed."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    progress = None if quiet else SweepProgress(sweep, stderr)
    interrupted: KeyboardInterrupt | None = None
    it = sweep.run()
    try:
        for _ in it:
            if progress is not None:
                progress.update()
    except KeyboardInterrupt as exc:
        interrupted = exc
    finally:
        if signals is not None:
            signals.hold()
        it.close()  # the sweep's files are written and its workers gone before anything is printed
        if progress is not None:
            progress.finish()
    plan = sweep.plan
    g = sweep.grid
    shape = " x ".join(f"{len(a)} {a.label}" for a in g.explicit_axes) or "no axis"
    series = f", {len(g.variants)} variants" if len(g.variants) > 1 else ""
    cut = interruption(sweep)
    print(f"\n{plan.scenario.title}" + (" (quick grid)" if plan.quick else "") + (f"  ({cut})" if cut else ""),
          file=stdout)
    print(f"{plan.measure.describe()} over {shape}{series}; {len(g.seeds)} seed{'s' * (len(g.seeds) > 1)} "
          f"per point\n", file=stdout)
    print(sweep_table(sweep), file=stdout)
    bad = [r for r in sweep.results.results if r.status != OK]
    if bad:
        print(f"\n{len(bad)} run{'s' * (len(bad) > 1)} did not finish:", file=stdout)
        for r in bad[:10]:
            print(f"  {g.describe(r.cell)}, seed {r.seed}: {r.status}: {r.error}", file=stdout)
        if len(bad) > 10:
            print(f"  ... and {len(bad) - 10} more (see sweep.csv)", file=stdout)
    results = sweep.check() if check else []
    if results:
        only = " (judged on complete cells only: the sweep was interrupted)" if cut else ""
        print(f"\nExpectations about the map{only}:", file=stdout)
        for c in results:
            print("  " + c.line(), file=stdout)
    stdout.flush()
    if sweep.out_dir is not None:
        print(f"\nwrote {sweep.out_dir / 'sweep.csv'} and sweep.json", file=stderr)
    if cut:
        print(f"\n{cut[0].upper()}{cut[1:]}.", file=stderr)
        print(resume_hint(sweep, "--check" if check else "--headless"), file=stderr)
    stderr.flush()
    if signals is not None:
        try:
            signals.release()  # a signal that came while the results were printed
        except KeyboardInterrupt as exc:
            interrupted = interrupted or exc
    if interrupted is not None:
        raise interrupted
    return results
