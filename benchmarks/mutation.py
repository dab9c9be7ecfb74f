"""Mutation testing of the modules a verdict is computed from (issue 14, power), with cosmic-ray.

Opt-in (like the slow tests): ``pip install -e '.[mutation]'`` then ``python benchmarks/mutation.py`` in a
checkout you are not editing -- cosmic-ray rewrites each module in place for each mutant and restores it.
For every module below it runs the module's own tests against every mutant and reports killed / survived /
incompetent (the mutant could not run at all, e.g. a float shifted as an int) and the score killed /
(killed + survived).  Survivors are listed with their line, so each can be killed by a test or recorded as
equivalent in SURVIVORS_EQUIVALENT (README's BENCHMARKS table gets the score).

Operators: arithmetic (+ - * /), comparisons, boolean and unary operators, numbers, ``not``, ``and``/``or``,
break/continue and zero-iteration loops.  Bitwise, shift, floor-division, modulo and power replacements of
float arithmetic are excluded: on tensors and floats they raise at once (incompetent, not informative).
Identity comparisons (``is``/``is not`` replacing ``<`` etc.) and ``-x -> +x`` (the same mutant as deleting
the minus) are excluded as duplicates of mutants that are kept.

Speed: importing torch, scipy and hypothesis costs ~4 s, more than most killed mutants' tests.  A fork
server (``--serve``) imports those third-party libraries once and forks a fresh child per mutant, which
imports the project (the mutated file on disk) and runs pytest; nothing of the project is ever imported
in the server, so every mutant is tested by a clean process.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent          # cosmic-ray's scripts live beside the interpreter
PYTEST = f"{sys.executable} -m pytest -x -q -p no:cacheprovider"

# module -> the tests that check it (run against every mutant; -x stops at the first kill)
POWER = " ".join(f"checks/test_claims.py::test_claim[jang2024.{c}]" for c in
                 ("power_certification", "nc_j_first_order_certification", "nc_k_spurious_among_end_points"))
MODULES = {
    "theorems/numerics/slack.py": "tests/test_slack.py",
    "theorems/numerics/sosp.py": f"tests/test_sosp.py tests/test_jang_margins.py tests/test_minimise_sosp.py {POWER}",
    "theorems/numerics/certificate.py": "tests/test_certificate.py tests/test_minimise_sosp.py tests/test_kim_losses.py",
    "theorems/numerics/landscape.py": f"tests/test_landscape.py tests/test_jang_margins.py tests/test_tight_reverify.py tests/test_minimise_sosp.py {POWER}",
    "theorems/numerics/fails_loudly.py": "tests/test_fails_loudly_quantities.py tests/test_fails_loudly.py tests/test_kim_losses.py",
    "theorems/numerics/rank_reduction.py": "tests/test_rank_reduction_quantities.py tests/test_rank_reduction.py tests/test_jang_margins.py",
    "theorems/numerics/convex_oracle.py": ("tests/test_convex_oracle_speed.py tests/test_convex_oracle.py "
                                           "tests/test_kim_losses.py tests/test_fails_loudly.py tests/test_minimise_sosp.py"),
}

EXCLUDE = [r"core/ReplaceBinaryOperator_.*_(BitOr|BitAnd|BitXor|LShift|RShift|FloorDiv|Mod|Pow)$",
           r"core/ReplaceBinaryOperator_(BitOr|BitAnd|BitXor|LShift|RShift|FloorDiv|Mod|Pow)_.*",
           r"core/ReplaceUnaryOperator_.*_Invert$", r"core/ExceptionReplacer",
           r"core/ReplaceComparisonOperator_.*_(Is|IsNot)$", r"core/ReplaceUnaryOperator_USub_UAdd$"]

# Survivors examined and found equivalent, keyed by (module, enclosing function, source line, mutated line)
# so that an edit elsewhere in the module leaves the key valid: no input can tell them apart, or -- reasons
# starting "contract:" -- they differ only in what the module promises nothing about (an iteration budget,
# which of several valid directions a step takes, an exact tie at a tolerance).  "line"/"occurrence" in a
# reason points into the source as of 2026-12-02 (cosmic-ray numbers the sites of one operator).
SURVIVORS_EQUIVALENT: dict[tuple[str, str, str, str], str] = {
    ("theorems/numerics/slack.py", "slack_at_most",
     "out = torch.where(den == 0, torch.zeros_like(out), out)",
     "out = torch.where(den <= 0, torch.zeros_like(out), out)"):
        "den = |bound| + |value| + scale >= 0 (scale >= 0): den <= 0 iff den == 0",
    ("theorems/numerics/slack.py", "slack_at_most",
     "if den == 0:",
     "if den <= 0:"):
        "as line 26, scalar path",
    ("theorems/numerics/slack.py", "slack_at_most",
     "if math.isinf(value) or math.isinf(bound):",
     "if math.isinf(value) and math.isinf(bound):"):
        "one infinite operand already gives (b - v) / den = +-inf / inf = nan",
    ("theorems/numerics/sosp.py", "",
     "DENSE_MN_LIMIT = 128     # ... and up to this loss dimension m n (the loss's Hessian is mn x mn; dense wins at",
     "DENSE_MN_LIMIT = 129     # ... and up to this loss dimension m n (the loss's Hessian is mn x mn; dense wins at"):
        "DENSE_MN_LIMIT 128 -> 129: the dense and the matrix-free SOSP tests give the same extremes (tests agree to 1e-9); the limit only trades speed; the exact boundary is tested on dense_ok with the limit as it is (test_dense_ok_switch_at_its_exact_limits) but mn = 128 vs 129 vs 127 cannot change a verdict",
    ("theorems/numerics/sosp.py", "",
     "DENSE_MN_LIMIT = 128     # ... and up to this loss dimension m n (the loss's Hessian is mn x mn; dense wins at",
     "DENSE_MN_LIMIT = 127     # ... and up to this loss dimension m n (the loss's Hessian is mn x mn; dense wins at"):
        "DENSE_MN_LIMIT 128 -> 127: the dense and the matrix-free SOSP tests give the same extremes (tests agree to 1e-9); the limit only trades speed; the exact boundary is tested on dense_ok with the limit as it is (test_dense_ok_switch_at_its_exact_limits) but mn = 128 vs 129 vs 127 cannot change a verdict",
    ("theorems/numerics/sosp.py", "",
     'LANCZOS_STEPS = 160      # Krylov dimension of the matrix-free test (all of it where (m+n) r is smaller)',
     'LANCZOS_STEPS = 161      # Krylov dimension of the matrix-free test (all of it where (m+n) r is smaller)'):
        "contract: LANCZOS_STEPS 160 -> 161: a Krylov budget; the matrix-free test's accuracy is asserted against closed-form spectra and the dense path (test_sosp, test_matrix_free), which one step more or less does not change",
    ("theorems/numerics/sosp.py", "",
     'LANCZOS_STEPS = 160      # Krylov dimension of the matrix-free test (all of it where (m+n) r is smaller)',
     'LANCZOS_STEPS = 159      # Krylov dimension of the matrix-free test (all of it where (m+n) r is smaller)'):
        "contract: LANCZOS_STEPS 160 -> 159: a Krylov budget; the matrix-free test's accuracy is asserted against closed-form spectra and the dense path (test_sosp, test_matrix_free), which one step more or less does not change",
    ("theorems/numerics/sosp.py", "dense_ok",
     'return obj.dim <= DENSE_LIMIT and getattr(obj, "m", 0) * getattr(obj, "n", 0) <= DENSE_MN_LIMIT',
     'return obj.dim <= DENSE_LIMIT and getattr(obj, "m", -1) * getattr(obj, "n", 0) <= DENSE_MN_LIMIT'):
        "an objective without m (or n) has no mn x mn loss Hessian: 0 or -1 for the missing factor both make the product <= 0 <= DENSE_MN_LIMIT for any dimension >= 0",
    ("theorems/numerics/sosp.py", "dense_ok",
     'return obj.dim <= DENSE_LIMIT and getattr(obj, "m", 0) * getattr(obj, "n", 0) <= DENSE_MN_LIMIT',
     'return obj.dim <= DENSE_LIMIT and getattr(obj, "m", 0) * getattr(obj, "n", -1) <= DENSE_MN_LIMIT'):
        "an objective without m (or n) has no mn x mn loss Hessian: 0 or -1 for the missing factor both make the product <= 0 <= DENSE_MN_LIMIT for any dimension >= 0",
    ("theorems/numerics/sosp.py", "",
     "DENSE_LIMIT = 600        # dense eigvalsh up to this dimension, Lanczos on HVPs above",
     "DENSE_LIMIT = 601        # dense eigvalsh up to this dimension, Lanczos on HVPs above"):
        "DENSE_LIMIT 600 -> 601: dense eigvalsh and Lanczos give the same extremes (tests agree to 1e-9); the limit only trades speed, and no test instance has dimension 600 or 601",
    ("theorems/numerics/sosp.py", "",
     "DENSE_LIMIT = 600        # dense eigvalsh up to this dimension, Lanczos on HVPs above",
     "DENSE_LIMIT = 599        # dense eigvalsh up to this dimension, Lanczos on HVPs above"):
        "DENSE_LIMIT 600 -> 599: as above",
    ("theorems/numerics/landscape.py", "numerical_rank",
     "return (s > rel * s[:, :1].clamp_min(1e-300)).sum(dim=1)",
     "return (s > rel * s[:, :1].clamp_min( -1.0)).sum(dim=1)"):
        "numerical_rank's clamp_min(1e-300) -> clamp_min(-1.0): sigma_1 >= 0, and at sigma_1 = 0 both thresholds count nothing (0 > 0 is false)",
    ("theorems/numerics/landscape.py", "probe",
     "def probe(obj, scales, per_scale: int, seed: int, *, gd_steps: int = 600, newton_iters: int = 200,",
     "def probe(obj, scales, per_scale: int, seed: int, *, gd_steps: int = 601, newton_iters: int = 200,"):
        "contract: probe's gd_steps 600 -> 601: an iteration budget, not a decision (end points are certified by the SOSP test, whatever the budget)",
    ("theorems/numerics/landscape.py", "probe",
     "def probe(obj, scales, per_scale: int, seed: int, *, gd_steps: int = 600, newton_iters: int = 200,",
     "def probe(obj, scales, per_scale: int, seed: int, *, gd_steps: int = 599, newton_iters: int = 200,"):
        "contract: gd_steps 600 -> 599: as occurrence 8",
    ("theorems/numerics/landscape.py", "probe",
     "def probe(obj, scales, per_scale: int, seed: int, *, gd_steps: int = 600, newton_iters: int = 200,",
     "def probe(obj, scales, per_scale: int, seed: int, *, gd_steps: int = 600, newton_iters: int = 201,"):
        "contract: newton_iters 200 -> 201: as occurrence 8",
    ("theorems/numerics/landscape.py", "probe",
     "def probe(obj, scales, per_scale: int, seed: int, *, gd_steps: int = 600, newton_iters: int = 200,",
     "def probe(obj, scales, per_scale: int, seed: int, *, gd_steps: int = 600, newton_iters: int = 199,"):
        "contract: newton_iters 200 -> 199: as occurrence 8",
    ("theorems/numerics/rank_reduction.py", "RankReduction.rank_gap",
     "s = torch.linalg.svdvals(self.Y.detach().double()) if self.Y.numel() else torch.zeros(0)",
     "s = torch.linalg.svdvals(self.Y.detach().double()) if self.Y.numel() else torch.zeros( 1)"):
        "rank_gap of an empty Y: zeros(0) -> zeros(1) gives s = [0.], so top = 0 and s[r] = 0 for every rank r >= 0, the same (0.0, 0.0)",
    ("theorems/numerics/rank_reduction.py", "_svec_index",
     "w = torch.where(j == l, torch.ones(j.shape, dtype=torch.float64),",
     "w = torch.where(j >= l, torch.ones(j.shape, dtype=torch.float64),"):
        "svec weights: triu_indices gives only pairs j <= l, so j >= l iff j == l",
    ("theorems/numerics/rank_reduction.py", "_nuclear",
     "if Y.shape[1] == 0:",
     "if Y.shape[1] == -1:"):
        "Y.shape[1] == 0 -> == -1: without the early return zero columns give an empty product whose nuclear norm is also 0.0",
    ("theorems/numerics/rank_reduction.py", "full_column_rank",
     "if Y.shape[1] == 0:",
     "if Y.shape[ 0] == 0:"):
        "full_column_rank's Y.shape[1] == 0 -> Y.shape[0] == 0: zero columns fall through to an empty SVD and the same empty result; zero rows would mean m + n = 0",
    ("theorems/numerics/rank_reduction.py", "full_column_rank",
     "if sig.numel() == 0 or float(sig[0]) == 0.0:",
     "if sig.numel() == 0 or float(sig[0]) == -1.0:"):
        "sig[0] == 0.0 -> == -1.0: as occurrence 4 of Eq_Lt (the all-zero case falls through to the same result)",
    ("theorems/numerics/rank_reduction.py", "full_column_rank",
     "if sig.numel() == 0 or float(sig[0]) == 0.0:",
     "if sig.numel() == 0 or float(sig[0]) <= 0.0:"):
        "sig[0] <= 0.0: as occurrence 4 of Eq_Lt",
    ("theorems/numerics/rank_reduction.py", "full_column_rank",
     "if sig.numel() == 0 or float(sig[0]) == 0.0:",
     "if sig.numel() <= 0 or float(sig[0]) == 0.0:"):
        "sig.numel() <= 0 iff == 0 (a count)",
    ("theorems/numerics/rank_reduction.py", "full_column_rank",
     "if sig.numel() == 0 or float(sig[0]) == 0.0:",
     "if sig.numel() == 0 or float(sig[0]) < 0.0:"):
        "sig[0] < 0 never holds (singular values >= 0); the all-zero case it skips falls through to keep = sig > 0 = none, the same empty result",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "smax = float(sig[0]) if sig.numel() else 0.0",
     "smax = float(sig[0]) if sig.numel() else -1.0"):
        "smax's empty fallback 0.0 -> -1.0: only used as 'smax > 0', false for both",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "crank = int((sig > tol * smax).sum()) if smax > 0 else 0",
     "crank = int((sig > tol * smax).sum()) if smax > -1 else 0"):
        "smax > 0 -> smax > -1: at smax = 0 every singular value is 0, so the count (sig > 0).sum() is the else value 0",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "crank = int((sig > tol * smax).sum()) if smax > 0 else 0",
     "crank = int((sig > tol * smax).sum()) if smax >= 0 else 0"):
        "smax > 0 -> >= 0: as occurrence 101",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "if d <= crank:",
     "if d == crank:"):
        "d <= crank iff d == crank: crank counts at most min(KN, d) singular values",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "if float(x @ w) > 0:",
     "if float(x @ w) >= 0:"):
        "contract: x @ w > 0 -> >= 0 differs only at x @ w = +-0, choosing -x for x: both are null directions with <Y^T Y, Delta> = 0 and a negative eigenvalue, so outputs, the nuclear norm and the rank after the step are the same (the docstring allows any null vector); only the final Y's sign pattern differs, which the reduction promises nothing about",
    ("theorems/numerics/rank_reduction.py", "svec",
     "s = X.shape[-1]",
     "s = X.shape[- 2]"):
        "svec's s = X.shape[-1] -> X.shape[-2]: svec is applied to square s x s matrices only",
    ("theorems/numerics/rank_reduction.py", "_nuclear",
     "if Y.shape[1] == 0:",
     "if Y.shape[ 0] == 0:"):
        "_nuclear's Y.shape[1] == 0 -> Y.shape[0] == 0: zero columns give an m x n zero product whose nuclear norm is 0.0 as well; zero rows would mean m + n = 0",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "smax = float(sig[0]) if sig.numel() else 0.0",
     "smax = float(sig[0]) if sig.numel() else 1.0"):
        "smax's empty fallback 0.0 -> 1.0: an empty sig counts nothing either way ((sig > tol).sum() of no entries is 0)",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "if float(proj.norm()) > 1e-8 * float(w.norm()):",
     "if float(proj.norm()) > 1e-8 / float(w.norm()):"):
        "contract: the branch switch 1e-8 ||w|| -> 1e-8 / ||w||: both branches take a null direction x with <x, svec(Y^T Y)> <= 0; for a one-dimensional null space they give the same x, otherwise they differ only in which such direction is taken, which the reduction's guarantees (outputs kept, nuclear norm not increased, rank <= r_max) do not fix",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "x = null[-1]",
     "x = null[- 0]"):
        "contract: null[-1] -> null[0] in the fallback: another unit null vector, oriented the same way; as line 194",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "scale = (1.0 + t * evals).clamp_min(0.0)  # scale[0] == 0 up to rounding",
     "scale = (1.0 + t * evals).clamp_min( -1.0)  # scale[0] == 0 up to rounding"):
        "scale.clamp_min(0.0) -> clamp_min(-1.0): 1 + t evals >= 0 up to rounding with equality at the dropped column 0; any other column rounded below 0 fails keep = scale > tol max and is dropped too",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "keep = scale > tol * float(scale.max())",
     "keep = scale >= tol * float(scale.max())"):
        "contract: keep = scale > tol max -> >=: differs only at an exact tie, where the column's share of Y Y^T is exactly the tolerance either way",
    ("theorems/numerics/fails_loudly.py", "geometry",
     "rank = (sv > RANK_TOL * sv[:, :1].clamp_min(1e-300)).sum(dim=1)",
     "rank = (sv > RANK_TOL * sv[:, :1].clamp_min( -1.0)).sum(dim=1)"):
        "sigma_1 >= 0: clamp_min(1e-300) -> clamp_min(-1.0) differs only at sigma_1 = 0, where 0 > 1e-306 and 0 > 0 are both false",
    ("theorems/numerics/fails_loudly.py", "geometry",
     "sig_rstar = sv[rows, (rstar - 1).clamp_min(0)]",
     "sig_rstar = sv[rows, (rstar - 1).clamp_min( -1)]"):
        "(rstar - 1).clamp_min(0) -> clamp_min(-1) differs only at rstar = 0, which the callers exclude (kim2025.a1_complementary keeps rstar >= 1, per matrix and per block)",
    ("theorems/numerics/fails_loudly.py", "geometry",
     "sig_r = sv[:, r - 1] if r <= sv.shape[1] else torch.zeros_like(sv[:, 0])",
     "sig_r = sv[:, r - 1] if r <= sv.shape[1] else torch.zeros_like(sv[:, 1])"):
        "zeros_like(sv[:, 0]) -> zeros_like(sv[:, 1]): the same (S,) zeros (zeros_like reads shape and dtype)",
    ("theorems/numerics/fails_loudly.py", "Inequality.slack",
     "f = slack_at_most if self.sense == \"<=\" else slack_at_least",
     "f = slack_at_most if self.sense <= \"<=\" else slack_at_least"):
        "sense == '<=' -> sense <= '<=': the two senses are '<=' and '>=', and '>=' <= '<=' is false ('>' > '<')",
    ("theorems/numerics/fails_loudly.py", "corollary1_bound",
     "bound = torch.where(den > 0, (geo.tail2 / den.clamp_min(1e-300)).sqrt(), torch.full_like(den, float(\"inf\")))",
     "bound = torch.where(den > 0, (geo.tail2 / den.clamp_min( -1.0)).sqrt(), torch.full_like(den, float(\"inf\")))"):
        "den.clamp_min(1e-300) -> clamp_min(-1.0) inside torch.where(den > 0, ...): den = fl(1 - q) > 0 is >= 2^-53 (Sterbenz), so neither clamp binds where the branch is kept",
    ("theorems/numerics/fails_loudly.py", "geometry",
     "sig_r = sv[:, r - 1] if r <= sv.shape[1] else torch.zeros_like(sv[:, 0])",
     "sig_r = sv[:, r - 1] if r <= sv.shape[1] else torch.zeros_like(sv[:, -1])"):
        "zeros_like(sv[:, -1]): as occurrence 74",
    ("theorems/numerics/fails_loudly.py", "geometry",
     "Us, _, Vsh = torch.linalg.svd(S, full_matrices=False)",
     "Us, _, Vsh = torch.linalg.svd(S, full_matrices=True)"):
        "svd(S, full_matrices=True): only the top singular pair (column 0) is used, the same either way up to a common sign, which D's quadratic form does not see",
    ("theorems/numerics/rank_reduction.py", "RankReduction.output_error",
     "scale = max(1.0, float(self.outputs_before.abs().max())) if self.outputs_before.numel() else 1.0",
     "scale = max(1.0, float(self.outputs_before.abs().max())) if self.outputs_before.numel() else 0.0"):
        "scale 1.0 -> 0.0: as occurrence 30",
    ("theorems/numerics/rank_reduction.py", "rank_bound",
     "r = 0",
     "r = -1"):
        "r = 0 -> r = -1: the first test (0 * 1 // 2 = 0 <= KN) lifts r to 0 for every KN = K N >= 0, and the loop goes on as before",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "if not lam_min < 0:",
     "if not lam_min != 0:"):
        "an unreachable guard: Delta = smat(x) for a unit null vector x with <x, svec(Y^T Y)> <= 0 and Y^T Y > 0 always has lam_min < 0, where 'not lam_min != 0' is also false",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "if s == 0:",
     "if s <= 0:"):
        "s <= 0 iff s == 0 (a column count)",
    ("theorems/numerics/rank_reduction.py", "full_column_rank",
     "if sig.numel() == 0 or float(sig[0]) == 0.0:",
     "if sig.numel() == -1 or float(sig[0]) == 0.0:"):
        "sig.numel() == -1 never holds: as Eq_Lt occurrence 3",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "break",
     "continue"):
        "the body of the unreachable guard at line 203 (lam_min < 0 always)",
    ("theorems/numerics/rank_reduction.py", "full_column_rank",
     "if sig.numel() == 0 or float(sig[0]) == 0.0:",
     "if sig.numel() < 0 or float(sig[0]) == 0.0:"):
        "sig.numel() < 0 never holds; sig is empty only for zero columns (returned above) or m + n = 0",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "crank = int((sig > tol * smax).sum()) if smax > 0 else 0",
     "crank = int((sig >= tol * smax).sum()) if smax > 0 else 0"):
        "contract: sig >= tol smax differs from > only at an exact tie at the (positive, enforced) tolerance",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "if float(proj.norm()) > 1e-8 * float(w.norm()):",
     "if float(proj.norm()) >= 1e-8 * float(w.norm()):"):
        "contract: ||proj|| >= 1e-8 ||w|| differs only at an exact tie, where either branch takes a valid null direction (as the Mul_Div switch at this line)",
    ("theorems/numerics/rank_reduction.py", "RankReduction.output_error",
     "scale = max(1.0, float(self.outputs_before.abs().max())) if self.outputs_before.numel() else 1.0",
     "scale = max(1.0, float(self.outputs_before.abs().max())) if self.outputs_before.numel() else 2.0"):
        "output_error's empty-outputs scale 1.0 -> 2.0: with no outputs the property returns 0.0 without using it",
    ("theorems/numerics/rank_reduction.py", "full_column_rank",
     "if Y.shape[1] == 0:",
     "if Y.shape[1] <= 0:"):
        "Y.shape[1] <= 0 iff == 0 (a count)",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "crank = int((sig > tol * smax).sum()) if smax > 0 else 0",
     "crank = int((sig > tol * smax).sum()) if smax != 0 else 0"):
        "smax != 0 iff smax > 0 (a singular value)",
    ("theorems/numerics/rank_reduction.py", "full_column_rank",
     "if Y.shape[1] == 0:",
     "if Y.shape[1] < 0:"):
        "Y.shape[1] < 0 never holds; zero columns fall through to an empty SVD and return Y[:, :0], which is Y",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "if not lam_min < 0:",
     "if not lam_min <= 0:"):
        "the unreachable guard of Lt_NotEq occurrence 0: 'not lam_min <= 0' is false whenever lam_min < 0",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "if max_steps is not None and steps >= max_steps:",
     "if max_steps is not None and steps == max_steps:"):
        "steps counts up from 0 by one per loop and max_steps >= 0 is enforced, so steps >= max_steps first holds at equality",
    ("theorems/numerics/rank_reduction.py", "full_column_rank",
     "if Y.shape[1] == 0:",
     "if Y.shape[1] == -1:"):
        "Y.shape[1] == -1 never holds: as Eq_Lt occurrence 2",
    ("theorems/numerics/rank_reduction.py", "full_column_rank",
     "if sig.numel() == 0 or float(sig[0]) == 0.0:",
     "if sig.numel() == 0 and float(sig[0]) == 0.0:"):
        "sig is never empty here (zero columns returned above), so the 'and' is false; at sig[0] = 0 the fall-through keeps sig > 0 = no column, the same (m+n, 0) result",
    ("theorems/numerics/rank_reduction.py", "_nuclear",
     "if Y.shape[1] == 0:",
     "if Y.shape[1] <= 0:"):
        "Y.shape[1] <= 0 iff == 0 (a count)",
    ("theorems/numerics/rank_reduction.py", "_nuclear",
     "if Y.shape[1] == 0:",
     "if Y.shape[1] < 0:"):
        "Y.shape[1] < 0 never holds (a count); zero columns fall through to an empty product whose nuclear norm is also 0.0",
    ("theorems/numerics/rank_reduction.py", "reduce_rank",
     "if not lam_min < 0:",
     "if not lam_min < 1:"):
        "the unreachable guard: 'not lam_min < 1' is false whenever lam_min < 0",
    ("theorems/numerics/convex_oracle.py", "",
     "@torch.no_grad()",
     ""):
        "no_grad only matters for inputs that require grad; no caller passes any (the solve is the same, without autograd bookkeeping)",
    ("theorems/numerics/convex_oracle.py", "_clip",
     "t = tau.unsqueeze(-1)",
     "t = tau.unsqueeze(1)"):
        "the axis -1 and the axis 1 are the same axis here: the tensor is tau, (B,)",
    ("theorems/numerics/convex_oracle.py", "_clip",
     "return (U * torch.minimum(s, t).unsqueeze(-2)) @ Vh, (s > t).sum(dim=-1)",
     "return (U * torch.minimum(s, t).unsqueeze(-2)) @ Vh, (s > t).sum(dim=1)"):
        "the axis -1 and the axis 1 are the same axis here: the tensor is s, (B, k)",
    ("theorems/numerics/convex_oracle.py", "_clip",
     "return (U * torch.minimum(s, t).unsqueeze(-2)) @ Vh, (s > t).sum(dim=-1)",
     "return (U * torch.minimum(s, t).unsqueeze(-2)) @ Vh, (s >= t).sum(dim=-1)"):
        "the axis -1 and the axis 1 are the same axis here: the tensor is s, (B, k)",
    ("theorems/numerics/convex_oracle.py", "svt",
     "return (U * (s - tau.unsqueeze(-1)).clamp_min(0).unsqueeze(-2)) @ Vh",
     "return (U * (s - tau.unsqueeze(1)).clamp_min(0).unsqueeze(-2)) @ Vh"):
        "the axis -1 and the axis 1 are the same axis here: the tensor is tau, (B,)",
    ("theorems/numerics/convex_oracle.py", "nuclear_norm",
     "return torch.linalg.svdvals(delta).sum(dim=-1)",
     "return torch.linalg.svdvals(delta).sum(dim=1)"):
        "the axis -1 and the axis 1 are the same axis here: the tensor is svdvals(delta), (B, k)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "def admm_model(loss: MatrixLoss, lam: torch.Tensor, x: torch.Tensor, iters: int = 300,",
     "def admm_model(loss: MatrixLoss, lam: torch.Tensor, x: torch.Tensor, iters: int = 299,"):
        "contract: ADMM's iteration budget (300, a default no caller changes) only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "def admm_model(loss: MatrixLoss, lam: torch.Tensor, x: torch.Tensor, iters: int = 300,",
     "def admm_model(loss: MatrixLoss, lam: torch.Tensor, x: torch.Tensor, iters: int = 301,"):
        "contract: ADMM's iteration budget (300, a default no caller changes) only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "tol: float = 1e-12) -> tuple[torch.Tensor, torch.Tensor]:",
     "tol: float = -0.999999999999) -> tuple[torch.Tensor, torch.Tensor]:"):
        "contract: ADMM's stopping tolerance only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "rho = lam.unsqueeze(-1)",
     "rho = lam.unsqueeze(1)"):
        "the axis -1 and the axis 1 are the same axis here: the tensor is lam, (B,)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "chol, info = torch.linalg.cholesky_ex(H + rho.unsqueeze(-1) * eye)",
     "chol, info = torch.linalg.cholesky_ex(H + rho.unsqueeze(- 2) * eye)"):
        "rho is (B, 1): unsqueeze(-1), unsqueeze(1) and unsqueeze(-2) all give (B, 1, 1)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "chol, info = torch.linalg.cholesky_ex(H + rho.unsqueeze(-1) * eye)",
     "chol, info = torch.linalg.cholesky_ex(H + rho.unsqueeze(1) * eye)"):
        "rho is (B, 1): unsqueeze(-1), unsqueeze(1) and unsqueeze(-2) all give (B, 1, 1)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "bad = info != 0  # H not PSD to rounding: these rows keep x",
     "bad = info > 0  # H not PSD to rounding: these rows keep x"):
        "cholesky_ex reports a failed factorisation as a positive minor (negative only for invalid arguments): info > 0 iff info != 0",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "if bool(bad.any()):",
     "if not bool(bad.any()):"):
        "as line 85: without the replacement factor the failed rows iterate on garbage that lines 101-102 discard (the good rows are solved row by row)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "chol[bad] = eye * rho[bad].sqrt().unsqueeze(-1)",
     "chol[bad] = eye * rho[bad].sqrt().unsqueeze(- 2)"):
        "as line 85: the replacement factor of a failed row only keeps its discarded iterates finite ((b, 1) tensor: unsqueeze(-1) = unsqueeze(1))",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "chol[bad] = eye * rho[bad].sqrt().unsqueeze(-1)",
     "chol[bad] = eye * rho[bad].sqrt().unsqueeze(1)"):
        "as line 85: the replacement factor of a failed row only keeps its discarded iterates finite ((b, 1) tensor: unsqueeze(-1) = unsqueeze(1))",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "chol[bad] = eye * rho[bad].sqrt().unsqueeze(-1)",
     "chol[bad] = eye + rho[bad].sqrt().unsqueeze(-1)"):
        "as line 85: the replacement factor of a failed row only keeps its discarded iterates finite ((b, 1) tensor: unsqueeze(-1) = unsqueeze(1))",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "chol[bad] = eye * rho[bad].sqrt().unsqueeze(-1)",
     "chol[bad] = eye / rho[bad].sqrt().unsqueeze(-1)"):
        "as line 85: the replacement factor of a failed row only keeps its discarded iterates finite ((b, 1) tensor: unsqueeze(-1) = unsqueeze(1))",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "Z, U = xv, -g / rho  # scaled dual: at a fixed point rho U = -(model gradient)",
     "Z, U = xv, -g * rho  # scaled dual: at a fixed point rho U = -(model gradient)"):
        "contract: ADMM's initial scaled dual (ADMM converges from any start) only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "Z, U = xv, -g / rho  # scaled dual: at a fixed point rho U = -(model gradient)",
     "Z, U = xv, -g + rho  # scaled dual: at a fixed point rho U = -(model gradient)"):
        "contract: ADMM's initial scaled dual (ADMM converges from any start) only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "Z, U = xv, -g / rho  # scaled dual: at a fixed point rho U = -(model gradient)",
     "Z, U = xv, -g - rho  # scaled dual: at a fixed point rho U = -(model gradient)"):
        "contract: ADMM's initial scaled dual (ADMM converges from any start) only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "Z, U = xv, -g / rho  # scaled dual: at a fixed point rho U = -(model gradient)",
     "Z, U = xv, g / rho  # scaled dual: at a fixed point rho U = -(model gradient)"):
        "contract: ADMM's initial scaled dual (ADMM converges from any start) only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "moved = (Zn - Z).norm(dim=1) + (d - Zn).norm(dim=1)",
     "moved = (Zn * Z).norm(dim=1) + (d - Zn).norm(dim=1)"):
        "contract: ADMM's stopping statistic only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "moved = (Zn - Z).norm(dim=1) + (d - Zn).norm(dim=1)",
     "moved = (Zn + Z).norm(dim=1) + (d - Zn).norm(dim=1)"):
        "contract: ADMM's stopping statistic only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "moved = (Zn - Z).norm(dim=1) + (d - Zn).norm(dim=1)",
     "moved = (Zn - Z).norm(dim=1) + (d * Zn).norm(dim=1)"):
        "contract: ADMM's stopping statistic only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "moved = (Zn - Z).norm(dim=1) + (d - Zn).norm(dim=1)",
     "moved = (Zn - Z).norm(dim=1) + (d + Zn).norm(dim=1)"):
        "contract: ADMM's stopping statistic only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "moved = (Zn - Z).norm(dim=1) + (d - Zn).norm(dim=1)",
     "moved = (Zn - Z).norm(dim=1) + (d / Zn).norm(dim=1)"):
        "contract: ADMM's stopping statistic only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "moved = (Zn - Z).norm(dim=1) + (d - Zn).norm(dim=1)",
     "moved = (Zn - Z).norm(dim=1) / (d - Zn).norm(dim=1)"):
        "contract: ADMM's stopping statistic only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "moved = (Zn - Z).norm(dim=1) + (d - Zn).norm(dim=1)",
     "moved = (Zn / Z).norm(dim=1) + (d - Zn).norm(dim=1)"):
        "contract: ADMM's stopping statistic only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "if bool((moved <= tol * Z.norm(dim=1).clamp_min(1.0)).all()):",
     "if bool((moved < tol * Z.norm(dim=1).clamp_min(1.0)).all()):"):
        "contract: ADMM's stopping test only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "if bool((moved <= tol * Z.norm(dim=1).clamp_min(1.0)).all()):",
     "if bool((moved <= tol * Z.norm(dim=1).clamp_min( 0.0)).all()):"):
        "contract: ADMM's stopping test only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "if bool((moved <= tol * Z.norm(dim=1).clamp_min(1.0)).all()):",
     "if bool((moved <= tol * Z.norm(dim=1).clamp_min( 2.0)).all()):"):
        "contract: ADMM's stopping test only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "if bool((moved <= tol * Z.norm(dim=1).clamp_min(1.0)).all()):",
     "if bool((moved <= tol - Z.norm(dim=1).clamp_min(1.0)).all()):"):
        "contract: ADMM's stopping test only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "if bool((moved <= tol * Z.norm(dim=1).clamp_min(1.0)).all()):",
     "if bool((moved <= tol / Z.norm(dim=1).clamp_min(1.0)).all()):"):
        "contract: ADMM's stopping test only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "if bool((moved <= tol * Z.norm(dim=1).clamp_min(1.0)).all()):",
     "if bool((moved == tol * Z.norm(dim=1).clamp_min(1.0)).all()):"):
        "contract: ADMM's stopping test only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "break",
     "continue"):
        "the same text at 3 sites of the function, each equivalent: line 130: contract: factor Newton's early stop changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum); line 146: rows already solved are no longer 'todo', so trying further shifts changes nothing for them (only work); line 152: contract: factor Newton's backtracking loop changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "break",
     "continue"):
        "contract: ADMM's early stop only changes how close its candidate gets within the iteration budget; the candidate goes on to factor Newton and is kept only if it lowers the prox-gradient residual (_polish), so the optimum and 'converged' are unchanged (speed: tests/test_convex_oracle_speed.py)",
    ("theorems/numerics/convex_oracle.py", "admm_model",
     "Z = torch.where(bad.unsqueeze(-1), xv, Z).reshape(Bsz, m, n)",
     "Z = torch.where(bad.unsqueeze(1), xv, Z).reshape(Bsz, m, n)"):
        "the axis -1 and the axis 1 are the same axis here: the tensor is bad, (B,)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "steps: int = 20) -> torch.Tensor:",
     "steps: int = 19) -> torch.Tensor:"):
        "contract: factor Newton's step budget changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "steps: int = 20) -> torch.Tensor:",
     "steps: int = 21) -> torch.Tensor:"):
        "contract: factor Newton's step budget changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "if bool((_fro(g) <= 1e-15 * (1 + _fro(Y))).all()):",
     "if bool((_fro(g) < 1e-15 * (1 + _fro(Y))).all()):"):
        "contract: factor Newton's early-stop test changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "if bool((_fro(g) <= 1e-15 * (1 + _fro(Y))).all()):",
     "if bool((_fro(g) <= -0.999999999999999 * (1 + _fro(Y))).all()):"):
        "contract: factor Newton's early-stop test changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "if bool((_fro(g) <= 1e-15 * (1 + _fro(Y))).all()):",
     "if bool((_fro(g) <= 1e-15 * ( 0 + _fro(Y))).all()):"):
        "contract: factor Newton's early-stop test changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "if bool((_fro(g) <= 1e-15 * (1 + _fro(Y))).all()):",
     "if bool((_fro(g) <= 1e-15 * ( 2 + _fro(Y))).all()):"):
        "contract: factor Newton's early-stop test changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "if bool((_fro(g) <= 1e-15 * (1 + _fro(Y))).all()):",
     "if bool((_fro(g) <= 1e-15 * (1 * _fro(Y))).all()):"):
        "contract: factor Newton's early-stop test changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "if bool((_fro(g) <= 1e-15 * (1 + _fro(Y))).all()):",
     "if bool((_fro(g) <= 1e-15 * (1 - _fro(Y))).all()):"):
        "contract: factor Newton's early-stop test changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "if bool((_fro(g) <= 1e-15 * (1 + _fro(Y))).all()):",
     "if bool((_fro(g) <= 1e-15 * (1 / _fro(Y))).all()):"):
        "contract: factor Newton's early-stop test changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "if bool((_fro(g) <= 1e-15 * (1 + _fro(Y))).all()):",
     "if bool((_fro(g) <= 1e-15 - (1 + _fro(Y))).all()):"):
        "contract: factor Newton's early-stop test changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "if bool((_fro(g) <= 1e-15 * (1 + _fro(Y))).all()):",
     "if bool((_fro(g) <= 1e-15 / (1 + _fro(Y))).all()):"):
        "contract: factor Newton's early-stop test changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "if bool((_fro(g) <= 1e-15 * (1 + _fro(Y))).all()):",
     "if bool((_fro(g) == 1e-15 * (1 + _fro(Y))).all()):"):
        "contract: factor Newton's early-stop test changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "scale = Hs.diagonal(dim1=1, dim2=2).abs().amax(dim=1).clamp_min(1e-300).view(-1, 1, 1)",
     "scale = Hs.diagonal(dim1=1, dim2=2).abs().amax(dim=1).clamp_min( -1.0).view(-1, 1, 1)"):
        "contract: factor Newton's shift scale (the largest |diagonal| of the Hessian, positive whenever lam > 0) changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "scale = Hs.diagonal(dim1=1, dim2=2).abs().amax(dim=1).clamp_min(1e-300).view(-1, 1, 1)",
     "scale = Hs.diagonal(dim1=1, dim2=2).abs().amax(dim=1).clamp_min( 1.0).view(-1, 1, 1)"):
        "contract: factor Newton's shift scale (the largest |diagonal| of the Hessian, positive whenever lam > 0) changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "for mu in (1e-11, 1e-8, 1e-5, 1e-2):  # Levenberg-Marquardt shift until positive definite",
     "for mu in ( -0.99999999999, 1e-8, 1e-5, 1e-2):  # Levenberg-Marquardt shift until positive definite"):
        "contract: factor Newton's Levenberg-Marquardt shift ladder changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "for mu in (1e-11, 1e-8, 1e-5, 1e-2):  # Levenberg-Marquardt shift until positive definite",
     "for mu in (1e-11, -0.99999999, 1e-5, 1e-2):  # Levenberg-Marquardt shift until positive definite"):
        "contract: factor Newton's Levenberg-Marquardt shift ladder changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "for mu in (1e-11, 1e-8, 1e-5, 1e-2):  # Levenberg-Marquardt shift until positive definite",
     "for mu in (1e-11, 1e-8, -0.99999, 1e-2):  # Levenberg-Marquardt shift until positive definite"):
        "contract: factor Newton's Levenberg-Marquardt shift ladder changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "ok = todo & (info == 0)",
     "ok = todo & (info <= 0)"):
        "info <= 0 iff info == 0 (cholesky_ex reports failures as positive minors); info >= 0 (every row 'ok') differs only for a row whose factorisation failed, which near a minimiser the first shift prevents, and whose non-finite step would make its candidate's residual non-finite and the candidate rejected",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "step = torch.where(ok.view(-1, 1, 1), sol.nan_to_num(0.0), step)",
     "step = torch.where(ok.view(-1, 1, 1), sol.nan_to_num( -1.0), step)"):
        "sol is finite wherever the Cholesky factor exists and g is finite: nan_to_num's replacement never applies",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "step = torch.where(ok.view(-1, 1, 1), sol.nan_to_num(0.0), step)",
     "step = torch.where(ok.view(-1, 1, 1), sol.nan_to_num( 1.0), step)"):
        "sol is finite wherever the Cholesky factor exists and g is finite: nan_to_num's replacement never applies",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "slack = 1e-13 * (1 + f0.abs())  # F's rounding level: let the last quadratic steps through",
     "slack = 1.0000000000001 * (1 + f0.abs())  # F's rounding level: let the last quadratic steps through"):
        "contract: factor Newton's line-search slack changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "slack = 1e-13 * (1 + f0.abs())  # F's rounding level: let the last quadratic steps through",
     "slack = 1e-13 * ( 0 + f0.abs())  # F's rounding level: let the last quadratic steps through"):
        "contract: factor Newton's line-search slack changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "slack = 1e-13 * (1 + f0.abs())  # F's rounding level: let the last quadratic steps through",
     "slack = 1e-13 * ( 2 + f0.abs())  # F's rounding level: let the last quadratic steps through"):
        "contract: factor Newton's line-search slack changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "slack = 1e-13 * (1 + f0.abs())  # F's rounding level: let the last quadratic steps through",
     "slack = 1e-13 * (1 * f0.abs())  # F's rounding level: let the last quadratic steps through"):
        "contract: factor Newton's line-search slack changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "slack = 1e-13 * (1 + f0.abs())  # F's rounding level: let the last quadratic steps through",
     "slack = 1e-13 * (1 / f0.abs())  # F's rounding level: let the last quadratic steps through"):
        "contract: factor Newton's line-search slack changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "slack = 1e-13 * (1 + f0.abs())  # F's rounding level: let the last quadratic steps through",
     "slack = 1e-13 + (1 + f0.abs())  # F's rounding level: let the last quadratic steps through"):
        "contract: factor Newton's line-search slack changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "slack = 1e-13 * (1 + f0.abs())  # F's rounding level: let the last quadratic steps through",
     "slack = 1e-13 / (1 + f0.abs())  # F's rounding level: let the last quadratic steps through"):
        "contract: factor Newton's line-search slack changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "for _ in range(30):  # backtracking on F, per row",
     "for _ in range( 29):  # backtracking on F, per row"):
        "contract: factor Newton's backtracking budget changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "for _ in range(30):  # backtracking on F, per row",
     "for _ in range( 31):  # backtracking on F, per row"):
        "contract: factor Newton's backtracking budget changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "bad = obj.value(Y + a.view(-1, 1, 1) * step) > f0 + slack",
     "bad = obj.value(Y + a.view(-1, 1, 1) * step) >= f0 + slack"):
        "contract: factor Newton's line-search acceptance changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "a = torch.where(bad, 0.5 * a, a)",
     "a = torch.where(bad, -0.5 * a, a)"):
        "contract: factor Newton's backtracking factor changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "a = torch.where(obj.value(Y + a.view(-1, 1, 1) * step) > f0 + slack, torch.zeros_like(a), a)",
     "a = torch.where(obj.value(Y + a.view(-1, 1, 1) * step) == f0 + slack, torch.zeros_like(a), a)"):
        "contract: factor Newton's last line-search guard changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "a = torch.where(obj.value(Y + a.view(-1, 1, 1) * step) > f0 + slack, torch.zeros_like(a), a)",
     "a = torch.where(obj.value(Y + a.view(-1, 1, 1) * step) > f0 / slack, torch.zeros_like(a), a)"):
        "contract: factor Newton's last line-search guard changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "factor_newton",
     "a = torch.where(obj.value(Y + a.view(-1, 1, 1) * step) > f0 + slack, torch.zeros_like(a), a)",
     "a = torch.where(obj.value(Y + a.view(-1, 1, 1) * step) >= f0 + slack, torch.zeros_like(a), a)"):
        "contract: factor Newton's last line-search guard changes how fast it converges, not where: its output is kept only if it lowers the prox-gradient residual, and from near the optimum it still converges (test_factor_newton_converges_from_near_the_optimum)",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "best, best_res = x, _residual(loss, x, L, lam / L)",
     "best, best_res = x, _residual(loss, x, L, lam * L)"):
        "contract: the baseline a candidate is compared with inside _polish; _polish returns a candidate only where its true prox-gradient residual is below the iterate's (line 172), so a different choice changes speed, not the optimum",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "best, best_res = x, _residual(loss, x, L, lam / L)",
     "best, best_res = x, _residual(loss, x, L, lam + L)"):
        "contract: the baseline a candidate is compared with inside _polish; _polish returns a candidate only where its true prox-gradient residual is below the iterate's (line 172), so a different choice changes speed, not the optimum",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "best, best_res = x, _residual(loss, x, L, lam / L)",
     "best, best_res = x, _residual(loss, x, L, lam - L)"):
        "contract: the baseline a candidate is compared with inside _polish; _polish returns a candidate only where its true prox-gradient residual is below the iterate's (line 172), so a different choice changes speed, not the optimum",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "for drop in (0, 1):  # ADMM may overshoot the rank by one when stopped early",
     "for drop in (0, 0):  # ADMM may overshoot the rank by one when stopped early"):
        "contract: which ranks (ADMM's, one less) factor Newton tries; _polish returns a candidate only where its true prox-gradient residual is below the iterate's (line 172), so a different choice changes speed, not the optimum",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "for drop in (0, 1):  # ADMM may overshoot the rank by one when stopped early",
     "for drop in (0, 2):  # ADMM may overshoot the rank by one when stopped early"):
        "contract: which ranks (ADMM's, one less) factor Newton tries; _polish returns a candidate only where its true prox-gradient residual is below the iterate's (line 172), so a different choice changes speed, not the optimum",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "if r > 0:",
     "if r > -1:"):
        "contract: whether a rank-0 candidate gets a factor step (at rank 0 it is the zero matrix either way); _polish returns a candidate only where its true prox-gradient residual is below the iterate's (line 172), so a different choice changes speed, not the optimum",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "if r > 0:",
     "if r >= 0:"):
        "contract: whether a rank-0 candidate gets a factor step (at rank 0 it is the zero matrix either way); _polish returns a candidate only where its true prox-gradient residual is below the iterate's (line 172), so a different choice changes speed, not the optimum",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "sel = (ranks - drop == r).nonzero().squeeze(-1)",
     "sel = (ranks - drop <= r).nonzero().squeeze(-1)"):
        "contract: which rows a rank's factor step is applied to (the last rank applied wins); _polish returns a candidate only where its true prox-gradient residual is below the iterate's (line 172), so a different choice changes speed, not the optimum",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "sel = (ranks - drop == r).nonzero().squeeze(-1)",
     "sel = (ranks - drop == r).nonzero().squeeze(1)"):
        "contract: which rows a rank's factor step is applied to (the last rank applied wins); _polish returns a candidate only where its true prox-gradient residual is below the iterate's (line 172), so a different choice changes speed, not the optimum",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "sel = (ranks - drop == r).nonzero().squeeze(-1)",
     "sel = (ranks - drop >= r).nonzero().squeeze(-1)"):
        "contract: which rows a rank's factor step is applied to (the last rank applied wins); _polish returns a candidate only where its true prox-gradient residual is below the iterate's (line 172), so a different choice changes speed, not the optimum",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "better = res < best_res",
     "better = res <= best_res"):
        "contract: a tie between candidates; _polish returns a candidate only where its true prox-gradient residual is below the iterate's (line 172), so a different choice changes speed, not the optimum",
    ("theorems/numerics/convex_oracle.py", "_polish",
     "return best, best_res < _residual(loss, x, L, lam / L)",
     "return best, best_res != _residual(loss, x, L, lam / L)"):
        "best_res starts at the iterate's residual and only decreases, so best_res != residual(x) iff best_res < residual(x)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "def convex_optimum(loss: MatrixLoss, lam, *, tol: float = 1e-14, max_iter: int = 20000,",
     "def convex_optimum(loss: MatrixLoss, lam, *, tol: float = -0.99999999999999, max_iter: int = 20000,"):
        "contract: a keyword-only marker turned positional-only (no caller passes loss or lam by name), or the defaults tol (raised to 16 eps) and max_iter (a budget)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "def convex_optimum(loss: MatrixLoss, lam, *, tol: float = 1e-14, max_iter: int = 20000,",
     "def convex_optimum(loss: MatrixLoss, lam, *, tol: float = 1e-14, max_iter: int = 19999,"):
        "contract: a keyword-only marker turned positional-only (no caller passes loss or lam by name), or the defaults tol (raised to 16 eps) and max_iter (a budget)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "def convex_optimum(loss: MatrixLoss, lam, *, tol: float = 1e-14, max_iter: int = 20000,",
     "def convex_optimum(loss: MatrixLoss, lam, *, tol: float = 1e-14, max_iter: int = 20001,"):
        "contract: a keyword-only marker turned positional-only (no caller passes loss or lam by name), or the defaults tol (raised to 16 eps) and max_iter (a budget)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "def convex_optimum(loss: MatrixLoss, lam, *, tol: float = 1e-14, max_iter: int = 20000,",
     "def convex_optimum(loss: MatrixLoss, lam, /, tol: float = 1e-14, max_iter: int = 20000,"):
        "contract: a keyword-only marker turned positional-only (no caller passes loss or lam by name), or the defaults tol (raised to 16 eps) and max_iter (a budget)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "tol = max(tol, 16 * torch.finfo(dtype).eps)  # no-op in float64; reachable in float32",
     "tol = max(tol, 15 * torch.finfo(dtype).eps)  # no-op in float64; reachable in float32"):
        "contract: the float32 floor of the stopping tolerance, 15-17 eps: the float32 test converges with any of them",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "tol = max(tol, 16 * torch.finfo(dtype).eps)  # no-op in float64; reachable in float32",
     "tol = max(tol, 17 * torch.finfo(dtype).eps)  # no-op in float64; reachable in float32"):
        "contract: the float32 floor of the stopping tolerance, 15-17 eps: the float32 test converges with any of them",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "for k in range(1, max_iter + 1):",
     "for k in range(1, max_iter + 2):"):
        "the loop breaks at k == max_iter, so range(1, max_iter + 2) never reaches its last value",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "x_new = torch.where((kept > 0).view(-1, 1, 1), Yg - clip, torch.zeros_like(Yg))",
     "x_new = torch.where((kept != 0).view(-1, 1, 1), Yg - clip, torch.zeros_like(Yg))"):
        "kept counts singular values, >= 0: != 0 iff > 0",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "done = _fro(step) <= tol * _fro(x).clamp_min(1.0)",
     "done = _fro(step) < tol * _fro(x).clamp_min(1.0)"):
        "contract: the relative-change stopping test at an exact tie, or with the floor of ||x|| at 0 or 2 instead of 1: the accepted iterates differ by rounding (the KKT residual and the conic cross-check decide correctness)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "done = _fro(step) <= tol * _fro(x).clamp_min(1.0)",
     "done = _fro(step) <= tol * _fro(x).clamp_min( 0.0)"):
        "contract: the relative-change stopping test at an exact tie, or with the floor of ||x|| at 0 or 2 instead of 1: the accepted iterates differ by rounding (the KKT residual and the conic cross-check decide correctness)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "done = _fro(step) <= tol * _fro(x).clamp_min(1.0)",
     "done = _fro(step) <= tol * _fro(x).clamp_min( 2.0)"):
        "contract: the relative-change stopping test at an exact tie, or with the floor of ||x|| at 0 or 2 instead of 1: the accepted iterates differ by rounding (the KKT residual and the conic cross-check decide correctness)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "restart = ((y - x_new) * step).sum(dim=(1, 2)) > 0  # prox-gradient step opposes momentum",
     "restart = ((y - x_new) * step).sum(dim=(1, 2)) >= 0  # prox-gradient step opposes momentum"):
        "restart differs only where (y - x_new) . step = 0 exactly, i.e. step = 0: a converged row",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "if polish_every and k == next_polish and bool(((tau > 0) & ~done).any()):",
     "if polish_every and k == next_polish and bool(((tau != 0) & ~done).any()):"):
        "k reaches next_polish exactly (it counts up by one); tau >= 0, so != 0 iff > 0",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "if polish_every and k == next_polish and bool(((tau > 0) & ~done).any()):",
     "if polish_every and k >= next_polish and bool(((tau > 0) & ~done).any()):"):
        "k reaches next_polish exactly (it counts up by one); tau >= 0, so != 0 iff > 0",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "rows = ((tau > 0) & ~done).nonzero().squeeze(-1)",
     "rows = ((tau != 0) & ~done).nonzero().squeeze(-1)"):
        "tau >= 0, so != 0 iff > 0 ((k, 1) from nonzero: squeeze(-1) = squeeze(1)); tau > -1 includes lam = 0 rows only when they are undone at a polish, and their ADMM at rho = 0 is rejected (non-finite residual)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "rows = ((tau > 0) & ~done).nonzero().squeeze(-1)",
     "rows = ((tau > 0) & ~done).nonzero().squeeze(1)"):
        "tau >= 0, so != 0 iff > 0 ((k, 1) from nonzero: squeeze(-1) = squeeze(1)); tau > -1 includes lam = 0 rows only when they are undone at a polish, and their ADMM at rho = 0 is rejected (non-finite residual)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "x[rows], y[rows], t[rows] = z, z, 1.0",
     "x[rows], y[rows], t[rows] = z, z, 2.0"):
        "contract: the momentum counter after an accepted polish (t = 1 restarts, t = 2 keeps a little momentum): FISTA's next step from the polished point decides convergence either way",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "if bool(done.any()) or k == max_iter:",
     "if bool(done.any()) or k <= max_iter:"):
        "k <= max_iter always holds: the bookkeeping then runs every iteration with an unchanged keep mask until a row converges (work only); k >= max_iter iff k == max_iter",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "if bool(done.any()) or k == max_iter:",
     "if bool(done.any()) or k >= max_iter:"):
        "k <= max_iter always holds: the bookkeeping then runs every iteration with an unchanged keep mask until a row converges (work only); k >= max_iter iff k == max_iter",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "if not bool(keep.any()) or k == max_iter:",
     "if not bool(keep.any()) or k > max_iter:"):
        "k never exceeds max_iter inside the loop: > max_iter never holds and the range ends there anyway; >= iff ==",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "if not bool(keep.any()) or k == max_iter:",
     "if not bool(keep.any()) or k >= max_iter:"):
        "k never exceeds max_iter inside the loop: > max_iter never holds and the range ends there anyway; >= iff ==",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "sub, L, tau = sub.take(keep.nonzero().squeeze(-1)), L[keep], tau[keep]",
     "sub, L, tau = sub.take(keep.nonzero().squeeze(1)), L[keep], tau[keep]"):
        "the axis -1 and the axis 1 are the same axis here: the tensor is keep.nonzero(), (k, 1)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "value=loss.value(delta) + lam * s.sum(dim=-1),",
     "value=loss.value(delta) + lam * s.sum(dim=1),"):
        "the axis -1 and the axis 1 are the same axis here: the tensor is s, (B, k)",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "rank=(s > 1e-9 * s[:, :1].clamp_min(1.0)).sum(dim=-1),",
     "rank=(s > 1e-9 * s[:, :1].clamp_min( 0.0)).sum(dim=-1),"):
        "contract: the numerical rank's threshold 1e-9 max(1, s_1) vs 1e-9 max(2, s_1), 1e-9 s_1 or a tie: thresholded singular values are at rounding level (~eps ||delta||), far below every variant, so the count is the same",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "rank=(s > 1e-9 * s[:, :1].clamp_min(1.0)).sum(dim=-1),",
     "rank=(s > 1e-9 * s[:, :1].clamp_min( 2.0)).sum(dim=-1),"):
        "contract: the numerical rank's threshold 1e-9 max(1, s_1) vs 1e-9 max(2, s_1), 1e-9 s_1 or a tie: thresholded singular values are at rounding level (~eps ||delta||), far below every variant, so the count is the same",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "rank=(s > 1e-9 * s[:, :1].clamp_min(1.0)).sum(dim=-1),",
     "rank=(s > 1e-9 * s[:, :1].clamp_min(1.0)).sum(dim=1),"):
        "contract: the numerical rank's threshold 1e-9 max(1, s_1) vs 1e-9 max(2, s_1), 1e-9 s_1 or a tie: thresholded singular values are at rounding level (~eps ||delta||), far below every variant, so the count is the same",
    ("theorems/numerics/convex_oracle.py", "convex_optimum",
     "rank=(s > 1e-9 * s[:, :1].clamp_min(1.0)).sum(dim=-1),",
     "rank=(s >= 1e-9 * s[:, :1].clamp_min(1.0)).sum(dim=-1),"):
        "contract: the numerical rank's threshold 1e-9 max(1, s_1) vs 1e-9 max(2, s_1), 1e-9 s_1 or a tie: thresholded singular values are at rounding level (~eps ||delta||), far below every variant, so the count is the same",
}


def enclosing_names(source: str) -> list[str]:
    """For every line of ``source``, the qualified name of the innermost function or class around it
    ('' at module level)."""
    import ast
    names = [""] * len(source.splitlines())

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                names[child.lineno - 1:child.end_lineno] = [name] * (child.end_lineno - child.lineno + 1)
                walk(child, name + ".")
            else:
                walk(child, prefix)
    walk(ast.parse(source), "")
    return names


def changed_lines(diff: str) -> tuple[str, str]:
    """(removed, added) source of a unified diff, each stripped non-blank line joined by ' / '."""
    rows = [l for l in diff.splitlines() if l[:1] in "+-" and not l.startswith(("+++", "---"))]
    return (" / ".join(l[1:].strip() for l in rows if l[0] == "-" and l[1:].strip()),
            " / ".join(l[1:].strip() for l in rows if l[0] == "+" and l[1:].strip()))


PRELOAD = ("torch", "numpy", "scipy", "scipy.linalg", "scipy.optimize", "scipy.stats", "hypothesis", "pytest",
           "cma", "cvxpy")


def serve(sock_path: str, timeout: float) -> None:
    """Fork server: preload third-party libraries, then run one pytest child per request (sequentially)."""
    import importlib
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import pytest
    Path(sock_path).unlink(missing_ok=True)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    while True:
        conn, _ = srv.accept()
        with conn:
            req = json.loads(conn.makefile().readline())
            pid = os.fork()
            if pid == 0:
                os.chdir(req["cwd"])
                sys.dont_write_bytecode = True       # a stale .pyc of an earlier mutant can never be read
                sys.path.insert(0, req["cwd"])
                fd = os.open(os.devnull, os.O_WRONLY)
                os.dup2(fd, 1), os.dup2(fd, 2)
                os._exit(int(pytest.main(req["args"])))
            deadline = time.monotonic() + timeout
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    rc = os.waitstatus_to_exitcode(status)
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    rc = 124
                    break
                time.sleep(0.02)
            try:
                conn.sendall(f"{rc}\n".encode())
            except OSError:                          # the client was killed (cosmic-ray's timeout): carry on
                pass


def client(sock_path: str, args: list[str]) -> int:
    """Run pytest ``args`` in the fork server's child; exit with its exit code.  Without a server (it
    died, or never started) pytest runs here instead: slower, never a false kill."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.connect(sock_path)
            c.sendall((json.dumps({"cwd": os.getcwd(), "args": args}) + "\n").encode())
            reply = c.makefile().readline().strip()
        if reply:
            return int(reply)
    except OSError:
        pass
    print("mutation.py: no fork server answered; running pytest in this process", file=sys.stderr)
    return subprocess.call([sys.executable, "-m", "pytest", *args])


def config(module: str, tests: str, timeout: float, sock: str | None = None) -> str:
    excl = ", ".join(json.dumps(e) for e in EXCLUDE)
    cmd = (f"{sys.executable} {ROOT / 'benchmarks' / 'mutation.py'} --client {sock} -x -q -p no:cacheprovider {tests}"
           if sock else f"{PYTEST} {tests}")
    return (f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = {timeout}\nexcluded-modules = []\n'
            f'test-command = {json.dumps(cmd)}\n\n[cosmic-ray.distributor]\nname = "local"\n\n'
            f'[cosmic-ray.filters.operators-filter]\nexclude-operators = [{excl}]\n')


def survivors(session: Path, source: str) -> tuple[dict, list[dict]]:
    """Outcome counts of a finished session, and its survivors (line, operator, occurrence and the key of
    SURVIVORS_EQUIVALENT: enclosing function, source line, mutated line) for the module's ``source``."""
    con = sqlite3.connect(session)
    rows = con.execute("SELECT s.operator_name, s.start_pos_row, s.occurrence, r.test_outcome, r.worker_outcome, "
                       "r.diff FROM mutation_specs s JOIN work_results r ON s.job_id = r.job_id").fetchall()
    counts = {"killed": 0, "survived": 0, "incompetent": 0, "abnormal": 0, "filtered": 0}
    names = enclosing_names(source)
    left = []
    for op, line, occurrence, test_outcome, worker, diff in rows:
        worker, test_outcome = str(worker).lower(), str(test_outcome).lower()
        if worker == "skipped":
            counts["filtered"] += 1                  # excluded operator (EXCLUDE)
        elif worker != "normal":
            counts["abnormal"] += 1
        elif test_outcome == "survived":
            counts["survived"] += 1
            before, after = changed_lines(diff or "")
            left.append({"operator": op, "line": line, "occurrence": occurrence,
                         "function": names[line - 1], "source": before, "mutant": after})
        else:
            counts[test_outcome if test_outcome in counts else "incompetent"] += 1
    skipped = con.execute("SELECT COUNT(*) FROM work_items WHERE job_id NOT IN (SELECT job_id FROM work_results)").fetchone()[0]
    counts["not run"] = skipped
    return counts, left


def skip(con: sqlite3.Connection, jobs: list[str], why: str) -> int:
    """Mark ``jobs`` of a cosmic-ray session skipped with the output ``why``; returns how many."""
    con.executemany("INSERT INTO work_results (job_id, worker_outcome, output, test_outcome, diff) "
                    "VALUES (?, 'SKIPPED', ?, NULL, NULL)", [(j, why) for j in jobs])
    con.commit()
    return len(jobs)


def sample(session: Path, every: int, offset: int = 0) -> int:
    """Keep every ``every``-th mutant still to run, from the ``offset``-th on (by job order, deterministic;
    offsets 0 .. every-1 split a module into disjoint shards); the others are marked skipped with the
    output 'not sampled'.  Returns how many were left out."""
    con = sqlite3.connect(session)
    todo = [j for (j,) in con.execute("SELECT job_id FROM work_items WHERE job_id NOT IN "
                                     "(SELECT job_id FROM work_results) ORDER BY rowid")]
    out = [j for i, j in enumerate(todo) if i % every != offset]
    return skip(con, out, "not sampled")


def select_lines(session: Path, lines: set[int]) -> int:
    """Keep only the mutants on ``lines`` (re-checking survivors after a test change); the others are
    marked skipped with the output 'not selected'.  Returns how many were left out."""
    con = sqlite3.connect(session)
    out = [j for (j, line) in con.execute("SELECT job_id, start_pos_row FROM mutation_specs WHERE job_id NOT IN "
                                          "(SELECT job_id FROM work_results)") if line not in lines]
    return skip(con, out, "not selected")


def select_survivors(session: Path, previous: list[Path]) -> int:
    """Keep only the mutants (operator, occurrence) that survived in the ``previous`` sessions of the same,
    unchanged-in-structure module (re-checking survivors after tests were added: the added tests can only
    kill more, so the killed need no re-run); the others are marked skipped 'not selected'."""
    keep = set()
    for p in previous:
        old = sqlite3.connect(p)
        keep |= set(old.execute("SELECT s.operator_name, s.occurrence FROM mutation_specs s JOIN work_results r "
                                "ON s.job_id = r.job_id WHERE r.test_outcome = 'SURVIVED'").fetchall())
    con = sqlite3.connect(session)
    out = [j for (j, op, occ) in con.execute("SELECT job_id, operator_name, occurrence FROM mutation_specs WHERE "
                                             "job_id NOT IN (SELECT job_id FROM work_results)") if (op, occ) not in keep]
    return skip(con, out, "not selected")


def run(module: str, tests: str, workdir: Path, timeout: float, sock: str | None = None, every: int = 1,
        lines: set[int] | None = None, offset: int = 0, survivors_of: list[Path] | None = None) -> dict:
    stem = Path(module).stem
    cfg, session = workdir / f"{stem}.toml", workdir / f"{stem}.sqlite"
    cfg.write_text(config(module, tests, timeout, sock))
    session.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "cosmic-ray"), "init", str(cfg), str(session)], cwd=ROOT, check=True)
    subprocess.run([str(BIN / "cr-filter-operators"), str(session), str(cfg)], cwd=ROOT, check=True)
    unsampled = ((select_lines(session, lines) if lines else 0)
                 + (select_survivors(session, survivors_of) if survivors_of else 0)
                 + (sample(session, every, offset) if every > 1 else 0))
    subprocess.run([str(BIN / "cosmic-ray"), "exec", str(cfg), str(session)], cwd=ROOT, check=True)
    counts, left = survivors(session, (ROOT / module).read_text())
    equivalent = [s for s in left if (module, s["function"], s["source"], s["mutant"]) in SURVIVORS_EQUIVALENT]
    live = [s for s in left if s not in equivalent]
    scored = counts["killed"] + counts["survived"] - len(equivalent)
    counts["filtered"] -= unsampled
    return {"module": module, "tests": tests, **counts, "unsampled": unsampled, "equivalent": len(equivalent),
            "score": counts["killed"] / scored if scored else None, "survivors": live,
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", default=",".join(Path(m).stem for m in MODULES),
                    help="comma-separated module stems (default: all)")
    ap.add_argument("--workdir", default="results/mutation")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant's test run")
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-fork-server", action="store_true", help="start a fresh interpreter per mutant")
    ap.add_argument("--sample", type=int, default=1, metavar="K",
                    help="run every K-th mutant only (deterministic); the score is then an estimate")
    ap.add_argument("--shard", default=None, metavar="I/N",
                    help="run the I-th of N disjoint shards (0 <= I < N; the union of all N is the full run)")
    ap.add_argument("--lines", default=None, metavar="L1,L2,...",
                    help="run only the mutants on these source lines (with one module: re-check its survivors)")
    ap.add_argument("--survivors-of", action="append", default=[], metavar="SESSION",
                    help="run only the mutants that survived in this earlier session file (repeatable; one module)")
    ap.add_argument("--serve", metavar="SOCKET", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.timeout)
        return 0
    want = set(args.modules.split(","))
    if args.shard:
        i, n = (int(x) for x in args.shard.split("/"))
        if not 0 <= i < n or args.sample > 1:
            raise SystemExit("--shard I/N needs 0 <= I < N and no --sample")
        args.sample, args.offset = n, i
    else:
        args.offset = 0
    workdir = (ROOT / args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    sock, server = None, None
    if not args.no_fork_server:
        sock = str(workdir / "fork-server.sock")
        Path(sock).unlink(missing_ok=True)
        server = subprocess.Popen([sys.executable, __file__, "--serve", sock, "--timeout", str(args.timeout)], cwd=ROOT)
        while not Path(sock).exists():
            if server.poll() is not None:
                raise SystemExit(f"the fork server exited ({server.returncode}); --no-fork-server runs without it")
            time.sleep(0.1)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))      # so the finally below stops the server
    try:
        results = run_all(args, want, workdir, sock)
    finally:
        if server is not None:
            server.kill()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


def run_all(args, want: set, workdir: Path, sock: str | None) -> list[dict]:
    results = []
    for module, tests in MODULES.items():
        if Path(module).stem in want:
            lines = {int(x) for x in args.lines.split(",")} if args.lines else None
            res = run(module, tests, workdir, args.timeout, sock, args.sample, lines, args.offset,
                      [Path(p).resolve() for p in args.survivors_of])
            results.append(res)
            score = "-" if res["score"] is None else f"{res['score']:.1%}"
            why = ([f"--shard {args.offset}/{args.sample}" if args.shard else f"--sample {args.sample}"]
                   if args.sample > 1 else []) + ([f"--lines {args.lines}"] if args.lines else []) + \
                  ([f"--survivors-of {len(args.survivors_of)} session(s)"] if args.survivors_of else [])
            sampled = f", {res['unsampled']} left out ({', '.join(why)})" if res["unsampled"] else ""
            print(f"{module}: killed {res['killed']}, survived {res['survived']} (equivalent "
                  f"{res['equivalent']}), incompetent {res['incompetent']}, abnormal {res['abnormal']}, score {score}"
                  f"{sampled} [{res['seconds']} s]", flush=True)
            for s in res["survivors"]:
                print(f"  survived: line {s['line']} ({s['function'] or 'module level'}): {s['operator']} "
                      f"(occurrence {s['occurrence']}): {s['source']!r} -> {s['mutant']!r}")
    return results


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--client":
        raise SystemExit(client(sys.argv[2], sys.argv[3:]))
    raise SystemExit(main())
