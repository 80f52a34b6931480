"""Cross-check tuisim's optimizer paths on Rosenbrock against torch.optim (dev-only; tuisim never needs torch).

Issue 13's acceptance criterion: the optimizers on Rosenbrock from (-1.5, 2) follow, step by
step, the paths torch.optim takes from the same start with the same hyperparameters (float64,
to about 1e-12), as recorded in `position` of steps.jsonl.

    python3 -m venv /tmp/torchenv                      # a scratch environment, not tuisim's
    /tmp/torchenv/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
    /tmp/torchenv/bin/pip install -e /work/main        # tuisim itself (numpy, numba, ...)
    cd /work/main && /tmp/torchenv/bin/python tests/crosscheck/crosscheck_surface_torch.py \
        [--steps N] [--tol T] [--tuisim CMD] [--keep DIR] [--analytic] [--default-dtype float32]

(If the torch index is not reachable, plain `pip install torch==2.13.0`. Or keep tuisim's own venv
for the CLI: any Python with torch and tuisim importable, plus --tuisim /work/venv/bin/tuisim.)

Not part of the test suite (pytest does not collect it): tuisim never needs torch.

What it does: writes a scenario (a temp dir) with `[surface] name = "rosenbrock"`,
`start = [-1.5, 2.0]` and one `[[variant]]` per optimizer setting below (every optimizer
of tuisim.core.registry.OPTIMIZERS, plus weight decay, dampening, gradient clipping by norm
and by value, amsgrad, centred RMSprop with momentum, Adagrad's lr_decay and initial
accumulator, and the step / exponential / cosine / warmup schedules); runs the real CLI,
`tuisim run FILE --headless --out DIR` (as `python -m tuisim` of this interpreter, or
--tuisim CMD, e.g. --tuisim /work/venv/bin/tuisim); then replays every variant with
torch.optim in float64: p = tensor([-1.5, 2.0]), loss (a - x)^2 + b (y - x^2)^2 (a = 1,
b = 100) by autograd, clip_grad_value_ / clip_grad_norm_ before opt.step(), the
lr_scheduler stepped after it, p recorded before each step.

Error measure, per quantity, max over all steps and coordinates:
    err = |tuisim - torch| / max(|torch|, 1)
for `position` (p before the step), `loss` (the value there) and `update` (torch: p after
minus p before; effectively an absolute error, updates being far below 1).
Columns: err of position, loss and update; `1st>1e-15` the first step whose position differs
by more than 1e-15 (-1: never); `torch~ulp` torch against itself with the gradient rounded the
other way (autograd vs closed form, an ulp apart): how much this path amplifies rounding.
PASS when every err <= --tol (default 1e-12); PASS~ when beyond tol but within 10x torch~ulp
(a path that amplifies rounding, not a difference of algorithm; the variants below are chosen
well-conditioned so that this does not happen); otherwise FAIL. Exit 1 on any FAIL.
(Ill-conditioned settings exist: centred RMSprop lr 5e-4 alpha 0.9 momentum 0.5, or Adam lr 0.02
clip_norm 1 bouncing around the minimum, turn ulp differences into 1e-2 within ~100 steps, torch
against itself as much as against tuisim.)

torch's default dtype is set to float64: torch.optim keeps scalar state in the default dtype,
and at float32 NAdam's running product of momentum coefficients (mu_product) is a float32
tensor even for float64 parameters, which moves NAdam's path by ~5e-9 from the first step
(--default-dtype float32 shows it; tuisim keeps that product in float64).
Run time: ~10 s (500 steps, 25 variants; tuisim's numba kernels compile on the first run).

--analytic: give torch the gradient by tuisim's closed form (p.grad set by hand) instead of
autograd, which rounds the same derivative in another order (an ulp apart); with it the
two sides differ only in the optimizer's arithmetic.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("NUMBA_CACHE_DIR", "/tmp/numba_cache_tc")  # keep numba's cache out of the repo
sys.dont_write_bytecode = True

import torch  # noqa: E402

from tuisim.core import registry  # noqa: E402
from tuisim.core.params import (DEFAULT_EPS, DEFAULT_GAMMA, DEFAULT_LR, DEFAULT_MOMENTUM,  # noqa: E402
                                DEFAULT_WEIGHT_DECAY, OPTIMIZER_PARAMS)

torch.set_num_threads(1)

START = (-1.5, 2.0)
A, B = 1.0, 100.0

# label -> the variant's [train] keys (tuisim's names; left out = torch.optim's defaults, as tuisim's)
VARIANTS: list[tuple[str, dict]] = [
    ("sgd", {"optimizer": "sgd", "lr": 1e-3}),
    ("momentum", {"optimizer": "momentum", "lr": 1e-4, "momentum": 0.9}),
    ("nesterov", {"optimizer": "nesterov", "lr": 1e-4, "momentum": 0.9}),
    ("adagrad", {"optimizer": "adagrad", "lr": 0.5}),
    ("adadelta", {"optimizer": "adadelta", "lr": 1.0}),
    ("rmsprop", {"optimizer": "rmsprop", "lr": 1e-3}),
    ("adam", {"optimizer": "adam", "lr": 0.02}),
    ("adamw", {"optimizer": "adamw", "lr": 0.02}),
    ("nadam", {"optimizer": "nadam", "lr": 0.02}),
    # the other keys
    ("sgd wd", {"optimizer": "sgd", "lr": 1e-3, "weight_decay": 0.05}),
    ("momentum damp+wd", {"optimizer": "momentum", "lr": 2e-4, "momentum": 0.8, "dampening": 0.3,
                          "weight_decay": 0.01}),
    ("nesterov wd", {"optimizer": "nesterov", "lr": 1e-4, "momentum": 0.95, "weight_decay": 0.02}),
    ("sgd clip_norm", {"optimizer": "sgd", "lr": 1e-3, "clip_norm": 5.0}),
    ("momentum clip_value", {"optimizer": "momentum", "lr": 1e-4, "clip_value": 20.0}),
    ("adagrad decay+acc+wd", {"optimizer": "adagrad", "lr": 0.3, "lr_decay": 0.01,
                              "initial_accumulator_value": 0.1, "weight_decay": 0.001}),
    ("adadelta rho+eps+wd", {"optimizer": "adadelta", "lr": 1.0, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01}),
    ("rmsprop centered+mom", {"optimizer": "rmsprop", "lr": 2e-4, "alpha": 0.99, "centered": True,
                              "momentum": 0.5, "weight_decay": 0.001}),
    ("adam amsgrad+wd", {"optimizer": "adam", "lr": 0.02, "amsgrad": True, "weight_decay": 0.01,
                         "betas": [0.8, 0.99], "eps": 1e-6}),
    ("adamw amsgrad", {"optimizer": "adamw", "lr": 0.02, "amsgrad": True, "weight_decay": 0.1}),
    ("nadam wd+decay", {"optimizer": "nadam", "lr": 0.01, "weight_decay": 0.01, "momentum_decay": 0.01,
                        "betas": [0.85, 0.995]}),
    ("adam clip_norm", {"optimizer": "adam", "lr": 0.01, "clip_norm": 2.0}),
    # schedules (torch.optim.lr_scheduler, stepped after each opt.step())
    ("adam step", {"optimizer": "adam", "lr": 0.05, "schedule": "step", "step_size": 100, "gamma": 0.5}),
    ("momentum exponential", {"optimizer": "momentum", "lr": 2e-4, "schedule": "exponential", "gamma": 0.995}),
    ("rmsprop cosine", {"optimizer": "rmsprop", "lr": 2e-3, "schedule": "cosine", "t_max": 200,
                        "eta_min": 1e-4}),
    ("nadam warmup", {"optimizer": "nadam", "lr": 0.02, "schedule": "warmup", "warmup_steps": 50}),
]


# ----------------------------------------------------------------------------- tuisim side
def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return repr(float(v)) if isinstance(v, float) else str(v)


def scenario_text(steps: int) -> str:
    lines = ['title = "crosscheck: optimizer paths on Rosenbrock against torch.optim"', f"steps = {steps}",
             "seed = 0", "", "[surface]", 'name = "rosenbrock"', f"a = {A!r}", f"b = {B!r}",
             f"start = {toml_value(START)}", "noise = 0.0", "", "[train]", 'optimizer = "sgd"', ""]
    for label, train in VARIANTS:
        lines += ["[[variant]]", f"label = {json.dumps(label)}"]
        lines += [f"train.{k} = {toml_value(v)}" for k, v in train.items()]
        lines.append("")
    return "\n".join(lines)


def run_tuisim(cmd: list[str], workdir: str, steps: int) -> dict[str, list[dict]]:
    path = os.path.join(workdir, "rosenbrock_torch.toml")
    out = os.path.join(workdir, "out")
    with open(path, "w") as f:
        f.write(scenario_text(steps))
    proc = subprocess.run(cmd + ["run", path, "--headless", "--out", out, "--threads", "1"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        sys.exit(f"tuisim run failed (exit {proc.returncode})")
    rows: dict[str, list[dict]] = {}
    with open(os.path.join(out, "steps.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            rows.setdefault(r["variant"], []).append(r)
    for v in rows.values():
        v.sort(key=lambda r: r["step"])
    return rows


# ----------------------------------------------------------------------------- torch side
def resolved(train: dict) -> dict:
    """The variant's settings with tuisim's defaults filled in (which are torch.optim's)."""
    st = {k: p.default for k, p in OPTIMIZER_PARAMS.items()}
    st.update(train)
    name = st["optimizer"]
    st["lr"] = DEFAULT_LR[name] if st["lr"] is None else st["lr"]
    st["eps"] = DEFAULT_EPS.get(name, 1e-8) if st["eps"] is None else st["eps"]
    st["momentum"] = DEFAULT_MOMENTUM.get(name, 0.0) if st["momentum"] is None else st["momentum"]
    st["weight_decay"] = DEFAULT_WEIGHT_DECAY.get(name, 0.0) if st["weight_decay"] is None else st["weight_decay"]
    if st["gamma"] is None:
        st["gamma"] = DEFAULT_GAMMA.get(st["schedule"], 1.0)
    st["betas"] = tuple(st["betas"])
    return st


def torch_optimizer(params, st: dict):
    o, lr, wd = st["optimizer"], st["lr"], st["weight_decay"]
    if o in ("sgd", "momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=st["momentum"], dampening=st["dampening"],
                               weight_decay=wd, nesterov=o == "nesterov")
    if o == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, lr_decay=st["lr_decay"], weight_decay=wd,
                                   initial_accumulator_value=st["initial_accumulator_value"], eps=st["eps"])
    if o == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=st["rho"], eps=st["eps"], weight_decay=wd)
    if o == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=st["alpha"], eps=st["eps"], weight_decay=wd,
                                   momentum=st["momentum"], centered=st["centered"])
    if o == "adam":
        return torch.optim.Adam(params, lr=lr, betas=st["betas"], eps=st["eps"], weight_decay=wd,
                                amsgrad=st["amsgrad"])
    if o == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=st["betas"], eps=st["eps"], weight_decay=wd,
                                 amsgrad=st["amsgrad"])
    if o == "nadam":
        return torch.optim.NAdam(params, lr=lr, betas=st["betas"], eps=st["eps"], weight_decay=wd,
                                 momentum_decay=st["momentum_decay"])
    raise ValueError(f"no torch.optim counterpart for {o!r}")


def torch_scheduler(opt, st: dict):
    s = st["schedule"]
    if st["warmup_steps"] and s != "warmup":
        raise ValueError("warmup on top of another schedule is not mapped here")
    if s == "constant":
        return None
    if s == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=st["step_size"], gamma=st["gamma"])
    if s == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(opt, gamma=st["gamma"])
    if s == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=st["t_max"], eta_min=st["eta_min"])
    if s == "warmup":  # lr * min(1, (t + 1) / w) = LinearLR from 1/w to 1 over w - 1 steps
        w = st["warmup_steps"]
        if w == 1:
            return None
        return torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0 / w, end_factor=1.0, total_iters=w - 1)
    raise ValueError(f"no torch.optim.lr_scheduler counterpart for {s!r}")


def run_torch(train: dict, steps: int, analytic: bool):
    st = resolved(train)
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = torch_optimizer([p], st)
    sched = torch_scheduler(opt, st)
    pos, loss, upd = [], [], []
    for _ in range(steps):
        before = p.detach().clone()
        opt.zero_grad()
        if analytic:  # tuisim's closed form, tuisim.core.surface.value_grad
            x, y = float(before[0]), float(before[1])
            r = y - x * x
            f = (A - x) ** 2 + B * r * r
            p.grad = torch.tensor([-2.0 * (A - x) - 4.0 * B * x * r, 2.0 * B * r], dtype=torch.float64)
        else:
            x, y = p[0], p[1]
            fl = (A - x) ** 2 + B * (y - x ** 2) ** 2
            fl.backward()
            f = float(fl.detach())
        if st["clip_value"] is not None:
            torch.nn.utils.clip_grad_value_([p], st["clip_value"])
        if st["clip_norm"] is not None:
            torch.nn.utils.clip_grad_norm_([p], st["clip_norm"])
        opt.step()
        if sched is not None:
            sched.step()
        after = p.detach()
        pos.append(before.tolist())
        loss.append(f)
        upd.append((after - before).tolist())
    return pos, loss, upd


# ----------------------------------------------------------------------------- comparison
def rel_err(a, b) -> tuple[float, int]:
    """max over steps and coordinates of |a - b| / max(|b|, 1), and the first step where
    the error exceeds 1e-15 (-1 if none)."""
    worst, first = 0.0, -1
    for k, (ra, rb) in enumerate(zip(a, b)):
        ra = ra if isinstance(ra, (list, tuple)) else [ra]
        rb = rb if isinstance(rb, (list, tuple)) else [rb]
        for va, vb in zip(ra, rb):
            e = abs(va - vb) / max(abs(vb), 1.0) if math.isfinite(va) and math.isfinite(vb) else \
                (0.0 if va == vb or (math.isnan(va) and math.isnan(vb)) else math.inf)
            if e > 1e-15 and first < 0:
                first = k
            worst = max(worst, e)
    return worst, first


def hp_words(train: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in train.items() if k != "optimizer")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--tol", type=float, default=1e-12)
    ap.add_argument("--tuisim", default=None, help="the tuisim command (default: this Python's `-m tuisim`)")
    ap.add_argument("--keep", default=None, help="write the scenario and records here instead of a temp dir")
    ap.add_argument("--analytic", action="store_true", help="torch gets tuisim's closed-form gradient")
    ap.add_argument("--default-dtype", choices=("float64", "float32"), default="float64",
                    help="torch's default dtype (float32: NAdam's mu_product is kept in float32, see above)")
    args = ap.parse_args()
    # float64 throughout, as tuisim. torch.optim keeps its scalar state (NAdam's mu_product, the step
    # counts) in torch's *default* dtype (optimizer._get_scalar_dtype), float32 unless this is set.
    torch.set_default_dtype(getattr(torch, args.default_dtype))

    missing = set(registry.OPTIMIZERS) - {t["optimizer"] for _, t in VARIANTS}
    if missing:
        print(f"note: no variant for {sorted(missing)}")
    cmd = shlex.split(args.tuisim) if args.tuisim else [sys.executable, "-m", "tuisim"]
    t0 = time.perf_counter()
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        rows = run_tuisim(cmd, args.keep, args.steps)
    else:
        with tempfile.TemporaryDirectory(prefix="tuisim_xcheck_") as d:
            rows = run_tuisim(cmd, d, args.steps)
    t1 = time.perf_counter()

    print(f"Rosenbrock (a={A}, b={B}) from {START}, {args.steps} steps, float64 (torch default dtype "
          f"{args.default_dtype}), torch {torch.__version__}, "
          f"gradient: {'closed form' if args.analytic else 'autograd'}; err = max |tuisim - torch| / max(|torch|, 1)")
    hw = max(len(hp_words(t)) for _, t in VARIANTS)
    head = f"{'variant':22} {'hyperparameters':{hw}} {'steps':>5} {'position':>9} {'loss':>9} {'update':>9} " \
           f"{'1st>1e-15':>9} {'torch~ulp':>9} {'end (x, y)':>20}  result"
    print(head)
    print("-" * len(head))
    failed, noisy = [], []
    for label, train in VARIANTS:
        rec = rows.get(label, [])
        tp, tl, tu = run_torch(train, args.steps, args.analytic)
        n = len(rec)
        ep, fp = rel_err([r["position"] for r in rec], tp[:n])
        el, _ = rel_err([r["loss"] for r in rec], tl[:n])
        eu, _ = rel_err([r["update"] for r in rec], tu[:n])
        # the path's own sensitivity to rounding: torch against itself, the gradient rounded another way
        sp = rel_err(run_torch(train, args.steps, not args.analytic)[0], tp)[0]
        worst = max(ep, el, eu)
        if n != args.steps or worst > max(args.tol, 10 * sp):
            result = "FAIL"
            failed.append(label)
        elif worst > args.tol:
            result = "PASS~"  # beyond tol, but so is torch against itself: rounding amplified by the path
            noisy.append(label)
        else:
            result = "PASS"
        end = [rec[-1]["position"][i] + rec[-1]["update"][i] for i in (0, 1)] if rec else [math.nan] * 2
        print(f"{label:22} {hp_words(train):{hw}} {n:5d} {ep:9.2e} {el:9.2e} {eu:9.2e} {fp:9d} {sp:9.2e} "
              f"({end[0]:8.5f}, {end[1]:8.5f})  {result}")
    t2 = time.perf_counter()
    print(f"\n{len(VARIANTS) - len(failed)}/{len(VARIANTS)} PASS at tol {args.tol:g}"
          + (f" ({len(noisy)} only within 10x torch's own spread: {', '.join(noisy)})" if noisy else "")
          + f"  (tuisim run {t1 - t0:.1f} s, torch {t2 - t1:.1f} s)")
    if failed:
        print("FAIL: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
