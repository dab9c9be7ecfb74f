"""Kim, Kim, Ryu (2025) instance families (losses.py: WeightedQuadratic, MatrixSensing,
LogisticMatrix, ScalarFeatureLoss; strategies/kim_instances.py) against torch.autograd,
brute-force RSC/RSM estimates, independent numpy computations and the spec's NC1 numbers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lora_claims.strategies.kim_instances import (NC1_LAM, NC1_R, glogit, gquad, gsense, nc1_points, nc1_quartic,
                                      regime)
from lora_claims.theorems.numerics.certificate import spectral_ratio
from lora_claims.theorems.numerics.convex_oracle import convex_optimum, nuclear_norm
from lora_claims.theorems.numerics.lora import LoRAObjective, balanced_factors
from lora_claims.theorems.numerics.losses import ScalarFeatureLoss

F64 = torch.float64
TOL = 1e-10



def random_scalar_feature(seed):
    g = torch.Generator().manual_seed(seed)
    G = torch.randn(2, 2, 3, generator=g, dtype=F64)
    return ScalarFeatureLoss(G, c=torch.tensor([0.05, 0.3], dtype=F64), a=torch.tensor([-0.2, 0.4], dtype=F64))


BUILDERS = {
    "gquad": lambda s: gquad(3, 4, 5.0, s, batch=2, target_rank=2),
    "gquad-logu": lambda s: gquad(4, 2, 30.0, s, batch=2, weights="log-uniform", target_scale=3.0),
    "gsense": lambda s: gsense(2, 3, 9, s, batch=2, target_rank=1, noise=0.1),
    "glogit": lambda s: glogit(3, 3, 15, 0.1, s, batch=2),
    "nc1": lambda s: nc1_quartic(batch=2),
    "scalar-feature": random_scalar_feature,
}


def rand_rank(Bsz, m, n, r, g, scale=1.0):
    return scale * torch.randn(Bsz, m, r, generator=g, dtype=F64) @ torch.randn(Bsz, r, n, generator=g, dtype=F64)


def unit_rank1(Bsz, k, g):
    U = torch.randn(Bsz, k, 1, generator=g, dtype=F64) @ torch.randn(Bsz, 1, k, generator=g, dtype=F64)
    return U / U.flatten(1).norm(dim=1).view(-1, 1, 1)


def quad_form(loss, X, D):
    d = D.reshape(D.shape[0], -1, 1)
    return (d.transpose(1, 2) @ loss.hess(X) @ d).reshape(-1) / (D ** 2).sum(dim=(1, 2))


def rsc_ratio(loss, X, Xp):
    D = X - Xp
    return ((loss.grad(X) - loss.grad(Xp)) * D).sum(dim=(1, 2)) / (D ** 2).sum(dim=(1, 2))


def tiled(loss, K):
    """K copies of each batch row (row-major: row b repeated K times)."""
    return loss.take(torch.arange(loss.batch).repeat_interleave(K))


# ------------------------------------------------------------------ closed forms vs autograd
@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("seed", [0, 1])
def test_closed_forms_match_autograd(name, seed):
    loss = BUILDERS[name](seed)
    assert loss.dtype == F64 and loss.device == torch.device("cpu")
    g = torch.Generator().manual_seed(100 + seed)
    delta = torch.randn(loss.batch, loss.m, loss.n, generator=g, dtype=F64)
    v, G, H = loss.value(delta), loss.grad(delta), loss.hess(delta)
    assert v.shape == (loss.batch,) and G.shape == delta.shape
    assert H.shape == (loss.batch, loss.m * loss.n, loss.m * loss.n)
    assert loss.lipschitz().shape == (loss.batch,)
    for b in range(loss.batch):
        row = loss.take(torch.tensor([b]))

        def f(d):
            return row.value(d.unsqueeze(0))[0]

        d = delta[b].clone().requires_grad_(True)
        (ga,) = torch.autograd.grad(f(d), d)
        Ha = torch.autograd.functional.hessian(f, delta[b]).reshape(loss.m * loss.n, -1)
        assert torch.allclose(row.value(delta[b:b + 1])[0], v[b], rtol=0, atol=TOL)
        assert torch.allclose(G[b], ga, rtol=0, atol=TOL * max(1.0, ga.abs().max().item()))
        assert torch.allclose(H[b], Ha, rtol=0, atol=TOL * max(1.0, Ha.abs().max().item()))
        assert torch.allclose(H[b], H[b].T, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["gquad", "gsense", "glogit", "nc1"])
def test_float32_and_take(name):
    kw = {"gquad": dict(m=3, n=2, kappa=4.0), "gsense": dict(m=2, n=2, p=4),
          "glogit": dict(m=2, n=2, N=5, mu=0.2), "nc1": {}}[name]
    build = {"gquad": gquad, "gsense": gsense, "glogit": glogit, "nc1": lambda **k: nc1_quartic(**k)}[name]
    extra = {} if name == "nc1" else {"seed": 3}
    l64 = build(**kw, **extra, batch=3)
    l32 = build(**kw, **extra, batch=3, dtype=torch.float32)
    assert l32.dtype == torch.float32
    X = torch.randn(3, l64.m, l64.n, dtype=F64, generator=torch.Generator().manual_seed(0))
    assert l32.value(X.float()).dtype == torch.float32
    assert torch.allclose(l32.value(X.float()).double(), l64.value(X), rtol=1e-4, atol=1e-4)
    for fn in ("alpha", "beta", "lipschitz"):
        assert getattr(l32, fn)().dtype == torch.float32
        assert torch.allclose(getattr(l32, fn)().double(), getattr(l64, fn)(), rtol=1e-5)
    sub = l64.take(torch.tensor([2, 0]))
    assert sub.batch == 2
    assert torch.equal(sub.grad(X[[2, 0]]), l64.grad(X)[[2, 0]])
    assert torch.equal(sub.beta(), l64.beta()[[2, 0]])


# ------------------------------------------------------------------ RSC / RSM brute force
def rsc_rsm_samples(loss, r, K, seed, scale=1.0):
    """Ratios on K random rank<=r pairs and K RSM forms (rank-1 unit U, V) per batch row."""
    g = torch.Generator().manual_seed(seed)
    big = tiled(loss, K)
    B, m, n = big.batch, loss.m, loss.n
    X, Xp = rand_rank(B, m, n, r, g, scale), rand_rank(B, m, n, r, g, scale)
    s = torch.rand(B, 1, 1, generator=g, dtype=F64)  # mix of large and tiny separations
    Xp = X + (Xp - X) * s
    ratio = rsc_ratio(big, X, Xp).reshape(loss.batch, K)
    U, V = unit_rank1(B, m, g), unit_rank1(B, n, g)
    Xr = rand_rank(B, m, n, r, g, scale)
    rsm = quad_form(big, Xr, U @ Xr + Xr @ V).reshape(loss.batch, K)
    return ratio, rsm, Xr


@pytest.mark.parametrize("name", ["gquad", "gquad-logu", "gsense", "glogit"])
def test_rsc_rsm_bounds_hold(name):
    loss = BUILDERS[name](7)
    alpha, beta = loss.alpha(), loss.beta()
    assert bool((alpha > 0).all()) and bool((beta >= alpha).all())
    for r, scale in [(1, 1.0), (2, 3.0)]:
        ratio, rsm, _ = rsc_rsm_samples(loss, r, 400, 11 + r, scale)
        assert bool((ratio >= alpha.unsqueeze(1) - TOL).all()), (ratio.min(1).values, alpha)
        assert bool((ratio <= beta.unsqueeze(1) + TOL).all())
        assert bool((rsm <= beta.unsqueeze(1) + TOL).all()), (rsm.max(1).values, beta)
        assert bool((rsm >= alpha.unsqueeze(1) - TOL).all())
    # Hessian spectrum inside [alpha, beta] at random points (quadratic: equality at the ends)
    X = torch.randn(loss.batch, loss.m, loss.n, dtype=F64, generator=torch.Generator().manual_seed(5))
    ev = torch.linalg.eigvalsh(loss.hess(X))
    assert bool((ev[:, 0] >= alpha - TOL).all()) and bool((ev[:, -1] <= beta + TOL).all())


def test_logit_bounds_are_bounds_not_equalities():
    loss = glogit(3, 3, 15, 0.1, 4, batch=2)
    ratio, rsm, _ = rsc_rsm_samples(loss, 2, 400, 3)
    assert bool((ratio > loss.alpha().unsqueeze(1)).all())  # strictly: the data term has curvature
    assert bool((rsm < loss.beta().unsqueeze(1)).all())
    assert torch.equal(loss.alpha(), torch.full((2,), 0.1, dtype=F64))


def test_scalar_feature_bounds():
    """alpha() = 2c - ||G||^2 lower-bounds every RSC ratio; beta() bounds RSM on the ball only."""
    loss = nc1_quartic(batch=1, radius=2.0)
    assert torch.allclose(loss.alpha(), torch.tensor([-0.9], dtype=F64), rtol=0, atol=1e-15)
    assert torch.allclose(loss.beta(), torch.tensor([0.1 + 11.0], dtype=F64), rtol=0, atol=1e-15)
    ratio, rsm, Xr = rsc_rsm_samples(loss, 2, 2000, 21, scale=0.6)
    assert bool((ratio >= loss.alpha().unsqueeze(1) - TOL).all())
    assert bool((ratio < 0).any())  # RSC violated (random pairs straddling t = 0)
    inside = Xr.flatten(1).norm(dim=1).reshape(1, -1) <= loss.radius
    assert bool(inside.any())
    assert bool((rsm[inside] <= loss.beta().item() + TOL).all())
    # the bound on the ball is attained at t = +-R along G: 2c + 3 R^2 - 1
    X = torch.zeros(1, 3, 3, dtype=F64)
    X[0, 0, 0] = loss.radius
    assert abs(torch.linalg.eigvalsh(loss.hess(X))[0, -1].item() - loss.beta().item()) < TOL


# ------------------------------------------------------------------ G-quad: exact constants
@pytest.mark.parametrize("kappa", [1.0, 1.5, 1.9, 5.0, 100.0])
@pytest.mark.parametrize("weights", ["two-level", "log-uniform"])
def test_gquad_constants_exact_and_attained(kappa, weights):
    m, n, r = 3, 4, 2
    loss = gquad(m, n, kappa, 13, batch=4, weights=weights)
    W = loss.W
    assert torch.equal(loss.alpha(), torch.ones(4, dtype=F64))
    assert torch.equal(loss.beta(), torch.full((4,), kappa, dtype=F64))
    if weights == "two-level":
        assert bool(((W == 1.0) | (W == kappa)).all())
    assert bool(((W >= 1.0) & (W <= kappa)).all())
    assert regime(loss.alpha(), loss.beta()) == ["special" if kappa < 2 else "generic"] * 4
    for b in range(4):
        row = loss.take(torch.tensor([b]))
        for target, val in ((W[b] == W[b].min()), 1.0), ((W[b] == W[b].max()), kappa):
            i, j = [int(k) for k in target.nonzero()[0]]
            E = torch.zeros(1, m, n, dtype=F64)
            E[0, i, j] = 1.0
            Xp = rand_rank(1, m, n, r - 1, torch.Generator().manual_seed(b))  # rank(Xp + E) <= r
            assert abs(rsc_ratio(row, Xp + 0.7 * E, Xp).item() - val) <= TOL
            U, V = torch.zeros(1, m, m, dtype=F64), torch.zeros(1, n, n, dtype=F64)
            U[0, i, i], V[0, j, j] = 1.0, 1.0
            assert abs(quad_form(row, E, U @ E + E @ V).item() - val) <= TOL  # RSM form, UE + EV = 2E


@pytest.mark.parametrize("rank", [None, 1, 2])
def test_gquad_target_spectrum(rank):
    loss = gquad(4, 3, 3.0, 2, batch=2, target_rank=rank, target_scale=2.0)
    s = torch.linalg.svdvals(loss.T)
    k = 3 if rank is None else rank
    expect = 2.0 * (torch.logspace(0, -1, k, dtype=F64) if k > 1 else torch.ones(1, dtype=F64))
    assert torch.allclose(s[:, :k], expect.expand(2, k), rtol=0, atol=1e-12)
    assert bool((s[:, k:] <= 1e-12).all())


def svt_numpy(T, lam):
    U, s, Vt = np.linalg.svd(T, full_matrices=False)
    return (U * np.maximum(s - lam, 0.0)) @ Vt


@pytest.mark.parametrize("lam", [0.05, 0.3, 1.2])
def test_gquad_kappa1_convex_optimum_is_svt(lam):
    loss = gquad(4, 5, 1.0, 8, batch=3, target_scale=2.0)
    assert bool((loss.W == 1.0).all())
    opt = convex_optimum(loss, lam)
    assert bool(opt.converged.all())
    for b in range(3):
        ref = svt_numpy(loss.T[b].numpy(), lam)
        assert np.abs(opt.delta[b].numpy() - ref).max() <= TOL
        assert int(opt.rank[b]) == int((np.linalg.svd(loss.T[b].numpy(), compute_uv=False) > lam).sum())


# ------------------------------------------------------------------ G-sense
def test_gsense_requires_enough_measurements():
    with pytest.raises(ValueError):
        gsense(3, 3, 8, 0)
    gsense(3, 3, 9, 0)


@pytest.mark.parametrize("shape", [(2, 3, 6), (2, 3, 20), (3, 3, 12)])
def test_gsense_constants_vs_numpy_and_attained(shape):
    m, n, p = shape
    loss = gsense(m, n, p, 5, batch=2, target_rank=1)
    for b in range(2):
        A = loss.Aop[b].numpy()
        M = np.empty((p, m * n))  # explicit measurement matrix, row-major vec
        for k in range(p):
            for i in range(m):
                for j in range(n):
                    M[k, i * n + j] = A[k, i, j]
        s = np.linalg.svd(M, compute_uv=False)
        assert abs(loss.alpha()[b].item() - s[-1] ** 2 / p) <= TOL
        assert abs(loss.beta()[b].item() - s[0] ** 2 / p) <= TOL
        assert loss.alpha()[b].item() > 0
        # attained by the right singular vectors (rank <= min(m, n); X' = 0)
        _, _, Vt = np.linalg.svd(M)
        row = loss.take(torch.tensor([b]))
        zero = torch.zeros(1, m, n, dtype=F64)
        for vec, val in ((Vt[-1], s[-1] ** 2 / p), (Vt[0], s[0] ** 2 / p)):
            D = torch.from_numpy(vec.reshape(1, m, n).copy())
            assert abs(rsc_ratio(row, 2.5 * D, zero).item() - val) <= TOL
            assert abs(rsc_ratio(row, D + 0.3, 0.3 + zero).item() - val) <= TOL


def test_gsense_noiseless_target_is_a_minimiser():
    loss = gsense(3, 3, 12, 9, batch=2, target_rank=1)
    # with noise = 0 the loss is 0 at X0; recover X0 from the normal equations
    X0 = torch.linalg.solve(loss.hess(torch.zeros(2, 3, 3, dtype=F64)), (loss.Amat.transpose(1, 2) @ loss.y.unsqueeze(-1)) / loss.p)
    X0 = X0.reshape(2, 3, 3)
    assert bool((loss.value(X0) <= 1e-20).all())
    assert bool((torch.linalg.svdvals(X0)[:, 1] <= 1e-10).all())


# ------------------------------------------------------------------ regime
def test_regime():
    assert regime(1.0, 1.9) == "special"
    assert regime(1.0, 2.0) == "generic"
    assert regime(1.0, 5.0) == "generic"
    assert regime(torch.tensor([1.0, 1.0]), torch.tensor([1.5, 3.0])) == ["special", "generic"]


# ------------------------------------------------------------------ NC1
def test_nc1_points_match_spec():
    p = nc1_points()
    assert abs(p.t1 - (-0.754)) < 5e-4
    assert abs(p.t1 ** 3 - 0.9 * p.t1 - 0.25) < 1e-15
    assert 3 * p.t1 ** 2 - 0.9 > 0  # local min of f on t < 0
    assert abs(p.gap - 0.364) < 5e-4
    assert abs(p.alpha_hat - (-0.056)) < 5e-4
    assert p.t_star > 0 and abs(p.t_star ** 3 - 0.9 * p.t_star - 0.15) < 1e-15
    # the global value is the global minimum of L_lam: no random X goes below it
    loss = nc1_quartic()
    g = torch.Generator().manual_seed(0)
    X = torch.randn(20000, 3, 3, generator=g, dtype=F64) * torch.rand(20000, 1, 1, generator=g, dtype=F64) * 2
    vals = tiled(loss, 20000).value(X) + NC1_LAM * nuclear_norm(X)
    assert vals.min().item() >= p.global_value - 1e-12
    Xs = p.X_star()
    assert abs((loss.value(Xs) + NC1_LAM * nuclear_norm(Xs)).item() - p.global_value) <= 1e-14
    # the pointwise RSC ratio of the spec, from the loss's own gradient
    assert abs(rsc_ratio(loss, p.X_sosp(), Xs).item() - p.alpha_hat) <= 1e-14


def test_nc1_exact_sosp_is_spurious_and_certificate_wrongly_holds():
    p, loss = nc1_points(), nc1_quartic()
    X = p.X_sosp()
    obj = LoRAObjective(loss, NC1_LAM, NC1_R)
    Y = balanced_factors(X, NC1_R)
    grad = obj.grad(Y)
    assert grad.flatten(1).norm(dim=1).item() <= 1e-12
    H = obj.hess(Y)
    ev = torch.linalg.eigvalsh(H)[0]
    assert ev[0].item() >= -1e-12 * ev.abs().max().item()  # second-order: PSD (zero modes from O(r))
    assert int((torch.linalg.svdvals(X) > 1e-9).sum()) == 1 < NC1_R  # rank 1 < r
    val = obj.value(Y).item()
    assert abs(val - p.value) <= 1e-14
    assert abs(val - (loss.value(X) + NC1_LAM * nuclear_norm(X)).item()) <= 1e-14
    assert val - p.global_value > 0.36  # not global
    # grad L(X) = lam G exactly, so the convex certificate sigma_max(grad L) <= lam holds (wrongly)
    M = loss.grad(X)
    assert torch.allclose(M, NC1_LAM * loss.G, rtol=0, atol=1e-15)
    assert spectral_ratio(M, obj.lam).item() <= 1 + 1e-6
    # the convex oracle does not apply (nonconvex L); lipschitz is the ball bound
    assert loss.alpha().item() < 0 < loss.lipschitz().item()
