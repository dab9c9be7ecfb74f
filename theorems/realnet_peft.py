"""peft's real LoRA layers against the parameterisation the theorems assume (issue 9, item 3): ``realnet.peft_*``.

The networks of theorems/realnet.py are wrapped with peft (``LoraConfig``: default, gaussian and PiSSA
init) and checked through peft's own layer objects (theorems/numerics/peft_checks.py).  peft is an
optional extra: these claims declare ``requires=("peft",)``, so without it the runner reports them
``skipped`` (not a failure) and pytest skips them, each with the install hint; CI installs
``lora-claims[peft]``.
"""
from __future__ import annotations

import functools

import torch
from hypothesis import strategies as st

from ..strategies.domain import OneOf, with_domain
from ..strategies.realnet import peft_draws, realnet_draws

from . import realnet as R
from .claim import Evidence, at_least, at_most, control, lemma
from .numerics import ntk_features as nf
from .numerics import peft_checks as pc
from .numerics.convex_oracle import nuclear_norm

PAPER = "peft LoRA layers vs the LoRA parameterisation of Jang et al. 2024 / Kim et al. 2025"
TOL = {torch.float64: 1e-12, torch.float32: 2e-5}      # round-off of peft's own arithmetic
ASSUMPTIONS = ("The MLP / transformer networks of realnet.*, pretrained; peft LoraConfig(r, lora_alpha, "
               "target_modules=[layer], lora_dropout=0); float64 except PiSSA (peft requires float32).")


def _peft_or_skip():
    """None when peft imports, else a vacuous Evidence.  The runner and pytest skip these claims before
    evaluating them (Claim.requires); this guards direct calls (e.g. `lora-claims reproduce`)."""
    why = pc.missing()
    return None if why is None else Evidence.vacuously(why)


def _wrapped(drawn):
    """(pretrained net, peft model, its LoRA layer, dtype, N inputs) for a peft draw."""
    net = nf.pretrained(drawn["arch"])
    model, lay = pc.wrap(net, drawn["layer"], drawn["r"], drawn["lora_alpha"], drawn["init"])
    return net, model, lay, pc.dtype_for(drawn["init"]), nf.inputs(drawn["arch"], drawn["N"], drawn["seed"])


def _events(drawn):
    return [f"init={drawn.get('init', 'default')}", f"arch={drawn['arch']['kind']}", f"layer={drawn['layer']}"]


# ---------------------------------------------------------------- merged update = s B A

def eval_merged_update(drawn, ctx, unscaled=False):
    """With random factors loaded into peft's layer: get_delta_weight, merge_and_unload and the wrapped
    forward all equal W_base + s B A with s = lora_alpha / r.  ``unscaled``: the mutant W_base + B A."""
    skip = _peft_or_skip()
    if skip is not None:
        return skip
    net, model, lay, dt, X = _wrapped(drawn)
    W_base = lay.base_layer.weight.detach().clone()
    g = torch.Generator().manual_seed(drawn["seed"])
    A0, B0, s = pc.factors(lay)
    pc.set_factors(lay, 0.5 * torch.randn(A0.shape, generator=g, dtype=torch.float64).to(dt),
                   0.5 * torch.randn(B0.shape, generator=g, dtype=torch.float64).to(dt))
    A, B, _ = pc.factors(lay)
    expected = (1.0 if unscaled else s) * B.detach().double() @ A.detach().double()
    with torch.no_grad():
        ref = torch.func.functional_call(
            net, {**dict(net.named_parameters()), drawn["layer"] + ".weight": W_base.double() + expected}, (X,))
        out = model(X.to(dt))
    errs = {"scaling = lora_alpha / r": abs(s - drawn["lora_alpha"] / drawn["r"]) / (drawn["lora_alpha"] / drawn["r"]),
            "get_delta_weight = s B A": pc.rel(lay.get_delta_weight("default"), expected),
            "merge_and_unload = W_base + s B A": pc.rel(pc.merged_weight(model, drawn["layer"]) - W_base.double(),
                                                        expected),
            "forward = net(W_base + s B A)": pc.rel(out, ref)}
    tol = TOL[dt]
    return Evidence.from_margins({k: at_most(v, tol) for k, v in errs.items()},
                                 {"scaling": s, "tol": tol, **{f"err[{k}]": v for k, v in errs.items()}},
                                 events=_events(drawn))


lemma(
    requires=("peft",),
    id="realnet.peft_merged_update", paper=PAPER, theorem="LoRA parameterisation (peft)",
    statement="peft's LoRA layer realises W = W_base + s B A with s = lora_alpha / r: its get_delta_weight, its "
              "merge_and_unload and the wrapped network's forward all agree with W_base + s B A for arbitrary "
              "factors.  Hence the theorems' delta = A_J B_J^T with A_J = sqrt(s) B, B_J = sqrt(s) A^T.",
    assumptions=ASSUMPTIONS + "  Factors set to Gaussian values (scale 0.5) after peft's init.",
    provenance="derived",
    strategy=lambda p: peft_draws(p), evaluate=eval_merged_update)

control(
    requires=("peft",),
    id="realnet.nc_peft_unscaled_update", paper=PAPER, theorem="Mutant: merged update without scaling",
    statement="MUTANT: 'peft's merged update is B A' (the scaling lora_alpha / r forgotten); the same harness must "
              "falsify it whenever lora_alpha != r.",
    assumptions=ASSUMPTIONS, guards=("realnet.peft_merged_update",), provenance="derived",
    strategy=lambda p: peft_draws(p, inits=("default", "gaussian")),
    evaluate=functools.partial(eval_merged_update, unscaled=True))


# ---------------------------------------------------------------- default init is a no-op

def eval_noop(drawn, ctx, base_untouched=False):
    """At init, the wrapped network computes the pretrained network: exactly (B = 0) for the default and
    gaussian inits, up to float32 round-off for PiSSA (W_res + s B A = W).  ``base_untouched``: the mutant
    'peft leaves the base weight as it was' (false for PiSSA, which stores the residual there)."""
    skip = _peft_or_skip()
    if skip is not None:
        return skip
    net, model, lay, dt, X = _wrapped(drawn)
    with torch.no_grad():
        out, ref = model(X.to(dt)), net(X).to(dt)
    W = getattr(net.get_submodule(drawn["layer"]), "weight")
    exact = drawn["init"] != "pissa"
    errs = {"outputs unchanged": pc.rel(out, ref),
            "W_base + delta = W": pc.rel(lay.base_layer.weight.double() + lay.get_delta_weight("default").double(),
                                         W.to(dt).double())}
    if base_untouched:
        errs["W_base = W"] = pc.rel(lay.base_layer.weight, W.to(dt))
    tol = 1e-15 if exact else TOL[dt]
    meas = {"lora_B_max": float(pc.factors(lay)[1].detach().abs().max()), "tol": tol, **{f"err[{k}]": v for k, v in errs.items()}}
    margins = {k: at_most(v, tol) for k, v in errs.items()}
    if exact:
        margins["B = 0 (max |B| <= 1e-300)"] = at_most(meas["lora_B_max"], 1e-300)
    return Evidence.from_margins(margins, meas, events=_events(drawn))


lemma(
    requires=("peft",),
    id="realnet.peft_init_noop", paper=PAPER, theorem="LoRA init is a no-op (peft)",
    statement="peft's default and gaussian inits set lora_B = 0, so the wrapped network computes exactly the "
              "pretrained one (the theorems' zero-update start, Kim et al.'s 'zero' init: A random, B = 0); "
              "PiSSA moves the top-r part of W into the adapter, W_res + s B A = W up to float32 round-off.",
    assumptions=ASSUMPTIONS,
    provenance="derived",
    strategy=lambda p: peft_draws(p), evaluate=eval_noop)

control(
    requires=("peft",),
    id="realnet.nc_peft_pissa_base_untouched", paper=PAPER, theorem="Mutant: PiSSA leaves the base weight",
    statement="MUTANT: 'a peft adapter at init leaves the base layer's weight as it was' -- true for the default "
              "and gaussian inits, false for PiSSA (the base layer holds W_res = W - s B A); the same harness must "
              "falsify it.",
    assumptions=ASSUMPTIONS, guards=("realnet.peft_init_noop",), provenance="derived",
    strategy=lambda p: peft_draws(p, inits=("pissa",)),
    evaluate=functools.partial(eval_noop, base_untouched=True))


# ---------------------------------------------------------------- weight decay = nuclear norm

def eval_weight_decay(drawn, ctx, drop_scaling=False):
    """At certified SOSPs of F_lam on a real network's NTK risk, loaded into peft's layer: s (||A||^2 +
    ||B||^2)/2 = ||s B A||_* (weight decay lam on peft's factors = nuclear weight lam/s); unbalanced
    factors of the same update give >=.  ``drop_scaling`` is the mutant without the factor s."""
    skip = _peft_or_skip()
    if skip is not None:
        return skip
    obj, ep, c, meas = R.certified(drawn, ctx)
    if not bool(c.any()):
        return Evidence.inconclusive("no end point is a certified SOSP", meas)
    u = R.scaled(drawn, ctx)[2]
    net = nf.pretrained(drawn["arch"])
    _, lay = pc.wrap(net, drawn["layer"], obj.r, drawn["lora_alpha"], "default")
    worst = {"update loaded": 0.0, "balanced: s wd = nuclear": 0.0, "unbalanced: s wd >= nuclear": float("inf")}
    idx = torch.nonzero(c).squeeze(1)[:6]
    for j in idx.tolist():
        Y = ep.Y[j].double().cpu()
        AJ, BJ, ub = Y[: obj.m], Y[obj.m:], float(u[ep.instance[j]])
        s = pc.factors(lay)[2]
        w = 1.0 if drop_scaling else s
        for t, key in ((1.0, "balanced: s wd = nuclear"), (2.0, "unbalanced: s wd >= nuclear")):
            A, B = pc.from_theorem_factors(t * AJ, BJ / t, s, ub)
            pc.set_factors(lay, A, B)
            dW = lay.get_delta_weight("default").detach().double()
            nuc = float(nuclear_norm(dW.unsqueeze(0)))
            gap = (0.5 * w * float((A ** 2).sum() + (B ** 2).sum()) - nuc) / max(nuc, 1e-300)
            worst["update loaded"] = max(worst["update loaded"], pc.rel(dW, ub * AJ @ BJ.T))
            if t == 1.0:
                worst[key] = max(worst[key], abs(gap))
            else:
                worst[key] = min(worst[key], gap)
    # imbalance allowed by the residual gradient (as jang2024.lemma_l0_balance): ||Y|| ||grad|| / lam
    slack = 1e-6 + float((ep.Y[c].flatten(1).norm(dim=1) * ep.sosp.grad_norm[c] / ep.obj.lam[c]).max())
    meas.update(lora_alpha=drawn["lora_alpha"], scaling=pc.factors(lay)[2], checked=len(idx), balance_tol=slack,
                **{f"worst[{k}]": v for k, v in worst.items()})
    return Evidence.from_margins({"update loaded": at_most(worst["update loaded"], 1e-12),
                                  "balanced: s wd = nuclear": at_most(worst["balanced: s wd = nuclear"], slack),
                                  "unbalanced: s wd >= nuclear": at_least(worst["unbalanced: s wd >= nuclear"], -1e-12)},
                                 meas, events=R.events(drawn, meas))


WD_ALPHAS = (1, 4, 16)


def _wd_draws(p):
    base = realnet_draws(p, inits=True)
    return with_domain(base.flatmap(lambda d: st.sampled_from(WD_ALPHAS).map(lambda a: {**d, "lora_alpha": a})),
                       base, extra={"lora_alpha": OneOf(WD_ALPHAS)})


lemma(
    requires=("peft",),
    id="realnet.peft_weight_decay_nuclear", paper=PAPER, theorem="Weight decay = nuclear norm (peft; Jang L0)",
    statement="Certified SOSPs (A_J, B_J) of F_lam on a real network's NTK risk, loaded into peft's layer as B = "
              "A_J / sqrt(s), A = B_J^T / sqrt(s) (s = lora_alpha / r), reproduce the update (get_delta_weight) and "
              "satisfy s (||A||^2 + ||B||^2) / 2 = ||s B A||_*: weight decay lam on peft's factors is the nuclear "
              "penalty (lam / s) ||Delta W||_* at balanced stationary points; the unbalanced factors (2A, B/2) of "
              "the same update give a larger value.",
    assumptions=R.ASSUMPTIONS + "  Balance tolerance 1e-6 plus ||Y|| ||grad|| / lam (inexact stationarity).",
    provenance="derived",
    strategy=_wd_draws, evaluate=eval_weight_decay, notes=R.NTK_NOTE)

control(
    requires=("peft",),
    id="realnet.nc_peft_scaling_dropped", paper=PAPER, theorem="Mutant: weight decay without peft's scaling",
    statement="MUTANT: 'weight decay lam on peft's factors is the nuclear penalty lam ||Delta W||_*' (the scaling s "
              "= lora_alpha / r forgotten).  At balanced points (||A||^2 + ||B||^2)/2 = ||Delta W||_* / s, so the "
              "same harness must falsify it whenever s != 1.",
    assumptions="As realnet.peft_weight_decay_nuclear; lora_alpha in {1, 4, 16}, r above the rank threshold.",
    guards=("realnet.peft_weight_decay_nuclear",), provenance="derived",
    strategy=_wd_draws, evaluate=functools.partial(eval_weight_decay, drop_scaling=True), notes=R.NTK_NOTE)


# ---------------------------------------------------------------- PiSSA

GAP_MIN = 1e-3       # relative singular gap sigma_r - sigma_{r+1} below which the top-r subspace is ill-posed


def eval_pissa(drawn, ctx, shift=0):
    """PiSSA: ||W_res||_2 = sigma_{r+1}(W), s B A = U_r S_r V_r^T (the top-r singular part), W_res + s B A = W.
    ``shift`` = 1 is the mutant ||W_res||_2 = sigma_r(W)."""
    skip = _peft_or_skip()
    if skip is not None:
        return skip
    net, r = nf.pretrained(drawn["arch"]), drawn["r"]
    W = net.get_submodule(drawn["layer"]).weight.detach().float().double()     # what peft sees (float32)
    U, S, Vh = torch.linalg.svd(W)
    gap = float(S[r - 1] - S[r]) / float(S[0])
    meas = {"sigma": S.tolist(), "r": r, "relative_gap": gap}
    if gap < GAP_MIN:
        return Evidence.inconclusive(f"sigma_r - sigma_r+1 = {gap:.1e} sigma_1: top-r subspace ill-posed", meas)
    _, lay = pc.wrap(net, drawn["layer"], r, drawn["lora_alpha"], "pissa")
    res, dW = lay.base_layer.weight.detach().double(), lay.get_delta_weight("default").detach().double()
    tol = TOL[torch.float32]
    Ur, Vr = U[:, :r], Vh[:r].T
    out_of_span = max(float((dW - Ur @ (Ur.T @ dW)).norm()), float((dW - (dW @ Vr) @ Vr.T).norm())) / float(dW.norm())
    errs = {"||W_res||_2 = sigma_r+1": abs(float(torch.linalg.matrix_norm(res, ord=2)) - float(S[r - shift])) / float(S[0]),
            "adapter in top-r subspace": out_of_span * gap,
            "s B A = U_r S_r V_r^T": pc.rel(dW, (Ur * S[:r]) @ Vr.T),
            "W_res + s B A = W": pc.rel(res + dW, W)}
    meas.update({f"err[{k}]": v for k, v in errs.items()}, scaling=pc.factors(lay)[2], tol=tol)
    return Evidence.from_margins({k: at_most(v, tol) for k, v in errs.items()}, meas, events=_events(drawn))


lemma(
    requires=("peft",),
    id="realnet.peft_pissa", paper=PAPER, theorem="PiSSA init (peft)",
    statement="peft's PiSSA init splits W into a residual with spectral norm sigma_r+1(W) and an adapter s B A "
              "equal to the top-r singular part U_r S_r V_r^T (it spans the top-r left and right singular "
              "subspaces), with W_res + s B A = W.",
    assumptions=ASSUMPTIONS + "  Reference SVD in float64 of the float32 weight; subspace error scaled by the "
                "relative gap (sigma_r - sigma_r+1)/sigma_1, examples with gap < 1e-3 are inconclusive.",
    provenance="derived",
    strategy=lambda p: peft_draws(p, inits=("pissa",)), evaluate=eval_pissa)

control(
    requires=("peft",),
    id="realnet.nc_peft_pissa_index", paper=PAPER, theorem="Mutant: PiSSA residual norm off by one",
    statement="MUTANT: 'the PiSSA residual has spectral norm sigma_r(W)' (index off by one); with a singular gap "
              ">= 1e-3 sigma_1 the same harness must falsify it.",
    assumptions=ASSUMPTIONS, guards=("realnet.peft_pissa",), provenance="derived",
    strategy=lambda p: peft_draws(p, inits=("pissa",)), evaluate=functools.partial(eval_pissa, shift=1))
