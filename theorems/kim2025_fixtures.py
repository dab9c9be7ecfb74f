"""Fixture finder for Kim, Kim, Ryu (2025): generic-regime instances with certified spurious SOSPs.

Spurious SOSPs are rare under random search (spec: ~2,000 converged runs per hit at kappa = 5), so
this script searches many G-quad instances x the paper's inits in batched tensor programs, keeps end
points that are certified (||grad|| <= 1e-9, lambda_min(H) >= -1e-7 ||H||, ||grad L||_2 >= lam (1 + 1e-3))
and writes them as drawn dicts (instance parameters + the end point as 'start') to
strategies/fixtures/kim2025_spurious.json, which the claims replay as explicit examples every run.

    python -m lora_claims.theorems.kim2025_fixtures --kappa 5 100 --seeds 40 \
        --out strategies/fixtures/kim2025_spurious.json
    python -m lora_claims.theorems.kim2025_fixtures select OUT.json IN.json [IN.json ...]

It lives with the claims (it runs kim2025's landscape probe), not with the strategies, which depend on
the numerics only.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import torch

from .context import EvalContext
from .kim2025 import build_loss, landscape, valid_instances
from .numerics.convex_oracle import convex_optimum
from .numerics.minimise import newton_polish
from .numerics.sosp import sosp_report

GRID = {"target_rank": (1, 2), "target_scale": (2.0, 3.0, 4.0), "lam": (0.3, 0.5, 1.0),
        "weights": ("two-level", "log-uniform")}


def certified_spurious(drawn: dict, grad_tol=1e-9, curv_tol=1e-7):
    """Candidate fixtures in one batched drawn family: each is a single-instance drawn dict."""
    land = landscape(drawn, EvalContext(), "generic")       # float64 on the CPU
    if land is None:
        return []
    geo, ends = land.geo, land.ends
    cand = torch.nonzero(ends.certified & geo.is_spurious).squeeze(1)
    out, seen = [], set()
    kept = _kept_indices(drawn)
    for j in cand.tolist():
        i = int(kept[int(ends.instance[j])])
        key = (i, round(float(ends.value[j]), 8))
        if key in seen:
            continue
        seen.add(key)
        sub = ends.obj.take(torch.tensor([j]))
        Y, _, _, _ = newton_polish(sub, ends.Y[j:j + 1], 50, tol=1e-12, curv_tol=curv_tol)
        rep = sosp_report(sub, Y, grad_tol=grad_tol, curv_tol=curv_tol)
        if not bool(rep.is_sosp[0]):
            continue
        d = {k: v for k, v in drawn.items() if k != "inits"}
        d.update(index=i, inits=1, start=Y[0].tolist())
        out.append({"regime": "generic", "drawn": d,
                    "found": {"grad_norm": float(rep.grad_norm[0]), "lam_min": float(rep.lam_min[0]),
                              "ratio": float(geo.ratio[j]), "sigma_ratio": float(geo.sig_r[j] / geo.sig_rstar[j]),
                              "two_alpha_over_beta": float(2 * land.alpha[j] / land.beta[j]),
                              "norm_X": float(geo.norm_X[j]), "norm_Xstar": float(geo.norm_Xstar[j]),
                              "distance": float(geo.dist2[j].sqrt()), "rstar": int(land.rstar[j]),
                              "rank": int(geo.rank[j])}})
    return out


def _kept_indices(drawn):
    """Batch indices of the instances the landscape kept (A1, complementarity, regime)."""
    loss = build_loss(drawn, EvalContext())
    lam = torch.full((loss.batch,), float(drawn["lam"]), dtype=torch.float64)
    ok, _ = valid_instances(loss, lam, convex_optimum(loss, lam), drawn["r"], "generic")
    return torch.nonzero(ok).squeeze(1)


CRITERIA = {
    "kappa <= 5 (refutes M2: special threshold loosened to 6)": lambda f: f["drawn"]["kappa"] <= 5,
    "kappa = 100": lambda f: f["drawn"]["kappa"] >= 100,
    "r* < r (Corollary 1 non-trivial)": lambda f: f["found"]["rstar"] < f["drawn"]["r"],
    "||X|| < ||X*|| (refutes M3)": lambda f: f["found"]["norm_X"] < f["found"]["norm_Xstar"],
    "sigma_r/sigma_r* < 0.5 (refutes M4)": lambda f: f["found"]["sigma_ratio"] < 0.5,
}


def select(candidates: list[dict]) -> list[dict]:
    """A small covering set: for every criterion the first candidate meeting it (deduplicated)."""
    chosen: list[dict] = []
    for why, pred in CRITERIA.items():
        for f in candidates:
            if pred(f):
                if f not in chosen:
                    chosen.append(f)
                f.setdefault("why", []).append(why)
                break
    return chosen


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "select":
        return _select_main(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kappa", type=float, nargs="+", default=[5.0, 100.0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--r", type=int, nargs="+", default=[2])
    ap.add_argument("--m", type=int, default=4)
    ap.add_argument("--target-rank", type=int, nargs="+", default=list(GRID["target_rank"]))
    ap.add_argument("--target-scale", type=float, nargs="+", default=list(GRID["target_scale"]))
    ap.add_argument("--lam", type=float, nargs="+", default=list(GRID["lam"]))
    ap.add_argument("--max-rstar", type=int, default=None, help="keep only fixtures with r* <= this")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--inits", type=int, default=4)
    ap.add_argument("--time", type=float, default=600, help="stop after this many seconds")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.time()
    found = []
    for kappa, seed, r, (tr, sc, lam, w) in itertools.product(a.kappa, range(a.seeds), a.r,
                                                             itertools.product(a.target_rank, a.target_scale,
                                                                               a.lam, GRID["weights"])):
        if time.time() - t0 > a.time:
            break
        if tr > r:
            continue
        drawn = {"family": "gquad", "m": a.m, "n": a.m, "r": r, "kappa": kappa, "target_rank": tr,
                 "target_scale": sc, "lam": lam, "weights": w, "seed": seed, "batch": a.batch, "inits": a.inits}
        new = certified_spurious(drawn)
        if a.max_rstar is not None:
            new = [f for f in new if f["found"]["rstar"] <= a.max_rstar]
        found += new
        print(f"[{time.time() - t0:6.0f}s] kappa={kappa} seed={seed} r={r} tr={tr} scale={sc} lam={lam} {w}: "
              f"{len(new)} spurious (total {len(found)})", file=sys.stderr, flush=True)
    doc = {"about": __doc__.splitlines()[0], "fixtures": found}
    if a.out:
        Path(a.out).write_text(json.dumps(doc, indent=1))
    else:
        print(json.dumps(doc, indent=1))


def _select_main(argv):
    """python -m lora_claims.theorems.kim2025_fixtures select OUT IN.json [IN.json ...]"""
    out, *inputs = argv
    cands = [f for p in inputs for f in json.loads(Path(p).read_text())["fixtures"]]
    chosen = select(cands)
    Path(out).write_text(json.dumps({"about": __doc__.splitlines()[0], "fixtures": chosen}, indent=1))
    print(f"{len(chosen)} fixtures from {len(cands)} candidates -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
