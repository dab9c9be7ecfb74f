"""Hypothesis strategies for NTK-regime instances (Jang et al. 2024), as JSON-able drawn dicts.

Preconditions hold by construction: dimensions exceed the rank bound where a claim needs it,
cross-entropy gets K >= 2 classes, lam = 0 only with squared loss.  Everything shrinks toward
small N, K, m, n and simple values; tensors come from ``seed`` (see ntk_instances).
"""
from __future__ import annotations

from hypothesis import strategies as st

from .domain import OneOf, Span, declares
from .ntk_instances import r_max

SEEDS = st.integers(0, 2**31 - 1)
SEED_SPAN = Span(0, 2**31 - 1, reach=False)     # a label: inside, ends irrelevant


def log_uniform(lo_exp: float, hi_exp: float):
    """10**u for u uniform in [lo_exp, hi_exp], rounded to 4 significant digits."""
    return st.floats(lo_exp, hi_exp).map(lambda u: float(f"{10.0 ** u:.4g}"))


def large_sizes(profile, large: bool) -> int:
    """The largest m, n of a claim's large draws: the profile's landscape_max_dim where the claim runs
    matrix-free at size (``large``) and the profile reaches past max_dim, else 0 (no large draws)."""
    top = int(profile.get("landscape_max_dim", 0)) if large else 0
    return top if top > int(profile.get("max_dim", 12)) else 0


def large_n(top: int) -> int:
    """N's upper end on a large draw: KN grows with the layer so r(r+1)/2 > KN stays a real constraint
    (6 at the small sizes; 8 at m, n <= 64, 32 at 256)."""
    return max(6, top // 8)


def ntk_domain(profile, *, losses=("sq", "ce"), lam_exp=(-3.0, -1.0), zero_lam=False, dims_above_rmax=2,
               perturb=(False, True), r_rule=None, batch=True, inits=False, r_span=None, large=False) -> dict:
    """The space ntk_draws promises (``r_span``: the declared range of the rank ``r_rule`` picks)."""
    max_dim = int(profile.get("max_dim", 12))
    top = large_sizes(profile, large)
    lo = lambda d: r_max(d["N"] * d["K"]) + dims_above_rmax             # noqa: E731
    hi = max(max_dim, top)
    dim = Span(lo, lambda d: max(lo(d), hi), text=f"[r_max(KN) + {dims_above_rmax}, {hi}]")
    n_hi = (lambda d: 6 if max(d["m"], d["n"]) <= max_dim else large_n(top)) if top else 6
    dom = {"loss": OneOf(tuple(losses)),
           "N": Span(1, n_hi, text=f"[1, 6] ([1, {large_n(top)}] where m or n > {max_dim})" if top else ""),
           "K": Span(lambda d: 2 if d["loss"] == "ce" else 1, 3, text="[1 (ce: 2), 3]"), "m": dim, "n": dim,
           "lam": Span(10.0 ** lam_exp[0], 10.0 ** lam_exp[1], log=True,
                       also=(0.0,) if zero_lam and "sq" in losses else ()),
           "seed": SEED_SPAN}
    if len(perturb) > 1 or perturb[0]:
        dom["perturb"] = OneOf(tuple(perturb))
    if r_rule is not None and r_span is not None:
        dom["r"] = r_span
    if batch:
        dom["batch"] = OneOf(tuple(sorted({int(profile.get("batch", 1)), *((1,) if top else ())})))
    if inits:
        dom["inits"] = OneOf(tuple(sorted({int(profile.get("inits", 5)), *((large_inits(profile),) if top else ())})))
    return dom


def large_inits(profile) -> int:
    """Starts per scale on a large draw: a third of the profile's (at least 2), one instance per example, so
    m = n = 64 stays within dev's per-example limit on one core (BENCHMARKS.md, scaling)."""
    return max(2, int(profile.get("inits", 5)) // 3)


@declares(ntk_domain)
def ntk_draws(profile, **kw):
    """One NTK instance family (:func:`ntk_family`), carrying its declared space (:func:`ntk_domain`)."""
    kw.pop("r_span", None)
    return ntk_family(profile, **kw)


@st.composite
def ntk_family(draw, profile, *, losses=("sq", "ce"), lam_exp=(-3.0, -1.0), zero_lam=False,
               dims_above_rmax=2, perturb=(False, True), r_rule=None, batch=True, inits=False, large=False):
    """One NTK instance family: N in [1,6], K in [1,3], m, n in [r_max(KN)+dims_above_rmax, max_dim].

    ``r_rule(KN, draw)`` picks the LoRA rank when the claim trains; ``perturb`` the choices for the
    random symmetric perturbation P; ``zero_lam`` allows lam = 0 (squared loss only).  ``large``: half the
    draws (where the profile has a landscape_max_dim above max_dim) are layers with m in (max_dim,
    landscape_max_dim] and n in [r_max(KN) + 2, landscape_max_dim], N up to large_n, one instance and
    large_inits starts per scale.
    """
    top = large_sizes(profile, large)
    small_hi = int(profile.get("max_dim", 12))
    big = bool(top) and draw(st.booleans())
    loss = draw(st.sampled_from(losses))
    N = draw(st.integers(1, large_n(top) if big else 6))
    K = draw(st.integers(2 if loss == "ce" else 1, 3))
    lo = r_max(N * K) + dims_above_rmax
    hi = max(lo, small_hi)
    if big:      # at least one side past max_dim
        m = draw(st.integers(max(lo, small_hi + 1), max(lo, top)))
        n = draw(st.integers(lo, max(lo, top)))
    else:
        m = draw(st.integers(lo, hi))
        n = draw(st.integers(lo, hi))
    if zero_lam and loss == "sq" and draw(st.booleans()):
        lam = 0.0
    else:
        lam = draw(log_uniform(*lam_exp))
    d = {"N": N, "K": K, "m": m, "n": n, "loss": loss, "lam": lam, "seed": draw(SEEDS)}
    if len(perturb) > 1:
        d["perturb"] = draw(st.sampled_from(perturb))
    elif perturb[0]:
        d["perturb"] = True
    if r_rule is not None:
        d["r"] = r_rule(N * K, draw)
    if batch:
        d["batch"] = 1 if big else int(profile.get("batch", 1))
    if inits:
        d["inits"] = large_inits(profile) if big else int(profile.get("inits", 5))
    return d


def tightness_domain(profile, *, r0_range=(2, 4), lam_fraction=(0.05, 0.9), lora_rank=None, inits=False) -> dict:
    """The space tightness_draws promises."""
    N = lambda d: d["r0"] * (d["r0"] + 1) // 2                        # noqa: E731
    dom = {"r0": Span(*r0_range), "m": Span(lambda d: d["r0"], lambda d: d["r0"] + 3, text="[r0, r0 + 3]"),
           "n": Span(lambda d: d["r0"], lambda d: d["r0"] + 3, text="[r0, r0 + 3]"),
           "lam": Span(lambda d: lam_fraction[0] / N(d), lambda d: lam_fraction[1] / N(d),
                       text=f"[{lam_fraction[0]:g}/N, {lam_fraction[1]:g}/N]")}
    if lora_rank is not None:
        dom["r"] = (Span(1, lambda d: d["r0"] - 1, text="[1, r0 - 1]") if lora_rank == "below"
                    else OneOf((lora_rank,)))
    if inits:
        dom["inits"] = OneOf((int(profile.get("inits", 5)),))
        dom["seed"] = SEED_SPAN
    return dom


@declares(tightness_domain)
@st.composite
def tightness_draws(draw, profile, *, r0_range=(2, 4), lam_fraction=(0.05, 0.9), lora_rank=None,
                    inits=False):
    """The T(r0) family of the spec's NC-A: r0, m, n >= r0, lam = f / N with f in lam_fraction."""
    r0 = draw(st.integers(*r0_range))
    N = r0 * (r0 + 1) // 2
    m = r0 + draw(st.integers(0, 3))
    n = r0 + draw(st.integers(0, 3))
    f = draw(st.floats(*lam_fraction))
    d = {"r0": r0, "m": m, "n": n, "lam": float(f"{f / N:.4g}")}
    if lora_rank is not None:
        d["r"] = draw(st.integers(1, r0 - 1)) if lora_rank == "below" else lora_rank
    if inits:
        d["inits"] = int(profile.get("inits", 5))
        d["seed"] = draw(SEEDS)
    return d
