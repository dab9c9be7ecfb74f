"""Theorem-1 quantities (numerics/fails_loudly.py) and the curated spurious-SOSP fixtures."""
from __future__ import annotations

import pytest
import torch

from lora_claims.strategies.data import fixture
from lora_claims.strategies.kim_instances import gquad
from lora_claims.theorems.context import EvalContext
from lora_claims.theorems.kim2025 import build_loss, landscape
from lora_claims.theorems.numerics.convex_oracle import convex_optimum
from lora_claims.theorems.numerics.fails_loudly import (band_slack, corollary1_bound, corollary1_margin,
                                                       endpoint_geometry, theorem1_inequalities, theorem1_margins)
from lora_claims.theorems.numerics.lora import LoRAObjective, balanced_factors
from lora_claims.theorems.numerics.sosp import sosp_report

F64 = torch.float64
CTX = EvalContext()           # float64 on the CPU



def test_geometry_at_global_minimum():
    """At X*: certificate ratio 1 (up to rounding), S orthogonal to X's range, alpha_hat in [alpha, beta]."""
    loss = gquad(4, 3, 7.0, seed=3, batch=5, target_rank=2, target_scale=3.0)
    lam = torch.full((5,), 0.6, dtype=F64)
    opt = convex_optimum(loss, lam)
    X = opt.delta
    rstar = (torch.linalg.svdvals(X) > 1e-7).sum(1)
    geo = endpoint_geometry(loss, lam, X, X, rstar, 3)
    assert (geo.ratio <= 1 + 1e-8).all() and (geo.LS_RS <= 1e-8).all()
    assert (geo.dist2 == 0).all()
    # alpha_hat, beta_hat are Rayleigh quotients of diag(W) for a weighted quadratic: inside [1, 7]
    Y = X + 0.1 * torch.randn(X.shape, generator=torch.Generator().manual_seed(0), dtype=F64)
    geo2 = endpoint_geometry(loss, lam, Y, X, rstar, 3)
    assert ((geo2.alpha_hat >= 1 - 1e-12) & (geo2.alpha_hat <= 7 + 1e-12)).all()
    assert ((geo2.beta_hat >= 1 - 1e-12) & (geo2.beta_hat <= 7 + 1e-12)).all()


def test_theorem1_margins_hand_example():
    """(a)-(c) and Corollary 1 against a direct evaluation of the formulas (relative slacks)."""
    loss = gquad(3, 3, 10.0, seed=1, batch=1, target_rank=2, target_scale=2.0)
    lam = torch.tensor([0.3], dtype=F64)
    opt = convex_optimum(loss, lam)
    U, s, Vh = torch.linalg.svd(opt.delta)
    X = (U[:, :, :2] * torch.tensor([2.0, 0.7], dtype=F64)) @ Vh[:, :2]
    rstar = torch.tensor([1])
    geo = endpoint_geometry(loss, lam, X, opt.delta, rstar, 2)
    alpha, beta = torch.tensor([1.0], dtype=F64), torch.tensor([10.0], dtype=F64)
    m = theorem1_margins(geo, alpha, beta, slack=0.0)
    a, b, c, _ = m.values()
    # (a) sigma_r >= 1e-6 sigma_1; (b) sigma_r / sigma_r* >= 2 alpha / beta
    assert float(a) == pytest.approx((0.7 - 2e-6) / (0.7 + 2e-6))
    assert float(b) == pytest.approx((0.7 / 2.0 - 0.2) / (0.7 / 2.0 + 0.2))
    # (c) ||X - X*||^2 >= sigma_2^2 + (2 alpha sigma_1 / (beta sigma_2)) ||X - X*||^2
    d2 = float(((X - opt.delta) ** 2).sum())
    bound = 0.7 ** 2 + 0.2 * 2.0 / 0.7 * d2
    assert float(c) == pytest.approx((d2 - bound) / (d2 + abs(bound)))
    # same sign as the unnormalised form d2 (1 - 2 alpha s_1/(beta s_2)) - s_2^2
    assert (float(c) >= 0) == (d2 * (1 - 0.2 * 2.0 / 0.7) - 0.7 ** 2 >= 0)
    ineq = theorem1_inequalities(geo, alpha, beta, slack=0.0)
    assert [q.sense for q in ineq.values()] == [">=", ">=", ">=", "<="]
    assert float(list(ineq.values())[2].value) == pytest.approx(d2)
    # Corollary 1: ||X|| >= sqrt(sigma_2^2 / (1 - 2 alpha sigma_1 / (beta sigma_2))) - ||X*||
    cb = (0.7 ** 2 / (1 - 0.2 * 2.0 / 0.7)) ** 0.5 - float(opt.delta.norm())
    assert float(corollary1_bound(geo, alpha, beta)) == pytest.approx(cb)
    nx = (2.0 ** 2 + 0.7 ** 2) ** 0.5
    assert float(corollary1_margin(geo, alpha, beta)) == pytest.approx((nx - cb) / (nx + abs(cb)))
    # outside the forbidden band: sigma_r / sigma_r* = 0.35 >= 0.2
    assert float(band_slack(geo, alpha, beta, slack=0.0)) == pytest.approx(float(b))


def test_band_and_rank_grading():
    """Rank-deficient end points: (a) graded by sigma_r vs 1e-6 sigma_1 (negative), out of the band (>= 0);
    a rank-r point below 2a/b sits in the band (negative)."""
    loss = gquad(3, 3, 10.0, seed=1, batch=2, target_rank=2, target_scale=2.0)
    lam = torch.full((2,), 0.3, dtype=F64)
    opt = convex_optimum(loss, lam)
    U, s, Vh = torch.linalg.svd(opt.delta)
    X = (U[:, :, :2] * torch.tensor([[2.0, 1e-9], [2.0, 0.2]], dtype=F64).unsqueeze(1)) @ Vh[:, :2]
    geo = endpoint_geometry(loss, lam, X, opt.delta, torch.tensor([1, 1]), 2)
    alpha, beta = torch.ones(2, dtype=F64), torch.full((2,), 10.0, dtype=F64)
    a = theorem1_margins(geo, alpha, beta)["(a) rank = r: sigma_r >= 1e-6 sigma_1"]
    assert float(a[0]) == pytest.approx((1e-9 - 2e-6) / (1e-9 + 2e-6)) and float(a[1]) > 0
    band = band_slack(geo, alpha, beta, slack=0.0)
    assert float(band[0]) == pytest.approx((2e-6 - 1e-9) / (2e-6 + 1e-9))
    assert float(band[1]) == pytest.approx(max((2e-6 - 0.2) / (2e-6 + 0.2), (0.1 - 0.2) / (0.1 + 0.2)))
    assert float(band[1]) < 0


def test_special_regime_closed_form():
    """kappa = 1: X* = SVT(T, lam) and every SOSP found is global (Theorem 1, special)."""
    d = {"family": "gquad", "m": 3, "n": 4, "kappa": 1.0, "target_rank": 2, "target_scale": 2.0, "lam": 0.5,
         "r": 3, "seed": 4, "batch": 3, "inits": 2}
    land = landscape(d, CTX, "special")
    c = land.certified
    assert c.float().mean() > 0.9
    assert (land.geo.ratio[c] <= 1 + 1e-6).all()
    assert (land.geo.dist2[c].sqrt() <= 1e-6 * land.geo.norm_Xstar[c].clamp_min(1)).all()


def _fixtures():
    return fixture("kim2025_spurious.json")["fixtures"]


def test_fixture_file_has_generic_spurious_points():
    fx = _fixtures()
    assert len(fx) >= 2
    kappas = {f["drawn"]["kappa"] for f in fx}
    assert min(kappas) <= 5.0 and max(kappas) >= 100.0


@pytest.mark.parametrize("k", range(len(_fixtures())))
def test_fixture_is_certified_spurious_and_satisfies_theorem1(k):
    """Issue 3 'Must show': gradient <= 1e-9, lambda_min >= -1e-7 ||H||, ||grad L||_2 >= lam (1 + 1e-3), (a)-(d)."""
    d = _fixtures()[k]["drawn"]
    loss = build_loss(d, CTX)
    obj = LoRAObjective(loss, float(d["lam"]), d["r"])
    Y = torch.tensor(d["start"], dtype=F64).unsqueeze(0)
    rep = sosp_report(obj, Y, grad_tol=1e-9, curv_tol=1e-7)
    assert bool(rep.is_sosp[0]), (float(rep.grad_norm[0]), float(rep.lam_min[0]))
    land = landscape(d, CTX, "generic")
    geo = land.geo
    assert bool(geo.is_spurious[0]) and float(geo.ratio[0]) >= 1 + 1e-3
    for name, v in theorem1_margins(geo, land.alpha, land.beta).items():
        assert float(v[0]) >= 0, name
    # independent: the balanced factors of X* score strictly lower
    opt = convex_optimum(loss, float(d["lam"]))
    assert int(opt.rank[0]) <= d["r"]
    Fstar = obj.value(balanced_factors(opt.delta, d["r"]))
    assert float(obj.value(Y)[0]) > float(Fstar[0]) + 1e-6
