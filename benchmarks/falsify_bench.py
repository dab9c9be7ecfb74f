"""Falsification benchmark: evaluations and seconds to the first confirmed counterexample, and the
falsification rate over seeds, for random generation alone, with Hypothesis's target phase, and with the
CMA-ES optimiser, at an equal number of evaluations per run -- all in one run.

    python benchmarks/falsify_bench.py [PATTERN ...] [--evals 48] [--seeds 10] [--quick]

PATTERNs select registered controls (default: every control); the planted rare-corner statements
(lora_claims/planted.py) are always included.  ``--quick`` (CI): the planted statements and two cheap
controls, 3 seeds.  Prints a Markdown table for BENCHMARKS.md and the optimiser/random rate ratios.
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
from lora_claims.planted import planted_claims  # noqa: E402
from lora_claims.profiles import Profile, get_profile  # noqa: E402
from lora_claims.search import falsify_claim  # noqa: E402

QUICK_CONTROLS = ("jang2024.nc_f_origin_threshold", "kim2025.m9_bias_bound_attained")


def mode_profile(base: Profile, mode: str, evals: int) -> Profile:
    """An equal budget of ``evals`` evaluations: all random, random + target phase, or 1/6 random + CMA-ES."""
    if mode == "optimiser":
        rand = max(4, evals // 6)
        return Profile(f"bench-{mode}", max_examples=rand, runs=1, database=False, target=False, device="cpu",
                       scale=base.scale, example_timeout=base.example_timeout, min_conclusive=1,
                       optimiser_evals=evals - rand)
    return Profile(f"bench-{mode}", max_examples=evals, runs=1, database=False, target=(mode == "target"),
                   device="cpu", scale=base.scale, example_timeout=base.example_timeout, min_conclusive=1)


def first_failure(claim, profile, seed):
    """(falsified?, evaluations until the first failing example, seconds until then)."""
    seen = {"n": 0, "first": None, "t0": time.perf_counter(), "t": None}

    def rec(**kw):
        if kw["origin"] == "reverify":
            return
        seen["n"] += 1
        if seen["first"] is None and kw["evidence"].status == "fail":
            seen["first"], seen["t"] = seen["n"], time.perf_counter() - seen["t0"]
    out = falsify_claim(claim, profile, "cpu", torch.float64, seed, recorder=rec)
    return out.verdict.value == "falsified", seen["first"], seen["t"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("patterns", nargs="*")
    ap.add_argument("--evals", type=int, default=48)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--profile", default="ci", help="whose scale (instance sizes) the strategies use")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    base = get_profile(a.profile)
    if a.quick:
        controls = [catalog.get(i) for i in QUICK_CONTROLS]
        a.seeds = min(a.seeds, 3)
    else:
        controls = [c for c in catalog.select(a.patterns or None) if c.is_control]
    claims = planted_claims() + controls
    modes = ("random", "target", "optimiser")
    print(f"<!-- {time.strftime('%Y-%m-%d')} torch {torch.__version__}, {platform.machine()}, 1 CPU thread, "
          f"{a.evals} evaluations per run, {a.seeds} seeds, instance scale of profile {base.name} -->")
    print("| statement | " + " | ".join(f"{m}: rate, evals, s" for m in modes) + " | optimiser/random rate |")
    print("| --- |" + " --- |" * (len(modes) + 1))
    totals = {m: [0, 0] for m in modes}
    for c in claims:
        cells, rates = [], {}
        for m in modes:
            prof = mode_profile(base, m, a.evals)
            hits, evals, secs = 0, [], []
            for seed in range(a.seeds):
                ok, n, t = first_failure(c, prof, seed)
                hits += ok
                if ok and n is not None:
                    evals.append(n)
                    secs.append(t)
            rates[m] = hits / a.seeds
            totals[m][0] += hits
            totals[m][1] += a.seeds
            med = lambda xs: sorted(xs)[len(xs) // 2] if xs else math.nan  # noqa: E731
            cells.append(f"{rates[m]:.0%}, {med(evals):.0f}, {med(secs):.2f}")
        ratio = "–" if rates["random"] == 0 and rates["optimiser"] == 0 else \
            ("∞" if rates["random"] == 0 else f"{rates['optimiser'] / rates['random']:.2f}")
        print(f"| `{c.id}` | " + " | ".join(cells) + f" | {ratio} |", flush=True)
    print("\nOverall falsification rate: " + ", ".join(f"{m} {h}/{n}" for m, (h, n) in totals.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
