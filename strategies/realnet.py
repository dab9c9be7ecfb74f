"""Hypothesis strategies for NTK instances built from real small networks (issue 9), as JSON-able dicts.

A draw is ``{"arch": {kind, d_in, width, K, [ff], seed}, "layer", "N", "loss", "lam_frac", "seed",
"batch", ["r"], ["inits"]}``: the network is rebuilt and pretrained from ``arch`` alone (cached per arch),
the N data points come from ``seed``.  Preconditions by construction: the adapted layer's (m, n) are
both >= r_max(KN) + 2 (so Theorem 3.1's bound is not vacuous), cross-entropy gets K >= 2, and
lam = lam_frac * sigma_max(grad L(0)) < sigma_max(grad L(0)) so the optimum is non-zero.
Architecture seeds come from a small set so pretrained networks are reused across examples; batch and
inits scale with the profile (ci: 2 data sets, 4 inits per scale).
"""
from __future__ import annotations

from hypothesis import strategies as st

from ..theorems.numerics.ntk_features import ADAPTABLE, layer_shape

from .domain import OneOf, Span, declares
from .ntk import SEED_SPAN, SEEDS, large_inits, large_sizes, log_uniform
from .ntk_instances import r_max

ARCH_SEEDS = st.integers(0, 3)
WIDTH_CAP = 16


def realnet_domain(profile, *, kinds=("mlp", "transformer"), losses=("sq", "ce"), lam_frac_exp=(-1.5, -0.3),
                   zero_lam=False, r_rule=None, inits=False, r_span=None, large=False) -> dict:
    """The space realnet_draws promises (``r_span``: the declared range of the rank ``r_rule`` picks)."""
    top = large_sizes(profile, large)
    lo = lambda d: r_max(d["N"] * d["arch"]["K"]) + 2                     # noqa: E731
    small = lambda d: min(WIDTH_CAP, max(lo(d), int(profile.get("max_dim", 12))))  # noqa: E731
    hi = (lambda d: max(small(d), top)) if top else small                  # noqa: E731
    text = f"[r_max(KN) + 2, min({WIDTH_CAP}, max_dim)]" + (f" (large draws: up to {top})" if top else "")
    dom = {"arch.kind": OneOf(tuple(kinds)), "loss": OneOf(tuple(losses)), "N": Span(1, 4),
           "arch.K": Span(lambda d: 2 if d["loss"] == "ce" else 1, 3, text="[1 (ce: 2), 3]"),
           "layer": OneOf(tuple(sorted({layer for k in kinds for layer in ADAPTABLE[k]}))),
           "arch.width": Span(lo, hi, text=text),
           "arch.d_in": Span(lambda d: lo(d) if d["layer"] == "l0" else 2, hi, text=text + " (l0), else [2, ...]"),
           "arch.seed": Span(0, 3),
           "lam_frac": Span(10 ** lam_frac_exp[0], 10 ** lam_frac_exp[1], log=True,
                            also=(0.0,) if zero_lam and "sq" in losses else ()),
           "seed": SEED_SPAN,
           "batch": OneOf(tuple(sorted({min(32, max(1, int(profile.get("batch", 1)) // 2)), *((1,) if top else ())})))}
    if "transformer" in kinds:
        dom["arch.ff"] = Span(lo, hi, text=text + " (transformers)", when=lambda d: d["arch"]["kind"] == "transformer")
    if r_rule is not None and r_span is not None:
        dom["r"] = r_span
    if inits:
        dom["inits"] = OneOf(tuple(sorted({_inits(profile), *((large_inits(profile),) if top else ())})))
    return dom


def _inits(profile) -> int:
    return min(20, max(2, 2 * int(profile.get("inits", 5)) // 3))


@declares(realnet_domain)
def realnet_draws(profile, **kw):
    """One real-network NTK family (:func:`realnet_family`), carrying its declared space."""
    kw.pop("r_span", None)
    return realnet_family(profile, **kw)


@st.composite
def realnet_family(draw, profile, *, kinds=("mlp", "transformer"), losses=("sq", "ce"),
                   lam_frac_exp=(-1.5, -0.3), zero_lam=False, r_rule=None, inits=False, large=False):
    """One real-network NTK family; ``r_rule(KN, draw)`` picks the LoRA rank when the claim trains;
    ``zero_lam`` allows lam = 0 (squared loss only).  ``large``: where the profile has a landscape_max_dim
    past max_dim, half the draws are networks of width in (WIDTH_CAP, landscape_max_dim] (d_in and ff up to
    it), one data set and ntk.large_inits starts per scale (ci has none: its draws are unchanged)."""
    top = large_sizes(profile, large)
    big = bool(top) and draw(st.booleans())
    kind = draw(st.sampled_from(kinds))
    loss = draw(st.sampled_from(losses))
    N = draw(st.integers(1, 4))
    K = draw(st.integers(2 if loss == "ce" else 1, 3))
    lo = r_max(N * K) + 2
    small = min(WIDTH_CAP, max(lo, int(profile.get("max_dim", 12))))
    hi = max(small, top) if big else small
    layer = draw(st.sampled_from(ADAPTABLE[kind]))
    width = draw(st.integers(small + 1, hi)) if big else draw(st.integers(lo, hi))
    # the adapted layer's input dimension is d_in only for the MLP's first layer
    d_in = draw(st.integers(lo if layer == "l0" else 2, hi))
    arch = {"kind": kind, "d_in": d_in, "width": width, "K": K, "seed": draw(ARCH_SEEDS)}
    if kind == "transformer":
        arch["ff"] = draw(st.integers(lo, hi))
    zero = zero_lam and loss == "sq" and draw(st.booleans())
    d = {"arch": arch, "layer": layer, "N": N, "loss": loss,
         "lam_frac": 0.0 if zero else draw(log_uniform(*lam_frac_exp)),
         "seed": draw(SEEDS), "batch": 1 if big else min(32, max(1, int(profile.get("batch", 1)) // 2))}
    if r_rule is not None:
        d["r"] = r_rule(N * K, draw)
    if inits:
        d["inits"] = large_inits(profile) if big else _inits(profile)
    return d


def peft_domain(profile, *, inits=("default", "gaussian", "pissa")) -> dict:
    """The space peft_draws promises: the network of realnet_draws, its layer, r < min(m, n), alpha, init."""
    base = realnet_domain(profile)
    dom = {k: base[k] for k in ("arch.kind", "arch.K", "layer", "arch.width", "arch.d_in", "arch.seed", "arch.ff", "N")}
    dom.update({"arch.K": Span(1, 3), "lam_frac": base["lam_frac"],
                "r": Span(1, lambda d: min(layer_shape(d["arch"], d["layer"])) - 1, text="[1, min(m, n) - 1]"),
                "lora_alpha": OneOf((1, 4, 8, 16)), "init": OneOf(tuple(inits)), "seed": SEED_SPAN})
    return dom


@declares(peft_domain)
def peft_draws(profile, *, inits=("default", "gaussian", "pissa")):
    """A network to wrap with peft: arch, adapted layer, LoRA rank r < min(m, n), lora_alpha, init."""
    def finish(d):
        return st.fixed_dictionaries({
            "r": st.integers(1, min(layer_shape(d["arch"], d["layer"])) - 1), "lora_alpha": st.sampled_from([1, 4, 8, 16]),
            "init": st.sampled_from(inits), "seed": SEEDS}).map(lambda e: {**d, **e})
    base = realnet_family(profile).map(lambda d: {k: d[k] for k in ("arch", "layer", "N", "lam_frac")})
    return base.flatmap(finish)
