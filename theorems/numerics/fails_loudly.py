"""Pointwise quantities of Kim, Kim, Ryu (2025), Theorem 1 and Corollary 1, at LoRA end points.

For an end point X = A B^T of the LoRA objective and the global minimiser X* (rank r*) of
L + lam ||.||_*, this computes what the theorem speaks about: the singular values of X, the
certificate ratio ||grad L(X)||_2 / lam (global iff <= 1 for convex L), the residual S of
grad L(X) = -lam L R^T + S, the distance to X*, the tail sum_{s > r*} sigma_s(X)^2, and the
pointwise constants alpha_hat = <grad L(X) - grad L(X*), X - X*> / ||X - X*||^2 and
beta_hat = Hess L(X)[D, D] / ||D||^2 with D = u* v_r^T - u_r v*^T ((u_r, v_r) the r-th singular pair
of X, (u*, v*) the top pair of S): the second-order condition gives ||S||_2 <= lam + beta_hat sigma_r.
Theorem 1 (a)-(d) and Corollary 1 come as inequalities (value, bound per end point) in these units,
scored by their relative slack (numerics/slack.py).  All batched over end points; float64.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .slack import slack_at_least, slack_at_most

GLOBAL_TOL = 1e-6     # ratio <= 1 + 1e-6: global (spec "Classification")
SPURIOUS_TOL = 1e-3   # ratio >= 1 + 1e-3: spurious; in between: ambiguous (inconclusive)
RANK_TOL = 1e-6       # rank X = #{sigma_i > 1e-6 sigma_1}


@dataclass
class EndpointGeometry:
    sv: torch.Tensor          # (S, k) singular values of X, descending
    rank: torch.Tensor        # (S,) #sv > RANK_TOL sv_1
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
    def curvature(d):            # d: (S, m n) directions; <d, Hess L(X) d> by a Hessian-vector product
        return (d * loss.hvp(X, d.reshape(X.shape)).reshape(d.shape)).sum(dim=1)
    return geometry(loss.grad(X), loss.grad(Xstar), curvature, lam, X, Xstar, rstar, r)


def block_geometry(loss, lam: torch.Tensor, X: torch.Tensor, Xstar: torch.Tensor, rstar: torch.Tensor,
                   r: int) -> EndpointGeometry:
    """Theorem-1 quantities of every diagonal block of block-diagonal end points (Kim et al. Theorem 2, a
    ``losses.CoupledBlocks`` loss): one row per (end point, block), end point major.  The gradient and the
    curvature are the block gradient and block Hessian of the JOINT loss (so alpha_hat_l sees the
    coupling); rstar: (S, L) block ranks of X*."""
    L = loss.blocks
    blk = lambda T: loss.diagonal(T).reshape(-1, loss.bm, loss.bn)                 # noqa: E731
    S = X.shape[0]

    def curvature(d):            # d: (S L, m n) block directions; block l's own Hessian of the joint loss
        d = d.reshape(S, L, loss.bm, loss.bn)
        out = []
        for l in range(L):       # the direction in block l alone, read back in block l
            only = torch.zeros_like(d)
            only[:, l] = d[:, l]
            out.append((loss.diagonal(loss.hvp(X, loss.embed(only)))[:, l] * d[:, l]).sum(dim=(1, 2)))
        return torch.stack(out, dim=1).reshape(-1)
    return geometry(blk(loss.grad(X)), blk(loss.grad(Xstar)), curvature, lam.repeat_interleave(L), blk(X),
                    blk(Xstar), rstar.reshape(-1), r)


def geometry(G: torch.Tensor, Gstar: torch.Tensor, curvature, lam: torch.Tensor, X: torch.Tensor,
             Xstar: torch.Tensor, rstar: torch.Tensor, r: int) -> EndpointGeometry:
    """The quantities from the gradients at X and X* and ``curvature(d)`` = Hess L(X)[d, d] per row
    (d: (S, m n) row-major directions)."""
    Sz = X.shape[0]
    rows = torch.arange(Sz, device=X.device)
    U, sv, Vh = torch.linalg.svd(X, full_matrices=False)
    rank = (sv > RANK_TOL * sv[:, :1].clamp_min(1e-300)).sum(dim=1)
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
    dg = ((G - Gstar) * diff).sum(dim=(1, 2))
    alpha_hat = dg / dist2.clamp_min(1e-300)
    if r <= sv.shape[1]:
        Us, _, Vsh = torch.linalg.svd(S, full_matrices=False)
        ur, vr = U[:, :, r - 1], Vh[:, r - 1, :]
        us, vs = Us[:, :, 0], Vsh[:, 0, :]
        D = us.unsqueeze(2) * vr.unsqueeze(1) - ur.unsqueeze(2) * vs.unsqueeze(1)
        d = D.reshape(Sz, -1)
        beta_hat = curvature(d) / (d ** 2).sum(dim=1)
    else:       # r > min(m, n): X has no r-th singular pair, so no direction D (sigma_r = 0 above)
        beta_hat = torch.full_like(sig_r, float("nan"))
    return EndpointGeometry(sv, rank, ratio, Snorm, LS / Snorm.clamp_min(1.0), dist2, tail2, sig_rstar,
                            sig_r, alpha_hat, beta_hat, X.flatten(1).norm(dim=1), Xstar.flatten(1).norm(dim=1))


@dataclass
class Inequality:
    """One inequality per end point, ``value <= bound`` (sense '<=') or ``value >= bound`` (sense '>='),
    in the theorem's own units; ``slack()`` is its per-row relative slack (numerics/slack.py), in [-1, 1]."""
    value: torch.Tensor       # (S,)
    bound: torch.Tensor       # (S,)
    sense: str

    def slack(self) -> torch.Tensor:
        f = slack_at_most if self.sense == "<=" else slack_at_least
        return f(self.value, self.bound)



def theorem1_inequalities(geo: EndpointGeometry, alpha: torch.Tensor, beta: torch.Tensor,
                          slack: float = 1e-9) -> dict[str, Inequality]:
    """Theorem 1's generic-regime conditions (a)-(d), per end point, in natural units; ``slack`` is the
    roundoff allowance, relative to ||X - X*||^2 + sum_{s > r*} sigma_s^2 in (c) and (d).

    (a) rank X = r: sigma_r >= 1e-6 sigma_1; (b) sigma_r / sigma_{r*} >= 2 alpha / beta;
    (c) ||X - X*||^2 (1 - 2 alpha sigma_{r*} / (beta sigma_r)) >= sum_{s > r*} sigma_s^2, written as
        ||X - X*||^2 >= sum_{s > r*} sigma_s^2 + (2 alpha sigma_{r*} / (beta sigma_r)) ||X - X*||^2;
    (d) (2 kappa_hat alpha_hat - 1) ||X - X*||^2 + sum_{s > r*} sigma_s^2 <= 0, kappa_hat = sigma_{r*}/(beta_hat
        sigma_r), written as 2 kappa_hat alpha_hat ||X - X*||^2 + sum_{s > r*} sigma_s^2 <= ||X - X*||^2.
    """
    a = Inequality(geo.sig_r, RANK_TOL * geo.sv[:, 0].clamp_min(1e-300), ">=")
    ratio = geo.sig_r / geo.sig_rstar.clamp_min(1e-300)
    b = Inequality(ratio, 2 * alpha / beta - slack, ">=")
    allow = slack * (geo.dist2 + geo.tail2)
    k = 2 * alpha * geo.sig_rstar / (beta * geo.sig_r.clamp_min(1e-300))
    c = Inequality(geo.dist2, geo.tail2 + k * geo.dist2 - allow, ">=")
    kappa_hat = geo.sig_rstar / (geo.beta_hat * geo.sig_r).clamp_min(1e-300)
    d = Inequality(2 * kappa_hat * geo.alpha_hat * geo.dist2 + geo.tail2, geo.dist2 + allow, "<=")
    return {"(a) rank = r: sigma_r >= 1e-6 sigma_1": a, "(b) sigma_r/sigma_r* >= 2a/b": b,
            "(c) distance: |X-X*|^2 >= sum_{s>r*} s_s^2 + (2a s_r*/(b s_r)) |X-X*|^2": c,
            "(d) pointwise: 2 kappa_hat alpha_hat |X-X*|^2 + sum_{s>r*} s_s^2 <= |X-X*|^2": d}


def theorem1_margins(geo: EndpointGeometry, alpha: torch.Tensor, beta: torch.Tensor, slack: float = 1e-9) -> dict:
    """Per-end-point relative slacks of :func:`theorem1_inequalities` (>= 0: the condition holds)."""
    return {k: v.slack() for k, v in theorem1_inequalities(geo, alpha, beta, slack).items()}


def band_slack(geo: EndpointGeometry, alpha, beta, slack: float = 1e-9) -> torch.Tensor:
    """Distance of each end point to Corollary 1's forbidden band 0 < sigma_r/sigma_{r*} < 2 alpha/beta (rank r:
    sigma_r > 1e-6 sigma_1): the better relative slack of the two inequalities that keep it out,
    sigma_r <= 1e-6 sigma_1 or sigma_r/sigma_{r*} >= 2 alpha/beta - slack (>= 0: outside the band)."""
    low = slack_at_most(geo.sig_r, RANK_TOL * geo.sv[:, 0])
    high = slack_at_least(geo.sig_r / geo.sig_rstar.clamp_min(1e-300), 2 * alpha / beta - slack)
    return torch.maximum(low, high)


def corollary1_bound(geo: EndpointGeometry, alpha, beta) -> torch.Tensor:
    """Corollary 1's lower bound on ||X||_F per end point: sqrt(sum_{s=r*+1}^r sigma_s^2 / (1 - 2 alpha sigma_{r*} /
    (beta sigma_r))) - ||X*||_F; +inf where the denominator is <= 0 (no finite bound: inconclusive)."""
    den = 1 - 2 * alpha * geo.sig_rstar / (beta * geo.sig_r.clamp_min(1e-300))
    bound = torch.where(den > 0, (geo.tail2 / den.clamp_min(1e-300)).sqrt(), torch.full_like(den, float("inf")))
    return bound - geo.norm_Xstar


def corollary1_margin(geo: EndpointGeometry, alpha, beta) -> torch.Tensor:
    """Relative slack of ||X||_F >= :func:`corollary1_bound` per end point (NaN where the bound is infinite)."""
    return slack_at_least(geo.norm_X, corollary1_bound(geo, alpha, beta))


def theorem3_slack(geo: EndpointGeometry, alpha, beta, eps, r: int, special) -> torch.Tensor:
    """Kim et al. Theorem 3 per end point (relative slack, >= 0: it holds): X is eps-global,
    ||X - X*||_F <= eps; or -- generic rows only (``special`` False) -- rank X = r with
    sigma_r >= max{2 alpha sigma_{r*} / (beta (1 + eps)), alpha eps / (2 beta sqrt(r))} (a bound > 0, so it
    implies rank r).  The better of the two slacks where both alternatives are allowed."""
    close = slack_at_most(geo.dist2.sqrt(), eps)
    bound = torch.maximum(2 * alpha * geo.sig_rstar / (beta * (1 + eps)), alpha * eps / (2 * beta * r ** 0.5))
    loud = slack_at_least(geo.sig_r, bound)
    return torch.where(torch.as_tensor(special, device=close.device), close, torch.maximum(close, loud))
