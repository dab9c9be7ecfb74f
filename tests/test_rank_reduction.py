"""Barvinok–Pataki rank reduction (Jang et al. 2024, Thm 3.1; spec check C1)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lora_claims.strategies.ntk_instances import r_max, tightness_family
from lora_claims.theorems.numerics.lora import balanced_factors
from lora_claims.theorems.numerics.rank_reduction import (RankReduction, constraint_matrix, rank_bound,
                                              reduce_rank, smat, svec)



def random_instance(N, K, m, n, s0, seed):
    g = torch.Generator().manual_seed(seed)
    G = torch.randn(N, K, m, n, generator=g, dtype=torch.float64)
    delta = (torch.randn(m, s0, generator=g, dtype=torch.float64)
             @ torch.randn(s0, n, generator=g, dtype=torch.float64))
    Y = balanced_factors(delta[None], s0)[0]
    return G, delta, Y


def numpy_outputs(G, Y, m):
    Yn = Y.detach().cpu().numpy().astype(np.float64)
    Z = Yn @ Yn.T
    return np.einsum("ikab,ab->ik", G.cpu().numpy(), Z[:m, m:])


def check_c1(G, delta, Y, R: RankReduction, rel=1e-10):
    N, K, m, n = G.shape
    KN = N * K
    s = R.rank
    assert s * (s + 1) // 2 <= KN, (s, KN, R.ranks)
    assert s <= r_max(KN)
    assert R.ranks[-1] == s and all(a > b for a, b in zip(R.ranks, R.ranks[1:]))
    scale = max(1.0, float(R.outputs_before.abs().max()))
    assert float((R.outputs_after - R.outputs_before).abs().max()) <= rel * scale
    # independent: Y Y^T top-right block through numpy
    ref = np.einsum("ikab,ab->ik", G.numpy(), delta.numpy())
    got = numpy_outputs(G, R.Y, m)
    assert np.max(np.abs(got - ref)) <= rel * max(1.0, np.max(np.abs(ref)))
    # nuclear norm of delta and 1/2||Y||^2 do not increase (balanced start: they coincide)
    assert R.nuclear_before == pytest.approx(R.half_sq_norm_before, rel=1e-10)
    assert R.nuclear_after <= R.nuclear_before * (1 + 1e-12)
    assert R.half_sq_norm_after <= R.half_sq_norm_before * (1 + 1e-12)
    assert R.nuclear_after <= R.half_sq_norm_after * (1 + 1e-12)
    nuc_np = np.linalg.svd(R.Y[:m].numpy() @ R.Y[m:].numpy().T, compute_uv=False).sum()
    assert nuc_np == pytest.approx(R.nuclear_after, rel=1e-10, abs=1e-12)
    # the final factorisation has full column rank
    if s:
        sv = torch.linalg.svdvals(R.Y.to(torch.float64))
        assert float(sv[-1]) > 1e-8 * float(sv[0])


def test_rank_bound_matches_strategies():
    for KN in range(1, 60):
        assert rank_bound(KN) == r_max(KN)


def test_svec_is_isometry():
    g = torch.Generator().manual_seed(3)
    X = torch.randn(5, 5, generator=g, dtype=torch.float64)
    X = X + X.T
    W = torch.randn(5, 5, generator=g, dtype=torch.float64)
    W = W + W.T
    assert torch.allclose(svec(X) @ svec(W), (X * W).sum(), rtol=1e-14)
    assert torch.equal(smat(svec(X), 5), X) or torch.allclose(smat(svec(X), 5), X, rtol=1e-15)


def test_constraint_matrix_linearises_outputs():
    """<G_ik, A D B^T> = row_ik . svec(D) for symmetric D."""
    G, _, Y = random_instance(3, 2, 5, 6, 4, seed=11)
    m = 5
    C = constraint_matrix(G, Y, m)
    g = torch.Generator().manual_seed(12)
    D = torch.randn(4, 4, generator=g, dtype=torch.float64)
    D = D + D.T
    lhs = torch.einsum("ikab,ab->ik", G, Y[:m] @ D @ Y[m:].T).reshape(-1)
    assert torch.allclose(C @ svec(D), lhs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("N,K,m,n,s0,seed", [
    (1, 1, 4, 4, 4, 0),
    (2, 1, 4, 6, 4, 1),
    (3, 2, 8, 9, 7, 2),
    (4, 3, 10, 8, 8, 3),
    (6, 3, 12, 12, 12, 4),
    (5, 2, 7, 11, 7, 5),
])
def test_reduction_random(N, K, m, n, s0, seed):
    G, delta, Y = random_instance(N, K, m, n, s0, seed)
    assert s0 * (s0 + 1) // 2 > N * K  # otherwise the test is vacuous
    R = reduce_rank(G, Y)
    check_c1(G, delta, Y, R)
    assert R.ranks[0] == s0 and R.stop_reason == "bound"
    # generic G: the constraints are independent, so the reduction reaches exactly r_max(KN)
    assert R.rank == r_max(N * K)


def test_reduction_float32_input_roundtrip():
    G, delta, Y = random_instance(3, 1, 6, 5, 5, seed=9)
    R = reduce_rank(G.float(), Y.float())
    assert R.Y.dtype == torch.float32
    assert R.rank * (R.rank + 1) // 2 <= 3
    scale = max(1.0, float(R.outputs_before.abs().max()))
    assert float((R.outputs_after - R.outputs_before).abs().max()) <= 1e-10 * scale


def test_drops_numerically_zero_columns_first():
    """A factorisation padded with zero / duplicated columns is cleaned keeping Y Y^T."""
    G, delta, Y = random_instance(2, 2, 6, 6, 3, seed=21)
    Ypad = torch.cat([Y, torch.zeros(12, 2, dtype=torch.float64)], dim=1)
    R = reduce_rank(G, Ypad, target_rank=10)  # no reduction step, clean-up only
    assert R.ranks == [3] and R.steps == 0 and R.stop_reason == "target_rank"
    assert torch.allclose(R.Y @ R.Y.T, Y @ Y.T, rtol=0, atol=1e-12)
    # two copies of one column scaled by 1/sqrt2 have the same Gram: rank collapses to 3
    Ydup = torch.cat([Y[:, :1] / 2 ** 0.5, Y[:, :1] / 2 ** 0.5, Y[:, 1:]], dim=1)
    R = reduce_rank(G, Ydup, target_rank=10)
    assert R.ranks == [3]
    assert torch.allclose(R.Y @ R.Y.T, Y @ Y.T, rtol=0, atol=1e-12)


def test_zero_delta():
    G = torch.randn(2, 1, 3, 3, dtype=torch.float64)
    R = reduce_rank(G, torch.zeros(6, 2, dtype=torch.float64))
    assert R.rank == 0 and R.stop_reason == "zero"
    assert R.nuclear_after == 0.0 and float(R.outputs_after.abs().max()) == 0.0


def test_target_rank_stops_early():
    G, delta, Y = random_instance(2, 1, 8, 8, 8, seed=31)
    R = reduce_rank(G, Y, target_rank=5)
    assert R.rank == 5 and R.stop_reason == "target_rank"
    assert float((R.outputs_after - R.outputs_before).abs().max()) <= 1e-10 * max(
        1.0, float(R.outputs_before.abs().max()))


@pytest.mark.parametrize("r0,m,n", [(2, 2, 2), (2, 4, 5), (3, 5, 5), (4, 6, 7)])
def test_tightness_family_cannot_go_below_r0(r0, m, n):
    """T(r0): the convex optimum (1 - N lam) I_r0 (+) 0 has r0(r0+1)/2 = KN independent constraints;
    every interpolant has rank >= r0, so no reduction may go below r0 without losing outputs."""
    lam = 0.01
    T = tightness_family(r0, m, n)
    G = T.G[0]
    N = T.N
    assert N * lam < 1
    delta = torch.zeros(m, n, dtype=torch.float64)
    delta[:r0, :r0] = (1 - N * lam) * torch.eye(r0, dtype=torch.float64)
    Y = balanced_factors(delta[None], r0)[0]
    R = reduce_rank(G, Y, target_rank=r0 - 1)
    assert R.rank == r0 and R.stop_reason == "bound" and R.constraint_rank == N
    assert torch.allclose(R.outputs_after, R.outputs_before, rtol=0, atol=1e-12)

    # a redundant, higher-rank factorisation of a different interpolating point: the reduction
    # works, but stops at rank >= r0 and preserves all outputs
    g = torch.Generator().manual_seed(r0)
    extra = 3
    Ypad = torch.cat([Y, torch.randn(m + n, extra, generator=g, dtype=torch.float64)], dim=1)
    delta_pad = Ypad[:m] @ Ypad[m:].T
    R2 = reduce_rank(G, Ypad)
    assert R2.rank >= r0
    assert R2.rank * (R2.rank + 1) // 2 <= N
    scale = max(1.0, float(R2.outputs_before.abs().max()))
    assert float((R2.outputs_after - R2.outputs_before).abs().max()) <= 1e-10 * scale
    ref = np.einsum("ikab,ab->ik", G.numpy(), delta_pad.numpy())
    assert np.allclose(numpy_outputs(G, R2.Y, m), ref, rtol=0, atol=1e-10 * scale)
    # the reduced delta still has an invertible top-left block on the constrained r0 x r0 corner
    # whenever the input's outputs were those of I_r0 (here: rank of delta_final >= r0 anyway)
    assert R2.half_sq_norm_after <= R2.half_sq_norm_before * (1 + 1e-12)


def test_tightness_interpolant_rank_is_r0_after_reduction():
    """Start from the T(r0) optimum plus a null-output high-rank component on the free block:
    the reduction removes the extra rank but never goes below r0."""
    r0, m, n = 3, 7, 7
    T = tightness_family(r0, m, n)
    G = T.G[0]
    g = torch.Generator().manual_seed(5)
    delta = torch.zeros(m, n, dtype=torch.float64)
    delta[:r0, :r0] = 0.9 * torch.eye(r0, dtype=torch.float64)
    delta[r0:, r0:] = torch.randn(m - r0, n - r0, generator=g, dtype=torch.float64)
    s0 = int(torch.linalg.matrix_rank(delta))
    assert s0 == m
    Y = balanced_factors(delta[None], s0)[0]
    R = reduce_rank(G, Y)
    check_c1(G, delta, Y, R)
    final_delta = R.Y[:m] @ R.Y[m:].T
    assert int(torch.linalg.matrix_rank(final_delta)) == r0 == R.rank
    # the free block carried no outputs: the minimum-norm reduction discards it entirely
    assert R.nuclear_after == pytest.approx(0.9 * r0, rel=1e-9)


@st.composite
def c1_cases(draw):
    """(N, K, m, n, s0, seed) with s0 <= min(m, n) and s0(s0+1)/2 > KN (non-vacuous C1)."""
    N = draw(st.integers(1, 4))
    K = draw(st.integers(1, 3))
    s_min = r_max(N * K) + 1
    s0 = draw(st.integers(s_min, s_min + 2))
    m = draw(st.integers(s0, s0 + 3))
    n = draw(st.integers(s0, s0 + 3))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    return N, K, m, n, s0, seed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=c1_cases())
def test_reduction_property(case):
    N, K, m, n, s0, seed = case
    assert s0 * (s0 + 1) // 2 > N * K and s0 <= min(m, n)
    G, delta, Y = random_instance(N, K, m, n, s0, seed)
    R = reduce_rank(G, Y)
    check_c1(G, delta, Y, R)
    assert R.rank == r_max(N * K)
