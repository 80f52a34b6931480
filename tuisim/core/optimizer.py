"""`Optimizer`: torch.optim's update rules, driving a `Network` one compiled step at a time."""

from __future__ import annotations

import numpy as np

from . import registry
from . import update as u
from .params import (DEFAULT_EPS, DEFAULT_LR, DEFAULT_MOMENTUM, DEFAULT_WEIGHT_DECAY, OPTIMIZER_PARAMS,
                     check_kwargs)
from .schedule import lr_at
from . import step as s
from .stats import StepStats, StepTrace

LIVE_KEYS = ("lr", "momentum", "weight_decay", "clip_norm", "clip_value", "eps")


class Optimizer:
    """Trains `net` with the named optimizer.

    Keyword arguments are the scenario file's `[train]` optimizer keys; those left out
    take torch.optim's defaults for that optimizer (`momentum` defaults to 0.9 for the
    `momentum` and `nesterov` optimizers). `loss` names the loss the steps minimise."""

    def __init__(self, net, optimizer: str = "sgd", **kwargs):
        kwargs["optimizer"] = optimizer
        self.net = net
        self.settings = check_kwargs(OPTIMIZER_PARAMS, kwargs, "Optimizer")
        self.name = self.settings["optimizer"]
        self._code = registry.OPTIMIZERS[self.name]
        self.hparams = self._resolve(self.settings)
        self.state = np.zeros((u.STATE_ROWS, net.parameter_count), dtype=net.dtype)
        if self.name == "adagrad":
            self.state[0] = self.settings["initial_accumulator_value"]
        self.t = 0  # updates applied so far (torch's `step`)
        self.steps = 0  # steps attempted (the schedule's clock)
        self._mu_prod = 1.0
        self._hp = np.zeros(u.H_SIZE, dtype=np.float64)
        self._last: StepStats | None = None
        self._fill_hp()

    def _resolve(self, st: dict) -> dict:
        name = st["optimizer"]
        hp = dict(st)
        hp["lr"] = DEFAULT_LR[name] if st["lr"] is None else st["lr"]
        hp["eps"] = DEFAULT_EPS.get(name, 1e-8) if st["eps"] is None else st["eps"]
        hp["momentum"] = DEFAULT_MOMENTUM.get(name, 0.0) if st["momentum"] is None else st["momentum"]
        hp["weight_decay"] = DEFAULT_WEIGHT_DECAY.get(name, 0.0) if st["weight_decay"] is None else st["weight_decay"]
        hp["nesterov"] = name == "nesterov"
        if name == "nesterov" and (hp["momentum"] <= 0 or hp["dampening"] != 0):
            raise ValueError("nesterov needs momentum > 0 and dampening 0 (as torch.optim.SGD)")
        if st["schedule"] == "warmup" and st["warmup_steps"] < 1:
            raise ValueError("the warmup schedule needs warmup_steps >= 1")
        registry.lookup("loss", registry.LOSSES, st["loss"])
        return hp

    def _fill_hp(self) -> None:
        h, hp = self.hparams, self._hp
        hp[u.H_LR] = h["lr"]
        hp[u.H_MOMENTUM] = h["momentum"]
        hp[u.H_DAMPENING] = h["dampening"]
        hp[u.H_NESTEROV] = 1.0 if h["nesterov"] else 0.0
        hp[u.H_BETA1], hp[u.H_BETA2] = h["betas"]
        hp[u.H_EPS] = h["eps"]
        hp[u.H_RHO] = h["rho"]
        hp[u.H_ALPHA] = h["alpha"]
        hp[u.H_WD] = h["weight_decay"]
        hp[u.H_LR_DECAY] = h["lr_decay"]
        hp[u.H_CENTERED] = 1.0 if h["centered"] else 0.0
        hp[u.H_AMSGRAD] = 1.0 if h["amsgrad"] else 0.0
        hp[u.H_MOMENTUM_DECAY] = h["momentum_decay"]
        hp[u.H_CLIP_NORM] = h["clip_norm"] or 0.0
        hp[u.H_CLIP_VALUE] = h["clip_value"] or 0.0

    def set(self, **changes) -> None:
        """Change hyperparameters between steps (live): lr, momentum, weight_decay,
        clip_norm, clip_value, eps. The optimizer's state is kept."""
        for key, value in changes.items():
            if key not in LIVE_KEYS:
                raise ValueError(f"{key} cannot change during a run; live keys: {', '.join(LIVE_KEYS)}")
            value = OPTIMIZER_PARAMS[key].check(value)
            self.settings[key] = value
        self.hparams = self._resolve(self.settings)
        self._fill_hp()

    @property
    def loss(self) -> str:
        return self.settings["loss"]

    def lr_at(self, step: int) -> float:
        """The learning rate the schedule gives step `step` (0-based)."""
        h = self.hparams
        return lr_at(step, h["lr"], h["schedule"], step_size=h["step_size"], gamma=h["gamma"], t_max=h["t_max"],
                     eta_min=h["eta_min"], warmup_steps=h["warmup_steps"])

    def step(self, X, y, histograms: int = 0) -> float:
        """One update on the batch (X, y); returns the loss before it. Everything the
        step measured is in `self.stats`. A step whose loss or gradients are not finite
        changes nothing and is marked `diverged`."""
        lr = self.lr_at(self.steps)
        self._hp[u.H_LR] = lr
        try:
            st = self.net._run(X, y, self.settings["loss"], train=True, backward=True, update=True, hp=self._hp,
                               S=self.state, t=self.t, opt_code=self._code, mu_prod=self._mu_prod,
                               histograms=histograms)
        finally:
            self._hp[u.H_LR] = self.hparams["lr"]
        self._advance_counts(1, int(self.net._ic[s.C_T]), float(self.net._fc[s.F_MU_PROD]))
        st.lr = lr
        st.step = self.steps - 1
        self._last = st
        return st.loss

    def run(self, X, y, index, histograms: int = 0, test=None, evaluate=None) -> StepTrace:
        """len(index) steps in one compiled call: step k trains on the rows index[k] of
        X and y (an int array of shape (steps, batch); shape (steps, 0) means the whole
        of X every step). The same updates, bit for bit, as `step` on X[index[k]], but
        the Python overhead and the GIL are paid once per call, not once per step.

        test=(X_test, y_test) with evaluate, a boolean per step: before each step
        flagged, the network is evaluated on the test set (as `Network.evaluate`), and
        the trace's test_loss / test_accuracy hold the result (NaN elsewhere).

        Stops after a diverged step. Returns what every step measured; histograms, when
        asked for, are those of the last step."""
        net = self.net
        X = net._inputs(X)
        index = np.asarray(index)
        if index.ndim != 2 or not np.issubdtype(index.dtype, np.integer):
            raise ValueError(f"index must be a 2-D integer array (steps, batch), not {index.dtype} {index.shape}")
        index = np.ascontiguousarray(index, dtype=np.int64)
        if index.size and (index.min() < 0 or index.max() >= X.shape[0]):
            raise ValueError(f"index must pick rows of X, in 0..{X.shape[0] - 1}")
        m = index.shape[0]
        code, yi, yf = net._targets(y, self.settings["loss"], X.shape[0])
        lrs = np.array([self.lr_at(self.steps + k) for k in range(m)], dtype=np.float64) \
            if self.hparams["schedule"] != "constant" else np.full(m, self.hparams["lr"], dtype=np.float64)
        outs = np.zeros((m, s.O_SIZE), dtype=np.float64)
        stats = np.zeros((m, s.S_ROWS, net.depth + 1), dtype=np.float64)
        tests = np.full((m, 2), np.nan)
        evals = None
        if test is not None:
            if evaluate is None or len(evaluate) != m:
                raise ValueError("evaluate must flag each of the steps (one boolean per row of index)")
            Xt = net._inputs(test[0])
            _, yit, yft = net._targets(test[1], self.settings["loss"], Xt.shape[0])
            test = (Xt, yit, yft)
            evals = np.ascontiguousarray(evaluate, dtype=np.int64)
        if m == 0:
            return StepTrace.from_buffers(outs, stats, None, lrs, self.steps, tests=tests)
        first = self.steps
        try:
            ran, t, mu_prod = net._execute(X, yi, yf, code, index, lrs, train=True, backward=True, update=True,
                                           hp=self._hp, S=self.state, t=self.t, opt_code=self._code,
                                           mu_prod=self._mu_prod, histograms=histograms, outs=outs, stats=stats,
                                           test=test, evals=evals, tests=tests)
        finally:
            self._hp[u.H_LR] = self.hparams["lr"]
        self._advance_counts(ran, t, mu_prod)
        B = index.shape[1] or X.shape[0]
        trace = StepTrace.from_buffers(outs[:ran], stats[:ran], net._hist if histograms else None, lrs[:ran], first, B,
                                       tests=tests[:ran])
        self._last = trace.stats(ran - 1)
        net._last = self._last
        return trace

    def _advance_counts(self, ran: int, t: int, mu_prod: float) -> None:
        """After `ran` steps: the schedule's clock, torch's `step` (updates applied) and
        NAdam's momentum product, as the kernel left them."""
        self.steps += ran
        self.t = t
        self._mu_prod = mu_prod

    @property
    def stats(self) -> StepStats | None:
        """Everything the last step measured (loss, per-layer statistics, update ratios)."""
        return self._last
