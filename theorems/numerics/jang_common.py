"""What the Jang, Lee, Ryu (2024) checks share, on Gaussian (jang2024.*) and real (realnet.*) Jacobians:
the init scales of the landscape probes, the certificate and value tolerances of the spec, and the
lam = 0 global minimiser (a full-rank interpolant) that Theorem 3.1's reduction starts from.
"""
from __future__ import annotations

import torch

SCALES = (0.01, 1.0, 3.0)   # init scales of the multistart probes (spec C3)
CERT_TOL = 1e-4             # sigma_max(M)/lam - 1 without P (spec C3)
VALUE_TOL = 1e-8            # |F - H*| <= tol (1 + |H*|) (spec C4)


def interpolant(loss, seed: int) -> torch.Tensor:
    """lam = 0: a full-rank least-squares minimiser (min-norm solution + random null-space part) of a
    one-row NTKRisk, float64 of shape (m, n).  Uses lstsq's gelsd driver (CPU tensors only)."""
    Gm = loss.Gmat[0].double()
    rhs = (loss.y[0] - loss.f0[0]).reshape(-1).double()
    x = torch.linalg.lstsq(Gm, rhs.unsqueeze(1), driver="gelsd").solution.squeeze(1)
    Q = torch.linalg.svd(Gm, full_matrices=True).Vh[torch.linalg.matrix_rank(Gm):]
    g = torch.Generator().manual_seed(seed)
    x = x + Q.T @ (Q @ torch.randn(Gm.shape[1], generator=g, dtype=torch.float64))
    return x.reshape(loss.m, loss.n)
