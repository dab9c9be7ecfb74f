"""The interval check (dayi2024.power_interval_coverage): the scaling_stats intervals the slope claims decide on
cover a known answer at their nominal level on a fixed seed, and the same check rejects intervals at half the level."""
from __future__ import annotations

import math

import torch
from scipy.stats import binom

from lora_claims.theorems import dayi2024 as D
from lora_claims.theorems.context import EvalContext

DRAWN = {"slope": 1.3, "sigma": 0.3, "sigma_trend": 0.3, "censor": 0.05, "noise": "gumbel", "cells": 4, "runs": 32,
         "holm_rank": 2, "datasets": 200, "n_boot": 500, "seed": 11}


def test_coverage_near_nominal_on_a_fixed_seed():
    ev = D.eval_interval_coverage(DRAWN, EvalContext("cpu", torch.float64))
    m = ev.measured
    assert ev.status == "pass", m
    assert m["nominal[holm]"] == 1 - 0.05 / 2
    for k in ("fit", "holm", "ratio"):                  # within ~3 binomial sd of nominal (200 or 400 intervals)
        L, n = m[f"nominal[{k}]"], m[f"intervals[{k}]"][0]
        assert n >= 190
        assert abs(m[f"coverage[{k}]"] - L) <= 3 * math.sqrt(L * (1 - L) / n) + 1 / n, (k, m[f"coverage[{k}]"])
    assert 0.85 <= m["coverage[median]"] <= 0.99        # measured only (percentile bootstrap of a median)
    assert 0 < ev.margin <= 1


def test_halved_level_is_rejected():
    ev = D.eval_interval_coverage(DRAWN, EvalContext("cpu", torch.float64), level_factor=0.5)
    m = ev.measured
    assert ev.status == "fail", m
    assert m["computed_at_level[fit]"] == 0.475
    for k in ("fit", "holm", "ratio"):                  # coverage ~ L / 2, judged against L
        assert abs(m[f"coverage[{k}]"] - m[f"nominal[{k}]"] / 2) < 0.1, (k, m[f"coverage[{k}]"])
    margins = [v for c, v in m.items() if c.startswith("margin[")]
    assert len(margins) == 3 and all(v < 0 for v in margins), margins


def test_coverage_bound_is_the_exact_binomial_quantile():
    for L, n in ((0.95, 200), (1 - 0.05 / 6, 200), (0.95, 60), (0.975, 400)):
        k = round(D.coverage_bound(L, n) * n)
        assert binom.cdf(k - 1, n, L) <= D.POWER_FALSE_ALARM < binom.cdf(k, n, L)
