"""Batched Lanczos for the extreme eigenvalues of symmetric operators given only by matrix-vector products.

Used for Hessians too large to form (sosp.py, minimise.py): one tensor program over the batch, full
reorthogonalisation (twice, classical Gram-Schmidt), and a random restart orthogonal to the Krylov basis
where a row's basis becomes invariant (small operators, LoRA's exact symmetry zeros), so the tridiagonal
matrix never carries spurious zero Ritz values.  With ``steps >= dim`` the Ritz values are the spectrum.
Ritz values lie inside the spectrum: the smallest one is >= lambda_min, with equality reached as the
Krylov space grows; ``residual`` (||H x - theta x|| of the smallest Ritz pair) says how far it may be.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch


@dataclass
class Extremes:
    lam_min: torch.Tensor      # (B,) smallest Ritz value
    lam_max: torch.Tensor      # (B,) largest Ritz value
    vec_min: torch.Tensor      # (B, d) unit Ritz vector of lam_min
    residual: torch.Tensor     # (B,) ||H vec_min - lam_min vec_min||
    steps: int


def extremes(matvec: Callable[[torch.Tensor], torch.Tensor], batch: int, dim: int, *, steps: int = 120,
             dtype=torch.float64, device=None, seed: int = 0) -> Extremes:
    """Extreme eigenvalues of ``matvec`` ((B, dim) -> (B, dim), symmetric per row) by ``min(steps, dim)``
    Lanczos steps from a seeded random start."""
    k = max(1, min(int(steps), int(dim)))
    g = torch.Generator(device="cpu").manual_seed(int(seed))

    def rand():
        return torch.randn(batch, dim, generator=g, dtype=torch.float64).to(device=device, dtype=dtype)

    Q = torch.zeros(batch, k, dim, dtype=dtype, device=device)
    alpha = torch.zeros(batch, k, dtype=dtype, device=device)
    beta = torch.zeros(batch, k, dtype=dtype, device=device)     # beta[:, j] couples q_j and q_{j+1}
    q = rand()
    q = q / q.norm(dim=1, keepdim=True)
    scale = torch.zeros(batch, dtype=dtype, device=device)
    for j in range(k):
        Q[:, j] = q
        w = matvec(q)
        alpha[:, j] = (w * q).sum(dim=1)
        scale = torch.maximum(scale, w.norm(dim=1))
        basis = Q[:, : j + 1]
        for _ in range(2):                                        # full reorthogonalisation, twice
            w = w - torch.einsum("bj,bjd->bd", torch.einsum("bjd,bd->bj", basis, w), basis)
        b = w.norm(dim=1)
        if j == k - 1:
            beta[:, j] = b
            break
        invariant = b <= 1e-10 * scale.clamp_min(1e-300)
        if bool(invariant.any()):                                 # restart those rows orthogonally
            fresh = rand()
            for _ in range(2):
                fresh = fresh - torch.einsum("bj,bjd->bd", torch.einsum("bjd,bd->bj", basis, fresh), basis)
            fresh = fresh / fresh.norm(dim=1, keepdim=True).clamp_min(1e-300)
            w = torch.where(invariant.unsqueeze(1), fresh, w / b.clamp_min(1e-300).unsqueeze(1))
            b = torch.where(invariant, torch.zeros_like(b), b)
        else:
            w = w / b.unsqueeze(1)
        beta[:, j] = b
        q = w
    T = torch.diag_embed(alpha) + torch.diag_embed(beta[:, :-1], 1) + torch.diag_embed(beta[:, :-1], -1)
    theta, S = torch.linalg.eigh(T)
    vec = torch.einsum("bj,bjd->bd", S[:, :, 0], Q)
    residual = (beta[:, -1] * S[:, -1, 0]).abs() if k < dim else torch.zeros(batch, dtype=dtype, device=device)
    return Extremes(theta[:, 0], theta[:, -1], vec / vec.norm(dim=1, keepdim=True), residual, k)
