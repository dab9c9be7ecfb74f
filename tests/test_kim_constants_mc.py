"""kim_constants.monte_carlo_constants (Kim et al. Table 2's estimator) against G-quad, whose RSC/RSM
constants are known exactly: alpha = min W, beta = max W (Kim, Kim, Ryu 2025, A2/A3)."""
from __future__ import annotations

import torch

from lora_claims.strategies.kim_instances import gquad
from lora_claims.theorems.numerics.convex_oracle import convex_optimum
from lora_claims.theorems.numerics.kim_constants import monte_carlo_constants

RANKS = [1, 2, 3, 5]


def _estimate(kappa, seed=0, samples=300):
    loss = gquad(5, 6, kappa, seed=seed, target_rank=3)
    opt = convex_optimum(loss, 0.05)
    Xs = opt.delta[0]
    return loss, monte_carlo_constants(loss, Xs, RANKS, float(Xs.norm()), samples, seed=1)


def test_isotropic_quadratic_is_measured_exactly():
    """kappa = 1: every direction has curvature 1, so alpha_hat = beta_hat = 1 at every rank bound."""
    _, est = _estimate(1.0)
    for r in RANKS:
        a, b, kept = est[r]
        assert abs(a - 1.0) <= 1e-12 and abs(b - 1.0) <= 1e-12 and kept > 0


def test_estimates_lie_within_the_exact_constants_and_are_nested():
    """alpha <= alpha_hat(r) <= beta_hat(r) <= beta, alpha_hat non-increasing and beta_hat non-decreasing in r
    (the set for r holds every sample of rank <= r); cumulative counts grow."""
    loss, est = _estimate(20.0)
    alpha, beta = float(loss.alpha()[0]), float(loss.beta()[0])
    prev = (float("inf"), float("-inf"), 0)
    for r in RANKS:
        a, b, kept = est[r]
        assert alpha - 1e-12 <= a <= b <= beta + 1e-12
        assert a <= prev[0] and b >= prev[1] and kept > prev[2]
        prev = (a, b, kept)
    assert est[RANKS[-1]][0] < est[RANKS[0]][0]          # a strictly lower estimate from the richer set


def test_samples_outside_the_radius_are_not_used():
    """A radius far below the distance of any rank-1 truncation from X* (rank 3) keeps no rank-1 sample."""
    loss = gquad(5, 6, 5.0, seed=0, target_rank=3)
    Xs = convex_optimum(loss, 0.01).delta[0]
    tail = float(torch.linalg.svdvals(Xs)[1:].norm())
    est = monte_carlo_constants(loss, Xs, [1], 0.5 * tail, 50, seed=2)
    assert est[1][2] == 0 and est[1][0] == float("inf")
