"""Batched minimisation to certified second-order stationary points.

Phase 1 is gradient descent with a per-row adaptive step (Armijo backtracking, step growth on
success) -- the method the theorems speak about.  Phase 2 polishes with a saddle-free Newton step
on the closed-form Hessian (|eigenvalues|, pseudo-inverse over LoRA's symmetry zeros) plus a
negative-curvature step at saddles, because plain GD contracts excess-rank directions only at rate
step * (lam - sigma_i(M)) and does not reach ||grad|| <= 1e-7 in practical time (DESIGN.md).
Where the Hessian is too large to form (sosp.dense_ok: (m+n) r > 600 or m n > 128) the polish is
Newton-CG on closed-form Hessian-vector products with negative-curvature and Lanczos escape steps
(``newton_cg_polish``; benchmarks/scaling.py measures both).
Every row is decided independently; rows that do not converge are flagged, never hidden.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .sosp import dense_ok, hessian_extremes, lanczos_extremes


@dataclass
class MinimiseResult:
    Y: torch.Tensor
    value: torch.Tensor        # (B,)
    grad_norm: torch.Tensor    # (B,)
    converged: torch.Tensor    # (B,) bool: grad_norm <= tol and no negative curvature left
    gd_steps: int
    newton_steps: int
    trace: list                # mean value per logged step (for plots)


CG_ITERS = 100          # conjugate-gradient steps per Newton-CG iteration (at most)


def _rowdot(a, b):
    return (a * b).flatten(1).sum(dim=1)


def _bcast(x, like):
    return x.reshape(-1, *([1] * (like.dim() - 1)))


def gradient_descent(obj, Y: torch.Tensor, steps: int, step0: float = 1e-2, tol: float = 1e-7,
                     trace_every: int = 0, callback=None, fixed_step: torch.Tensor | None = None):
    """Monotone batched GD with Armijo backtracking; returns (Y, value, grad, trace).

    ``fixed_step`` (per row) runs plain GD with that step instead: near a saddle the first-order
    decrease is below floating-point resolution, so a monotone line search would stall where GD
    (the algorithm the escape results are about) moves on.
    ``callback(k, Y, value)`` is called after every step (e.g. to check bounds along the path).
    """
    if fixed_step is not None:
        trace = []
        for k in range(steps):
            Y = Y - _bcast(fixed_step, Y) * obj.grad(Y)
            if callback is not None or (trace_every and k % trace_every == 0):
                f = obj.value(Y)
                if callback is not None:
                    callback(k, Y, f)
                if trace_every and k % trace_every == 0:
                    trace.append(float(f.mean()))
        return Y, obj.value(Y), obj.grad(Y), trace
    eta = torch.full((Y.shape[0],), step0, dtype=Y.dtype, device=Y.device)
    f = obj.value(Y)
    g = obj.grad(Y)
    trace = []
    for k in range(steps):
        gn2 = _rowdot(g, g)
        active = gn2.sqrt() > tol
        if not bool(active.any()):
            break
        Yn = Y - _bcast(eta, Y) * g
        fn = obj.value(Yn)
        ok = (fn <= f - 0.5 * eta * gn2) & active & torch.isfinite(fn)
        Y = torch.where(_bcast(ok, Y), Yn, Y)
        f = torch.where(ok, fn, f)
        eta = torch.where(ok, eta * 1.5, torch.where(active, eta * 0.5, eta)).clamp(1e-12, 1e6)
        g = obj.grad(Y)
        if callback is not None:
            callback(k, Y, f)
        if trace_every and k % trace_every == 0:
            trace.append(float(f.mean()))
    return Y, f, g, trace


def _line_search(obj, Y, f, gv, gnorm, p, done):
    """Backtracking on the value along p (rows in ``done`` stay); a tiny value rise is accepted only if
    the gradient shrinks.  Returns (Y, value)."""
    B = Y.shape[0]
    t = torch.ones(B, dtype=Y.dtype, device=Y.device)
    accepted = done.clone()
    Ynew = Y.clone()
    fnew = f.clone()
    for _ in range(30):
        trial = Y + _bcast(t, Y) * p.reshape(Y.shape)
        ft = obj.value(trial)
        slack = 1e-13 * (1.0 + f.abs())
        good = torch.isfinite(ft) & (ft <= f + 1e-4 * t * _rowdot(gv, p).clamp(max=0) + slack)
        good = good & ((ft < f) | (obj.grad(trial).flatten(1).norm(dim=1) < gnorm))
        take = good & ~accepted
        Ynew = torch.where(_bcast(take, Y), trial, Ynew)
        fnew = torch.where(take, ft, fnew)
        accepted = accepted | good
        if bool(accepted.all()):
            break
        t = torch.where(accepted, t, 0.5 * t)
    return Ynew, fnew


def _cg(hv, b: torch.Tensor, iters: int, rtol: torch.Tensor):
    """Batched truncated conjugate gradients for H x = b (rows independent), stopping a row at relative
    residual ``rtol`` or at the first direction of non-positive curvature (Nocedal & Wright, Alg. 7.1; at
    the first step the steepest-descent direction b is returned).  Returns (x, d, curvature): d is the
    direction of negative curvature a row met (zero where none) and curvature its d^T H d / ||d||^2."""
    x = torch.zeros_like(b)
    r = b.clone()
    d = r.clone()
    rr = _rowdot(r, r)
    bnorm = rr.sqrt()
    active = bnorm > 0
    neg_dir = torch.zeros_like(b)
    neg_curv = torch.zeros_like(bnorm)
    scale = torch.zeros_like(bnorm)
    for j in range(iters):
        Hd = hv(d)
        dd = _rowdot(d, d).clamp_min(1e-300)
        curv = _rowdot(d, Hd) / dd
        scale = torch.maximum(scale, curv.abs())
        flat = active & (curv <= 1e-12 * scale)
        if j == 0:
            x = torch.where(flat.unsqueeze(1), b, x)
        hit = flat & (curv < 0)
        neg_dir = torch.where(hit.unsqueeze(1), d, neg_dir)
        neg_curv = torch.where(hit, curv, neg_curv)
        active = active & ~flat
        a = torch.where(active, rr / (curv * dd).clamp_min(1e-300), torch.zeros_like(rr))
        x = x + a.unsqueeze(1) * d
        r = r - a.unsqueeze(1) * Hd
        rr_new = _rowdot(r, r)
        active = active & (rr_new.sqrt() > rtol * bnorm)
        if not bool(active.any()):
            break
        d = torch.where(active.unsqueeze(1), r + (rr_new / rr.clamp_min(1e-300)).unsqueeze(1) * d, d)
        rr = torch.where(active, rr_new, rr)
    return x, neg_dir, neg_curv


def _descending(direction: torch.Tensor, gv: torch.Tensor, curvature: torch.Tensor) -> torch.Tensor:
    """A negative-curvature step: the unit direction signed to descend, of length sqrt|curvature| + 1e-3
    (as the dense polish's)."""
    unit = direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-300)
    sgn = torch.where(_rowdot(unit, gv) > 0, -1.0, 1.0).to(gv.dtype)
    return (sgn * (curvature.abs().sqrt() + 1e-3)).unsqueeze(1) * unit


def newton_cg_polish(obj, Y: torch.Tensor, iters: int, tol: float = 1e-7, curv_tol: float = 1e-6,
                     cg_iters: int = CG_ITERS):
    """The matrix-free polish for Hessians too large to form: truncated Newton-CG on closed-form
    Hessian-vector products (forcing term min(0.5, sqrt||g||)), a step along any negative curvature CG
    meets, and at stationary rows a batched Lanczos test (sosp.py) whose bottom Ritz vector is the escape
    direction from a saddle.  A row that is stationary without negative curvature is settled and no
    longer touched; the others are worked on as one batch.  Same line search and stopping rule as
    ``newton_polish``."""
    B = Y.shape[0]
    Y = Y.clone()
    f = obj.value(Y)
    settled = torch.zeros(B, dtype=torch.bool, device=Y.device)
    k = 0
    for k in range(iters):
        idx = (~settled).nonzero().squeeze(1)
        if idx.numel() == 0:
            break
        sub, y, fs = obj.take(idx), Y[idx], f[idx]
        gv = sub.grad(y).reshape(idx.numel(), -1)
        gnorm = gv.norm(dim=1)
        stationary = gnorm <= tol
        neg = torch.zeros_like(stationary)
        escape = torch.zeros_like(gv)
        if bool(stationary.any()):
            at = stationary.nonzero().squeeze(1)
            ext = lanczos_extremes(sub.take(at), y[at])
            hn = torch.maximum(ext.lam_max.abs(), ext.lam_min.abs()).clamp_min(1.0)
            neg[at] = ext.lam_min < -curv_tol * hn
            escape[at] = _descending(ext.vec_min, gv[at], ext.lam_min)
        done = stationary & ~neg
        settled[idx[done]] = True
        if bool(done.all()):
            break
        shape = y.shape
        p, ndir, ncurv = _cg(lambda v: sub.hvp(y, v.reshape(shape)).reshape(shape[0], -1), -gv, cg_iters,
                             gnorm.sqrt().clamp(max=0.5))
        met = ncurv < 0
        p = p + torch.where(met.unsqueeze(1), _descending(ndir, gv, ncurv), torch.zeros_like(p))
        p = torch.where((stationary & neg).unsqueeze(1), escape, p)
        p = torch.where(done.unsqueeze(1), torch.zeros_like(p), p)
        Y[idx], f[idx] = _line_search(sub, y, fs, gv, gnorm, p, done)
    g = obj.grad(Y).flatten(1).norm(dim=1)
    return Y, f, g, k


def newton_polish(obj, Y: torch.Tensor, iters: int, tol: float = 1e-7, curv_tol: float = 1e-6):
    """Saddle-free Newton with line search, escaping saddles along the most negative eigenvector."""
    B = Y.shape[0]
    done = torch.zeros(B, dtype=torch.bool, device=Y.device)
    f = obj.value(Y)
    k = 0
    for k in range(iters):
        g = obj.grad(Y)
        gv = g.reshape(B, -1)
        ev, V = torch.linalg.eigh(obj.hess(Y))
        hnorm = ev.abs().amax(dim=1).clamp_min(1.0)
        gnorm = gv.norm(dim=1)
        neg = ev[:, 0] < -curv_tol * hnorm
        done = (gnorm <= tol) & ~neg
        if bool(done.all()):
            break
        floor = 1e-10 * hnorm
        coef = (V.transpose(1, 2) @ gv.unsqueeze(-1)).squeeze(-1)
        absev = ev.abs()
        coef = torch.where(absev > floor.unsqueeze(1), coef / absev.clamp_min(1e-300), torch.zeros_like(coef))
        p = -(V @ coef.unsqueeze(-1)).squeeze(-1)
        # at (near-)saddles add a step along the most negative direction, signed to descend
        nc = _descending(V[:, :, 0], gv, ev[:, 0])
        p = p + torch.where(neg.unsqueeze(1), nc, torch.zeros_like(nc))
        Y, f = _line_search(obj, Y, f, gv, gnorm, p, done)
    g = obj.grad(Y).flatten(1).norm(dim=1)
    return Y, f, g, k


def minimise(obj, Y0: torch.Tensor, gd_steps: int = 2000, newton_iters: int = 60,
             tol: float = 1e-7, curv_tol: float = 1e-6, trace_every: int = 0,
             matrix_free: bool | None = None) -> MinimiseResult:
    """GD then a Newton polish -- dense saddle-free Newton where the Hessian is small (sosp.dense_ok), else
    Newton-CG on Hessian-vector products (``matrix_free`` forces either); ``converged`` means a
    second-order stationary point within tolerances."""
    Y, f, g, trace = gradient_descent(obj, Y0, gd_steps, tol=tol, trace_every=trace_every)
    free = not dense_ok(obj) if matrix_free is None else matrix_free
    polish = newton_cg_polish if free else newton_polish
    Y, f, gn, k = polish(obj, Y, newton_iters, tol=tol, curv_tol=curv_tol)
    lam_min, hnorm = hessian_extremes(obj, Y, matrix_free=free)
    conv = (gn <= tol) & (lam_min >= -curv_tol * hnorm.clamp_min(1.0)) & torch.isfinite(f)
    return MinimiseResult(Y, f, gn, conv, gd_steps, k, trace)


@dataclass
class MultiStart:
    """Many starts per instance in one batch: row j is instance ``instance[j]`` at ``scale[j]``."""
    obj: object                 # the objective tiled over all starts
    result: MinimiseResult
    instance: torch.Tensor      # (S,) index of the instance each start belongs to
    scale: torch.Tensor         # (S,) init scale of each start


def _start_kind(spec) -> tuple[str, float]:
    """A start spec: a float (Gaussian A and B at that scale) or ('zero', s): A Gaussian at s, B = 0."""
    if isinstance(spec, (int, float)):
        return "gauss", float(spec)
    kind, scale = spec
    if kind not in ("gauss", "zero"):
        raise ValueError(f"unknown init kind {kind!r}")
    return kind, float(scale)


def multistart(obj, scales=(0.01, 1.0, 3.0), per_scale: int = 5, seed: int = 0, **kw) -> MultiStart:
    """Minimise ``obj`` (a batch of instances) from ``per_scale`` random inits per start spec.

    ``scales`` holds floats (Gaussian A, B at that scale) or ('zero', s) for the LoRA default
    (A Gaussian at scale s, B = 0; Kim et al.'s 'zero' init).
    """
    specs = [_start_kind(s) for s in scales]
    Bsz = obj.batch
    reps = len(specs) * per_scale
    inst = torch.arange(Bsz, device=obj.lam.device).repeat_interleave(reps)
    sc = torch.tensor([s for _, s in specs], dtype=torch.float64).repeat_interleave(per_scale).repeat(Bsz)
    zero_b = torch.tensor([k == "zero" for k, _ in specs]).repeat_interleave(per_scale).repeat(Bsz)
    tiled = obj.take(inst)
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    Y0 = torch.randn(len(inst), obj.m + obj.n, obj.r, generator=g, dtype=torch.float64)
    Y0 = Y0 * sc.reshape(-1, 1, 1)
    Y0[:, obj.m:] *= (~zero_b).to(Y0.dtype).reshape(-1, 1, 1)
    Y0 = obj.project(Y0.to(obj.lam.device, obj.lam.dtype))
    return MultiStart(tiled, minimise(tiled, Y0, **kw), inst, sc.to(obj.lam.device, obj.lam.dtype))
