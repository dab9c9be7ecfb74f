"""Issue 17, Kim's G-quad at layer size: a loss whose Hessian is diagonal (G-quad, and a ridge on it) is
never formed -- the convex oracle's ADMM model step, the LoRA objective's dense Hessian and the Theorem-1
curvature use the diagonal or Hessian-vector products.  Each shortcut is checked against the formed
Hessian (losses.FormedHessian) and against closed forms."""
from __future__ import annotations

import pytest
import torch

from lora_claims.strategies.kim_instances import gquad
from lora_claims.theorems.numerics.convex_oracle import admm_model, convex_optimum, factor_newton
from lora_claims.theorems.numerics.fails_loudly import endpoint_geometry
from lora_claims.theorems.numerics.losses import FormedHessian, Ridge
from lora_claims.theorems.numerics.lora import LoRAObjective

F64 = torch.float64


def _loss(m=4, n=3, kappa=7.0, batch=3, seed=2):
    return gquad(m, n, kappa, seed=seed, batch=batch, target_rank=2, target_scale=2.0, weights="log-uniform")


def test_gquad_diagonal_and_hvp_are_its_hessian():
    loss = _loss()
    X = torch.randn(3, 4, 3, dtype=F64, generator=torch.Generator().manual_seed(0))
    D = torch.randn(3, 4, 3, dtype=F64, generator=torch.Generator().manual_seed(1))
    H = loss.hess(X)
    hs = loss.hess_structure(X)
    assert hs.F is None and torch.equal(torch.diag_embed(hs.diag.reshape(3, -1)), H)     # diagonal, exactly
    assert torch.allclose(loss.hvp(X, D).reshape(3, -1), (H @ D.reshape(3, -1, 1)).squeeze(-1), atol=0, rtol=1e-15)
    assert torch.allclose(loss.hvp(X, D), FormedHessian(loss).hvp(X, D), atol=1e-14)  # forward mode agrees
    ridge = Ridge(loss, torch.tensor([0.1, 0.2, 0.3], dtype=F64))
    assert torch.allclose(torch.diag_embed(ridge.hess_structure(X).diag.reshape(3, -1)), ridge.hess(X), atol=0)
    assert FormedHessian(loss).hess_structure(X) is None


def test_lora_hessian_with_a_diagonal_loss_equals_the_formed_one():
    loss = _loss(5, 4, batch=2)
    Y = torch.randn(2, 9, 3, dtype=F64, generator=torch.Generator().manual_seed(3))
    lam = torch.tensor([0.3, 0.7], dtype=F64)
    fast, ref = LoRAObjective(loss, lam, 3).hess(Y), LoRAObjective(FormedHessian(loss), lam, 3).hess(Y)
    assert torch.allclose(fast, ref, atol=1e-13, rtol=0)
    V = torch.randn_like(Y)
    hv = LoRAObjective(loss, lam, 3).hvp(Y, V).reshape(2, -1)
    assert torch.allclose(hv, (fast @ V.reshape(2, -1, 1)).squeeze(-1), atol=1e-12)


def test_admm_model_and_factor_newton_take_the_same_steps_without_the_formed_hessian():
    loss = _loss(5, 4, batch=3)
    lam = torch.tensor([0.2, 0.5, 0.9], dtype=F64)
    x = 0.3 * torch.randn(3, 5, 4, dtype=F64, generator=torch.Generator().manual_seed(4))
    z, rank = admm_model(loss, lam, x)
    z_ref, rank_ref = admm_model(FormedHessian(loss), lam, x)
    assert torch.equal(rank, rank_ref)
    assert torch.allclose(z, z_ref, atol=1e-11, rtol=0)
    d = factor_newton(loss, lam, z, 2)
    assert torch.allclose(d, factor_newton(FormedHessian(loss), lam, z, 2), atol=1e-11, rtol=0)


@pytest.mark.parametrize("kappa", [1.5, 20.0])
def test_the_oracle_and_the_theorem1_curvature_agree_with_the_formed_path(kappa):
    """convex_optimum end to end, and beta_hat (the Hessian quadratic form along Theorem 1's direction)."""
    loss = _loss(6, 5, kappa=kappa, batch=3, seed=7)
    lam = torch.full((3,), 0.8, dtype=F64)
    fast, ref = convex_optimum(loss, lam), convex_optimum(FormedHessian(loss), lam)
    assert bool(fast.converged.all()) and bool(ref.converged.all())
    assert torch.allclose(fast.delta, ref.delta, atol=1e-10, rtol=0)
    assert torch.equal(fast.rank, ref.rank)
    X = fast.delta + 0.05 * torch.randn(3, 6, 5, dtype=F64, generator=torch.Generator().manual_seed(8))
    g1 = endpoint_geometry(loss, lam, X, fast.delta, fast.rank.clamp_min(1), 2)
    g2 = endpoint_geometry(FormedHessian(loss), lam, X, fast.delta, fast.rank.clamp_min(1), 2)
    assert torch.allclose(g1.beta_hat, g2.beta_hat, rtol=1e-13, atol=0)
    # beta_hat lies in [min W, max W] (a Rayleigh quotient of diag(W)): the closed-form check
    assert bool((g1.beta_hat >= loss.alpha() * (1 - 1e-12)).all() and (g1.beta_hat <= loss.beta() * (1 + 1e-12)).all())


def test_no_mn_by_mn_matrix_is_formed_for_gquad_at_layer_size(monkeypatch):
    """At m = n = 64 the G-quad oracle and the LoRA Hessian never call hess() (a 4096 x 4096 matrix per row)."""
    loss = gquad(64, 64, 1.5, seed=3, batch=1, target_rank=2, target_scale=2.0)

    def forbidden(self, delta):
        raise AssertionError("the mn x mn Hessian was formed")
    monkeypatch.setattr(type(loss), "hess", forbidden)
    from lora_claims.theorems.numerics import convex_oracle as CO
    calls = []
    admm = CO.admm_model
    monkeypatch.setattr(CO, "admm_model", lambda *a, **k: calls.append(1) or admm(*a, **k))
    opt = convex_optimum(loss, torch.tensor([0.1], dtype=F64), polish_every=2)
    assert calls, "the ADMM polish was not exercised"
    assert bool(opt.converged.all()) and int(opt.rank) == 2
    Y = torch.randn(1, 128, 3, dtype=F64, generator=torch.Generator().manual_seed(0))
    assert LoRAObjective(loss, torch.tensor([0.8], dtype=F64), 3).hess(Y).shape == (1, 384, 384)


def _ntk(kind, m=5, n=4, batch=3, seed=1):
    from lora_claims.strategies.ntk_instances import random_ntk
    return random_ntk(3, 2, m, n, kind, seed, batch, torch.device("cpu"), F64)


@pytest.mark.parametrize("kind", ["sq", "ce"])
def test_ntk_low_rank_structure_is_its_hessian_and_woodbury_solves_the_shifted_system(kind):
    """NTK risk: Hess = Gmat^T C Gmat (rank <= KN); matvec, sandwich and the Woodbury solve of Hess + rho I
    against the formed matrix and a dense solve, also with a ridge (diagonal + low rank)."""
    for loss in (_ntk(kind), Ridge(_ntk(kind), torch.tensor([0.05, 0.1, 0.2], dtype=F64))):
        X = 0.5 * torch.randn(3, 5, 4, dtype=F64, generator=torch.Generator().manual_seed(2))
        v = torch.randn(3, 20, dtype=F64, generator=torch.Generator().manual_seed(3))
        H, hs = loss.hess(X), loss.hess_structure(X)
        assert torch.allclose(hs.matvec(v), (H @ v.unsqueeze(-1)).squeeze(-1), atol=1e-13)
        J = torch.randn(3, 20, 6, dtype=F64, generator=torch.Generator().manual_seed(4))
        assert torch.allclose(hs.sandwich(J), J.transpose(1, 2) @ H @ J, atol=1e-12)
        rho = torch.tensor([1e-3, 0.1, 2.0], dtype=F64)
        solve, ok = hs.shifted_solver(rho)
        assert bool(ok.all())
        want = torch.linalg.solve(H + rho.view(-1, 1, 1) * torch.eye(20, dtype=F64), v.unsqueeze(-1)).squeeze(-1)
        assert torch.allclose(solve(v), want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind", ["sq", "ce"])
def test_ntk_oracle_is_the_same_without_the_formed_hessian(kind):
    loss = _ntk(kind, 6, 5)
    lam = torch.tensor([0.01, 0.03, 0.1], dtype=F64)
    fast, ref = convex_optimum(loss, lam), convex_optimum(FormedHessian(loss), lam)
    assert bool(fast.converged.all()) and bool(ref.converged.all())
    assert torch.allclose(fast.value, ref.value, rtol=1e-12, atol=0)
    assert torch.allclose(fast.delta, ref.delta, atol=1e-8, rtol=0)
    x = 0.3 * torch.randn(3, 6, 5, dtype=F64, generator=torch.Generator().manual_seed(5))
    z, rank = admm_model(loss, lam, x)
    z_ref, rank_ref = admm_model(FormedHessian(loss), lam, x)
    assert torch.equal(rank, rank_ref) and torch.allclose(z, z_ref, atol=1e-8, rtol=0)
