"""Speed side by side in one process: PyTorch eager CPU against tuisim, float64, one
thread, SGD, every layer's gradient norm read each step (tuisim computes all its
statistics); medians of 5 interleaved blocks. A dev tool (pytest does not collect it;
torch is never a tuisim dependency), run in an environment with torch and tuisim:

    python tests/crosscheck/torch_speed.py

The README's speed section quotes what it printed.
"""
import os
os.environ["OPENBLAS_NUM_THREADS"] = "1"
import statistics, time
import numpy as np
import torch
import tuisim

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)
SIZES = [(10, 32, 64), (20, 64, 128), (50, 64, 64), (100, 16, 32), (8, 256, 256)]
NC = 10

def rate(fn, seconds=0.3, per=1):
    n, t0 = 0, time.perf_counter()
    while True:
        fn(); n += 1
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n * per / dt

for depth, width, batch in SIZES:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(batch, width)); y = rng.integers(0, NC, size=batch)
    layers = [torch.nn.Linear(width, width)]
    for _ in range(depth - 1):
        layers += [torch.nn.ReLU(), torch.nn.Linear(width, width)]
    layers += [torch.nn.ReLU(), torch.nn.Linear(width, NC)]
    model = torch.nn.Sequential(*layers)
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    def torch_step():
        opt.zero_grad(set_to_none=False)
        loss = torch.nn.functional.cross_entropy(model(Xt), yt)
        loss.backward()
        torch.stack([w.grad.norm() for w in weights]).tolist()
        opt.step()
    net = tuisim.Network(n_in=width, n_out=NC, depth=depth, width=width, activation="relu", init="he_normal", seed=0)
    topt = tuisim.Optimizer(net, "sgd", lr=0.01)
    whole = np.zeros((100, 0), dtype=np.int64)
    tstep = lambda: topt.step(X, y)
    trun = lambda: topt.run(X, y, whole)
    torch_step(); tstep(); trun()
    a, b, c = [], [], []
    for _ in range(5):
        a.append(rate(torch_step)); b.append(rate(tstep)); c.append(rate(trun, per=100))
    ta, tb, tc = (statistics.median(v) for v in (a, b, c))
    print(f"{depth:>4} {width:>4} {batch:>4}  torch {ta:>8,.0f}  tuisim step {tb:>8,.0f} ({tb/ta:4.1f}x)  run100 {tc:>8,.0f} ({tc/ta:4.1f}x)", flush=True)
