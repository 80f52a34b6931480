"""The memory a scenario needs, estimated from its keys before anything is allocated,
and the check that refuses what this machine cannot hold (issue 11).

`tuisim run` and the app train every variant at every seed at once (`ScenarioRun`), so a
scenario needs, for each (variant, seed) run, everything that run keeps until the end:

- **weights**: the parameters, their gradients, the optimizer's state (the rows of
  `tuisim.core.update`'s state its rule writes, each the parameters' size: 1 for SGD, 3
  for Adam, ...), a copy of the initial weights (for `weight_change`) and batch norm's
  running statistics;
- **activations**: the compiled step's workspace, `rows` numbers per example (every
  layer's pre-activations, activations, normalised values, masks and back-propagated
  signals: `tuisim.core.layout`), for a training batch, and for the whole test split and
  the whole training split, which the run evaluates in one pass each;
- **records**: the run's history, at most about 4 MB or 4,096 records
  (`tuisim.run.history` thins older records), and the buffers of one compiled chunk of
  up to 1,024 steps;
- **data**: the dataset of each seed (shared by the variants that train on the same
  data), and the targets a loss derives from it;
- **pretraining**: the largest layer's autoencoder, its workspace and the codes of the
  whole training split;

plus the engine itself (Python, NumPy and Numba's compiled code, about 165 MB measured)
and the largest transient array (an initialization, the data while it is generated).
The figures are the arrays' sizes, computed with the engine's own layout rules (a test
checks them against `tuisim.core.layout`), so the estimate is close to what the process
allocates (measured: see tests/scenario/test_budget.py and the README).

`check_memory` compares the estimate with the memory available (`available_memory`:
TUISIM_MEMORY when set, else the smaller of /proc/meminfo's MemAvailable and the
cgroup's limit) less a margin, and when it does not fit reports one problem at the key
that drives the size, with the largest value of that key that would fit.

Nothing here imports the engine (no Numba): validation stays fast.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, replace
from typing import Any, Callable

from tuisim.data.registry import DATASETS

# Mirrors of the engine's constants (tests/scenario/test_budget.py checks each against its source).
STATE_ROWS = 4  # tuisim.core.update.STATE_ROWS: optimizer state rows, whatever the optimizer
STAT_ROWS = 8  # tuisim.core.step.S_ROWS: per-layer statistics of a step
OUT_COLS = 6  # tuisim.core.step.O_SIZE
MAX_CHUNK = 1024  # tuisim.run.variant_run.MAX_CHUNK: steps per compiled call
RECORD_FIELDS = 8  # len(tuisim.run.history.SCALAR_FIELDS)
LAYER_FIELDS = 8  # len(tuisim.core.registry.LAYER_FIELDS)
HISTORY_BYTES = 4 << 20  # tuisim.run.history: a history keeps about this much ...
HISTORY_RECORDS = (1024, 4096)  # ... and between this many records
HISTOGRAM_BINS = 40  # the app's (tuisim.app.driver.HISTOGRAM_BINS)

ENGINE_BYTES = 200 << 20  # the process before any run: Python, NumPy, the compiled engine (165 MB measured headless)
RUN_BYTES = 3 << 20  # a run's Python objects and the allocator's slack (measured ~2.7 MB a run at 64 runs)
MARGIN = 0.8  # a scenario may use this fraction of the memory available
MIN_CHUNK = 25  # tuisim run's chunk of steps at the least (session.run(chunk=25))

PARTS = {  # the parts of an estimate, in words
    "weights": "weights, gradients and optimizer state",
    "activations": "activations (of a batch, and of all the data at once at evaluation)",
    "records": "recorded steps",
    "data": "the data",
    "pretraining": "pretraining",
    "engine": "the engine",
    "transient": "initialization",
}

_BYTES = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40,
          "tib": 1 << 40}


# ---------------------------------------------------------------------------- the network
@dataclass(frozen=True)
class NetSize:
    """What `tuisim.core.layout.build_layout` lays out for a network, in numbers."""

    params: int  # trainable parameters (P, G and each optimizer state row)
    weights: int  # the linear layers' weights (copied once as the initial weights)
    running: int  # batch norm's running statistics (R)
    rows: int  # workspace numbers per example
    largest: int  # the largest weight matrix, in numbers
    forward_rows: int = 0  # of `rows`, those an evaluation (forward pass and loss) writes


def net_size(model: dict, n_in: int, n_out: int) -> NetSize:
    """The sizes `build_layout` gives the network of a [model] table (every key filled)."""
    depth = int(model["depth"])
    width = model["width"]
    widths = [int(w) for w in width] if isinstance(width, (list, tuple)) else [int(width)] * depth
    widths = (widths + [widths[-1]] * depth)[:depth]
    k = int(model["pieces"]) if model["activation"] == "maxout" else 1
    norm, after = model["norm"], model["norm_position"] == "after"
    arch = model["architecture"]
    fan_in = [n_in] + widths
    zo = [w * k for w in widths] + [n_out]
    wo = widths + [n_out]
    weights = sum(z * f for z, f in zip(zo, fan_in))
    params = weights + sum(zo)
    largest = max(z * f for z, f in zip(zo, fan_in))
    running = 0
    if norm != "none":
        for i in range(depth):
            nf = wo[i] if after else zo[i]
            params += nf if norm == "rms" else 2 * nf
            if norm == "batch":
                running += 2 * nf
    rows = n_in + n_out + sum(fan_in[1:])  # the input, the logits, every back-propagated signal
    for i in range(depth):
        rows += zo[i] + wo[i]
        if norm != "none" and not after:
            rows += 2 * zo[i]
        if k > 1:
            rows += wo[i]
        if norm != "none" and after:
            rows += 2 * wo[i]
        if norm in ("layer", "rms"):
            rows += 2
        if model["dropout"] > 0:
            rows += 2 * wo[i]
    if arch != "plain":
        every = model["skip_every"] or (2 if arch == "residual" else 1)
        for l0 in range(0, depth, every):
            nf, wl = fan_in[l0], widths[min(l0 + every, depth) - 1]
            if arch == "highway":
                params += wl * nf + wl
                largest = max(largest, wl * nf)
                rows += wl
            if nf != wl:
                rows += wl
                if model["shortcut"] == "projection":
                    params += wl * nf
                    largest = max(largest, wl * nf)
            rows += wl
    # scratch; a forward pass and the loss leave the back-propagated signals, the dropout
    # masks and the scratch (but the loss's dL/dz) untouched, so those pages are never mapped
    scratch = 4 * max(zo + fan_in + wo)
    forward = rows - sum(fan_in[1:]) + n_out - (sum(wo[:depth]) if model["dropout"] > 0 else 0)
    rows += scratch
    return NetSize(params=params, weights=weights, running=running, rows=rows, largest=largest,
                   forward_rows=forward)


# ---------------------------------------------------------------------------- one run
@dataclass(frozen=True)
class RunSpec:
    """What the estimate needs to know about one variant's run."""

    model: dict  # every [model] key
    batch_size: int | str  # [train]'s
    loss: str
    pretrain: dict | None  # steps_per_layer, batch_size, ... (None: no pretraining)
    task: str
    n_in: int
    classes: int  # the data's n_out: classes, or target columns
    n_train: int
    n_test: int
    data_key: tuple  # variants with equal keys share one dataset per seed
    generated: bool
    state_rows: int = STATE_ROWS  # of the optimizer's state rows, those its rule writes

    @property
    def n_out(self) -> int:
        return 1 if self.loss == "bce" else self.classes

    @property
    def itemsize(self) -> int:
        return 4 if self.model["dtype"] == "float32" else 8


def state_rows(train: dict) -> int:
    """The rows of the optimizer's state (tuisim.core.update) an optimizer writes: its own
    (momentum buffer, moments, ...) and the last update's; numpy leaves the others' pages
    unmapped, so they take no memory."""
    name = train.get("optimizer", "sgd")
    momentum = train.get("momentum")
    momentum = (0.9 if name in ("momentum", "nesterov") else 0.0) if momentum is None else momentum
    own = {"sgd": 1 if momentum > 0 else 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "adadelta": 2,
           "rmsprop": 1 + bool(train.get("centered")) + (momentum > 0), "adam": 2 + bool(train.get("amsgrad")),
           "adamw": 2 + bool(train.get("amsgrad")), "nadam": 2}.get(name, STATE_ROWS - 1)
    return own + 1


def run_spec(variant, info) -> RunSpec:
    """A `RunSpec` from a merged `Variant` and its `DataInfo`."""
    data = variant.data
    kind = DATASETS.get(data.get("name"))
    return RunSpec(model=variant.model, batch_size=variant.train["batch_size"], loss=variant.train["loss"],
                   pretrain=variant.pretrain, task=info.task, n_in=info.n_in, classes=info.n_out,
                   n_train=info.n_train, n_test=info.n_test, data_key=tuple(sorted(map(repr, data.items()))),
                   generated=kind is not None and not kind.from_file, state_rows=state_rows(variant.train))


def _batch(bs: Any, n_train: int) -> int:
    return n_train if bs == "full" or bs is None else min(int(bs), n_train)


def run_parts(r: RunSpec, steps: int) -> tuple[dict[str, int], dict[str, int]]:
    """(what the run keeps to its end, what it holds only while it trains a chunk or
    pretrains), in bytes by part."""
    isz = r.itemsize
    net = net_size(r.model, r.n_in, r.n_out)
    layers = int(r.model["depth"]) + 1
    B = _batch(r.batch_size, r.n_train)
    # one workspace per batch size: the training batch's, whole; the evaluations' (the whole
    # training and test splits), as far as a forward pass writes them
    evals = ({r.n_train} | ({r.n_test} if r.n_test else set())) - {B}
    kept = {
        "weights": (2 + r.state_rows) * net.params * isz + net.weights * isz + 2 * net.running * isz,
        "activations": (net.rows * B + net.forward_rows * sum(evals)) * isz,
        "records": _history_bytes(layers, steps) + 4 * layers * HISTOGRAM_BINS * 8 + RUN_BYTES,
        "data": (r.n_train + r.n_test) * r.n_out * 8 if r.loss != "cross_entropy" else 0,  # derived targets
    }
    # a chunk of steps: per-step statistics, and the batches' rows (fewer steps when a step is
    # slow); float32 nets convert the data each call
    m = min(steps, MAX_CHUNK)
    busy = {"records": m * (STAT_ROWS * layers + OUT_COLS + 8) * 8 + min(steps, _chunk_steps(net, B)) * B * 8}
    if isz == 4:
        busy["data"] = (r.n_train + r.n_test) * r.n_in * 4
    if r.pretrain is not None and r.pretrain.get("steps_per_layer"):
        # a run pretrains before its first step, so before its evaluations' workspaces exist
        busy["pretraining"] = max(0, _pretrain_bytes(r, net) - net.forward_rows * sum(evals) * isz)
    return kept, busy


def _history_bytes(layers: int, steps: int) -> int:
    per_record = 8 * (RECORD_FIELDS + 1 + LAYER_FIELDS * layers)
    lo, hi = HISTORY_RECORDS
    limit = int(min(hi, max(lo, HISTORY_BYTES // per_record)))
    return 2 * min(steps + 2, limit) * per_record  # x2: thinning builds the new arrays beside the old


def _chunk_steps(net: NetSize, B: int) -> int:
    """Steps in a compiled chunk: up to MAX_CHUNK, fewer when a step is slow (the chunks
    last about 20-30 ms); a step is taken to run ~6 flops per parameter and example at
    ~10 GFLOP/s."""
    seconds = 6.0 * net.params * B / 1e10
    return int(min(MAX_CHUNK, max(MIN_CHUNK, 0.03 / max(seconds, 1e-9))))


def _pretrain_bytes(r: RunSpec, net: NetSize) -> int:
    """The largest layer's autoencoder (depth 1, the layer's input reconstructed), with its
    optimizer, workspaces for a batch and for the whole training split, and the codes."""
    isz, n = r.itemsize, r.n_train
    m = r.model
    width = m["width"]
    depth = int(m["depth"])
    widths = list(width) if isinstance(width, (list, tuple)) else [width] * depth
    fan_in = [r.n_in] + widths[:-1]
    B = _batch(r.pretrain.get("batch_size") or r.batch_size, n)
    most = 0
    for f, w in zip(fan_in, widths):
        ae = net_size({**m, "depth": 1, "width": w, "norm": "none", "architecture": "plain", "dropout": 0.0}, f, f)
        rows = state_rows({"optimizer": r.pretrain.get("optimizer", "adam")})
        # workspaces: the batch's, whole; the whole split's (the codes), as far as a forward pass writes it
        work = ae.rows * B + (ae.forward_rows * n if B < n else 0)
        # the layer's inputs (a float32 copy of float64 data), and the codes' copies [H, h]
        total = (2 + rows) * ae.params * isz + work * isz + 3 * n * (f + w) * isz
        most = max(most, total + MAX_CHUNK * B * 8)
    return most


def data_bytes(r: RunSpec) -> tuple[int, int]:
    """(kept, while it is made) for one seed's dataset: X train and test (float64) and
    the labels or targets; generating draws, standardises and splits (~3 copies)."""
    x = (r.n_train + r.n_test) * r.n_in * 8
    y = (r.n_train + r.n_test) * (8 if r.task == "classification" else 8 * r.classes)
    return x + y, 3 * x + y


# ---------------------------------------------------------------------------- a scenario
@dataclass(frozen=True)
class Estimate:
    """A scenario's memory: bytes by part (PARTS), for `runs` runs side by side."""

    parts: dict[str, int]
    runs: int
    per_run: int  # the largest run's own (kept) bytes

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def largest_part(self) -> tuple[str, int]:
        name = max((p for p in self.parts if p != "engine"), key=lambda p: self.parts[p])
        return name, self.parts[name]


def estimate(specs: list[RunSpec], seeds: int, steps: int, threads: int | None = None) -> Estimate:
    """The memory of `specs` (one per variant) each run at `seeds` seeds side by side on
    `threads` threads (default: the cores available), for `steps` steps."""
    parts = dict.fromkeys(PARTS, 0)
    parts["engine"] = ENGINE_BYTES
    runs = len(specs) * seeds
    threads = min(threads or _cores(), max(1, runs))
    busy_runs: list[dict[str, int]] = []
    transient = 0
    per_run = 0
    seen_data: set = set()
    for r in specs:
        kept, busy = run_parts(r, steps)
        for p, b in kept.items():
            parts[p] += b * seeds
        per_run = max(per_run, sum(kept.values()))
        busy_runs += [busy] * seeds
        if r.data_key not in seen_data:
            seen_data.add(r.data_key)
            d_kept, d_made = data_bytes(r)
            parts["data"] += d_kept * seeds
            transient = max(transient, d_made)
        net = net_size(r.model, r.n_in, r.n_out)
        transient = max(transient, 4 * net.largest * 8)  # an init draws in float64, then scales and casts
    # the runs that train at once each hold a chunk's buffers (or pretrain): the largest `threads` of them
    busy_runs.sort(key=lambda b: sum(b.values()), reverse=True)
    for busy in busy_runs[:threads]:
        for p, b in busy.items():
            parts[p] += b
    parts["transient"] = transient
    return Estimate(parts={p: int(b) for p, b in parts.items()}, runs=runs, per_run=int(per_run))


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------------------- the machine
@dataclass(frozen=True)
class Available:
    bytes: int
    source: str  # "this machine has 6.1 GiB available", "TUISIM_MEMORY is 2 GiB", ...
    usable: int  # what a scenario may use


def parse_size(text: str) -> int | None:
    """'8G', '512M', '1.5GiB', '1000000' -> bytes; None when it is not a size."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text or "")
    if not m or m[2].lower() not in _BYTES:
        return None
    value = float(m[1]) * _BYTES[m[2].lower()]
    return int(value) if 0 < value < 2**62 else None


def _meminfo() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup() -> int | None:
    """What the cgroup's memory limit leaves (v2: memory.max - memory.current; v1:
    memory.limit_in_bytes - memory.usage_in_bytes), or None when there is no limit."""
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                          "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit) as f:
                text = f.read().strip()
            if text == "max":
                return None
            cap = int(text)
            if cap >= 1 << 60:  # v1's "no limit"
                return None
            with open(usage) as f:
                used = int(f.read().strip())
            return max(0, cap - used)
        except (OSError, ValueError):
            continue
    return None


def _physical() -> int | None:
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def available_memory(environ: dict | None = None) -> Available | None | str:
    """The memory a scenario may use: TUISIM_MEMORY (a size like 8G) when set, else MARGIN
    times the smaller of MemAvailable (/proc/meminfo) and what the cgroup's limit leaves
    (elsewhere: the free physical pages). None when nothing says; the bad text when
    TUISIM_MEMORY is not a size."""
    env = os.environ if environ is None else environ
    given = env.get("TUISIM_MEMORY")
    if given is not None and given.strip():
        n = parse_size(given)
        if n is None:
            return given
        return Available(n, f"TUISIM_MEMORY is {format_bytes(n)}", n)
    found = [(n, "this machine has {} available") for n in (_meminfo(),) if n is not None]
    cg = _cgroup()
    if cg is not None:
        found.append((cg, "its memory limit (cgroup) leaves {}"))
    if not found:
        phys = _physical()
        if phys is None:
            return None
        found.append((phys, "this machine has {} free"))
    n, words = min(found)
    return Available(n, words.format(format_bytes(n)), int(n * MARGIN))


def format_bytes(n: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= size:
            v = n / size
            return f"{v:.3g} {unit}" if v < 100 else f"{v:,.0f} {unit}"
    return f"{max(n, 0) / 1024:.0f} KiB" if n >= 1024 else f"{max(int(n), 0)} bytes"


# ---------------------------------------------------------------------------- the check
@dataclass(frozen=True)
class Knob:
    """A key that scales the estimate: where it is written (a report path), its value,
    the smallest value it may take, and how to apply another value to the specs."""

    path: tuple  # ("model", "width"), ("variant", 2, "model", "width"), ("seeds",)
    name: str  # as the suggestion names it: width, depth, seeds, samples, ...
    value: int
    lo: int
    apply: Callable[[list[RunSpec], int, int], tuple[list[RunSpec], int]]  # (specs, seeds, v) -> (specs, seeds)


def _set_in(targets: set[int], fn: Callable[[RunSpec, int], RunSpec]):
    def apply(specs: list[RunSpec], seeds: int, v: int) -> tuple[list[RunSpec], int]:
        return [fn(r, v) if i in targets else r for i, r in enumerate(specs)], seeds
    return apply


def _with_width(r: RunSpec, v: int) -> RunSpec:
    w = r.model["width"]
    w = [min(int(x), v) for x in w] if isinstance(w, (list, tuple)) else v
    return replace(r, model={**r.model, "width": w})


def _with_depth(r: RunSpec, v: int) -> RunSpec:
    w = r.model["width"]
    model = {**r.model, "depth": v}
    if isinstance(w, (list, tuple)):
        model["width"] = list(w)[:v]
    return replace(r, model=model)


def _with_samples(tf_of: dict[int, float]):
    def fn(r: RunSpec, v: int) -> RunSpec:
        tf = tf_of.get(id(r), 0.0)
        n_test = int(math.floor(v * tf + 0.5))
        return replace(r, n_train=max(1, v - n_test), n_test=n_test)
    return fn


def knobs(specs: list[RunSpec], variants: list, where: Callable[[int, str, str], tuple], seeds: int,
          seeds_path: tuple) -> list[Knob]:
    """The keys that could bring the estimate down, each where it is written. `where(i,
    section, key)` is the report path of variant i's value of the key (its own override,
    or the base table's)."""
    out: list[Knob] = []

    def group(section: str, key: str, applies: Callable[[int], bool]) -> dict[tuple, set[int]]:
        places: dict[tuple, set[int]] = {}
        for i in range(len(specs)):
            if applies(i):
                places.setdefault(where(i, section, key), set()).add(i)
        return places

    def biggest(targets: set[int], get: Callable[[int], int]) -> int:
        return max(get(i) for i in targets)

    def max_width(i: int) -> int:
        w = specs[i].model["width"]
        return max(w) if isinstance(w, (list, tuple)) else int(w)

    for path, targets in group("model", "width", lambda i: True).items():
        out.append(Knob(path, "width", biggest(targets, max_width), 1, _set_in(targets, _with_width)))
    for path, targets in group("model", "depth", lambda i: True).items():
        out.append(Knob(path, "depth", biggest(targets, lambda i: int(specs[i].model["depth"])), 1,
                        _set_in(targets, _with_depth)))
    if seeds > 1:
        out.append(Knob(seeds_path, "seeds", seeds, 1, lambda sp, s, v: (sp, v)))
    tf = {id(specs[i]): float(variants[i].data.get("test_fraction") or 0.0) for i in range(len(specs))}
    for path, targets in group("data", "samples", lambda i: specs[i].generated).items():
        out.append(Knob(path, "samples", biggest(targets, lambda i: specs[i].n_train + specs[i].n_test), 4,
                        _set_in(targets, _with_samples(tf))))
    features = lambda i: specs[i].generated and DATASETS[variants[i].data["name"]].features is not None  # noqa: E731
    for path, targets in group("data", "features", features).items():
        out.append(Knob(path, "features", biggest(targets, lambda i: specs[i].n_in), 1,
                        _set_in(targets, lambda r, v: replace(r, n_in=v))))
    batches = lambda i: _batch(specs[i].batch_size, specs[i].n_train) > 1  # noqa: E731
    for path, targets in group("train", "batch_size", batches).items():
        out.append(Knob(path, "batch_size", biggest(targets, lambda i: _batch(specs[i].batch_size, specs[i].n_train)),
                        1, _set_in(targets, lambda r, v: replace(r, batch_size=v))))
    maxout = lambda i: specs[i].model["activation"] == "maxout" and specs[i].model["pieces"] > 2  # noqa: E731
    for path, targets in group("model", "pieces", maxout).items():
        out.append(Knob(path, "pieces", biggest(targets, lambda i: int(specs[i].model["pieces"])), 2,
                        _set_in(targets, lambda r, v: replace(r, model={**r.model, "pieces": v}))))
    return [k for k in out if k.value > k.lo]


def largest_fit(knob: Knob, specs: list[RunSpec], seeds: int, steps: int, usable: int) -> int | None:
    """The largest value of the knob (the others as they are) whose estimate fits in
    `usable` bytes; None when not even its smallest value fits."""
    def fits(v: int) -> bool:
        sp, s = knob.apply(specs, seeds, v)
        return estimate(sp, s, steps).total <= usable

    lo, hi = knob.lo, knob.value
    if not fits(lo):
        return None
    while hi - lo > 1:  # fits(lo), not fits(hi)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def _nice(v: int) -> int:
    """Rounded down to two significant digits: 14,213 -> 14,000."""
    if v < 100:
        return v
    step = 10 ** (len(str(v)) - 2)
    return v // step * step


def _subject(knob: Knob, specs: list[RunSpec], seeds: int) -> str:
    v = f"{knob.value:,}"
    return {
        "width": f"{v} units per hidden layer",
        "depth": f"{v} hidden layers",
        "seeds": f"{len(specs)} variant{'s' * (len(specs) != 1)} x {v} seeds",
        "samples": f"{v} examples",
        "features": f"{v} input features",
        "batch_size": f"batches of {v} examples",
        "pieces": f"{v} maxout pieces",
    }[knob.name]


TYPICAL = {"width": 64, "depth": 3, "seeds": 1, "samples": 600, "features": 2, "batch_size": 64, "pieces": 2}


def memory_problem(specs: list[RunSpec], variants: list, where: Callable[[int, str, str], tuple], seeds: int,
                   seeds_path: tuple, steps: int, available: Available) -> tuple[tuple, str] | None:
    """None when the scenario fits; else (the report path of the key that drives the size,
    the message).

    The key blamed is, among those that alone could make the scenario fit, the one
    furthest beyond its usual value (the format's default) for what it weighs: the
    log of value / usual, times the estimate's elasticity in it (memory grows as
    width squared, as depth, seeds and samples)."""
    est = estimate(specs, seeds, steps)
    if est.total <= available.usable:
        return None
    fits = []
    for order, k in enumerate(knobs(specs, variants, where, seeds, seeds_path)):
        v = largest_fit(k, specs, seeds, steps, available.usable)
        if v is None:
            continue
        half_specs, half_seeds = k.apply(specs, seeds, max(k.lo, k.value // 2))
        half = estimate(half_specs, half_seeds, steps).total
        elasticity = math.log(est.total / half) / math.log(k.value / max(k.lo, k.value // 2))
        score = elasticity * math.log(max(1.0, k.value / TYPICAL[k.name]))
        fits.append((score, -order, k, v))
    fits.sort(key=lambda t: (t[0], t[1]), reverse=True)
    part, size = est.largest_part()
    runs = f" for {est.runs} runs" if est.runs > 1 else ""
    need = f"need about {format_bytes(est.total)} of memory{runs}, {format_bytes(size)} of it {PARTS[part]}"
    machine = available.source + (f" (tuisim uses at most {MARGIN:.0%})" if available.usable < available.bytes else "")
    if not fits:
        file_data = not specs[0].generated
        path = {"activations": where(0, "data", "path" if file_data else "samples"),
                "data": where(0, "data", "path" if file_data else "samples")}.get(part, where(0, "model", "width"))
        if available.usable < 2 * ENGINE_BYTES:
            fix = f"the engine alone takes about {format_bytes(ENGINE_BYTES)}"
        else:
            fix = "make it smaller: width, depth, seeds, " + ("a smaller data file" if file_data else "samples")
        return path, f"this scenario would {need}; {machine}: {fix}"
    _, _, knob, v = fits[0]
    # other ways out, when they are not far-fetched (at most a tenth of the value)
    others = ", ".join(f"{k.name} <= {_nice(x):,}" for _, _, k, x in fits[1:]
                       if k.name != knob.name and x * 10 >= k.value)
    fix = f"use {knob.name} <= {_nice(v):,}" + (f" (or {others})" if others else "")
    return knob.path, f"{_subject(knob, specs, seeds)} {need}; {machine}: {fix}"


def check_memory(report, specs: list, resolved: list, seeds: int, steps: int | None,
                 environ: dict | None = None) -> None:
    """Report (at the key that drives the size) a scenario whose variants, each at `seeds`
    seeds, would not fit in the memory available. `specs` and `resolved` are validate's
    VariantSpecs and their merged variants; variants whose data could not be described
    (already reported) leave the check out."""
    if not resolved or any(r.info is None for r in resolved):
        return
    available = available_memory(environ)
    if isinstance(available, str):
        report.add((), f"must be a size like 8G, 1.5GiB or 512M (the memory tuisim may use), not "
                       f"{available[:40]!r}", file="TUISIM_MEMORY")
        return
    if available is None:
        return

    def where(i: int, section: str, key: str) -> tuple:
        spec = specs[i]
        if spec.index is not None and spec.overrides(section, key):
            return ("variant", spec.index, section, key)
        return (section, key)

    variants = [r.variant for r in resolved]
    runs = [run_spec(v, r.info) for v, r in zip(variants, resolved)]
    found = memory_problem(runs, variants, where, max(1, seeds), ("seeds",), steps or 1000, available)
    if found is not None:
        report.add(*found)


def workers_that_fit(scenarios, workers: int, environ: dict | None = None) -> int:
    """How many of `workers` local worker processes fit in the memory available, each
    loading the engine and running one (variant, seed) task of `scenarios` (a sweep's
    tasks, one variant each) at a time: at least 1, since every task alone was checked
    when its point was validated."""
    available = available_memory(environ)
    if workers <= 1 or not isinstance(available, Available):
        return workers
    from tuisim.data import DatasetError, describe_data

    largest, seen, infos = 0, set(), {}
    for sc in scenarios:
        for v in sc.variants:
            if (id(v), sc.steps) in seen:
                continue
            seen.add((id(v), sc.steps))
            key = tuple(sorted(map(repr, v.data.items())))
            if key not in infos:
                try:
                    infos[key] = describe_data(v.data, sc.base_dir)
                except DatasetError:
                    infos[key] = None
            if infos[key] is not None:
                largest = max(largest, estimate([run_spec(v, infos[key])], 1, sc.steps, threads=1).total)
    return max(1, min(workers, available.usable // max(1, largest)))
