"""Xu et al. (AISTATS 2025) -- gradient flow of LoRA in matrix factorisation.

Spec: shared/spec/xu2025_gradient_flow.md.  THE PAPER'S THEOREM TEXTS WERE NOT AVAILABLE: every
claim is `reconstructed` (a reading of the abstract) or `derived` (an exact fact of the reconstructed
model), and the model variant (Reading A additive, B frozen-U coupling, B' rank-deficient U) is a drawn
parameter.  No claim asserts a positive limiting error floor for random init (the spec shows GF still
reaches the optimum); C1 is checked as an upper bound at a progress-matched time.
"""
from __future__ import annotations

import functools
import math

import torch

from ..strategies import xu as XS
from ..strategies.domain import with_domain
from ..strategies.xu_instances import initial_point, instance_from_draw, misalignment

from . import traces as T
from .claim import Evidence, at_least, at_most, control, lemma, theorem, worst_row
from .numerics.gradient_flow import (ATOL, EVENT_XTOL, RTOL, LoRAFlow, integrate, logistic_mode, spec_horizon,
                                     states_at, step_halving_ratio, time_to_error)

PAPER = "Xu, Min, MacDonald, Luo, Tarmoun, Mallada, Vidal 2025 (AISTATS), arXiv 2503.06982"
RECON = ("The paper's theorem texts were not available; this statement is reconstructed from the abstract "
         "and figure caption (spec 'What the abstract asserts').")


def _tol(ctx):
    """The integrator's tolerances for this evaluation (100x tighter in a float64 re-verification)."""
    return {"rtol": ctx.tolerance(RTOL), "atol": ctx.tolerance(ATOL)}


def _flow(drawn, ctx, mutant=None):
    inst = instance_from_draw(drawn, ctx.device, ctx.dtype)
    U = None if drawn["variant"] == "A" else inst.U
    return inst, LoRAFlow(U, inst.R0, drawn["variant"], mutant=mutant)


def solved(drawn, ctx, mutant=None):
    """Random-init gradient flow at the smallest drawn alpha, to the spec's horizon (memoised in ``ctx``):
    (instance, flow, solution)."""
    def compute():
        inst, flow = _flow(drawn, ctx, mutant)
        alpha = drawn["alphas"][0]
        Z1, Z2 = initial_point(drawn, inst, alpha, "random")
        T = float(spec_horizon(LoRAFlow(None if drawn["variant"] == "A" else inst.U, inst.R0, drawn["variant"]),
                               alpha, drawn["r"]).max())
        return inst, flow, integrate(flow, Z1, Z2, T, n_eval=drawn.get("n_eval", 120), **_tol(ctx))
    return ctx.memo("xu2025.solved", drawn, compute, mutant)


ROWS_SHOWN = 4          # instances of a batch drawn in a plot


def _rows(x, Y, style="line", labels=None):
    """One plot series per instance of the batch (the first ``ROWS_SHOWN`` columns of Y (len(x), B)), named
    'instance 1', ... or by ``labels`` (grouped by instance, so its reference lines share its colour); positive
    floor for log axes."""
    n = min(ROWS_SHOWN, Y.shape[1])
    labels = labels or [f"instance {b + 1}" for b in range(n)]
    return [T.series(labels[b], x, Y[:, b].clamp_min(1e-300), style=style, group=f"instance {b + 1}")
            for b in range(n)]


def _loss_plot(title, sol, caption, hline=None, hline_label="reference"):
    """Loss against time for the first instances of a solved batch (log axis)."""
    return T.plots(T.plot(title, "t", "L", _rows(sol.t, sol.loss), ylog=True, hline=hline, hline_label=hline_label,
                          caption=caption))


def _events(drawn):
    return [f"variant={drawn['variant']}", f"r={drawn['r']}", f"k={drawn['k']}"]


# ---------------------------------------------------------------- Tier A: exact facts of the model

def eval_imbalance(drawn, ctx, mutant=None):
    """A1: Z1^T Z1 - Z2^T Z2 is conserved along gradient flow."""
    _, flow, sol = solved(drawn, ctx, mutant)
    imb = LoRAFlow.imbalance(sol.Z1, sol.Z2)                           # (T, B, r, r)
    # the integrator's error is relative to the state it carries: normalise by the trajectory's size
    scale = ((sol.Z1 ** 2).sum(dim=(-2, -1)) + (sol.Z2 ** 2).sum(dim=(-2, -1))).amax(dim=0)
    drift = ((imb - imb[0]).flatten(2).norm(dim=2) / scale.clamp_min(1e-300)).amax()
    return Evidence.from_margins({"imbalance drift <= 1e-9": at_most(float(drift), 1e-9)},
                                 {"max_relative_drift": float(drift), "nfe": sol.nfe}, events=_events(drawn))


def eval_monotone(drawn, ctx, mutant=None):
    """A2: dL/dt = -||grad L||^2 <= 0: the loss never increases along the trajectory."""
    _, flow, sol = solved(drawn, ctx, mutant)
    rise = ((sol.loss[1:] - sol.loss[:-1]) / sol.loss[0].clamp_min(1e-300)).amax()
    return Evidence.from_margins({"loss non-increasing (rise <= 1e-12 L0)": at_most(float(rise), 1e-12)},
                                 {"max_relative_rise": float(rise), "final_over_initial":
                                  (sol.loss[-1] / sol.loss[0]).tolist()},
                                 traces=_loss_plot("loss along the flow (random init)", sol,
                                                   "The loss along the gradient flow from a small random init, one "
                                                   "curve per drawn instance; the claim asserts it never increases."),
                                 events=_events(drawn))


def eval_autograd(drawn, ctx, mutant=None):
    """A3: the analytic gradient equals autograd's."""
    inst, flow = _flow(drawn, ctx, mutant)
    g = torch.Generator().manual_seed(drawn["seed"] + 5)
    Z1 = torch.randn(flow.batch, flow.h, drawn["r"], generator=g, dtype=torch.float64).to(ctx.device, ctx.dtype)
    Z2 = torch.randn(flow.batch, flow.n, drawn["r"], generator=g, dtype=torch.float64).to(ctx.device, ctx.dtype)
    with torch.enable_grad():
        a, b = Z1.clone().requires_grad_(True), Z2.clone().requires_grad_(True)
        ga, gb = torch.autograd.grad(flow.loss(a, b).sum(), (a, b))
    d1, d2 = flow.grad(Z1, Z2)
    err = max(float((d1 - ga).abs().max()), float((d2 - gb).abs().max()))
    scale = max(1.0, float(ga.abs().max()), float(gb.abs().max()))
    return Evidence.from_margins({"|grad - autograd| <= 1e-10 max(1, |grad|)": at_most(err, 1e-10 * scale)},
                                 {"rel_err": err / scale},
                                 events=_events(drawn))


def eval_closed_form(drawn, ctx, mutant=None):
    """A4: aligned spectral init decouples into logistic modes x(t) = p_j^T U Z1 Z2^T w_j."""
    d = dict(drawn, thetas=[0.0] * drawn["k"], r=drawn["k"])
    inst, flow = _flow(d, ctx, mutant)
    alpha = d["alphas"][0]
    Z1, Z2 = initial_point(d, inst, alpha, "S1")
    gains = torch.tensor(d["gains"][: d["k"]], dtype=ctx.dtype, device=ctx.device)
    sig = torch.tensor(d["sigmas"], dtype=ctx.dtype, device=ctx.device)
    T = float(time_to_error(gains.min(), sig.min(), gains.min() * alpha, 1e-6 * sig.min()))
    sol = integrate(flow, Z1, Z2, 1.2 * T, n_eval=60, **_tol(ctx))
    upd = flow.update(sol.Z1, sol.Z2)                                           # (T, B, m, n)
    x = torch.einsum("bmk,tbmn,bnk->tbk", inst.G, upd, inst.W)                  # mode values
    want = logistic_mode(sol.t.reshape(-1, 1, 1), gains, sig, gains * alpha).to(ctx.dtype)
    err = float(((x - want).abs() / sig).max())
    return Evidence.from_margins({"modes follow the logistic closed form (|x - x_cf| <= 1e-8 sigma)":
                                  at_most(err, 1e-8)},
                                 {"max_rel_err": err, "T": T}, events=_events(d))


def eval_eckart_young(drawn, ctx, shift=0):
    """A5: Reading A with r < rank R0: lim L = 1/2 sum_{i>r} sigma_i(R0)^2 from small random init.
    ``shift`` (control) moves the Eckart-Young index: 1/2 sum_{i>r+shift} sigma_i^2."""
    inst, flow = _flow(drawn, ctx)
    s = torch.tensor(drawn["sigmas"], dtype=ctx.dtype, device=ctx.device)
    alpha, r = drawn["alphas"][0], drawn["r"]
    # past the escape time the error decays like exp(-2 (sigma_r - sigma_{r+1}) t): give it 40 e-folds
    T = float(spec_horizon(flow, alpha, r).max()) + 20.0 / float(s[r - 1] - s[r])
    sol = integrate(flow, *initial_point(drawn, inst, alpha, "random"), T, n_eval=20, **_tol(ctx))
    want = 0.5 * (s[drawn["r"] + shift:] ** 2).sum()
    L0 = float(0.5 * (s ** 2).sum())
    gap = float((sol.loss[-1] - want).abs().max())
    return Evidence.from_margins({"limit loss = Eckart-Young (|L(T) - EY| <= 1e-6 L0)": at_most(gap, 1e-6 * L0)},
                                 {"final_loss": sol.loss[-1].tolist(), "eckart_young": float(want)},
                                 events=_events(drawn))


def eval_frozen_kernel(drawn, ctx, space="kernel"):
    """A6 (B'): the component of Z1 in ker U never moves.  ``space='row'`` (control) asks the same of the
    component in row U, which the flow does move."""
    inst, flow, sol = solved(drawn, ctx)
    _, s, Vh = torch.linalg.svd(inst.U)
    rank = drawn["rank_u"]
    K = Vh[:, rank:, :] if space == "kernel" else Vh[:, :rank, :]      # (B, ., h): rows span ker U (row U)
    comp = torch.einsum("bkh,tbhr->tbkr", K, sol.Z1)
    move = float((comp - comp[0]).flatten(2).norm(dim=2).amax())
    start = float(comp[0].flatten(1).norm(dim=1).amax())
    return Evidence.from_margins({"ker U component frozen (motion <= 1e-9 start)":
                                  at_most(move, 1e-9 * max(start, 1e-300))},
                                 {"kernel_motion": move, "kernel_start": start}, events=_events(drawn))


lemma(
    "xu2025.a1_conserved_imbalance", paper=PAPER, theorem="A1 (exact fact of the reconstructed flow)",
    statement="Along gradient flow Z1' = U^T E Z2, Z2' = E^T U Z1 the imbalance Z1^T Z1 - Z2^T Z2 is constant "
              "(relative drift <= 1e-9 with the dopri8 integrator at rtol 1e-10).",
    assumptions="Reading A, B or B'; small random init; horizon ln(sigma_1/alpha)/(2 sigma_r(M)) + 10/(s_min "
                "sigma_r).  " + RECON,
    provenance="derived",
    strategy=lambda p: XS.xu_draws(p, variant=("A", "B", "B'")), evaluate=eval_imbalance)

lemma(
    "xu2025.a2_monotone_loss", paper=PAPER, theorem="A2 (exact fact)",
    statement="dL/dt = -||grad L||^2 <= 0: the loss never increases along the flow.",
    assumptions="As A1.", provenance="derived",
    strategy=lambda p: XS.xu_draws(p, variant=("A", "B", "B'")), evaluate=eval_monotone)

lemma(
    "xu2025.a3_gradient_autograd", paper=PAPER, theorem="A3 (exact fact)",
    statement="The analytic gradient (-U^T E Z2, -E^T U Z1) equals torch.autograd's to 1e-10.",
    assumptions="Random points, all readings.", provenance="derived",
    strategy=lambda p: XS.xu_draws(p, variant=("A", "B", "B'")), evaluate=eval_autograd)

lemma(
    "xu2025.a4_spectral_closed_form", paper=PAPER, theorem="A4 (aligned spectral closed form)",
    statement="If the target's left singular vectors are singular vectors p_j of U with gains s_j, the "
              "spectral init decouples the modes and each x_j(t) = p_j^T U Z1 Z2^T w_j is logistic: x(t) = "
              "sigma x0 e^{2 s sigma t}/(sigma + x0 (e^{2 s sigma t} - 1)), x0 = s alpha; solver vs closed "
              "form <= 1e-8 (relative to sigma).",
    assumptions="Reading B, theta = 0, S1 init with r = k.  " + RECON, provenance="derived",
    strategy=lambda p: XS.xu_draws(p, aligned=True, r_mode="eq", m_gap=True), evaluate=eval_closed_form)

lemma(
    "xu2025.a5_eckart_young", paper=PAPER, theorem="A5 (additive reading limit)",
    statement="Reading A (U = I) with LoRA rank r < rank R0: gradient flow from small random init reaches "
              "the Eckart-Young loss 1/2 sum_{i>r} sigma_i(R0)^2 (relative 1e-6 at the spec's horizon).",
    assumptions="Reading A, forced gaps sigma_i/sigma_{i+1} >= 1.3.", provenance="derived",
    strategy=lambda p: XS.xu_draws(p, variant=("A",), r_mode="lt"), evaluate=eval_eckart_young)

lemma(
    "xu2025.a6_frozen_kernel", paper=PAPER, theorem="A6 (Reading B' frozen kernel)",
    statement="With a rank-deficient U, the component of Z1 in ker U never moves (the flow's dZ1 = U^T(...) "
              "lies in row U).",
    assumptions="Reading B' (rank U < h).  " + RECON, provenance="derived",
    strategy=lambda p: XS.xu_draws(p, variant=("B'",)), evaluate=eval_frozen_kernel)


# ---------------------------------------------------------------- Tier B: the paper's claims (reconstructed)

def _alpha_batch(drawn, inst, flow, alphas, kind="random"):
    """One flow carrying every alpha of a grid: rows alpha-major (row a * B + b), so a single batched solve
    serves the whole sweep.  Returns (flow, Z1, Z2); reshape results with ``.reshape(len(alphas), B)``."""
    inits = [initial_point(drawn, inst, a, kind) for a in alphas]
    big = flow.take(torch.arange(flow.batch, device=flow.device).repeat(len(alphas)))
    return big, torch.cat([z[0] for z in inits]), torch.cat([z[1] for z in inits])


def _tau_states(flow, Z1, Z2, alpha, r, ctx, n_eval=120):
    """The solution to the spec horizon and the state exactly at each row's t_tau (NaN where never reached)."""
    sol = integrate(flow, Z1, Z2, float(spec_horizon(flow, alpha, r).max()), n_eval=n_eval, **_tol(ctx))
    return sol, states_at(flow, Z1, Z2, sol.t_tau, **_tol(ctx))


def _alignment_at_t_tau(drawn, ctx):
    """sin of the largest principal angle between col Z1(t_tau) and the top-r left singular space of M,
    for each alpha of the drawn grid (same Gaussian G, only the scale changes)."""
    inst, flow = _flow(drawn, ctx)
    r = drawn["r"]
    alphas, B = drawn["alphas"], flow.batch
    big, Z1, Z2 = _alpha_batch(drawn, inst, flow, alphas)
    sol, (Zt, _) = _tau_states(big, Z1, Z2, min(alphas), r, ctx, drawn.get("n_eval", 120))
    t_tau = sol.t_tau.reshape(len(alphas), B)
    if not bool(torch.isfinite(Zt).all()):
        return None, t_tau, None
    Um = torch.linalg.svd(big.M())[0][:, :, :r]
    cos = torch.linalg.svdvals(Um.transpose(1, 2) @ torch.linalg.qr(Zt)[0])[:, -1].clamp(max=1.0)
    s = torch.sqrt((1 - cos ** 2).clamp_min(0)).reshape(len(alphas), B)
    sM = torch.linalg.svdvals(flow.M())
    kappa = 0.5 * (1 - sM[:, r] / sM[:, r - 1]) if r < sM.shape[1] else torch.full_like(sM[:, 0], 0.5)
    return s, t_tau, kappa                                            # (A, B), (A, B), (B,)


def eval_alignment(drawn, ctx, ratio_max=None):
    """B1 (C2): at t_tau, misalignment with the top singular direction of M shrinks as alpha shrinks, with
    log-log slope >= kappa/2.  ``ratio_max`` (control N2) adds the prototype's 's(1e-8)/s(1e-4) <= 0.2'."""
    s, t_tau, kappa = _alignment_at_t_tau(drawn, ctx)
    if s is None or not bool(torch.isfinite(t_tau).all()):
        return Evidence.inconclusive("the update never reached tau sigma_1(R0)", {"t_tau": t_tau.tolist()})
    # log-log slope >= 0.5 kappa over the alpha range  <=>  q(a_last)/q(a_first) <= (a_last/a_first)^(0.5 kappa),
    # measured on q = tan(angle): the ratio of mode amplitudes, a power law in alpha in the linearised flow
    # (sin saturates at 1 when the init barely overlaps the top direction; see the claim's notes)
    a = drawn["alphas"]
    bound = (a[-1] / a[0]) ** (0.5 * kappa)
    tan = s / torch.sqrt((1 - s ** 2).clamp_min(0))
    ratio = tan[-1] / tan[0]
    meas = {"alphas": a, "sin_angle": s.tolist(), "t_tau": t_tau.tolist(), "kappa": kappa.tolist(),
            "tan_ratio": ratio.tolist(), "ratio_bound": bound.tolist()}
    margins = {"non-increasing in alpha (s(next alpha) <= 1.05 s(alpha))": worst_row(s[1:], 1.05 * s[:-1]),
               "log-log slope >= kappa/2 (tan ratio <= (a_min/a_max)^(kappa/2))": worst_row(ratio, bound)}
    if ratio_max is not None:
        sin_ratio = s[-1] / s[0].clamp_min(1e-300)
        margins[f"s(alpha_min)/s(alpha_max) <= {ratio_max:g}"] = at_most(float(sin_ratio.max()), ratio_max)
    n = min(ROWS_SHOWN, tan.shape[1])
    curves = _rows(a, tan, style="points", labels=[f"instance {b + 1} (κ = {float(kappa[b]):.2f})" for b in range(n)])
    a_t = torch.tensor(a, dtype=tan.dtype)
    curves += [T.series(f"slope κ/2 from instance {b + 1}'s first point", a,
                        float(tan[0, b]) * (a_t / a[0]) ** (0.5 * float(kappa[b])), style="dashed",
                        group=f"instance {b + 1}") for b in range(n)]
    return Evidence.from_margins(margins, meas, events=_events(drawn), traces=T.plots(T.plot(
        "misalignment at t_tau vs init scale", "init scale alpha", "tan angle(col Z1, top singular direction of M)",
        curves, xlog=True, ylog=True,
        caption="The tangent of the angle between the adapter's column space and the top singular direction of M "
                "when the update first reaches tau sigma_1(R0), against the init scale alpha (one colour per drawn "
                "instance); dashed: the slope kappa/2 the claim demands. The claim asserts the misalignment shrinks "
                "as alpha shrinks, at least as fast as the dashed line (log-log slope >= kappa/2).")))


theorem(
    "xu2025.b1_alignment_improves", paper=PAPER, theorem="C2 / B1 (smaller init, better alignment)",
    statement="RECONSTRUCTED: with the same Gaussian G and init scale alpha in {1e-4, 1e-6, 1e-8}, the sine of "
              "the angle between col Z1(t_tau) and the top left singular vector of M = U^T R0 (at the first "
              "time ||U Z1 Z2^T|| >= 0.01 sigma_1(R0)) is non-increasing as alpha shrinks (5% slack), and its "
              "tangent has log-log slope >= kappa/2, kappa = (1 - sigma_2(M)/sigma_1(M))/2.",
    assumptions="LoRA rank r = 1 (the top direction the paper's figure tracks); Readings A, B, B'; gaps "
                "sigma_i/sigma_{i+1} >= 1.3 in R0 and M.  " + RECON,
    provenance="reconstructed",
    notes="For r >= 2 the spec's bound (with kappa = (1 - s_{r+1}/s_r)/2) was falsified by the search "
          "(slope ~0.05-0.2 < 0.25): the linearised flow grows mode i like e^{sigma_i(M) t} and t_tau ~ "
          "ln(1/alpha)/(2 sigma_1(M)), so the r-dimensional misalignment shrinks like alpha^{(sigma_r - "
          "sigma_{r+1})/(2 sigma_1)}, and sin saturates at 1 at the larger alphas.  For r = 1 the two rates "
          "agree and measured slopes sit near kappa.  The prototype's 's(1e-8)/s(1e-4) <= 0.2' needs kappa "
          ">= 0.35 and is not asserted (control N2 shows it fails without a gap).  The slope is measured on "
          "tan(angle), the ratio of mode amplitudes (a power law in alpha in the linearised flow), not on sin: "
          "the search found an init barely overlapping the top direction (the curated example, seed 555318) "
          "where sin(1e-4) = 0.97 is saturated and the sin slope is 0.074 < kappa/2 = 0.083, while the tan "
          "slope is 0.21.  Monotonicity is the same for sin and tan.",
    examples=({"variant": "A", "k": 2, "r": 1, "m": 4, "n": 6, "h": 4, "rank_u": 4, "gains": [1.0] * 4,
               "sigmas": [1.5, 1.0], "thetas": [0.0, 0.0], "alpha_grid": "small", "alphas": [1e-4, 1e-6, 1e-8],
               "seed": 555318, "batch": 4},),
    strategy=lambda p: XS.xu_draws(p, variant=("A", "B", "B'"), r_range=(1, 1)), evaluate=eval_alignment)


def _escape_times(drawn, ctx):
    """t_half for each alpha of the grid (A, B), and 1/(2 sigma_1(M)) (B,)."""
    inst, flow = _flow(drawn, ctx)
    alphas = drawn["alphas"]
    big, Z1, Z2 = _alpha_batch(drawn, inst, flow, alphas)
    # 1.5x the spec's horizon: an init that barely overlaps the top direction escapes later
    T_end = 1.5 * float(spec_horizon(flow, min(min(alphas), 1e-1), min(drawn["r"], drawn["k"])).max())
    sol = integrate(big, Z1, Z2, T_end, n_eval=drawn.get("n_eval", 120), **_tol(ctx))
    # t_half's level is (L(0) + L(T_end))/2: with L(T_end) - L* <= 1% of the reducible loss it sits within
    # 0.5% of the converged level (a large init converges slowly after its fast first drop); otherwise the
    # row is still escaping at T_end and its t_half would be measured against the wrong level
    Lstar = _optimal_loss(inst, flow).repeat(len(alphas))
    unconverged = (sol.loss[-1] - Lstar) > 1e-2 * (sol.loss[0] - Lstar)
    t_half = torch.where(unconverged, torch.full_like(sol.t_half, float("nan")), sol.t_half)
    return t_half.reshape(len(alphas), flow.batch), 1 / (2 * torch.linalg.svdvals(flow.M())[:, 0])


def eval_escape_time(drawn, ctx):
    """B2: the alignment phase lasts ~ ln(1/alpha)/(2 sigma_1(M)): slope of t_half vs ln(1/alpha) within 15%."""
    t_half, pred = _escape_times(drawn, ctx)
    if not bool(torch.isfinite(t_half).all()):
        return Evidence.inconclusive("no half-loss time, or not converged, within 1.5x the spec horizon",
                                     {"t_half": t_half.tolist()})
    x = torch.log(1 / torch.tensor(drawn["alphas"], dtype=t_half.dtype, device=t_half.device))
    xc = x - x.mean()
    slope = (xc[:, None] * (t_half - t_half.mean(0))).sum(0) / (xc ** 2).sum()     # least squares, per row
    rel = (slope / pred - 1).abs()
    curves = _rows(x, t_half, style="points")
    curves.append(T.series("predicted slope 1/(2 sigma_1(M)) (instance 1)", x, t_half[0, 0] + pred[0] * (x - x[0]),
                           style="dashed", group="instance 1"))
    return Evidence.from_margins(
        {"|slope / (1/(2 sigma_1(M))) - 1| <= 0.15": at_most(float(rel.max()), 0.15)},
        {"alphas": drawn["alphas"], "t_half": t_half.tolist(), "slope": slope.tolist(), "predicted": pred.tolist()},
        events=_events(drawn), traces=T.plots(T.plot(
            "alignment-phase duration", "ln(1/alpha)", "half-loss time t_half", curves,
            caption="The time at which the loss has fallen halfway against ln(1/alpha), one colour per drawn "
                    "instance; dashed: the predicted slope 1/(2 sigma_1(M)). The claim asserts each instance's "
                    "least-squares slope is within 15% of it.")))


theorem(
    "xu2025.b2_escape_time", paper=PAPER, theorem="C4 / B2 (alignment-phase duration)",
    statement="RECONSTRUCTED: from small random init the half-loss time grows like ln(1/alpha)/(2 sigma_1(M)): "
              "the least-squares slope of t_half against ln(1/alpha) over alpha in {1e-4, 1e-6, 1e-8} is "
              "1/(2 sigma_1(M)) within 15%.",
    assumptions="Rank-1 target (so t_half is the top mode's escape); LoRA rank 1-3; Readings A, B, B'.  " + RECON,
    provenance="reconstructed",
    strategy=lambda p: XS.xu_draws(p, variant=("A", "B", "B'"), rank_target=(1, 1), r_mode="any"),
    evaluate=eval_escape_time,
    notes="The search found an init (seed 0, Reading B', theta = 1) that escapes after the spec's horizon; "
          "its t_half was then measured against an unconverged end loss (slope 0.56 vs 0.93).  The horizon is "
          "now 1.5x the spec's and rows not converged by it are inconclusive; that instance is replayed first.",
    examples=({"variant": "B'", "k": 1, "r": 1, "m": 6, "n": 7, "h": 6, "rank_u": 1, "gains": [1.0],
               "sigmas": [1.0], "thetas": [1.0], "alpha_grid": "small", "alphas": [1e-4, 1e-6, 1e-8], "seed": 0,
               "batch": 4},))


def _plateau(drawn, ctx):
    """1 - |cos(gamma1, U Z1(t_tau))| at the smallest alpha (rank-1 LoRA), and mu with U U^T gamma1 (B,)."""
    inst, flow = _flow(drawn, ctx)
    alpha = drawn["alphas"][-1]
    sol, (Zt, _) = _tau_states(flow, *initial_point(drawn, inst, alpha, "random"), alpha, 1, ctx)
    UZ = flow._Umul(Zt)[:, :, 0]
    g1 = torch.linalg.svd(inst.R0)[0][:, :, 0]
    cos = ((UZ * g1).sum(1).abs() / UZ.norm(dim=1).clamp_min(1e-300)).clamp(max=1.0)
    return 1 - cos, misalignment(inst.U, inst.R0, kind="UUt"), alpha


def eval_plateau(drawn, ctx):
    """B3: at t_tau the misalignment 1 - cos(gamma1, U Z1) sits at mu within 0.2 mu + 3 sqrt(alpha)."""
    plateau, mu, alpha = _plateau(drawn, ctx)
    if not bool(torch.isfinite(plateau).all()):
        return Evidence.inconclusive("the update never reached tau sigma_1(R0)", {"plateau": plateau.tolist()})
    band = 0.2 * mu + 3 * alpha ** 0.5
    return Evidence.from_margins({"|plateau - mu| <= 0.2 mu + 3 sqrt(alpha)": worst_row((plateau - mu).abs(), band)},
                                 {"plateau": plateau.tolist(), "mu": mu.tolist(), "alpha": alpha},
                                 events=_events(drawn) + [f"mu>0.01={bool((mu > 0.01).any())}"])


theorem(
    "xu2025.b3_misalignment_plateau", paper=PAPER, theorem="C2 / B3 (misalignment plateau)",
    statement="RECONSTRUCTED: for a rank-1 target in Reading B, at t_tau (alpha = 1e-8) the misalignment "
              "1 - |cos(gamma1, U Z1)| equals mu = 1 - |cos(gamma1, U U^T gamma1)| within 0.2 mu + 3 sqrt(alpha) "
              "(so it is < 1e-8-ish when aligned and grows with the principal angle).",
    assumptions="Reading B, rank-1 target at principal angle theta in [0, pi/2 - 0.05] to col U, LoRA rank 1.  "
                + RECON,
    provenance="reconstructed",
    strategy=lambda p: XS.xu_draws(p, variant=("B",), rank_target=(1, 1), r_range=(1, 1)), evaluate=eval_plateau)


def _optimal_loss(inst, flow):
    """L* = 1/2 ||(I - P_U) R0||^2 (any r >= rank of P_U R0; Reading A: 0)."""
    if flow.U is None:
        return torch.zeros(flow.batch, dtype=flow.dtype, device=flow.device)
    P = inst.U @ torch.linalg.pinv(inst.U)
    return 0.5 * ((inst.R0 - P @ inst.R0) ** 2).sum(dim=(-2, -1))


def eval_progress_matched(drawn, ctx, floor=None):
    """B4 (C1 as an upper bound): at T(alpha) = t_half(alpha) + tau_loc the excess loss does not increase as
    alpha shrinks, and lim L = L* (no positive floor: the anti-over-claim).  ``floor`` (control: the
    over-claim the spec warns about) replaces the limit condition by 'lim L - L* >= floor L0'."""
    inst, flow = _flow(drawn, ctx)
    r, alphas = min(drawn["r"], drawn["k"]), drawn["alphas"]       # the horizon's rank: that of M
    Lstar = _optimal_loss(inst, flow)
    sM = torch.linalg.svdvals(flow.M())[:, 0]
    tau_loc = 2.0 / sM                                          # a few local e-folds past the half-loss time
    B, A = flow.batch, len(alphas)
    big, Z1, Z2 = _alpha_batch(drawn, inst, flow, alphas)
    _, S1, S2 = _alpha_batch(drawn, inst, flow, alphas, "S1")          # spectral init, for the plots
    both = flow.take(torch.arange(2 * A * B, device=flow.device) % B)
    T_end = float(spec_horizon(flow, min(alphas), r).max()) + 20.0 / float(sM.min())
    sol = integrate(both, torch.cat([Z1, S1]), torch.cat([Z2, S2]), T_end, n_eval=drawn.get("n_eval", 160),
                    **_tol(ctx))
    t_half = sol.t_half[:A * B]                                # the random-init rows
    if not bool(torch.isfinite(t_half).all()):
        return Evidence.inconclusive("no half-loss time within the horizon", {"t_half": t_half.tolist()})
    Lbig = Lstar.repeat(A)
    excess = (big.loss(*states_at(big, Z1, Z2, t_half + tau_loc.repeat(A), **_tol(ctx))) - Lbig).reshape(A, B)
    final = (sol.loss[-1, :A * B] - Lbig).reshape(A, B)
    g1 = torch.linalg.svd(inst.R0)[0][0, :, 0]
    curves, align = [], []
    shown_floor = 1e-14 * float(sol.loss[0, 0])               # float64's resolution of L - L*: below it, noise
    for i, alpha in enumerate(alphas):                        # row 0 of each alpha, for the plots
        j = i * B
        curves.append(T.series(f"random, alpha={alpha:g}", sol.t,
                               (sol.loss[:, j] - Lstar[0]).clamp_min(shown_floor)))
        curves.append(T.series(f"spectral S1, alpha={alpha:g}", sol.t,
                               (sol.loss[:, A * B + j] - Lstar[0]).clamp_min(shown_floor)))
        top = sol.Z1[:, j] if flow.U is None else flow.U[0] @ sol.Z1[:, j]   # (T, m, r): col of the update
        cos = torch.linalg.vector_norm(torch.linalg.qr(top)[0].transpose(-2, -1) @ g1, dim=-1).clamp(max=1.0)
        align.append(T.series(f"alpha={alpha:g}", sol.t, torch.log10((1 - cos).clamp_min(1e-16))))
    L0 = 0.5 * (inst.R0 ** 2).sum(dim=(-2, -1))
    allowed = 1.05 * excess[:-1] + 1e-10 * L0                  # 5% slack above the solver's resolution
    meas = {"alphas": alphas, "excess_at_T(alpha)": excess.tolist(), "final_excess": final.tolist(),
            "L_star": Lstar.tolist(), "tau_loc": tau_loc.tolist()}
    traces = T.plots(
        T.plot("L - L*: random vs spectral init (instance 1)", "t", "L - L*", curves, ylog=True,
               caption="The excess loss along the flow for each init scale alpha, from a random and from the "
                       "spectral init S1, on the first drawn instance (floored at 1e-14 L(0), float64's resolution); "
                       "the claim asserts it reaches L* (no floor)."),
        T.plot("alignment with gamma1 (instance 1)", "t", "log10(1 - cos(gamma1, col U Z1))", align,
               caption="How closely the update's column space aligns with the top singular vector gamma1 of R0 along "
                       "the random-init flow, per init scale alpha, on the first drawn instance."),
        T.plot("excess at matched progress T(alpha)", "init scale alpha", "L(T(alpha)) - L*",
               _rows(alphas, excess, style="points"), xlog=True, ylog=True,
               caption="The excess loss at matched progress T(alpha) = t_half(alpha) + tau_loc against alpha, one "
                       "colour per drawn instance; the claim asserts it does not increase as alpha shrinks."))
    margins = {"excess at T(alpha) non-increasing as alpha shrinks (<= 1.05 x + 1e-10 L0)":
               worst_row(excess[1:], allowed)}
    if floor is None:
        margins["lim L = L* at alpha_min (L - L* <= 1e-8 L0)"] = worst_row(final[-1], 1e-8 * L0)
    else:
        margins[f"lim L - L* >= {floor:g} L0 (a positive floor)"] = worst_row(final[-1], floor * L0, ">=")
    return Evidence.from_margins(margins, meas, traces=traces, events=_events(drawn))


theorem(
    "xu2025.b4_progress_matched_error", paper=PAPER, theorem="C1 / B4 (smaller init, lower error; no floor)",
    statement="RECONSTRUCTED: from small random init (alpha in {1e-4, 1e-6, 1e-8}, same G), the excess loss "
              "L - L* at the progress-matched time T(alpha) = t_half(alpha) + 2/sigma_1(M) does not increase as "
              "alpha shrinks (5% slack), and gradient flow still reaches L* = 1/2 ||(I - P_U) R0||^2 in the limit "
              "(so 'smaller init, lower final error' is read as an upper bound at matched progress, never as a "
              "positive limiting floor).",
    assumptions="Rank-1 target, LoRA rank 1-3; Readings A, B, B'.  " + RECON,
    notes="With LoRA rank r > rank R0 the unused adapter columns start at O(sqrt(alpha)) and their product "
          "decays at a rate O(alpha): at any practical horizon the excess is O(alpha^2) (measured 1.6e-9 at "
          "alpha = 1e-4, 1.6e-17 at 1e-8), so lim L = L* is checked at the smallest alpha.  At matched "
          "progress the excess is dominated by the local phase and falls only slightly with alpha "
          "(e.g. 2.255e-4, 2.2416e-4, 2.2414e-4).",
    provenance="reconstructed",
    strategy=lambda p: XS.xu_draws(p, variant=("A", "B", "B'"), rank_target=(1, 1), r_mode="any"),
    evaluate=eval_progress_matched)


def eval_bprime_distance(drawn, ctx, random_exact=False):
    """B6 (Reading B'): the limit adapter's distance to U^+ R0 decreases with alpha; spectral init hits it.
    ``random_exact`` (control) also demands that random init at the smallest alpha reaches U^+ R0 (1e-8)."""
    inst, flow = _flow(drawn, ctx)
    target = torch.linalg.pinv(inst.U) @ inst.R0
    tn = target.flatten(1).norm(dim=1)
    sM = torch.linalg.svdvals(flow.M())
    r = drawn["r"]
    alphas, B = drawn["alphas"], flow.batch
    big, Z1, Z2 = _alpha_batch(drawn, inst, flow, alphas)
    S1 = initial_point(drawn, inst, alphas[-1], "S1")
    big = big.take(torch.arange(big.batch + B, device=flow.device) % big.batch)   # + B rows for S1
    Z1, Z2 = torch.cat([Z1, S1[0]]), torch.cat([Z2, S1[1]])
    T_end = float(spec_horizon(flow, min(alphas), r).max()) + 40.0 / float(sM[:, r - 1].min())
    Z1e, Z2e = integrate(big, Z1, Z2, T_end, n_eval=drawn.get("n_eval", 80), events=False, **_tol(ctx)).final
    dist = ((Z1e @ Z2e.transpose(1, 2) - target.repeat(len(alphas) + 1, 1, 1)).flatten(1).norm(dim=1)
            / tn.repeat(len(alphas) + 1)).reshape(len(alphas) + 1, B)
    rand, spec = dist[:-1], dist[-1]
    margins = {"distance decreases with alpha (d(next alpha) <= d(alpha))": worst_row(rand[1:], rand[:-1]),
               "spectral init distance <= 1e-8": at_most(float(spec.max()), 1e-8)}
    if random_exact:
        margins["random init distance <= 1e-8"] = at_most(float(rand[-1].max()), 1e-8)
    return Evidence.from_margins(
        margins,
        {"alphas": drawn["alphas"], "distance_random": rand.tolist(), "distance_S1": spec.tolist()},
        events=_events(drawn), traces=T.plots(T.plot(
            "Reading B': limit adapter vs U^+ R0", "init scale alpha", "||Z1 Z2^T - U^+ R0|| / ||U^+ R0||",
            _rows(drawn["alphas"], rand, style="points"), xlog=True, ylog=True,
            caption="The relative distance of the limit adapter from random init to the minimum-norm solution "
                    "U^+ R0 against alpha, one colour per drawn instance; the claim asserts it decreases as alpha "
                    "shrinks (and that the spectral init reaches 1e-8).")))


theorem(
    "xu2025.b6_bprime_distance", paper=PAPER, theorem="C1 / B6 (Reading B': distance to U^+ R0)",
    statement="RECONSTRUCTED: with a rank-deficient pretrained factor, the limit adapter Z1 Z2^T from random init "
              "at alpha in {1e-1, 1e-2, 1e-3} gets strictly closer to the minimum-norm solution U^+ R0 as alpha "
              "shrinks (its ker-U component is frozen at its O(sqrt(alpha)) start), and from the spectral init S1 "
              "it reaches U^+ R0 (relative distance <= 1e-8).",
    assumptions="Reading B' (0 < rank U < h), LoRA rank r = rank R0.  " + RECON,
    provenance="reconstructed",
    strategy=lambda p: XS.xu_draws(p, variant=("B'",), r_mode="eq", alpha_grids=("bprime",)),
    evaluate=eval_bprime_distance)


def _loss_time(gains, sig, alpha, eps):
    """First t with the aligned closed-form loss 1/2 sum_j (sigma_j - x_j(t))^2 <= eps (bisection)."""
    def loss(t):
        return 0.5 * float(((sig - logistic_mode(t, gains, sig, gains * alpha)) ** 2).sum())
    lo, hi = 0.0, 1.0
    while loss(hi) > eps:
        hi *= 2
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if loss(mid) > eps else (lo, mid)
    return hi


def eval_spectral_precision(drawn, ctx, init="S1"):
    """B5 (C3): small spectral init reaches loss < eps within 1.2 T_eps for every eps, and stays."""
    d = dict(drawn, thetas=[0.0] * drawn["k"], r=drawn["k"])
    inst, flow = _flow(d, ctx)
    alpha = d["alphas"][0]
    gains = torch.tensor(d["gains"][: d["k"]], dtype=torch.float64)
    sig = torch.tensor(d["sigmas"], dtype=torch.float64)
    Z1, Z2 = initial_point(d, inst, alpha, "S1" if init == "S1" else "N1")
    eps_list = [1e-2, 1e-4, 1e-8]
    T = {e: _loss_time(gains, sig, alpha, e) for e in eps_list}
    sol = integrate(flow, Z1, Z2, 1.2 * max(T.values()), n_eval=200, **_tol(ctx))
    margins, meas = {}, {"T_eps": T, "init": init}
    for e in eps_list:
        after = sol.t >= 1.2 * T[e]
        worst = float(sol.loss[after].max()) if bool(after.any()) else float("nan")
        margins[f"loss < {e:g} from 1.2 T_eps on"] = at_most(worst, e)
        meas[f"max_loss_after_1.2T[{e:g}]"] = worst
    return Evidence.from_margins(margins, meas, traces=_loss_plot(
        f"loss from the {init} init", sol,
        f"The loss along the flow from the small {init} init, one curve per drawn instance; the claim asserts it "
        "falls below each eps in {1e-2, 1e-4, 1e-8} by 1.2 T_eps and stays there.", hline=1e-8,
        hline_label="eps = 1e-8"),
                                 events=_events(d))


theorem(
    "xu2025.b5_spectral_precision", paper=PAPER, theorem="C3 / B5 (spectral init, arbitrary precision)",
    statement="RECONSTRUCTED: with small spectral init (top singular vectors of M), gradient flow brings the "
              "loss below every eps in {1e-2, 1e-4, 1e-8} by 1.2 T_eps (T_eps from the logistic closed form) "
              "and keeps it there.",
    assumptions="Reading B, aligned target (theta = 0), r = rank R0, alpha = 1e-4.  " + RECON,
    provenance="reconstructed",
    strategy=lambda p: XS.xu_draws(p, aligned=True, r_mode="eq"), evaluate=eval_spectral_precision)


def eval_faithful(drawn, ctx, eta_scale=0.05, per="U^2 R0"):
    """Euler/GD cross-check: with eta <= 0.05/(||U||^2 ||R0||), halving eta halves the distance to the ODE.
    ``per='M'`` sets eta = eta_scale / sigma_1(M) instead (the scale that controls the coarse-step mutant)."""
    inst, flow = _flow(drawn, ctx)
    Z1, Z2 = initial_point(drawn, inst, 0.1, "random")
    normU = 1.0 if flow.U is None else float(torch.linalg.matrix_norm(flow.U, ord=2).max())
    if per == "M":
        eta = eta_scale / float(torch.linalg.matrix_norm(flow.M(), ord=2).max())
    else:
        eta = eta_scale / (normU ** 2 * float(torch.linalg.matrix_norm(flow.R0, ord=2).max()))
    T = 40 * eta
    ratio = step_halving_ratio(flow, Z1, Z2, eta, T, **_tol(ctx))
    if not bool(torch.isfinite(ratio).all()):
        # GD diverged (a non-finite iterate): no ratio to grade, the condition simply fails
        return Evidence.from_margins({"GD finite": -1.0}, {"eta": eta, "ratio": ratio.tolist()})
    lo, hi = float(ratio.min()), float(ratio.max())
    return Evidence.from_margins({"ratio >= 1.7": at_least(lo, 1.7), "ratio <= 2.3": at_most(hi, 2.3)},
                                 {"eta": eta, "eta*||U||^2*||R0||": eta_scale, "ratio": ratio.tolist()},
                                 events=_events(drawn))


lemma(
    "xu2025.gd_faithful", paper=PAPER, theorem="Simulation faithfulness (Euler/GD vs the ODE)",
    statement="Gradient descent with eta <= 0.05/(||U||^2 ||R0||) is a first-order discretisation of the flow: "
              "halving eta halves the distance to the ODE solution at the same time (ratio in [1.7, 2.3]).",
    assumptions="All readings; random init at alpha = 0.1; 40 steps.", provenance="derived",
    strategy=lambda p: XS.xu_draws(p, variant=("A", "B", "B'")), evaluate=eval_faithful)


# ---------------------------------------------------------------- solver check: the batch as one ODE system

# declared agreement of a batched solve with per-row solves: every state on the output grid within
# BATCH_K (atol + rtol |y|_inf) of the per-row one (one local error tolerance), every event time within
# BATCH_K rtol t (+ the events' refinement resolution).  Why one tolerance suffices with the max norm: the
# batch's steps are its fast row's own (it binds every step), so that row retraces its per-row solve, and
# the slow rows, over-resolved, differ by their per-row solves' errors, far below one tolerance (their
# steps are capped by the output grid).  Measured on ci draws, in these units: states and events <= 0.05
# with the max norm; states 4-14 with torchdiffeq's RMS norm (>= 2.5 at the mildest corner of the draws).
BATCH_K = 1.0
BATCH_N_EVAL = 8
BATCH_HORIZON = 1.0         # the horizon in units of the fast row's escape time ln(sigma_1(R0)/alpha)/(2 sigma_1(M))


def _hetero_batch(drawn, ctx):
    """The drawn heterogeneous batch (strategies.xu.xu_batch_draws): the ``batch`` distinct rows (the fast row's
    R0 scaled by its speed, per-row random init), the system's row index (the fast row once, the slow rows
    repeated round-robin up to ``rows``) and the horizon, BATCH_HORIZON x the fast row's escape time
    ln(sigma_1(R0)/alpha)/(2 sigma_1(M)).  Returns (flow, Z1, Z2, index, T) for the distinct rows."""
    inst = instance_from_draw(drawn, ctx.device, ctx.dtype)
    speeds = torch.tensor(drawn["speeds"], dtype=ctx.dtype, device=ctx.device).reshape(-1, 1, 1)
    flow = LoRAFlow(None if drawn["variant"] == "A" else inst.U, inst.R0 * speeds, drawn["variant"])
    Z1, Z2 = initial_point(drawn, inst, drawn["row_alphas"], "random")
    f = drawn["fast_row"]
    slow = [b for b in range(flow.batch) if b != f]
    index = torch.tensor([f] + [slow[i % len(slow)] for i in range(drawn["rows"] - 1)], device=ctx.device)
    s_r = float(torch.linalg.svdvals(flow.R0[f])[0])
    s_m = float(torch.linalg.svdvals(flow.M()[f])[0])
    return flow, Z1, Z2, index, BATCH_HORIZON * math.log(s_r / drawn["row_alphas"][f]) / (2.0 * s_m)


def _per_row_solves(drawn, ctx):
    """Each distinct row integrated alone (same path, method and tolerances; a repeated row's solve is the
    same), memoised in ``ctx``: (states (T, batch, D), t_tau (batch,), t_half (batch,), nfe)."""
    def compute():
        flow, Z1, Z2, _, T_end = _hetero_batch(drawn, ctx)
        sols = [integrate(flow.take([b]), Z1[b:b + 1], Z2[b:b + 1], T_end, n_eval=BATCH_N_EVAL, **_tol(ctx))
                for b in range(flow.batch)]
        ys = torch.cat([flow.pack(s.Z1, s.Z2) for s in sols], dim=1)
        return (ys, torch.cat([s.t_tau for s in sols]), torch.cat([s.t_half for s in sols]),
                sum(s.nfe for s in sols))
    return ctx.memo("xu2025.per_row_solves", drawn, compute)


def eval_batched_solve(drawn, ctx, norm="max"):
    """Solver check: the heterogeneous batch integrated as ONE system (``integrate``, as every Xu claim does)
    agrees with each row integrated alone.  ``norm='rms'`` (control) integrates the batch with torchdiffeq's
    default RMS error norm, which lets the slow rows dilute the fast row's error."""
    flow, Z1, Z2, index, T_end = _hetero_batch(drawn, ctx)
    tol = _tol(ctx)
    rtol, atol = tol["rtol"], tol["atol"]
    ys_row, tau_row, half_row, nfe_row = _per_row_solves(drawn, ctx)
    ys_row, tau_row, half_row = ys_row[:, index], tau_row[index], half_row[index]
    big = flow.take(index)
    sol = integrate(big, Z1[index], Z2[index], T_end, n_eval=BATCH_N_EVAL, norm=norm, **tol)
    ys = big.pack(sol.Z1, sol.Z2)
    size = ys_row.abs().amax(-1)                                                  # (T, rows)
    rel = (ys - ys_row).abs().amax(-1) / size.clamp_min(1e-300)
    margins = {f"batched states = per-row (|dy|_inf <= {BATCH_K:g} (atol + rtol |y|_inf))":
               worst_row(rel, BATCH_K * (rtol + atol / size.clamp_min(1e-300)))}
    units = ((ys - ys_row).abs().amax(-1) / (atol + rtol * size)).amax(0)
    meas = {"norm": norm, "T": T_end, "rows": big.batch, "nfe_batched": sol.nfe, "nfe_per_row": nfe_row,
            "state_disagreement_in_tol": units[:flow.batch].tolist()}
    for name, tb, tr in (("t_tau", sol.t_tau, tau_row), ("t_half", sol.t_half, half_row)):
        if bool((torch.isnan(tb) != torch.isnan(tr)).any()):
            # the event was found by one solve and not by the other: nothing continuous to grade
            margins[f"{name} batched = per-row"] = -1.0
            meas[name] = {"batched": tb.tolist(), "per_row": tr.tolist()}
            continue
        both = ~torch.isnan(tr)
        dt = torch.where(both, (tb - tr).abs(), torch.zeros_like(tr))
        ta = torch.where(both, tr.abs(), torch.zeros_like(tr))
        margins[f"{name} batched = per-row (|dt| <= {BATCH_K:g} rtol t + 2 xtol max(t, 1))"] = \
            worst_row(dt, BATCH_K * rtol * ta + 2 * EVENT_XTOL * ta.clamp_min(1.0))
        meas[f"{name}_disagreement_in_rtol_t"] = (dt / (rtol * ta).clamp_min(1e-300))[:flow.batch].tolist()
    return Evidence.from_margins(margins, meas, events=_events(drawn) + [f"rows={big.batch}", f"norm={norm}"])


lemma(
    "xu2025.power_batched_solve", paper=PAPER, theorem="solver check (all Xu claims)",
    statement="Integrating a heterogeneous batch of instances as ONE ODE system (gradient_flow.integrate with "
              "max-norm error control, as every Xu claim does) gives each row what integrating it alone gives: "
              "on the output grid |y_batched - y_row|_inf <= atol + rtol |y_row|_inf (one local error "
              "tolerance), and the event times t_tau, t_half within rtol t (+ the events' refinement resolution).",
    assumptions="One xu_draws instance (any reading, rank-1/2 target, LoRA rank 1-3) with 3-4 distinct rows: one "
                "10-40x faster (R0 scaled) from a tiny init (alpha 1e-8..1e-7), the others at speed 1 from alpha "
                "1e-4..1e-1, repeated to 32-64 rows in the system; horizon the fast row's escape time; "
                "dopri8 at the claims' rtol/atol, 8 output points.",
    provenance="derived",
    notes="The batch's steps are set by its fast row.  With the max norm every row meets the tolerance at every "
          "step: the fast row retraces its per-row solve and the slow rows are only more accurate than alone "
          "(measured on ci draws: <= 0.05 tolerance units on the states and on the events).  torchdiffeq's "
          "default RMS norm averages the fast row's error with the slow rows' near-zero ones, so it may grow "
          "~sqrt(rows) times per step (measured 4-14 units on the states): control xu2025.nc_batched_solve_rms.  "
          "The same check caught a planted RMS norm in _max_norm (3.8-12 units, worst margin -0.85).",
    strategy=lambda p: XS.xu_batch_draws(p), evaluate=eval_batched_solve)


# ================================================================ negative controls

control(
    "xu2025.nc_batched_solve_rms", guards="xu2025.power_batched_solve", paper=PAPER,
    theorem="solver check (all Xu claims)",
    statement="MUTANT: the batch integrated with torchdiffeq's default RMS error norm (instead of the max norm) "
              "still agrees with per-row solves.  The RMS norm dilutes the fast row's error by the slow rows', "
              "so the batched-solve check must see the disagreement.",
    provenance="derived",
    strategy=lambda p: XS.xu_batch_draws(p), evaluate=functools.partial(eval_batched_solve, norm="rms"))

control(
    "xu2025.n5_mutated_simulator", guards=("xu2025.a1_conserved_imbalance",), paper=PAPER,
    theorem="N5 (mutated simulator breaks A1)",
    statement="MUTANT: a simulator with a dropped factor (dZ2 = E^T U I instead of E^T U Z1) still conserves the "
              "imbalance.  The A1 check must catch the bug.",
    assumptions="As A1.", provenance="derived",
    strategy=lambda p: XS.xu_draws(p, variant=("B",)),
    evaluate=functools.partial(eval_imbalance, mutant="drop_factor"))

control(
    "xu2025.n1_wrong_subspace", guards=("xu2025.b5_spectral_precision",), paper=PAPER,
    theorem="N1 (wrong-subspace spectral init)",
    statement="MUTANT: 'any small init reaches arbitrary precision in time T_eps'.  An init orthogonal to the "
              "top singular spaces of M lies in an invariant set of the flow: the loss stays near L0.",
    assumptions="Reading B, aligned target, wrong-subspace init (room for it by construction).",
    provenance="derived",
    strategy=lambda p: XS.xu_draws(p, aligned=True, r_mode="eq", wrong_room=True),
    evaluate=functools.partial(eval_spectral_precision, init="N1"))

control(
    "xu2025.n4_coarse_gd", guards=("xu2025.gd_faithful",), paper=PAPER, theorem="N4 (discretisation too coarse)",
    statement="MUTANT: 'GD with eta = 1.2/sigma_1(M) is a faithful simulation of the flow'.  The step-halving "
              "check must reject it (the ratio leaves [1.7, 2.3], or GD diverges).  (The spec's scale eta "
              "||U||^2 ||R0|| = 0.6 / 1.2 did not reproduce the failure; eta sigma_1(M) is what controls it.)",
    assumptions="As xu2025.gd_faithful.", provenance="derived",
    strategy=lambda p: XS.xu_draws(p, variant=("A", "B", "B'")),
    evaluate=functools.partial(eval_faithful, eta_scale=1.2, per="M"))


def eval_misaligned_zero(drawn, ctx):
    """N6 mutant: 'the alignment plateau 1 - cos(gamma1, U Z1) at t_tau is ~0 even when misaligned'."""
    plateau, mu, alpha = _plateau(drawn, ctx)
    if not bool(torch.isfinite(plateau).all()):
        return Evidence.inconclusive("the update never reached tau sigma_1(R0)", {"plateau": plateau.tolist()})
    return Evidence.from_margins({"plateau <= 1e-8": at_most(float(plateau.max()), 1e-8)},
                                 {"plateau": plateau.tolist(), "mu": mu.tolist()}, events=_events(drawn))


control(
    "xu2025.n6_misaligned_plateau", guards=("xu2025.b3_misalignment_plateau",), paper=PAPER,
    theorem="N6 (misalignment leaves a plateau)",
    statement="MUTANT: 'the update aligns with the target's top direction (1 - cos < 1e-8) at t_tau whatever "
              "the pretrained factor'.  With principal angle theta > 0 between col U and the target the "
              "plateau is about mu = 1 - cos theta, so the aligned prediction must be rejected.",
    assumptions="Reading B, rank-1 target, theta >= 0.1.", provenance="reconstructed",
    strategy=lambda p: XS.xu_draws(p, variant=("B",), aligned=False, rank_target=(1, 1)),
    evaluate=eval_misaligned_zero)


control(
    "xu2025.n2_no_gap", guards=("xu2025.b1_alignment_improves",), paper=PAPER,
    theorem="N2 (no spectral gap: alignment does not improve)",
    statement="MUTANT: 'shrinking alpha from 1e-4 to 1e-8 improves the alignment at t_tau at least 5-fold (the "
              "prototype's ratio <= 0.2)' even when sigma_1 = sigma_2.  Without a gap the top direction is not "
              "selected and the ratio stays near 1 (spec prototype 0.96).",
    assumptions="Reading A, rank-2 target with sigma_1 = sigma_2, LoRA rank 1.", provenance="reconstructed",
    strategy=lambda p: with_domain(XS.xu_draws(p, variant=("A",), rank_target=(2, 2), r_range=(1, 1)).map(XS.tie_top_two),
                                   XS.xu_draws(p, variant=("A",), rank_target=(2, 2), r_range=(1, 1))),
    evaluate=functools.partial(eval_alignment, ratio_max=0.2))

control(
    "xu2025.n3_large_init", guards=("xu2025.b2_escape_time",), paper=PAPER,
    theorem="N3 (large init: no ln(1/alpha) phase)",
    statement="MUTANT: 'the half-loss time grows like ln(1/alpha)/(2 sigma_1(M))' for alpha in {3, 10, 30} >= "
              "sigma_1(R0).  A large init has no alignment phase, so B2's check must reject it.",
    assumptions="As xu2025.b2_escape_time with the large alpha grid and LoRA rank 1 (with unused adapter "
                "columns a large init leaves an excess that decays too slowly to reach the convergence check).",
    provenance="reconstructed",
    strategy=lambda p: XS.xu_draws(p, variant=("A", "B", "B'"), rank_target=(1, 1), r_range=(1, 1),
                                   alpha_grids=("large",)),
    evaluate=eval_escape_time,
    examples=({"variant": "A", "k": 1, "r": 1, "m": 4, "n": 4, "h": 4, "rank_u": 4, "gains": [1.0] * 4,
               "sigmas": [1.0], "thetas": [0.0], "alpha_grid": "large", "alphas": [3.0, 10.0, 30.0], "seed": 0,
               "batch": 4},))


# ---------------------------------------------------------------- mutants: each exact fact / claim can fail
# (each guards one claim; its assumptions are the guarded claim's, the default of control())

_ALL = ("A", "B", "B'")

control(
    "xu2025.m1_skew_flow", guards="xu2025.a2_monotone_loss", paper=PAPER, theorem="M1 (not a gradient flow)",
    statement="MUTANT: a simulator with Z2' = -E^T U Z1 (a sign slip) still never increases the loss.  The flow "
              "is then a rotation, not a gradient flow: A2's check must see the loss rise.",
    strategy=lambda p: XS.xu_draws(p, variant=_ALL), evaluate=functools.partial(eval_monotone, mutant="skew"))

control(
    "xu2025.m2_wrong_gradient", guards="xu2025.a3_gradient_autograd", paper=PAPER,
    theorem="M2 (dropped factor in the gradient)",
    statement="MUTANT: the gradient with Z1 dropped from dZ2 equals autograd's.  A3 must catch the bug.",
    strategy=lambda p: XS.xu_draws(p, variant=_ALL), evaluate=functools.partial(eval_autograd, mutant="drop_factor"))

control(
    "xu2025.m3_closed_form_mutant", guards="xu2025.a4_spectral_closed_form", paper=PAPER,
    theorem="M3 (mutated simulator vs the closed form)",
    statement="MUTANT: the simulator with a dropped factor still follows the logistic closed form.  A4 must "
              "reject it.",
    strategy=lambda p: XS.xu_draws(p, aligned=True, r_mode="eq", m_gap=True),
    evaluate=functools.partial(eval_closed_form, mutant="drop_factor"))

control(
    "xu2025.m4_eckart_young_shift", guards="xu2025.a5_eckart_young", paper=PAPER,
    theorem="M4 (Eckart-Young index off by one)",
    statement="MUTANT: the limit loss is 1/2 sum_{i>r+1} sigma_i^2.  The flow reaches 1/2 sum_{i>r} sigma_i^2, "
              "so A5's comparison must fail.",
    strategy=lambda p: XS.xu_draws(p, variant=("A",), r_mode="lt"),
    evaluate=functools.partial(eval_eckart_young, shift=1))

control(
    "xu2025.m5_row_space_frozen", guards="xu2025.a6_frozen_kernel", paper=PAPER,
    theorem="M5 (the wrong subspace is frozen)",
    statement="MUTANT: the component of Z1 in row U never moves (instead of ker U).  The flow moves it, so A6's "
              "measurement must reject this.",
    strategy=lambda p: XS.xu_draws(p, variant=("B'",)),
    evaluate=functools.partial(eval_frozen_kernel, space="row"))

control(
    "xu2025.m6_positive_floor", guards="xu2025.b4_progress_matched_error", paper=PAPER,
    theorem="M6 (a positive limiting error floor)",
    statement="MUTANT: random init leaves a positive limiting floor, lim L - L* >= 1e-6 L0 (the over-claim the "
              "spec warns against).  Gradient flow still reaches L*, so B4's limit measurement must refute it.",
    provenance="reconstructed",
    strategy=lambda p: XS.xu_draws(p, variant=_ALL, rank_target=(1, 1), r_mode="any"),
    evaluate=functools.partial(eval_progress_matched, floor=1e-6))

control(
    "xu2025.m7_random_reaches_pinv", guards="xu2025.b6_bprime_distance", paper=PAPER,
    theorem="M7 (random init reaches U^+ R0)",
    statement="MUTANT: in Reading B' random init at alpha = 1e-3 also reaches U^+ R0 (1e-8).  Its ker-U "
              "component stays frozen at O(sqrt(alpha)), so B6's distance must refute it.",
    provenance="reconstructed",
    strategy=lambda p: XS.xu_draws(p, variant=("B'",), r_mode="eq", alpha_grids=("bprime",)),
    evaluate=functools.partial(eval_bprime_distance, random_exact=True))
