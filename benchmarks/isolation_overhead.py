"""Per-example cost of evaluating in the killable child process (isolate.py) against in-process.

    python benchmarks/isolation_overhead.py 'jang2024.lemma_l2_origin' 'kim2025.k1_*' --profile ci -n 20

Each drawn example is evaluated both ways in turn (in-process, then through one EvalWorker whose start and
first load are timed apart), float64 on the CPU, fresh solve memos.  Prints a Markdown table for
BENCHMARKS.md: per claim the median seconds per example each way, the median of the paired differences,
and the child's start + first load and its restart after a kill.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from hypothesis.errors import NonInteractiveExampleWarning  # noqa: E402

from lora_claims.catalog import select  # noqa: E402
from lora_claims.evaluation import evaluate_safely  # noqa: E402
from lora_claims.isolate import EvalWorker  # noqa: E402
from lora_claims.profiles import get_profile  # noqa: E402
from lora_claims.theorems.context import EvalContext, SolveMemo  # noqa: E402


def draws(claim, profile, n: int) -> list[dict]:
    strategy = claim.strategy(profile)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        return [strategy.example() for _ in range(n)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("patterns", nargs="+")
    ap.add_argument("--profile", default="ci")
    ap.add_argument("-n", type=int, default=20, help="examples per claim")
    a = ap.parse_args(argv)
    profile = get_profile(a.profile)
    threads = profile.get("threads")
    if threads:
        torch.set_num_threads(int(threads))
    print(f"<!-- {time.strftime('%Y-%m-%d')} torch {torch.__version__}, {platform.machine()}, "
          f"{torch.get_num_threads()} CPU threads, profile {profile.name}, {a.n} examples per claim -->")
    print("| claim | in-process s/example | isolated s/example | overhead s/example | child start + load s | "
          "restart after a kill s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for claim in select(a.patterns):
        examples = draws(claim, profile, a.n)
        w = EvalWorker(threads)
        try:
            t0 = time.perf_counter()
            w.evaluate(claim, examples[0], EvalContext(), None)      # start + load, not counted below
            start = time.perf_counter() - t0
            inproc, isolated = [], []
            for d in examples:
                inproc.append(evaluate_safely(claim, d, EvalContext(solves=SolveMemo()), None)[1])
                t0 = time.perf_counter()
                w.evaluate(claim, d, EvalContext(), None)
                isolated.append(time.perf_counter() - t0)
            w.close()
            t0 = time.perf_counter()
            w.evaluate(claim, examples[0], EvalContext(), None)
            restart = time.perf_counter() - t0
        finally:
            w.close()
        diff = statistics.median(o - i for i, o in zip(inproc, isolated))
        mi, mo = statistics.median(inproc), statistics.median(isolated)
        print(f"| `{claim.id}` | {mi:.4f} | {mo:.4f} | {diff:+.4f} | {start:.2f} | {restart:.2f} |", flush=True)


if __name__ == "__main__":
    main()
