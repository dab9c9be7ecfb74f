"""Builders of the instance families of Kim, Kim, Ryu (2025) (spec shared/spec/kim2025_fails_loudly.md).

G-quad (WeightedQuadratic), G-sense (MatrixSensing), G-logit (LogisticMatrix) and the nonconvex
negative control NC1 (ScalarFeatureLoss).  As in strategies/ntk_instances.py every tensor is drawn
in float64 on the CPU from a seeded torch generator and only then moved with .to(device, dtype),
so the plain parameters reproduce an instance on any device.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..theorems.numerics.losses import (CoupledBlocks, LogisticMatrix, MatrixSensing, ScalarFeatureLoss,
                                       WeightedQuadratic)

from .seeding import generator

F64 = torch.float64

# NC1 (spec, "Calibration fixtures and negative controls")
NC1_M = NC1_N = 3
NC1_R = 2
NC1_LAM = 0.05
NC1_C = 0.05
NC1_A = -0.2


def regime(alpha, beta):
    """'special' if 2 alpha > beta (Theorem 1: every SOSP is global), else 'generic'.

    Scalars give a string; tensors/arrays with several entries give a list of strings.
    """
    a = np.asarray(torch.as_tensor(alpha).detach().cpu() if torch.is_tensor(alpha) else alpha, dtype=float)
    b = np.asarray(torch.as_tensor(beta).detach().cpu() if torch.is_tensor(beta) else beta, dtype=float)
    lab = np.where(2 * a > b, "special", "generic")
    return str(lab) if lab.ndim == 0 else lab.reshape(-1).tolist()


def _haar(batch: int, k: int, g: torch.Generator) -> torch.Tensor:
    """Haar-distributed orthogonal (batch, k, k) (QR of a Gaussian with the sign fix)."""
    Q, R = torch.linalg.qr(torch.randn(batch, k, k, generator=g, dtype=F64))
    return Q * torch.sign(torch.diagonal(R, dim1=1, dim2=2)).unsqueeze(1)


def log_spaced(k: int, spread: float = 10.0) -> torch.Tensor:
    """k singular values from 1 down to 1/spread, equally spaced on a log scale ([1] for k = 1)."""
    return torch.logspace(0.0, -float(np.log10(spread)), k, dtype=F64) if k > 1 else torch.ones(1, dtype=F64)


def low_rank(m: int, n: int, rank: int, g: torch.Generator, batch: int = 1, scale: float = 1.0,
             spread: float = 10.0) -> torch.Tensor:
    """U diag(s) V^T (batch, m, n) with Haar U, V and log-spaced s (see log_spaced) times scale."""
    if not 0 <= rank <= min(m, n):
        raise ValueError(f"rank must be in [0, min(m, n)] = [0, {min(m, n)}], got {rank}")
    U, V = _haar(batch, m, g)[:, :, :rank], _haar(batch, n, g)[:, :, :rank]
    if rank == 0:
        return torch.zeros(batch, m, n, dtype=F64)
    s = scale * log_spaced(rank, spread)
    return (U * s) @ V.transpose(1, 2)


def gquad(m: int, n: int, kappa: float, seed: int, batch: int = 1, target_rank: int | None = None,
          target_scale: float = 1.0, weights: str = "two-level", spread: float = 10.0, tail: float = 0.0,
          device="cpu", dtype=F64) -> WeightedQuadratic:
    """G-quad: L(X) = 1/2 sum W_ij (X_ij - T_ij)^2 with alpha = min W = 1 and beta = max W = kappa exactly.

    weights="two-level": entries in {1, kappa}, a fair-coin pattern with one entry forced to 1 and
    another to kappa (kappa = 1: all ones); weights="log-uniform": entries log-uniform in
    [1, kappa] with the same two forced entries.  T = target_scale * U diag(s) V^T, Haar U, V,
    s log-spaced from 1 to 1/spread, target_rank nonzero singular values (default min(m, n)).
    ``tail`` > 0 adds a full-rank Gaussian term of spectral norm tail * target_scale, drawn after W and T
    (so the low-rank part is the tail-free instance's): a delta-small tail (Kim et al. Theorem 3).
    """
    kappa = float(kappa)
    if kappa < 1:
        raise ValueError("kappa = beta/alpha must be >= 1")
    if kappa > 1 and m * n < 2:
        raise ValueError("kappa > 1 needs at least two entries")
    g = generator(seed)
    mn = m * n
    if weights == "two-level":
        coin = torch.rand(batch, mn, generator=g, dtype=F64) < 0.5
        W = torch.where(coin, torch.ones((), dtype=F64), torch.full((), kappa, dtype=F64))
    elif weights == "log-uniform":
        W = torch.exp(torch.rand(batch, mn, generator=g, dtype=F64) * float(np.log(kappa)))
    else:
        raise ValueError(f"unknown weights {weights!r} (expected 'two-level' or 'log-uniform')")
    if mn >= 2:
        perm = torch.stack([torch.randperm(mn, generator=g) for _ in range(batch)])
        rows = torch.arange(batch)
        W[rows, perm[:, 0]] = 1.0
        W[rows, perm[:, 1]] = kappa
    else:
        W[:] = 1.0
    W = W.reshape(batch, m, n)
    k = min(m, n) if target_rank is None else int(target_rank)
    T = low_rank(m, n, k, g, batch, target_scale, spread)
    if tail > 0:
        E = torch.randn(batch, m, n, generator=g, dtype=F64)
        T = T + tail * target_scale * E / torch.linalg.matrix_norm(E, ord=2).reshape(batch, 1, 1)
    return WeightedQuadratic(W.to(device, dtype), T.to(device, dtype))


def coupled_gquad(m: int, n: int, kappas, gamma: float, seed: int, target_rank: int | None = None,
                  target_scale: float = 1.0, weights: str = "two-level", first: tuple[int, int] = (1, 0),
                  device="cpu", dtype=F64) -> CoupledBlocks:
    """Kim et al. Theorem 2 on a loss that is not separable: block l is gquad(m, n, kappas[l], seed + l) and the
    blocks are coupled entry by entry by gamma (losses.CoupledBlocks).  Block 0 is row first[1] of a batch
    of first[0] (how a curated single-matrix fixture was drawn), so a known spurious SOSP can seed it."""
    Ws, Ts = [], []
    for l, kappa in enumerate(kappas):
        batch, index = first if l == 0 else (1, 0)
        q = gquad(m, n, kappa, seed + l, batch, target_rank, target_scale, weights if l == 0 else "two-level")
        Ws.append(q.W[index])
        Ts.append(q.T[index])
    W, T = torch.stack(Ws).unsqueeze(0), torch.stack(Ts).unsqueeze(0)
    return CoupledBlocks(W.to(device, dtype), T.to(device, dtype), float(gamma))


def gsense(m: int, n: int, p: int, seed: int, batch: int = 1, target_rank: int = 1, noise: float = 0.0,
           spread: float = 10.0, device="cpu", dtype=F64) -> MatrixSensing:
    """G-sense: standard Gaussian measurements A_k (p >= m n), y = A(X0) + noise * N(0, I).

    X0 = U diag(s) V^T of rank target_rank (log-spaced s from 1 to 1/spread).  With p >= mn the
    measurement matrix has full column rank a.s., so alpha = lambda_min(A*A/p) > 0.
    """
    if p < m * n:
        raise ValueError(f"G-sense needs p >= m*n = {m * n} measurements (got p = {p})")
    g = generator(seed)
    Aop = torch.randn(batch, p, m, n, generator=g, dtype=F64)
    X0 = low_rank(m, n, target_rank, g, batch, 1.0, spread)
    y = (Aop * X0.unsqueeze(1)).sum(dim=(2, 3))
    if noise:
        y = y + noise * torch.randn(batch, p, generator=g, dtype=F64)
    return MatrixSensing(Aop.to(device, dtype), y.to(device, dtype))


def glogit(m: int, n: int, N: int, mu: float, seed: int, batch: int = 1, device="cpu", dtype=F64) -> LogisticMatrix:
    """G-logit: standard Gaussian G_i, labels y_i = sign(<G_i, X0>) (0 -> +1) of a rank-1 teacher
    X0 = u v^T with unit u, v; weight mu of the ridge term (alpha = mu)."""
    g = generator(seed)
    u = torch.randn(batch, m, generator=g, dtype=F64)
    v = torch.randn(batch, n, generator=g, dtype=F64)
    X0 = (u / u.norm(dim=1, keepdim=True)).unsqueeze(2) * (v / v.norm(dim=1, keepdim=True)).unsqueeze(1)
    G = torch.randn(batch, N, m, n, generator=g, dtype=F64)
    y = torch.where((G * X0.unsqueeze(1)).sum(dim=(2, 3)) >= 0, torch.ones((), dtype=F64), -torch.ones((), dtype=F64))
    return LogisticMatrix(G.to(device, dtype), y.to(device, dtype), mu)


def nc1_quartic(batch: int = 1, radius: float = 2.0, device="cpu", dtype=F64) -> ScalarFeatureLoss:
    """The spec's NC1: m = n = 3, G = e1 e1^T, L(X) = phi(X_11) + 0.05 ||X||_F^2, phi(t) = (t^2-1)^2/4 - 0.2 t.

    Used with r = NC1_R = 2 and lam = NC1_LAM = 0.05.  alpha() = 2c - 1 = -0.9 (RSC fails);
    beta() is a bound on the ball ||X||_F <= radius only.  The exact SOSP and the global
    minimiser are in nc1_points().
    """
    G = torch.zeros(batch, NC1_M, NC1_N, dtype=F64)
    G[:, 0, 0] = 1.0
    return ScalarFeatureLoss(G.to(device, dtype), NC1_C, NC1_A, radius)


@dataclass
class NC1Points:
    """Stationary points of f(t) = phi(t) + c t^2 + lam |t| (= L_lam(t G) for G = e1 e1^T).

    Every X has X_11 = t with ||X||_F^2 >= t^2 and ||X||_* >= |t| (equality iff X = t G), so
    min_X L_lam(X) = min_t f(t): t_star gives the global minimiser X_star = t_star G.
    """
    lam: float
    c: float
    a: float
    t1: float            # the local minimiser of f on t < 0 (~ -0.754 for the spec's constants)
    t_star: float        # the global minimiser of f (~ 1.023)
    value: float         # L_lam(t1 G)
    global_value: float  # L_lam(t_star G) = min over all X
    gap: float           # value - global_value (~ 0.364)
    alpha_hat: float     # pointwise RSC ratio <grad L(X1) - grad L(X*), X1 - X*> / ||X1 - X*||^2 (~ -0.056)

    def X(self, t: float, batch: int = 1, device="cpu", dtype=F64) -> torch.Tensor:
        X = torch.zeros(batch, NC1_M, NC1_N, dtype=F64)
        X[:, 0, 0] = t
        return X.to(device, dtype)

    def X_sosp(self, batch: int = 1, device="cpu", dtype=F64) -> torch.Tensor:
        return self.X(self.t1, batch, device, dtype)

    def X_star(self, batch: int = 1, device="cpu", dtype=F64) -> torch.Tensor:
        return self.X(self.t_star, batch, device, dtype)


def _refine(coeffs: np.ndarray, t: float) -> float:
    """Newton steps on the cubic from a numpy.roots root (float64, to rounding)."""
    d = np.polyder(coeffs)
    for _ in range(5):
        dt = np.polyval(coeffs, t) / np.polyval(d, t)
        t -= dt
        if abs(dt) <= 1e-17 * max(1.0, abs(t)):
            break
    return float(t)


def nc1_points(lam: float = NC1_LAM, c: float = NC1_C, a: float = NC1_A) -> NC1Points:
    """The exact SOSP X = t1 G of NC1 and the global minimiser, in float64.

    For t < 0, ||t G||_* = -t, so f'(t) = t^3 - t + a + 2 c t - lam = 0, i.e.
    t^3 + (2c - 1) t + (a - lam) = 0 (t^3 - 0.9 t - 0.25 for the spec); t1 is its negative root
    with f''(t) = 3 t^2 + 2c - 1 > 0 (the other negative root, ~ -0.311, is a local maximum).
    For t > 0 the equation is t^3 + (2c - 1) t + (a + lam) = 0.  At t1, grad L(t1 G) = lam G, so
    sigma_max(grad L) = lam: the convex certificate holds although t1 G is not global.
    """
    def f(t):
        return (t * t - 1) ** 2 / 4 + a * t + c * t * t + lam * abs(t)

    cands = [0.0]
    local_min_neg = []
    for sign in (-1.0, 1.0):
        coeffs = np.array([1.0, 0.0, 2 * c - 1, a + sign * lam])  # sign = -1: branch t < 0
        for z in np.roots(coeffs):
            if abs(z.imag) > 1e-9:
                continue
            t = _refine(coeffs, float(z.real))
            if sign * t > 0:  # root lies in its own branch
                cands.append(t)
                if sign < 0 and 3 * t * t + 2 * c - 1 > 0:
                    local_min_neg.append(t)
    if len(local_min_neg) != 1:
        raise ValueError(f"expected exactly one local minimiser on t < 0, found {local_min_neg}")
    t1 = local_min_neg[0]
    t_star = min(cands, key=f)

    def dL(t):  # d/dt of L(t G) = phi(t) + c t^2 (G = e1 e1^T)
        return t ** 3 - t + a + 2 * c * t

    alpha_hat = (dL(t1) - dL(t_star)) / (t1 - t_star)
    return NC1Points(lam, c, a, t1, t_star, f(t1), f(t_star), f(t1) - f(t_star), alpha_hat)


@dataclass
class LinearLayerSGD:
    """Data and LoRA init of a linear-layer regression y = X_t x (Kim et al. Lemma 1's SGD setting)."""
    x: torch.Tensor             # (B, N, n), x_i ~ N(0, I_n / n)
    y: torch.Tensor             # (B, N, m)
    A0: torch.Tensor            # (B, m, r), Gaussian N(0, 1/r) (the paper's A)
    B0: torch.Tensor            # (B, n, r), zero
    minibatches: torch.Tensor   # (T, B, b) sample indices, uniform with replacement


def linear_layer_sgd(m: int, n: int, r: int, N: int, teacher_rank: int, b: int, steps: int, seed: int,
                     batch: int = 1, device="cpu", dtype=F64) -> LinearLayerSGD:
    """A batch of linear-layer regressions with a rank-``teacher_rank`` teacher of singular values in [0.1, 1]
    (low_rank), and the minibatch indices of ``steps`` SGD steps."""
    g = generator(seed)
    x = torch.randn(batch, N, n, generator=g, dtype=F64) / n ** 0.5
    Xt = low_rank(m, n, teacher_rank, g, batch)
    y = x @ Xt.transpose(1, 2)
    A0 = torch.randn(batch, m, r, generator=g, dtype=F64) / r ** 0.5
    idx = torch.randint(N, (steps, batch, b), generator=g)
    to = dict(device=device, dtype=dtype)
    return LinearLayerSGD(x.to(**to), y.to(**to), A0.to(**to), torch.zeros(batch, n, r, **to), idx.to(device))
