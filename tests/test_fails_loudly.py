"""Theorem-1 quantities (numerics/fails_loudly.py) and the curated spurious-SOSP fixtures."""
from __future__ import annotations

import pytest
import torch

from lora_claims.strategies.data import fixture
from lora_claims.strategies.kim_instances import gquad
from lora_claims.theorems.context import EvalContext
from lora_claims.theorems.kim2025 import build_loss, landscape
from lora_claims.theorems.numerics.convex_oracle import convex_optimum
from lora_claims.theorems.numerics.fails_loudly import endpoint_geometry, theorem1_margins
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
    """(b) and (c) against a direct evaluation of the formulas."""
    loss = gquad(3, 3, 10.0, seed=1, batch=1, target_rank=2, target_scale=2.0)
    lam = torch.tensor([0.3], dtype=F64)
    opt = convex_optimum(loss, lam)
    U, s, Vh = torch.linalg.svd(opt.delta)
    X = (U[:, :, :2] * torch.tensor([2.0, 0.7], dtype=F64)) @ Vh[:, :2]
    rstar = torch.tensor([1])
    geo = endpoint_geometry(loss, lam, X, opt.delta, rstar, 2)
    m = theorem1_margins(geo, torch.tensor([1.0], dtype=F64), torch.tensor([10.0], dtype=F64), slack=0.0)
    assert float(m["(b) sigma_r/sigma_r* >= 2a/b"]) == pytest.approx((0.7 / 2.0 - 0.2) / 0.2)
    d2 = float(((X - opt.delta) ** 2).sum())
    c = (d2 * (1 - 0.2 * 2.0 / 0.7) - 0.7 ** 2) / (d2 + 0.7 ** 2)
    assert float(m["(c) distance"]) == pytest.approx(c)


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
