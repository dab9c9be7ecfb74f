"""The second-order stationarity test (numerics/sosp.py) on quadratics with a known spectrum.

f_b(y) = 1/2 (y - c_b)^T H_b (y - c_b): gradient H_b (y - c_b), Hessian H_b with eigenvalues chosen
exactly, so every quantity the test reports has a closed form, and each decision is probed on both
sides of its threshold (these are the tests the mutation job runs against sosp.py).
"""
from __future__ import annotations

import pytest
import torch

from lora_claims.theorems.numerics import sosp
from lora_claims.theorems.numerics.lanczos import Extremes
from lora_claims.theorems.numerics.sosp import (CURV_TOL, GRAD_TOL, hessian_extremes, lanczos_extremes,
                                               sosp_report)

F64 = torch.float64


class Quadratic:
    """Batched quadratic with Hessian Q diag(ev_b) Q^T (Q a fixed rotation) and centre c_b."""

    def __init__(self, eigs: torch.Tensor, centre: torch.Tensor, seed: int = 0, rotate: bool = True):
        d = eigs.shape[1]
        g = torch.Generator().manual_seed(seed)
        q = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=F64))[0] if rotate else torch.eye(d, dtype=F64)
        self.eigs, self.c, self.q, self.dim = eigs, centre, q, d
        self.H = q @ torch.diag_embed(eigs) @ q.T

    def take(self, index):
        out = Quadratic(self.eigs[index], self.c[index], rotate=False)
        out.q, out.H = self.q, self.H[index]
        return out

    def grad(self, Y):
        return torch.einsum("bij,bj->bi", self.H, Y - self.c)

    def hess(self, Y):
        return self.H.clone()

    def hvp(self, Y, V):
        return torch.einsum("bij,bj->bi", self.H, V)


def quad(eigs, offsets):
    """Quadratics whose gradient at Y = 0 has norm exactly ``offsets[b]`` (an eigen-direction of H_b)."""
    eigs = torch.tensor(eigs, dtype=F64)
    obj = Quadratic(eigs, torch.zeros_like(eigs))
    first = obj.q[:, 0]                                  # eigenvector of eigs[:, 0]
    for b, off in enumerate(offsets):
        # grad at 0 = -H c; choose c along the eigenvector of the largest-|.| eigenvalue, |grad| = off
        k = int(eigs[b].abs().argmax())
        v = obj.q[:, k]
        obj.c[b] = -off / float(eigs[b, k]) * v if off else 0.0 * first
    return obj


def test_spec_tolerances():
    """The spec's tolerances (jang2024_ntk.md, checks): ||grad|| <= 1e-7, lambda_min >= -1e-6 max(1, ||H||)."""
    assert GRAD_TOL == 1e-7 and CURV_TOL == 1e-6


def test_extremes_closed_form_dense_and_lanczos():
    eigs = [[-0.5, 0.0, 0.3, 2.0], [0.1, 0.2, 0.3, -3.0], [1.0, 1.0, 1.0, 1.0]]
    obj = quad(eigs, [0.0, 0.0, 0.0])
    Y = torch.zeros(3, 4, dtype=F64)
    ext = lanczos_extremes(obj, Y)
    for lo, hi in (hessian_extremes(obj, Y), (ext.lam_min, torch.maximum(ext.lam_max.abs(), ext.lam_min.abs()))):
        assert torch.allclose(lo, torch.tensor([-0.5, -3.0, 1.0], dtype=F64), atol=1e-9)
        assert torch.allclose(hi, torch.tensor([2.0, 3.0, 1.0], dtype=F64), atol=1e-9)
        assert lo.dtype == F64 and hi.dtype == F64


def test_hessian_extremes_switches_to_lanczos_above_the_dense_limit(monkeypatch):
    obj = quad([[-0.25, 0.5, 4.0]], [0.0])
    calls = []
    monkeypatch.setattr(sosp, "lanczos_extremes",
                        lambda o, Y: calls.append(o.dim) or Extremes(Y[:, 0], Y[:, 0], Y, Y[:, 0], 1))
    monkeypatch.setattr(sosp, "DENSE_LIMIT", obj.dim)
    hessian_extremes(obj, torch.zeros(1, 3, dtype=F64))
    assert calls == []                                   # dim == limit: dense
    monkeypatch.setattr(sosp, "DENSE_LIMIT", obj.dim - 1)
    hessian_extremes(obj, torch.zeros(1, 3, dtype=F64))
    assert calls == [3]


@pytest.mark.parametrize("scale", [0.5, 3.0])             # ||H|| below 1 (clamped to 1) and above 1
def test_curvature_threshold_both_sides(scale):
    tol = CURV_TOL * max(1.0, scale)
    eigs = [[-0.9 * tol, scale], [-1.1 * tol, scale], [0.0, scale], [-tol, scale]]
    obj = quad(eigs, [0.0] * 4)
    rep = sosp_report(obj, torch.zeros(4, 2, dtype=F64))
    assert rep.is_stationary.tolist() == [True] * 4
    assert rep.is_sosp.tolist() == [True, False, True, True]          # the boundary itself passes
    assert torch.allclose(rep.hess_norm, torch.full((4,), scale, dtype=F64))
    cs = rep.curvature_slack()
    assert (cs[[0, 2]] > 0).all() and cs[1] < 0 and abs(float(cs[3])) < 1e-9
    assert torch.allclose(rep.curvature_margin(), rep.lam_min / max(1.0, scale))


def test_stationarity_threshold_both_sides():
    offsets = [0.5 * GRAD_TOL, 2.0 * GRAD_TOL, 0.0, 1.0]
    obj = quad([[1.0, 2.0]] * 4, offsets)
    rep = sosp_report(obj, torch.zeros(4, 2, dtype=F64))
    assert torch.allclose(rep.grad_norm, torch.tensor(offsets, dtype=F64), rtol=1e-9, atol=1e-15)
    assert rep.is_stationary.tolist() == [True, False, True, False]
    assert rep.is_sosp.tolist() == [True, False, True, False]         # positive curvature: sosp == stationary
    ss = rep.stationarity_slack()
    assert ss[0] > 0 and ss[1] < 0 and ss[2] > 0 and ss[3] < 0
    assert rep.grad_tol == GRAD_TOL and rep.curv_tol == CURV_TOL


def test_sosp_needs_both_halves_and_custom_tolerances():
    # stationary strict saddle; non-stationary minimum; both; neither
    obj = quad([[-0.1, 1.0], [0.1, 1.0], [0.1, 1.0], [-0.1, 1.0]], [0.0, 1e-3, 0.0, 1e-3])
    Y = torch.zeros(4, 2, dtype=F64)
    rep = sosp_report(obj, Y)
    assert rep.is_stationary.tolist() == [True, False, True, False]
    assert rep.is_sosp.tolist() == [False, False, True, False]
    loose = sosp_report(obj, Y, grad_tol=1e-2, curv_tol=0.2)
    assert loose.is_stationary.tolist() == [True] * 4 and loose.is_sosp.tolist() == [True] * 4
    assert (loose.grad_tol, loose.curv_tol) == (1e-2, 0.2)
    assert ((torch.minimum(loose.stationarity_slack(), loose.curvature_slack()) >= 0) == loose.is_sosp).all()


def test_thresholds_are_inclusive_at_the_exact_boundary():
    """||grad|| == grad_tol and lambda_min == -curv_tol max(1, ||H||) both pass (the spec's <= and >=):
    a diagonal Hessian makes both quantities exact in floating point."""
    eigs = torch.tensor([[1.0, 3.0], [-(CURV_TOL * 3.0), 3.0], [-(CURV_TOL * 1.0), 0.5]], dtype=F64)
    obj = Quadratic(eigs, torch.tensor([[-GRAD_TOL, 0.0], [0.0, 0.0], [0.0, 0.0]], dtype=F64), rotate=False)
    rep = sosp_report(obj, torch.zeros(3, 2, dtype=F64))
    assert float(rep.grad_norm[0]) == GRAD_TOL and float(rep.lam_min[1]) == -CURV_TOL * 3.0
    assert rep.is_stationary.tolist() == [True, True, True]
    assert rep.is_sosp.tolist() == [True, True, True]
    assert float(rep.stationarity_slack()[0]) == 0.0 and float(rep.curvature_slack()[1]) == 0.0


@pytest.mark.parametrize("top", ["positive", "negative"])
def test_lanczos_resolves_a_clustered_spectrum(top):
    """Batched Lanczos (160 steps of 200, full reorthogonalisation) separates eigenvalues 5e-4 apart at the
    ends of a dense spectrum; fewer steps stop at a Ritz value further off."""
    d = 200
    ends = [1.0005, 1.001] if top == "positive" else [-1.001, -1.0005]
    eigs = torch.tensor([sorted(torch.linspace(-1, 1, d - 2).tolist() + ends)], dtype=F64)
    obj = Quadratic(eigs, torch.zeros_like(eigs))
    ext = lanczos_extremes(obj, torch.zeros(1, d, dtype=F64))
    assert abs(float(ext.lam_min[0]) - float(eigs.min())) < 1e-8
    assert abs(float(ext.lam_max[0]) - float(eigs.max())) < 1e-8


def test_dense_ok_switch_at_its_exact_limits():
    """The dense path while (m+n) r <= 600 and m n <= 128 (the loss's Hessian is mn x mn), exactly at both
    limits; an objective without m, n (a plain quadratic) is judged on its dimension alone."""
    from types import SimpleNamespace as NS
    assert sosp.dense_ok(NS(dim=600, m=16, n=8)) and sosp.dense_ok(NS(dim=10, m=128, n=1))
    assert not sosp.dense_ok(NS(dim=10, m=16, n=9)) and not sosp.dense_ok(NS(dim=10, m=129, n=1))
    assert not sosp.dense_ok(NS(dim=10, m=9, n=16)) and not sosp.dense_ok(NS(dim=601, m=2, n=2))
    assert sosp.dense_ok(NS(dim=10)) and sosp.dense_ok(NS(dim=10, n=500)) and sosp.dense_ok(NS(dim=10, m=500))


def test_matrix_free_forces_either_path(monkeypatch):
    """``matrix_free=True`` runs Lanczos even where dense is cheaper; False runs dense even where it is not."""
    obj, Y = quad([[1.0, 2.0, 3.0]], [0.0]), torch.zeros(1, 3, dtype=F64)
    calls = []
    real = sosp.lanczos_extremes
    monkeypatch.setattr(sosp, "lanczos_extremes", lambda *a, **k: calls.append(1) or real(*a, **k))
    hessian_extremes(obj, Y, matrix_free=True)
    assert calls == [1]
    hessian_extremes(obj, Y, matrix_free=False)
    hessian_extremes(obj, Y)                    # small: dense by default
    assert calls == [1]
