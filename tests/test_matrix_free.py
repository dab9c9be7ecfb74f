"""The matrix-free second-order path (issue 17) against the dense one it replaces at large sizes.

Closed-form Hessian-vector products (losses.py, lora.py) against the dense Hessians; batched Lanczos
(lanczos.py, sosp.lanczos_extremes) against eigvalsh -- at certified SOSPs with LoRA's exact symmetry
zeros, at the origin saddle whose spectrum is known in closed form, at a saddle with small negative
curvature, and with a Krylov space smaller than the operator; the Newton-CG polish against the dense
saddle-free Newton on the same starts, and the SOSP classification of both paths on every end point.
"""
from __future__ import annotations

import pytest
import torch

from lora_claims.strategies.kim_instances import glogit, gquad, gsense, nc1_quartic
from lora_claims.strategies.ntk_instances import random_ntk, symmetric_perturbation
from lora_claims.theorems.numerics import minimise as MN
from lora_claims.theorems.numerics.lanczos import extremes
from lora_claims.theorems.numerics.lora import LoRAObjective
from lora_claims.theorems.numerics.losses import MatrixLoss, Ridge
from lora_claims.theorems.numerics.sosp import lanczos_extremes, sosp_report

F64 = torch.float64
CPU = torch.device("cpu")


def _losses():
    ntk = random_ntk(3, 2, 5, 4, "sq", 1, 3, CPU, F64)
    return {"ntk-sq": ntk, "ntk-ce": random_ntk(3, 3, 4, 5, "ce", 2, 3, CPU, F64),
            "ridge": Ridge(ntk, torch.full((3,), 0.01, dtype=F64)), "gquad": gquad(4, 5, 5.0, 3, batch=3),
            "gsense": gsense(4, 3, 40, 4, batch=3), "glogit": glogit(3, 4, 20, 0.1, 5, batch=3),
            "nc1": nc1_quartic(batch=3)}


@pytest.mark.parametrize("name", list(_losses()))
def test_loss_hvp_equals_the_dense_hessian(name):
    loss = _losses()[name]
    g = torch.Generator().manual_seed(0)
    delta = torch.randn(loss.batch, loss.m, loss.n, generator=g, dtype=F64)
    D = torch.randn(loss.batch, loss.m, loss.n, generator=g, dtype=F64)
    dense = (loss.hess(delta) @ D.reshape(loss.batch, -1, 1)).reshape(D.shape)
    scale = dense.abs().max()
    assert float((loss.hvp(delta, D) - dense).abs().max() / scale) < 1e-12      # the loss's own (closed) form
    assert float((MatrixLoss.hvp(loss, delta, D) - dense).abs().max() / scale) < 1e-12   # the generic jvp


@pytest.mark.parametrize("perturbed", [False, True])
@pytest.mark.parametrize("kind", ["sq", "ce"])
def test_lora_hvp_equals_the_dense_hessian(kind, perturbed):
    loss = random_ntk(3, 2, 5, 4, kind, 1, 3, CPU, F64)
    lam = torch.full((3,), 0.05, dtype=F64)
    P = symmetric_perturbation(9, 1e-2 * lam, 3, 3, CPU, F64) if perturbed else None
    obj = LoRAObjective(loss, lam, 3, P)
    g = torch.Generator().manual_seed(1)
    Y = torch.randn(3, 9, 3, generator=g, dtype=F64)
    V = torch.randn(3, 9, 3, generator=g, dtype=F64)
    dense = (obj.hess(Y) @ V.reshape(3, -1, 1)).reshape(V.shape)
    assert float((obj.hvp(Y, V) - dense).abs().max() / dense.abs().max()) < 1e-12


@pytest.fixture(scope="module")
def endpoints():
    """Certified end points of a small landscape (dense path), their objective and dense spectra."""
    loss = random_ntk(3, 2, 6, 6, "sq", 1, 2, CPU, F64)
    obj = LoRAObjective(loss, torch.full((2,), 0.05, dtype=F64), 4)
    ms = MN.multistart(obj, (0.01, 1.0), 3, 3, gd_steps=300, newton_iters=100, matrix_free=False)
    assert bool(ms.result.converged.all())
    return ms.obj, ms.result.Y, torch.linalg.eigvalsh(ms.obj.hess(ms.result.Y))


def test_lanczos_at_sosps_with_exact_symmetry_zeros(endpoints):
    obj, Y, ev = endpoints
    hn = ev.abs().amax(1)
    assert float(ev[:, 0].abs().max()) < 1e-6 * float(hn.max())   # the O(r) symmetry: zeros up to the 1e-7 gradient
    for steps in (obj.dim, 160):
        ext = lanczos_extremes(obj, Y, steps)
        assert float(((ext.lam_min - ev[:, 0]).abs() / hn).max()) < 1e-9
        assert float(((ext.lam_max - ev[:, -1]).abs() / hn).max()) < 1e-12
    rep_dense, rep_free = sosp_report(obj, Y, matrix_free=False), sosp_report(obj, Y, matrix_free=True)
    assert torch.equal(rep_dense.is_sosp, rep_free.is_sosp) and bool(rep_free.is_sosp.all())


@pytest.mark.parametrize("gap", [0.5, 1e-4])
def test_lanczos_finds_the_origins_negative_curvature(gap):
    """At Y = 0 the spectrum is lam +- sigma_i(grad L(0)) (Jang L2 / Kim Sec. 3.4): with lam = (1 - gap)
    sigma_1, lambda_min = -gap sigma_1, small for gap = 1e-4."""
    loss = random_ntk(4, 2, 7, 6, "sq", 3, 3, CPU, F64)
    sigma1 = torch.linalg.matrix_norm(loss.grad(torch.zeros(3, 7, 6, dtype=F64)), ord=2)
    obj = LoRAObjective(loss, (1 - gap) * sigma1, 3)
    Y0 = torch.zeros(3, 13, 3, dtype=F64)
    ev = torch.linalg.eigvalsh(obj.hess(Y0))
    assert torch.allclose(ev[:, 0], -gap * sigma1, rtol=1e-9, atol=0)
    ext = lanczos_extremes(obj, Y0)
    assert torch.allclose(ext.lam_min, ev[:, 0], rtol=1e-8, atol=1e-12 * float(sigma1.max()))
    rep = sosp_report(obj, Y0, matrix_free=True)
    assert not bool(rep.is_sosp.any())                                       # a saddle, in every row


def test_lanczos_with_a_krylov_space_smaller_than_the_operator():
    g = torch.Generator().manual_seed(2)
    Q, _ = torch.linalg.qr(torch.randn(4, 400, 400, generator=g, dtype=F64))
    spectrum = torch.cat([torch.tensor([-1e-3, 0.0, 0.0], dtype=F64), torch.linspace(0.5, 10.0, 397, dtype=F64)])
    H = Q @ torch.diag_embed(spectrum.expand(4, -1)) @ Q.transpose(1, 2)
    ext = extremes(lambda v: (H @ v.unsqueeze(-1)).squeeze(-1), 4, 400, steps=160)
    assert ext.steps == 160
    assert torch.allclose(ext.lam_min, torch.full((4,), -1e-3, dtype=F64), atol=1e-10)
    assert torch.allclose(ext.lam_max, torch.full((4,), 10.0, dtype=F64), atol=1e-10)
    Hx = (H @ ext.vec_min.unsqueeze(-1)).squeeze(-1)
    assert float((Hx - ext.lam_min.unsqueeze(1) * ext.vec_min).norm(dim=1).max()) < 1e-8


def test_lanczos_on_an_operator_smaller_than_its_steps_is_exact():
    """Invariant Krylov spaces (repeated eigenvalues) are restarted, never padded with spurious zeros."""
    H = torch.diag(torch.tensor([2.0, 2.0, 2.0, 5.0, 5.0], dtype=F64)).expand(3, 5, 5)
    ext = extremes(lambda v: (H @ v.unsqueeze(-1)).squeeze(-1), 3, 5, steps=50)
    assert torch.allclose(ext.lam_min, torch.full((3,), 2.0, dtype=F64), atol=1e-12)
    assert torch.allclose(ext.lam_max, torch.full((3,), 5.0, dtype=F64), atol=1e-12)


def test_newton_cg_reaches_the_dense_polish_minima_and_classifies_alike():
    loss = random_ntk(3, 2, 8, 8, "sq", 4, 2, CPU, F64)
    obj = LoRAObjective(loss, torch.full((2,), 0.05, dtype=F64), 4)
    runs = {free: MN.multistart(obj, (0.01, 1.0, 3.0), 3, 5, gd_steps=300, newton_iters=200, matrix_free=free)
            for free in (False, True)}
    for free, ms in runs.items():
        assert bool(ms.result.converged.all()), free
        assert float(ms.result.grad_norm.max()) <= 1e-7
    # both reach the global minimum of each instance (Sec. 4: no spurious SOSP above the threshold)
    assert torch.allclose(runs[True].result.value, runs[False].result.value, rtol=1e-9, atol=1e-12)
    for ms in runs.values():
        dense = sosp_report(ms.obj, ms.result.Y, matrix_free=False)
        free = sosp_report(ms.obj, ms.result.Y, matrix_free=True)
        assert torch.equal(dense.is_sosp, free.is_sosp)


def test_newton_cg_escapes_the_origin_saddle():
    loss = random_ntk(3, 2, 6, 5, "sq", 6, 2, CPU, F64)
    sigma1 = torch.linalg.matrix_norm(loss.grad(torch.zeros(2, 6, 5, dtype=F64)), ord=2)
    obj = LoRAObjective(loss, 0.5 * sigma1, 4)                  # the origin is a strict saddle
    Y0 = 1e-9 * torch.randn(2, 11, 4, generator=torch.Generator().manual_seed(3), dtype=F64)
    Y, f, g, _ = MN.newton_cg_polish(obj, Y0, 300)
    assert float(g.max()) <= 1e-7 and bool((f < obj.value(torch.zeros_like(Y0)) - 1e-6).all())
    assert bool(sosp_report(obj, Y, matrix_free=False).is_sosp.all())
