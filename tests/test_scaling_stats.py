"""Scaling statistics vs hand examples and coverage sanity (stay-above rule, KM, bootstrap, fits, AIC, Holm)."""
from __future__ import annotations

import math

import numpy as np

from lora_claims.theorems.numerics import scaling_stats as SS


def test_first_passage_stay_above_and_censoring():
    t = np.arange(0, 80, 8)                                       # logs every 8 steps, window d = 16
    m = np.array([[0.0, 0.0, 0.0],
                  [0.5, 0.92, 0.1],
                  [0.91, 0.5, 0.2],      # run 1 dips below 1 - 2 eps = 0.8 -> its first hit does not count
                  [0.95, 0.91, 0.3],
                  [0.85, 0.95, 0.4],
                  [0.99, 0.97, 0.5],
                  [0.99, 0.97, 0.6],
                  [0.99, 0.99, 0.7],
                  [0.99, 0.99, 0.8],
                  [0.99, 0.99, 0.95]])   # run 2 hits at the last log: no room for the window -> censored
    T, c = SS.first_passage(t, m, 0.1, 16)
    assert T[0] == 16 and T[1] == 24 and math.isinf(T[2])
    assert list(c) == [False, False, True]


def test_kaplan_meier_hand_example():
    # times 1, 2+, 3, 4, 5+ : S(1) = 4/5, S(3) = 4/5 * 2/3, S(4) = that * 1/2
    times, S = SS.kaplan_meier([1, 2, 3, 4, 5], [False, True, False, False, True])
    assert list(times) == [1, 3, 4]
    assert np.allclose(S, [0.8, 0.8 * 2 / 3, 0.8 * 2 / 3 * 0.5])
    assert SS.km_quantile([1, 2, 3, 4, 5], [False, True, False, False, True]) == 4


def test_cell_quantile_uses_km_only_above_10_percent():
    T = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, np.inf])
    c = np.isinf(T)
    assert SS.cell_quantile(T, c) == 5.0                          # 10% censored: order statistic
    T2 = np.array([1.0, 2, 3, np.inf, np.inf])
    assert SS.cell_quantile(T2, np.isinf(T2)) == SS.km_quantile(T2, np.isinf(T2)) == 3


def test_bootstrap_median_ci_coverage():
    rng = np.random.default_rng(0)
    hits, trials = 0, 200
    for _ in range(trials):
        x = rng.exponential(1.0, size=60)
        _, lo, hi, _ = SS.bootstrap_quantile(x, np.zeros(60, bool), rng, n_boot=400)
        hits += lo <= math.log(2) <= hi
    assert 0.88 <= hits / trials <= 0.99


def test_loglog_fit_recovers_slope_and_ci_covers():
    rng = np.random.default_rng(1)
    ds = [32, 64, 128, 256]
    cells = [(d ** 1.5 * rng.lognormal(0, 0.3, 64), np.zeros(64, bool)) for d in ds]
    fit = SS.loglog_fit(ds, cells, rng, n_boot=500)
    assert abs(fit.slope - 1.5) < 0.1 and fit.lo < 1.5 < fit.hi
    m, p = fit.within(0.85, 1.2)
    assert m < 0 and p > 0.05
    m2, p2 = fit.within(1.3, 1.7)
    assert m2 > 0 and p2 < 0.05


def test_aic_prefers_true_model():
    k = np.array([2, 4, 8, 16, 32, 64], float)
    assert SS.aic_power_vs_exp(k, 3 * k ** 1.2 * (1 + 0.01 * np.sin(k)))["delta_aic"] > 10
    assert SS.aic_power_vs_exp(k, np.exp(0.1 * k) * (1 + 0.01 * np.cos(k)))["delta_aic"] < -10


def test_holm_hand_example():
    adj, rej = SS.holm([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4*0.005, 3*0.01, 2*0.03, 1*0.04 (running max)
    assert np.allclose(adj, [0.03, 0.06, 0.06, 0.02])
    assert list(rej) == [True, False, False, True]
    assert np.allclose(SS.holm_levels([0.01, 0.04, 0.03, 0.005]), [0.05 / 3, 0.05, 0.05 / 2, 0.05 / 4])
