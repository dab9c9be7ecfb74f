"""Seconds per landscape evaluation against the layer size m = n: the dense path and the matrix-free one.

    python benchmarks/scaling.py [--sizes 8 16 32 64] [--dense-max 16] [--batch 4 --inits 6] [--quick]

One evaluation is Section 4's probe (jang2024.sec4_no_spurious, c4 and realnet.sec4 share it; Kim's k1/k2
run the same minimiser on G-quad): an NTK squared-loss instance batch with N = 3, K = 2, r = 4 (the smallest
rank with r(r+1)/2 > KN), lam = 0.05, starts at scales 0.01, 1, 3, then GD, the Newton polish and the
certification (SOSP test + global certificate) of every end point, float64 on the CPU, one thread.
"dense" is saddle-free Newton on the formed Hessian and eigvalsh; "matrix-free" is Newton-CG and batched
Lanczos on closed-form Hessian-vector products (minimise.py, sosp.py).  Prints a Markdown table with the
growth exponent fitted on log seconds against log m (per doubling: 2 ** exponent) and how many end points
each path certified.  ``--quick`` (the test's size): m = n in {4, 8}, one instance, two starts per scale.

A second table times whole claim evaluations at the same sizes, through the claims' own evaluators (one
instance per example, the dev profile's starts): Kim's k1 (G-quad, special) and k2 (G-quad, generic), the
oracle Jang's c4 adds to the probe (NTK squared loss and cross-entropy, N = 3, K = 2) and realnet's sec4
(an MLP's hidden layer of width m).  "formed" runs the loss behind losses.FormedHessian: the mn x mn loss
Hessian formed in the oracle's ADMM model step and in the LoRA Hessian, as before the structured path;
"structured" uses the diagonal (G-quad) or rank-KN (NTK) structure (losses.StructuredHessian).  realnet has
no formed column: its instance is built inside the claim (the before/after figure is in BENCHMARKS.md).
"""
from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from lora_claims import catalog  # noqa: E402
from lora_claims.strategies.ntk_instances import random_ntk  # noqa: E402

catalog.builtin_claims()   # the claim modules load as the built-ins (tagged, in the report's order) before
from lora_claims.theorems import kim2025, realnet  # noqa: E402   # this script imports two of them by name
from lora_claims.theorems.context import EvalContext  # noqa: E402
from lora_claims.theorems.numerics.convex_oracle import convex_optimum  # noqa: E402
from lora_claims.theorems.numerics.losses import FormedHessian  # noqa: E402
from lora_claims.theorems.numerics.landscape import certify  # noqa: E402
from lora_claims.theorems.numerics.minimise import multistart  # noqa: E402
from lora_claims.theorems.numerics.lora import LoRAObjective  # noqa: E402

SCALES = (0.01, 1.0, 3.0)


def evaluation(m: int, batch: int, inits: int, matrix_free: bool, seed: int = 0) -> dict:
    loss = random_ntk(3, 2, m, m, "sq", seed, batch, torch.device("cpu"), torch.float64)
    obj = LoRAObjective(loss, torch.full((batch,), 0.05, dtype=torch.float64), 4)
    t0 = time.perf_counter()
    ms = multistart(obj, SCALES, inits, seed + 1, gd_steps=600, newton_iters=200, matrix_free=matrix_free)
    ep = certify(ms.obj, ms.result.Y, ms.result.value, ms.instance, ms.scale, 1e-7, 1e-6, matrix_free)
    secs = time.perf_counter() - t0
    c = ep.sosp.is_sosp & torch.isfinite(ep.value)
    return {"seconds": secs, "starts": int(c.numel()), "sosp": int(c.sum()),
            "global": int((c & (ep.cert.excess() <= 1e-4)).sum()), "newton": ms.result.newton_steps}


def _kim(m: int, regime: str, inits: int, formed: bool) -> dict:
    """One kim2025 k1 (special) / k2 (generic) evaluation on a rank-2 G-quad target, r = 3, lam = 0.6."""
    drawn = {"family": "gquad", "m": m, "n": m, "target_rank": 2, "seed": 11, "batch": 1, "inits": inits, "r": 3,
             "kappa": 1.5 if regime == "special" else 20.0, "target_scale": 2.0, "lam": 0.6}
    build = kim2025.build_loss
    if formed:
        kim2025.build_loss = lambda d, ctx: FormedHessian(build(d, ctx))
    try:
        t0 = time.perf_counter()
        ev = (kim2025.eval_every_sosp_global if regime == "special" else kim2025.eval_dichotomy)(drawn, EvalContext())
        return {"seconds": time.perf_counter() - t0, "status": ev.status, "margin": ev.margin}
    finally:
        kim2025.build_loss = build


def _oracle(m: int, kind: str, formed: bool) -> dict:
    loss = random_ntk(3, 2, m, m, kind, 0, 1, torch.device("cpu"), torch.float64)
    t0 = time.perf_counter()
    opt = convex_optimum(FormedHessian(loss) if formed else loss, torch.full((1,), 0.02, dtype=torch.float64))
    return {"seconds": time.perf_counter() - t0, "status": "converged" if bool(opt.converged.all()) else "not converged",
            "margin": float(opt.value[0])}


def _realnet(m: int, inits: int) -> dict:
    drawn = {"arch": {"kind": "mlp", "d_in": m, "width": m, "K": 2, "seed": 0}, "layer": "l1", "N": 3, "loss": "sq",
             "lam_frac": 0.1, "seed": 0, "batch": 1, "inits": inits}
    t0 = time.perf_counter()
    ev = realnet.eval_no_spurious(drawn, EvalContext())
    return {"seconds": time.perf_counter() - t0, "status": ev.status, "margin": ev.margin}


CLAIMS = {
    "kim2025.k1_special": lambda m, a, formed: _kim(m, "special", a.claim_inits, formed),
    "kim2025.k2_generic_dichotomy": lambda m, a, formed: _kim(m, "generic", a.claim_inits, formed),
    "jang2024.c4 oracle (sq)": lambda m, a, formed: _oracle(m, "sq", formed),
    "jang2024.c4 oracle (ce)": lambda m, a, formed: _oracle(m, "ce", formed),
    "realnet.sec4_no_spurious": lambda m, a, formed: None if formed else _realnet(m, a.claim_inits),
}


def claim_table(a) -> dict:
    """Seconds per claim evaluation, formed vs structured loss Hessian, and the fitted exponents."""
    print(f"\n<!-- claim evaluations, one instance, {a.claim_inits} starts per init scale, 1 CPU thread -->")
    print("| claim | m = n | formed s | structured s | formed/structured | outcome (structured) |")
    print("| --- | --- | --- | --- | --- | --- |")
    times: dict = {}
    for name, run in CLAIMS.items():
        run(a.sizes[0], a, False)              # warm-up (imports, first kernels), not timed
        for m in a.sizes:
            old = run(m, a, True) if m <= a.formed_max else None
            new = run(m, a, False)
            times.setdefault((name, "structured"), []).append((m, new["seconds"]))
            if old is not None:
                times.setdefault((name, "formed"), []).append((m, old["seconds"]))
            ratio = f"{old['seconds'] / new['seconds']:.1f}x" if old else "–"
            print(f"| `{name}` | {m} | {old['seconds']:.2f} | {new['seconds']:.2f} | {ratio} | {new['status']} |"
                  if old else f"| `{name}` | {m} | – | {new['seconds']:.2f} | – | {new['status']} |", flush=True)
    fits = {key: exponent(rows) for key, rows in times.items()}
    print()
    for (name, path), e in fits.items():
        print(f"- `{name}`, {path}: seconds ~ m^{e:.2f} ({2 ** e:.1f}x per doubling) over "
              f"{[m for m, _ in times[(name, path)]]}")
    return {"times": times, "exponent": fits}


def exponent(rows: list[tuple[int, float]]) -> float:
    """Least-squares slope of log seconds on log m."""
    if len(rows) < 2:
        return math.nan
    xs, ys = [math.log(m) for m, _ in rows], [math.log(s) for _, s in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32, 64])
    ap.add_argument("--dense-max", type=int, default=16, help="largest m = n the dense path is run at")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--inits", type=int, default=6, help="starts per scale")
    ap.add_argument("--claim-inits", type=int, default=5, help="starts per init scale in the claim table")
    ap.add_argument("--formed-max", type=int, default=64, help="largest m = n the formed-Hessian path is run at")
    ap.add_argument("--no-claims", action="store_true", help="only the probe table")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    if a.quick:
        a.sizes, a.dense_max, a.batch, a.inits, a.claim_inits = [4, 8], 8, 1, 2, 1
    torch.set_num_threads(1)
    print(f"<!-- {time.strftime('%Y-%m-%d')} torch {torch.__version__}, {platform.machine()}, 1 CPU thread, "
          f"batch {a.batch} x {len(SCALES)} scales x {a.inits} starts, N = 3, K = 2, r = 4 -->")
    print("| m = n | path | s / evaluation | certified SOSPs / starts | global | Newton iterations |")
    print("| --- | --- | --- | --- | --- | --- |")
    times = {"dense": [], "matrix-free": []}
    for m in a.sizes:
        for name, free in (("dense", False), ("matrix-free", True)):
            if name == "dense" and m > a.dense_max:
                continue
            r = evaluation(m, a.batch, a.inits, free)
            times[name].append((m, r["seconds"]))
            print(f"| {m} | {name} | {r['seconds']:.2f} | {r['sosp']}/{r['starts']} | {r['global']} | "
                  f"{r['newton']} |", flush=True)
    fits = {name: exponent(rows) for name, rows in times.items()}
    for name, e in fits.items():
        print(f"\n{name}: seconds ~ m^{e:.2f} ({2 ** e:.1f}x per doubling of m = n) over m = n in "
              f"{[m for m, _ in times[name]]}")
    out = {"times": times, "exponent": fits}
    if not a.no_claims:
        out["claims"] = claim_table(a)
    return out


if __name__ == "__main__":
    main()
