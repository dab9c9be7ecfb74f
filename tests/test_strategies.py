"""Strategies' guarantees: preconditions by construction, reproducibility from drawn values."""
from __future__ import annotations

import json

import torch
from hypothesis import given, settings

from lora_claims.strategies.ntk import ntk_draws, tightness_draws
from lora_claims.strategies.ntk_instances import r_max, r_no_spurious, random_ntk, symmetric_perturbation, tightness_family
from lora_claims.profiles import get_profile

CI = get_profile("ci")


@settings(max_examples=60, deadline=None)
@given(ntk_draws(CI, zero_lam=True))
def test_ntk_draws_preconditions(d):
    json.dumps(d)  # JSON-able
    KN = d["N"] * d["K"]
    assert 1 <= d["N"] <= 6 and 1 <= d["K"] <= 3
    assert min(d["m"], d["n"]) >= r_max(KN) + 2
    if d["loss"] == "ce":
        assert d["K"] >= 2 and d["lam"] > 0
    assert d["lam"] == 0 or 1e-3 <= d["lam"] <= 1e-1


@settings(max_examples=20, deadline=None)
@given(tightness_draws(CI))
def test_tightness_draws(d):
    N = d["r0"] * (d["r0"] + 1) // 2
    assert min(d["m"], d["n"]) >= d["r0"] and 0 < d["lam"] < 1 / N


def test_rank_thresholds():
    for KN in range(1, 40):
        r = r_max(KN)
        assert r * (r + 1) // 2 <= KN < (r + 1) * (r + 2) // 2
        assert r_no_spurious(KN) == r + 1


def test_instances_reproducible_from_seed():
    a = random_ntk(3, 2, 5, 4, "ce", seed=11, batch=2)
    b = random_ntk(3, 2, 5, 4, "ce", seed=11, batch=2)
    c = random_ntk(3, 2, 5, 4, "ce", seed=12, batch=2)
    assert torch.equal(a.G, b.G) and torch.equal(a.y, b.y) and not torch.equal(a.G, c.G)
    f32 = random_ntk(3, 2, 5, 4, "sq", seed=11, batch=2, dtype=torch.float32)
    assert f32.G.dtype == torch.float32 and torch.allclose(f32.G.double(), a.G, atol=1e-6)


def test_perturbation_norm_and_symmetry():
    P = symmetric_perturbation(7, torch.tensor([0.5, 2.0]), seed=1, batch=2)
    assert torch.allclose(P, P.transpose(1, 2))
    assert torch.allclose(torch.linalg.matrix_norm(P, ord=2), torch.tensor([0.5, 2.0], dtype=P.dtype))


def test_tightness_family_structure():
    loss = tightness_family(3, 4, 5)
    assert loss.N == 6 and loss.K == 1
    # every interpolant's top-left block is I + skew: the identity interpolates
    delta = torch.zeros(1, 4, 5, dtype=torch.float64)
    delta[0, :3, :3] = torch.eye(3)
    assert float(loss.value(delta)) == 0.0
