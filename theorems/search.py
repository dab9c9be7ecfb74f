"""The one evaluation path: runs a claim under a profile with Hypothesis and decides its verdict.

``pytest checks/``, ``lora-claims falsify`` and the report all go through ``falsify_claim``.
A failing example is shrunk by Hypothesis, then re-verified in float64 on the CPU with tighter solver
tolerances (``limits.tight``) before it is called a counterexample; one that does not reproduce is a
numerical artefact (inconclusive, with both evaluations).  A failure Hypothesis cannot replay (flaky)
is inconclusive too, with its two evaluations.  Every example runs under a per-example time limit;
one that runs past it is ``inconclusive (timeout)`` and the search goes on.
"""
from __future__ import annotations

import functools
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from hypothesis import HealthCheck, event, given, seed as hseed, settings, target
from hypothesis.errors import Flaky

from .claim import Claim, Evidence, NumericalFailure, Verdict, MAX_INCONCLUSIVE_FRACTION
from .gpus import cuda_for_worker, worker_index
from .jsonable import jsonable
from .limits import ExampleTimeout, tight, time_limit
from .observe import observing
from .profiles import Profile

REVERIFY = ("cpu", torch.float64)


@dataclass
class ClaimOutcome:
    claim: Claim
    verdict: Verdict
    examples: int = 0
    passed: int = 0
    failed: int = 0
    inconclusive: int = 0
    vacuous: int = 0                       # examples where the claim's premise did not arise
    worst_margin: float | None = None
    closest: dict | None = None            # {"drawn", "margin", "measured"} of the worst example
    counterexample: dict | None = None     # shrunk drawn values, evidence, reproduction data
    artefact: dict | None = None           # a failure that did not re-verify: both evaluations
    flaky: dict | None = None              # a failure Hypothesis could not replay: both evaluations
    reasons: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    note: str = ""
    budget_spent: bool = False             # the search stopped because the claim's budget ran out

    @property
    def ok(self) -> bool:
        """Did the suite get what it expects? Theorems must not be falsified; controls must be."""
        if self.verdict is Verdict.SKIPPED:
            return True
        if self.claim.is_control:
            return self.verdict is Verdict.FALSIFIED
        return self.verdict is not Verdict.FALSIFIED

    def summary(self) -> dict:
        c = self.claim
        return {"id": c.id, "paper": c.paper, "theorem": c.theorem, "kind": c.kind,
                "provenance": c.provenance, "verdict": self.verdict.value, "examples": self.examples,
                "passed": self.passed, "failed": self.failed, "inconclusive": self.inconclusive,
                "vacuous": self.vacuous, "budget_spent": self.budget_spent,
                "worst_margin": self.worst_margin, "seconds": round(self.seconds, 3),
                "ok": self.ok, "note": self.note,
                "reasons": dict(self.reasons), "closest": self.closest,
                "counterexample": self.counterexample, "artefact": self.artefact, "flaky": self.flaky}


class _OutOfBudget(BaseException):
    """Stops a Hypothesis run at once when the claim's budget is spent (not a test failure)."""


class _Counterexample(Exception):
    def __init__(self, drawn: dict, evidence: Evidence):
        super().__init__(f"margin {evidence.margin:.3g} at {json.dumps(drawn, sort_keys=True)}")
        self.drawn, self.evidence = drawn, evidence


def evaluate_safely(claim: Claim, drawn: dict, device, dtype,
                    timeout: float | None = None) -> tuple[Evidence, float]:
    """Evaluate once; numerical breakdowns and timeouts become inconclusive evidence, never passes."""
    t0 = time.perf_counter()
    try:
        with time_limit(timeout), torch.no_grad():
            ev = claim.evaluate(drawn, device=device, dtype=dtype)
    except ExampleTimeout as exc:
        ev = Evidence.inconclusive(f"timeout: {exc}")
    except (NumericalFailure, torch.linalg.LinAlgError, FloatingPointError) as exc:
        ev = Evidence.inconclusive(f"{type(exc).__name__}: {exc}")
    return ev, time.perf_counter() - t0


def _evaluation(ev: Evidence, device, dtype) -> dict:
    """One evaluation as plain JSON (for artefact and flaky records)."""
    return {"device": str(device), "dtype": str(dtype).replace("torch.", ""), "status": ev.status,
            "margin": ev.margin, "binding": ev.binding, "reason": ev.why, "measured": jsonable(ev.measured)}


def make_deterministic(device: torch.device) -> None:
    """Ask torch for deterministic kernels where it has them (CUDA: cuBLAS workspace, no atomics)."""
    if torch.device(device).type == "cuda":
        import os
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def resolve_device(name: str) -> torch.device:
    """'auto' (CUDA when present), 'cpu' or 'cuda'.  Inside a pytest-xdist worker, CUDA means that
    worker's own GPU (gw<i> -> cuda:<i mod visible GPUs>, theorems/gpus.py)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda requested but CUDA is not available")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r} (auto, cpu or cuda)")
    if name == "cuda":
        dev = cuda_for_worker(worker_index())
        if dev.index is not None:
            torch.cuda.set_device(dev)
        return dev
    return torch.device(name)


def falsify_claim(claim: Claim, profile: Profile, device: torch.device | str = "cpu",
                  dtype=torch.float64, seed: int = 0, budget: float | None = None,
                  recorder: Callable[..., Any] | None = None, database=None,
                  progress: Callable[[ClaimOutcome], None] | None = None,
                  timeout: float | None = None, observe_dir=None) -> ClaimOutcome:
    """Search for a counterexample to ``claim``; returns its outcome (verdict, worst margin...).

    ``budget``: seconds for this claim; ``timeout``: per-example limit (default: the profile's);
    ``database``: a Hypothesis example database (failures are replayed first next time);
    ``observe_dir``: folder for Hypothesis's observability JSONL.
    """
    device = torch.device(device)
    timeout = profile.example_timeout if timeout is None else timeout
    out = ClaimOutcome(claim, Verdict.HELD)
    why = claim.missing()
    if why is not None:
        out.verdict, out.note = Verdict.SKIPPED, why
        return out
    t_start = time.perf_counter()
    deadline = None if budget is None else t_start + budget
    state = {"failing": False, "first_fail": None}

    def observe(drawn: dict, ev: Evidence, secs: float, origin: str):
        out.examples += 1
        st = ev.status
        if st == "pass":
            out.passed += 1
        elif st == "fail":
            out.failed += 1
        elif st == "vacuous":
            out.vacuous += 1
            out.reasons["vacuous: " + (ev.why or "")[:70]] += 1
        else:
            out.inconclusive += 1
            out.reasons[(ev.why or "inconclusive").split(":")[0][:80]] += 1
        row = None
        if recorder is not None:
            row = recorder(claim=claim, drawn=drawn, evidence=ev, seconds=secs, device=str(device),
                           dtype=str(dtype).replace("torch.", ""), origin=origin)
        if st in ("pass", "fail") and (out.worst_margin is None or ev.margin < out.worst_margin):
            out.worst_margin = ev.margin
            out.closest = {"drawn": drawn, "margin": ev.margin, "binding": ev.binding,
                           "measured": jsonable(ev.measured), "example_id": row}
        if progress is not None:
            progress(out)

    def run_one(drawn: dict, origin: str) -> Evidence:
        ev, secs = evaluate_safely(claim, drawn, device, dtype, timeout)
        observe(drawn, ev, secs, origin)
        return ev

    # 1. curated examples first (fixtures shipped with the repository)
    failure: tuple[dict, Evidence] | None = None
    failure_seed = None                     # the Hypothesis seed of the run that found it (None: curated)
    for drawn in claim.examples:
        ev = run_one(dict(drawn), "curated")
        if ev.status == "fail":
            failure = (dict(drawn), ev)
            break

    # 2. Hypothesis search, in independently seeded runs, until examples or budget run out
    strategy = claim.strategy(profile)
    per_run = max(1, math.ceil(profile.max_examples / profile.runs))
    for k in range(profile.runs):
        if failure is not None or (deadline is not None and time.perf_counter() > deadline):
            break

        def check(drawn):
            if deadline is not None and not state["failing"] and time.perf_counter() > deadline:
                raise _OutOfBudget()
            ev = run_one(drawn, "search")
            for e in ev.events:
                event(e)
            if ev.status in ("pass", "fail"):
                target(-ev.margin, label="negative margin")
            if ev.status == "fail":
                state["failing"] = True
                if state["first_fail"] is None:
                    state["first_fail"] = (drawn, ev)
                raise _Counterexample(drawn, ev)

        check.__name__ = check.__qualname__ = claim.id.replace(".", "_")
        body = settings(max_examples=per_run, deadline=None, database=database, phases=profile.phases,
                        derandomize=False, report_multiple_bugs=False, print_blob=False,
                        suppress_health_check=list(HealthCheck))(hseed(seed * 1000 + k)(given(strategy)(check)))
        body._hypothesis_internal_database_key = claim.id.encode()   # one database entry per claim

        try:
            with observing(observe_dir, claim.id):
                body()
        except _OutOfBudget:
            out.budget_spent = True
            break
        except _Counterexample as ce:
            failure, failure_seed = (ce.drawn, ce.evidence), seed * 1000 + k
        except Flaky as exc:
            out.reasons["flaky: " + type(exc).__name__] += 1
            out.note = "flaky: a failure did not replay: " + str(exc).splitlines()[0]
            out.verdict = Verdict.INCONCLUSIVE
            if state["first_fail"] is not None:
                drawn, first = state["first_fail"]
                again, _ = evaluate_safely(claim, drawn, device, dtype, timeout)
                out.flaky = {"drawn": drawn, "first": _evaluation(first, device, dtype),
                             "second": _evaluation(again, device, dtype)}
            break
        except Exception as exc:  # Hypothesis' own errors (e.g. Unsatisfiable after a budget stop)
            if type(exc).__name__ == "Unsatisfiable":
                break
            raise

    # 3. verdict
    if failure is not None:
        drawn, ev = failure
        rdev, rdtype = torch.device(REVERIFY[0]), REVERIFY[1]
        with tight():
            confirm, secs = evaluate_safely(claim, drawn, rdev, rdtype, timeout)
        if recorder is not None:
            recorder(claim=claim, drawn=drawn, evidence=confirm, seconds=secs, device=REVERIFY[0],
                     dtype="float64", origin="reverify")
        record = {"claim": claim.id, "drawn": drawn, "margin": ev.margin, "binding": ev.binding,
                  "measured": jsonable(ev.measured), "seed": seed, "hypothesis_seed": failure_seed,
                  "origin": "curated" if failure_seed is None else "search", "device": str(device),
                  "dtype": str(dtype).replace("torch.", ""), "versions": versions(),
                  "reverified": _evaluation(confirm, rdev, rdtype)}
        if confirm.status == "fail":
            out.verdict = Verdict.FALSIFIED
            out.counterexample = record
        else:
            out.verdict = Verdict.INCONCLUSIVE
            out.note = ("numerical artefact: the failure did not reproduce in float64 on the CPU "
                        "with tighter tolerances")
            out.reasons["numerical artefact"] += 1
            out.artefact = {"claim": claim.id, "drawn": drawn, "seed": seed,
                            "search": _evaluation(ev, device, dtype), "reverified": record["reverified"]}
    elif out.verdict is not Verdict.INCONCLUSIVE:
        conclusive = out.passed + out.failed
        if conclusive == 0:
            out.verdict = Verdict.INCONCLUSIVE
            out.note = "no conclusive example" + (" (the premise never arose)" if out.vacuous else "")
        elif out.inconclusive > MAX_INCONCLUSIVE_FRACTION * (out.examples - out.vacuous):
            out.verdict = Verdict.INCONCLUSIVE
            out.note = f"{out.inconclusive} of {out.examples} examples inconclusive"
    out.seconds = time.perf_counter() - t_start
    return out


def versions() -> dict:
    """Library versions, Python, platform and the source commit (when run from a git checkout)."""
    return dict(_versions())


@functools.lru_cache(maxsize=1)
def _versions() -> dict:
    import platform
    import subprocess
    from pathlib import Path

    import hypothesis
    import numpy
    import scipy
    v = {"lora-claims": _own_version(), "torch": torch.__version__, "hypothesis": hypothesis.__version__,
         "numpy": numpy.__version__, "scipy": scipy.__version__, "python": platform.python_version(),
         "platform": platform.platform()}
    try:
        root = Path(__file__).resolve().parent.parent
        v["commit"] = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                     capture_output=True, text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        v["commit"] = None
    return v


def _own_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("lora-claims")
    except PackageNotFoundError:
        return "unknown"
