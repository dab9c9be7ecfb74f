"""Wall time per claim on the CPU and (when present) on CUDA, measured in one run.

    python benchmarks/claim_times.py 'jang2024.*' --profile ci [--threads 1]

Prints a Markdown table (claim, verdict, examples, CPU seconds, CUDA seconds, ratio) for BENCHMARKS.md.
Both devices run the same claims with the same seed through the one evaluation path (search.py).
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from lora_claims.catalog import select  # noqa: E402
from lora_claims.profiles import get_profile  # noqa: E402
from lora_claims.search import falsify_claim  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("patterns", nargs="*")
    ap.add_argument("--profile", default="ci")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    profile = get_profile(a.profile)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"<!-- {time.strftime('%Y-%m-%d')} torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} CPU threads, GPU: {gpu}, profile {profile.name}, seed {a.seed} -->")
    print("| claim | verdict | examples | CPU s | CUDA s | CPU/CUDA |")
    print("| --- | --- | --- | --- | --- | --- |")
    for c in select(a.patterns or None):
        row = {}
        for dev in devices:
            t0 = time.perf_counter()
            out = falsify_claim(c, profile, torch.device(dev), torch.float64, a.seed)
            if dev == "cuda":
                torch.cuda.synchronize()
            row[dev] = (time.perf_counter() - t0, out)
        cpu_s, out = row["cpu"]
        cuda = row.get("cuda")
        cuda_s = f"{cuda[0]:.2f}" if cuda else "–"
        ratio = f"{cpu_s / cuda[0]:.2f}" if cuda else "–"
        print(f"| `{c.id}` | {out.verdict.value} | {out.examples} | {cpu_s:.2f} | {cuda_s} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
