"""Landscape probes shared by the landscape claims: train from many starts, certify the end points.

For a batch of instances, minimise the LoRA objective from Gaussian starts at several scales (one
tensor program), then test every end point: second-order stationarity (sosp.py) and the global
certificate (certificate.py).  End points that are not certified SOSPs are reported as such and
never count as evidence for a claim.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .certificate import Certificate, certificate
from .minimise import multistart
from .slack import slack_at_least, slack_at_most, tolerance_relative
from .sosp import CURV_TOL, GRAD_TOL, SOSPReport, sosp_report


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


def probe(obj, scales, per_scale: int, seed: int, *, gd_steps: int = 600, newton_iters: int = 200,
          grad_tol: float = GRAD_TOL, curv_tol: float = CURV_TOL, tol: float | None = None) -> Endpoints:
    """Minimise from ``per_scale`` Gaussian starts per scale and test every end point.

    ``tol`` is where the solver stops (gradient norm; default ``grad_tol``); a re-verification passes a
    smaller one (e.g. ``ctx.tolerance(grad_tol)``, 100x tighter).  Certification always uses the claim's
    own ``grad_tol`` / ``curv_tol``.
    """
    ms = multistart(obj, scales, per_scale, seed, gd_steps=gd_steps, newton_iters=newton_iters,
                    tol=grad_tol if tol is None else tol, curv_tol=curv_tol)
    return certify(ms.obj, ms.result.Y, ms.result.value, ms.instance, ms.scale, grad_tol, curv_tol)


def certify(obj, Y, value, instance, scale, grad_tol: float, curv_tol: float,
            matrix_free: bool | None = None) -> Endpoints:
    """The one certification path of the landscape claims: the SOSP test and the global certificate of
    given end points (``probe`` uses it; a power check feeds known saddles through it).  The SOSP test is
    dense or matrix-free by size (sosp.dense_ok) unless ``matrix_free`` says."""
    rep = sosp_report(obj, Y, grad_tol=grad_tol, curv_tol=curv_tol, matrix_free=matrix_free)
    return Endpoints(obj, Y, value, instance, scale, rep, certificate(obj, Y), numerical_rank(Y))


@dataclass
class OriginCheck:
    """Lemma (Jang et al. L2; Kim et al. Sec. 3.4): at (A, B) = (0, 0) the Hessian of the LoRA
    objective has eigenvalues lam +- sigma_i(grad L(0)) (each r times) and lam for the rest, so the
    origin is a strict saddle iff ||grad L(0)||_2 > lam."""
    sigma: torch.Tensor          # (B, k) singular values of grad L(0)
    eig_rel_err: torch.Tensor    # (B,) max |eig(H) - closed form| / max(1, ||H||)
    hess_norm: torch.Tensor      # (B,)
    detector_sosp: torch.Tensor  # (B,) bool: the SOSP test accepts the origin


def origin_check(obj) -> OriginCheck:
    Bsz, r = obj.batch, obj.r
    Y0 = torch.zeros(Bsz, obj.m + obj.n, r, dtype=obj.lam.dtype, device=obj.lam.device)
    sig = torch.linalg.svdvals(obj.M(Y0))
    lam = obj.lam[:, None]
    extra = obj.m + obj.n - 2 * sig.shape[1]
    expect = torch.cat([lam + sig, lam - sig, lam.expand(-1, extra)], 1)
    expect = torch.sort(expect.repeat_interleave(r, dim=1), dim=1).values
    got = torch.linalg.eigvalsh(obj.hess(Y0))
    hnorm = got.abs().amax(1).clamp_min(1.0)
    return OriginCheck(sig, (got - expect).abs().amax(1) / hnorm, hnorm, sosp_report(obj, Y0).is_sosp)


def lam_at_ratio(loss, ratio: float) -> torch.Tensor:
    """lam = ratio * ||grad L(0)||_2 per instance: puts instances on a chosen side of the origin threshold."""
    zero = torch.zeros(loss.batch, loss.m, loss.n, dtype=loss.dtype, device=loss.device)
    return float(ratio) * torch.linalg.matrix_norm(loss.grad(zero), ord=2)


def _record(value: float, bound: float, sense: str, scale: float = 0.0) -> dict:
    """The ``measured['condition[...]']`` entry of a condition scored here (as claim.Condition.record)."""
    return {"value": value, "sense": sense, "bound": bound, "scale": scale,
            "relative": tolerance_relative(value, bound, sense)}


def origin_margins(obj, threshold_factor: float = 1.0) -> tuple[dict, dict]:
    """Margins of the origin lemma (Jang et al. L2; Kim et al. Sec. 3.4), relative slacks in [-1, 1].

    'Hessian spectrum at 0': max |eig(H) - closed form| / max(1, ||H||) <= 1e-10 (worst instance).
    'detector agrees with the threshold': the SOSP detector must reject the origin exactly when
    s = ||grad L(0)||_2 - factor * lam > tau = CURV_TOL max(1, ||H||) (factor 1 is the lemma, others are
    mutants).  Per instance the condition is s > tau where the detector rejected, s <= tau where it
    accepted, scored by its slack with scale ||grad L(0)||_2 + factor lam (the size of the terms of s); the
    worst instance sets the margin, positive iff every instance is classified right.
    Returns (margins, measured); measured keeps the worst instance's values and bounds."""
    oc = origin_check(obj)
    eig_err = float(oc.eig_rel_err.max())
    stat = oc.sigma[:, 0] - threshold_factor * obj.lam
    tau = CURV_TOL * oc.hess_norm
    scale = oc.sigma[:, 0] + threshold_factor * obj.lam.abs()
    accepted = oc.detector_sosp
    per_row = torch.where(accepted, slack_at_most(stat, tau, scale), slack_at_least(stat, tau, scale))
    w = int(torch.argmin(torch.nan_to_num(per_row, nan=-math.inf)))
    agree = float(per_row.min()) if not bool(torch.isnan(per_row).any()) else math.nan
    predicted = stat > tau
    wrong = int((accepted == predicted).sum())
    margins = {"Hessian spectrum at 0": slack_at_most(eig_err, 1e-10),
               "detector agrees with the threshold": agree}
    measured = {"eig_rel_err": eig_err, "predicted_saddles": int(predicted.sum()),
                "detector_rejected": int((~accepted).sum()), "disagreements": wrong,
                "condition[Hessian spectrum at 0]": _record(eig_err, 1e-10, "<="),
                "condition[detector agrees with the threshold]": _record(
                    float(stat[w]), float(tau[w]), "<=" if bool(accepted[w]) else ">=", float(scale[w]))}
    return margins, measured
