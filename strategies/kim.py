"""Hypothesis strategies for Kim, Kim, Ryu (2025) instances, as JSON-able drawn dicts.

The regime is known by construction and kept away from the boundary 2 alpha = beta:
G-quad draws kappa in [1, 1.9] (special) or [2.2, 100] (generic); G-logit sets mu = c * lambda_max/(4N)
with c >= 1.1 (special) or c <= 0.9 (generic); G-sense draws p >= 40 mn (special candidates) or
p in [mn, 2mn] (generic), and the claim keeps only rows whose exact 2 alpha / beta is in the regime.
"""
from __future__ import annotations

from hypothesis import strategies as st

from .ntk import SEEDS, log_uniform

STARTS_SPEC = "zero(1), 0.01, 1, 3, 10"


@st.composite
def kim_draws(draw, profile, *, regime: str, families=("gquad", "gsense", "glogit"), r_extra=(0, 1)):
    family = draw(st.sampled_from(families))
    hi = min(5, int(profile.get("max_dim", 5)))
    m = draw(st.integers(2, hi))
    n = draw(st.integers(2, hi))
    k = draw(st.integers(1, min(2, m, n)))
    d = {"family": family, "m": m, "n": n, "target_rank": k, "seed": draw(SEEDS),
         "batch": int(profile.get("batch", 1)), "inits": max(1, int(profile.get("inits", 5)) // 3)}
    d["r"] = min(k + draw(st.sampled_from(r_extra)), min(m, n))
    if family == "gquad":
        if regime == "special":
            d["kappa"] = float(f"{draw(st.floats(1.0, 1.9)):.4g}")
        else:
            d["kappa"] = draw(log_uniform(0.35, 2.0))
        d["target_scale"] = float(f"{draw(st.floats(1.0, 4.0)):.3g}")
        # sigma_1(T) = target_scale: lam below it keeps X* != 0
        d["lam"] = float(f"{draw(st.floats(0.1, 0.6)) * d['target_scale']:.4g}")
    elif family == "gsense":
        mn = m * n
        d["p"] = draw(st.integers(40 * mn, 60 * mn)) if regime == "special" else draw(st.integers(mn, 2 * mn))
        d["lam"] = draw(log_uniform(-2.0, -0.7))
    else:
        d["N"] = draw(st.integers(4 * m * n, 8 * m * n))
        d["mu_factor"] = draw(st.floats(1.1, 3.0)) if regime == "special" else draw(st.floats(0.05, 0.9))
        d["lam"] = draw(log_uniform(-2.5, -1.0))
    return d
