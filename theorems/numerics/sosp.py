"""Second-order stationarity tests for batched objectives with a closed-form Hessian.

An objective exposes ``grad(Y)``, ``hess(Y)`` (dense, (B, d, d)) and ``hvp(Y, V)``.  LoRA's
rotation symmetry (A, B) -> (A Q, B Q) gives exact zero Hessian eigenvalues at every stationary
point, so the test asks lambda_min >= -tol * max(1, ||H||), never lambda_min > 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .lanczos import Extremes, extremes
from .slack import slack_at_least, slack_at_most

GRAD_TOL = 1e-7          # spec: ||grad|| <= 1e-7
CURV_TOL = 1e-6          # spec: lambda_min >= -1e-6 * max(1, ||H||)
DENSE_LIMIT = 600        # dense eigvalsh up to this dimension, Lanczos on HVPs above
DENSE_MN_LIMIT = 128     # ... and up to this loss dimension m n (the loss's Hessian is mn x mn; dense wins at
                         # m = n = 8, Newton-CG at 16: benchmarks/scaling.py)
LANCZOS_STEPS = 160      # Krylov dimension of the matrix-free test (all of it where (m+n) r is smaller)


@dataclass
class SOSPReport:
    grad_norm: torch.Tensor      # (B,)
    lam_min: torch.Tensor        # (B,) smallest Hessian eigenvalue
    hess_norm: torch.Tensor      # (B,) spectral norm of the Hessian
    is_stationary: torch.Tensor  # (B,) bool
    is_sosp: torch.Tensor        # (B,) bool
    grad_tol: float = GRAD_TOL   # the tolerances the test was run with
    curv_tol: float = CURV_TOL

    def curvature_margin(self) -> torch.Tensor:
        """The relative curvature lambda_min / max(1, ||H||), a measured quantity (not a slack): the test
        asks it to be >= -curv_tol."""
        return self.lam_min / self.hess_norm.clamp_min(1.0)

    def stationarity_slack(self) -> torch.Tensor:
        """(B,) relative slack of ||grad|| <= grad_tol (numerics/slack.py): >= 0 iff ``is_stationary``."""
        return slack_at_most(self.grad_norm, self.grad_tol)

    def curvature_slack(self) -> torch.Tensor:
        """(B,) relative slack of lambda_min >= -curv_tol max(1, ||H||), the second-order half of the test."""
        return slack_at_least(self.lam_min, -self.curv_tol * self.hess_norm.clamp_min(1.0))


def dense_ok(obj) -> bool:
    """Whether the dense Hessian is the cheaper path: its (m+n) r square and the loss's mn square are small
    (benchmarks/scaling.py measured where the matrix-free path overtakes it)."""
    # an objective without a matrix loss (a plain quadratic) has no mn x mn Hessian to form
    return obj.dim <= DENSE_LIMIT and getattr(obj, "m", 0) * getattr(obj, "n", 0) <= DENSE_MN_LIMIT


def hessian_extremes(obj, Y: torch.Tensor, matrix_free: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(lambda_min, ||H||_2) per batch row: dense when small, batched Lanczos on Hessian-vector products
    otherwise (``matrix_free`` forces either)."""
    if (dense_ok(obj) if matrix_free is None else not matrix_free):
        ev = torch.linalg.eigvalsh(obj.hess(Y))
        return ev[:, 0], ev.abs().amax(dim=1)
    ext = lanczos_extremes(obj, Y)
    return ext.lam_min, torch.maximum(ext.lam_max.abs(), ext.lam_min.abs())


def lanczos_extremes(obj, Y: torch.Tensor, steps: int = LANCZOS_STEPS) -> Extremes:
    """Extreme Hessian eigenvalues (and the bottom Ritz vector, shaped (B, dim)) of every batch row at
    once, from closed-form Hessian-vector products only (lanczos.py)."""
    shape = Y.shape
    return extremes(lambda v: obj.hvp(Y, v.reshape(shape)).reshape(shape[0], -1), shape[0], obj.dim,
                    steps=steps, dtype=Y.dtype, device=Y.device)


def sosp_report(obj, Y: torch.Tensor, grad_tol: float = GRAD_TOL, curv_tol: float = CURV_TOL,
                matrix_free: bool | None = None) -> SOSPReport:
    g = obj.grad(Y).flatten(1).norm(dim=1)
    lam_min, hnorm = hessian_extremes(obj, Y, matrix_free)
    stationary = g <= grad_tol
    sosp = stationary & (lam_min >= -curv_tol * hnorm.clamp_min(1.0))
    return SOSPReport(g, lam_min, hnorm, stationary, sosp, grad_tol, curv_tol)
