"""Jang, Lee, Ryu (2024) re-checked on real Jacobians (issue 9): claims ``realnet.*``.

Gaussian G are the theorems' home ground; here G is the Jacobian of a small pretrained torch network
(an MLP or a one-block transformer, theorems/numerics/ntk_features.py) w.r.t. one adapted weight matrix.
The same numerics as jang2024 decide every claim (convex oracle, Barvinok-Pataki reduction, multistart +
SOSP test + certificate).  What the real Jacobians satisfy of the theorems' assumptions is measured and
put in the evidence: KN vs the rank bound, the rank of the features, the linearisation error of the
network itself at the optimum, and Kim et al.'s alpha, beta and regime (theorems/numerics/kim_constants).
The peft claims live in theorems/realnet_peft.py (which builds on this module's public helpers:
:func:`certified`, :func:`scaled`, :func:`events`, ASSUMPTIONS, NTK_NOTE).
"""
from __future__ import annotations

import functools
import math

import torch

from ..strategies.ntk_instances import r_max, r_no_spurious
from ..strategies.domain import OneOf
from ..strategies.realnet import realnet_draws

from .claim import Evidence, NumericalFailure, at_most, control, lemma, theorem, worst
from .numerics import ntk_features as nf
from .numerics.convex_oracle import convex_optimum, nuclear_norm
from .numerics.jang_common import CERT_TOL, SCALES, VALUE_TOL, interpolant
from .numerics.kim_constants import bracket
from .numerics.landscape import lam_at_ratio, probe
from .numerics.lora import LoRAObjective, balanced_factors
from .numerics.rank_reduction import RANK_TOL, reduce_rank
from .traces import plot, plots, series

PAPER = "Jang, Lee, Ryu 2024 (ICML), arXiv 2402.11867 -- on real network Jacobians"
NTK_NOTE = ("NTK regime assumed: the linearisation is exact for the risk built from G (the NTK model), not "
            "for the network itself; its error at the convex optimum is measured (linearisation_rel_err).")
ASSUMPTIONS = ("G = d outputs / d W at the pretrained W0 of a small MLP or one-block transformer (torch.func, "
               "float64); N <= 4, K <= 3; both dims of the adapted layer >= r_max(KN) + 2; squared loss on a "
               "shifted teacher's outputs or cross-entropy on its argmax; lam = lam_frac sigma_max(grad L(0)).")


FEATURE_RANK_TOL = 1e-10
GRAD_TOL = 1e-7          # certified stationarity (the probes' default); the solver stops at ctx.tolerance(GRAD_TOL)


# ---------------------------------------------------------------- instances (memoised per drawn dict)

def instance(drawn, ctx):
    """(NTKRisk, lam) of the drawn real-network instance (batch rows = independent data sets), in unit
    scale (``nf.unit_scale``: an exact reparametrisation, so absolute tolerances mean the same on every
    network); lam = lam_frac ||grad L(0)||_2 = lam_frac."""
    return scaled(drawn, ctx)[:2]


def scaled(drawn, ctx):
    """(NTKRisk in unit scale, lam, u) on ctx's device and dtype: delta in real units = u delta'."""
    return _build(drawn, ctx.device, ctx.dtype)


def features(arch: dict):
    """The module computing ``arch``'s NTK features: ntk_features (a network built from the dict) or
    hf_features (a pretrained Hugging Face model, kind 'hf'; needs transformers)."""
    if arch["kind"] == "hf":
        from .numerics import hf_features
        return hf_features
    return nf


def _build(drawn, device, dtype):
    raw = features(drawn["arch"]).ntk_risk(drawn["arch"], drawn["layer"], drawn["N"], drawn["loss"], drawn["seed"],
                                           drawn.get("batch", 1), device=device, dtype=dtype)
    loss, u = nf.unit_scale(raw)
    return loss, lam_at_ratio(loss, drawn["lam_frac"]), u


def _solve_oracle(drawn, ctx):
    loss, lam = instance(drawn, ctx)
    if not bool((lam > 0).all()):
        return loss, lam, None
    opt = convex_optimum(loss, lam)
    if not bool(opt.converged.all()):
        raise NumericalFailure(f"convex oracle did not converge (residual {float(opt.residual.max()):.2e})")
    return loss, lam, opt


def _train(drawn, ctx):
    loss, lam, _ = oracle(drawn, ctx)
    obj = LoRAObjective(loss, lam, drawn.get("r") or r_no_spurious(drawn["N"] * drawn["arch"]["K"]))
    return obj, probe(obj, SCALES, drawn.get("inits", 4), seed=drawn["seed"] + 2, grad_tol=GRAD_TOL,
                      tol=ctx.tolerance(GRAD_TOL))


def oracle(drawn, ctx):
    """(loss, lam, convex optimum or None when lam = 0) of the drawn instance (memoised)."""
    return ctx.memo("realnet.oracle", drawn, lambda: _solve_oracle(drawn, ctx))


def trained(drawn, ctx):
    """(LoRAObjective, certified end points of the multistart probe) (memoised)."""
    return ctx.memo("realnet.trained", drawn, lambda: _train(drawn, ctx))


# ---------------------------------------------------------------- measured assumptions

def linearisation_error(drawn, delta: torch.Tensor, ts=(1.0,)) -> list[float]:
    """For each t: max_b ||net(W0 + t delta_b)(X_b) - (f0 + t G delta_b)|| / max(||t G delta_b||, 1e-12), how
    far the network is from its NTK model along the update (0 = exactly linear; delta in real units)."""
    return features(drawn["arch"]).linearisation_error(drawn["arch"], drawn["layer"], drawn["N"], drawn["seed"],
                                                        delta, ts)


def positions(drawn) -> int:
    """How many positions the adapted layer is applied at (token count for a text model, worst data set)."""
    arch = drawn["arch"]
    if arch["kind"] == "hf":
        return features(arch).positions(arch, drawn["N"], drawn["seed"], drawn.get("batch", 1))
    return nf.positions(arch)


LIN_TS = tuple(10.0 ** (k / 2) for k in range(-6, 1))     # 1e-3 ... 1


def linearisation_plot(drawn, ctx) -> dict:
    """Evidence traces: the NTK model's relative error along t delta* (log-log; slope 1 = second order)."""
    _, _, opt = oracle(drawn, ctx)
    delta = opt.delta * scaled(drawn, ctx)[2].view(-1, 1, 1)
    errs = linearisation_error(drawn, delta, LIN_TS)
    return plots(plot("Real network vs its NTK model along t delta*", "t (update = t delta*)",
                      "relative linearisation error", [series("network", LIN_TS, errs, style="points")],
                      xlog=True, ylog=True,
                      caption="How far the real network's output moves from its NTK (linearised) model along the "
                              "update t delta* towards the convex optimum: slope 1 on these log axes is the "
                              "second-order error the NTK reading expects."))


def assumptions(drawn, ctx) -> dict:
    """What the real Jacobians satisfy: Jang's counts, feature ranks, NTK error, Kim's constants (row 0)."""
    loss, lam, opt = oracle(drawn, ctx)
    KN = loss.N * loss.K
    ranks = torch.linalg.matrix_rank(loss.G.flatten(0, 2).double(), rtol=1e-9)
    meas = {"KN": KN, "r_max": r_max(KN), "m": loss.m, "n": loss.n, "lam": lam.tolist(),
            "rank_Gmat": torch.linalg.matrix_rank(loss.Gmat.double(), rtol=1e-9).tolist(),
            "max_rank_G_ik": int(ranks.max()), "positions": positions(drawn),
            "feature_norm": float(loss.G.flatten(3).norm(dim=3).max())}
    meas["jang_bound_nonvacuous"] = min(loss.m, loss.n) > meas["r_max"]        # Thm 3.1 says something
    meas["constraints_independent"] = min(meas["rank_Gmat"]) == KN              # the KN outputs are independent
    if opt is None:
        return meas
    meas["oracle_rank"] = opt.rank.tolist()
    meas["linearisation_rel_err"] = linearisation_error(drawn, opt.delta * scaled(drawn, ctx)[2].view(-1, 1, 1))[0]
    k = bracket(loss.take(torch.tensor([0], device=loss.device)).hess(opt.delta[:1])[0].cpu(), opt.delta[0].cpu())
    meas.update({f"kim_{name}": v for name, v in k.items()})
    return meas


def events(drawn, meas=None):
    ev = [f"arch={drawn['arch']['kind']}", f"layer={drawn['layer']}", f"loss={drawn['loss']}"]
    if meas and "kim_regime" in meas:
        ev.append(f"kim_regime={meas['kim_regime']}")
    return ev


# ---------------------------------------------------------------- Theorem 3.1

def eval_thm3_1(drawn, ctx, below_bound=False):
    """Barvinok-Pataki reduction of a global minimiser (the convex optimum; lam = 0: a full-rank
    interpolant) to rank <= r_max(KN), outputs, objective and (not increased) nuclear norm kept.
    ``below_bound``: the mutant 'rank <= r_max - 1 suffices' (reducing as far as the steps go)."""
    loss, lam, opt = oracle(drawn, ctx)
    if opt is not None:
        deltas = opt.delta
    else:
        cpu = _build(drawn, torch.device("cpu"), torch.float64)[0]       # lstsq's gelsd driver is CPU-only
        deltas = torch.stack([interpolant(cpu.take(torch.tensor([b])), drawn["seed"] + b)
                              for b in range(cpu.batch)]).to(ctx.device, ctx.dtype)
    bound = r_max(loss.N * loss.K) - int(below_bound)
    # worst value of each condition over the batch (the worst instance sets the margin)
    big = {"out": 0.0, "nuc": -math.inf, "obj": -math.inf}
    ranks = []                                # per instance: rank Y <= bound, graded by the gap at the threshold
    meas = {"rank_before": [], "rank_after": []}
    for b in range(loss.batch):
        red = reduce_rank(loss.G[b].double(), balanced_factors(deltas[b:b + 1].double(), min(loss.m, loss.n))[0],
                          target_rank=0 if below_bound else None)
        d2 = (red.Y[: loss.m] @ red.Y[loss.m:].T).unsqueeze(0).to(ctx.device, ctx.dtype)
        lb, l_b = loss.take(torch.tensor([b], device=loss.device)), float(lam[b])
        H1 = float(lb.value(deltas[b:b + 1]) + l_b * nuclear_norm(deltas[b:b + 1]))
        H2 = float(lb.value(d2) + l_b * nuclear_norm(d2))
        ranks.append(at_most(*red.rank_gap(bound)))
        big["out"] = max(big["out"], red.output_error / max(1.0, float(red.outputs_before.abs().max())))
        big["nuc"] = max(big["nuc"], (red.nuclear_after - red.nuclear_before) / max(1e-300, red.nuclear_before))
        big["obj"] = max(big["obj"], (H2 - H1) / (1 + abs(H1)))
        meas["rank_before"].append(red.initial_rank)
        meas["rank_after"].append(red.rank)
    meas.update(assumptions(drawn, ctx))
    return Evidence.from_margins({f"rank <= {bound} (sigma_{bound + 1}(Y) <= {RANK_TOL:g} sigma_1)": worst(ranks),
                                  "outputs kept (1e-10)": at_most(big["out"], 1e-10),
                                  "nuclear not increased (1e-10)": at_most(big["nuc"], 1e-10),
                                  "objective kept (1e-10)": at_most(big["obj"], 1e-10)}, meas,
                                 events=events(drawn, meas) + [f"lam0={opt is None}"])


theorem(
    id="realnet.thm3_1", paper=PAPER, theorem="Theorem 3.1 (real Jacobians)",
    statement="On the NTK model of a real pretrained network: a global minimiser of rank r with r(r+1)/2 <= KN "
              "exists.  Checked constructively as in jang2024.thm3_1: Barvinok-Pataki steps take the convex "
              "optimum (lam > 0) or a full-rank interpolant (lam = 0) to rank <= r_max(KN), keeping every output "
              "and the objective, the nuclear norm not increased.",
    assumptions=ASSUMPTIONS + "  lam = 0 only with the squared loss.",
    provenance="paper-2nd",
    strategy=lambda p: realnet_draws(p, zero_lam=True), evaluate=eval_thm3_1, notes=NTK_NOTE)

control(
    id="realnet.nc_thm3_1_below_bound", paper=PAPER, theorem="NC-A on real Jacobians (rank r_max - 1)",
    statement="MUTANT: 'a global minimiser of rank r_max(KN) - 1 always exists'.  With KN <= 2 (r_max = 1) it "
              "says the origin is optimal, false whenever lam < ||grad L(0)||_2 (always here); for larger KN the "
              "Barvinok-Pataki steps, run as far as they go, stop at rank r_max.  The same harness must falsify it.",
    assumptions=ASSUMPTIONS + "  lam = 0 only with the squared loss.",
    guards=("realnet.thm3_1",), provenance="derived",
    strategy=lambda p: realnet_draws(p, zero_lam=True),
    evaluate=functools.partial(eval_thm3_1, below_bound=True), notes=NTK_NOTE)


# ---------------------------------------------------------------- Section 4 and value agreement

def certified(drawn, ctx):
    """(objective, end points, mask of certified SOSPs, measured: probe summary + assumptions)."""
    obj, ep = trained(drawn, ctx)
    meas = dict(ep.summary(), r=obj.r)
    meas.update(assumptions(drawn, ctx))
    return obj, ep, ep.certified, meas


def eval_no_spurious(drawn, ctx):
    """Every certified SOSP at r(r+1)/2 > KN passes the global certificate sigma_max(M) <= lam."""
    obj, ep, c, meas = certified(drawn, ctx)
    if not bool(c.any()):
        return Evidence.inconclusive("no end point is a certified SOSP", meas)
    excess = float(ep.cert.excess()[c].max())
    meas["max_sigma_ratio_minus_1"] = excess
    return Evidence.from_margins({"sigma_max(M)/lam - 1 <= 1e-4": at_most(excess, CERT_TOL)}, meas,
                                 events=events(drawn, meas))


def _value_gaps(drawn, ctx):
    """(F - H*) / (1 + |H*|) at the certified SOSPs, and the measured quantities."""
    obj, ep, c, meas = certified(drawn, ctx)
    _, _, opt = oracle(drawn, ctx)
    H = opt.value[ep.instance]
    gap = (ep.value - H)[c]
    meas.update(max_gap=float(gap.abs().max()) if bool(c.any()) else None,
                max_sigma_ratio=float(ep.cert.sigma_ratio[c].max()) if bool(c.any()) else None)
    return gap / (1 + H[c].abs()), meas


def eval_value_agreement(drawn, ctx):
    rel, meas = _value_gaps(drawn, ctx)
    if rel.numel() == 0:
        return Evidence.inconclusive("no end point is a certified SOSP", meas)
    return Evidence.from_margins({"|F - H*| <= 1e-8 (1 + |H*|)": at_most(float(rel.abs().max()), VALUE_TOL)}, meas,
                                 events=events(drawn, meas), traces=linearisation_plot(drawn, ctx))


theorem(
    id="realnet.sec4_no_spurious", paper=PAPER, theorem="Section 4 (no spurious local minima; real Jacobians)",
    statement="On the NTK model of a real pretrained network, with r the smallest rank such that r(r+1)/2 > KN, "
              "every second-order stationary point of F_lam reached from random inits (scales 0.01, 1, 3) is a "
              "global minimiser: sigma_max(M) <= lam (1 + 1e-4).  Kim et al.'s alpha, beta and regime of the "
              "same risk are measured (kim_*).",
    assumptions=ASSUMPTIONS + "  No perturbation P (real Jacobians are not generic by construction).",
    provenance="paper-2nd",
    strategy=lambda p: realnet_draws(p, inits=True, large=True), evaluate=eval_no_spurious, notes=NTK_NOTE)

theorem(
    id="realnet.c4_value_agreement", paper=PAPER, theorem="Sections 3-4 (value of LoRA = convex optimum; real Jacobians)",
    statement="On the NTK model of a real pretrained network, above the rank threshold every SOSP value "
              "F_lam(A, B) equals min_delta L(delta) + lam ||delta||_* (accelerated proximal gradient oracle) "
              "within 1e-8 (1 + |H*|).",
    assumptions=ASSUMPTIONS + "  r = smallest rank with r(r+1)/2 > KN.",
    provenance="derived",
    strategy=lambda p: realnet_draws(p, inits=True, large=True), evaluate=eval_value_agreement, notes=NTK_NOTE)


def eval_rank_below(drawn, ctx):
    """Mutant: 'every SOSP is global at any LoRA rank' -- at r = 1 below the threshold, on real G."""
    rel, meas = _value_gaps(drawn, ctx)
    if rel.numel() == 0:
        return Evidence.inconclusive("no end point is a certified SOSP", meas)
    return Evidence.from_margins({"every SOSP global: F - H* <= 1e-8 (1 + |H*|)": at_most(float(rel.max()), VALUE_TOL)},
                                 meas, events=events(drawn, meas))


control(
    id="realnet.nc_rank_below", paper=PAPER, theorem="NC-B on real Jacobians (rank below threshold)",
    statement="MUTANT: 'F_lam has no spurious local minima for any LoRA rank r' at r = 1.  When the convex "
              "optimum of a real network's NTK risk has rank >= 2, every rank-1 SOSP misses it: its value lies "
              "above H* = min L + lam ||.||_* (a lower bound for every LoRA point), so the same value-agreement "
              "harness must falsify the mutant.",
    assumptions=ASSUMPTIONS + "  r = 1; lam_frac in [0.01, 0.1] so that the optimum has rank >= 2 when KN >= 2.",
    guards=("realnet.sec4_no_spurious", "realnet.c4_value_agreement"), provenance="derived",
    strategy=lambda p: realnet_draws(p, inits=True, lam_frac_exp=(-2.0, -1.0), r_rule=lambda KN, draw: 1,
                                   r_span=OneOf((1,))),
    examples=({"arch": {"kind": "mlp", "d_in": 3, "width": 3, "K": 1, "seed": 0}, "layer": "l0", "N": 2,
               "loss": "sq", "lam_frac": 0.01, "seed": 0, "batch": 2, "r": 1, "inits": 4},),   # shrunk, curated
    evaluate=eval_rank_below, notes=NTK_NOTE)


# ---------------------------------------------------------------- feature structure

def eval_feature_rank(drawn, ctx, bound=None):
    """Chain rule: G_ik = sum over positions t of g_t h_t^T, so rank G_ik <= #positions (1 for an MLP layer).
    ``bound`` overrides #positions (the mutant 'every feature is rank 1')."""
    loss, _ = instance(drawn, ctx)
    s = torch.linalg.svdvals(loss.G.flatten(0, 2).double())
    ranks = (s > FEATURE_RANK_TOL * s[:, :1].clamp_min(1e-300)).sum(dim=1)
    bound = bound or positions(drawn)
    tail = float((s[:, bound:] / s[:, :1].clamp_min(1e-300)).max()) if s.shape[1] > bound else 0.0
    meas = {"max_rank_G_ik": int(ranks.max()), "positions": bound, "max_tail_sv_ratio": tail}
    # graded: the rank exceeds T exactly when sigma_{T+1} > 1e-10 sigma_1 (the count above uses the same test)
    return Evidence.from_margins({f"rank G_ik <= {bound} (sigma_{bound + 1} <= 1e-10 sigma_1)": at_most(tail, FEATURE_RANK_TOL)},
                                 meas, events=events(drawn))


lemma(
    id="realnet.feature_rank", paper=PAPER, theorem="NTK features of a linear layer (chain rule)",
    statement="For an adapted weight W used as h_t -> W h_t at T positions, every feature G_ik = d z_ik / dW = "
              "sum_t (d z_ik / d(W h_t)) h_t^T has rank <= T: rank 1 for an MLP layer, <= 3 for the transformer's "
              "q, k, v, o, up layers (3 tokens).  This is why KN, not mn, limits what real Jacobians can express.",
    assumptions=ASSUMPTIONS + "  Numerical rank: singular values > 1e-10 sigma_1.",
    provenance="derived",
    strategy=lambda p: realnet_draws(p), evaluate=eval_feature_rank)

control(
    id="realnet.nc_feature_rank_one", paper=PAPER, theorem="Mutant: every NTK feature is rank 1",
    statement="MUTANT: 'every feature G_ik of an adapted linear layer is an outer product (rank 1)' -- true for an "
              "MLP layer, false for a transformer layer applied at 3 token positions; the same harness must "
              "falsify it.",
    assumptions=ASSUMPTIONS, guards=("realnet.feature_rank",), provenance="derived",
    strategy=lambda p: realnet_draws(p, kinds=("transformer",)),
    evaluate=functools.partial(eval_feature_rank, bound=1))

