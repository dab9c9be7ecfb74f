"""Convex oracle: the minimiser of the convex twin H_lam(delta) = L(delta) + lam ||delta||_*.

Jang et al. (2024) (spec: "Convex twin" and "Oracles"): min F_lam >= min H_lam, with equality once
the LoRA rank reaches the rank of a minimiser of H_lam, so this is the reference value for the
LoRA checks.

Method: accelerated proximal gradient (FISTA) with singular-value thresholding (the prox of
t lam ||.||_* soft-thresholds the singular values by t lam), step 1/L with L = loss.lipschitz() per
batch row, gradient-based adaptive restart (O'Donoghue & Candes 2015).  A batch row stops once
||delta_{k+1} - delta_k||_F / max(1, ||delta_k||_F) <= tol, or at max_iter.

FISTA alone is slow for small lam (directions the loss does not see move by lam/L per step: ~1e4
iterations at lam = 1e-3), so at iterations 50, 100, 150, 225, ... (``polish_every``, then gaps
growing ~1.5x) the unconverged rows with lam > 0 get a candidate from (i) ADMM on the local
quadratic model (a proximal-Newton step, exact for the squared loss), then (ii) Newton on balanced
rank-r factors at the rank ADMM found (and one less).  The floating-point prox is evaluated as
Y - U min(s, tau) V^T so that its rounding stays at eps ||Y|| and tol = 1e-14 is reachable.  A
candidate replaces the iterate only if it lowers the prox-gradient residual, and FISTA must then
meet its own stopping test from it: the polish changes speed, never the meaning of ``converged``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .losses import MatrixLoss
from .lora import LoRAObjective, balanced_factors


@dataclass
class ConvexOptimum:
    delta: torch.Tensor       # (B, m, n) minimiser of H_lam (thresholded singular values ~ eps ||delta||, 0 if all are)
    value: torch.Tensor       # (B,) H_lam(delta)
    iterations: torch.Tensor  # (B,) int64, FISTA iterations used (polish work not counted)
    converged: torch.Tensor   # (B,) bool, relative-change test met before max_iter
    rank: torch.Tensor        # (B,) int64, #singular values > 1e-9 max(1, s_max)
    residual: torch.Tensor    # (B,) L ||delta - prox(delta - grad/L)||_F: zero exactly at the optimum


def _clip(X: torch.Tensor, tau: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """X - svt(X, tau) = U min(s, tau) V^T, and the rank of svt(X, tau).

    Computing the prox as X - _clip(X) keeps its rounding error at eps ||X|| (no SVD
    reconstruction of the large part), so the tol = 1e-14 relative-change test is reachable.
    """
    U, s, Vh = torch.linalg.svd(X, full_matrices=False)
    t = tau.unsqueeze(-1)
    return (U * torch.minimum(s, t).unsqueeze(-2)) @ Vh, (s > t).sum(dim=-1)


def svt(X: torch.Tensor, tau) -> torch.Tensor:
    """Singular-value soft-thresholding of X (B, m, n) by tau (B,): the prox of tau ||.||_*."""
    U, s, Vh = torch.linalg.svd(X, full_matrices=False)
    tau = torch.as_tensor(tau, dtype=X.dtype, device=X.device).expand(X.shape[0])
    return (U * (s - tau.unsqueeze(-1)).clamp_min(0).unsqueeze(-2)) @ Vh


def nuclear_norm(delta: torch.Tensor) -> torch.Tensor:
    """||delta||_* per batch row: (B,)."""
    return torch.linalg.svdvals(delta).sum(dim=-1)


def _fro(X: torch.Tensor) -> torch.Tensor:
    return X.flatten(1).norm(dim=1)


def _residual(loss: MatrixLoss, x: torch.Tensor, L: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """L ||x - prox_{tau ||.||_*}(x - grad/L)||_F = ||grad + L clip(x - grad/L)||_F (tau = lam / L)."""
    g = loss.grad(x)
    return _fro(g + L.view(-1, 1, 1) * _clip(x - g / L.view(-1, 1, 1), tau)[0])


def admm_model(loss: MatrixLoss, lam: torch.Tensor, x: torch.Tensor, iters: int = 300,
                tol: float = 1e-12) -> tuple[torch.Tensor, torch.Tensor]:
    """ADMM (delta = Z, penalty rho = lam) on <g, d - x> + (d - x)^T H (d - x) / 2 + lam ||d||_*.

    The d-step solves with H + rho I (by the Woodbury identity where the loss Hessian is diagonal plus
    low rank -- G-quad: diagonal, the NTK risk: rank <= KN -- so no mn x mn matrix is formed; else by
    its Cholesky factor), the Z-step is SVT by lam/rho = 1, so
    directions the loss does not see move at O(1) speed.  Returns Z and its rank (Z is low rank up
    to rounding: its thresholded singular values are ~ eps ||Z||).
    """
    Bsz, m, n = x.shape
    g, xv = loss.grad(x).reshape(Bsz, -1), x.reshape(Bsz, -1)
    rho = lam.unsqueeze(-1)
    hs = loss.hess_structure(x)
    if hs is not None:     # diagonal (G-quad) or low rank (NTK): no mn x mn matrix is formed
        solve, ok = hs.shifted_solver(lam)
        bad = ~ok  # these rows keep x
        b = hs.matvec(xv) - g  # the model's gradient is H d - b
    else:
        H = loss.hess(x)
        eye = torch.eye(m * n, dtype=x.dtype, device=x.device)
        chol, info = torch.linalg.cholesky_ex(H + rho.unsqueeze(-1) * eye)
        bad = info != 0  # H not PSD to rounding: these rows keep x
        if bool(bad.any()):
            chol[bad] = eye * rho[bad].sqrt().unsqueeze(-1)
        b = (H @ xv.unsqueeze(-1)).squeeze(-1) - g  # the model's gradient is H d - b

        def solve(rhs):
            return torch.cholesky_solve(rhs.unsqueeze(-1), chol).squeeze(-1)
    Z, U = xv, -g / rho  # scaled dual: at a fixed point rho U = -(model gradient)
    one = torch.ones(Bsz, dtype=x.dtype, device=x.device)
    for _ in range(iters):
        d = solve(b + rho * (Z - U))
        Zn, rank = _clip((d + U).reshape(Bsz, m, n), one)
        Zn = d + U - Zn.reshape(Bsz, -1)
        U = U + d - Zn
        moved = (Zn - Z).norm(dim=1) + (d - Zn).norm(dim=1)
        Z = Zn
        if bool((moved <= tol * Z.norm(dim=1).clamp_min(1.0)).all()):
            break
    Z = torch.where(bad.unsqueeze(-1), xv, Z).reshape(Bsz, m, n)
    return Z, torch.where(bad, 0, rank)


def factor_newton(loss: MatrixLoss, lam: torch.Tensor, delta: torch.Tensor, r: int,
                   steps: int = 20) -> torch.Tensor:
    """Newton on balanced factors Y = [A; B] (m+n, r) of F(Y) = L(A B^T) + lam/2 ||Y||_F^2 (the LoRA
    objective, lora.LoRAObjective: its closed-form gradient and Hessian).

    Near a rank-r minimiser of H_lam (strict complementarity) F is strongly convex modulo the
    rotations Y -> Y R, so a slightly regularised Newton step converges quadratically.  Rows whose
    Hessian is not positive definite take no step.  Returns A B^T (the caller checks it).
    """
    Bsz, m, n = delta.shape
    dt, dev = delta.dtype, delta.device
    obj = LoRAObjective(loss, lam, r)
    Y = balanced_factors(delta, r)
    p = obj.dim
    for _ in range(steps):
        g = obj.grad(Y)
        if bool((_fro(g) <= 1e-15 * (1 + _fro(Y))).all()):
            break
        Hs = obj.hess(Y)
        scale = Hs.diagonal(dim1=1, dim2=2).abs().amax(dim=1).clamp_min(1e-300).view(-1, 1, 1)
        step, todo = torch.zeros_like(Y), torch.ones(Bsz, dtype=torch.bool, device=dev)
        for mu in (1e-11, 1e-8, 1e-5, 1e-2):  # Levenberg-Marquardt shift until positive definite
            chol, info = torch.linalg.cholesky_ex(Hs + mu * scale * torch.eye(p, dtype=dt, device=dev))
            ok = todo & (info == 0)
            sol = -torch.cholesky_solve(g.reshape(Bsz, p, 1), chol).reshape(Y.shape)
            step = torch.where(ok.view(-1, 1, 1), sol.nan_to_num(0.0), step)
            todo = todo & ~ok
            if not bool(todo.any()):
                break
        f0, a = obj.value(Y), torch.ones(Bsz, dtype=dt, device=dev)
        slack = 1e-13 * (1 + f0.abs())  # F's rounding level: let the last quadratic steps through
        for _ in range(30):  # backtracking on F, per row
            bad = obj.value(Y + a.view(-1, 1, 1) * step) > f0 + slack
            if not bool(bad.any()):
                break
            a = torch.where(bad, 0.5 * a, a)
        a = torch.where(obj.value(Y + a.view(-1, 1, 1) * step) > f0 + slack, torch.zeros_like(a), a)
        Y = Y + a.view(-1, 1, 1) * step
    return obj.delta(Y)


def _polish(loss: MatrixLoss, lam: torch.Tensor, x: torch.Tensor, L: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Candidate minimisers for the rows of x (lam > 0) and a mask of those that beat x."""
    z, ranks = admm_model(loss, lam, x)
    best, best_res = x, _residual(loss, x, L, lam / L)
    for drop in (0, 1):  # ADMM may overshoot the rank by one when stopped early
        cand = z.clone()
        for r in (ranks - drop).unique().tolist():
            if r > 0:
                sel = (ranks - drop == r).nonzero().squeeze(-1)
                cand[sel] = factor_newton(loss.take(sel), lam[sel], z[sel], r)
        res = _residual(loss, cand, L, lam / L)
        better = res < best_res
        best, best_res = torch.where(better.view(-1, 1, 1), cand, best), torch.where(better, res, best_res)
    return best, best_res < _residual(loss, x, L, lam / L)


@torch.no_grad()
def convex_optimum(loss: MatrixLoss, lam, *, tol: float = 1e-14, max_iter: int = 20000,
                   delta0: torch.Tensor | None = None, polish_every: int = 50) -> ConvexOptimum:
    """Minimise L(delta) + lam ||delta||_* per batch row (FISTA + SVT, adaptive restart, polish).

    ``lam``: float or (B,) tensor, >= 0.  lam = 0 is plain accelerated gradient descent (needs a loss
    with a minimiser, e.g. the squared loss; cross-entropy may then run to max_iter unconverged).
    ``delta0``: optional start (B, m, n), default 0.  ``polish_every``: first polish iteration
    (later ones at gaps max(polish_every, k/2)); 0 gives pure FISTA.
    ``tol`` is raised to 16 eps of the dtype (a no-op in float64).
    Rows are dropped from the working batch (``loss.take``) as they converge.
    """
    Lip = loss.lipschitz()
    dtype, device, Bsz = Lip.dtype, Lip.device, loss.batch
    Lip = Lip.clamp_min(torch.finfo(dtype).tiny)
    tol = max(tol, 16 * torch.finfo(dtype).eps)  # no-op in float64; reachable in float32
    lam = torch.as_tensor(lam, dtype=dtype, device=device).expand(Bsz).clone()
    x = (torch.zeros(Bsz, loss.m, loss.n, dtype=dtype, device=device) if delta0 is None
         else delta0.to(device, dtype).clone())
    delta = x.clone()
    iters = torch.zeros(Bsz, dtype=torch.long, device=device)
    conv = torch.zeros(Bsz, dtype=torch.bool, device=device)

    idx = torch.arange(Bsz, device=device)  # original rows still iterating
    sub, L, tau = loss, Lip, lam / Lip
    y, t = x.clone(), torch.ones(Bsz, dtype=dtype, device=device)
    next_polish = polish_every
    for k in range(1, max_iter + 1):
        Yg = y - sub.grad(y) / L.view(-1, 1, 1)
        clip, kept = _clip(Yg, tau)
        x_new = torch.where((kept > 0).view(-1, 1, 1), Yg - clip, torch.zeros_like(Yg))
        step = x_new - x
        done = _fro(step) <= tol * _fro(x).clamp_min(1.0)
        restart = ((y - x_new) * step).sum(dim=(1, 2)) > 0  # prox-gradient step opposes momentum
        t_new = torch.where(restart, torch.ones_like(t), 0.5 * (1 + torch.sqrt(1 + 4 * t * t)))
        beta = torch.where(restart, torch.zeros_like(t), (t - 1) / t_new)
        y = x_new + beta.view(-1, 1, 1) * step
        x, t = x_new, t_new
        if polish_every and k == next_polish and bool(((tau > 0) & ~done).any()):
            next_polish = k + max(polish_every, k // 2)  # back off geometrically if polishing keeps failing
            rows = ((tau > 0) & ~done).nonzero().squeeze(-1)
            z, ok = _polish(sub.take(rows), tau[rows] * L[rows], x[rows], L[rows])
            rows, z = rows[ok], z[ok]
            x[rows], y[rows], t[rows] = z, z, 1.0
        if bool(done.any()) or k == max_iter:
            delta[idx], iters[idx], conv[idx] = x, k, done
            keep = ~done
            if not bool(keep.any()) or k == max_iter:
                break
            idx, x, y, t = idx[keep], x[keep], y[keep], t[keep]
            sub, L, tau = sub.take(keep.nonzero().squeeze(-1)), L[keep], tau[keep]

    s = torch.linalg.svdvals(delta)
    return ConvexOptimum(
        delta=delta,
        value=loss.value(delta) + lam * s.sum(dim=-1),
        iterations=iters,
        converged=conv,
        rank=(s > 1e-9 * s[:, :1].clamp_min(1.0)).sum(dim=-1),
        residual=_residual(loss, delta, Lip, lam / Lip),
    )
