"""NTK features of real (small) torch networks: the G of Jang, Lee, Ryu (2024), Section 2.

A network is built from a JSON-able ``arch`` dict (an MLP or a one-block transformer; no downloads),
pretrained briefly on a synthetic regression task with a fixed seed, and linearised at its pretrained
weights W0 in one adapted weight matrix W (shape (m, n) = (out_features, in_features), torch's layout):

    z_ik(W0 + delta) ~ f0_ik + <G_ik, delta>,   G_ik = d z_ik / d W at W0,

computed exactly with ``torch.func`` (``jacrev`` of the K outputs, ``vmap`` over the N points).  The
result is an :class:`~theorems.numerics.losses.NTKRisk`, the layout every Jang check consumes.  The
linearisation is exact for that risk (it *is* the NTK model); it is not the network's own loss.
Everything is float64 and reproducible from the drawn values.
"""
from __future__ import annotations

import functools
import json

import torch
from torch import nn

from .losses import NTKRisk

TOKENS = 3            # sequence length of the transformer's inputs
PRETRAIN_STEPS = 100
PRETRAIN_POINTS = 32


class MLP(nn.Module):
    """x -> head(tanh(l1(tanh(l0 x)))): adaptable layers 'l0' (width x d_in) and 'l1' (width x width)."""

    def __init__(self, d_in: int, width: int, K: int):
        super().__init__()
        self.l0, self.l1, self.head = nn.Linear(d_in, width), nn.Linear(width, width), nn.Linear(width, K)

    def forward(self, x):
        return self.head(torch.tanh(self.l1(torch.tanh(self.l0(x)))))


class Block(nn.Module):
    """Single-head self-attention (q, k, v, o; no bias) and a tanh MLP (up, down), both residual."""

    def __init__(self, d: int, f: int):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.up, self.down = nn.Linear(d, f), nn.Linear(f, d)

    def forward(self, h):                                   # h: (..., T, d)
        att = torch.softmax(self.q(h) @ self.k(h).transpose(-1, -2) / h.shape[-1] ** 0.5, dim=-1)
        h = h + self.o(att @ self.v(h))
        return h + self.down(torch.tanh(self.up(h)))


class Transformer(nn.Module):
    """Tokens (T, d_in) -> embed -> one Block -> mean over tokens -> K outputs."""

    def __init__(self, d_in: int, width: int, K: int, ff: int):
        super().__init__()
        self.emb, self.block, self.head = nn.Linear(d_in, width), Block(width, ff), nn.Linear(width, K)

    def forward(self, x):
        return self.head(self.block(self.emb(x)).mean(dim=-2))


ADAPTABLE = {"mlp": ("l0", "l1"), "transformer": ("block.q", "block.k", "block.v", "block.o", "block.up")}


def layer_shape(arch: dict, layer: str) -> tuple[int, int]:
    """(m, n) = (out_features, in_features) of the adapted layer's weight."""
    w, ff = arch["width"], arch.get("ff", arch["width"])
    return {"l0": (w, arch["d_in"]), "block.up": (ff, w)}.get(layer, (w, w))


def positions(arch: dict) -> int:
    """How many times the adapted layer is applied per input: 1 (MLP) or TOKENS (transformer)."""
    return 1 if arch["kind"] == "mlp" else TOKENS


def build(arch: dict) -> nn.Module:
    """The untrained float64 network of ``arch`` (kind, d_in, width, K, [ff], seed)."""
    if arch["kind"] not in ADAPTABLE:
        raise ValueError(f"unknown architecture {arch['kind']!r} (mlp or transformer)")
    with torch.random.fork_rng(devices=[]):     # nn.Linear's own init, seeded, global RNG untouched
        torch.manual_seed(int(arch["seed"]))
        if arch["kind"] == "mlp":
            return MLP(arch["d_in"], arch["width"], arch["K"]).double()
        return Transformer(arch["d_in"], arch["width"], arch["K"], arch.get("ff", arch["width"])).double()


def inputs(arch: dict, count: int, seed: int) -> torch.Tensor:
    """``count`` synthetic inputs: (count, d_in) or (count, TOKENS, d_in), standard Gaussian."""
    g = torch.Generator().manual_seed(int(seed))
    shape = (count, arch["d_in"]) if arch["kind"] == "mlp" else (count, TOKENS, arch["d_in"])
    return torch.randn(shape, generator=g, dtype=torch.float64)


def teacher(arch: dict, shift: float = 0.0) -> nn.Module:
    """The synthetic task: a random network of the same kind (seed + 1); ``shift`` != 0 moves its
    head weights by shift * Gaussian (seed + 2): the fine-tuning task differs from pretraining."""
    net = build(dict(arch, seed=int(arch["seed"]) + 1))
    if shift:
        g = torch.Generator().manual_seed(int(arch["seed"]) + 2)
        with torch.no_grad():
            net.head.weight.add_(shift * torch.randn(net.head.weight.shape, generator=g, dtype=torch.float64))
    return net


def pretrained(arch: dict) -> nn.Module:
    """The network pretrained for PRETRAIN_STEPS full-batch Adam steps on the teacher's task (MSE).

    Cached per architecture and shared: copy it (``copy.deepcopy``) before modifying it."""
    return _pretrained(json.dumps(arch, sort_keys=True))


@functools.lru_cache(maxsize=16)
def _pretrained(key: str) -> nn.Module:
    arch = json.loads(key)
    net, X = build(arch), inputs(arch, PRETRAIN_POINTS, int(arch["seed"]) + 3)
    with torch.no_grad():
        Y = teacher(arch)(X)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    with torch.enable_grad():
        for _ in range(PRETRAIN_STEPS):
            opt.zero_grad()
            loss = 0.5 * ((net(X) - Y) ** 2).sum(dim=-1).mean()
            loss.backward()
            opt.step()
    net.requires_grad_(False)
    return net.eval()


def pretrain_loss(arch: dict, net: nn.Module | None = None) -> float:
    """The pretraining loss of ``net`` (default: the untrained network) on the pretraining set."""
    net = build(arch) if net is None else net
    X = inputs(arch, PRETRAIN_POINTS, int(arch["seed"]) + 3)
    with torch.no_grad():
        return float(0.5 * ((net(X) - teacher(arch)(X)) ** 2).sum(dim=-1).mean())


def jacobian(net: nn.Module, layer: str, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(G, f0): G (N, K, m, n) = d net(x_i)_k / d W_layer at the current weights, f0 (N, K) = net(X)."""
    params = {k: v.detach() for k, v in net.named_parameters()}
    name = layer + ".weight"

    def f(W, x):
        return torch.func.functional_call(net, {**params, name: W}, (x,))

    with torch.enable_grad():
        G = torch.func.vmap(torch.func.jacrev(f), in_dims=(None, 0))(params[name], X)
    with torch.no_grad():
        f0 = net(X)
    return G.detach(), f0.detach()


def linearisation_error(arch: dict, layer: str, N: int, seed: int, delta: torch.Tensor, ts=(1.0,)) -> list[float]:
    """For each t: max_b ||net(W0 + t delta_b)(X_b) - (f0 + t G delta_b)|| / max(||t G delta_b||, 1e-12), how
    far the network is from its NTK model along the update (0 = exactly linear; delta in real units)."""
    net = pretrained(arch)
    params = {k: v for k, v in net.named_parameters()}
    W0 = params[layer + ".weight"]
    worst = [0.0] * len(ts)
    for b in range(delta.shape[0]):
        X = inputs(arch, N, int(seed) + b)
        G, f0 = jacobian(net, layer, X)
        for i, t in enumerate(ts):
            d = t * delta[b].to("cpu", torch.float64)
            lin = (G * d).sum(dim=(-2, -1))
            out = torch.func.functional_call(net, {**params, layer + ".weight": W0 + d}, (X,))
            worst[i] = max(worst[i], float((out - f0 - lin).norm() / lin.norm().clamp_min(1e-12)))
    return worst


def ntk_risk(arch: dict, layer: str, N: int, loss: str, seed: int, batch: int = 1, shift: float = 1.0,
             device="cpu", dtype=torch.float64) -> NTKRisk:
    """The NTK-linearised fine-tuning risk of the pretrained ``arch`` adapted at ``layer``.

    ``batch`` independent data sets of N points (seeds seed, seed+1, ...); targets are the shifted
    teacher's outputs (squared loss) or its argmax labels (cross-entropy).
    """
    if layer not in ADAPTABLE[arch["kind"]]:
        raise ValueError(f"layer {layer!r} is not adaptable in {arch['kind']} ({ADAPTABLE[arch['kind']]})")
    net, task = pretrained(arch), teacher(arch, shift)
    Gs, fs, ys = [], [], []
    for b in range(batch):
        X = inputs(arch, N, int(seed) + b)
        G, f0 = jacobian(net, layer, X)
        with torch.no_grad():
            t = task(X)
        Gs.append(G)
        fs.append(f0)
        ys.append(t if loss == "sq" else t.argmax(dim=-1))
    y = torch.stack(ys).to(device)
    return NTKRisk(torch.stack(Gs).to(device, dtype), torch.stack(fs).to(device, dtype),
                   y.to(dtype) if loss == "sq" else y, loss)


def unit_scale(risk: NTKRisk) -> tuple[NTKRisk, torch.Tensor]:
    """An exact reparametrisation of ``risk`` to unit scale, per batch row; returns (risk', u).

    Squared loss: targets y' = f0 + (y - f0) / s with s the RMS residual; then G' = G / c with c the
    norm ||grad||_2 at 0 of the risk with targets y' (cross-entropy: s = 1), so ||grad L'(0)||_2 = 1 and
    L'(delta') = L(u delta') / s^2.  Outputs map as <G', delta'> = <G, delta> / s, i.e. delta = u delta' with
    u = s / c (s = 1 for cross-entropy): the landscape, ranks, certificate ratios sigma(M)/lam (with
    lam relative to ||grad L(0)||_2) and relative values are unchanged, and absolute solver tolerances
    mean the same thing on every network.
    """
    B = risk.batch
    s = torch.ones(B, dtype=risk.dtype, device=risk.device)
    y = risk.y
    if risk.kind == "sq":
        s = (risk.y - risk.f0).flatten(1).pow(2).mean(dim=1).sqrt().clamp_min(1e-300)
        y = risk.f0 + (risk.y - risk.f0) / s.view(-1, 1, 1)
    scaled = NTKRisk(risk.G, risk.f0, y, risk.kind)
    zero = torch.zeros(B, risk.m, risk.n, dtype=risk.dtype, device=risk.device)
    c = torch.linalg.matrix_norm(scaled.grad(zero), ord=2).clamp_min(1e-300)
    return NTKRisk(risk.G / c.view(-1, 1, 1, 1, 1), risk.f0, y, risk.kind), s / c
