"""Pointwise quantities of Kim, Kim, Ryu (2025), Theorem 1 and Corollary 1, at LoRA end points.

For an end point X = A B^T of the LoRA objective and the global minimiser X* (rank r*) of
L + lam ||.||_*, this computes what the theorem speaks about: the singular values of X, the
certificate ratio ||grad L(X)||_2 / lam (global iff <= 1 for convex L), the residual S of
grad L(X) = -lam L R^T + S, the distance to X*, the tail sum_{s > r*} sigma_s(X)^2, and the
pointwise constants alpha_hat = <grad L(X) - grad L(X*), X - X*> / ||X - X*||^2 and
beta_hat = Hess L(X)[D, D] / ||D||^2 with D = u* v_r^T - u_r v*^T ((u_r, v_r) the r-th singular pair
of X, (u*, v*) the top pair of S): the second-order condition gives ||S||_2 <= lam + beta_hat sigma_r.
All batched over end points; float64.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

GLOBAL_TOL = 1e-6     # ratio <= 1 + 1e-6: global (spec "Classification")
SPURIOUS_TOL = 1e-3   # ratio >= 1 + 1e-3: spurious; in between: ambiguous (inconclusive)


@dataclass
class EndpointGeometry:
    sv: torch.Tensor          # (S, k) singular values of X, descending
    rank: torch.Tensor        # (S,) #sv > 1e-6 sv_1
    ratio: torch.Tensor       # (S,) ||grad L(X)||_2 / lam
    S_norm: torch.Tensor      # (S,) ||S||_2
    LS_RS: torch.Tensor       # (S,) max(||L_r^T S||, ||S R_r||) / max(1, ||S||)  (~0 at stationary points)
    dist2: torch.Tensor       # (S,) ||X - X*||_F^2
    tail2: torch.Tensor       # (S,) sum_{s > r*} sigma_s(X)^2
    sig_rstar: torch.Tensor   # (S,) sigma_{r*}(X)
    sig_r: torch.Tensor       # (S,) sigma_r(X)
    alpha_hat: torch.Tensor   # (S,)
    beta_hat: torch.Tensor    # (S,)
    norm_X: torch.Tensor      # (S,)
    norm_Xstar: torch.Tensor  # (S,)

    @property
    def is_global(self):
        return self.ratio <= 1 + GLOBAL_TOL

    @property
    def is_spurious(self):
        return self.ratio >= 1 + SPURIOUS_TOL

    @property
    def is_ambiguous(self):
        return ~self.is_global & ~self.is_spurious


def endpoint_geometry(loss, lam: torch.Tensor, X: torch.Tensor, Xstar: torch.Tensor, rstar: torch.Tensor,
                      r: int) -> EndpointGeometry:
    """``loss`` is tiled like X (one row per end point); rstar (S,) >= 1 the rank of X*."""
    Sz = X.shape[0]
    rows = torch.arange(Sz, device=X.device)
    U, sv, Vh = torch.linalg.svd(X, full_matrices=False)
    rank = (sv > 1e-6 * sv[:, :1].clamp_min(1e-300)).sum(dim=1)
    G = loss.grad(X)
    ratio = torch.linalg.matrix_norm(G, ord=2) / lam
    keep = (torch.arange(sv.shape[1], device=X.device).unsqueeze(0) < rank.unsqueeze(1)).to(X.dtype)
    Ur, Vr = U * keep.unsqueeze(1), Vh.transpose(1, 2) * keep.unsqueeze(1)   # compact SVD X = L Sigma R^T
    S = G + lam.reshape(-1, 1, 1) * Ur @ Vr.transpose(1, 2)
    Snorm = torch.linalg.matrix_norm(S, ord=2)
    LS = torch.maximum(torch.linalg.matrix_norm(Ur.transpose(1, 2) @ S), torch.linalg.matrix_norm(S @ Vr))
    diff = X - Xstar
    dist2 = (diff ** 2).sum(dim=(1, 2))
    idx = torch.arange(sv.shape[1], device=X.device).unsqueeze(0)
    tail2 = ((sv ** 2) * (idx >= rstar.unsqueeze(1))).sum(dim=1)
    sig_rstar = sv[rows, (rstar - 1).clamp_min(0)]
    sig_r = sv[:, r - 1] if r <= sv.shape[1] else torch.zeros_like(sv[:, 0])
    dg = ((G - loss.grad(Xstar)) * diff).sum(dim=(1, 2))
    alpha_hat = dg / dist2.clamp_min(1e-300)
    Us, _, Vsh = torch.linalg.svd(S, full_matrices=False)
    ur, vr = U[:, :, r - 1], Vh[:, r - 1, :]
    us, vs = Us[:, :, 0], Vsh[:, 0, :]
    D = us.unsqueeze(2) * vr.unsqueeze(1) - ur.unsqueeze(2) * vs.unsqueeze(1)
    d = D.reshape(Sz, -1)
    beta_hat = (d.unsqueeze(1) @ loss.hess(X) @ d.unsqueeze(2)).reshape(Sz) / (d ** 2).sum(dim=1)
    return EndpointGeometry(sv, rank, ratio, Snorm, LS / Snorm.clamp_min(1.0), dist2, tail2, sig_rstar,
                            sig_r, alpha_hat, beta_hat, X.flatten(1).norm(dim=1), Xstar.flatten(1).norm(dim=1))


def theorem1_margins(geo: EndpointGeometry, alpha: torch.Tensor, beta: torch.Tensor, slack: float = 1e-9) -> dict:
    """Scale-normalised margins of Theorem 1's generic-regime conditions (a)-(d), per end point.

    (a) rank X = r (sigma_r > 1e-6 sigma_1); (b) sigma_r / sigma_{r*} >= 2 alpha / beta;
    (c) ||X - X*||^2 (1 - 2 alpha sigma_{r*} / (beta sigma_r)) >= sum_{s > r*} sigma_s^2;
    (d) (2 kappa_hat alpha_hat - 1) ||X - X*||^2 + sum_{s > r*} sigma_s^2 <= 0, kappa_hat = sigma_{r*}/(beta_hat sigma_r).
    """
    q = geo.sig_r / geo.sv[:, 0].clamp_min(1e-300)
    a = (q - 1e-6) / (q + 1e-6)
    ratio = geo.sig_r / geo.sig_rstar.clamp_min(1e-300)
    b = (ratio - 2 * alpha / beta + slack) / (2 * alpha / beta)
    scale = (geo.dist2 + geo.tail2).clamp_min(1e-300)
    c = (geo.dist2 * (1 - 2 * alpha * geo.sig_rstar / (beta * geo.sig_r.clamp_min(1e-300))) - geo.tail2) / scale + slack
    kappa_hat = geo.sig_rstar / (geo.beta_hat * geo.sig_r).clamp_min(1e-300)
    d = -((2 * kappa_hat * geo.alpha_hat - 1) * geo.dist2 + geo.tail2) / scale + slack
    return {"(a) rank = r": a, "(b) sigma_r/sigma_r* >= 2a/b": b, "(c) distance": c, "(d) pointwise": d}


def corollary1_margin(geo: EndpointGeometry, alpha, beta) -> torch.Tensor:
    """||X||_F >= sqrt(sum_{s=r*+1}^r sigma_s^2 / (1 - 2 alpha sigma_{r*} / (beta sigma_r))) - ||X*||_F."""
    den = 1 - 2 * alpha * geo.sig_rstar / (beta * geo.sig_r.clamp_min(1e-300))
    bound = torch.where(den > 0, (geo.tail2 / den.clamp_min(1e-300)).sqrt(), torch.full_like(den, float("inf")))
    bound = bound - geo.norm_Xstar
    return (geo.norm_X - bound) / geo.norm_X.clamp_min(1.0)
