"""`VariantRun.advance` runs the steps between two test evaluations in one compiled call.
Its history must be exactly what training step by step records: the same batches, the
same test evaluations before the same steps, the same recorded steps and histograms,
whatever the chunk sizes the caller asks for."""

from pathlib import Path

import numpy as np
import pytest

from tuisim.run.history import History
from tuisim.run.variant_run import DIVERGED, VariantRun
from tuisim.scenario import load_scenario

TINY = Path(__file__).resolve().parents[1] / "data" / "good_scenarios" / "tiny.toml"


def _step_by_step(sc, variant, record_every, histograms):
    """The run loop one `Optimizer.step` at a time (the semantics `advance` keeps)."""
    r = VariantRun(sc, variant, record_every=record_every, histograms=histograms)
    rows = []
    last = r.total_steps - 1
    for step in range(r.total_steps):
        idx = r._batch_index(1)[0]
        X, y = (r.X_train, r.y_train) if idx.size == 0 else (r.X_train[idx], r.y_train[idx])
        record = step % record_every == 0 or step == last
        test = r.evaluate() if record and (step % r.eval_every == 0 or step == last) else None
        r.opt.step(X, y, histograms=histograms if record else 0)
        st = r.opt.stats
        if record or st.diverged:
            rows.append((st, test))
        if st.diverged:
            break
    return r, rows


@pytest.mark.parametrize("record_every,histograms,chunks", [
    (1, 0, [1000]), (1, 0, [1, 2, 3, 7, 100]), (3, 0, [5, 5, 100]), (2, 6, [4, 9, 100]), (1, 6, [3, 100]),
])
@pytest.mark.parametrize("overrides", [
    [], ["train.batch_size=full", "train.eval_every=7"],
    ["train.loss=mse"],  # class targets scored by argmax: evaluated outside the compiled call
    ["data.name=sine", "train.loss=mse", "train.eval_every=3"],
])
def test_advance_in_chunks_records_what_single_steps_record(record_every, histograms, chunks, overrides):
    sc = load_scenario(TINY, overrides=overrides)
    for variant in sc.variants:
        ref, rows = _step_by_step(sc, variant, record_every, histograms)
        run = VariantRun(sc, variant, record_every=record_every, histograms=histograms)
        for n in chunks:
            run.advance(n)
        assert run.status == "done" and run.step == run.total_steps
        h = run.history
        assert h.n == len(rows)
        assert list(h.steps()) == [st.step for st, _ in rows]
        assert np.array_equal(h.column("loss"), [st.loss for st, _ in rows])
        assert np.array_equal(h.column("lr"), [st.lr for st, _ in rows])
        assert np.array_equal(h.column("grad_norm"), np.array([st.grad_norm for st, _ in rows]))
        assert np.array_equal(h.column("update_ratio"), np.array([st.update_ratio for st, _ in rows]))
        tests = np.array([np.nan if t is None else t[0] for _, t in rows])
        assert np.array_equal(h.column("test_loss"), tests, equal_nan=True)
        assert np.array_equal(run.net.P, ref.net.P)
        if histograms:
            assert np.array_equal(h.act_hist, rows[-1][0].act_hist)
            assert np.array_equal(h.grad_hist, rows[-1][0].grad_hist)
            assert np.array_equal(h.act_zero, rows[-1][0].act_zero)
            assert np.array_equal(h.grad_zero, rows[-1][0].grad_zero)


def test_a_diverged_chunk_stops_at_its_step_and_records_it():
    sc = load_scenario(TINY, overrides=[
        "train.lr=1.0", "train.optimizer=sgd", "model.activation=relu", "model.init=normal", "model.init_scale=3",
        "model.depth=12", "model.width=16"])
    variant = sc.variants[0]
    ref, rows = _step_by_step(sc, variant, 1, 0)
    assert rows[-1][0].diverged and len(rows) > 2  # diverges mid-chunk
    run = VariantRun(sc, variant)
    ran = run.advance(1000)
    assert run.status == DIVERGED and run.diverged_at == rows[-1][0].step == run.step
    assert ran == len(rows) == run.history.n
    assert run.history.column("diverged")[-1] == 1.0
    assert run.advance(5) == 0


def test_history_extend_takes_the_rows_asked_for():
    sc = load_scenario(TINY)
    run = VariantRun(sc, sc.variants[0])
    trace = run.opt.run(run.X_train, run.y_train, run._batch_index(6), histograms=4)
    h = History(run.net.depth + 1, capacity=2)
    h.extend(trace, [0, 2, 5], test=(1.5, 0.25))
    h.extend(trace, [], test=(9.0, 9.0))
    assert list(h.steps()) == [0, 2, 5]
    assert h.column("test_loss")[0] == 1.5 and np.isnan(h.column("test_loss")[1:]).all()
    assert h.act_hist is not None and h.act_hist.shape == (run.net.depth + 1, 4)
    h.extend(trace, [1], test=(2.0, 0.5))  # the test belongs to row 0: not kept
    assert np.isnan(h.column("test_loss")[-1])
