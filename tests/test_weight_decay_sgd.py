"""Kim et al. Lemma 1's SGD (numerics/weight_decay_sgd.py) against an independent numpy loop, its
finite-horizon rank facts on exact arithmetic cases, and Theorem 3's per-row slack (fails_loudly.theorem3_slack)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lora_claims.strategies.kim_instances import linear_layer_sgd
from lora_claims.theorems.numerics.fails_loudly import EndpointGeometry, theorem3_slack
from lora_claims.theorems.numerics.weight_decay_sgd import lemma1_rank, lora_sgd, steps_for, tail


def numpy_sgd(x, y, A, B, lam, mu, idx):
    """Per instance, per step: G = mean_i (X x_i - y_i) x_i^T; simultaneous factor updates."""
    A, B = A.copy(), B.copy()
    for t in range(idx.shape[0]):
        for j in range(x.shape[0]):
            G = np.zeros((A.shape[1], B.shape[1]))
            for i in idx[t, j]:
                G += np.outer(A[j] @ B[j].T @ x[j, i] - y[j, i], x[j, i])
            G /= idx.shape[2]
            A[j], B[j] = (1 - mu * lam) * A[j] - mu * G @ B[j], (1 - mu * lam) * B[j] - mu * G.T @ A[j]
    return A, B


@pytest.mark.parametrize("b", [1, 3])
def test_sgd_matches_numpy_loop(b):
    inst = linear_layer_sgd(5, 4, 4, 9, 2, b, 7, seed=3, batch=3)
    A0 = inst.A0.numpy()
    B0 = np.random.default_rng(0).normal(size=inst.B0.shape)          # B != 0: both updates exercised
    run = lora_sgd(inst.x, inst.y, inst.A0, torch.tensor(B0), 0.4, 0.3, inst.minibatches, 2)
    A, B = numpy_sgd(inst.x.numpy(), inst.y.numpy(), A0, B0, 0.4, 0.3, inst.minibatches.numpy())
    np.testing.assert_allclose(run.A.numpy(), A, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(run.Bf.numpy(), B, rtol=1e-12, atol=1e-12)
    A5, B5 = numpy_sgd(inst.x.numpy(), inst.y.numpy(), A0, B0, 0.4, 0.3, inst.minibatches.numpy()[:5])
    np.testing.assert_allclose(run.A_back.numpy(), A5, rtol=1e-12, atol=1e-12)    # the factors at T - K
    np.testing.assert_allclose(run.B_back.numpy(), B5, rtol=1e-12, atol=1e-12)


def test_unrolled_remainder_has_rank_at_most_b_k():
    """A_T - (1 - mu lam)^K A_{T-K} has rank <= bK exactly; X_T - (1 - mu lam)^{2K} X_{T-K} rank <= 2bK."""
    b, K, mu, lam = 1, 2, 0.2, 0.5
    inst = linear_layer_sgd(8, 8, 8, 20, 2, b, 6, seed=1, batch=4)
    B0 = torch.randn(inst.B0.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    run = lora_sgd(inst.x, inst.y, inst.A0, B0, lam, mu, inst.minibatches, K)
    d = (1 - mu * lam) ** K
    s = torch.linalg.svdvals(run.A - d * run.A_back)
    assert bool((s[:, b * K:] < 1e-12 * s[:, :1]).all()) and bool((s[:, b * K - 1] > 1e-6).all())
    s = torch.linalg.svdvals(run.X - d ** 2 * run.X_back)
    assert bool((s[:, 2 * b * K:] < 1e-12 * s[:, :1]).all())
    # and the full-rank A_T itself is not low rank: the decayed term keeps it
    assert bool((torch.linalg.svdvals(run.A)[:, -1] > 1e-3).all())


def test_tail_is_eckart_young():
    X = torch.diag(torch.tensor([3.0, 2.0, 1.0, 0.5], dtype=torch.float64)).unsqueeze(0)
    Q = torch.linalg.qr(torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))[0]
    assert tail(Q @ X @ Q.T, 2).item() == pytest.approx(math.sqrt(1.25), rel=1e-12)
    assert tail(X, 4).item() == 0.0


def test_lemma1_rank_and_horizon():
    assert lemma1_rank(2, 0.5, 0.5) == pytest.approx(2 * math.log(0.125) / math.log(0.5))     # = 6
    assert steps_for(0.5, 0.5) == 3                     # 0.5^3 = 1/8 = eps/4 exactly
    assert steps_for(0.5, 0.4) == 4
    assert 0.9 ** steps_for(0.1, 0.3) <= 0.3 / 4 < 0.9 ** (steps_for(0.1, 0.3) - 1)


def _geo(dist, sig_r, sig_rstar):
    t = lambda v: torch.tensor(v, dtype=torch.float64)                   # noqa: E731
    z = torch.zeros(len(dist), dtype=torch.float64)
    return EndpointGeometry(z.unsqueeze(1), z.long(), z, z, z, t(dist) ** 2, z, t(sig_rstar), t(sig_r), z, z, z, z)


def test_theorem3_slack_alternatives():
    """Special rows: only eps-closeness counts; generic rows: closeness or the sigma_r floor
    max{2 a s_r*/(b (1 + eps)), a eps/(2 b sqrt r)}."""
    alpha, beta, eps, r = torch.tensor(1.0, dtype=torch.float64), torch.tensor(10.0, dtype=torch.float64), 0.3, 4
    floor_a = 2 * 1.0 * 1.0 / (10 * 1.3)                 # with sigma_r* = 1: 0.1538...
    floor_b = 1.0 * 0.3 / (2 * 10 * 2)                    # 0.0075
    geo = _geo([0.1, 2.0, 2.0, 2.0], [0.0, floor_a * 1.01, floor_a * 0.99, 0.5], [1.0, 1.0, 1.0, 0.01])
    gen = theorem3_slack(geo, alpha, beta, eps, r, torch.tensor([False] * 4))
    assert gen[0] > 0 and gen[1] > 0 and gen[2] < 0 and gen[3] > 0
    spe = theorem3_slack(geo, alpha, beta, eps, r, torch.tensor([True] * 4))
    assert spe[0] > 0 and bool((spe[1:] < 0).all())
    near = theorem3_slack(_geo([0.29, 0.31], [0.0, 0.0], [1.0, 1.0]), alpha, beta, eps, r, torch.tensor([True, True]))
    assert near[0] > 0 > near[1]                         # eps-closeness is judged at eps itself
    # the second floor binds when sigma_r* is small: sigma_r just under a eps / (2 b sqrt r) fails
    geo = _geo([2.0, 2.0], [floor_b * 0.99, floor_b * 1.01], [1e-6, 1e-6])
    s = theorem3_slack(geo, alpha, beta, eps, r, torch.tensor([False, False]))
    assert s[0] < 0 < s[1]
