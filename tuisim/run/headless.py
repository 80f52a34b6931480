"""Headless runs: progress on stderr, a summary table on stdout, optional files and checks."""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
import unicodedata
from contextlib import contextmanager

import numpy as np

from tuisim.i18n import N_, _, scenario_text

from .checks import CheckResult, check_record
from .pretrain import follow
from .record import RunWriter
from .session import ScenarioRun


class Terminated(KeyboardInterrupt):
    """SIGTERM (kill, systemd, a closed SSH session): stops a run as Ctrl-C does; the
    command line exits with 143 for it (130 for Ctrl-C)."""

    signum = signal.SIGTERM


class Signals:
    """SIGINT and SIGTERM while a headless run goes on. The first one raises
    KeyboardInterrupt (Terminated for SIGTERM) in the main thread, or, while `held`
    (setting up, writing a record, the shutdown), as soon as the hold ends; every later
    one is ignored, so a second Ctrl-C cannot cut the shutdown's writing short.
    Outside the main thread (where handlers cannot be installed) it does nothing."""

    def __init__(self):
        self.got: int | None = None  # the first signal
        self.pending = False
        self.held = False
        self._old: dict = {}

    def install(self) -> "Signals":
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def restore(self) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)
        self._old = {}

    def ignore(self) -> None:
        """From now on SIGINT and SIGTERM do nothing, to the end of the process."""
        for s in self._old:
            signal.signal(s, signal.SIG_IGN)

    def exception(self) -> KeyboardInterrupt:
        return Terminated() if self.got == signal.SIGTERM else KeyboardInterrupt()

    def _handle(self, signum, frame) -> None:
        if self.got is not None:
            return
        self.got = signum
        if self.held:
            self.pending = True
        else:
            raise self.exception()

    def hold(self) -> None:
        self.held = True

    def release(self) -> None:
        """End the hold; a signal that came during it is raised now."""
        self.held = False
        if self.pending:
            self.pending = False
            raise self.exception()

    @contextmanager
    def deferred(self):
        was = self.held
        self.held = True
        try:
            yield
        finally:
            if not was:
                self.release()


class Progress:
    """One bar per variant (all its seeds together) on stderr; redrawn in place on a
    terminal, else a line now and then."""

    def __init__(self, session: ScenarioRun, stream=None):
        self.session = session
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.drawn = 0
        self.last = 0.0
        self.width = max(len(g.label) for g in session.groups)

    def line(self, group) -> str:
        runs = group.runs
        total = sum(r.total_steps for r in runs)
        done = sum(r.total_steps if r.finished else r.step for r in runs)
        frac = done / total if total else 1.0
        n = 24
        fill = int(frac * n)
        bar = "#" * fill + "-" * (n - fill)
        div = [r for r in runs if r.status == "diverged"]
        if len(runs) == 1:
            r = runs[0]
            state = _(r.status) if not div else _("diverged at step {step}").format(step=r.diverged_at)
            step = f"{r.step:>6}/{r.total_steps}"
        else:
            states = [r.status for r in runs]
            word = (_("done") if all(st == "done" for st in states) else
                    _("running") if any(st != "done" and st != "diverged" for st in states) else _("finished"))
            state = _("{n} seeds {state}").format(n=len(runs), state=word)
            if div:
                state += _(", {n} diverged").format(n=len(div))
            step = f"{group.step:>6}/{max(r.total_steps for r in runs)}"
        notes = [r.pretrain_status for r in runs if r.pretrain_status]
        if notes:
            state = notes[0]
        losses = [r.history.column("loss")[-1] for r in runs if r.history.n]
        last = ""
        if losses:
            what = _("batch loss") if len(losses) == 1 else _("median batch loss")
            if self.session.surface:
                what = _("loss") if len(losses) == 1 else _("median loss")
            last = f"{what} {float(np.median(losses)):.4g}"
        return f"{group.label:<{self.width}} [{bar}] {step} {pad(state, 10)} {last}"

    def update(self, session=None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < (0.1 if self.tty else 5.0):
            return
        self.last = now
        lines = [self.line(g) for g in self.session.groups]
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


# train and test: the whole sets, evaluated (evaluation mode) at the end; the progress
# lines' "batch loss" is the last training batch's, which differs from it
COLUMNS = (("train_loss", N_("train loss (eval)"), "g"), ("train_accuracy", N_("train acc"), "pct"),
           ("test_loss", N_("test loss"), "g"), ("test_accuracy", N_("test acc"), "pct"),
           ("grad_norm_first", N_("|dW| first"), "g"), ("grad_norm_last", N_("|dW| last"), "g"))
# points on a surface: where each one stopped (its loss, distance to the nearest minimum),
# the length of its path and the sign changes of its steep coordinate's updates
PATH_COLUMNS = (("loss", N_("loss"), "g"), ("distance_to_minimum", N_("to minimum"), "g"),
                ("path_length", N_("path length"), "g"), ("oscillation", N_("oscillations"), "int"))


def summary_table(session: ScenarioRun) -> str:
    """A row per variant: its final numbers (evaluated on the whole train and test sets);
    with several seeds, the median, and beneath it the [min, max] across the seeds."""
    several = len(session.seeds) > 1
    fmt = {"g": _g, "pct": _pct, "int": _int}
    columns = PATH_COLUMNS if session.surface else COLUMNS
    head = (_("variant"), _("seeds") if several else _("status"), _("steps")) + tuple(_(c[1]) for c in columns) \
        + (_("time"),)
    rows = [head]
    for g in session.groups:
        s = g.summary()
        if not several:
            r = s["runs"][0]
            status = _(r["status"]) if not r["diverged"] else f"{_('diverged')}@{r['diverged_at']}"
            rows.append((g.label, status, str(r["steps"])) + tuple(fmt[f](r[k]) for k, _, f in columns)
                        + (f"{r['wall_time']:.1f}s",))
            continue
        div = s["diverged_seeds"]
        status = f"{len(g.runs)}" + (_(", {n} diverged ({seeds})").format(n=len(div), seeds=", ".join(map(str, div)))
                                     if div else "")
        med = {k: (s[k]["median"] if s[k] else None) for k, _, _ in columns}
        steps = s["steps"]
        rows.append((g.label, status, str(int(steps["median"])) if steps else "-")
                    + tuple(fmt[f](med[k]) for k, _, f in columns) + (f"{s['wall_time']['median']:.1f}s",))
        rows.append(("", "", "") + tuple(_range(s[k], fmt[f]) for k, _, f in columns) + ("",))
    widths = [max(cell_len(row[c]) for row in rows) for c in range(len(rows[0]))]
    out = []
    for k, row in enumerate(rows):
        out.append("  ".join(pad(cell, w, right=c >= 2) for c, (cell, w) in enumerate(zip(row, widths))).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    whole = (_("where each point stopped, after its last step") if session.surface else
             _("train and test: the whole sets, evaluated at the end; \"batch loss\" in the progress: the last batch"))
    if several:
        out.append(_("(each variant at seeds {first}-{last}: the median, and beneath it [min, max]; {whole})").format(
            first=session.seeds[0], last=session.seeds[-1], whole=whole))
    else:
        out.append(f"({whole})")
    return "\n".join(out)


def cell_len(text: str) -> int:
    """The columns `text` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded with spaces to `width` terminal columns (on the left when `right`)."""
    fill = " " * max(0, width - cell_len(text))
    return fill + text if right else text + fill


def _g(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3g}" if abs(v) < 1e-3 or abs(v) >= 1e4 else f"{v:.4f}"


def _int(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"


def _pct(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{100 * v:.1f}%"


def _range(spread, fmt) -> str:
    if not spread:
        return ""
    return f"[{fmt(spread['min'])}, {fmt(spread['max'])}]"


def run_headless(scenario, *, out_dir=None, record_every: int = 1, check: bool = False, seed: int | None = None,
                 stdout=None, stderr=None, quiet: bool = False, threads: int | None = None,
                 keep_signals: bool = False) -> tuple[ScenarioRun, list[CheckResult]]:
    """Run every variant to the end. Ctrl-C (SIGINT) or SIGTERM stops early and still
    writes what was done, each record once, with summary.json marked interrupted; it is
    then raised (KeyboardInterrupt, or Terminated for SIGTERM). Signals are ignored from
    the first one on, so a second one does not disturb the writing. `keep_signals`
    (for a process that ends with the run: the command line) leaves them ignored after
    it returns, so that a signal while the process exits changes neither its files
    nor its exit code."""
    stdout = stdout or sys.stdout
    signals = Signals().install()
    signals.hold()  # until the writer exists: a signal meanwhile still gets a summary.json
    try:
        # every step is kept in memory (the checks need them all); --every thins the files
        session = ScenarioRun(scenario, seed=seed, threads=threads)
        writer = RunWriter(out_dir, session, every=record_every) if out_dir else None
    except BaseException:
        signals.restore()
        raise
    progress = None if quiet else Progress(session, stderr)

    def redraw() -> None:  # from a pretraining in the main thread (training threads leave it to on_chunk)
        if progress is not None and threading.current_thread() is threading.main_thread():
            progress.update()

    # a long pretraining shows its steps within the layer, and stops at the first signal
    follow(session.runs, should_stop=lambda: signals.got is not None, redraw=redraw)
    interrupted: KeyboardInterrupt | None = None
    results: list[CheckResult] = []
    t0 = time.perf_counter()

    def on_chunk(s):
        if writer is not None:
            with signals.deferred():  # a record's JSONL line and CSV row go out together
                writer.flush()
        if progress is not None:
            progress.update()

    try:
        signals.release()
        if not quiet:
            err = stderr or sys.stderr
            print(f"{session.engine_text()}...", file=err, flush=True)
        if not quiet and len(session.seeds) > 1:
            print(_("{variants} variants x {seeds} seeds ({first}-{last}) on {threads} threads").format(
                variants=len(session.groups), seeds=len(session.seeds), first=session.seeds[0],
                last=session.seeds[-1], threads=min(session.threads, len(session.runs))), file=err, flush=True)
        session.warm_up()  # so that no variant's time includes the compilation
        t0 = time.perf_counter()
        if progress is not None:
            progress.update(force=True)
        session.run(chunk=25, on_chunk=on_chunk)
        signals.hold()
    except KeyboardInterrupt as exc:
        interrupted = exc
    finally:
        signals.hold()  # from here on a signal waits until the files are written
        try:
            if progress is not None:
                progress.update(force=True)
            results = session.check() if (check and interrupted is None and signals.got is None) else []
            if writer is not None:
                writer.flush()
                summary = {
                    "scenario": scenario.name, "title": scenario.title, "seed": session.seed, "seeds": session.seeds,
                    "interrupted": interrupted is not None or signals.got is not None,
                    "wall_time": time.perf_counter() - t0,
                    "variants": [g.summary() for g in session.groups],
                    "checks": [check_record(c) for c in results],
                }
                writer.close(summary)
        except BaseException:
            signals.restore()
            raise
    try:
        if interrupted is None and signals.got is not None:  # came during the shutdown of a finished run
            interrupted = signals.exception()
        print(f"\n{scenario_text(scenario, 'title')}" + (f"  ({_('interrupted')})" if interrupted is not None else ""),
              file=stdout)
        print(summary_table(session), file=stdout)
        if results:
            print("\n" + _("Expectations:"), file=stdout)
            for c in results:
                print("  " + c.line(), file=stdout)
    finally:
        if keep_signals:  # SIG_IGN, not a Python handler: the interpreter resets those as it exits
            signals.ignore()
        else:
            signals.restore()
    if interrupted is not None:
        raise interrupted
    return session, results
