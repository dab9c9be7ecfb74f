"""Eckart–Young–Mirsky for LoRA: no rank-r update B A^T gets below the spectral tail.

Theorem (Eckart–Young–Mirsky): for every A (n x r), B (m x r), ||M - B A^T||_F^2 >= sum_{i>r} s_i(M)^2,
with equality at the truncated SVD.  Checked on the end point of alternating least squares from a random
start (an independent method: it never sees the SVD).  The control claims the bound includes s_r^2, which
the same end point violates: it shows the optimiser gets close enough to the optimum to tell the two apart.
"""
from __future__ import annotations

import torch

from lora_claims import Evidence, at_least, control, theorem

from .strategies import target, target_draws

PAPER = "Eckart & Young (1936), worked example"
# At the optimum the bound holds with equality, so the computed loss may sit a few ulps below the tail:
# float64 round-off allowance, relative to ||M||_F^2 (the control's violation is s_r^2 / ||M||^2 >= 1e-2).
ROUNDOFF = 1e-12


def lora_fit(M: torch.Tensor, r: int, seed: int, sweeps: int = 200) -> torch.Tensor:
    """Alternating least squares for min ||M - B A^T||_F over rank-r factors; returns B A^T."""
    g = torch.Generator().manual_seed(seed + 1)
    B = torch.randn(M.shape[0], r, generator=g, dtype=M.dtype).to(M.device)
    for _ in range(sweeps):
        A = torch.linalg.lstsq(B, M).solution.T          # A = argmin ||M - B A^T||
        B = torch.linalg.lstsq(A, M.T).solution.T        # B = argmin ||M^T - A B^T||
    return B @ torch.linalg.lstsq(B, M).solution


def eval_eckart_young(drawn, ctx, tail_from: int = 0):
    """||M - B A^T||^2 >= sum_{i > r - tail_from} s_i^2, less the round-off allowance ROUNDOFF ||M||^2."""
    M, s = target(drawn, ctx.device, ctx.dtype)
    M = M.to(ctx.device, ctx.dtype)
    fit = lora_fit(M, drawn["r"], drawn["seed"])
    loss = float(torch.linalg.matrix_norm(M - fit) ** 2)
    bound = float((s[drawn["r"] - tail_from:] ** 2).sum())
    scale = float((s ** 2).sum())
    return Evidence.from_margins({"loss >= tail": at_least(loss, bound - ROUNDOFF * scale)},
                                 {"loss": loss, "tail": bound, "norm2": scale})


theorem(
    "example.eckart_young", paper=PAPER, theorem="Eckart–Young–Mirsky",
    statement="Every rank-r LoRA update B A^T leaves ||M - B A^T||_F^2 >= sum_{i>r} s_i(M)^2.",
    assumptions="M = U diag(s) V^T, m, n <= max_dim, 1 <= r < min(m, n), s_r / s_{r+1} >= 2.",
    provenance="paper", strategy=target_draws, evaluate=eval_eckart_young)

control(
    "example.nc_tail_includes_sr", guards="example.eckart_young",
    statement="MUTANT: the bound includes s_r^2 (sum_{i>=r} s_i^2), which the optimum violates.",
    strategy=target_draws,
    evaluate=lambda drawn, ctx: eval_eckart_young(drawn, ctx, tail_from=1))
