"""losses.Ridge: the eps-perturbation (eps/2)||delta||_F^2 of Kim et al.'s reading of Jang et al.'s
genericity condition, checked against autograd and against a closed-form convex optimum."""
from __future__ import annotations

import torch

from lora_claims.strategies.ntk_instances import random_ntk
from lora_claims.theorems.numerics.convex_oracle import convex_optimum, svt
from lora_claims.theorems.numerics.losses import Ridge, WeightedQuadratic

F64 = torch.float64


def test_value_grad_hess_match_autograd():
    inner = random_ntk(3, 2, 4, 5, "ce", seed=3, batch=2)
    eps = torch.tensor([1e-3, 0.5], dtype=F64)
    loss = Ridge(inner, eps)
    X = torch.randn(2, 4, 5, generator=torch.Generator().manual_seed(1), dtype=F64)
    v = loss.value(X)
    assert torch.allclose(v, inner.value(X) + 0.5 * eps * (X ** 2).sum(dim=(1, 2)), rtol=0, atol=1e-14)
    Xg = X.clone().requires_grad_(True)
    g, = torch.autograd.grad(loss.value(Xg).sum(), Xg)
    assert torch.allclose(loss.grad(X), g, rtol=0, atol=1e-13)
    for b in range(2):
        H = torch.autograd.functional.hessian(lambda x: loss.value(x.reshape(1, 4, 5).expand(2, 4, 5))[b],
                                              X[b].reshape(-1))
        Hb = loss.hess(X)[b]
        assert torch.allclose(Hb, H, rtol=0, atol=1e-12)
        assert torch.allclose(Hb - inner.hess(X)[b], eps[b] * torch.eye(20, dtype=F64), rtol=0, atol=1e-15)
    assert torch.allclose(loss.lipschitz(), inner.lipschitz() + eps)
    one = loss.take(torch.tensor([1]))
    assert one.batch == 1 and torch.allclose(one.value(X[1:]), v[1:], rtol=0, atol=1e-15)


def test_convex_optimum_closed_form():
    """L(X) = 1/2 ||X - T||^2 + eps/2 ||X||^2 + lam ||X||_* is minimised by svt(T, lam) / (1 + eps)."""
    g = torch.Generator().manual_seed(7)
    T = torch.randn(3, 5, 4, generator=g, dtype=F64)
    eps = torch.tensor([0.0, 1e-2, 1.0], dtype=F64)
    lam = torch.tensor([0.3, 0.3, 0.8], dtype=F64)
    loss = Ridge(WeightedQuadratic(torch.ones_like(T), T), eps)
    opt = convex_optimum(loss, lam)
    assert bool(opt.converged.all())
    assert torch.allclose(opt.delta, svt(T, lam) / (1 + eps).view(-1, 1, 1), rtol=0, atol=1e-10)
