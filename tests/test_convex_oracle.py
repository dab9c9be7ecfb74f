"""Tests of the convex oracle min_delta L(delta) + lam ||delta||_* (Jang et al. 2024, spec "Oracles")."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lora_claims.strategies.ntk_instances import random_ntk, tightness_family
from lora_claims.theorems.numerics.convex_oracle import ConvexOptimum, convex_optimum, nuclear_norm, svt

F64 = torch.float64


def _lams(B: int, seed: int) -> torch.Tensor:
    """lam log-uniform in [1e-3, 1e-1] (the spec's range)."""
    g = torch.Generator().manual_seed(seed)
    return torch.exp(torch.empty(B, dtype=F64).uniform_(math.log(1e-3), math.log(1e-1), generator=g))


# ---------------------------------------------------------------- closed form: T(r0)

@pytest.mark.parametrize("r0", [2, 3, 4])
@pytest.mark.parametrize("extra", [0, 2])
def test_tightness_family_closed_form(r0, extra):
    m = n = r0 + extra
    N = r0 * (r0 + 1) // 2
    lam = torch.tensor([0.02, 0.3, 0.7, 0.98], dtype=F64) / N  # all < 1/N
    loss = tightness_family(r0, m, n, batch=lam.numel())
    opt = convex_optimum(loss, lam)
    assert isinstance(opt, ConvexOptimum)
    assert bool(opt.converged.all())
    closed = lam * r0 - N * lam ** 2 * r0 / 2
    assert torch.allclose(opt.value, closed, rtol=0, atol=1e-10)
    expect = torch.zeros(lam.numel(), m, n, dtype=F64)
    expect[:, :r0, :r0] = (1 - N * lam).view(-1, 1, 1) * torch.eye(r0, dtype=F64)
    assert (opt.delta - expect).abs().max().item() <= 1e-8
    assert opt.rank.tolist() == [r0] * lam.numel()
    assert opt.residual.max().item() <= 1e-12


# ---------------------------------------------------------------- independent conic solver

def _conic_optimum(loss, lam: float):
    """Solve the same problem with cvxpy (Clarabel, falling back to SCS). Returns (delta, solver)."""
    cp = pytest.importorskip("cvxpy")
    G, f0 = loss.G[0].numpy(), loss.f0[0].numpy()
    N, K, m, n = G.shape
    D = cp.Variable((m, n))
    z = [[f0[i, k] + cp.sum(cp.multiply(G[i, k], D)) for k in range(K)] for i in range(N)]
    if loss.kind == "sq":
        y = loss.y[0].numpy()
        risk = sum(0.5 * cp.square(z[i][k] - y[i, k]) for i in range(N) for k in range(K)) / N
    else:
        y = loss.y[0].numpy()
        risk = sum(cp.log_sum_exp(cp.hstack(z[i])) - z[i][int(y[i])] for i in range(N)) / N
    prob = cp.Problem(cp.Minimize(risk + lam * cp.normNuc(D)))
    for solver in ("CLARABEL", "SCS"):
        if solver not in cp.installed_solvers():
            continue
        try:
            prob.solve(solver=solver)
        except cp.error.SolverError:
            continue
        if prob.status == cp.OPTIMAL and D.value is not None:
            return torch.as_tensor(D.value, dtype=F64).unsqueeze(0), solver
    pytest.skip("no conic solver reached an optimal status")


@pytest.mark.parametrize("kind", ["sq", "ce"])
@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_conic_solver(kind, seed):
    rng = np.random.default_rng(100 * seed + (kind == "ce"))
    N = int(rng.integers(1, 5))
    K = int(rng.integers(2 if kind == "ce" else 1, 4))
    m, n = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    lam = float(np.exp(rng.uniform(math.log(1e-3), math.log(1e-1))))
    loss = random_ntk(N, K, m, n, kind, seed=seed)
    opt = convex_optimum(loss, lam)
    assert bool(opt.converged.all())
    D, solver = _conic_optimum(loss, lam)
    # The problem is unconstrained, so H at the conic solver's point is an upper bound on the optimum:
    conic_value = (loss.value(D) + lam * nuclear_norm(D)).item()
    apg = opt.value.item()
    # Clarabel's default tolerances (~1e-8) were observed to give |gap| <= 4e-9 (1 + |v|) here;
    # SCS (first-order) is looser, ~1e-6.  APG may only be better than the conic point, never worse.
    rtol = 1e-6 if solver == "CLARABEL" else 1e-4
    assert abs(apg - conic_value) <= rtol * (1 + abs(conic_value)), (solver, apg, conic_value)
    assert apg <= conic_value + 1e-12 * (1 + abs(conic_value)), (solver, apg, conic_value)


# ---------------------------------------------------------------- KKT certificate (spec Lemma L1)

SHAPES = [(1, 1, 3, 4), (3, 2, 5, 5), (6, 3, 12, 12), (4, 3, 7, 10), (2, 2, 12, 3)]


@pytest.mark.parametrize("kind", ["sq", "ce"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_kkt_certificate(kind, shape):
    N, K, m, n = shape
    if kind == "ce":
        K = max(K, 2)
    B = 8
    lam = _lams(B, seed=N * 100 + m * 10 + n)
    loss = random_ntk(N, K, m, n, kind, seed=7 + m * n, batch=B)
    opt = convex_optimum(loss, lam)
    assert bool(opt.converged.all())
    assert opt.residual.max().item() <= 1e-11
    M = loss.grad(opt.delta)
    smax = torch.linalg.matrix_norm(M, ord=2)
    assert bool((smax <= lam * (1 + 1e-7)).all()), (smax / lam).max()
    U, s, Vh = torch.linalg.svd(opt.delta, full_matrices=False)
    for b in range(B):
        r = int(opt.rank[b])
        assert r >= 1  # at these lam the origin is never optimal for Gaussian G (sigma_max(M(0)) >> lam)
        Ur, Vr = U[b, :, :r], Vh[b, :r].T
        # grad L = -lam U_r V_r^T + W with W orthogonal to the support and ||W|| <= lam
        assert (M[b] @ Vr + lam[b] * Ur).abs().max().item() <= 1e-7 * lam[b]
        assert (M[b].T @ Ur + lam[b] * Vr).abs().max().item() <= 1e-7 * lam[b]
        # the numerical rank is clear-cut: the rest are thresholded to rounding level
        if r < s.shape[1]:
            assert s[b, r:].max().item() <= 1e-12


# ---------------------------------------------------------------- batching and options

def test_batch_equals_single_rows():
    B = 5
    lam = _lams(B, seed=3)
    for kind in ("sq", "ce"):
        loss = random_ntk(3, 2, 6, 7, kind, seed=11, batch=B)
        batch = convex_optimum(loss, lam)
        for b in range(B):
            one = convex_optimum(loss.take(torch.tensor([b])), lam[b].item())
            assert abs(one.value.item() - batch.value[b].item()) <= 1e-13
            assert (one.delta[0] - batch.delta[b]).abs().max().item() <= 1e-9
            assert one.rank.item() == batch.rank[b].item()
            assert bool(one.converged.item()) and bool(batch.converged[b].item())


def test_lam_zero_squared_loss_is_least_squares():
    for (N, K, m, n) in [(3, 2, 5, 6), (6, 3, 3, 3)]:  # underdetermined (interpolates) / overdetermined
        loss = random_ntk(N, K, m, n, "sq", seed=5, batch=3)
        opt = convex_optimum(loss, 0.0)
        assert bool(opt.converged.all())
        assert loss.grad(opt.delta).flatten(1).norm(dim=1).max().item() <= 1e-10
        A = loss.Gmat
        c = (loss.y - loss.f0).reshape(3, -1, 1)
        best = torch.linalg.lstsq(A, c).solution
        ls_value = 0.5 * ((A @ best - c) ** 2).sum(dim=(1, 2)) / N
        assert torch.allclose(opt.value, ls_value, rtol=0, atol=1e-12)


def test_pure_fista_reaches_the_same_optimum():
    lam = torch.tensor([0.05, 0.08], dtype=F64)
    loss = random_ntk(2, 2, 4, 4, "ce", seed=2, batch=2)
    fast = convex_optimum(loss, lam)
    plain = convex_optimum(loss, lam, polish_every=0)
    assert bool(plain.converged.all())
    assert torch.allclose(plain.value, fast.value, rtol=0, atol=1e-12)
    assert (plain.delta - fast.delta).abs().max().item() <= 1e-7


def test_warm_start_at_optimum_stops_at_once():
    lam = _lams(4, seed=9)
    loss = random_ntk(4, 3, 6, 5, "ce", seed=4, batch=4)
    opt = convex_optimum(loss, lam)
    again = convex_optimum(loss, lam, delta0=opt.delta)
    assert bool(again.converged.all()) and again.iterations.max().item() <= 2
    assert torch.allclose(again.value, opt.value, rtol=0, atol=1e-14)


def test_large_lam_gives_zero():
    loss = random_ntk(3, 2, 4, 5, "ce", seed=1, batch=2)
    lam = 2 * torch.linalg.matrix_norm(loss.grad(torch.zeros(2, 4, 5, dtype=F64)), ord=2)
    opt = convex_optimum(loss, lam)
    assert opt.delta.abs().max().item() == 0.0 and opt.rank.tolist() == [0, 0]
    assert torch.allclose(opt.value, loss.value(opt.delta))


def test_float32_keeps_dtype():
    loss = random_ntk(4, 2, 6, 6, "ce", seed=1, batch=3, dtype=torch.float32)
    opt = convex_optimum(loss, torch.tensor([1e-3, 1e-2, 1e-1]))
    assert opt.delta.dtype == torch.float32 and opt.value.dtype == torch.float32
    assert bool(opt.converged.all())
    ref = convex_optimum(random_ntk(4, 2, 6, 6, "ce", seed=1, batch=3), torch.tensor([1e-3, 1e-2, 1e-1]))
    assert torch.allclose(opt.value.double(), ref.value, rtol=0, atol=1e-5)


# ---------------------------------------------------------------- helpers

def test_svt_and_nuclear_norm():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(4, 5, 3, generator=g, dtype=F64)
    tau = torch.tensor([0.0, 0.5, 1.0, 100.0], dtype=F64)
    s = torch.linalg.svdvals(X)
    assert torch.allclose(nuclear_norm(X), s.sum(dim=1))
    Y = svt(X, tau)
    assert torch.allclose(torch.linalg.svdvals(Y), (s - tau.view(-1, 1)).clamp_min(0), atol=1e-13)
    assert torch.allclose(Y[0], X[0], atol=1e-13) and Y[3].abs().max().item() == 0.0
    # prox optimality: X - Y is in tau * subdifferential of ||.||_* at Y, i.e. ||X - Y||_2 <= tau
    assert bool((torch.linalg.matrix_norm(X - Y, ord=2) <= tau + 1e-12).all())
