"""Throughput of each claim family: the naive loop the papers' scripts use against the batched path.

    python benchmarks/run.py --quick --device cpu          # CI-sized, prints the table in seconds
    python benchmarks/run.py --device cuda [--json out.json]

For every family the SAME numerics (theorems/numerics) run three ways:
  (a) naive CPU   -- one instance and one initialisation at a time, in a Python loop, on the CPU;
  (b) naive dev   -- the same loop on the chosen device (only when it is not the CPU);
  (c) batched dev -- one tensor program carrying every instance and initialisation.
Rates are work items per second (certified end points, integrated instances, SGD run-steps); ratios
are taken inside one run.  For the dominant kernels (the batched GD gradient of the landscape
claims and the Dayi SGD step) the achieved bandwidth is set against the device's measured
device-to-device copy bandwidth, and the dense matrix rate is measured for reference.  The naive
rates are measured on a subset of the items (a rate per item, not an extrapolated total).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from lora_claims.strategies.ntk_instances import random_ntk  # noqa: E402
from lora_claims.strategies.xu_instances import random_init, xu_instance  # noqa: E402
from lora_claims.theorems.numerics.gradient_flow import LoRAFlow, integrate  # noqa: E402
from lora_claims.theorems.numerics.landscape import probe  # noqa: E402
from lora_claims.theorems.numerics.lora import LoRAObjective  # noqa: E402
from lora_claims.theorems.numerics.online_sgd import SGDConfig, run_sgd  # noqa: E402

F64 = torch.float64


@dataclass
class Row:
    family: str
    unit: str
    naive_cpu: float            # items per second
    naive_dev: float | None
    batched_dev: float
    items: int                  # items in the batched measurement
    note: str = ""

    @property
    def speedup(self) -> float:
        return self.batched_dev / self.naive_cpu


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _timed(fn, device, repeat: int = 1, warmup: bool = False) -> float:
    """Best wall time of ``repeat`` calls (after one warm-up call on CUDA, or when ``warmup``)."""
    if device.type == "cuda" or warmup:
        fn()
        _sync(device)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return best


# ------------------------------------------------------------------ landscape (Jang, Kim)
def _landscape_obj(B, device, seed=0):
    loss = random_ntk(N=3, K=2, m=4, n=4, loss="sq", seed=seed, batch=B, device=device, dtype=F64)
    lam = torch.full((B,), 0.05, dtype=F64, device=device)
    return LoRAObjective(loss, lam, r=3)


def landscape(device, B, per_scale, naive_items) -> Row:
    """Certified end points per second: multistart GD + saddle-free Newton + SOSP test + certificate."""
    scales = (0.01, 1.0, 3.0)
    obj = _landscape_obj(B, device)

    def batched():
        return probe(obj, scales, per_scale, seed=1)

    def naive(dev):
        o = _landscape_obj(B, dev)
        done = 0
        for b in range(B):
            for s in scales:
                for rep in range(per_scale):
                    if done == naive_items:
                        return done
                    probe(o.take(torch.tensor([b], device=dev)), (s,), 1, seed=1 + rep)
                    done += 1
        return done

    def rate_naive(dev):
        t = _timed(lambda: naive(dev), dev)
        return naive_items / t

    t = _timed(batched, device)
    ep = batched()
    certified = int(ep.certified.sum())
    items = B * len(scales) * per_scale
    cpu = torch.device("cpu")
    return Row("landscape (Jang/Kim)", "certified end points/s", rate_naive(cpu),
               rate_naive(device) if device.type != "cpu" else None, certified / t, items,
               f"{certified}/{items} certified; N=3 K=2 m=n=4 r=3, 800 GD+Newton iterations max")


def gd_bandwidth(device, B) -> tuple[float, float]:
    """Achieved bandwidth of the batched LoRA gradient (reads G twice: outputs, then G^T dz)."""
    loss = random_ntk(N=8, K=4, m=16, n=16, loss="sq", seed=3, batch=B, device=device, dtype=torch.float32)
    obj = LoRAObjective(loss, torch.full((B,), 0.05, device=device), r=4)
    Y = torch.randn(B, 32, 4, device=device)
    steps = 20
    t = _timed(lambda: [obj.grad(Y) for _ in range(steps)], device, repeat=3) / steps
    return 2 * loss.G.numel() * loss.G.element_size() / t, t


# ------------------------------------------------------------------ gradient flow (Xu)
def _xu(B, device):
    inst = xu_instance(8, 6, 5, [1.2, 1.0, 0.9, 0.8, 0.6], [2.0, 1.2], [0.3, 0.5], seed=0, batch=B,
                       device=device, dtype=F64)
    flow = LoRAFlow(inst.U, inst.R0, "B")
    Z1, Z2 = random_init(5, 6, 2, 1e-4, seed=2, batch=B, device=device, dtype=F64)
    return flow, Z1, Z2


def xu_flow(device, B, naive_items, T=12.0) -> Row:
    """Instances integrated per second (dopri8, rtol 1e-10, events included)."""
    flow, Z1, Z2 = _xu(B, device)
    t = _timed(lambda: integrate(flow, Z1, Z2, T, n_eval=40), device)

    def rate_naive(dev):
        f, a, b = _xu(naive_items, dev)
        tn = _timed(lambda: [integrate(f.take([i]), a[i:i + 1], b[i:i + 1], T, n_eval=40)
                             for i in range(naive_items)], dev)
        return naive_items / tn
    cpu = torch.device("cpu")
    return Row("gradient flow (Xu)", "instances/s", rate_naive(cpu),
               rate_naive(device) if device.type != "cpu" else None, B / t, B,
               "m=8 n=6 h=5 r=2, alpha=1e-4, t in [0, 12], 40 output points")


# ------------------------------------------------------------------ online SGD (Dayi)
def _cfg(d):
    return SGDConfig("tanh3", 4, d, 1.0, (1.0, 1.0, 1.0, 1.0), (1.0, 1.0, 1.0, 1.0))


def dayi_sgd(device, B, d, steps, naive_items) -> tuple[Row, float]:
    """SGD run-steps per second (B independent runs, fresh Gaussian samples every step, float32)."""
    cfg = _cfg(d)
    t = _timed(lambda: run_sgd(cfg, list(range(B)), steps, device=device), device)

    def rate_naive(dev):
        tn = _timed(lambda: [run_sgd(cfg, [s], steps, device=dev) for s in range(naive_items)], dev)
        return naive_items * steps / tn
    cpu = torch.device("cpu")
    # bytes per run-step: the sample x (d floats written by the generator, read by the step) and the
    # state u (read and written): a lower bound on the traffic of one step
    bw = B * steps * 4 * (2 * d + 2 * d) / t
    return Row("online SGD (Dayi)", "run-steps/s", rate_naive(cpu),
               rate_naive(device) if device.type != "cpu" else None, B * steps / t, B,
               f"tanh3, k=4, d={d}, {steps} steps"), bw


# ------------------------------------------------------------------ device limits
def copy_bandwidth(device, n) -> float:
    x = torch.empty(n, dtype=torch.float32, device=device).normal_()
    y = torch.empty_like(x)
    t = _timed(lambda: y.copy_(x), device, repeat=5)
    return 2 * x.numel() * 4 / t


def matmul_rate(device, n, dtype) -> float:
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    t = _timed(lambda: a @ b, device, repeat=3)
    return 2 * n ** 3 / t


def _warm_up(device):
    """First calls pay one-off costs (kernel selection, Hermite tables, allocator): pay them here."""
    for dev in {torch.device("cpu"), device}:
        probe(_landscape_obj(1, dev), (1.0,), 1, seed=0)
        f, a, b = _xu(1, dev)
        integrate(f, a, b, 1.0, n_eval=4)
        run_sgd(_cfg(32), [0], 8, device=dev)
        _sync(dev)


def measure(device: torch.device, quick: bool) -> dict:
    big = device.type == "cuda" and not quick
    _warm_up(device)
    rows = [
        landscape(device, B=256 if big else 4, per_scale=10 if big else 2, naive_items=6 if quick else 24),
        xu_flow(device, B=4096 if big else 16, naive_items=4 if quick else 16),
    ]
    sgd_row, sgd_bw = dayi_sgd(device, B=8192 if big else 64, d=1024 if big else 128,
                               steps=256 if big else 64, naive_items=2 if quick else 8)
    rows.append(sgd_row)
    gd_bw, gd_t = gd_bandwidth(device, B=8192 if big else 64)
    copy = copy_bandwidth(device, (1 << 28) if big else (1 << 22))
    limits = {"copy_GBps": copy / 1e9,
              "matmul_f32_TFLOPs": matmul_rate(device, 8192 if big else 512, torch.float32) / 1e12,
              "matmul_f64_TFLOPs": matmul_rate(device, 8192 if big else 512, F64) / 1e12,
              "gd_grad_GBps": gd_bw / 1e9, "gd_grad_fraction_of_copy": gd_bw / copy,
              "sgd_step_GBps": sgd_bw / 1e9, "sgd_step_fraction_of_copy": sgd_bw / copy}
    env = {"date": time.strftime("%Y-%m-%d"), "torch": torch.__version__, "device": str(device),
           "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
           or platform.machine(), "cpu_threads": torch.get_num_threads(), "quick": quick}
    return {"env": env, "rows": [dict(asdict(r), speedup=r.speedup) for r in rows], "limits": limits}


def table(res: dict) -> str:
    e = res["env"]
    out = [f"<!-- {e['date']}, torch {e['torch']}, {e['device']} ({e['device_name']}), "
           f"{e['cpu_threads']} CPU threads, quick={e['quick']} -->",
           "| family | unit | (a) naive CPU | (b) naive device | (c) batched device | (c)/(a) | batch |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in res["rows"]:
        nd = "–" if r["naive_dev"] is None else f"{r['naive_dev']:.3g}"
        out.append(f"| {r['family']} | {r['unit']} | {r['naive_cpu']:.3g} | {nd} | {r['batched_dev']:.3g} | "
                   f"{r['speedup']:.3g}x | {r['items']} |")
    L = res["limits"]
    out += ["", "| kernel | achieved GB/s | measured copy GB/s | fraction |", "| --- | --- | --- | --- |",
            f"| batched LoRA gradient (GD step) | {L['gd_grad_GBps']:.3g} | {L['copy_GBps']:.3g} | "
            f"{L['gd_grad_fraction_of_copy']:.2f} |",
            f"| online SGD step | {L['sgd_step_GBps']:.3g} | {L['copy_GBps']:.3g} | {L['sgd_step_fraction_of_copy']:.2f} |",
            "", f"Dense matmul: {L['matmul_f32_TFLOPs']:.3g} TFLOP/s (float32), "
                f"{L['matmul_f64_TFLOPs']:.3g} TFLOP/s (float64)."]
    out += [f"- {r['family']}: {r['note']}" for r in res["rows"]]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="CI-sized problems (seconds on 2 CPU cores)")
    ap.add_argument("--device", default="auto", help="cpu, cuda or auto (CUDA when present)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--json", default=None, help="also write the measurements to this file")
    a = ap.parse_args(argv)
    dev = a.device
    if dev == "auto":
        dev = "cuda" if torch.cuda.is_available() else "cpu"
    if dev not in ("cpu", "cuda"):
        print(f"error: unknown device {a.device!r} (cpu, cuda or auto)", file=sys.stderr)
        return 2
    if dev == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but torch sees no CUDA device", file=sys.stderr)
        return 2
    if a.threads:
        torch.set_num_threads(a.threads)
    res = measure(torch.device(dev), a.quick)
    print(table(res), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
