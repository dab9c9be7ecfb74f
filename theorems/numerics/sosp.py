"""Second-order stationarity tests for batched objectives with a closed-form Hessian.

An objective exposes ``grad(Y)``, ``hess(Y)`` (dense, (B, d, d)) and ``hvp(Y, V)``.  LoRA's
rotation symmetry (A, B) -> (A Q, B Q) gives exact zero Hessian eigenvalues at every stationary
point, so the test asks lambda_min >= -tol * max(1, ||H||), never lambda_min > 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .slack import slack_at_least, slack_at_most

GRAD_TOL = 1e-7          # spec: ||grad|| <= 1e-7
CURV_TOL = 1e-6          # spec: lambda_min >= -1e-6 * max(1, ||H||)
DENSE_LIMIT = 600        # dense eigvalsh up to this dimension, Lanczos on HVPs above


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


def hessian_extremes(obj, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(lambda_min, ||H||_2) per batch row: dense when small, Lanczos (ARPACK on HVPs) otherwise."""
    if obj.dim <= DENSE_LIMIT:
        ev = torch.linalg.eigvalsh(obj.hess(Y))
        return ev[:, 0], ev.abs().amax(dim=1)
    return lanczos_extremes(obj, Y)


def lanczos_extremes(obj, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Extreme Hessian eigenvalues from Hessian-vector products only (scipy ARPACK, float64)."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    lo, hi = [], []
    for b in range(Y.shape[0]):
        ob = obj.take(torch.tensor([b], device=Y.device))
        y = Y[b:b + 1]

        def mv(v, ob=ob, y=y):
            V = torch.as_tensor(np.asarray(v).reshape(y.shape), dtype=y.dtype, device=y.device)
            return ob.hvp(y, V).reshape(-1).double().cpu().numpy()

        op = LinearOperator((obj.dim, obj.dim), matvec=mv, dtype=np.float64)
        smallest = eigsh(op, k=1, which="SA", tol=1e-10, return_eigenvectors=False)[0]
        largest = eigsh(op, k=1, which="LM", tol=1e-10, return_eigenvectors=False)[0]
        lo.append(smallest)
        hi.append(max(abs(largest), abs(smallest)))
    return (torch.tensor(lo, dtype=Y.dtype, device=Y.device),
            torch.tensor(hi, dtype=Y.dtype, device=Y.device))


def sosp_report(obj, Y: torch.Tensor, grad_tol: float = GRAD_TOL, curv_tol: float = CURV_TOL) -> SOSPReport:
    g = obj.grad(Y).flatten(1).norm(dim=1)
    lam_min, hnorm = hessian_extremes(obj, Y)
    stationary = g <= grad_tol
    sosp = stationary & (lam_min >= -curv_tol * hnorm.clamp_min(1.0))
    return SOSPReport(g, lam_min, hnorm, stationary, sosp, grad_tol, curv_tol)
