"""Measured RSC/RSM constants (Kim, Kim, Ryu 2025, assumptions A2/A3) of a matrix loss at its optimum.

For losses whose constants are not known by construction (e.g. the NTK risk of a real network's
Jacobian), bracket them at X* from the Hessian H = Hess L(X*) over vec(X) (row-major):

  alpha_global = lambda_min(H) <= alpha      (a lower bound: every direction counts)
  alpha_upper  = min over rank-1 D of D:H:D / ||D||^2 >= alpha   (a rank-1 direction is admissible in A2
                 whenever r > r*, since rank(X* + D) <= r*+1 <= r)
  beta_lower   = max over D = u v^T with v in row(X*) or u in col(X*) of D:H:D / ||D||^2 <= beta: such D
                 are the A3 directions U X* + X* V at X = X* (rank-1 U, V; the other term vanishes when its
                 factor is taken from a null space of X*, which exists since rank X* < min(m, n))
  beta_global  = lambda_max(H) >= beta

The regime is decided only when the brackets decide it: 'generic' if 2 alpha_upper <= beta_lower,
'special' if 2 alpha_global > beta_global, else 'undetermined'.  For quadratic losses (squared NTK
risk) H is constant, so the constants are global; for cross-entropy they are local at X*.
Rank-1 extremes by alternating eigen-solves (each step is exact in one factor, so the value is
monotone); float64.
"""
from __future__ import annotations

import torch


def rank1_rayleigh(H: torch.Tensor, m: int, n: int, largest: bool, P: torch.Tensor | None = None,
                   Q: torch.Tensor | None = None, starts: int = 4, iters: int = 50, seed: int = 0) -> float:
    """Extreme of d:H:d over unit d = u v^T with u in span(P), v in span(Q) (orthonormal columns)."""
    H = H.double().reshape(m, n, m, n)
    P = torch.eye(m, dtype=H.dtype) if P is None else P.double()
    Q = torch.eye(n, dtype=H.dtype) if Q is None else Q.double()
    Hpq = torch.einsum("abcd,ai,bj,ck,dl->ijkl", H, P, Q, P, Q)        # H in the (P, Q) coordinates
    g = torch.Generator().manual_seed(seed)
    pick = (lambda ev, V: (ev[-1], V[:, -1])) if largest else (lambda ev, V: (ev[0], V[:, 0]))
    best = None
    for _ in range(starts):
        q = torch.randn(Q.shape[1], generator=g, dtype=H.dtype)
        q = q / q.norm()
        for _ in range(iters):
            val, p = pick(*torch.linalg.eigh(torch.einsum("ijkl,j,l->ik", Hpq, q, q)))
            val, q = pick(*torch.linalg.eigh(torch.einsum("ijkl,i,k->jl", Hpq, p, p)))
        best = float(val) if best is None else (max if largest else min)(best, float(val))
    return best


def bracket(H: torch.Tensor, Xstar: torch.Tensor, rel: float = 1e-9) -> dict:
    """The brackets of module docstring for one (m, n) optimum X* and its Hessian H (mn, mn)."""
    m, n = Xstar.shape
    ev = torch.linalg.eigvalsh(0.5 * (H + H.T).double())
    U, s, Vh = torch.linalg.svd(Xstar.double())
    rstar = int((s > rel * max(1.0, float(s[0]) if s.numel() else 0.0)).sum())
    out = {"alpha_global": float(ev[0]), "beta_global": float(ev[-1]), "r_star": rstar,
           "alpha_upper": rank1_rayleigh(H, m, n, largest=False)}
    if 0 < rstar < min(m, n):
        out["beta_lower"] = max(rank1_rayleigh(H, m, n, True, Q=Vh[:rstar].T),
                                rank1_rayleigh(H, m, n, True, P=U[:, :rstar]))
    else:
        out["beta_lower"] = float("nan")
    if out["beta_lower"] == out["beta_lower"] and 2 * out["alpha_upper"] <= out["beta_lower"]:
        out["regime"] = "generic"
    elif 2 * out["alpha_global"] > out["beta_global"]:
        out["regime"] = "special"
    else:
        out["regime"] = "undetermined"
    out["two_alpha_upper_over_beta_lower"] = (2 * out["alpha_upper"] / out["beta_lower"]
                                              if out["beta_lower"] > 0 else float("nan"))
    return out
