"""`VariantRun`: one variant of a scenario, trained step by step.

The same object serves the headless runner and the app: `advance(n)` runs up to n
compiled steps and records them in `history`; the caller decides when to draw, write
or stop. Mini-batches are drawn from a cyclic stream of shuffled epochs, every batch
exactly `batch_size` long, from a generator that depends only on the seed, so variants
with the same batch size see the same batches in the same order.
"""

from __future__ import annotations

import math
import time

import numpy as np

from tuisim.core import Network, Optimizer
from tuisim.data import Dataset, load_dataset
from tuisim.i18n import N_

from .history import History
from .pretrain import pretrain_layers
from .tracking import Tracker

READY, PRETRAINING, RUNNING, DONE, DIVERGED = "ready", "pretraining", "running", "done", "diverged"
# the states' words, for the catalog (shown translated: tuisim.i18n._(status))
STATUS_WORDS = (N_("ready"), N_("pretraining"), N_("running"), N_("done"), N_("diverged"), N_("finished"),
                N_("paused"))
MAX_CHUNK = 1024  # steps per compiled call: bounds the batch index and the per-step buffers


class Trained:
    """What every run shares, a network's (VariantRun) and a point's (SurfaceRun): its
    status, its live settings and its speed."""

    status: str
    step: int
    wall_time: float
    SPREAD_KEYS: tuple[str, ...]  # the numbers of its summary given across seeds as a median and a range

    @property
    def finished(self) -> bool:
        return self.status in (DONE, DIVERGED)

    def set_live(self, **changes) -> None:
        """Change optimizer hyperparameters (lr, clip_norm, ...) between steps."""
        self.opt.set(**changes)

    @property
    def steps_per_second(self) -> float:
        return self.step / self.wall_time if self.wall_time > 0 else math.nan

    def _summary_head(self) -> dict:
        """What every run's summary starts with: which run, and how far it got."""
        return {"variant": self.label, "status": self.status, "steps": self.step,
                "diverged": self.status == DIVERGED, "diverged_at": self.diverged_at}


class VariantRun(Trained):
    SPREAD_KEYS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "last_batch_loss",
                   "grad_norm_first", "grad_norm_last", "steps", "wall_time")

    def __init__(self, scenario, variant, *, seed: int | None = None, steps: int | None = None,
                 record_every: int = 1, histograms: int = 0, dataset: Dataset | None = None, perturb: float = 0.0,
                 track=()):
        self.scenario = scenario
        self.variant = variant
        self.label = variant.label
        self.seed = scenario.seed if seed is None else seed
        self.total_steps = scenario.steps if steps is None else steps
        self.record_every = max(1, record_every)
        self.histograms = histograms
        self.data = dataset if dataset is not None else load_dataset(variant.data, self.seed, scenario.base_dir)
        train = variant.train
        self.loss_name = train["loss"]
        self.y_train, self.y_test, n_out = self.data.targets(self.loss_name)
        self.X_train, self.X_test = self.data.X_train, self.data.X_test
        self.net = Network(n_in=self.data.n_in, n_out=n_out, seed=self.seed, **variant.model)
        if perturb:
            self._perturb(perturb)
        self.opt = Optimizer(self.net, **variant.optimizer_kwargs)
        n = len(self.X_train)
        bs = train["batch_size"]
        self.batch_size = n if bs == "full" else min(int(bs), n)
        self.eval_every = train["eval_every"]
        self.shuffle = train["shuffle"]
        self._batch_rng = np.random.default_rng([self.seed, 0xBA7C4])
        self._order = np.arange(n)
        self._pos = n  # start a new epoch at the first batch
        # grown by doubling up to its limit, then thinned (bounded memory however long the run);
        # the claims and measures in `track` ((metric, layer, at, threshold) each) are kept exact
        self.history = History(self.net.depth + 1, capacity=min(self.total_steps // self.record_every + 2, 4096),
                               histogram_bins=histograms)
        for metric, layer, at, threshold in track:
            self.history.track(Tracker(metric, layer, at, threshold))
        self.initial_weights = [self.net.parameter(f"layers.{i}.weight").copy() for i in range(self.net.depth + 1)]
        self.step = 0
        self.status = READY
        self.diverged_at: int | None = None
        self.wall_time = 0.0
        self.pretrain_status = ""
        self.error: str | None = None

    def _perturb(self, rel: float) -> None:
        """Multiply every initial parameter by 1 + rel * N(0, 1): with rel = 1e-12, a
        stand-in for another CPU's rounding, which a chaotic run amplifies. A tensor whose
        entries are all equal (zero or constant init) is left as it is: rounding differs
        between machines, but equal units stay equal on every one."""
        rng = np.random.default_rng([self.seed, 0x9E77])
        for name in self.net.parameter_names():
            w = self.net.parameter(name)
            if w.size and w.min() != w.max():
                w *= 1.0 + rel * rng.standard_normal(w.shape)

    # ------------------------------------------------------------------ batches
    def _batch_index(self, m: int) -> np.ndarray:
        """The rows of the next m batches, (m, batch_size); (m, 0) when every batch is
        the whole training set."""
        n, B = len(self._order), self.batch_size
        if B == n:
            return np.zeros((m, 0), dtype=np.int64)
        idx = np.empty(m * B, dtype=np.int64)
        got = 0
        while got < m * B:
            if self._pos >= n:
                if self.shuffle:
                    self._batch_rng.shuffle(self._order)
                self._pos = 0
            take = min(m * B - got, n - self._pos)
            idx[got:got + take] = self._order[self._pos:self._pos + take]
            self._pos += take
            got += take
        return idx.reshape(m, B)

    # ------------------------------------------------------------------ running
    def pretrain(self, progress=None) -> None:
        """Greedy layer-wise autoencoder pretraining, when the variant asks for it."""
        if self.variant.pretrain is None or self.status != READY:
            return
        self.status = PRETRAINING
        t0 = time.perf_counter()

        def report(layer: int, total: int) -> None:
            self.pretrain_status = f"pretraining layer {layer + 1}/{total}"
            if progress is not None:
                progress(layer, total)

        pretrain_layers(self.net, self.X_train, self.variant.pretrain, self.batch_size, self.seed, report)
        self.initial_weights = [self.net.parameter(f"layers.{i}.weight").copy() for i in range(self.net.depth + 1)]
        self.pretrain_status = ""
        self.status = READY
        self.wall_time += time.perf_counter() - t0

    def _recorded(self, step: int) -> bool:
        return step % self.record_every == 0 or step == self.total_steps - 1

    def _evaluated(self, step: int) -> bool:
        return self._recorded(step) and (step % self.eval_every == 0 or step == self.total_steps - 1)

    def _chunk_end(self, step: int, limit: int) -> int:
        """The end (exclusive) of the chunk of steps that can run in one compiled call
        from `step`. With histograms on, it ends at the first recorded step (they are
        taken on a chunk's last step); when the test evaluation cannot run inside the
        compiled call, no later step in the chunk may need one."""
        last = self.total_steps - 1
        end = min(limit, self.total_steps, step + MAX_CHUNK)
        if not self._eval_in_kernel:
            both = math.lcm(self.record_every, self.eval_every)
            end = min(end, (step // both + 1) * both)  # the next evaluated multiple
            if step < last:
                end = min(end, last)  # the last step is always evaluated
        if self.histograms:
            rec = -(-step // self.record_every) * self.record_every
            end = min(end, min(rec, last) + 1)
        return max(end, step + 1)

    @property
    def _eval_in_kernel(self) -> bool:
        # mse on class targets scores accuracy by argmax, in `evaluate`
        return len(self.X_test) > 0 and not (self.loss_name == "mse" and self.data.task == "classification")

    def advance(self, n: int = 1) -> int:
        """Run up to n steps (fewer at the end of the run or at divergence); returns how
        many ran. Steps run in chunks of one compiled call each, test evaluations included."""
        if self.finished:
            return 0
        if self.status == READY:
            self.pretrain()
            self.status = RUNNING
        t0 = time.perf_counter()
        done = 0
        inside = self._eval_in_kernel
        while done < n and self.step < self.total_steps:
            step = self.step
            end = self._chunk_end(step, step + n - done)
            # every metric of step s describes the network as the step found it (before
            # its update): the test evaluation too
            hist = self.histograms if self.histograms and self._recorded(end - 1) else 0
            if inside:
                s = np.arange(step, end)
                last = s == self.total_steps - 1
                evaluate = ((s % self.record_every == 0) | last) & ((s % self.eval_every == 0) | last)
                trace = self.opt.run(self.X_train, self.y_train, self._batch_index(end - step), histograms=hist,
                                     test=(self.X_test, self.y_test), evaluate=evaluate)
                test = None
            else:
                test = self.evaluate() if self._evaluated(step) else None
                trace = self.opt.run(self.X_train, self.y_train, self._batch_index(end - step), histograms=hist)
            ran = len(trace)
            done += ran
            diverged = bool(trace.diverged[-1])
            rows = [k for k in range(ran) if self._recorded(step + k) or (diverged and k == ran - 1)] \
                if self.record_every > 1 else range(ran)
            self.history.extend(trace, rows, test)
            if diverged:
                self.status = DIVERGED
                self.diverged_at = step + ran - 1
                self.step = step + ran - 1
                break
            self.step = step + ran
        if self.step >= self.total_steps and self.status == RUNNING:
            self.status = DONE
        self.wall_time += time.perf_counter() - t0
        return done

    def evaluate(self, on: str = "test") -> tuple[float, float] | None:
        """(loss, accuracy) on the test (or "train") split in evaluation mode."""
        X, y = (self.X_test, self.y_test) if on == "test" else (self.X_train, self.y_train)
        if len(X) == 0:
            return None
        if self.loss_name == "mse" and self.data.task == "classification":
            z = self.net.forward(X)
            return float(np.mean((z - y) ** 2)), float(np.mean(z.argmax(1) == y.argmax(1)))
        return self.net.evaluate(X, y, self.loss_name)

    def summary(self) -> dict:
        h = self.history
        gn = h.column("grad_norm")
        ok = np.flatnonzero(h.column("diverged") == 0)  # the last finite record
        last = int(ok[-1]) if len(ok) else None
        train = self.evaluate("train") if self.history.n else None
        test = self.evaluate("test") if self.history.n else None
        return {
            **self._summary_head(),
            "train_loss": train[0] if train else None,
            "train_accuracy": train[1] if train else None,
            "test_loss": test[0] if test else None,
            "test_accuracy": test[1] if test else None,
            "last_batch_loss": float(h.column("loss")[-1]) if h.n else None,
            "grad_norm_first": float(gn[last, 0]) if last is not None else None,
            "grad_norm_last": float(gn[last, -1]) if last is not None else None,
            "wall_time": self.wall_time,
            "steps_per_second": self.steps_per_second,
            "network": self.net.describe(),
        }
