"""Closed forms of theorems/numerics/losses.py and lora.py against torch.autograd and the spec."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lora_claims.strategies.ntk_instances import random_ntk, symmetric_perturbation
from lora_claims.theorems.numerics.lora import LoRAObjective, balanced_factors
from lora_claims.theorems.numerics.losses import NTKRisk

F64 = torch.float64
TOL = 1e-10



# (N, K, m, n, r): includes m < n, m > n, m == n, K == 1, r > min(m, n)
SHAPES = [(3, 2, 4, 5, 2), (2, 3, 5, 3, 3), (4, 1, 3, 3, 1), (1, 2, 2, 4, 5)]
BATCH = 2


def make(kind, shape, seed, with_P, lam=None):
    N, K, m, n, r = shape
    loss = random_ntk(N, K, m, n, kind, seed, batch=BATCH)
    g = torch.Generator().manual_seed(seed + 1000)
    if lam is None:
        lam = torch.exp(torch.empty(BATCH, dtype=F64).uniform_(np.log(1e-3), np.log(1e-1), generator=g))
    P = symmetric_perturbation(m + n, 1e-2 * lam, seed + 7, batch=BATCH) if with_P else None
    obj = LoRAObjective(loss, lam, r, P)
    Y = torch.randn(BATCH, m + n, r, generator=g, dtype=F64)
    return obj, Y


def ref_loss(loss: NTKRisk, b: int, delta: torch.Tensor) -> torch.Tensor:
    """Independent scalar loss of batch row b, written from the spec's formula."""
    z = loss.f0[b] + torch.einsum("ikab,ab->ik", loss.G[b], delta)
    if loss.kind == "sq":
        return 0.5 * ((z - loss.y[b]) ** 2).sum() / loss.N
    zy = z.gather(1, loss.y[b].unsqueeze(1)).squeeze(1)
    return (torch.logsumexp(z, dim=1) - zy).sum() / loss.N


def ref_objective(obj: LoRAObjective, b: int):
    m, n, r = obj.m, obj.n, obj.r
    lam = obj.lam[b].to(F64)

    def f(y):
        Y = y.reshape(m + n, r)
        A, B = Y[:m], Y[m:]
        v = ref_loss(obj.loss, b, A @ B.T) + 0.5 * lam * (Y ** 2).sum()
        if obj.P is not None:
            v = v + (obj.P[b] * (Y @ Y.T)).sum()
        return v
    return f


CASES = list(itertools.product(["sq", "ce"], [False, True], range(len(SHAPES))))


@pytest.mark.parametrize("kind,with_P,si", CASES)
def test_value_grad_hess_match_autograd(kind, with_P, si):
    obj, Y = make(kind, SHAPES[si], seed=10 + si, with_P=with_P)
    val, grad, hess = obj.value(Y), obj.grad(Y), obj.hess(Y)
    for b in range(BATCH):
        f = ref_objective(obj, b)
        y = Y[b].reshape(-1).clone().requires_grad_(True)
        v = f(y)
        (g,) = torch.autograd.grad(v, y)
        H = torch.autograd.functional.hessian(f, Y[b].reshape(-1))
        scale = 1.0 + float(H.abs().max())
        v = v.detach()
        assert abs(float(val[b]) - float(v)) <= TOL * (1 + abs(float(v)))
        assert float((grad[b].reshape(-1) - g).abs().max()) <= TOL * (1 + float(g.abs().max()))
        assert float((hess[b] - H).abs().max()) <= TOL * scale
    # the object's own value differentiates to its own grad / hess as well
    b = 0

    def own(y):
        return obj.take(torch.tensor([b])).value(y.reshape(1, *Y.shape[1:]))[0]
    H_own = torch.autograd.functional.hessian(own, Y[b].reshape(-1))
    assert float((hess[b] - H_own).abs().max()) <= TOL * (1 + float(H_own.abs().max()))


@pytest.mark.parametrize("kind,with_P,si", CASES)
def test_hvp_equals_hess_times_v(kind, with_P, si):
    obj, Y = make(kind, SHAPES[si], seed=20 + si, with_P=with_P)
    g = torch.Generator().manual_seed(99)
    V = torch.randn(Y.shape, generator=g, dtype=F64)
    hv = obj.hvp(Y, V).reshape(BATCH, -1)
    ref = (obj.hess(Y) @ V.reshape(BATCH, -1, 1)).squeeze(-1)
    assert float((hv - ref).abs().max()) <= TOL * (1 + float(ref.abs().max()))


@pytest.mark.parametrize("kind,si", list(itertools.product(["sq", "ce"], range(len(SHAPES)))))
def test_grad_spec_form(kind, si):
    """grad_A F = M B + lam A, grad_B F = M^T A + lam B (spec, Setting); J matches autograd."""
    obj, Y = make(kind, SHAPES[si], seed=30 + si, with_P=False)
    m = obj.m
    M = obj.M(Y)
    A, B = obj.split(Y)
    lam = obj.lam.reshape(-1, 1, 1)
    gr = obj.grad(Y)
    assert torch.allclose(gr[:, :m], M @ B + lam * A, rtol=0, atol=1e-12)
    assert torch.allclose(gr[:, m:], M.transpose(1, 2) @ A + lam * B, rtol=0, atol=1e-12)
    J = obj.jacobian_delta(Y)
    for b in range(BATCH):
        Jref = torch.autograd.functional.jacobian(
            lambda y: (y.reshape(Y.shape[1:])[:m] @ y.reshape(Y.shape[1:])[m:].T).reshape(-1),
            Y[b].reshape(-1))
        assert torch.allclose(J[b], Jref, rtol=0, atol=1e-13)


@pytest.mark.parametrize("kind,si", list(itertools.product(["sq", "ce"], range(len(SHAPES)))))
def test_ntk_risk_grad_hess(kind, si):
    N, K, m, n, _ = SHAPES[si]
    loss = random_ntk(N, K, m, n, kind, 40 + si, batch=BATCH)
    g = torch.Generator().manual_seed(41 + si)
    delta = torch.randn(BATCH, m, n, generator=g, dtype=F64)
    val, M, H = loss.value(delta), loss.grad(delta), loss.hess(delta)
    for b in range(BATCH):
        f = lambda d: ref_loss(loss, b, d.reshape(m, n))  # noqa: E731
        x = delta[b].reshape(-1).clone().requires_grad_(True)
        v = f(x)
        (gref,) = torch.autograd.grad(v, x)
        v = v.detach()
        assert abs(float(val[b]) - float(v)) <= TOL * (1 + abs(float(v)))
        assert float((M[b].reshape(-1) - gref).abs().max()) <= TOL * (1 + float(gref.abs().max()))
        Href = torch.autograd.functional.hessian(f, delta[b].reshape(-1))
        assert float((H[b] - Href).abs().max()) <= TOL * (1 + float(Href.abs().max()))
        # central finite differences (independent of autograd), O(h^2) accurate
        h = 1e-5
        E = torch.eye(m * n, dtype=F64)
        fd = torch.stack([(f(delta[b].reshape(-1) + h * e) - f(delta[b].reshape(-1) - h * e)) / (2 * h)
                          for e in E])
        assert float((M[b].reshape(-1) - fd).abs().max()) <= 1e-7 * (1 + float(fd.abs().max()))
    if kind == "sq":
        z = loss.outputs(delta)
        closed = torch.einsum("bik,bikpq->bpq", z - loss.y, loss.G) / N
        assert float((M - closed).abs().max()) <= 1e-13 * (1 + float(closed.abs().max()))
        assert torch.allclose(loss.grad_outputs(delta), (z - loss.y) / N, rtol=0, atol=1e-15)


@pytest.mark.parametrize("kind,with_P,si", CASES)
def test_hessian_at_origin_spectrum(kind, with_P, si):
    """Lemma L2: at Y = 0, Hess F = 2 (S kron I_r), eigenvalues lam +- sigma_i(M(0)) (r times each)
    and lam for the |m-n| r remaining directions (without P); with P: the spectrum of 2 S, r times."""
    obj, _ = make(kind, SHAPES[si], seed=50 + si, with_P=with_P)
    m, n, r = obj.m, obj.n, obj.r
    Y0 = torch.zeros(BATCH, m + n, r, dtype=F64)
    ev = torch.linalg.eigvalsh(obj.hess(Y0))
    M0 = obj.M(Y0)
    for b in range(BATCH):
        lam = float(obj.lam[b])
        if with_P:
            S = 0.5 * lam * torch.eye(m + n, dtype=F64) + obj.P[b]
            S[:m, m:] += 0.5 * M0[b]
            S[m:, :m] += 0.5 * M0[b].T
            expect = (2 * torch.linalg.eigvalsh(S)).repeat_interleave(r)
        else:
            sig = torch.linalg.svdvals(M0[b])
            base = torch.cat([lam + sig, lam - sig, torch.full((abs(m - n),), lam, dtype=F64)])
            expect = base.repeat_interleave(r)
        assert expect.numel() == (m + n) * r
        got = ev[b]
        assert float((got - torch.sort(expect).values).abs().max()) <= TOL
        if not with_P:  # strict saddle iff sigma_max(M(0)) > lam
            assert (float(got[0]) < 0) == (float(torch.linalg.matrix_norm(M0[b], ord=2)) > lam)


def test_hessian_at_origin_python_float_lam():
    """A python-float lam: the objective must use lam itself (not its float32 rounding)."""
    lam = 0.01
    loss = random_ntk(3, 2, 4, 5, "sq", 3, batch=1)
    obj = LoRAObjective(loss, lam, 2)
    Y0 = torch.zeros(1, 9, 2, dtype=F64)
    sig = torch.linalg.svdvals(obj.M(Y0)[0])
    expect = torch.cat([lam + sig, lam - sig, torch.full((1,), lam, dtype=F64)]).repeat_interleave(2)
    got = torch.linalg.eigvalsh(obj.hess(Y0))[0]
    err = float((got - torch.sort(expect).values).abs().max())
    assert obj.lam.dtype == F64
    assert err <= TOL


@pytest.mark.parametrize("shape,k", [((5, 4), 2), ((3, 6), 3), ((4, 4), 4), ((3, 3), 1)])
def test_balanced_factors(shape, k):
    m, n = shape
    g = torch.Generator().manual_seed(m * 10 + n + k)
    delta = torch.randn(BATCH, m, k, generator=g, dtype=F64) @ torch.randn(BATCH, k, n, generator=g, dtype=F64)
    for r in sorted({k, k + 1, min(m, n), min(m, n) + 2}):
        if r < k:
            continue
        Y = balanced_factors(delta, r)
        assert Y.shape == (BATCH, m + n, r)
        A, B = Y[:, :m], Y[:, m:]
        assert float((A @ B.transpose(1, 2) - delta).abs().max()) <= 1e-12 * (1 + float(delta.abs().max()))
        AtA, BtB = A.transpose(1, 2) @ A, B.transpose(1, 2) @ B
        assert float((AtA - BtB).abs().max()) <= 1e-12 * (1 + float(AtA.abs().max()))
        # 1/2 ||Y||^2 = ||delta||_* for balanced factors
        nuc = torch.linalg.svdvals(delta).sum(-1)
        assert torch.allclose(0.5 * (Y ** 2).sum(dim=(1, 2)), nuc, rtol=1e-12, atol=0)


def test_lipschitz_sq_equals_max_hessian_eigenvalue():
    for si, shape in enumerate(SHAPES):
        N, K, m, n, _ = shape
        loss = random_ntk(N, K, m, n, "sq", 60 + si, batch=BATCH)
        delta = torch.randn(BATCH, m, n, dtype=F64)
        top = torch.linalg.eigvalsh(loss.hess(delta))[:, -1]
        assert torch.allclose(loss.lipschitz(), top, rtol=1e-12, atol=0)


def test_lipschitz_ce_is_upper_bound():
    g = torch.Generator().manual_seed(70)
    worst = 0.0
    for si, shape in enumerate(SHAPES):
        N, K, m, n, _ = shape
        loss = random_ntk(N, K, m, n, "ce", 70 + si, batch=BATCH)
        L = loss.lipschitz()
        for scale in (0.0, 0.1, 1.0, 10.0):
            for _ in range(5):
                delta = scale * torch.randn(BATCH, m, n, generator=g, dtype=F64)
                top = torch.linalg.eigvalsh(loss.hess(delta))[:, -1]
                assert bool((top <= L * (1 + 1e-12)).all())
                worst = max(worst, float((top / L).max()))
    assert 0 < worst <= 1 + 1e-12


def test_take_and_batching_consistent():
    obj, Y = make("ce", SHAPES[0], seed=80, with_P=True)
    idx = torch.tensor([1, 0, 1])
    sub = obj.take(idx)
    assert torch.allclose(sub.value(Y[idx]), obj.value(Y)[idx], rtol=1e-14, atol=0)
    assert torch.allclose(sub.hess(Y[idx]), obj.hess(Y)[idx], rtol=1e-14, atol=0)


def test_bad_inputs_rejected():
    G = torch.zeros(1, 2, 1, 3, 3, dtype=F64)
    with pytest.raises(ValueError):
        NTKRisk(G, torch.zeros(1, 2, 1, dtype=F64), torch.zeros(1, 2, 1, dtype=F64), kind="hinge")
    with pytest.raises(ValueError):
        NTKRisk(G[0], torch.zeros(2, 1, dtype=F64), torch.zeros(2, 1, dtype=F64))
