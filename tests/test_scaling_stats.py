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
    lo, hi = fit.ci(0.05)                                          # the fit's own 95% interval
    assert (lo, hi) == (fit.lo, fit.hi)
    assert lo < 0.85 or hi > 1.2                                  # not inside [0.85, 1.2] ...
    assert fit.tost_p(0.85, 1.2) > 0.05
    assert 1.3 <= lo and hi <= 1.7                                # ... inside [1.3, 1.7]
    # and about as wide as normal theory says for this design: OLS on cell medians, sd(median) ~ 1.2533 sigma/sqrt(n)
    x = np.log(ds)
    width = 2 * 1.96 * 1.2533 * 0.3 / math.sqrt(64) / math.sqrt(((x - x.mean()) ** 2).sum())
    assert 0.6 * width <= hi - lo <= 1.4 * width                  # a CI twice too wide (or narrow) fails
    assert fit.tost_p(1.3, 1.7) < 0.05
    a, b = fit.ci(0.01)                                           # a stricter level widens it
    assert a <= lo and b >= hi


def test_km_fast_path_equals_the_product_loop():
    """Censored runs last (T = inf, one cutoff): km_quantile takes the empirical curve without the product loop;
    it must equal the Kaplan-Meier product's own answer (ties included), and the loop stays for early censoring."""
    rng = np.random.default_rng(4)
    for trial in range(300):
        n = int(rng.integers(2, 60))
        T = np.round(rng.lognormal(2, 0.7, n))
        c = rng.random(n) < rng.uniform(0.05, 0.7)
        T = np.where(c, np.inf, T) if trial % 2 else np.where(c, T.max(), T)
        for q in (0.5, 0.1, 0.9):
            times, S = SS.kaplan_meier(T, c)
            hit = np.nonzero(S <= 1 - q + 1e-12)[0]
            want = float(times[hit[0]]) if len(hit) else math.inf
            assert SS.km_quantile(T, c, q) == want
    # early censoring (not the fast path): the hand example of test_kaplan_meier_hand_example
    assert SS.km_quantile([1, 2, 3, 4, 5], [False, True, False, False, True], 0.5) == 4


def test_bootstrap_km_draws_equal_per_draw_km():
    """bootstrap_quantile's vectorised Kaplan-Meier draws equal km_quantile on each resample."""
    T = np.array([3.0, 5, 5, 8, 9, 11, 12, 15, np.inf, np.inf, np.inf, 20, 21, 4, 6, 7])
    c = np.isinf(T)
    _, _, _, draws = SS.bootstrap_quantile(T, c, np.random.default_rng(2), n_boot=300)
    idx = np.random.default_rng(2).integers(0, len(T), size=(300, len(T)))
    for j in range(300):
        cs = c[idx[j]]
        want = SS.km_quantile(T[idx[j]], cs) if cs.mean() > SS.KM_THRESHOLD else \
            float(np.quantile(np.where(cs, np.inf, T[idx[j]]), 0.5, method="inverted_cdf"))
        assert draws[j] == want


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
