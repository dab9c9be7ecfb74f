"""numerics/landscape.py's own decisions against closed forms: the numerical rank of end points and the
records of the origin lemma's conditions (Jang et al. L2; Kim et al. Sec. 3.4)."""
from __future__ import annotations

import math

import pytest
import torch

from lora_claims.strategies.ntk_instances import random_ntk
from lora_claims.theorems.numerics import landscape
from lora_claims.theorems.numerics.landscape import OriginCheck, lam_at_ratio, numerical_rank, origin_margins
from lora_claims.theorems.numerics.lora import LoRAObjective

F64 = torch.float64


def _with_singular_values(sv, m=5, n=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    U = torch.linalg.qr(torch.randn(m, m, generator=g, dtype=F64))[0][:, : len(sv)]
    V = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=F64))[0][:, : len(sv)]
    return U @ torch.diag(torch.tensor(sv, dtype=F64)) @ V.T


def test_numerical_rank_counts_singular_values_above_the_relative_threshold():
    Y = torch.stack([_with_singular_values(s) for s in ([3.0, 1.0, 0.5], [2.0, 1e-3, 1e-9], [1.0, 0.0, 0.0])])
    assert numerical_rank(Y).tolist() == [3, 2, 1]
    assert numerical_rank(Y, rel=1e-2).tolist() == [3, 1, 1]
    assert numerical_rank(torch.zeros(2, 4, 3, dtype=F64)).tolist() == [0, 0]
    # exactly at the threshold does not count (diagonal: singular values exact)
    D = torch.zeros(1, 3, 3, dtype=F64)
    D[0, 0, 0], D[0, 1, 1], D[0, 2, 2] = 1.0, 1e-6, 2e-6
    assert numerical_rank(D).tolist() == [2]
    # relative to sigma_1 also below 1: 8e-7 > 1e-6 * 0.5 counts (an absolute 1e-6 would not)
    assert numerical_rank(torch.diag(torch.tensor([0.5, 8e-7, 1e-7], dtype=F64)).unsqueeze(0)).tolist() == [2]


def test_origin_hessian_norm_is_clamped_at_one():
    """hess_norm = max(1, max |eig H(0)|): the unit below which errors and the detector's tau are absolute."""
    loss = random_ntk(1, 1, 3, 3, "sq", 2, batch=2)
    loss.y.mul_(1e-3)                       # a small residual: every Hessian eigenvalue at 0 is below 1
    loss.f0.mul_(1e-3)
    obj = LoRAObjective(loss, lam_at_ratio(loss, 0.5), 1)
    eig = torch.linalg.eigvalsh(obj.hess(torch.zeros(2, 6, 1, dtype=F64))).abs().amax(1)
    assert (eig < 1).all() and torch.equal(landscape.origin_check(obj).hess_norm, torch.ones(2, dtype=F64))


def test_origin_condition_records_are_the_tolerance_relative_figures():
    loss = random_ntk(2, 2, 4, 5, "sq", 11)
    margins, meas = origin_margins(LoRAObjective(loss, lam_at_ratio(loss, 0.5), 2))
    spec = meas["condition[Hessian spectrum at 0]"]
    err = meas["eig_rel_err"]
    assert (spec["value"], spec["bound"], spec["sense"], spec["scale"]) == (err, 1e-10, "<=", 0.0)
    assert spec["relative"] == pytest.approx((1e-10 - err) / 1e-10, rel=1e-12)
    det = meas["condition[detector agrees with the threshold]"]
    d = det["bound"] - det["value"] if det["sense"] == "<=" else det["value"] - det["bound"]
    assert det["relative"] == pytest.approx(d / abs(det["bound"]), rel=1e-12)
    assert math.isfinite(det["relative"]) and det["relative"] > 0          # lam = sigma/2: a clear saddle
    # the default threshold factor is the lemma's, 1: the statistic is sigma_max(grad L(0)) - lam
    sig = lam_at_ratio(loss, 1.0)
    w = int(torch.argmin(sig - lam_at_ratio(loss, 0.5)))
    assert det["value"] == pytest.approx(float(sig[w] - 0.5 * sig[w]), rel=1e-12)


def test_origin_hessian_error_is_relative_to_the_clamped_norm():
    """eig_rel_err = max |eig H(0) - closed form| / max(1, ||H||), >= 0, recomputed here from the Hessian."""
    loss = random_ntk(2, 2, 4, 5, "sq", 11, batch=2)
    obj = LoRAObjective(loss, lam_at_ratio(loss, 0.5), 2)
    oc = landscape.origin_check(obj)
    got = torch.linalg.eigvalsh(obj.hess(torch.zeros(2, 9, 2, dtype=F64)))
    sig = torch.linalg.svdvals(obj.M(torch.zeros(2, 9, 2, dtype=F64)))
    lam = obj.lam[:, None]
    expect = torch.sort(torch.cat([lam + sig, lam - sig, lam.expand(-1, 1)], 1).repeat_interleave(2, dim=1),
                        dim=1).values
    norm = got.abs().amax(1)
    assert (norm > 1).all()                                            # so / and * by the norm differ
    assert torch.allclose(oc.eig_rel_err, (got - expect).abs().amax(1) / norm, rtol=1e-6, atol=0)
    assert (oc.eig_rel_err >= 0).all() and (oc.eig_rel_err < 1e-12).all()


def _crafted(monkeypatch, obj, sigma, hess_norm, accepted):
    real = landscape.origin_check(obj)
    monkeypatch.setattr(landscape, "origin_check", lambda o: OriginCheck(
        torch.tensor(sigma, dtype=F64), real.eig_rel_err, torch.tensor(hess_norm, dtype=F64),
        torch.tensor(accepted)))


def test_origin_prediction_at_the_exact_threshold(monkeypatch):
    """stat == tau exactly (lam = 0, sigma = tau): the detector's lambda_min = -tau is accepted (sosp.py's
    inclusive >=), so the lemma predicts no saddle there: predicted = stat > tau, strictly."""
    loss = random_ntk(1, 1, 3, 3, "sq", 2, batch=1)
    obj = LoRAObjective(loss, torch.zeros(1, dtype=F64), 1)
    tau = landscape.CURV_TOL * 2.0
    _crafted(monkeypatch, obj, [[tau, 0.0, 0.0]], [2.0], [True])
    margins, meas = origin_margins(obj)
    assert meas["predicted_saddles"] == 0 and meas["disagreements"] == 0
    assert margins["detector agrees with the threshold"] == 0.0


def test_origin_record_prefers_the_nan_instance_over_a_wrong_one(monkeypatch):
    """Rows: agreeing; NaN; disagreeing (accepted although stat >> tau).  The margin is NaN and the record
    shows the NaN row, not the disagreeing one."""
    loss = random_ntk(1, 1, 3, 3, "sq", 2, batch=3)
    obj = LoRAObjective(loss, torch.full((3,), 0.1, dtype=F64), 1)
    _crafted(monkeypatch, obj, [[1.0, 0, 0], [float("nan"), 0, 0], [1.0, 0, 0]], [1.0, 1.0, 1.0], [False, True, True])
    margins, meas = origin_margins(obj)
    assert math.isnan(margins["detector agrees with the threshold"])
    assert math.isnan(meas["condition[detector agrees with the threshold]"]["value"])


def test_origin_record_shows_the_undecidable_instance(monkeypatch):
    """An instance whose statistic is NaN makes the detector condition NaN (inconclusive), and the
    record shows that instance, not the best of the others."""
    loss = random_ntk(2, 2, 4, 5, "sq", 11, batch=3)
    obj = LoRAObjective(loss, lam_at_ratio(loss, 0.5), 2)
    real = landscape.origin_check(obj)
    sigma = real.sigma.clone()
    sigma[1, 0] = float("nan")
    monkeypatch.setattr(landscape, "origin_check", lambda o: OriginCheck(sigma, real.eig_rel_err, real.hess_norm,
                                                                          real.detector_sosp))
    margins, meas = origin_margins(obj)
    assert math.isnan(margins["detector agrees with the threshold"])
    assert math.isnan(meas["condition[detector agrees with the threshold]"]["value"])
