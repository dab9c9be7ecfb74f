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
    H = H.double().reshape(m * n, m * n)
    if P is not None or Q is not None:      # H in the (P, Q) coordinates (None: the whole space, no product)
        P = torch.eye(m, dtype=H.dtype) if P is None else P.double()
        Q = torch.eye(n, dtype=H.dtype) if Q is None else Q.double()
        K = (P[:, None, :, None] * Q[None, :, None, :]).reshape(m * n, -1)         # P kron Q, row-major vec
        H = K.T @ H @ K
    p_, q_ = (m, n) if P is None else (P.shape[1], Q.shape[1])
    H4 = H.reshape(p_, q_, p_, q_)
    # the two contractions of the alternating solves as matrix-vector products on a permuted copy (no
    # per-step einsum over the p q p q tensor): A(q)_ik = sum_jl H_ijkl q_j q_l, B(p)_jl = sum_ik H_ijkl p_i p_k
    Hik = H4.permute(0, 2, 1, 3).reshape(p_ * p_, q_ * q_)
    Hjl = H4.permute(1, 3, 0, 2).reshape(q_ * q_, p_ * p_)
    g = torch.Generator().manual_seed(seed)
    pick = (lambda ev, V: (ev[-1], V[:, -1])) if largest else (lambda ev, V: (ev[0], V[:, 0]))
    best = None
    for _ in range(starts):
        q = torch.randn(q_, generator=g, dtype=H.dtype)
        q = q / q.norm()
        for _ in range(iters):
            val, p = pick(*torch.linalg.eigh((Hik @ torch.outer(q, q).reshape(-1)).reshape(p_, p_)))
            val, q = pick(*torch.linalg.eigh((Hjl @ torch.outer(p, p).reshape(-1)).reshape(q_, q_)))
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


def monte_carlo_constants(loss, Xstar: torch.Tensor, ranks, radius: float, samples: int, seed: int,
                          directions: int = 4) -> dict:
    """Kim et al.'s Table 2 estimator of A2/A3 at rank bounds ``ranks`` about X* (one instance, (m, n)).

    Samples X = [X* + Z]_r (the best rank-r approximation of a random point Z of the ball of radius
    ``radius``, kept if ||X - X*|| <= radius) for every r and every sample, and estimates
    alpha_hat(r) = min <grad L(X) - grad L(X*), X - X*> / ||X - X*||^2 and beta_hat(r) = max of the curvature
    along D = U X + X V / ||U X + X V|| for ``directions`` random rank-1 unit U, V, over every sample of rank
    <= r (nested sets, as a bound over rank <= r must be).  The curvature is the gradient difference
    <grad L(X + D) - grad L(X), D> -- exact for a quadratic loss (the squared NTK risk).  Returns
    {r: (alpha_hat, beta_hat, kept samples)}."""
    m, n = Xstar.shape
    dt, dev = Xstar.dtype, Xstar.device
    g = torch.Generator().manual_seed(int(seed))
    Z = torch.randn(samples, m, n, generator=g, dtype=torch.float64).to(dev, dt)
    u = torch.rand(samples, generator=g, dtype=torch.float64).to(dev, dt) ** (1.0 / (m * n))
    Z = radius * u.view(-1, 1, 1) * Z / Z.flatten(1).norm(dim=1).view(-1, 1, 1)
    U0, s0, V0 = torch.linalg.svd(Xstar + Z, full_matrices=False)
    tiled = loss.take(torch.zeros(samples, dtype=torch.long, device=dev))
    g_star = loss.grad(Xstar.unsqueeze(0))
    out, alpha, beta, kept = {}, float("inf"), float("-inf"), 0
    for r in sorted(ranks):
        X = (U0[:, :, :r] * s0[:, None, :r]) @ V0[:, :r]
        Dx = X - Xstar
        dist = Dx.flatten(1).norm(dim=1)
        ok = dist <= radius
        if bool(ok.any()):
            a = ((tiled.grad(X) - g_star) * Dx).sum(dim=(1, 2)) / dist.clamp_min(1e-300) ** 2
            alpha = min(alpha, float(a[ok].min()))
            for _ in range(directions):
                au, bu = torch.randn(2, samples, m, generator=g, dtype=torch.float64).to(dev, dt)
                cv, dv = torch.randn(2, samples, n, generator=g, dtype=torch.float64).to(dev, dt)
                Uo = au.unsqueeze(2) * bu.unsqueeze(1)
                Vo = cv.unsqueeze(2) * dv.unsqueeze(1)
                Uo = Uo / Uo.flatten(1).norm(dim=1).view(-1, 1, 1)
                Vo = Vo / Vo.flatten(1).norm(dim=1).view(-1, 1, 1)
                D = Uo @ X + X @ Vo
                D = D / D.flatten(1).norm(dim=1).clamp_min(1e-300).view(-1, 1, 1)
                b = ((tiled.grad(X + D) - tiled.grad(X)) * D).sum(dim=(1, 2))
                beta = max(beta, float(b[ok].max()))
        kept += int(ok.sum())
        out[r] = (alpha, beta, kept)
    return out
