"""Quantities of the Barvinok–Pataki rank reduction checked against closed forms and numpy.

Jang, Lee, Ryu 2024, Theorem 3.1 (Barvinok–Pataki reduction): the reduced factorisation keeps
every output <G_ik, A B^T>, does not increase the nuclear norm, and has rank <= r_max(KN).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lora_claims.theorems.numerics.rank_reduction import (RANK_TOL, RankReduction, full_column_rank,
                                                          rank_bound, reduce_rank, smat, svec)

F64 = torch.float64
SQRT2 = math.sqrt(2.0)


# ----------------------------------------------------------------------------- independent helpers

def r_max_closed(KN: int) -> int:
    """Largest r with r(r+1)/2 <= KN: floor((sqrt(8 KN + 1) - 1) / 2), in exact integer arithmetic."""
    return (math.isqrt(8 * KN + 1) - 1) // 2


def np_svec(X: np.ndarray) -> np.ndarray:
    s = X.shape[0]
    return np.array([X[j, l] * (1.0 if j == l else SQRT2) for j in range(s) for l in range(j, s)])


def np_smat(x: np.ndarray, s: int) -> np.ndarray:
    X = np.zeros((s, s))
    k = 0
    for j in range(s):
        for l in range(j, s):
            X[j, l] = X[l, j] = x[k] / (1.0 if j == l else SQRT2)
            k += 1
    return X


def np_constraints(G: np.ndarray, Y: np.ndarray, m: int) -> np.ndarray:
    """Rows svec(sym(A^T G_ik B)), built with numpy loops (no shared code with the module)."""
    A, B = Y[:m], Y[m:]
    rows = []
    for i in range(G.shape[0]):
        for k in range(G.shape[1]):
            M = A.T @ G[i, k] @ B
            rows.append(np_svec(0.5 * (M + M.T)))
    return np.array(rows).reshape(len(rows), -1)


def np_outputs(G: np.ndarray, Y: np.ndarray, m: int) -> np.ndarray:
    delta = Y[:m] @ Y[m:].T
    return np.array([[float(np.sum(G[i, k] * delta)) for k in range(G.shape[1])] for i in range(G.shape[0])])


def np_nuclear(Y: np.ndarray, m: int) -> float:
    if Y.shape[1] == 0:
        return 0.0
    return float(np.linalg.svd(Y[:m] @ Y[m:].T, compute_uv=False).sum())


def np_balanced(delta: np.ndarray, s: int) -> np.ndarray:
    U, S, Vt = np.linalg.svd(delta)
    root = np.sqrt(S[:s])
    return np.vstack([U[:, :s] * root, Vt[:s].T * root])


def random_case(N, K, m, n, s0, seed, g_scale=1.0):
    rng = np.random.default_rng(seed)
    G = g_scale * rng.standard_normal((N, K, m, n))
    delta = rng.standard_normal((m, s0)) @ rng.standard_normal((s0, n))
    Y = np_balanced(delta, s0)
    return G, delta, Y


def T(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=F64)


def diag_Y(a) -> torch.Tensor:
    """Y = [diag(a); diag(a)]: balanced, orthogonal columns, singular values sqrt(2) * a."""
    A = torch.diag(torch.tensor(a, dtype=F64))
    return torch.cat([A, A])


def G_from_cores(cores, a) -> torch.Tensor:
    """G_k with A^T G_k B = cores[k] for A = B = diag(a) (so <G_k, A D B^T> = <cores[k], D>)."""
    a = torch.tensor(a, dtype=F64)
    M = torch.stack([torch.tensor(c, dtype=F64) for c in cores])
    return (M / (a[:, None] * a[None, :]))[:, None]


def check_theorem(G: np.ndarray, Y0: np.ndarray, R: RankReduction, rel=1e-10, complete=True):
    """The Thm 3.1 guarantees, each recomputed with numpy from G, the input and R.Y
    (the rank bound only for a run that was not cut short by max_steps / target_rank)."""
    N, K, m, _ = G.shape
    Y1 = R.Y.numpy()
    ref = np_outputs(G, Y0, m)
    scale = max(1.0, float(np.abs(ref).max()))
    assert np.abs(np_outputs(G, Y1, m) - ref).max() <= rel * scale
    assert R.rank == Y1.shape[1]
    if complete:
        assert R.rank <= r_max_closed(N * K)
    nuc0, nuc1 = np_nuclear(Y0, m), np_nuclear(Y1, m)
    assert R.nuclear_before == pytest.approx(nuc0, rel=1e-12)
    assert R.nuclear_after == pytest.approx(nuc1, rel=1e-10, abs=1e-14)
    assert nuc1 <= nuc0 * (1 + 1e-12)
    assert R.half_sq_norm_before == pytest.approx(0.5 * float((Y0 ** 2).sum()), rel=1e-14)
    assert R.half_sq_norm_after == pytest.approx(0.5 * float((Y1 ** 2).sum()), rel=1e-14, abs=1e-300)
    assert R.steps == len(R.history) == len(R.ranks) - 1
    assert all(a > b for a, b in zip(R.ranks, R.ranks[1:])) and R.ranks[-1] == R.rank


# ----------------------------------------------------------------------------- dataclass and helpers

def test_dataclass_defaults_and_rank_property():
    Y = torch.zeros(4, 3, dtype=F64)
    kw = dict(Y=Y, ranks=[3], outputs_before=torch.zeros(1, 1, dtype=F64),
              outputs_after=torch.zeros(1, 1, dtype=F64), nuclear_before=0.0, nuclear_after=0.0,
              half_sq_norm_before=0.0, half_sq_norm_after=0.0)
    R, R2 = RankReduction(**kw), RankReduction(**kw)
    assert (R.initial_rank, R.steps, R.stop_reason, R.constraint_rank) == (0, 0, "", -1)
    assert type(R.constraint_rank) is int and type(R.steps) is int
    assert R.history == [] and R.history is not R2.history
    assert R.tol == RANK_TOL == 1e-12
    assert R.rank == 3


def test_rank_bound_closed_form():
    for KN in range(0, 200):
        r = rank_bound(KN)
        assert r == r_max_closed(KN)
        assert r * (r + 1) // 2 <= KN < (r + 1) * (r + 2) // 2


def test_svec_smat_hand_values():
    X = torch.tensor([[1.0, 2.0, -1.0], [2.0, 3.0, 0.5], [-1.0, 0.5, 4.0]], dtype=F64)
    expect = [1.0, 2 * SQRT2, -SQRT2, 3.0, 0.5 * SQRT2, 4.0]
    assert torch.allclose(svec(X), torch.tensor(expect, dtype=F64), rtol=1e-15, atol=0)
    assert torch.allclose(smat(torch.tensor(expect, dtype=F64), 3), X, rtol=1e-15, atol=0)
    # diagonal weights are exactly 1
    assert svec(torch.eye(3, dtype=F64)).tolist() == [1.0, 0.0, 0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize("before,after,expect", [
    ([[0.5, -0.25]], [[0.5, -0.2]], 0.05),             # max |out| < 1: scale is 1
    ([[1.5, -0.5]], [[1.5, -0.4]], 0.1 / 1.5),         # 1 < max |out| < 2: scale is 1.5
    ([[4.0, -8.0]], [[4.5, -8.0]], 0.5 / 8.0),         # max |out| > 2: scale is 8
    ([[3.0, 2.0]], [[3.0, 2.0]], 0.0),
])
def test_output_error_closed_form(before, after, expect):
    kw = dict(Y=torch.zeros(2, 0, dtype=F64), ranks=[0], nuclear_before=0.0, nuclear_after=0.0,
              half_sq_norm_before=0.0, half_sq_norm_after=0.0)
    R = RankReduction(outputs_before=torch.tensor(before, dtype=F64),
                      outputs_after=torch.tensor(after, dtype=F64), **kw)
    err = R.output_error
    assert isinstance(err, float)
    assert err == pytest.approx(expect, rel=1e-12, abs=1e-300)
    empty = RankReduction(outputs_before=torch.zeros(0, 1, dtype=F64),
                          outputs_after=torch.zeros(0, 1, dtype=F64), **kw)
    assert empty.output_error == 0.0


def test_rank_gap_closed_form():
    Y = torch.zeros(5, 3, dtype=F64)
    Y[0, 1], Y[2, 0], Y[4, 2] = 3.0, 2.0, 1.0        # singular values 3, 2, 1 (distinct)
    kw = dict(ranks=[3], outputs_before=torch.zeros(1, 1, dtype=F64),
              outputs_after=torch.zeros(1, 1, dtype=F64), nuclear_before=0.0, nuclear_after=0.0,
              half_sq_norm_before=0.0, half_sq_norm_after=0.0)
    R = RankReduction(Y=Y, tol=0.1, **kw)
    for r, sig in [(0, 3.0), (1, 2.0), (2, 1.0), (3, 0.0), (7, 0.0)]:
        gap, thr = R.rank_gap(r)
        assert gap == pytest.approx(sig, rel=1e-14) and thr == pytest.approx(0.3, rel=1e-14)
    assert R.rank_gap(2)[0] > R.rank_gap(2)[1] and R.rank_gap(3)[0] <= R.rank_gap(3)[1]
    E = RankReduction(Y=torch.zeros(5, 0, dtype=F64), **kw)
    assert E.rank_gap(0) == (0.0, 0.0) and E.rank_gap(2) == (0.0, 0.0)


# ----------------------------------------------------------------------------- full_column_rank

def test_full_column_rank_exact_thresholds():
    def diag5(vals):
        Y = torch.zeros(5, len(vals), dtype=F64)
        for i, v in enumerate(vals):
            Y[[1, 3, 0][i], i] = v
        return Y

    Y = diag5([1.0, 0.5])                        # sigma_max == 1 exactly: keeps both columns
    Z = full_column_rank(Y)
    assert Z.shape == (5, 2) and torch.allclose(Z @ Z.T, Y @ Y.T, rtol=0, atol=1e-15)
    Y = diag5([2.0, 1.0])                        # sigma_2 == tol * sigma_1 exactly: dropped
    assert full_column_rank(Y, 0.5).shape == (5, 1)
    assert full_column_rank(Y, 0.5 - 2 ** -20).shape == (5, 2)
    Y = diag5([4.0, 0.2])                        # threshold is tol * sigma_1 = 0.4, not tol / sigma_1
    assert full_column_rank(Y, 0.1).shape == (5, 1)
    assert full_column_rank(Y, 0.04).shape == (5, 2)
    assert full_column_rank(torch.zeros(5, 2, dtype=F64)).shape == (5, 0)
    assert full_column_rank(torch.zeros(5, 0, dtype=F64)).shape == (5, 0)
    assert full_column_rank(torch.zeros(5, 1, dtype=F64)).shape == (5, 0)     # one zero column: dropped
    y = diag5([3.0])
    assert torch.equal(full_column_rank(y).abs(), y.abs())                     # one column: kept, up to sign
    # the same clean-up seen through reduce_rank (K N = 6, no reduction needed)
    G = torch.ones(3, 2, 2, 3, dtype=F64)
    Y = diag5([2.0, 1.0])
    assert reduce_rank(G, Y, tol=0.5).ranks[0] == 1
    assert reduce_rank(G, Y, tol=0.25).ranks[0] == 2
    assert reduce_rank(G, diag5([1.0, 0.5])).ranks[0] == 2


# ----------------------------------------------------------------------------- branches of reduce_rank

def test_svec_of_a_stack_is_the_stack_of_svecs():
    """svec acts on the last two dimensions (..., s, s), whatever the leading ones."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((2, 3, 4, 4))
    X = X + X.swapaxes(-1, -2)
    got = svec(T(X)).numpy()
    assert got.shape == (2, 3, 10)
    for i in range(2):
        for j in range(3):
            assert np.allclose(got[i, j], np_svec(X[i, j]), rtol=0, atol=1e-15)


def test_bad_tolerance_and_step_budget_raise():
    G, _, Y = random_case(2, 1, 4, 4, 3, seed=1)
    for tol in (0.0, -1e-12, float("nan")):
        with pytest.raises(ValueError, match="tol must be positive"):
            reduce_rank(T(G), T(Y), tol=tol)
    with pytest.raises(ValueError, match="max_steps must be >= 0, got -1"):
        reduce_rank(T(G), T(Y), max_steps=-1)


def test_wrong_shapes_raise():
    G = torch.zeros(2, 1, 3, 4, dtype=F64)
    for rows in (6, 8, 0):
        with pytest.raises(ValueError, match=rf"Y has {rows} rows, expected m\+n = 7$"):
            reduce_rank(G, torch.ones(rows, 2, dtype=F64))
    for bad in (G[0], G.unsqueeze(0)):                 # 3-D and 5-D G: the shape message, not an unpacking error
        with pytest.raises(ValueError, match="G must have shape"):
            reduce_rank(bad, torch.ones(7, 2, dtype=F64))
    for bad in (torch.ones(1, 7, 2, dtype=F64), torch.ones(7, dtype=F64)):      # 3-D and 1-D Y
        with pytest.raises(ValueError, match="Y must have shape"):
            reduce_rank(G, bad)
    G[0, 0, 0, 0] = 1.0
    R = reduce_rank(G, torch.ones(7, 1, dtype=F64))
    assert (R.rank, R.stop_reason) == (1, "bound")


def test_empty_and_zero_factor():
    rng = np.random.default_rng(0)
    G = T(rng.standard_normal((2, 1, 3, 4)))
    R = reduce_rank(G, torch.zeros(7, 0, dtype=F64))
    assert (R.rank, R.ranks, R.steps, R.stop_reason, R.initial_rank, R.constraint_rank) == (0, [0], 0, "zero", 0, -1)
    assert R.nuclear_before == R.nuclear_after == 0.0 and R.output_error == 0.0
    assert R.rank_gap(0) == (0.0, 0.0)
    R = reduce_rank(G, torch.zeros(7, 3, dtype=F64))
    assert (R.rank, R.ranks, R.stop_reason, R.initial_rank) == (0, [0], "zero", 3)
    assert R.outputs_before.shape == (2, 1) and float(R.outputs_after.abs().max()) == 0.0
    assert R.nuclear_before == 0.0 and R.half_sq_norm_before == 0.0


def test_no_constraint_computed_keeps_sentinel():
    G, delta, Y = random_case(2, 1, 4, 4, 4, seed=1)
    R = reduce_rank(T(G), T(Y), target_rank=4)
    assert (R.steps, R.ranks, R.stop_reason, R.constraint_rank) == (0, [4], "target_rank", -1)
    R = reduce_rank(T(G), T(Y), max_steps=0)
    assert (R.steps, R.ranks, R.stop_reason, R.constraint_rank) == (0, [4], "max_steps", -1)
    assert np.allclose(R.Y.numpy() @ R.Y.numpy().T, Y @ Y.T, rtol=0, atol=1e-12)


@pytest.mark.parametrize("N,K,m,n,s0,seed,g_scale", [
    (1, 1, 3, 3, 3, 0, 1.0),
    (2, 1, 4, 4, 4, 1, 0.05),     # small outputs (max |out| < 1)
    (1, 3, 4, 5, 4, 2, 3.0),
    (2, 3, 5, 5, 5, 3, 1.0),
])
def test_generic_reduction_reaches_bound(N, K, m, n, s0, seed, g_scale):
    G, delta, Y = random_case(N, K, m, n, s0, seed, g_scale)
    KN = N * K
    R = reduce_rank(T(G), T(Y))
    check_theorem(G, Y, R)
    r = r_max_closed(KN)
    assert R.rank == r and R.stop_reason == "bound" and R.ranks[0] == s0 == R.initial_rank
    assert R.steps >= 1
    d = r * (r + 1) // 2
    Y1 = R.Y.numpy()
    assert R.constraint_rank == np.linalg.matrix_rank(np_constraints(G, Y1, m)) == min(KN, d)
    for h in R.history:
        db = h["s_before"] * (h["s_before"] + 1) // 2
        assert h["null_dim"] == db - min(KN, db) and h["s_after"] < h["s_before"]
    ref = np_outputs(G, Y, m)
    err = np.abs(np_outputs(G, Y1, m) - ref).max() / max(1.0, np.abs(ref).max())
    assert R.output_error == pytest.approx(err, rel=0.5, abs=1e-15) and R.output_error < 1e-12
    sv = np.linalg.svd(Y1, compute_uv=False)
    for q in range(r + 2):
        gap, thr = R.rank_gap(q)
        assert gap == pytest.approx(sv[q] if q < len(sv) else 0.0, rel=1e-12)
        assert thr == pytest.approx(RANK_TOL * sv[0], rel=1e-12)
        assert (gap <= thr) == (q >= r)
    # use_constraint_rank=False with independent constraints: the same bound
    R2 = reduce_rank(T(G), T(Y), use_constraint_rank=False)
    check_theorem(G, Y, R2)
    assert R2.rank == r and R2.stop_reason == "bound"


def test_at_or_below_bound_is_left_alone():
    G, delta, Y = random_case(3, 2, 4, 4, 2, seed=4)         # KN = 6, s = 2: d = 3 <= 6
    R = reduce_rank(T(G), T(Y))
    check_theorem(G, Y, R)
    assert (R.steps, R.ranks, R.stop_reason, R.constraint_rank) == (0, [2], "bound", 3)
    assert np.allclose(R.Y.numpy() @ R.Y.numpy().T, Y @ Y.T, rtol=0, atol=1e-12)
    R = reduce_rank(T(G), T(Y), use_constraint_rank=False)
    assert (R.steps, R.ranks, R.stop_reason, R.constraint_rank) == (0, [2], "bound", -1)


def test_target_rank():
    G, delta, Y = random_case(2, 1, 5, 6, 5, seed=7)         # KN = 2, r_max = 1
    for target, expect, reason in [(3, 3, "target_rank"), (0, 1, "bound"), (7, 5, "target_rank")]:
        R = reduce_rank(T(G), T(Y), target_rank=target)
        ref = np_outputs(G, Y, 5)
        assert np.abs(np_outputs(G, R.Y.numpy(), 5) - ref).max() <= 1e-10 * max(1.0, np.abs(ref).max())
        assert (R.rank, R.stop_reason) == (expect, reason)
        assert R.nuclear_after <= R.nuclear_before * (1 + 1e-12)


@pytest.mark.parametrize("s0", [2, 3, 4, 5])
def test_use_constraint_rank_on_dependent_constraints(s0):
    """All KN = 6 gradients equal: the constraint matrix has rank 1, the KN bound allows rank 3."""
    rng = np.random.default_rng(10 + s0)
    m = n = 5
    G = np.broadcast_to(rng.standard_normal((m, n)), (3, 2, m, n)).copy()
    Y = np_balanced(rng.standard_normal((m, s0)) @ rng.standard_normal((s0, n)), s0)
    R = reduce_rank(T(G), T(Y), use_constraint_rank=False)
    check_theorem(G, Y, R)
    assert R.stop_reason == "bound"
    if s0 <= 3:                                   # s(s+1)/2 <= KN already: nothing to do
        assert (R.rank, R.steps, R.constraint_rank) == (s0, 0, -1)
    else:
        assert R.rank == r_max_closed(6) == 3
    R = reduce_rank(T(G), T(Y))                   # numerical constraint rank 1: down to rank 1
    check_theorem(G, Y, R)
    assert np.linalg.matrix_rank(np_constraints(G, Y, m)) == 1
    assert (R.rank, R.stop_reason, R.constraint_rank) == (1, "bound", 1)


@pytest.mark.parametrize("tol,rank,crank", [(1e-8, 2, 3), (1e-5, 1, 1)])
def test_constraint_rank_tolerance_both_sides(tol, rank, crank):
    """Cores E11/2, E12 + E21, eps E22 on Y = [diag(a); diag(a)]: the constraint singular values
    are sqrt 2, 1/2, eps; eps counts as zero iff eps <= tol * sqrt 2."""
    eps, a = 1e-6, [1.0, 0.5]
    G = G_from_cores([[[0.5, 0.0], [0.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, eps]]], a)
    Y = diag_Y(a)
    R = reduce_rank(G, Y, tol=tol)
    assert (R.rank, R.constraint_rank, R.stop_reason) == (rank, crank, "bound")
    out0 = np_outputs(G.numpy(), Y.numpy(), 2)
    assert np.allclose(out0.ravel(), [0.5, 0.0, eps], rtol=1e-14, atol=1e-20)
    # dropping the eps-constraint loses exactly the eps output (max |out| = 1/2 < 1: scale 1)
    expect_err = 0.0 if rank == 2 else eps
    assert R.output_error == pytest.approx(expect_err, rel=1e-9, abs=1e-22)
    got = np_outputs(G.numpy(), R.Y.numpy(), 2).ravel()
    assert np.allclose(got, [0.5, 0.0, eps if rank == 2 else 0.0], rtol=1e-12, atol=1e-22)
    assert R.nuclear_after <= R.nuclear_before * (1 + 1e-12)


@pytest.mark.parametrize("c", [1e-3, 1e3])
@pytest.mark.parametrize("tol", [1e-8, 1e-5])
def test_constraint_rank_is_scale_invariant(c, tol):
    """The constraint rank is relative (tol * sigma_max): scaling every gradient by c changes no decision
    (the instance of the test above: sigma = sqrt 2 c, c / 2, 1e-6 c)."""
    a = [1.0, 0.5]
    G = G_from_cores([[[0.5, 0.0], [0.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 1e-6]]], a)
    Y = diag_Y(a)
    ref, R = reduce_rank(G, Y, tol=tol), reduce_rank(c * G, Y, tol=tol)
    assert (R.rank, R.constraint_rank, R.stop_reason, R.ranks) == (ref.rank, ref.constraint_rank,
                                                                  ref.stop_reason, ref.ranks)


# ----------------------------------------------------------------------------- the reduction step

def test_fallback_when_projection_vanishes():
    """Cores E11, E22 on Y = [diag(a); diag(a)]: the null space is the off-diagonal direction,
    exactly orthogonal to svec(Y^T Y); the step must still use that null vector."""
    for a in ([1.0, 0.5], [0.5, 1.0], [2.0, 1.0]):
        G = G_from_cores([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 1.0]]], a)
        Y = diag_Y(a)
        R = reduce_rank(G, Y)
        check_theorem(G.numpy(), Y.numpy(), R, rel=1e-14)
        assert (R.rank, R.ranks, R.steps, R.stop_reason) == (1, [2, 1], 1, "bound")
        h = R.history[0]
        # Delta = +-(E12 + E21)/2: eigenvalues +-1/sqrt2, t = sqrt2, no change of 1/2||Y||^2
        assert h["null_dim"] == 1 and h["lambda_min"] == pytest.approx(-1 / SQRT2, rel=1e-14)
        assert h["t"] == pytest.approx(SQRT2, rel=1e-14) and h["trace_change"] == 0.0
        assert R.nuclear_after == pytest.approx(sum(v * v for v in a), rel=1e-14)
        assert R.half_sq_norm_after == pytest.approx(R.half_sq_norm_before, rel=1e-14)


@pytest.mark.parametrize("dlt", [3e-9, -3e-9, 3e-8, -3e-8])
@pytest.mark.parametrize("a", [[1.0, 0.5], [0.5, 1.0]])
def test_step_orientation_near_vanishing_projection(dlt, a):
    """Cores [[1, -dlt/sqrt2], [-dlt/sqrt2, 0]] and E22: one null vector u ~ (dlt, 1, 0), with
    |<u, svec(Y^T Y)>| / ||Y^T Y||_F between 7e-10 and 3e-8 (both sides of the 1e-8 switch).
    Whatever branch, the step must not increase 1/2||Y||_F^2; closed form of the change."""
    c = -dlt / SQRT2
    G = G_from_cores([[[1.0, c], [c, 0.0]], [[0.0, 0.0], [0.0, 1.0]]], a)
    Y = diag_Y(a)
    R = reduce_rank(G, Y)
    check_theorem(G.numpy(), Y.numpy(), R)
    assert R.ranks == [2, 1]
    w = np_svec(Y.numpy().T @ Y.numpy())
    C = np_constraints(G.numpy(), Y.numpy(), 2)
    u = np.linalg.svd(C)[2][2]
    assert np.abs(C @ u).max() < 1e-14
    x = -np.sign(u @ w) * u
    t = -1.0 / np.linalg.eigvalsh(np_smat(x, 2)).min()
    change = 0.5 * t * float(x @ w)
    assert change < -5e-10
    h = R.history[0]
    assert h["trace_change"] == pytest.approx(change, rel=1e-6)
    assert h["t"] == pytest.approx(t, rel=1e-12)
    assert R.half_sq_norm_after - R.half_sq_norm_before == pytest.approx(change, rel=1e-5)
    assert R.half_sq_norm_after < R.half_sq_norm_before
    assert R.nuclear_after < R.nuclear_before


def test_first_step_is_steepest_null_direction():
    """One step on a generic instance, recomputed in numpy in the input's own coordinates
    (svec, null spaces and spectra are invariant under the module's column rotation)."""
    N, K, m, n, s0 = 1, 2, 4, 5, 3
    G, delta, Y = random_case(N, K, m, n, s0, seed=5)
    R = reduce_rank(T(G), T(Y), max_steps=1)
    check_theorem(G, Y, R, complete=False)
    assert (R.ranks, R.steps, R.stop_reason) == ([3, 2], 1, "max_steps")
    C = np_constraints(G, Y, m)
    crank = np.linalg.matrix_rank(C)
    assert crank == 2
    null = np.linalg.svd(C)[2][crank:]
    w = np_svec(Y.T @ Y)
    p = null.T @ (null @ w)
    x = -p / np.linalg.norm(p)
    lam = np.linalg.eigvalsh(np_smat(x, s0)).min()
    t = -1.0 / lam
    change = 0.5 * t * float(x @ w)
    h = R.history[0]
    assert h["null_dim"] == 6 - crank
    assert h["lambda_min"] == pytest.approx(lam, rel=1e-10)
    assert h["t"] == pytest.approx(t, rel=1e-10)
    assert h["trace_change"] == pytest.approx(change, rel=1e-10)
    assert change < 0
    assert R.half_sq_norm_after - R.half_sq_norm_before == pytest.approx(change, rel=1e-9)
    assert h["residual"] <= 1e-12 * max(1.0, np.abs(C).max())


@pytest.mark.parametrize("tol,ranks", [(1e-3, [3, 1, 0]), (1e-6, [3, 2, 1, 0])])
def test_zero_gradients_drop_columns_by_tolerance(tol, ranks):
    """G = 0: no constraints, the steepest null direction is -Y^T Y, and a step maps the squared
    singular values sigma^2 -> sigma^2 (1 - sigma^2 / sigma_max^2).  With sigma^2 = 2 (1, 0.9999, 1/4)
    the second scale is 1e-4 against a largest scale 3/4: dropped for tol = 1e-3, kept for 1e-6."""
    G = torch.zeros(1, 1, 3, 3, dtype=F64)
    Y = diag_Y([1.0, math.sqrt(0.9999), 0.5])
    R = reduce_rank(G, Y, tol=tol)
    assert (R.ranks, R.stop_reason, R.steps, len(R.history)) == (ranks, "zero", len(ranks) - 1, len(ranks) - 1)
    assert R.rank == 0 and R.nuclear_after == 0.0 and R.constraint_rank == 0
    assert R.history[0]["null_dim"] == 6 and R.history[-1]["null_dim"] == 1
    # first step: t = ||sigma^2|| / sigma_max^2, change of 1/2||Y||^2 = -(t/2) ||sigma^2||
    sig2 = 2 * np.array([1.0, 0.9999, 0.25])
    t = np.linalg.norm(sig2) / sig2.max()
    assert R.history[0]["t"] == pytest.approx(t, rel=1e-12)
    assert R.history[0]["trace_change"] == pytest.approx(-0.5 * t * np.linalg.norm(sig2), rel=1e-12)
    R = reduce_rank(G, Y, tol=tol, use_constraint_rank=False)    # KN = 1: stop at rank 1
    assert R.rank == 1 and R.stop_reason == "bound" and R.ranks == ranks[:-1]


def test_no_outputs_reduces_to_zero():
    """K N = 0 (no outputs): r_max(0) = 0, every step is free, Y reduces to rank 0 (it crashed before:
    the step history took max() of an empty residual)."""
    G = torch.zeros(0, 1, 3, 3, dtype=F64)
    R = reduce_rank(G, diag_Y([1.0, 0.7, 0.5]))
    assert R.rank == 0 == r_max_closed(0) and R.output_error == 0.0
    assert R.history and all(h["residual"] == 0.0 for h in R.history)   # no constraint, no residual
