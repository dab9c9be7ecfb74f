"""Builders of NTK-regime instances (Jang et al. 2024) from drawn values.

A drawn instance is a plain JSON-able dict; every tensor is generated from a seeded torch
generator, so the dict alone reproduces the instance on any device.
"""
from __future__ import annotations

import torch

from ..theorems.numerics.losses import NTKRisk
from ..theorems.numerics.rank_reduction import rank_bound

from .seeding import generator


def random_ntk(N: int, K: int, m: int, n: int, loss: str, seed: int, batch: int = 1,
               device="cpu", dtype=torch.float64) -> NTKRisk:
    """Gaussian G, f0 and targets (squared loss) or uniform labels (cross-entropy)."""
    g = generator(seed)
    G = torch.randn(batch, N, K, m, n, generator=g, dtype=torch.float64)
    f0 = torch.randn(batch, N, K, generator=g, dtype=torch.float64)
    if loss == "sq":
        y = torch.randn(batch, N, K, generator=g, dtype=torch.float64).to(device, dtype)
    else:
        y = torch.randint(0, K, (batch, N), generator=g).to(device)
    return NTKRisk(G.to(device, dtype), f0.to(device, dtype), y, loss)


def symmetric_perturbation(size: int, eps: torch.Tensor, seed: int, batch: int = 1,
                           device="cpu", dtype=torch.float64) -> torch.Tensor:
    """P = eps * sym(Gaussian) / ||sym(Gaussian)||_2, shape (batch, size, size); eps per batch row."""
    g = generator(seed)
    X = torch.randn(batch, size, size, generator=g, dtype=torch.float64)
    X = 0.5 * (X + X.transpose(1, 2))
    X = X / torch.linalg.matrix_norm(X, ord=2).reshape(-1, 1, 1)
    return (torch.as_tensor(eps, dtype=torch.float64).reshape(-1, 1, 1) * X).to(device, dtype)


def tightness_family(r0: int, m: int, n: int, diag_targets=None, batch: int = 1,
                     device="cpu", dtype=torch.float64) -> NTKRisk:
    """T(r0) of the spec's NC-A: K = 1, N = r0(r0+1)/2 constraints on the top-left r0 x r0 block.

    G's are E_jj (target diag_targets[j], default 1) and E_jl + E_lj for j < l (target 0); f0 = 0,
    squared loss.  Every interpolant has rank >= r0; for lam < 1/N the convex optimum is
    (1 - N lam) I_r0 (+) 0 with value lam r0 - N lam^2 r0 / 2 (all diagonal targets 1).
    """
    if r0 > min(m, n):
        raise ValueError("T(r0) needs r0 <= min(m, n)")
    d = [1.0] * r0 if diag_targets is None else list(diag_targets)
    N = r0 * (r0 + 1) // 2
    G = torch.zeros(N, 1, m, n, dtype=torch.float64)
    y = torch.zeros(N, 1, dtype=torch.float64)
    k = 0
    for j in range(r0):
        G[k, 0, j, j] = 1.0
        y[k, 0] = d[j]
        k += 1
    for j in range(r0):
        for l in range(j + 1, r0):
            G[k, 0, j, l] = G[k, 0, l, j] = 1.0
            k += 1
    G = G.expand(batch, *G.shape).to(device, dtype).contiguous()
    y = y.expand(batch, *y.shape).to(device, dtype).contiguous()
    return NTKRisk(G, torch.zeros_like(y), y, "sq")


def r_max(KN: int) -> int:
    """Largest r with r(r+1)/2 <= KN (Jang et al. Thm 3.1 rank bound)."""
    return rank_bound(KN)


def r_no_spurious(KN: int) -> int:
    """Smallest r with r(r+1)/2 > KN (Jang et al. Sec. 4 threshold)."""
    return rank_bound(KN) + 1


def feature_dataset(draws: int, N: int, m: int, n: int, seed: int, sample_seed: int | None = None,
                    R: float = 1.0, y_max: float = 1.0, noise: float = 0.1, device="cpu", dtype=torch.float64):
    """``draws`` independent training sets of N points from one fixed feature distribution (K = 1).

    Features G(x) = R Z / ||Z||_F with Z Gaussian (so ||G(x)||_F = R exactly); labels from a fixed
    rank-1 teacher of unit nuclear norm plus Gaussian noise, clipped to [-y_max, y_max]; f0 = 0.
    The teacher depends only on (m, n, seed); the points on ``sample_seed`` (default seed + 1), so
    another ``sample_seed`` draws a test set from the same distribution.  Returns an NTKRisk with
    batch ``draws``.
    """
    gt = generator(seed)
    u = torch.randn(m, generator=gt, dtype=torch.float64)
    v = torch.randn(n, generator=gt, dtype=torch.float64)
    teacher = torch.outer(u / u.norm(), v / v.norm())
    sample_seed = seed + 1 if sample_seed is None else sample_seed
    return sample_from_teacher(teacher, draws, N, sample_seed, R, y_max, noise, device, dtype)


def sample_from_teacher(teacher: torch.Tensor, draws: int, N: int, seed: int, R: float, y_max: float,
                        noise: float, device="cpu", dtype=torch.float64) -> NTKRisk:
    g = generator(seed)
    m, n = teacher.shape
    Z = torch.randn(draws, N, 1, m, n, generator=g, dtype=torch.float64)
    G = R * Z / Z.flatten(2).norm(dim=2).reshape(draws, N, 1, 1, 1)
    y = (G * teacher).sum(dim=(3, 4)) + noise * torch.randn(draws, N, 1, generator=g, dtype=torch.float64)
    y = y.clamp(-y_max, y_max)
    return NTKRisk(G.to(device, dtype), torch.zeros_like(y).to(device, dtype), y.to(device, dtype), "sq")
