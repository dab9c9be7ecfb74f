"""One evaluation of a claim on drawn values, safely: the one path every caller (the search, reproduce, the
isolated child of isolate.py) evaluates through, and the device's determinism settings."""
from __future__ import annotations

import time
import traceback

import torch

from .limits import ExampleTimeout, time_limit
from .theorems.claim import Claim, Evidence, NumericalFailure
from .theorems.context import EvalContext


def evaluate_safely(claim: Claim, drawn: dict, ctx: EvalContext,
                    timeout: float | None = None) -> tuple[Evidence, float]:
    """Evaluate once; numerical breakdowns and timeouts become inconclusive evidence, never passes."""
    t0 = time.perf_counter()
    try:
        with time_limit(timeout), torch.no_grad():
            ev = claim.evaluate(drawn, ctx)
        if not isinstance(ev, Evidence):
            raise TypeError(f"evaluate returned {type(ev).__name__}, not Evidence")
    except ExampleTimeout as exc:
        ev = Evidence.inconclusive(f"timeout: {exc}")
    except (NumericalFailure, torch.linalg.LinAlgError, FloatingPointError) as exc:
        ev = Evidence.inconclusive(f"{type(exc).__name__}: {exc}")
    except Exception as exc:            # the claim's own bug: recorded, never a pass, never a crash
        ev = Evidence.errored(f"{type(exc).__name__}: {exc}", traceback.format_exc())
    return ev, time.perf_counter() - t0


def make_deterministic(device: torch.device) -> None:
    """Ask torch for deterministic kernels where it has them (CUDA: cuBLAS workspace, no atomics)."""
    if torch.device(device).type == "cuda":
        import os
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
