"""The one evaluation path: runs a claim under a profile with Hypothesis and decides its verdict.

``pytest checks/``, ``lora-claims falsify`` and the report all go through ``falsify_claim``.
A failing example is shrunk by Hypothesis, then re-verified in float64 on the CPU before it is
called a counterexample; one that does not reproduce is a numerical artefact (inconclusive).
"""
from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from hypothesis import HealthCheck, event, given, reject, seed as hseed, settings, target
from hypothesis.errors import Flaky

from .claim import Claim, Evidence, NumericalFailure, Verdict, MAX_INCONCLUSIVE_FRACTION
from .profiles import Profile
from .jsonable import jsonable

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
    reasons: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    note: str = ""

    @property
    def ok(self) -> bool:
        """Did the suite get what it expects? Theorems must not be falsified; controls must be."""
        if self.claim.is_control:
            return self.verdict is Verdict.FALSIFIED
        return self.verdict is not Verdict.FALSIFIED

    def summary(self) -> dict:
        c = self.claim
        return {"id": c.id, "paper": c.paper, "theorem": c.theorem, "kind": c.kind,
                "provenance": c.provenance, "verdict": self.verdict.value, "examples": self.examples,
                "passed": self.passed, "failed": self.failed, "inconclusive": self.inconclusive,
                "vacuous": self.vacuous,
                "worst_margin": self.worst_margin, "seconds": round(self.seconds, 3),
                "ok": self.ok, "note": self.note,
                "reasons": dict(self.reasons), "closest": self.closest,
                "counterexample": self.counterexample}


class _Counterexample(Exception):
    def __init__(self, drawn: dict, evidence: Evidence):
        super().__init__(f"margin {evidence.margin:.3g} at {json.dumps(drawn, sort_keys=True)}")
        self.drawn, self.evidence = drawn, evidence


def evaluate_safely(claim: Claim, drawn: dict, device, dtype) -> tuple[Evidence, float]:
    """Evaluate once; numerical breakdowns become inconclusive evidence, never passes."""
    t0 = time.perf_counter()
    try:
        with torch.no_grad():
            ev = claim.evaluate(drawn, device=device, dtype=dtype)
    except (NumericalFailure, torch.linalg.LinAlgError, FloatingPointError) as exc:
        ev = Evidence.inconclusive(f"{type(exc).__name__}: {exc}")
    return ev, time.perf_counter() - t0


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda requested but CUDA is not available")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r} (auto, cpu or cuda)")
    return torch.device(name)


def falsify_claim(claim: Claim, profile: Profile, device: torch.device | str = "cpu",
                  dtype=torch.float64, seed: int = 0, budget: float | None = None,
                  recorder: Callable[..., Any] | None = None, database=None,
                  progress: Callable[[ClaimOutcome], None] | None = None) -> ClaimOutcome:
    """Search for a counterexample to ``claim``; returns its outcome (verdict, worst margin...)."""
    device = torch.device(device)
    out = ClaimOutcome(claim, Verdict.HELD)
    t_start = time.perf_counter()
    deadline = None if budget is None else t_start + budget
    state = {"failing": False}

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
        if st in ("pass", "fail") and (out.worst_margin is None or ev.margin < out.worst_margin):
            out.worst_margin = ev.margin
            out.closest = {"drawn": drawn, "margin": ev.margin, "binding": ev.binding,
                           "measured": jsonable(ev.measured)}
        if recorder is not None:
            recorder(claim=claim, drawn=drawn, evidence=ev, seconds=secs, device=str(device),
                     dtype=str(dtype).replace("torch.", ""), origin=origin)
        if progress is not None:
            progress(out)

    def run_one(drawn: dict, origin: str) -> Evidence:
        ev, secs = evaluate_safely(claim, drawn, device, dtype)
        observe(drawn, ev, secs, origin)
        return ev

    # 1. curated examples first (fixtures shipped with the repository)
    failure: tuple[dict, Evidence] | None = None
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

        @settings(max_examples=per_run, deadline=None, database=database, phases=profile.phases,
                  derandomize=False, report_multiple_bugs=False, print_blob=False,
                  suppress_health_check=list(HealthCheck))
        @hseed(seed * 1000 + k)
        @given(strategy)
        def body(drawn):
            if deadline is not None and not state["failing"] and time.perf_counter() > deadline:
                reject()
            ev = run_one(drawn, "search")
            for e in ev.events:
                event(e)
            if ev.status in ("pass", "fail"):
                target(-ev.margin, label="negative margin")
            if ev.status == "fail":
                state["failing"] = True
                raise _Counterexample(drawn, ev)

        try:
            body()
        except _Counterexample as ce:
            failure = (ce.drawn, ce.evidence)
        except Flaky as exc:
            out.reasons["flaky: " + type(exc).__name__] += 1
            out.note = "Hypothesis saw a failure that did not replay: " + str(exc).splitlines()[0]
            out.verdict = Verdict.INCONCLUSIVE
        except Exception as exc:  # Hypothesis' own errors (e.g. Unsatisfiable after a budget stop)
            if type(exc).__name__ == "Unsatisfiable":
                break
            raise

    # 3. verdict
    if failure is not None:
        drawn, ev = failure
        confirm = ev
        if (device.type, dtype) != (REVERIFY[0], REVERIFY[1]):
            confirm, secs = evaluate_safely(claim, drawn, torch.device(REVERIFY[0]), REVERIFY[1])
            if recorder is not None:
                recorder(claim=claim, drawn=drawn, evidence=confirm, seconds=secs, device=REVERIFY[0],
                         dtype="float64", origin="reverify")
        record = {"claim": claim.id, "drawn": drawn, "margin": ev.margin, "binding": ev.binding,
                  "measured": jsonable(ev.measured), "seed": seed, "device": str(device),
                  "dtype": str(dtype).replace("torch.", ""), "versions": versions()}
        if confirm.status == "fail":
            if confirm is not ev:
                record["reverified"] = {"margin": confirm.margin, "measured": jsonable(confirm.measured)}
            out.verdict = Verdict.FALSIFIED
            out.counterexample = record
        else:
            out.verdict = Verdict.INCONCLUSIVE
            out.note = "numerical artefact: the failure did not reproduce in float64 on the CPU"
            record["reverified"] = {"status": confirm.status, "margin": confirm.margin,
                                    "measured": jsonable(confirm.measured)}
            out.closest = dict(out.closest or {}, artefact=record)
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
    import hypothesis
    import numpy
    import scipy
    return {"torch": torch.__version__, "hypothesis": hypothesis.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__}
