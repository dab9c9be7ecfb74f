"""Hypothesis strategies for the (reconstructed) Xu et al. (2025) instances, as JSON-able drawn dicts.

A drawn dict (see xu_draws) holds plain parameters; strategies.xu_instances.instance_from_draw builds the
tensors from it (U from ``seed``, R0 from seed + 1, random-init Gaussians from seed + 2).

Preconditions hold by construction:
  * m >= rank(U) + k, so every angle in [0, pi/2) is realisable (Reading A: only theta = 0);
  * k <= rank(U), k <= n, r <= min(h, n) (and r <= k under the default r_mode='le');
  * target gaps sigma_i / sigma_{i+1} >= 1.3, and (m_gap) the exact singular values of M = U^T R0,
    s_i sigma_i cos(theta_i), are descending with the same gap, so top-r spectral directions are well defined;
  * Reading B': 0 < rank(U) < h (non-trivial ker U);
  * wrong_room: h - k >= r and n - k >= r (room for the negative-control init N1).
Everything shrinks toward small dims, k = r = 1, theta = 0, gains 1 and small sigmas.
"""
from __future__ import annotations

import math

from hypothesis import strategies as st

from .domain import OneOf, Span, declares, union
from .ntk import SEED_SPAN, SEEDS

GAP = 1.3
THETA_MAX = math.pi / 2 - 0.05
DIM_LO = 4
DIM_HI = 16

# alpha grids of the spec (B1-B4: small random init; B6: Reading B' distance to U^+ R0; N3: large init)
ALPHA_GRIDS = {
    "small": [1e-4, 1e-6, 1e-8],
    "bprime": [1e-1, 1e-2, 1e-3],
    "large": [3.0, 10.0, 30.0],        # control N3: alpha >= sigma_1(R0) (sigma_base <= 2 for rank-1 targets)
}

VARIANTS = ("A", "B", "B'")


def _floor(x: float, digits: int) -> float:
    return math.floor(x * 10 ** digits) / 10 ** digits


def _sigmas_with_gaps(base: float, ratios, c) -> list[float]:
    """sigma_k = base, sigma_i = sigma_{i+1} rho_i max(1, c_{i+1}/c_i) rounded up to 4 significant digits,
    nudged until sigma_i/sigma_{i+1} >= rho_i (>= GAP) and, when c is given, the M-values c_i sigma_i keep
    the ratio >= GAP too."""
    k = len(ratios) + 1
    s = [0.0] * k
    s[-1] = base
    for i in range(k - 2, -1, -1):
        f = ratios[i] if c is None else ratios[i] * max(1.0, c[i + 1] / c[i])
        v = float(f"{s[i + 1] * f:.4g}")
        while v / s[i + 1] < GAP or (c is not None and c[i] * v / (c[i + 1] * s[i + 1]) < GAP) \
                or v < s[i + 1] * f * (1 - 1e-12):
            v = float(f"{v * (1 + 1e-4):.5g}")
        s[i] = v
    return s


def xu_domain(profile, *, variant=("B",), aligned=None, rank_target=(1, 3), r_range=(1, 3), r_mode="le",
              theta_range=(0.0, THETA_MAX), misaligned_min=0.1, gain_range=(0.5, 1.4), sigma_base=(0.5, 2.0),
              ratio_range=(GAP, 2.5), m_gap=True, wrong_room=False, alpha_grids=("small",), batch=True) -> dict:
    """The space xu_draws promises (dims per reading as its docstring says; list-valued keys judged per
    element).  sigmas: only bounded below by sigma_base (the gaps raise the others)."""
    hi = max(DIM_LO, min(DIM_HI, int(profile.get("max_dim", DIM_HI))))
    k_lo = max(rank_target[0], 2) if r_mode == "lt" else rank_target[0]
    r_span = {"le": Span(r_range[0], lambda d: min(r_range[1], d["k"]), text=f"[{r_range[0]}, min({r_range[1]}, k)]"),
              "lt": Span(r_range[0], lambda d: min(r_range[1], d["k"] - 1), text=f"[{r_range[0]}, min({r_range[1]}, k - 1)]"),
              "eq": Span(lambda d: d["k"], lambda d: d["k"], text="k"), "any": Span(*r_range)}[r_mode]
    extra = lambda d: d["k"] + d["r"] if wrong_room else 0                       # noqa: E731
    n_lo = lambda d: max(DIM_LO, d["k"], extra(d))                              # noqa: E731

    def m_lo(d):
        if d["variant"] == "A":
            return max(DIM_LO, d["k"], extra(d))
        if d["variant"] == "B":
            return max(DIM_LO, max(DIM_LO, d["k"], extra(d)) + d["k"])
        return max(DIM_LO, 2 * d["k"])

    def h_range(d):
        if d["variant"] == "A":
            return d["m"], d["m"]
        if d["variant"] == "B":
            return max(DIM_LO, d["k"], extra(d)), d["m"] - d["k"]
        lo = max(DIM_LO, d["k"] + 1, extra(d))
        return lo, max(lo, hi)

    def rank_u_range(d):
        if d["variant"] == "B'":
            return d["k"], min(d["m"] - d["k"], d["h"] - 1)
        return d["h"], d["h"]

    theta_lo = max(theta_range[0], misaligned_min) if aligned is False else theta_range[0]
    thetas = Span(0.0, 0.0) if aligned is True or tuple(variant) == ("A",) else Span(theta_lo, theta_range[1])
    alphas = sorted(a for g in alpha_grids for a in ALPHA_GRIDS[g])
    dom = {"variant": OneOf(tuple(variant)), "k": Span(k_lo, rank_target[1]), "r": r_span,
           "n": Span(n_lo, lambda d: max(n_lo(d), hi), text=f"[max(4, k, room), {hi}]"),
           "m": Span(m_lo, lambda d: max(m_lo(d), hi), text=f"[reading's lower bound, {hi}]"),
           "h": Span(lambda d: h_range(d)[0], lambda d: h_range(d)[1], text="per reading"),
           "rank_u": Span(lambda d: rank_u_range(d)[0], lambda d: rank_u_range(d)[1], text="h (B'': [k, min(m - k, h - 1)])"),
           "gains": Span(*gain_range) if tuple(variant) != ("A",) else Span(1.0, 1.0),
           "thetas": thetas,
           "sigmas": Span(sigma_base[0], math.inf, reach=False, text=f">= {sigma_base[0]}"),
           "alpha_grid": OneOf(tuple(alpha_grids)), "alphas": Span(alphas[0], alphas[-1], log=True),
           "seed": SEED_SPAN, "batch": OneOf((int(profile.get("batch", 1)) if batch else 1,))}
    if "A" in variant and tuple(variant) != ("A",):
        dom["gains"] = union(Span(*gain_range), Span(1.0, 1.0))
    return dom


@declares(xu_domain)
@st.composite
def xu_draws(draw, profile, *, variant=("B",), aligned=None, rank_target=(1, 3), r_range=(1, 3),
             r_mode="le", theta_range=(0.0, THETA_MAX), misaligned_min=0.1, gain_range=(0.5, 1.4),
             sigma_base=(0.5, 2.0), ratio_range=(GAP, 2.5), m_gap=True, wrong_room=False,
             alpha_grids=("small",), batch=True):
    """One Xu instance family as a dict.

    Keys: variant ('A' | 'B' | "B'"), k (target rank), r (LoRA rank), m, n, h, rank_u (rank of U),
    gains (rank_u floats; Reading A: [1.0] * m), sigmas (k, descending), thetas (k), alpha_grid (key of
    ALPHA_GRIDS), alphas (that grid), seed, batch.

    ``variant``: the readings to draw from.  ``aligned``: True -> thetas = 0; False -> every theta >=
    misaligned_min (not for Reading A); None -> thetas in theta_range (shrinking to 0).  ``r_mode``: 'le'
    (r <= k), 'lt' (r < k, forces k >= 2), 'eq' (r = k) or 'any'.  ``m_gap``: make M's singular values
    s_i sigma_i cos theta_i descending with gaps >= 1.3 as well (sigmas grow to compensate).  Dims lie in
    [4, min(16, max_dim)], raised only where a precondition needs more room.
    """
    var = draw(st.sampled_from(variant))
    if var == "A" and aligned is False:
        raise ValueError("Reading A (U = I) cannot be misaligned")
    k_lo, k_hi = rank_target
    if r_mode == "lt":
        k_lo = max(k_lo, 2)
    k = draw(st.integers(k_lo, k_hi))
    if r_mode == "le":
        r = draw(st.integers(r_range[0], min(r_range[1], k)))
    elif r_mode == "lt":
        r = draw(st.integers(r_range[0], min(r_range[1], k - 1)))
    elif r_mode == "eq":
        r = k
    elif r_mode == "any":
        r = draw(st.integers(*r_range))
    else:
        raise ValueError(f"unknown r_mode {r_mode!r}")
    hi = max(DIM_LO, min(DIM_HI, int(profile.get("max_dim", DIM_HI))))
    extra = k + r if wrong_room else 0  # room for N1: h - dim K >= r, n - rank M >= r (dim K = rank M = k)
    n_lo = max(DIM_LO, k, extra)
    n = draw(st.integers(n_lo, max(n_lo, hi)))
    if var == "A":
        m_lo = max(DIM_LO, k, extra)
        m = draw(st.integers(m_lo, max(m_lo, hi)))
        h = rank_u = m
        gains = [1.0] * m
    elif var == "B":
        h_lo = max(DIM_LO, k, extra)
        m_lo = max(DIM_LO, h_lo + k)
        m = draw(st.integers(m_lo, max(m_lo, hi)))
        h = draw(st.integers(h_lo, m - k))
        rank_u = h
    elif var == "B'":
        h_lo = max(DIM_LO, k + 1, extra)
        m_lo = max(DIM_LO, 2 * k)
        m = draw(st.integers(m_lo, max(m_lo, hi)))
        h = draw(st.integers(h_lo, max(h_lo, hi)))
        rank_u = draw(st.integers(k, min(m - k, h - 1)))
    else:
        raise ValueError(f"unknown variant {var!r} (choose from {VARIANTS})")
    if var != "A":
        gains = [float(f"{draw(st.floats(*gain_range)):.3g}") for _ in range(rank_u)]
        gains = [min(max(x, gain_range[0]), gain_range[1]) for x in gains]
    if var == "A" or aligned is True:
        thetas = [0.0] * k
    else:
        lo = max(theta_range[0], misaligned_min) if aligned is False else theta_range[0]
        thetas = [max(lo, _floor(draw(st.floats(lo, theta_range[1])), 4)) for _ in range(k)]
    base = float(f"{draw(st.floats(*sigma_base)):.3g}")
    base = min(max(base, sigma_base[0]), sigma_base[1])
    ratios = [draw(st.floats(*ratio_range)) for _ in range(k - 1)]
    c = [gains[i] * math.cos(thetas[i]) for i in range(k)] if m_gap else None
    sigmas = _sigmas_with_gaps(base, ratios, c)
    grid = draw(st.sampled_from(alpha_grids))
    d = {"variant": var, "k": k, "r": r, "m": m, "n": n, "h": h, "rank_u": rank_u, "gains": gains,
         "sigmas": sigmas, "thetas": thetas, "alpha_grid": grid, "alphas": list(ALPHA_GRIDS[grid]),
         "seed": draw(SEEDS)}
    d["batch"] = int(profile.get("batch", 1)) if batch else 1
    return d


def tie_top_two(d: dict) -> dict:
    """Control N2: the same draw with sigma_2 = sigma_1 (no spectral gap at the top; Reading A, where M = R0)."""
    if d["variant"] != "A" or d["k"] < 2:
        raise ValueError("tie_top_two needs a Reading A draw with k >= 2")
    return dict(d, sigmas=[d["sigmas"][0]] * 2 + list(d["sigmas"][2:]))


def xu_batch_domain(profile, *, distinct=(3, 4), rows=(32, 64), speed=(10.0, 40.0),
                    fast_log_alpha=(-8.0, -7.0), slow_log_alpha=(-4.0, -1.0)) -> dict:
    """The space xu_batch_draws promises."""
    dom = xu_domain(profile, variant=VARIANTS, rank_target=(1, 2), r_mode="any", batch=False)
    dom.update(batch=Span(*distinct), rows=Span(*rows), fast_row=Span(0, lambda d: d["batch"] - 1, text="[0, batch - 1]"),
               speeds=union(Span(1.0, 1.0), Span(*speed)),
               row_alphas=union(Span(10 ** fast_log_alpha[0], 10 ** fast_log_alpha[1], log=True),
                                Span(10 ** slow_log_alpha[0], 10 ** slow_log_alpha[1], log=True)))
    return dom


@declares(xu_batch_domain)
@st.composite
def xu_batch_draws(draw, profile, *, distinct=(3, 4), rows=(32, 64), speed=(10.0, 40.0),
                   fast_log_alpha=(-8.0, -7.0), slow_log_alpha=(-4.0, -1.0)):
    """A HETEROGENEOUS batch for the batched-solve check (xu2025.power_batched_solve): an xu_draws instance
    (any reading, rank-1/2 target, LoRA rank 1-3) with ``batch`` distinct rows (its own count, not the
    profile's), one of them (``fast_row``) fast -- its R0 scaled by ``speeds[fast_row]`` in [10, 40], so its
    steps bind the whole batch -- from a tiny init (alpha 1e-8..1e-7), the others at speed 1 from alphas
    1e-4..1e-1 (``row_alphas``, one per distinct row); the system repeats the slow rows up to ``rows``
    (32-64) so that an averaging error norm would dilute the fast row's error.  Shrinks toward 3 distinct
    rows, 32 in all and the mildest contrast."""
    d = draw(xu_draws(profile, variant=VARIANTS, rank_target=(1, 2), r_mode="any", batch=False))
    B = draw(st.integers(*distinct))
    fast = draw(st.integers(0, B - 1))
    log_a = [round(draw(st.floats(*slow_log_alpha)), 2) for _ in range(B)]
    log_a[fast] = round(draw(st.floats(*fast_log_alpha)), 2)
    speeds = [1.0] * B
    speeds[fast] = float(f"{draw(st.floats(*speed)):.3g}")
    d.update(batch=B, rows=draw(st.integers(*rows)), fast_row=fast, speeds=speeds,
             row_alphas=[10.0 ** x for x in log_a])
    return d
