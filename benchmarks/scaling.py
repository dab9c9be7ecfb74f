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

from lora_claims.strategies.ntk_instances import random_ntk  # noqa: E402
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
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    if a.quick:
        a.sizes, a.dense_max, a.batch, a.inits = [4, 8], 8, 1, 2
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
    return {"times": times, "exponent": fits}


if __name__ == "__main__":
    main()
