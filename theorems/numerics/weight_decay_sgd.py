"""Minibatch SGD with weight decay on a LoRA-adapted linear layer (Kim et al. 2025, Lemma 1, after
Galanti et al.), batched over instances.

L(X) = 1/(2N) sum_i ||X x_i - y_i||^2 with X = A B^T; one step on a minibatch I of size b:
G = (1/b) sum_{i in I} (X x_i - y_i) x_i^T (rank <= b: a linear layer's per-sample gradients have rank 1),
A <- (1 - mu lam) A - mu G B, B <- (1 - mu lam) B - mu G^T A (simultaneous).  Unrolled over the last K
steps this gives two exact finite-horizon facts [derived] behind the lemma:
  A_T = (1 - mu lam)^K A_{T-K} + (a matrix of rank <= b K), so
  tail(X_T, b K) <= (1 - mu lam)^K ||A_{T-K}||_F ||B_T||_2, and
  X_T = (1 - mu lam)^{2K} X_{T-K} + (a matrix of rank <= 2 b K), so tail(X_T, 2 b K) <= (1 - mu lam)^{2K} ||X_{T-K}||_F,
where tail(X, k) = (sum_{s > k} sigma_s(X)^2)^{1/2} is the distance to the nearest matrix of rank <= k
(Eckart-Young).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class SGDRun:
    A: torch.Tensor          # (B, m, r) at step T
    Bf: torch.Tensor         # (B, n, r) at step T
    A_back: torch.Tensor     # (B, m, r) at step T - K
    B_back: torch.Tensor     # (B, n, r) at step T - K
    finite: torch.Tensor     # (B,) bool: the run did not diverge (final factors finite, below 1e30)

    @property
    def X(self) -> torch.Tensor:
        return self.A @ self.Bf.transpose(1, 2)

    @property
    def X_back(self) -> torch.Tensor:
        return self.A_back @ self.B_back.transpose(1, 2)


def lora_sgd(x, y, A0, B0, lam: float, mu: float, minibatches: torch.Tensor, back: int) -> SGDRun:
    """Run SGD for T = len(minibatches) steps; ``minibatches`` (T, B, b) holds each step's sample indices
    per instance.  Keeps the factors at step T - ``back``."""
    A, Bf = A0.clone(), B0.clone()
    T = minibatches.shape[0]
    if not 0 <= back <= T:
        raise ValueError(f"back must be in [0, {T}], got {back}")
    decay = 1.0 - mu * lam
    rows = torch.arange(x.shape[0], device=x.device).unsqueeze(1)
    A_back, B_back = (A.clone(), Bf.clone()) if back == T else (None, None)
    for t in range(T):
        idx = minibatches[t]
        xb, yb = x[rows, idx], y[rows, idx]                        # (B, b, n), (B, b, m)
        resid = xb @ Bf @ A.transpose(1, 2) - yb                   # (B, b, m): (X x_i - y_i)^T
        G = resid.transpose(1, 2) @ xb / idx.shape[1]              # (B, m, n)
        A, Bf = decay * A - mu * G @ Bf, decay * Bf - mu * G.transpose(1, 2) @ A
        if t == T - back - 1:
            A_back, B_back = A.clone(), Bf.clone()
    # beyond 1e30 the SVD of X = A B^T overflows: such a run has diverged as surely as a non-finite one
    finite = (A.flatten(1).abs().amax(1) < 1e30) & (Bf.flatten(1).abs().amax(1) < 1e30)
    return SGDRun(A, Bf, A_back, B_back, finite)


def tail(X: torch.Tensor, k: int) -> torch.Tensor:
    """(B,) distance of each X to the nearest matrix of rank <= k (Eckart-Young, Frobenius)."""
    s = torch.linalg.svdvals(X)
    return s[:, k:].square().sum(dim=1).sqrt()


def lemma1_rank(b: int, mu_lam: float, eps: float) -> float:
    """Lemma 1's rank bound b log(eps/4) / log(1 - mu lam) (not rounded)."""
    return b * math.log(eps / 4) / math.log(1 - mu_lam)


def steps_for(mu_lam: float, eps: float) -> int:
    """The fewest K with (1 - mu lam)^K <= eps / 4: the horizon over which the lemma's rank is collected."""
    return max(1, math.ceil(math.log(eps / 4) / math.log(1 - mu_lam) - 1e-12))
