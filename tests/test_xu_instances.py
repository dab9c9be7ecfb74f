"""Xu et al. (2025, reconstructed) instance builders and strategies: the construction is what it claims."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings, strategies as st

from lora_claims.strategies.xu import ALPHA_GRIDS, GAP, THETA_MAX, xu_draws
from lora_claims.strategies.xu_instances import (aligned_instance, gradient_at_zero, identity_factor, initial_point,
                                     instance_from_draw, invariant_subspace, m_singular_values, misalignment,
                                     pretrained_factor, random_init, spectral_init, target_with_angles,
                                     wrong_subspace_init, xu_instance)
from lora_claims.profiles import get_profile

CI = get_profile("ci")
BIG = {"max_dim": 16, "batch": 2}
ALL = ("A", "B", "B'")


def _np(t):
    return t.detach().cpu().double().numpy()


def principal_angles(A, B):
    """Principal angles (ascending) between col(A) and col(B), accurate for small AND large angles:
    theta_j = arctan2(sin_j, cos_j) with cos from svd(QA^T QB) and sin from svd(QB - QA QA^T QB).

    scipy.linalg.subspace_angles (1.17) picks arcsin/arccos per slot with a mask in the reversed order, so
    when angles > pi/4 are present a small angle goes through arccos and is off by up to ~1e-8
    (e.g. thetas (1.2, 1e-6) -> 1e-6 + 1.6e-10); the tests check scipy to 1e-7 and this to 1e-10.
    """
    QA, QB = scipy.linalg.orth(A, rcond=1e-10), scipy.linalg.orth(B, rcond=1e-10)
    if QA.shape[1] < QB.shape[1]:
        QA, QB = QB, QA
    cos = np.clip(np.linalg.svd(QA.T @ QB, compute_uv=False), 0.0, 1.0)          # descending
    sin = np.clip(np.linalg.svd(QB - QA @ (QA.T @ QB), compute_uv=False), 0.0, 1.0)  # descending
    return np.arctan2(sin[::-1], cos)  # ascending angles pair ascending sines with descending cosines


def _check_angles(A, B, thetas):
    assert np.allclose(principal_angles(A, B), np.sort(thetas), rtol=0, atol=1e-10)
    assert np.allclose(np.sort(scipy.linalg.subspace_angles(A, B)), np.sort(thetas), rtol=0, atol=1e-7)


def _col_cos(A, B):
    """|cos| between matching columns of A and B (2-D, unit columns)."""
    return np.abs(np.sum(A * B, axis=0))


# ------------------------------------------------------------------ pretrained factor

def test_factor_svd_and_orthonormality():
    gains = [1.4, 0.5, 0.9, 1.1]
    U, P, Q = pretrained_factor(9, 4, gains, seed=3, batch=3)
    assert U.shape == (3, 9, 4) and P.shape == (3, 9, 4) and Q.shape == (3, 4, 4)
    eye = torch.eye(4, dtype=torch.float64)
    assert torch.allclose(P.transpose(1, 2) @ P, eye, atol=1e-13)
    assert torch.allclose(Q.transpose(1, 2) @ Q, eye, atol=1e-13)
    assert torch.allclose(U, (P * torch.tensor(gains, dtype=torch.float64)) @ Q.transpose(1, 2), atol=1e-14)
    s = torch.linalg.svdvals(U)
    assert torch.allclose(s, torch.tensor(sorted(gains, reverse=True), dtype=torch.float64).expand(3, 4),
                          atol=1e-13)
    # U q_j = s_j p_j: column j of P is the left singular vector of gain j
    assert torch.allclose(U @ Q, P * torch.tensor(gains, dtype=torch.float64), atol=1e-13)


@pytest.mark.parametrize("m,h,rank", [(10, 6, 3), (5, 9, 2), (8, 8, 7)])
def test_rank_deficient_kernel(m, h, rank):
    gains = [1.0 + 0.05 * j for j in range(min(m, h))]
    U, P, Q = pretrained_factor(m, h, gains, seed=5, batch=2, rank=rank)
    assert P.shape == (2, m, rank) and Q.shape == (2, h, rank)
    for b in range(2):
        Ub = _np(U[b])
        assert np.linalg.matrix_rank(Ub, tol=1e-10) == rank
        ker = scipy.linalg.null_space(Ub, rcond=1e-10)
        assert ker.shape[1] == h - rank
        # kernel = row(U)^perp = col(Q)^perp
        assert np.abs(_np(Q[b]).T @ ker).max() < 1e-12
    # same seed: the same leading directions for every rank
    U2, P2, Q2 = pretrained_factor(m, h, gains, seed=5, batch=2)
    assert torch.equal(P2[:, :, :rank], P) and torch.equal(Q2[:, :, :rank], Q)


def test_factor_rejects_bad_gains():
    with pytest.raises(ValueError):
        pretrained_factor(4, 6, [1.0] * 5, seed=0)
    with pytest.raises(ValueError):
        pretrained_factor(6, 4, [1.0, 0.0, 1.0], seed=0)
    with pytest.raises(ValueError):
        pretrained_factor(6, 4, [1.0, 1.0], seed=0, rank=3)


# ------------------------------------------------------------------ targets

def test_principal_angles_equal_thetas_fixed():
    thetas = [0.3, 1.2, 0.0]
    sigmas = [4.0, 2.5, 1.0]
    U, P, _ = pretrained_factor(10, 5, [1.0, 0.7, 1.3, 0.6, 1.1], seed=1, batch=2)
    R0, G, W = target_with_angles(P, thetas, sigmas, 6, seed=2, return_factors=True)
    for b in range(2):
        _check_angles(_np(U[b]), _np(R0[b]), thetas)
        # the i-th construction angle is the angle between g_i and p_i
        assert np.allclose(_np(P[b])[:, :3].T @ _np(G[b]), np.diag(np.cos(thetas)), atol=1e-12)
        assert np.allclose(_np(G[b]).T @ _np(G[b]), np.eye(3), atol=1e-12)
        assert np.allclose(_np(W[b]).T @ _np(W[b]), np.eye(3), atol=1e-12)
        assert np.allclose(np.linalg.svd(_np(R0[b]), compute_uv=False)[:3], sigmas, atol=1e-12)


def test_angles_need_room():
    _, P, _ = pretrained_factor(5, 4, [1.0] * 4, seed=1)
    with pytest.raises(ValueError, match="m >= rank"):
        target_with_angles(P, [0.2, 0.1], [2.0, 1.0], 5, seed=2)   # 5 < 4 + 2
    R0 = target_with_angles(P, [0.0, 0.0], [2.0, 1.0], 5, seed=2)   # aligned: no room needed
    assert R0.shape == (1, 5, 5)
    _, P3, _ = pretrained_factor(5, 5, [1.0] * 5, seed=1, rank=3)
    with pytest.raises(ValueError, match="m >= rank"):
        target_with_angles(P3, [0.2, 0.2, 0.2], [4.0, 2.0, 1.0], 5, seed=2)  # m = 5 < 2k = 6
    with pytest.raises(ValueError):
        target_with_angles(P3, [0.0] * 4, [4.0, 3.0, 2.0, 1.0], 5, seed=2)   # k > rank U


def test_per_batch_thetas():
    _, P, _ = pretrained_factor(8, 3, [1.0, 1.0, 1.0], seed=4, batch=3)
    th = torch.tensor([[0.0], [0.4], [1.0]], dtype=torch.float64)
    R0 = target_with_angles(P, th, [2.0], 5, seed=9)
    U = P  # col(U) = col(P)
    mu = misalignment(U, R0)
    assert torch.allclose(mu, 1 - torch.cos(th[:, 0]), atol=1e-12)


# ------------------------------------------------------------------ misalignment

@pytest.mark.parametrize("theta", [0.0, 0.1, 0.7, THETA_MAX])
def test_misalignment_rank1_exact(theta):
    # gamma1 = g1 and P_U g1 = cos(theta) p1, so |cos angle(gamma1, P_U gamma1)| = cos(theta)
    inst = xu_instance(9, 5, 4, [0.6, 1.3, 1.0, 0.8], [3.0], [theta], seed=7, batch=3)
    mu = misalignment(inst.U, inst.R0)
    assert torch.allclose(mu, torch.full((3,), 1 - math.cos(theta), dtype=torch.float64), atol=1e-12)
    # the spec's literal U U^T gamma1 gives the same value on these instances
    assert torch.allclose(misalignment(inst.U, inst.R0, kind="UUt"), mu, atol=1e-12)


def test_misalignment_top_direction_only_and_aligned_zero():
    # rank-3 target: only theta_1 (the top direction) matters
    inst = xu_instance(12, 6, 5, [1.0, 0.9, 1.2, 0.7, 1.1], [5.0, 2.0, 1.0], [0.5, 1.3, 0.2], seed=8, batch=2)
    assert torch.allclose(misalignment(inst.U, inst.R0), torch.full((2,), 1 - math.cos(0.5), dtype=torch.float64),
                          atol=1e-12)
    al = aligned_instance(6, 5, 6, [1.0, 0.5, 1.4, 0.9, 1.2, 0.8], [3.0, 1.5], seed=8, batch=2)
    assert float(misalignment(al.U, al.R0).abs().max()) < 1e-12
    # orthogonal target: mu = 1
    orth = xu_instance(8, 5, 3, [1.0] * 3, [1.0], [math.pi / 2], seed=8)
    assert abs(float(misalignment(orth.U, orth.R0)[0]) - 1.0) < 1e-12
    # rank-deficient U: the projector ignores the zero gains
    bp = xu_instance(10, 5, 7, [1.0] * 7, [2.0, 1.0], [0.3, 0.9], seed=2, rank=4)
    assert abs(float(misalignment(bp.U, bp.R0)[0]) - (1 - math.cos(0.3))) < 1e-12


def test_aligned_instance_structure():
    gains, sigmas = [0.8, 1.3, 0.6, 1.0], [4.0, 2.0, 1.0]
    inst = aligned_instance(7, 6, 4, gains, sigmas, seed=11, batch=2)
    R0 = inst.R0
    # the target's left singular vectors are the first k columns of P
    assert torch.allclose(inst.G, inst.P[:, :, :3], atol=0)
    assert torch.allclose(R0, (inst.P[:, :, :3] * torch.tensor(sigmas, dtype=torch.float64)) @ inst.W.transpose(1, 2),
                          atol=1e-14)
    # M = sum_i s_i sigma_i q_i w_i^T (A4's decoupled modes)
    M = gradient_at_zero(inst.U, R0)
    ms = torch.tensor([g * s for g, s in zip(gains, sigmas)], dtype=torch.float64)
    assert torch.allclose(M, (inst.Q[:, :, :3] * ms) @ inst.W.transpose(1, 2), atol=1e-13)


# ------------------------------------------------------------------ initialisations

def test_spectral_S1_matches_numpy_svd():
    inst = xu_instance(12, 7, 5, [1.2, 0.6, 1.0, 0.9, 1.4], [6.0, 2.0, 1.0], [0.2, 0.6, 0.1], seed=21, batch=3)
    alpha = 1e-4
    for r in (1, 2, 3):
        Z1, Z2 = spectral_init(inst.U, inst.R0, r, alpha, kind="S1")
        assert Z1.shape == (3, 5, r) and Z2.shape == (3, 7, r)
        for b in range(3):
            M = _np(inst.U[b]).T @ _np(inst.R0[b])
            Un, sn, Vh = np.linalg.svd(M)
            assert np.allclose(_col_cos(_np(Z1[b]) / math.sqrt(alpha), Un[:, :r]), 1.0, atol=1e-10)
            assert np.allclose(_col_cos(_np(Z2[b]) / math.sqrt(alpha), Vh[:r].T), 1.0, atol=1e-10)
            assert np.allclose(_np(Z1[b] @ Z2[b].T), alpha * Un[:, :r] @ Vh[:r], atol=1e-13)
    Z1s, Z2s = spectral_init(inst.U, inst.R0, 2, alpha, kind="S1", sqrt_sigma=True)
    M = gradient_at_zero(inst.U, inst.R0)
    Um, sm, Vmh = torch.linalg.svd(M)
    assert torch.allclose(Z1s @ Z2s.transpose(1, 2), alpha * (Um[:, :, :2] * sm[:, None, :2]) @ Vmh[:, :2], atol=1e-13)


def test_spectral_S2_and_M_closed_form():
    gains, sigmas, thetas = [1.2, 0.6, 1.0, 0.9], [6.0, 2.0], [0.4, 0.3]
    inst = xu_instance(9, 6, 6, gains + [1.0, 1.0], sigmas, thetas, seed=5, batch=2, rank=4)  # B': rank 4 < h 6
    M = gradient_at_zero(inst.U, inst.R0)
    sv = torch.linalg.svdvals(M)[:, :2]
    exp = torch.tensor(sorted(m_singular_values(gains, sigmas, thetas), reverse=True), dtype=torch.float64)
    assert torch.allclose(sv, exp.expand(2, 2), atol=1e-12)
    Z1, Z2 = spectral_init(inst.U, inst.R0, 2, 1.0, kind="S2")
    A = torch.linalg.pinv(inst.U) @ inst.R0
    for b in range(2):
        Un, _, Vh = np.linalg.svd(_np(A[b]))
        assert np.allclose(_col_cos(_np(Z1[b]), Un[:, :2]), 1.0, atol=1e-10)
        assert np.allclose(_col_cos(_np(Z2[b]), Vh[:2].T), 1.0, atol=1e-10)
    # pinv(U) R0 = sum_i sigma_i cos(theta_i)/s_i q_i w_i^T
    exp2 = sorted([sg * math.cos(t) / g for g, sg, t in zip(gains, sigmas, thetas)], reverse=True)
    assert torch.allclose(torch.linalg.svdvals(A)[:, :2], torch.tensor(exp2, dtype=torch.float64).expand(2, 2),
                          atol=1e-12)


def test_random_init_scale_and_shared_G():
    h, n, r, B = 16, 12, 3, 200
    zs = {a: random_init(h, n, r, a, seed=13, batch=B) for a in (1e-2, 1e-4, 1e-8)}
    base1, base2 = zs[1e-2][0] / math.sqrt(1e-2), zs[1e-2][1] / math.sqrt(1e-2)
    for a, (Z1, Z2) in zs.items():
        assert torch.allclose(Z1 / math.sqrt(a), base1, rtol=1e-14, atol=0)  # the SAME G across alphas
        assert torch.allclose(Z2 / math.sqrt(a), base2, rtol=1e-14, atol=0)
        # E||Z1||_F^2 = alpha r: the batch average is within 5%
        ratio1 = float((Z1.flatten(1).norm(dim=1) ** 2).mean() / (a * r))
        ratio2 = float((Z2.flatten(1).norm(dim=1) ** 2).mean() / (a * r))
        assert 0.95 < ratio1 < 1.05 and 0.95 < ratio2 < 1.05
    # one alpha per row with a shared G
    al = torch.tensor([1e-2, 1e-4, 1e-6], dtype=torch.float64)
    Z1, Z2 = random_init(h, n, r, al, seed=13, batch=3, shared=True)
    g1 = random_init(h, n, r, 1.0, seed=13, batch=1)[0]
    assert torch.allclose(Z1, al.sqrt().reshape(3, 1, 1) * g1, rtol=1e-14, atol=0)
    assert not torch.equal(random_init(h, n, r, 1.0, seed=14)[0], g1)


def _field(U, R0, Z1, Z2):
    """Spec GF vector field: dZ1 = U^T E Z2, dZ2 = E^T U Z1 with E = R0 - U Z1 Z2^T."""
    E = R0 - U @ Z1 @ Z2.transpose(-2, -1)
    return U.transpose(-2, -1) @ E @ Z2, E.transpose(-2, -1) @ U @ Z1


def _loss(U, R0, Z1, Z2):
    return 0.5 * ((R0 - U @ Z1 @ Z2.transpose(-2, -1)) ** 2).sum(dim=(-2, -1))


@pytest.mark.parametrize("rank", [None, 3])
def test_wrong_subspace_init_invariant(rank):
    inst = xu_instance(10, 7, 6, [1.2, 0.6, 1.0, 0.9, 1.4, 0.7], [3.0, 1.0], [0.3, 0.8], seed=31, batch=2, rank=rank)
    Z1, Z2 = wrong_subspace_init(inst.U, inst.R0, 2, 1e-2)
    M = gradient_at_zero(inst.U, inst.R0)
    assert float((M.transpose(1, 2) @ Z1).abs().max()) < 1e-13 and float((M @ Z2).abs().max()) < 1e-13
    assert torch.allclose(Z1.transpose(1, 2) @ Z1, 1e-2 * torch.eye(2, dtype=torch.float64), atol=1e-15)
    for b in range(2):
        K = invariant_subspace(inst.U[b], M[b])
        assert K.shape[1] == 2  # col(M) = span(q_1, q_2) is U^T U-invariant
        assert float((K.T @ Z1[b]).abs().max()) < 1e-13
    # GF (Euler to t = 1) keeps M^T Z1 = 0 = M Z2 and the loss never drops below L0.  The set is a
    # saddle: rounding errors grow like exp(sigma_1(M) t), so only short horizons stay exact.
    L0 = _loss(inst.U, inst.R0, torch.zeros_like(Z1), torch.zeros_like(Z2))
    for _ in range(20):
        d1, d2 = _field(inst.U, inst.R0, Z1, Z2)
        Z1, Z2 = Z1 + 0.05 * d1, Z2 + 0.05 * d2
    assert float((M.transpose(1, 2) @ Z1).abs().max()) < 1e-11 and float((M @ Z2).abs().max()) < 1e-11
    assert bool((_loss(inst.U, inst.R0, Z1, Z2) >= L0 - 1e-12).all())


def test_wrong_subspace_needs_room():
    inst = xu_instance(8, 4, 4, [1.0] * 4, [3.0, 1.0], [0.0, 0.0], seed=1)
    with pytest.raises(ValueError, match="no room"):
        wrong_subspace_init(inst.U, inst.R0, 3, 1e-2)


def test_reading_a():
    P = identity_factor(6, seed=3, batch=2)
    assert torch.equal(P.U, torch.eye(6, dtype=torch.float64).expand(2, 6, 6))
    inst = xu_instance(6, 5, 6, None, [2.0, 1.0], [0.0, 0.0], seed=3, batch=2, variant="A")
    assert torch.allclose(gradient_at_zero(inst.U, inst.R0), inst.R0)
    assert float(misalignment(inst.U, inst.R0).abs().max()) < 1e-12
    with pytest.raises(ValueError):
        xu_instance(6, 5, 6, None, [1.0], [0.5], seed=3, variant="A")


def test_device_dtype_conversion():
    a = xu_instance(9, 5, 4, [1.0, 0.7, 1.2, 0.9], [2.0], [0.4], seed=3, batch=2)
    b = xu_instance(9, 5, 4, [1.0, 0.7, 1.2, 0.9], [2.0], [0.4], seed=3, batch=2, dtype=torch.float32)
    assert b.U.dtype == torch.float32 and torch.allclose(b.R0.double(), a.R0, atol=1e-6)
    z = random_init(4, 5, 2, 1e-4, seed=1, dtype=torch.float32)
    assert z[0].dtype == torch.float32


# ------------------------------------------------------------------ strategies

def _check_draw(d):
    assert json.loads(json.dumps(d)) == d
    k, r, m, n, h, q = d["k"], d["r"], d["m"], d["n"], d["h"], d["rank_u"]
    assert 1 <= k <= 3 and 1 <= r <= min(3, k)
    assert 4 <= min(m, n, h) and max(m, n, h) <= 16
    assert k <= q <= min(m, h) and len(d["gains"]) == q and len(d["sigmas"]) == k == len(d["thetas"])
    if d["variant"] == "A":
        assert h == m == q and d["gains"] == [1.0] * m and d["thetas"] == [0.0] * k
    else:
        assert m >= q + k and all(0.5 <= g <= 1.4 for g in d["gains"])
    if d["variant"] == "B":
        assert q == h <= m
    if d["variant"] == "B'":
        assert q < h and m >= 2 * k
    assert all(0.0 <= t <= THETA_MAX for t in d["thetas"])
    s = d["sigmas"]
    assert all(s[i] / s[i + 1] >= GAP for i in range(k - 1)) and s[-1] > 0
    mv = m_singular_values(d["gains"], s, d["thetas"])
    assert all(mv[i] / mv[i + 1] >= GAP * (1 - 1e-12) for i in range(k - 1))
    assert d["alphas"] == ALPHA_GRIDS[d["alpha_grid"]]


@settings(max_examples=40, deadline=None)
@given(xu_draws(BIG, variant=ALL))
def test_draws_preconditions_and_angles(d):
    _check_draw(d)
    inst = instance_from_draw(d)
    B = d["batch"]
    assert inst.U.shape == (B, d["m"], d["h"]) and inst.R0.shape == (B, d["m"], d["n"])
    for b in range(B):
        U, R0 = _np(inst.U[b]), _np(inst.R0[b])
        _check_angles(U, R0, d["thetas"])
        sv = np.linalg.svd(R0, compute_uv=False)
        assert np.allclose(sv[:d["k"]], d["sigmas"], rtol=1e-12) and np.all(sv[d["k"]:] < 1e-10 * sv[0])
        su = np.linalg.svd(U, compute_uv=False)
        assert np.allclose(su[:d["rank_u"]], sorted(d["gains"], reverse=True), atol=1e-12)
        assert np.all(su[d["rank_u"]:] < 1e-12)
    mu = misalignment(inst.U, inst.R0)
    assert torch.allclose(mu, torch.full((B,), 1 - math.cos(d["thetas"][0]), dtype=torch.float64), atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(xu_draws(CI, variant=ALL, wrong_room=True), st.sampled_from(["random", "S1", "S2", "N1"]))
def test_draws_reproduce_tensors(d, kind):
    _check_draw(d)
    assert d["h"] - d["k"] >= d["r"] and d["n"] - d["k"] >= d["r"]
    d2 = json.loads(json.dumps(d))
    a, b = instance_from_draw(d), instance_from_draw(d2)
    for x, y in zip(a, b):
        assert torch.equal(x, y)
    za, zb = initial_point(d, a, 1e-6, kind), initial_point(d2, b, 1e-6, kind)
    assert torch.equal(za[0], zb[0]) and torch.equal(za[1], zb[1])
    assert za[0].shape == (d["batch"], d["h"], d["r"]) and za[1].shape == (d["batch"], d["n"], d["r"])
    other = dict(d, seed=d["seed"] + 7)
    assert not torch.equal(instance_from_draw(other).R0, a.R0)


@settings(max_examples=25, deadline=None)
@given(xu_draws(CI, variant=("B", "B'"), aligned=False, r_mode="lt"))
def test_draws_misaligned_lt(d):
    _check_draw(d)
    assert d["r"] < d["k"] and min(d["thetas"]) >= 0.1


@settings(max_examples=15, deadline=None)
@given(xu_draws(CI, variant=("B", "B'"), aligned=True, alpha_grids=("bprime",)))
def test_draws_aligned(d):
    _check_draw(d)
    inst = instance_from_draw(d)
    assert float(misalignment(inst.U, inst.R0).abs().max()) < 1e-12
    assert d["alphas"] == [1e-1, 1e-2, 1e-3]


def test_draws_shrink_to_simplest():
    from hypothesis import find
    d = find(xu_draws(CI, variant=ALL), lambda d: True)
    assert d["variant"] == "A" and d["k"] == d["r"] == 1 and d["m"] == d["n"] == 4
    d = find(xu_draws(CI, variant=("B",)), lambda d: True)
    assert (d["k"], d["r"], d["h"], d["m"], d["n"]) == (1, 1, 4, 5, 4)
    assert d["thetas"] == [0.0] and d["gains"] == [1.0] * 4


def test_wrong_subspace_generic_krylov_fallback():
    # gamma1 mixes p_1 and p_2 (different gains): col(M) = span(s1 a q1 + s2 b q2) is NOT U^T U-invariant,
    # K = span(q1, q2) has dim 2 > rank M = 1, and Z1 must avoid all of K (not just col M)
    U, P, Q = pretrained_factor(8, 5, [1.3, 0.6, 1.0, 0.9, 0.8], seed=2, batch=1)
    _, _, W = target_with_angles(P, [0.0], [1.0], 6, seed=3, return_factors=True)
    g = (0.6 * P[:, :, 0] + 0.8 * P[:, :, 1]).unsqueeze(-1)
    R0 = 2.0 * g @ W.transpose(1, 2)
    M = gradient_at_zero(U, R0)
    K = invariant_subspace(U[0], M[0])
    assert K.shape[1] == 2 and float((K.T @ Q[0, :, 2:]).abs().max()) < 1e-12
    Z1, Z2 = wrong_subspace_init(U, R0, 2, 1e-2)
    assert float((K.T @ Z1[0]).abs().max()) < 1e-13 and float((M @ Z2).abs().max()) < 1e-13
    for _ in range(20):
        d1, d2 = _field(U, R0, Z1, Z2)
        Z1, Z2 = Z1 + 0.05 * d1, Z2 + 0.05 * d2
    assert float((M.transpose(1, 2) @ Z1).abs().max()) < 1e-11
    # the naive choice (left singular vectors of M beyond its rank) is not invariant here
    Um = torch.linalg.svd(M[0])[0][:, 1:3]
    assert float((K.T @ Um).abs().max()) > 1e-3


def test_tie_top_two_removes_only_the_top_gap():
    from lora_claims.strategies.xu import tie_top_two
    d = {"variant": "A", "k": 3, "sigmas": [3.0, 2.0, 1.0], "seed": 5}
    t = tie_top_two(d)
    assert t["sigmas"] == [3.0, 3.0, 1.0] and d["sigmas"] == [3.0, 2.0, 1.0]
    assert {k: v for k, v in t.items() if k != "sigmas"} == {k: v for k, v in d.items() if k != "sigmas"}
    # Reading A: M = R0, so the top two singular values of M tie exactly
    inst = instance_from_draw(dict(d, **t, m=5, n=4, h=5, rank_u=5, gains=[1.0] * 5, thetas=[0.0] * 3,
                                   r=1, batch=1))
    s = torch.linalg.svdvals(inst.R0)[0]
    assert abs(float(s[0] - s[1])) <= 1e-12 and float(s[1] - s[2]) > 1.0
    with pytest.raises(ValueError):
        tie_top_two(dict(d, variant="B"))
