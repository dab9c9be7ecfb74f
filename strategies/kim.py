"""Hypothesis strategies for Kim, Kim, Ryu (2025) instances, as JSON-able drawn dicts.

The regime is known by construction and kept away from the boundary 2 alpha = beta:
G-quad draws kappa in [1, 1.9] (special) or [2.2, 100] (generic); G-logit sets mu = c * lambda_max/(4N)
with c >= 1.1 (special) or c <= 0.9 (generic); G-sense draws p >= 40 mn (special candidates) or
p in [mn, 2mn] (generic), and the claim keeps only rows whose exact 2 alpha / beta is in the regime.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .domain import OneOf, Span, declares
from .ntk import SEED_SPAN, SEEDS, large_sizes, log_uniform

STARTS_SPEC = "zero(1), 0.01, 1, 3, 10"


def base_family(d: dict) -> str:
    """The family a draw's instance comes from (G-quad's block variants gquad-blocks / gquad-coupled: gquad)."""
    return d.get("family", "").split("-")[0]


def _lam_range(d: dict) -> tuple[float, float]:
    if base_family(d) == "gquad":
        return 0.1 * d["target_scale"], 0.6 * d["target_scale"]
    return (0.01, 10 ** -0.7) if d["family"] == "gsense" else (10 ** -2.5, 0.1)


def kim_top(profile, families, large: bool) -> int:
    """The largest m, n of a claim's large G-quad draws: the profile's landscape_max_dim where the claim
    asks for them (``large``), G-quad is among its families and the profile reaches past max_dim, else 0.
    Only G-quad scales: its Hessian is diagonal (never formed; BENCHMARKS.md, scaling), while G-sense's
    p >= 40 mn sensing matrices and G-logit's N >= 4 mn samples of mn features are O((mn)^2) data
    (at m = n = 64: 671 M and 67 M numbers per instance)."""
    return large_sizes(profile, large and "gquad" in families)


def kim_domain(profile, *, regime: str, families=("gquad", "gsense", "glogit"), r_extra=(0, 1),
               large: bool = False) -> dict:
    """The space kim_draws promises (a family's own parameters are declared for that family's draws only)."""
    hi = min(5, int(profile.get("max_dim", 5)))
    top = kim_top(profile, families, large)
    special = regime == "special"
    mn = lambda d: d["m"] * d["n"]                                       # noqa: E731
    if top:
        side = Span(2, lambda d: top if d["family"] == "gquad" else hi, text=f"[2, {hi}] (G-quad: [2, {top}])")
        batch = OneOf(tuple(sorted({int(profile.get("batch", 1)), 1})))
    else:
        side, batch = Span(2, hi), OneOf((int(profile.get("batch", 1)),))
    dom = {"family": OneOf(tuple(families)), "m": side, "n": side,
           "target_rank": Span(1, lambda d: min(2, d["m"], d["n"]), text="[1, min(2, m, n)]"),
           "seed": SEED_SPAN, "batch": batch,
           "inits": OneOf((max(1, int(profile.get("inits", 5)) // 3),)),
           "r": Span(lambda d: min(d["target_rank"] + min(r_extra), d["m"], d["n"]),
                     lambda d: min(d["target_rank"] + max(r_extra), d["m"], d["n"]),
                     text=f"[min(k + {min(r_extra)}, m, n), min(k + {max(r_extra)}, m, n)]"),
           "lam": Span(lambda d: _lam_range(d)[0], lambda d: _lam_range(d)[1],
                       text="gquad [0.1, 0.6] target_scale; gsense [1e-2, 10^-0.7]; glogit [10^-2.5, 1e-1]")}
    fam = lambda name: (lambda d: base_family(d) == name)                   # noqa: E731
    if "gquad" in families:
        dom["kappa"] = Span(1.0, 1.9, when=fam("gquad")) if special else Span(10 ** 0.35, 100.0, log=True,
                                                                               when=fam("gquad"))
        dom["target_scale"] = Span(1.0, 4.0, when=fam("gquad"))
    if "gsense" in families:
        dom["p"] = (Span(lambda d: 40 * mn(d), lambda d: 60 * mn(d), text="[40mn, 60mn]", when=fam("gsense"))
                    if special else Span(mn, lambda d: 2 * mn(d), text="[mn, 2mn]", when=fam("gsense")))
    if "glogit" in families:
        dom["N"] = Span(lambda d: 4 * mn(d), lambda d: 8 * mn(d), text="[4mn, 8mn]", when=fam("glogit"))
        dom["mu_factor"] = (Span(1.1, 3.0, when=fam("glogit")) if special
                            else Span(0.05, 0.9, when=fam("glogit")))
    return dom


@declares(kim_domain)
@st.composite
def kim_draws(draw, profile, *, regime: str, families=("gquad", "gsense", "glogit"), r_extra=(0, 1),
              large: bool = False):
    """One instance of the families: m, n in [2, min(5, max_dim)]; ``large``: where the profile has a
    landscape_max_dim past max_dim (kim_top), half the G-quad draws are layers with m in (5, top] and n in
    [2, top], one instance per example (the ci profile has none, so its draws are unchanged)."""
    family = draw(st.sampled_from(families))
    hi = min(5, int(profile.get("max_dim", 5)))
    top = kim_top(profile, families, large)
    big = bool(top) and family == "gquad" and draw(st.booleans())
    m = draw(st.integers(hi + 1, top)) if big else draw(st.integers(2, hi))
    n = draw(st.integers(2, top if big else hi))
    k = draw(st.integers(1, min(2, m, n)))
    d = {"family": family, "m": m, "n": n, "target_rank": k, "seed": draw(SEEDS),
         "batch": 1 if big else int(profile.get("batch", 1)), "inits": max(1, int(profile.get("inits", 5)) // 3)}
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


def approx_draws(profile, *, regime: str):
    """G-quad instances for Theorem 3: kim_draws' G-quad (r in {k, k + 1}) with a full-rank target tail of
    spectral norm tail * target_scale, tail log-uniform in [1e-4, 3e-3], lam in [0.1, 0.5] tail * target_scale
    (below the tail, so X* keeps it), and eps in [0.1, 0.6]."""
    from .domain import with_domain
    base = kim_draws(profile, regime=regime, families=("gquad",), r_extra=(0, 1))

    def extend(d):
        return st.tuples(log_uniform(-4.0, float(np.log10(3e-3))), st.floats(0.1, 0.5), st.floats(0.1, 0.6)).map(
            lambda t: {**d, "tail": t[0], "lam": float(f"{t[1] * t[0] * d['target_scale']:.4g}"),
                       "eps": float(f"{t[2]:.3g}")})
    lam = lambda d: d["tail"] * d["target_scale"]                        # noqa: E731
    return with_domain(base.flatmap(extend), base, drop=("lam",), extra={
        "tail": Span(1e-4, 3e-3, log=True), "eps": Span(0.1, 0.6),
        "lam": Span(lambda d: 0.1 * lam(d), lambda d: 0.5 * lam(d), text="[0.1, 0.5] tail target_scale")})


def lemma1_domain(profile) -> dict:
    """The space lemma1_draws promises (Lemma 1's minibatch SGD on a linear layer)."""
    hi = max(4, min(10, int(profile.get("max_dim", 10))))
    mn = lambda d: min(d["m"], d["n"])                                    # noqa: E731
    return {"m": Span(4, hi), "n": Span(4, hi), "r": Span(mn, mn, text="min(m, n)"),
            "N": Span(lambda d: d["n"], lambda d: 3 * d["n"], text="[n, 3n]"), "teacher_rank": Span(1, 2),
            "b": OneOf((1, 2)), "K": Span(1, 3),
            "steps": Span(lambda d: d["K"], lambda d: 4 * d["K"], text="[K, 4K]"),
            "lam": Span(0.1, 1.0, log=True), "mu": Span(0.05, 0.5), "eps": Span(0.1, 0.9),
            "seed": SEED_SPAN, "batch": OneOf((int(profile.get("batch", 1)),))}


@declares(lemma1_domain)
@st.composite
def lemma1_draws(draw, profile):
    """m, n in [4, min(10, max_dim)], r = min(m, n), N in [n, 3n] samples, teacher rank 1-2, minibatch b in {1, 2},
    horizon K in [1, 3], T in [K, 4K] steps, lam log-uniform in [0.1, 1], step mu in [0.05, 0.5], eps in [0.1, 0.9]."""
    hi = max(4, min(10, int(profile.get("max_dim", 10))))
    m, n, K = draw(st.integers(4, hi)), draw(st.integers(4, hi)), draw(st.integers(1, 3))
    return {"m": m, "n": n, "r": min(m, n), "N": draw(st.integers(n, 3 * n)), "teacher_rank": draw(st.integers(1, 2)),
            "b": draw(st.sampled_from((1, 2))), "K": K, "steps": draw(st.integers(K, 4 * K)),
            "lam": draw(log_uniform(-1.0, 0.0)), "mu": float(f"{draw(st.floats(0.05, 0.5)):.3g}"),
            "eps": float(f"{draw(st.floats(0.1, 0.9)):.3g}"), "seed": draw(SEEDS),
            "batch": int(profile.get("batch", 1))}
