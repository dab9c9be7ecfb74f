"""Statistics for the SGD scaling claims (spec dayi2024 'Metric T_eps', 'Statistics').

First-passage times with the stay-above rule and right-censoring; medians with percentile-bootstrap
confidence intervals over seeds; Kaplan-Meier when more than 10% of a cell is censored; weighted
log-log fits with bootstrap CIs; power-law vs exponential by AIC; Holm's step-down correction.
All functions are numpy-only and deterministic given their ``rng``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

KM_THRESHOLD = 0.10


def first_passage(t, m, eps: float, window: int):
    """T_eps per run: the first logged t with m_t >= 1 - eps such that m stays >= 1 - 2 eps at every logged
    time in (t, t + window].  A run is censored (T = inf) if no such t has t + window <= t[-1].

    t: (n,) increasing; m: (n, B).  Returns (T (B,) float, censored (B,) bool)."""
    t = np.asarray(t, dtype=float)
    m = np.asarray(m, dtype=float)
    n, B = m.shape
    T = np.full(B, np.inf)
    low = ~(m >= 1 - 2 * eps)                                    # NaN counts as low
    # next index at which m drops below 1 - 2 eps (n if never)
    nxt = np.full((n + 1, B), n)
    for i in range(n - 1, -1, -1):
        nxt[i] = np.where(low[i], i, nxt[i + 1])
    for b in range(B):
        for i in np.nonzero(m[:, b] >= 1 - eps)[0]:
            if t[i] + window > t[-1]:
                break
            j = nxt[i + 1, b]
            if j >= n or t[j] > t[i] + window:
                T[b] = t[i]
                break
    return T, ~np.isfinite(T)


def kaplan_meier(T, censored):
    """Kaplan-Meier survival S(t) for right-censored times: (event times, S just after each)."""
    T = np.asarray(T, dtype=float)
    cens = np.asarray(censored, dtype=bool)
    times = np.unique(T[~cens])
    S, out = 1.0, []
    for u in times:
        at_risk = np.sum(T >= u)
        deaths = np.sum((T == u) & ~cens)
        S *= 1 - deaths / at_risk
        out.append(S)
    return times, np.array(out)


def km_quantile(T, censored, q: float = 0.5) -> float:
    """Smallest event time with S(t) <= 1 - q (inf if the curve never gets there)."""
    T, cens = np.asarray(T, dtype=float), np.asarray(censored, dtype=bool)
    if len(T) and _censored_last(T, cens):                       # S is the empirical curve: no product loop
        return float(_km_quantile_rows(T[None], cens[None], q)[0])
    times, S = kaplan_meier(T, cens)
    hit = np.nonzero(S <= 1 - q + 1e-12)[0]
    return float(times[hit[0]]) if len(hit) else math.inf


def cell_quantile(T, censored, q: float = 0.5) -> float:
    """Quantile of a cell: Kaplan-Meier if more than 10% censored, else the order statistic (censored
    runs sort last, as they exceed every observed time under a common cutoff)."""
    T, cens = np.asarray(T, dtype=float), np.asarray(censored, dtype=bool)
    if cens.mean() > KM_THRESHOLD:
        return km_quantile(T, cens, q)
    x = np.where(cens, np.inf, T)
    return float(np.quantile(x, q, method="inverted_cdf"))


def _censored_last(T, cens) -> bool:
    """Every censored time is at or beyond every observed one (one common cutoff, as first_passage's T = inf):
    then the Kaplan-Meier curve is the empirical one, S(u) = #{T > u} / n at each event time u."""
    return not cens.any() or cens.all() or float(T[cens].min()) >= float(T[~cens].max())


def _km_quantile_rows(T, cens, q: float):
    """km_quantile of each row of (T, cens) when every censored time is last (_censored_last): the smallest event
    time u with #{events <= u} / n >= q - 1e-12, i.e. km_quantile's S(u) <= 1 - q + 1e-12 with S(u) exact."""
    n = T.shape[1]
    srt = np.sort(np.where(cens, np.inf, T), axis=1)              # censored (never an event) sort last
    e = int(np.argmax(np.arange(1, n + 1) / n >= q - 1e-12))     # e + 1 events needed
    return srt[:, e]                                              # inf if the curve never gets there


def bootstrap_quantile(T, censored, rng, n_boot: int = 2000, q: float = 0.5, level: float = 0.95):
    """(point, lo, hi, draws): percentile-bootstrap CI at ``level`` (two-sided) of a cell quantile, resampling
    runs (Kaplan-Meier for a resample with more than 10% censored, as :func:`cell_quantile`)."""
    T, cens = np.asarray(T, dtype=float), np.asarray(censored, dtype=bool)
    n = len(T)
    idx = rng.integers(0, n, size=(n_boot, n))
    cs = cens[idx]
    plain = cs.mean(axis=1) <= KM_THRESHOLD
    draws = np.empty(n_boot)
    if plain.any():                                              # vectorised order statistics: np.quantile's
        k = int(np.quantile(np.arange(n), q, method="inverted_cdf"))  # inverted_cdf element, rank k of each row
        draws[plain] = np.sort(np.where(cs[plain], np.inf, T[idx[plain]]), axis=1)[:, k]
    km = np.nonzero(~plain)[0]
    if len(km) and _censored_last(T, cens):                      # km_quantile's fast path, all rows at once
        draws[km] = _km_quantile_rows(T[idx[km]], cs[km], q)
    else:
        for j in km:
            draws[j] = km_quantile(T[idx[j]], cs[j], q)
    a = (1 - level) / 2
    lo, hi = np.quantile(draws, [a, 1 - a])
    return cell_quantile(T, cens, q), float(lo), float(hi), draws


def wls(x, y, w):
    """Weighted least squares y = a + b x: (a, b, weighted RSS)."""
    x, y, w = (np.asarray(v, dtype=float) for v in (x, y, w))
    X = np.stack([np.ones_like(x), x], 1)
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
    rss = float(np.sum(w * (y - X @ coef) ** 2))
    return float(coef[0]), float(coef[1]), rss


def _wls_slopes(x, Y, w):
    """wls(x, Y[:, j], w)[1] for every column j at once (one weighted design, many right-hand sides)."""
    X = np.stack([np.ones_like(x), x], 1)
    sw = np.sqrt(np.asarray(w, dtype=float))
    coef, *_ = np.linalg.lstsq(X * sw[:, None], Y * sw[:, None], rcond=None)
    return coef[1]


@dataclass
class LogLogFit:
    slope: float
    intercept: float
    lo: float
    hi: float
    medians: list
    weights: list
    boot_slopes: np.ndarray
    censored_fraction: list

    def ci(self, alpha: float = 0.05) -> tuple[float, float]:
        """The two-sided (1 - alpha) percentile-bootstrap interval of the slope (alpha: e.g. a Holm level)."""
        a, b = np.quantile(self.boot_slopes, [alpha / 2, 1 - alpha / 2])
        return float(a), float(b)

    def tost_p(self, lo: float, hi: float) -> float:
        """Bootstrap TOST p-value of 'the slope lies in [lo, hi]' (small: the bootstrap slopes sit inside)."""
        return float(min(1.0, 2 * max(np.mean(self.boot_slopes <= lo), np.mean(self.boot_slopes >= hi))))


def loglog_fit(x, cells, rng, n_boot: int = 2000, level: float = 0.95, q: float = 0.5) -> LogLogFit:
    """Fit log median T = a + s log x with weights 1 / Var_boot(log median), bootstrap over seeds; [lo, hi]:
    the two-sided ``level`` percentile interval of the bootstrap slopes (the fit's weights held fixed).

    cells: list of (T, censored) per x.  Cells whose median is censored (inf) make the fit impossible:
    the slope is then nan (callers report inconclusive or fail the censoring condition)."""
    lx = np.log(np.asarray(x, dtype=float))
    meds, draws, cf = [], [], []
    for T, c in cells:
        pt, _, _, dr = bootstrap_quantile(T, c, rng, n_boot, q)
        meds.append(pt), draws.append(dr), cf.append(float(np.mean(c)))
    draws = np.log(np.array(draws))                               # (cells, n_boot)
    if not np.all(np.isfinite(draws)) or not np.all(np.isfinite(meds)):
        nan = float("nan")
        return LogLogFit(nan, nan, nan, nan, meds, [], np.array([nan]), cf)
    var = np.maximum(draws.var(axis=1), 1e-8)
    w = 1 / var
    a, s, _ = wls(lx, np.log(meds), w)
    boot = _wls_slopes(lx, draws, w)
    al = (1 - level) / 2
    return LogLogFit(s, a, float(np.quantile(boot, al)), float(np.quantile(boot, 1 - al)), meds, w.tolist(),
                     boot, cf)


def aic_power_vs_exp(x, y, w=None) -> dict:
    """Weighted fits log y = a + q log x (power) and log y = a + b x (exponential).
    AIC = n log(RSS/n) + 2p (Gaussian errors, p = 2 each); delta = AIC_exp - AIC_power (> 0 favours power)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    w = w / w.mean()
    n = len(x)
    ap, qp, rp = wls(np.log(x), np.log(y), w)
    ae, be, re = wls(x, np.log(y), w)
    floor = 1e-300
    aic_p = n * math.log(max(rp, floor) / n) + 4
    aic_e = n * math.log(max(re, floor) / n) + 4
    return {"power_q": qp, "exp_b": be, "aic_power": aic_p, "aic_exp": aic_e, "delta_aic": aic_e - aic_p}


def holm(pvalues, alpha: float = 0.05):
    """Holm's step-down procedure: (adjusted p-values, rejected flags) in the input order."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj, adj <= alpha


def holm_levels(pvalues, alpha: float = 0.05):
    """The per-test level alpha / (m - rank) Holm compares each p-value with (rank by increasing p)."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    lv = np.empty(m)
    for rank, i in enumerate(np.argsort(p, kind="stable")):
        lv[i] = alpha / (m - rank)
    return lv


def ratio_ci(T1, c1, T2, c2, rng, n_boot: int = 2000, level: float = 0.95):
    """Median(T2) / median(T1) with a percentile-bootstrap CI (independent resampling of the two cells)."""
    _, _, _, d1 = bootstrap_quantile(T1, c1, rng, n_boot)
    _, _, _, d2 = bootstrap_quantile(T2, c2, rng, n_boot)
    r = d2 / d1
    a = (1 - level) / 2
    return cell_quantile(T2, c2) / cell_quantile(T1, c1), float(np.quantile(r, a)), float(np.quantile(r, 1 - a))
