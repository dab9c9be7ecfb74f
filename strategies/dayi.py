"""Hypothesis strategies for the (reconstructed) Dayi-Chen rank-1 fine-tuning instances.

A drawn dict holds plain parameters; :func:`setting_from_draw` builds the exact Setting (c, lam) and
:func:`sgd_config` the SGD configuration from it.  Random entries come from a CPU torch generator seeded by
``seed``, so every instance is reproducible from its drawn values.  Preconditions hold by construction:
d >= k + 2, ||c|| = 1, xi in the spec's range, and (``monotone``) xi max|c_i| <= 1.

Profiles: ``ci`` draws the SGD claims from one small configuration (d <= 256, a few dozen seeds, CPU);
``nightly`` draws from the spec's full grids (d up to ``dayi_d_max`` = 4096, >= 256 seeds per cell).
"""
from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from ..theorems.numerics.hermite import FAMILY, NONLINEAR
from ..theorems.numerics.online_sgd import SGDConfig
from ..theorems.numerics.teacher_student import Setting

from .domain import OneOf, Span, declares
from .ntk import SEED_SPAN
from .seeding import generator

SEEDS = st.integers(0, 2**31 - 1)
C_MODES = ("uniform", "e1", "positive")
LAM_MODES = ("inv_sqrt", "signed", "inv_k")


def c_vector(mode: str, k: int, seed: int) -> list[float]:
    """c in S^{k-1}: uniform, e1, or all-positive (|uniform|)."""
    if mode == "e1":
        return [1.0] + [0.0] * (k - 1)
    g = torch.randn(k, generator=generator(seed), dtype=torch.float64)
    if mode == "positive":
        g = g.abs()
    elif mode == "flat":
        g = torch.ones(k, dtype=torch.float64)
    return (g / g.norm()).tolist()


def lam_vector(mode: str, k: int, seed: int) -> list[float]:
    """lam_i = 1/sqrt(k), +-1/sqrt(k) (random signs) or 1/k."""
    if mode == "inv_k":
        return [1.0 / k] * k
    if mode == "signed":
        s = torch.randint(0, 2, (k,), generator=generator(seed + 1)) * 2 - 1
        return [float(x) / math.sqrt(k) for x in s]
    return [1.0 / math.sqrt(k)] * k


def setting_from_draw(drawn: dict, xi: float | None = None, k: int | None = None) -> Setting:
    k = drawn["k"] if k is None else k
    seed = drawn["seed"]
    return Setting(drawn["act"], tuple(lam_vector(drawn["lam_mode"], k, seed)),
                   tuple(c_vector(drawn["c_mode"], k, seed)), float(drawn["xi"] if xi is None else xi))


def sgd_config(drawn: dict, d: int, *, k: int | None = None, xi: float | None = None, act: str | None = None,
               **kw) -> SGDConfig:
    s = setting_from_draw(dict(drawn, act=act or drawn["act"]), xi=xi, k=k)
    return SGDConfig(s.act, s.k, d, s.xi, s.c, s.lam, eta0=drawn["eta0"], **kw)


def _num(x: float, digits: int = 3) -> float:
    return float(f"{x:.{digits}g}")


def _sgd_grid(profile) -> list[int]:
    d_max, lo = int(profile.get("dayi_d_max", 256)), int(profile.get("dayi_d_min", 128))
    if profile.name == "ci":
        return [32, 64, 128, 256][: max(2, int(math.log2(d_max)) - 4)]
    return [lo * 2 ** i for i in range(int(math.log2(d_max // lo)) + 1)]


def dayi_domain(profile, *, mode: str = "exact", acts=NONLINEAR, k_range=(2, 64), xi_range=(0.25, 3.0),
                monotone: bool = False, d_range=None, c_modes=C_MODES) -> dict:
    """The space dayi_draws promises (exact mode: k, xi, d ranges; sgd mode: the profile's grid)."""
    if mode == "exact":
        k_hi = min(k_range[1], int(profile.get("dayi_k_max", 64)))

        def xi_hi(d):
            if not monotone:
                return xi_range[1]
            return min(xi_range[1], 1.0 / max(abs(v) for v in c_vector(d["c_mode"], d["k"], d["seed"])))

        lo = (lambda d: max(d_range[0], d["k"] + 2)) if d_range else (lambda d: d["k"] + 2)
        hi = ((lambda d: max(d_range[1], d["k"] + 2)) if d_range
              else (lambda d: max(d["k"] + 2, int(profile.get("dayi_exact_d_max", 48)))))
        return {"act": OneOf(tuple(acts)), "k": Span(k_range[0], k_hi),
                "xi": Span(xi_range[0], xi_hi, text=f"[{xi_range[0]:g}, {xi_range[1]:g}" + (" ^ 1/max|c|]" if monotone else "]")),
                "c_mode": OneOf(tuple(c_modes)), "lam_mode": OneOf(LAM_MODES),
                "d": Span(lo, hi, text="[k + 2, d max]"), "seed": SEED_SPAN}
    runs, ds = int(profile.get("dayi_seeds", 32)), tuple(_sgd_grid(profile))
    if profile.name == "ci":
        return {"act": OneOf((acts[0],)), "k": OneOf((4,)), "xi": OneOf((1.0,)), "c_mode": OneOf(("flat",)),
                "lam_mode": OneOf(("inv_sqrt",)), "eta0": OneOf((0.1,)), "eps": OneOf((0.1,)), "ds": OneOf((ds,)),
                "runs": OneOf((runs,)), "t_factor": OneOf((3.0,)),
                "seed": OneOf(tuple(range(int(profile.get("dayi_instances", 1)))))}
    return {"act": OneOf(tuple(acts)), "k": OneOf((2, 4, 8)), "xi": OneOf((0.5, 1.0, 2.0)),
            "c_mode": OneOf(("flat",) + C_MODES), "lam_mode": OneOf(("inv_sqrt", "inv_k")),
            "eta0": OneOf((0.05, 0.1)), "eps": OneOf((0.1,)), "ds": OneOf((ds,)), "runs": OneOf((runs,)),
            "t_factor": OneOf((3.0,)), "seed": SEED_SPAN}


@declares(dayi_domain)
@st.composite
def dayi_draws(draw, profile, *, mode: str = "exact", acts=NONLINEAR, k_range=(2, 64), xi_range=(0.25, 3.0),
               monotone: bool = False, d_range=None, c_modes=C_MODES):
    """One instance family as a JSON-able dict.

    ``mode='exact'`` (population tools): act, k, xi, c_mode, lam_mode, d (ambient dimension for the
    u-space checks), seed.  ``mode='sgd'`` adds eta0, eps, ds (the d grid), runs (seeds per cell) and
    t_factor (censoring at t_factor x the ODE prediction); in the ``ci`` profile these come from one small
    configuration with seed in a short fixed list (so a claim costs one or two examples).  ``c_modes``
    restricts the exact mode's c vectors (e.g. a control that needs c spread over many neurons)."""
    ci = profile.name == "ci"
    if mode == "exact":
        k = draw(st.integers(k_range[0], min(k_range[1], int(profile.get("dayi_k_max", 64)))))
        c_mode = draw(st.sampled_from(c_modes))
        seed = draw(SEEDS)
        xi_hi = xi_range[1]
        if monotone:
            cmax = max(abs(v) for v in c_vector(c_mode, k, seed))
            xi_hi = min(xi_hi, 1.0 / cmax)
        xi = _num(draw(st.floats(xi_range[0], xi_hi)))
        xi = min(max(xi, xi_range[0]), xi_hi)
        lo, hi = d_range or (k + 2, max(k + 2, int(profile.get("dayi_exact_d_max", 48))))
        return {"act": draw(st.sampled_from(acts)), "k": k, "xi": xi, "c_mode": c_mode,
                "lam_mode": draw(st.sampled_from(LAM_MODES)), "d": draw(st.integers(max(lo, k + 2), max(hi, k + 2))),
                "seed": seed}
    if mode != "sgd":
        raise ValueError(mode)
    runs = int(profile.get("dayi_seeds", 32))
    ds = _sgd_grid(profile)
    if ci:
        seed = draw(st.sampled_from(list(range(int(profile.get("dayi_instances", 1))))))
        return {"act": acts[0], "k": 4, "xi": 1.0, "c_mode": "flat", "lam_mode": "inv_sqrt",
                "eta0": 0.1, "eps": 0.1, "ds": ds, "runs": runs, "t_factor": 3.0, "seed": seed}
    return {"act": draw(st.sampled_from(acts)), "k": draw(st.sampled_from([2, 4, 8])),
            "xi": draw(st.sampled_from([0.5, 1.0, 2.0])), "c_mode": draw(st.sampled_from(("flat",) + C_MODES)),
            "lam_mode": draw(st.sampled_from(("inv_sqrt", "inv_k"))),
            "eta0": draw(st.sampled_from([0.05, 0.1])), "eps": 0.1, "ds": ds, "runs": runs, "t_factor": 3.0,
            "seed": draw(SEEDS)}


FAMILY_ALL = FAMILY
