"""The torch.nn module that computes what a tuisim.Network computes, parameter for parameter
(the same code as the README's "Check it against PyTorch"; crosscheck_torch.py checks both).

    model = from_tuisim(net)                    # same architecture, net's weights loaded (strict)
    model.eval(); model(torch.from_numpy(X))    # == net.forward(X)
"""
import torch, torch.nn as nn, torch.nn.functional as F

class Maxout(nn.Module):  # max(), not amax(): on a tie the gradient goes to the first piece, as in tuisim
    def __init__(self, k): super().__init__(); self.k = k
    def forward(self, y): return y.unflatten(-1, (-1, self.k)).max(-1).values

def make_activation(name, negative_slope=0.01, alpha=1.0, pieces=2):
    return {"identity": nn.Identity(), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "relu": nn.ReLU(),
            "leaky_relu": nn.LeakyReLU(negative_slope), "elu": nn.ELU(alpha), "selu": nn.SELU(),
            "gelu": nn.GELU(), "silu": nn.SiLU(), "softplus": nn.Softplus(), "maxout": Maxout(pieces)}[name]

def make_norm(name, n):  # torch's defaults: eps 1e-5, momentum 0.1; RMSNorm eps = finfo(dtype).eps
    return {"none": nn.Identity(), "batch": nn.BatchNorm1d(n), "layer": nn.LayerNorm(n),
            "rms": nn.RMSNorm(n)}[name]

class TuisimMLP(nn.Module):
    def __init__(self, n_in, n_out, depth=3, width=64, activation="relu", negative_slope=0.01, alpha=1.0,
                 pieces=2, norm="none", norm_position="before", architecture="plain", skip_every=None,
                 shortcut="projection", dropout=0.0, dtype="float64", **_init_keys):
        super().__init__()
        w = list(width) if isinstance(width, (list, tuple)) else [width] * depth
        k = pieces if activation == "maxout" else 1
        fan_in, fan_out = [n_in] + w, [wi * k for wi in w] + [n_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(fan_in, fan_out))
        self.after, self.arch = norm_position == "after", architecture
        self.norms = nn.ModuleList(make_norm(norm, w[i] if self.after else fan_out[i]) for i in range(depth))
        self.act, self.drop = make_activation(activation, negative_slope, alpha, pieces), nn.Dropout(dropout)
        s = 1 if architecture == "plain" else skip_every or (2 if architecture == "residual" else 1)
        self.blocks = [(l0, min(l0 + s, depth)) for l0 in range(0, depth, s)]
        self.gates = nn.ModuleList(nn.Linear(fan_in[l0], w[l1 - 1]) for l0, l1 in self.blocks
                                   if architecture == "highway")
        self.shortcuts = nn.ModuleDict({str(b): nn.Linear(fan_in[l0], w[l1 - 1], bias=False)
                                        for b, (l0, l1) in enumerate(self.blocks) if architecture != "plain"
                                        and shortcut == "projection" and fan_in[l0] != w[l1 - 1]})
        self.to(getattr(torch, dtype))  # tuisim's dtype: float64 (its default) or float32

    def hidden(self, i, h):
        z = self.layers[i](h)
        a = self.act(z if self.after else self.norms[i](z))
        return self.drop(self.norms[i](a) if self.after else a)

    def forward(self, x):
        for b, (l0, l1) in enumerate(self.blocks):
            f = x
            for i in range(l0, l1):
                f = self.hidden(i, f)
            if self.arch == "plain":
                x = f
                continue
            # shortcut: identity, projection, or zero padding / truncation (F.pad crops when negative)
            sc = self.shortcuts[str(b)](x) if str(b) in self.shortcuts else F.pad(x, (0, f.shape[1] - x.shape[1]))
            t = torch.sigmoid(self.gates[b](x)) if self.arch == "highway" else 1.0
            x = f + sc if self.arch == "residual" else f * t + sc * (1 - t)
        return self.layers[-1](x)

def from_tuisim(net):  # the same architecture, the network's parameters and buffers loaded (strict)
    model = TuisimMLP(**net.config)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    return model
