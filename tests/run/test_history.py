"""A run's history is bounded (older records thinned), while its files and its claims
stay whole and exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tuisim.run.history as history_module
from tuisim.run.checks import metric_value
from tuisim.run.history import History, bucket_choice, default_limit
from tuisim.run.record import RunWriter
from tuisim.run.session import ScenarioRun
from tuisim.run.tracking import ExactSum
from tuisim.run.variant_run import VariantRun
from tuisim.scenario import load_scenario
from tuisim.scenario.metrics import METRICS

TINY = Path(__file__).resolve().parents[1] / "data" / "good_scenarios" / "tiny.toml"
LIMIT = 64


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(history_module, "default_limit", lambda layers, fields=None: LIMIT)


def _tiny(steps: int, *extra: str):
    return load_scenario(str(TINY), overrides=[f"steps={steps}", *extra])


def test_default_limit_fits_the_budget():
    for layers in (2, 21, 101, 1001):
        n = default_limit(layers)
        assert history_module.MIN_RECORDS <= n <= history_module.MAX_RECORDS
    assert default_limit(2) == history_module.MAX_RECORDS  # a shallow net: the most records
    assert default_limit(101) < default_limit(21)
    per_record = 8 * (len(history_module.SCALAR_FIELDS) + 1 + 8 * 21)
    assert default_limit(21) * per_record <= history_module.BUDGET < (default_limit(21) + 1) * per_record
    assert default_limit(1001) == history_module.MIN_RECORDS  # a very deep net: still enough for a plot


def test_bucket_choice_prefers_a_tested_record():
    steps = np.arange(12)
    tested = np.zeros(12, dtype=bool)
    tested[[5, 6, 9]] = True
    # buckets of 4: [0-3] first, [4-7] its first tested (5), [8-11] 9
    assert bucket_choice(steps, tested, 4).tolist() == [0, 5, 9]
    assert bucket_choice(steps, tested, 1).tolist() == list(range(12))


def test_a_long_run_keeps_a_bounded_thinned_history(small_limit):
    sc = _tiny(3000)
    full = VariantRun(sc, sc.variants[0])
    full.history.limit = 10 ** 9  # never thinned: the reference
    run = VariantRun(sc, sc.variants[0])
    for _ in range(30):
        full.advance(100)
        run.advance(100)
        h = run.history
        assert h.n <= LIMIT + 100 and len(h.snapshot().index) <= 2 * LIMIT + 100
    h = run.history
    assert h.thinned and h.total == 3000 == full.history.n
    steps = h.steps()
    assert steps[0] == 0 and steps[-1] == 2999
    assert np.all(np.diff(steps) > 0)
    # the newest records (a quarter of the limit, then the last append's 100) at full resolution,
    # the older ones at most one per `width` steps
    recent = LIMIT // 4 + 100
    assert np.all(np.diff(steps[-recent:]) == 1)
    old = steps[:-recent]
    assert len(np.unique(old // h.width)) == len(old) and h.width > 1
    # every kept record is the run's own record of that step, bit for bit
    at = np.searchsorted(full.history.steps(), steps)
    for f in ("loss", "test_loss", "grad_norm", "act_std", "lr"):
        assert np.array_equal(h.column(f), full.history.column(f)[at], equal_nan=True), f
    # a test evaluation (every 5 steps) is kept where its bucket has one
    assert np.all(old[~np.isnan(h.column("test_loss")[:len(old)])] % 5 == 0)
    assert (~np.isnan(h.column("test_loss")[:len(old)])).mean() > 0.9


def _per_step_claims(layers: int):
    """(metric, layer, at, threshold) of every per-step metric at every `at`."""
    ats = ("start", "end", "min", "max", "mean", 0, 777, 2999, None)
    for name, m in METRICS.items():
        if m.kind == "run" or m.applies == "surface":
            continue
        for layer in (("mean", "min", "max", 0, -1, layers - 2) if m.layered else (None,)):
            for at in ats:
                yield name, layer, at, None
    for threshold in (0.2, 0.5, 1e-9):
        yield "steps_to_loss", None, None, threshold


def test_tracked_claims_are_exact_after_thinning(small_limit):
    sc = _tiny(3000)
    variant = sc.variants[1]  # relu: dead units, a 5-layer net
    claims = list(_per_step_claims(variant.model["depth"] + 1))
    full = VariantRun(sc, variant)
    full.history.limit = 10 ** 9
    run = VariantRun(sc, variant, track=claims)
    for chunk in (1, 7, 100, 513, 1024, 1355):  # chunkings of all sizes
        full.advance(chunk)
        run.advance(chunk)
    assert run.history.thinned and not full.history.thinned and run.step == full.step == 3000
    for metric, layer, at, threshold in claims:
        got = metric_value(run, metric, layer, at, threshold)
        want = metric_value(full, metric, layer, at, threshold)
        assert got == want or (np.isnan(got) and np.isnan(want)), (metric, layer, at, threshold, got, want)


def test_an_untracked_claim_on_a_thinned_history_is_refused(small_limit):
    sc = _tiny(1000)
    run = VariantRun(sc, sc.variants[0], track=[("loss", None, "min", None)])
    while not run.finished:
        run.advance(100)
    assert run.history.thinned
    # the tracked minimum is the whole run's, below (or at) the thinned records' one
    assert metric_value(run, "loss", None, "min") <= float(np.nanmin(run.history.column("loss")))
    with pytest.raises(ValueError, match="not tracked"):
        metric_value(run, "loss", None, "max")


def test_a_scenarios_claims_are_tracked_and_judged_alike(small_limit, monkeypatch):
    sc = _tiny(2000)
    thin = ScenarioRun(sc, threads=1)
    thin.advance(2000)
    assert all(r.history.thinned for r in thin.runs)
    monkeypatch.setattr(history_module, "default_limit", lambda layers, fields=None: 10 ** 6)
    whole = ScenarioRun(sc, threads=1)
    whole.advance(2000)
    assert not any(r.history.thinned for r in whole.runs)
    a, b = thin.check(), whole.check()
    assert [c.per_seed for c in a] == [c.per_seed for c in b] and [c.passed for c in a] == [c.passed for c in b]


def exact_mean(values):
    s = ExactSum()
    s.add(values)
    return s.mean()


def test_the_mean_is_rounded_once_whatever_the_chunks():
    rng = np.random.default_rng(0)
    x = np.exp(rng.normal(0, 8, 10_000))  # a wide range of magnitudes: naive sums round differently
    assert exact_mean(x.tolist()) == exact_mean(x[::-1].tolist())
    assert exact_mean(x.tolist()) == pytest.approx(float(np.mean(x)), rel=1e-12)
    assert exact_mean([1.0, np.inf]) == np.inf and np.isnan(exact_mean([np.inf, -np.inf]))


def test_the_files_hold_every_record_of_a_thinned_run(small_limit, tmp_path):
    sc = _tiny(3000)
    session = ScenarioRun(sc, threads=1)
    writer = RunWriter(tmp_path, session)
    for k in range(40):
        session.advance(1 + 17 * k % 150)  # irregular flushes
        writer.flush()
        if k == 20:
            # a writer that falls behind: nothing it has not written is let go
            session.advance(600)
            assert all(r.history.n > LIMIT for r in session.runs)
    while not session.finished:
        session.advance(500)
        writer.flush()
    writer.close({"variants": []})
    assert all(r.history.thinned for r in session.runs)
    lines = [json.loads(x) for x in (tmp_path / "steps.jsonl").read_text().splitlines()]
    for run in session.runs:
        steps = [d["step"] for d in lines if d["variant"] == run.label]
        assert steps == list(range(3000)), run.label
    rows = (tmp_path / "steps.csv").read_text().splitlines()
    assert len(rows) == 1 + len(lines)


def test_a_snapshot_never_changes_under_its_reader(small_limit):
    sc = _tiny(2000)
    run = VariantRun(sc, sc.variants[0])
    run.advance(LIMIT - 5)
    view = run.history.snapshot()
    before = {f: view.column(f).copy() for f in ("step", "loss", "grad_norm")}
    run.advance(1500)  # appends and thins many times
    assert run.history.thinned and view.n == LIMIT - 5
    for f, a in before.items():
        assert np.array_equal(view.column(f), a, equal_nan=True)


def test_history_without_thinning_reads_as_before():
    h = History(3, capacity=2, limit=10)
    assert h.n == 0 and h.column("loss").shape == (0,) and h.column("grad_norm").shape == (0, 3)


def test_a_sweep_task_tracks_its_measure(small_limit):
    """A sweep cell's measure of a long run is the same as of the whole history."""
    from tuisim.run.checks import value_tracks

    sc = _tiny(1500)
    for spec in (("loss", None, "mean", None), ("grad_norm", 0, "max", None), ("steps_to_loss", None, None, 0.4)):
        run = VariantRun(sc, sc.variants[0], track=value_tracks(*spec))
        run.advance(1500)
        full = VariantRun(sc, sc.variants[0])
        full.history.limit = 10 ** 9
        full.advance(1500)
        assert run.history.thinned
        assert metric_value(run, *spec) == metric_value(full, *spec)
    assert value_tracks("weight_change", 0) == [] and value_tracks("diverged") == []


def test_steady_malloc_fixes_glibcs_threshold_once_asked(monkeypatch):
    """On Linux with glibc the app and `tuisim run` fix malloc's mmap threshold (see
    tuisim/run/malloc.py); a threshold the user set is left alone."""
    import sys

    from tuisim.run.malloc import steady_malloc

    if not sys.platform.startswith("linux"):
        assert steady_malloc() is False
        return
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert steady_malloc() is False
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    import platform

    if platform.libc_ver()[0] == "glibc":
        assert steady_malloc() is True
