"""Landscape probes shared by the landscape claims: train from many starts, certify the end points.

For a batch of instances, minimise the LoRA objective from Gaussian starts at several scales (one
tensor program), then test every end point: second-order stationarity (sosp.py) and the global
certificate (certificate.py).  End points that are not certified SOSPs are reported as such and
never count as evidence for a claim.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .certificate import Certificate, certificate
from .minimise import multistart
from .sosp import SOSPReport, sosp_report


@dataclass
class Endpoints:
    obj: object                 # objective tiled over all starts
    Y: torch.Tensor             # (S, m+n, r) end points
    value: torch.Tensor         # (S,)
    instance: torch.Tensor      # (S,) which instance each start belongs to
    scale: torch.Tensor         # (S,) init scale
    sosp: SOSPReport
    cert: Certificate
    rank: torch.Tensor          # (S,) numerical rank of Y

    @property
    def certified(self) -> torch.Tensor:
        """End points that are certified SOSPs (and finite)."""
        return self.sosp.is_sosp & torch.isfinite(self.value)

    def summary(self) -> dict:
        c = self.certified
        return {"starts": int(c.numel()), "sosp": int(c.sum()),
                "not_sosp": int((~c).sum()),
                "max_grad_norm": float(self.sosp.grad_norm.max()),
                "min_curvature": float(self.sosp.curvature_margin().min())}


def numerical_rank(Y: torch.Tensor, rel: float = 1e-6) -> torch.Tensor:
    s = torch.linalg.svdvals(Y)
    return (s > rel * s[:, :1].clamp_min(1e-300)).sum(dim=1)


def probe(obj, scales=(0.01, 1.0, 3.0), per_scale: int = 5, seed: int = 0,
          gd_steps: int = 600, newton_iters: int = 200, grad_tol: float = 1e-7,
          curv_tol: float = 1e-6) -> Endpoints:
    ms = multistart(obj, scales, per_scale, seed, gd_steps=gd_steps, newton_iters=newton_iters,
                    tol=grad_tol, curv_tol=curv_tol)
    Y = ms.result.Y
    rep = sosp_report(ms.obj, Y, grad_tol=grad_tol, curv_tol=curv_tol)
    return Endpoints(ms.obj, Y, ms.result.value, ms.instance, ms.scale, rep,
                     certificate(ms.obj, Y), numerical_rank(Y))
