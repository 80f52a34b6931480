"""Command line: argument parsing only; the work happens in run/, core/ and app/.

    tuisim                      the app's scenario browser (headless default lesson when not a terminal)
    tuisim FILE|NAME            open a scenario in the app (headless when not a terminal)
    tuisim run FILE|NAME        run a scenario (--headless, --out DIR, --every K, --set k=v, --check)
    tuisim list                 the bundled lessons
    tuisim check FILE           validate a scenario file
    tuisim sweep FILE|NAME      run a scenario's [sweep]: a map of many runs, drawn live in the app on a
                                terminal, else headless (--grid k=v1,v2, --workers N, --scheduler
                                ADDRESS|local, --out DIR, --resume, --quick, --check, --headless)
    tuisim bench                time the engine against the NumPy reference
    tuisim serve [FOLDER|FILE]  serve the app to a browser on localhost; it opens files only inside FOLDER
"""

from __future__ import annotations

import argparse
import functools
import os
import sys

DEFAULT_SCENARIO = "vanishing_sigmoid"
COMMANDS = ("run", "list", "check", "bench", "serve", "sweep")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tuisim", description="Watch deep MLPs learn, or fail to, in your terminal.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="also:\n  tuisim                 the app's lesson browser (headless default lesson without a terminal)\n"
               "  tuisim FILE|NAME       the same as `tuisim run FILE|NAME`: open a scenario in the app\n\n"
               "examples:\n  tuisim list\n  tuisim vanishing_sigmoid\n"
               "  tuisim run vanishing_sigmoid --headless --check --out runs/vs\n"
               "  tuisim sweep sweep_tanh_phase --quick --check\n")
    from tuisim import __version__

    p.add_argument("--version", action="version", version=f"tuisim {__version__}")
    _lang_arg(p, argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command")
    # every command takes --lang too, before or after its name
    lang = argparse.ArgumentParser(add_help=False)
    _lang_arg(lang, argparse.SUPPRESS)
    sub.add_parser = functools.partial(sub.add_parser, parents=[lang])  # type: ignore[method-assign]
    r = sub.add_parser("run", help="run a scenario (in the app on a terminal, else headless)")
    r.add_argument("scenario", help="a scenario file, or the name of a bundled one (see `tuisim list`)")
    r.add_argument("--headless", action="store_true", help="no app: progress on stderr, a summary table on stdout")
    r.add_argument("--out", metavar="DIR", help="write DIR/steps.jsonl, DIR/steps.csv, DIR/summary.json and the "
                   "weights, DIR/weights/*.safetensors")
    r.add_argument("--every", type=_positive, default=1, metavar="K", help="record every K-th step (default 1)")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a key, e.g. --set model.depth=30 --set train.lr=0.01 (repeatable)")
    r.add_argument("--check", action="store_true", help="check the scenario's expectations; exit 1 if one fails")
    r.add_argument("--seed", type=int, help="override the scenario's seed")
    r.add_argument("--seeds", type=_positive, metavar="N",
                   help="run every variant at N seeds (seed, seed+1, ...): the same as --set seeds=N")
    r.add_argument("--threads", type=_positive, metavar="N",
                   help="runs trained side by side (default: the cores available)")
    _app_args(r)
    sub.add_parser("list", help="list the bundled scenarios")
    c = sub.add_parser("check", help="validate a scenario file and print its problems")
    c.add_argument("scenario")
    c.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides")
    b = sub.add_parser("bench", help="time training steps: the Numba engine against the NumPy reference")
    b.add_argument("--sizes", metavar="DxWxB,...", help="depth x width x batch sizes (default: the standard six)")
    b.add_argument("--repeats", type=_positive, help="interleaved repeats per size (median; default 7, --app 3)")
    b.add_argument("--seconds", type=float, help="time per repeat and engine (default 0.25, --app 8)")
    b.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    b.add_argument("--no-startup", action="store_true", help="skip the cold-compile and warm-start measurements")
    b.add_argument("--no-scaling", action="store_true", help="skip the multi-core scaling measurement")
    b.add_argument("--app", action="store_true",
                   help="measure what the app costs training instead: steps/s in the app against headless")
    b.add_argument("--scenario", metavar="FILE|NAME", help="with --app: the scenario (default: a 20x64 ReLU probe)")
    b.add_argument("--size", default="160x50", metavar="COLSxROWS", help="with --app: the terminal size (160x50)")
    b.add_argument("--fps", type=float, default=10.0, help="with --app: the display rate (10)")
    b.add_argument("--view", choices=("heat", "health", "hist", "about", "none"),
                   help="with --app: the lower panel to show (default: the app's)")
    w = sub.add_parser("sweep", help="run a scenario's [sweep]: one run per point and seed, a map of the measure "
                                     "(in the app on a terminal, else headless)")
    w.add_argument("scenario", help="a scenario file, or the name of a bundled one (see `tuisim list`)")
    w.add_argument("--grid", action="append", default=[], metavar="KEY=VALUES",
                   help="add or replace an axis: --grid model.depth=5,10,20 --grid train.lr=1e-4:1:9:log "
                        "(from:to:num, :log for equal ratios; repeatable)")
    w.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a key at every point, e.g. --set steps=200 (repeatable)")
    w.add_argument("--seeds", type=_positive, metavar="N", help="runs per point (default: the file's seeds)")
    w.add_argument("--quick", action="store_true", help="the shortened grid of [sweep.quick]")
    w.add_argument("--workers", type=int, metavar="N",
                   help="worker processes (default: one per core; 0: run in this process, one after another)")
    w.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask cluster (tuisim[dask]): its scheduler's address, or `local` for a Dask "
                        "LocalCluster of --workers processes")
    w.add_argument("--out", metavar="DIR", help="write DIR/sweep.csv (a row per run, as they finish) and "
                                                "DIR/sweep.json")
    w.add_argument("--resume", action="store_true", help="continue the sweep in --out DIR: skip the runs already "
                                                         "in its sweep.csv")
    w.add_argument("--check", action="store_true", help="check the [[sweep.expect]] claims; exit 1 if one fails "
                                                        "(headless)")
    w.add_argument("--headless", action="store_true", help="no app: progress on stderr, the map as a table on stdout")
    w.add_argument("--fps", type=float, default=10.0, help="display refreshes per second in the app (default 10)")
    w.add_argument("--screenshots", metavar="DIR", help="where the app saves screenshots (default: here)")
    s = sub.add_parser("serve", help="serve the app to a browser on localhost (textual-serve), opening files only "
                                     "inside the served folder")
    s.add_argument("scenario", nargs="?", metavar="FOLDER|FILE|NAME",
                   help="the folder to serve (default: here), or a scenario to open on (serving here, or the "
                        "scenario's folder when it is not inside here)")
    s.add_argument("--root", metavar="FOLDER", help="with a scenario: the folder to serve")
    s.add_argument("--port", type=int, default=8000)
    return p


def _lang_arg(p: argparse.ArgumentParser, default) -> None:
    from tuisim.i18n import LANGUAGES

    p.add_argument("--lang", choices=tuple(LANGUAGES), default=default,
                   help="the language of the interface and the lessons: zh (中文) or en (default: the locale's, "
                        "LC_ALL, LC_MESSAGES or LANG; zh_* gives Chinese)")


def _app_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fps", type=float, default=10.0, help="display refreshes per second (default 10)")
    p.add_argument("--screenshots", metavar="DIR", help="where the app saves screenshots (default: here)")


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return v


_PROCESS = False  # main() runs as the process's command (not called in-process, as the tests do)


def main(argv: list[str] | None = None) -> int:
    global _PROCESS
    _PROCESS = argv is None  # the process's own command line: it ends with the command
    argv = list(sys.argv[1:] if argv is None else argv)
    if _PROCESS:
        from tuisim.run.malloc import steady_malloc

        steady_malloc()  # flat memory however long the run (glibc)
    try:
        return _main(argv)
    except KeyboardInterrupt as exc:
        # Ctrl-C: 130; SIGTERM (headless runs raise it as Terminated): 143, as the shells report them
        signum = getattr(exc, "signum", 2)
        from tuisim.i18n import _

        print(_("interrupted") if signum == 2 else _("terminated"), file=sys.stderr)
        if _PROCESS:
            # end here: CPython may otherwise re-kill itself with SIGINT at exit (exit -2, not
            # 130) when the KeyboardInterrupt passed through an extension's code while loading
            # the engine; the run's files are closed by now
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # noqa: BLE001 - a closed pipe: nothing more to say
                    pass
            os._exit(128 + int(signum))
        return 128 + int(signum)
    except BrokenPipeError:
        # the reader of the output went away (`tuisim list | head`): stop quietly, as
        # command line tools do; stdout points at /dev/null so the exit's flush is silent
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for it
    except Exception as exc:  # bad input must never end in a traceback
        from tuisim.errors import user_message

        msg = user_message(exc)
        if msg is None or os.environ.get("TUISIM_DEBUG"):
            raise
        print(msg, file=sys.stderr)
        return 2


def _after_lang(argv: list[str]) -> int:
    """Where the words after leading `--lang X` / `--lang=X` options begin."""
    i = 0
    while i < len(argv):
        if argv[i] == "--lang":
            i += 2
        elif argv[i].startswith("--lang="):
            i += 1
        else:
            break
    return min(i, len(argv))


def _main(argv: list[str]) -> int:
    from tuisim.i18n import set_language

    first = _after_lang(argv)
    if first < len(argv) and argv[first] not in COMMANDS and not argv[first].startswith("-"):
        # `tuisim FILE|NAME [options]` is `tuisim run FILE|NAME [options]` (a `--lang`
        # before the name included); without a terminal it also checks the claims, as
        # `tuisim` alone does
        args = _parser().parse_args(["run"] + argv[first:] + argv[:first])
        set_language(getattr(args, "lang", None))
        args.check = args.check or not (_interactive() and _app_available())
        return _run(args)
    p = _parser()
    args = p.parse_args(argv)
    set_language(getattr(args, "lang", None))
    if args.command is None:
        return _open(None, args)
    if args.command == "run":
        return _run(args)
    if args.command == "list":
        return _list()
    if args.command == "check":
        return _check(args)
    if args.command == "bench":
        if args.app:
            from tuisim.app.bench import main as app_bench_main

            return app_bench_main(args)
        from tuisim.bench import main as bench_main

        return bench_main(args)
    if args.command == "sweep":
        return _sweep(args)
    if args.command == "serve":
        from tuisim.app.serve import serve

        return serve(args.scenario, args.port, args.root)
    return 2


def _interactive() -> bool:
    return sys.stdout.isatty() and sys.stdin.isatty()


def _app_available() -> bool:
    try:
        import tuisim.app.factory  # noqa: F401
    except ImportError:
        return False
    return True


def _open(name: str | None, args) -> int:
    if _interactive() and not getattr(args, "headless", False) and _app_available():
        from tuisim.app.factory import make_app

        app = make_app(name, fps=getattr(args, "fps", 10.0), screenshots=getattr(args, "screenshots", None),
                       seed=getattr(args, "seed", None), lang=getattr(args, "lang", None))
        app.run()
        return getattr(app, "return_code", 0) or 0
    from tuisim.i18n import _
    from tuisim.run.headless import run_headless
    from tuisim.scenario import load_scenario

    scenario = load_scenario(name or DEFAULT_SCENARIO)
    if name is None:
        print(_("(not a terminal: running the lesson {name!r} headless; `tuisim list` shows them all)").format(
            name=scenario.name), file=sys.stderr)
    run_headless(scenario, check=True)
    return 0


def _terminated(signum, frame):
    exc = KeyboardInterrupt()
    exc.signum = signum  # main exits 128 + signum
    raise exc


def _run(args) -> int:
    import signal

    # as the process's command: SIGTERM stops as Ctrl-C does (exit 143), also before the
    # headless run installs its own handlers (while the scenario and the data load)
    old_term = signal.signal(signal.SIGTERM, _terminated) if _PROCESS else None
    from tuisim.i18n import _
    from tuisim.scenario import load_scenario

    overrides = list(args.overrides) + ([f"seeds={args.seeds}"] if args.seeds else [])
    scenario = load_scenario(args.scenario, overrides)
    if not args.headless and _interactive() and _app_available() and not args.out and not args.check:
        from tuisim.app.factory import make_app

        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)  # the app's as before

        app = make_app(scenario, fps=args.fps, screenshots=args.screenshots, seed=args.seed, threads=args.threads,
                       lang=getattr(args, "lang", None))
        app.run()
        return 0
    from tuisim.run.headless import run_headless

    # as the process's command, signals after the first (or after the end) stay ignored until it exits
    results = run_headless(scenario, out_dir=args.out, record_every=args.every, check=args.check, seed=args.seed,
                           threads=args.threads, keep_signals=_PROCESS)[1]
    if args.out:
        files = _("wrote {out}/steps.jsonl, steps.csv, summary.json") if scenario.surface else \
            _("wrote {out}/steps.jsonl, steps.csv, summary.json and weights/")
        print("\n" + files.format(out=args.out), file=sys.stderr)
    return 1 if any(not r.passed for r in results) else 0


def _sweep(args) -> int:
    from tuisim.sweep import SweepError, SweepRun, load_sweep
    from tuisim.sweep.headless import CLUSTER_LOST, run_sweep_headless

    if args.resume and not args.out:
        raise SweepError("--resume continues the sweep written to --out DIR: give --out")
    if args.workers is not None and args.workers < 0:
        raise SweepError(f"--workers must be >= 0, not {args.workers}")
    if not args.headless and not args.check and _interactive() and _app_available():
        from tuisim.app.factory import make_app
        from tuisim.app.sweep_driver import SweepSpec

        spec = SweepSpec(args.scenario, tuple(args.overrides), tuple(args.grid), args.seeds, args.quick, args.workers,
                         args.scheduler, args.out, args.resume)
        spec.plan()  # every problem of the file, the command line or a point: exit 2 before the app starts
        if args.scheduler is not None:
            SweepRun(spec.plan(), workers=args.workers, scheduler=args.scheduler)  # SweepError without Dask
        app = make_app(None, fps=args.fps, screenshots=args.screenshots, sweep=spec, lang=getattr(args, "lang", None))
        app.run()
        return getattr(app, "return_code", 0) or 0
    from tuisim.run.headless import Signals

    # as the process's command: SIGTERM (kill, a closed SSH session) stops the sweep as
    # Ctrl-C does, its results so far written (exit 143); later signals wait for the files
    signals = Signals().install() if _PROCESS else None
    plan = load_sweep(args.scenario, args.overrides, args.grid, quick=args.quick, seeds=args.seeds)
    sweep = SweepRun(plan, workers=args.workers, scheduler=args.scheduler, out_dir=args.out, resume=args.resume)
    results = run_sweep_headless(sweep, check=args.check, signals=signals)  # says what it wrote, how to resume
    if sweep.lost is not None:
        return CLUSTER_LOST  # 3: the cluster was lost; the map is incomplete
    failed_runs = any(r.status != "ok" for r in sweep.results.results)
    return 1 if failed_runs or any(not c.passed and not c.skipped for c in results) else 0


def _list() -> int:
    from tuisim.i18n import _, scenario_text
    from tuisim.scenario import bundled_scenarios, load_scenario

    rows = []
    for path in bundled_scenarios():
        sc = load_scenario(path)
        rows.append((", ".join(sc.lessons), path.stem, f"x{sc.seeds}" if sc.seeds > 1 else "",
                     scenario_text(sc, "title")))
    if not rows:
        print(_("no bundled scenarios found"), file=sys.stderr)
        return 1
    w = [max(len(r[k]) for r in rows) for k in range(3)]
    for lessons, stem, seeds, title in sorted(rows, key=lambda r: _lesson_key(r[0])):
        print(f"{lessons:<{w[0]}}  {stem:<{w[1]}}  {seeds:<{w[2]}}  {title}")
    print("\n" + _("(xN: the lesson runs every variant at N seeds and judges its claims on the median)"))
    return 0


def _lesson_key(lessons: str):
    first = lessons.split(",")[0].strip().lstrip("L")
    parts = []
    for x in first.split("."):
        parts.append(int(x) if x.isdigit() else 0)
    return parts


def _check(args) -> int:
    from tuisim.i18n import _, ngettext, scenario_text
    from tuisim.scenario import load_scenario

    sc = load_scenario(args.scenario, args.overrides)
    n = len(sc.variants)
    sweep = ""
    if sc.sweep is not None:
        points = 1
        for axis in sc.sweep.axes:
            points *= len(axis.values)
        k = len(sc.sweep.expects)
        sweep = _("; a sweep of {points} x {seeds}, {claims}").format(
            points=ngettext("{n} point", "{n} points", points).format(n=points),
            seeds=ngettext("{n} seed", "{n} seeds", sc.sweep.seeds).format(n=sc.sweep.seeds),
            claims=ngettext("{n} claim about the map", "{n} claims about the map", k).format(n=k))
    variants = ngettext("{n} variant", "{n} variants", n).format(n=n)
    if sc.seeds > 1:
        variants = _("{variants} at {n} seeds").format(variants=variants, n=sc.seeds)
    expects = ngettext("{n} expectation", "{n} expectations", len(sc.expects)).format(n=len(sc.expects))
    steps = ngettext("{n} step", "{n} steps", sc.steps).format(n=sc.steps)
    print(_("{path}: ok ({title!r}; {variants}, {expects}, {steps}{sweep})").format(
        path=sc.path or args.scenario, title=scenario_text(sc, "title"), variants=variants, expects=expects,
        steps=steps, sweep=sweep))
    return 0
