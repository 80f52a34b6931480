"""`Network`: a deep MLP whose parameters live in flat buffers that the compiled step
reads and writes. Parameter names and shapes follow the torch module a user would write
for the same network (see the README), so `state_dict()` loads there as is."""

from __future__ import annotations

import numpy as np

from . import registry
from . import step as s
from .activations import histogram_range, saturation_bounds
from .init import init_bias, init_weight
from .layout import build_layout
from .params import MODEL_PARAMS, check_kwargs
from .stats import StepStats
from .update import H_LR, H_SIZE, STATE_ROWS
from .warm import start_helper, stop_helper

DTYPES = {"float64": np.float64, "float32": np.float32}


class Network:
    """A deep MLP: `depth` hidden layers of `width` units, then a linear output layer.

    Keyword arguments are the scenario file's `[model]` keys (see `tuisim.core.params`)."""

    def __init__(self, n_in: int, n_out: int, *, seed: int = 0, **kwargs):
        for name, v in (("n_in", n_in), ("n_out", n_out)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, not {v!r}")
        cfg = check_kwargs(MODEL_PARAMS, kwargs, "Network")
        cfg.update(n_in=int(n_in), n_out=int(n_out), seed=int(seed))
        self.config = cfg
        self.dtype = np.dtype(DTYPES[cfg["dtype"]])
        self._dtype_name = self.dtype.name
        self.layout = lay = build_layout(cfg)
        self.widths = lay.widths
        self.depth = cfg["depth"]
        self.n_in, self.n_out = cfg["n_in"], cfg["n_out"]
        dt = self.dtype
        self.P = np.zeros(lay.n_params, dtype=dt)
        self.G = np.zeros(lay.n_params, dtype=dt)
        self.R = np.zeros(max(1, lay.n_running), dtype=dt)
        self.FS = np.zeros(max(1, lay.n_fstat), dtype=np.float64)
        self.num_batches_tracked = 0
        self._entries = {e.name: e for e in lay.entries}
        self._workspaces: dict[int, np.ndarray] = {}
        self._scratches: dict[tuple, tuple] = {}  # train_steps's buffers, per batch shape (see _scratch)
        self._rng_state = np.zeros(1, dtype=np.uint64)
        self._ic = np.zeros(s.C_SIZE, dtype=np.int64)
        self._fc = np.zeros(s.F_SIZE, dtype=np.float64)
        self._hp0 = np.zeros(H_SIZE, dtype=np.float64)
        self._S0 = np.zeros((STATE_ROWS, 1), dtype=dt)
        self._out = np.zeros(s.O_SIZE, dtype=np.float64)
        self._stats = np.zeros((s.S_ROWS, self.depth + 1), dtype=np.float64)
        self._hist = np.zeros((2, self.depth + 1, 2), dtype=np.float64)  # bins, then the zero count
        self._Rsave = np.zeros_like(self.R)
        self._no_index = np.zeros((1, 0), dtype=np.int64)  # one step on the batch as given
        self._lr1 = np.zeros(1, dtype=np.float64)
        self._tests0 = np.zeros((1, 2), dtype=np.float64)
        self._yi0 = np.zeros(1, dtype=np.int64)
        self._yf0 = np.zeros((1, 1), dtype=dt)
        self._last: StepStats | None = None
        self._last_batch = 0
        self._setup_config()
        self.reset_parameters(cfg["seed"])

    # ------------------------------------------------------------------ set-up
    def _setup_config(self) -> None:
        cfg, ic, fc, lay = self.config, self._ic, self._fc, self.layout
        ic[s.C_ACT] = registry.ACTIVATIONS[cfg["activation"]]
        ic[s.C_NORM] = registry.NORMS[cfg["norm"]]
        ic[s.C_NORM_AFTER] = 1 if cfg["norm_position"] == "after" else 0
        ic[s.C_ARCH] = registry.ARCHITECTURES[cfg["architecture"]]
        ic[s.C_DEPTH] = self.depth
        ic[s.C_PIECES] = cfg["pieces"]
        ic[s.C_R_G1], ic[s.C_R_G2], ic[s.C_R_G3], ic[s.C_R_G4] = lay.scratch
        ic[s.C_NW] = lay.n_weights
        ic[s.C_MAXZ] = lay.maxz
        fc[s.F_SLOPE] = cfg["negative_slope"]
        fc[s.F_ALPHA] = cfg["alpha"]
        fc[s.F_DROPOUT] = cfg["dropout"]
        fc[s.F_NORM_EPS] = float(np.finfo(self.dtype).eps)  # RMSNorm's eps=None, as torch
        fc[s.F_SAT_LO], fc[s.F_SAT_HI] = saturation_bounds(cfg["activation"], registry.SATURATION_MARGIN)
        fc[s.F_HLO], fc[s.F_HHI] = histogram_range(cfg["activation"])

    def reset_parameters(self, seed: int | None = None) -> None:
        """(Re)initialise every parameter from `seed` (default: the network's own)."""
        cfg = self.config
        rng = np.random.default_rng(cfg["seed"] if seed is None else seed)
        kw = dict(activation=cfg["activation"], negative_slope=cfg["negative_slope"], init_std=cfg["init_std"],
                  init_range=cfg["init_range"], init_gain=cfg["init_gain"], init_value=cfg["init_value"],
                  init_scale=cfg["init_scale"], dtype=self.dtype)
        for i in range(self.depth + 1):
            w = self._entries[f"layers.{i}.weight"]
            self._view(w)[...] = init_weight(rng, w.shape, cfg["init"], **kw)
            b = self._entries[f"layers.{i}.bias"]
            self._view(b)[...] = init_bias(rng, w.shape[1], b.shape[0], cfg["init"], cfg["bias_init"], self.dtype)
        for b in range(len(self.layout.blocks)):
            for kind in ("gates", "shortcuts"):
                e = self._entries.get(f"{kind}.{b}.weight")
                if e is not None:
                    self._view(e)[...] = init_weight(rng, e.shape, cfg["init"], **kw)
            e = self._entries.get(f"gates.{b}.bias")
            if e is not None:
                self._view(e)[...] = cfg["gate_bias"]
        for e in self._entries.values():
            if e.name.startswith("norms."):
                leaf = e.name.rsplit(".", 1)[1]
                self._view(e)[...] = 1.0 if leaf in ("weight", "running_var") else 0.0
        self.num_batches_tracked = 0
        self._rng_state[0] = np.uint64(rng.integers(0, 2**63))

    def _view(self, e) -> np.ndarray:
        buf = self.P if e.buffer == "P" else self.R
        return buf[e.offset:e.offset + e.size].reshape(e.shape)

    def _scratch(self, B: int, X, yi, yf) -> tuple:
        """The buffers `train_steps` fills (it allocates nothing): a batch's rows of X,
        yi and yf gathered, an evaluation's outputs and statistics, a row of a layer's
        column sums, a layer's weights transposed; kept per batch shape and dtypes."""
        key = (B, X.shape[1], X.dtype, yi.dtype, yf.shape[1], yf.dtype)
        got = self._scratches.get(key)
        if got is None:
            if len(self._scratches) > 8:
                self._scratches.clear()
            widest = int(max(self.layout.L[:, s.L_WO].max(), self.layout.L[:, s.L_ZO].max()))
            got = self._scratches[key] = (np.empty((B, X.shape[1]), dtype=X.dtype), np.empty(B, dtype=yi.dtype),
                                          np.empty((B, yf.shape[1]), dtype=yf.dtype), np.zeros(s.O_SIZE),
                                          np.zeros((s.S_ROWS, self.layout.L.shape[0])), np.zeros(2 * widest + 2),
                                          np.zeros(s.WT_SIZE, dtype=self.dtype))
        return got

    def _workspace(self, B: int) -> np.ndarray:
        ws = self._workspaces.get(B)
        if ws is None:
            if len(self._workspaces) > 8:
                self._workspaces.clear()
            ws = self._workspaces[B] = np.zeros(self.layout.rows * B, dtype=self.dtype)
        return ws

    # ------------------------------------------------------------------ state
    @property
    def parameter_count(self) -> int:
        return self.layout.n_params

    def parameter_names(self) -> list[str]:
        """Names of the trainable parameters, in buffer order."""
        return [e.name for e in self.layout.entries if e.buffer == "P"]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, with torch's names and shapes."""
        out = {e.name: self._view(e).copy() for e in self.layout.entries}
        if self.config["norm"] == "batch":
            for i in range(self.depth):
                out[f"norms.{i}.num_batches_tracked"] = np.array(self.num_batches_tracked, dtype=np.int64)
        return out

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy values in; names and shapes must match (missing/unexpected keys are an
        error when strict, as in torch)."""
        known = {e.name for e in self.layout.entries}
        nbt = {k for k in state if k.endswith(".num_batches_tracked")}
        missing = sorted(known - set(state))
        unexpected = sorted(set(state) - known - nbt)
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for name, value in state.items():
            if name in nbt:
                self.num_batches_tracked = int(np.asarray(value))
                continue
            e = self._entries.get(name)
            if e is None:
                continue
            arr = np.asarray(value)
            if arr.shape != e.shape:
                raise ValueError(f"load_state_dict: {name} has shape {arr.shape}, the network needs {e.shape}")
            self._view(e)[...] = arr

    def save(self, path) -> None:
        """Write the state dict to a `.safetensors` file, the config as JSON in its
        metadata (see `tuisim.core.weights`); `Network.load(path)` builds it again."""
        from .weights import save

        save(self, path)

    @classmethod
    def load(cls, path) -> "Network":
        """The network saved in `path` (by `save`, or by a run's `--out`): its config,
        its parameters and buffers. A bad file raises ValueError saying what is wrong."""
        from .weights import load

        return load(path)

    def parameter(self, name: str) -> np.ndarray:
        """A live view (not a copy) of one parameter or buffer."""
        return self._view(self._entries[name])

    # ------------------------------------------------------------------ running
    def _inputs(self, X) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ValueError(f"X must have shape (batch, {self.n_in}), not {X.shape}")
        if X.shape[0] < 1:
            raise ValueError("X is empty")
        return X

    def _targets(self, y, loss: str, B: int):
        code = registry.LOSSES.get(loss)
        if code is None:
            registry.lookup("loss", registry.LOSSES, loss)
        if y is None:
            return -1, self._yi0, self._yf0
        if loss == "cross_entropy":
            yi = y if (isinstance(y, np.ndarray) and y.dtype == np.int64 and y.ndim == 1) else \
                np.ascontiguousarray(np.asarray(y), dtype=np.int64).reshape(-1)
            if yi.shape[0] != B:
                raise ValueError(f"y has {yi.shape[0]} labels for {B} examples")
            return code, np.ascontiguousarray(yi), self._yf0
        y = np.asarray(y)
        yf = np.ascontiguousarray(y, dtype=self.dtype)
        if yf.ndim == 1 and self.n_out == 1:
            yf = yf.reshape(-1, 1)
        if yf.shape != (B, self.n_out):
            raise ValueError(f"{loss} targets must have shape ({B}, {self.n_out}), not {y.shape}")
        return code, self._yi0, yf

    def _execute(self, X, yi, yf, code: int, index: np.ndarray, lrs: np.ndarray, *, train: bool, backward: bool,
                 update: bool = False, hp=None, S=None, t: int = 0, opt_code: int = 0, mu_prod: float = 1.0,
                 reuse_mask: bool = False, histograms: int = 0, outs=None, stats=None, test=None, evals=None,
                 tests=None) -> tuple[int, int, float]:
        """len(lrs) compiled steps in one call (see `step.train_steps`); returns the
        number run and the optimizer's step count and NAdam product after them.
        test: (X, yi, yf) evaluated before the steps flagged in evals, into tests."""
        B = index.shape[1] if index.shape[1] else X.shape[0]
        if train and self.config["norm"] == "batch" and B < 2:
            raise ValueError("batch norm needs at least 2 examples per batch in training")
        if reuse_mask and (self._last_batch != B or not train):
            raise ValueError("reuse_mask needs a previous training call with the same batch size")
        ic, fc = self._ic, self._fc
        ic[s.C_LOSS] = code
        ic[s.C_TRAIN] = 1 if train else 0
        ic[s.C_BACKWARD] = 1 if backward else 0
        ic[s.C_UPDATE] = 1 if update else 0
        ic[s.C_OPT] = opt_code
        ic[s.C_T] = t
        ic[s.C_REUSE_MASK] = 1 if reuse_mask else 0
        ic[s.C_NBINS] = histograms
        fc[s.F_MU_PROD] = mu_prod
        if histograms and self._hist.shape[2] != histograms + 1:
            self._hist = np.zeros((2, self.depth + 1, histograms + 1), dtype=np.float64)
        ws = self._workspace(B)
        if test is None:  # nothing to evaluate: placeholders of the right types
            test, evals, tests = (X, yi, yf), np.zeros(len(lrs), dtype=np.int64), self._tests0
        Xt, yit, yft = test
        helper = start_helper(self._dtype_name)  # with an empty cache: half the first compile on another core
        try:
            ran = s.train_steps(X, yi, yf, index, lrs, self.P, self.G, self.R, self._Rsave,
                                self._S0 if S is None else S, self.FS, ws, self.layout.L,
                                self.layout.K, ic, fc, self._hp0 if hp is None else hp, self._rng_state,
                                self._out[None] if outs is None else outs, self._stats[None] if stats is None else stats,
                                self._hist, Xt, yit, yft, self._workspace(Xt.shape[0]), evals, tests,
                                *self._scratch(B, X, yi, yf))
        finally:
            if helper is not None:
                stop_helper(self._dtype_name)
        last = self._out if outs is None else outs[ran - 1]
        if last[s.O_BAD_LABEL]:
            raise ValueError(f"labels must lie in 0..{self.n_out - 1} for {self.n_out} outputs")
        if train:
            if self.config["norm"] == "batch":  # a diverged step kept the last finite running statistics
                self.num_batches_tracked += ran - (1 if last[s.O_DIVERGED] != 0.0 else 0)
            self._last_batch = B
        return ran, int(ic[s.C_T]), float(fc[s.F_MU_PROD])

    def _run(self, X, y, loss: str, *, train: bool, backward: bool, histograms: int = 0, **kwargs) -> StepStats:
        """One call of the compiled step on the batch (X, y)."""
        X = self._inputs(X)
        B = X.shape[0]
        code, yi, yf = self._targets(y, loss, B)
        hp = kwargs.get("hp")
        self._lr1[0] = (self._hp0 if hp is None else hp)[H_LR]  # the kernel sets hp's lr from lrs
        self._execute(X, yi, yf, code, self._no_index, self._lr1, train=train, backward=backward,
                      histograms=histograms, **kwargs)
        st = StepStats.from_buffers(self._out, self._stats, self._hist if histograms else None, B, backward)
        self._last = st
        return st

    def forward(self, X, train: bool = False) -> np.ndarray:
        """Logits for X, shape (batch, n_out). train=True uses batch statistics and
        dropout, and updates batch norm's running statistics, as torch's train mode."""
        X = self._inputs(X)
        self._run(X, None, "cross_entropy", train=train, backward=False)
        lay = self.layout
        off = lay.L[self.depth, s.R_Z] * X.shape[0]
        return self._workspace(X.shape[0])[off:off + X.shape[0] * self.n_out].reshape(X.shape[0], self.n_out).copy()

    __call__ = forward

    def layer_inputs(self, X, train: bool = False) -> list[np.ndarray]:
        """The input of every linear layer for X (copies): [X, h_1, ..., h_depth], where
        h_i is what hidden layer i-1 (with its block, if any) hands to layer i."""
        X = self._inputs(X)
        B = X.shape[0]
        self._run(X, None, "cross_entropy", train=train, backward=False)
        ws, L = self._workspace(B), self.layout.L
        return [ws[L[i, s.R_HIN] * B:(L[i, s.R_HIN] + L[i, s.L_NIN]) * B].reshape(B, L[i, s.L_NIN]).copy()
                for i in range(self.depth + 1)]

    def evaluate(self, X, y, loss: str = "cross_entropy") -> tuple[float, float]:
        """(loss, accuracy) in evaluation mode, without gradients."""
        st = self._run(X, y, loss, train=False, backward=False)
        return st.loss, st.accuracy

    def loss_and_grads(self, X, y, loss: str = "cross_entropy", train: bool = True, reuse_mask: bool = False,
                       histograms: int = 0) -> tuple[float, dict[str, np.ndarray]]:
        """The loss on (X, y) and its gradient for every trainable parameter (copies,
        same names as state_dict). reuse_mask=True keeps the previous dropout masks."""
        st = self._run(X, y, loss, train=train, backward=True, reuse_mask=reuse_mask, histograms=histograms)
        grads = {}
        for e in self.layout.entries:
            if e.buffer == "P":
                grads[e.name] = self.G[e.offset:e.offset + e.size].reshape(e.shape).copy()
        return st.loss, grads

    @property
    def stats(self) -> StepStats | None:
        """Everything measured by the last call (forward, loss_and_grads or a step)."""
        return self._last

    def dropout_masks(self) -> list[np.ndarray]:
        """The dropout masks of the last training call, one (batch, width) array per
        hidden layer: 0 or 1/(1-p)."""
        if self.config["dropout"] <= 0 or not self._last_batch:
            return []
        B = self._last_batch
        ws = self._workspace(B)
        L = self.layout.L
        return [ws[L[i, s.R_M] * B:(L[i, s.R_M] + L[i, s.L_WO]) * B].reshape(B, L[i, s.L_WO]).copy()
                for i in range(self.depth)]

    def describe(self) -> str:
        c = self.config
        w = self.widths
        wdesc = str(w[0]) if len(set(w)) == 1 else "/".join(map(str, w))
        parts = [f"{self.depth} x {wdesc} {c['activation']}", c["init"]]
        if c["init_scale"] != 1.0:
            parts[-1] += f" x{c['init_scale']:g}"
        if c["norm"] != "none":
            parts.append(f"{c['norm']} norm" + (" (after act)" if c["norm_position"] == "after" else ""))
        if c["architecture"] != "plain":
            parts.append(c["architecture"])
        if c["dropout"] > 0:
            parts.append(f"dropout {c['dropout']:g}")
        return ", ".join(parts) + f"; {self.parameter_count:,} parameters"

    def __repr__(self) -> str:
        return f"Network({self.describe()})"

