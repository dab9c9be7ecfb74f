"""The one evaluation path: runs a claim under a profile with Hypothesis and decides its verdict.

``pytest checks/``, ``lora-claims falsify`` and the report all go through ``falsify_claim``.
A failing example is shrunk by Hypothesis, then re-verified in float64 on the CPU with tighter solver
tolerances (``EvalContext.tightened``) before it is called a counterexample; one that does not reproduce is a
numerical artefact (inconclusive, with both evaluations).  A failure Hypothesis cannot replay (flaky)
is inconclusive too, with its two evaluations.  Every example runs under a per-example time limit;
one that runs past it is ``inconclusive (timeout)`` and the search goes on.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import json
import math
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from hypothesis import HealthCheck, event, given, seed as hseed, settings, target
from hypothesis.errors import Flaky

from .theorems.claim import MAX_INCONCLUSIVE_FRACTION, Claim, Evidence, Verdict, violation_rate_bound
from .gpus import cuda_for_worker, worker_index
from .jsonable import jsonable
from .evaluation import evaluate_safely
from .isolate import EvalWorker
from .theorems.context import EvalContext, SolveMemo
from .observe import observing
from .optimise import ChoiceSpace, Point, cma_strategy, describe, fitness
from .profiles import Profile, for_device
from .strategies.domain import coverage, declared_domain



@dataclass
class ClaimOutcome:
    claim: Claim
    verdict: Verdict
    examples: int = 0
    passed: int = 0
    failed: int = 0
    inconclusive: int = 0
    vacuous: int = 0                       # examples where the claim's premise did not arise
    errors: int = 0                        # examples whose evaluation raised (the first one stops the search)
    worst_margin: float | None = None
    closest: dict | None = None            # {"drawn", "margin", "measured"} of the worst example
    counterexample: dict | None = None     # shrunk drawn values, evidence, reproduction data
    artefact: dict | None = None           # a failure that did not re-verify: both evaluations
    flaky: dict | None = None              # a failure Hypothesis could not replay: both evaluations
    error: dict | None = None              # {"where", "message", "traceback", "drawn"} when the claim's code raised
    reasons: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    note: str = ""
    budget_spent: bool = False             # the search stopped because the claim's budget ran out
    exhausted: bool = False                # Hypothesis found no further distinct instances
    min_conclusive: int = 1
    coverage: dict | None = None           # declared parameter space vs what this run drew (strategies/domain.py)

    @property
    def under_searched(self) -> bool:
        """Inconclusive because fewer conclusive examples than the profile's minimum were found."""
        return self.verdict is Verdict.INCONCLUSIVE and self.note.startswith("under-searched")

    @property
    def conclusive(self) -> int:
        return self.passed + self.failed

    @property
    def violation_bound(self) -> float | None:
        """Upper 95% bound on the violation rate under the claim's strategy ('held' only)."""
        return violation_rate_bound(self.conclusive) if self.verdict is Verdict.HELD else None

    @property
    def expectation(self) -> str:
        """'as expected', 'unexpected' (a falsified theorem/lemma, or a control searched and not falsified),
        'undecided' (inconclusive, under-searched or in error), 'skipped', or for an experiment that was
        measured 'reported' (whether or not it reproduced: a finding, not a verdict on a theorem)."""
        v = self.verdict
        if v is Verdict.SKIPPED:
            return "skipped"
        if v in (Verdict.INCONCLUSIVE, Verdict.ERROR):
            return "undecided"
        if self.claim.is_experiment:
            return "reported"
        if self.claim.is_control:
            return "as expected" if v is Verdict.FALSIFIED else "unexpected"
        return "as expected" if v is Verdict.HELD else "unexpected"

    @property
    def ok(self) -> bool:
        """Did the suite get what it expects? Theorems held, controls falsified (skipped claims too)."""
        return self.expectation in ("as expected", "skipped", "reported")

    @property
    def finding(self) -> str | None:
        """An experiment's outcome: 'reproduced' (held), 'not reproduced' (falsified), else None."""
        if not self.claim.is_experiment:
            return None
        return {Verdict.HELD: "reproduced", Verdict.FALSIFIED: "not reproduced"}.get(self.verdict)

    def summary(self) -> dict:
        c = self.claim
        return {"id": c.id, "paper": c.paper, "theorem": c.theorem, "kind": c.kind,
                "provenance": c.provenance, "verdict": self.verdict.value, "examples": self.examples,
                "conclusive": self.conclusive, "min_conclusive": self.min_conclusive,
                "passed": self.passed, "failed": self.failed, "inconclusive": self.inconclusive,
                "vacuous": self.vacuous, "errors": self.errors, "budget_spent": self.budget_spent,
                "under_searched": self.under_searched, "exhausted": self.exhausted,
                "violation_bound_95": self.violation_bound,
                "worst_margin": self.worst_margin, "seconds": round(self.seconds, 3),
                "ok": self.ok, "expectation": self.expectation, "finding": self.finding, "note": self.note,
                "reasons": dict(self.reasons), "closest": self.closest,
                "counterexample": self.counterexample, "artefact": self.artefact, "flaky": self.flaky,
                "error": self.error, "coverage": self.coverage}


def exit_code(summaries: list[dict]) -> int:
    """The CLI contract: 1 if anything is unexpected, else 3 if anything is undecided, else 0."""
    kinds = {s["expectation"] for s in summaries}
    return 1 if "unexpected" in kinds else 3 if "undecided" in kinds else 0


class _OutOfBudget(BaseException):
    """Stops a Hypothesis run at once when the claim's budget is spent (not a test failure)."""


class _Enough(BaseException):
    """Stops a Hypothesis run once the claim has its minimum of conclusive examples (budgeted phase 1)."""


class _Errored(BaseException):
    """The claim's own evaluate raised: stop its search at once (no shrinking of a bug)."""


class _Counterexample(Exception):
    """Raised inside the Hypothesis test body to report a failing example (Hypothesis then shrinks it)."""

    def __init__(self, drawn: dict, evidence: Evidence):
        super().__init__(f"margin {evidence.margin:.3g} at {json.dumps(drawn, sort_keys=True)}")
        self.drawn, self.evidence = drawn, evidence


@contextlib.contextmanager
def source_independent_draws():
    """Hypothesis (>= 6.131) mixes constants it finds in the *local* source files loaded in the process
    (not site-packages) into its draws, so the same seed would draw differently from an editable checkout,
    a wheel install, or with a user's --claims module loaded.  The suite promises the same examples for
    the same profile and seed, so those local constants are switched off during a claim's search
    (Hypothesis's global constants stay).  Internal to Hypothesis: where the hook is absent it is a no-op."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:                                  # pragma: no cover
        yield
        return
    hook = getattr(providers, "_get_local_constants", None)
    if hook is None or not hasattr(providers, "Constants"):
        yield
        return
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if cache is not None:
        cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = hook
        if cache is not None:
            cache.cache.clear()


_WORKERS: dict = {}


def shared_worker(profile: Profile):
    """This process's killable evaluation worker (one per thread setting, closed at exit)."""
    threads = profile.get("threads")
    if threads not in _WORKERS:
        _WORKERS[threads] = EvalWorker(threads)
        atexit.register(_WORKERS[threads].close)
    return _WORKERS[threads]


def _evaluation(ev: Evidence, ctx: EvalContext) -> dict:
    """One evaluation as plain JSON (for artefact and flaky records)."""
    return {"device": str(ctx.device), "dtype": ctx.dtype_name, "status": ev.status,
            "margin": ev.margin, "binding": ev.binding, "reason": ev.why, "measured": jsonable(ev.measured)}


def resolve_device(name: str) -> torch.device:
    """'auto' (CUDA when present), 'cpu' or 'cuda'.  Inside a pytest-xdist worker, CUDA means that
    worker's own GPU (gw<i> -> cuda:<i mod visible GPUs>, lora_claims/gpus.py)."""
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


def decide(out: ClaimOutcome, failure_reverified: bool | None) -> tuple[Verdict, str]:
    """The verdict from the counts alone (pure).  ``failure_reverified``: None when no failure was
    found, else whether the failure reproduced in the float64 re-verification.  'held' needs the
    profile's minimum of conclusive examples (or an exhausted strategy), at most 20% inconclusive."""
    if out.error is not None:
        return Verdict.ERROR, f"the claim's code raised ({out.error['where']}): {out.error['message']}"
    if failure_reverified is True:
        return Verdict.FALSIFIED, out.note
    if failure_reverified is False:
        return Verdict.INCONCLUSIVE, ("numerical artefact: the failure did not reproduce in float64 on the CPU "
                                      "with tighter tolerances")
    if out.verdict is Verdict.INCONCLUSIVE:         # decided during the search (flaky)
        return out.verdict, out.note
    n = out.conclusive
    if n == 0:
        return Verdict.INCONCLUSIVE, "no conclusive example" + (" (the premise never arose)" if out.vacuous else "")
    if out.inconclusive > MAX_INCONCLUSIVE_FRACTION * (out.examples - out.vacuous):
        return Verdict.INCONCLUSIVE, f"{out.inconclusive} of {out.examples} examples inconclusive"
    if n < out.min_conclusive and not out.exhausted:
        why = f"budget ran out after {out.examples} examples" if out.budget_spent else \
            f"stopped after {out.examples} examples"
        return Verdict.INCONCLUSIVE, (f"under-searched: {n} conclusive examples, the profile needs "
                                      f"{out.min_conclusive} ({why})")
    note = f"{n} conclusive examples, 0 violations; violation rate < {violation_rate_bound(n):.3g} (95%)"
    if out.exhausted and n < out.min_conclusive:
        note += f"; exhaustive: Hypothesis found no further distinct instances (needs {out.min_conclusive} otherwise)"
    if out.budget_spent:
        note += f"; budget ran out after {out.examples} examples"
    return Verdict.HELD, note


def _current_point(margin: float) -> Point | None:
    """The running Hypothesis example's choice sequence (for the optimiser), or None where unavailable."""
    try:
        from hypothesis.control import current_build_context
        choices, kinds = describe(current_build_context().data.nodes)
    except Exception:                    # pragma: no cover - a Hypothesis without choice nodes
        return None
    return Point(choices, kinds, margin)


class ClaimSearch:
    """One claim's search: curated examples (:meth:`start`), seeded Hypothesis runs (:meth:`search`, callable
    again to continue, as a budgeted campaign does), then the re-verification of a failure and the verdict
    (:meth:`finish`, via the pure :func:`decide`).  Owns the evaluation context."""

    def __init__(self, claim: Claim, profile: Profile, device, dtype, seed: int, budget: float | None,
                 recorder, database, progress, timeout: float | None, observe_dir, solves: SolveMemo | None = None):
        profile = for_device(profile, torch.device(device))
        self.claim, self.profile, self.seed = claim, profile, seed
        self.ctx = EvalContext(torch.device(device), dtype, solves=SolveMemo() if solves is None else solves)
        self.recorder, self.database, self.progress = recorder, database, progress
        self.timeout = profile.example_timeout if timeout is None else timeout
        # a killable child process where the profile asks for one (isolate.py), else in-process
        self.evaluate = shared_worker(profile).evaluate if profile.isolate else evaluate_safely
        self.observe_dir = observe_dir
        self.out = ClaimOutcome(claim, Verdict.HELD, min_conclusive=max(1, int(profile.min_conclusive)))
        self.budget = budget
        self.deadline: float | None = None
        self.enough: int | None = None       # stop runs at this many conclusive examples (phase 1 of a budget)
        self.failing = False                 # Hypothesis is shrinking a failure
        self.first_fail: tuple[dict, Evidence] | None = None
        self.last_fail: tuple[dict, Evidence] | None = None
        self.failure: tuple[dict, Evidence] | None = None
        self.failure_seed: int | None = None
        self.next_run = 0
        self.search_calls = 0                # examples Hypothesis generated, over all runs
        self.stopped = False                 # nothing more to search (failure, error, flaky, exhausted, cap)
        self.started = False
        self.strategy = None
        self.spent = 0.0
        self.points: list[Point] = []        # conclusive search examples in choice space (for the optimiser)
        self.replayed: dict = {}             # choices -> margin of the optimiser's last replayed candidates
        self.optimised = False
        self.failure_origin = "search"
        self.drawn: list[dict] = []          # what the strategy drew (search and optimiser), for coverage

    # -- bookkeeping of one evaluated example
    def observe(self, drawn: dict, ev: Evidence, secs: float, origin: str) -> None:
        out = self.out
        out.examples += 1
        if origin in ("search", "optimiser"):
            self.drawn.append(drawn)
        st = ev.status
        if st == "pass":
            out.passed += 1
        elif st == "fail":
            out.failed += 1
        elif st == "vacuous":
            out.vacuous += 1
            out.reasons["vacuous: " + (ev.why or "")[:70]] += 1
        elif st == "error":
            out.errors += 1
        else:
            out.inconclusive += 1
            out.reasons[(ev.why or "inconclusive").split(":")[0][:80]] += 1
        row = None
        if self.recorder is not None:
            row = self.recorder(claim=self.claim, drawn=drawn, evidence=ev, seconds=secs,
                                device=str(self.ctx.device), dtype=self.ctx.dtype_name, origin=origin)
        if st in ("pass", "fail") and (out.worst_margin is None or ev.margin < out.worst_margin):
            out.worst_margin = ev.margin
            out.closest = {"drawn": drawn, "margin": ev.margin, "binding": ev.binding,
                           "measured": jsonable(ev.measured), "example_id": row}
        if st == "error" and out.error is None:
            out.error = {"where": "evaluate", "message": ev.why, "traceback": ev.error, "drawn": drawn,
                         "example_id": row}
        if self.progress is not None:
            self.progress(out)

    def run_one(self, drawn: dict, origin: str) -> Evidence:
        ev, secs = self.evaluate(self.claim, drawn, self.ctx, self.timeout)
        self.observe(drawn, ev, secs, origin)
        return ev

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    def _error(self, where: str, exc: BaseException) -> None:
        if self.out.error is None:
            self.out.error = {"where": where, "message": f"{type(exc).__name__}: {exc}",
                              "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
                              "drawn": None}
        self.stopped = True

    # -- the phases
    def start(self) -> None:
        """Replay the curated examples; build the strategy (an error there is the claim's error)."""
        if self.started:
            return
        self.started = True
        t0 = time.perf_counter()
        try:
            for drawn in self.claim.examples:
                ev = self.run_one(dict(drawn), "curated")
                if ev.status == "error":
                    self.stopped = True
                    break
                if ev.status == "fail":
                    self.failure, self.stopped = (dict(drawn), ev), True
                    break
            if not self.stopped:
                try:
                    self.strategy = self.claim.strategy(self.profile)
                except Exception as exc:
                    self._error("strategy", exc)
        finally:
            self.spent += time.perf_counter() - t0

    def hypothesis_run(self, k: int, *, origin: str = "search", phases=None, database=None,
                       max_examples: int | None = None) -> tuple[str, tuple[dict, Evidence] | None]:
        """One seeded Hypothesis run: ('done' | 'exhausted' | 'enough' | 'budget' | 'flaky' | 'error', None)
        or ('failure', (drawn, ev)).  The optimiser's runs replay candidates from ``database`` (``phases``
        reuse + shrink) under ``origin='optimiser'``."""
        per_run = max_examples or max(1, math.ceil(self.profile.max_examples / self.profile.runs))
        calls = [0]
        track = bool(self.profile.optimiser_evals)

        def check(drawn):
            if self.out_of_time():
                raise _OutOfBudget()
            if not self.failing and self.enough is not None and self.out.conclusive >= self.enough:
                raise _Enough()
            calls[0] += 1
            if origin == "search":
                self.search_calls += 1
            ev = self.run_one(drawn, origin)
            if ev.status == "error":
                raise _Errored()
            if track and ev.status in ("pass", "fail") and math.isfinite(ev.margin):
                point = _current_point(ev.margin)
                if point is not None:
                    self.replayed[point.choices] = ev.margin
                    if origin == "search":
                        self.points.append(point)
            for e in ev.events:
                event(e)
            if ev.status in ("pass", "fail"):
                target(-ev.margin, label="negative margin")
            if ev.status == "fail":
                self.failing = True
                if self.first_fail is None:
                    self.first_fail = (drawn, ev)
                self.last_fail = (drawn, ev)
                raise _Counterexample(drawn, ev)

        check.__name__ = check.__qualname__ = self.claim.id.replace(".", "_")
        body = settings(max_examples=per_run, deadline=None,
                        database=self.database if database is None else database,
                        phases=self.profile.phases if phases is None else phases,
                        derandomize=False, report_multiple_bugs=False, print_blob=False,
                        suppress_health_check=list(HealthCheck))(hseed(self.seed * 1000 + k)(given(self.strategy)(check)))
        body._hypothesis_internal_database_key = self.claim.id.encode()   # one database entry per claim
        try:
            with observing(self.observe_dir, self.claim.id), source_independent_draws():
                body()
        except _OutOfBudget:
            if self.last_fail is not None:     # the budget ran out while shrinking: keep the smallest so far
                self.out.note = "not fully shrunk: the budget ran out while shrinking"
                return "failure", self.last_fail
            return "budget", None
        except _Enough:
            return "enough", None
        except _Errored:
            return "error", None
        except _Counterexample as ce:
            return "failure", (ce.drawn, ce.evidence)
        except Flaky as exc:
            self.record_flaky(exc)
            return "flaky", None
        except Exception as exc:  # Hypothesis' own errors, or the strategy raising while drawing
            if type(exc).__name__ == "Unsatisfiable":
                return "done", None
            self._error("strategy (while drawing)", exc)
            return "error", None
        return ("exhausted" if calls[0] < per_run else "done"), None

    def search(self, deadline: float | None = None, enough: int | None = None) -> None:
        """Seeded Hypothesis runs from the next seed on: the profile's runs, then more while the minimum of
        conclusive examples is not reached (up to cap_factor x max_examples).  ``enough``: stop once that many
        examples are conclusive (a budgeted campaign's first pass); ``deadline``: a wall-clock stop."""
        self.start()
        self.deadline, self.enough = deadline, enough
        out, prof = self.out, self.profile
        cap = max(prof.max_examples, prof.cap_factor * prof.max_examples)
        planned = prof.runs * max(1, math.ceil(prof.max_examples / prof.runs))   # the profile's runs, full
        t0 = time.perf_counter()
        try:
            while not self.stopped:
                if enough is not None and out.conclusive >= enough:
                    return
                if self.out_of_time():
                    out.budget_spent = True
                    return
                if self.search_calls >= planned and (out.conclusive >= out.min_conclusive or out.examples >= cap):
                    if prof.optimiser_evals and not self.optimised:
                        self.optimise(k=self.next_run)
                        self.next_run += 1
                        continue
                    self.stopped = True
                    return
                k = self.next_run
                self.next_run += 1
                status, found = self.hypothesis_run(k)
                if status == "budget":
                    out.budget_spent = True
                    return
                if status in ("flaky", "error"):
                    self.stopped = True
                elif status == "exhausted":
                    out.exhausted, self.stopped = True, True
                elif status == "failure":
                    self.failure, self.failure_seed, self.stopped = found, self.seed * 1000 + k, True
        finally:
            self.spent += time.perf_counter() - t0

    def optimise(self, k: int) -> None:
        """CMA-ES from the lowest-margin search examples, ``profile.optimiser_evals`` candidates in all;
        each population is replayed by Hypothesis (reuse + shrink phases) from an in-memory database, so a
        failing candidate is shrunk and then re-verified like any failure (lora_claims/optimise.py)."""
        from hypothesis import Phase
        from hypothesis.database import InMemoryExampleDatabase, choices_to_bytes

        self.optimised = True
        starts = sorted(self.points, key=lambda p: p.margin)[:1 if self.profile.optimiser_evals < 100 else 2]
        if not starts:
            return
        key = self.claim.id.encode()
        per_start = max(1, self.profile.optimiser_evals // len(starts))
        for si, start in enumerate(starts):
            space = ChoiceSpace(start)
            if space.dim == 0:
                continue
            popsize = max(6, 4 + int(3 * math.log(max(space.dim, 2))))
            space, es = cma_strategy(start, self.seed * 7919 + k * 31 + si, popsize)
            spent = 0
            while spent + popsize <= per_start:
                if self.stopped or self.out_of_time():
                    return
                X = es.ask()
                cands = [space.decode(x[:space.dim]) for x in X]
                db = InMemoryExampleDatabase()
                for c in cands:
                    db.save(key, choices_to_bytes(c))
                self.replayed = {}
                status, found = self.hypothesis_run(k, origin="optimiser", phases=(Phase.reuse, Phase.shrink),
                                                    database=db, max_examples=len(cands))
                spent += len(cands)
                if status == "failure":
                    self.failure, self.failure_seed, self.stopped = found, self.seed * 1000 + k, True
                    self.failure_origin = "optimiser"
                    if self.database is not None:         # the shrunk failure is replayed first next time
                        for value in db.fetch(key):
                            self.database.save(key, value)
                    return
                if status == "budget":
                    self.out.budget_spent = True
                    return
                if status in ("flaky", "error"):
                    self.stopped = True
                    return
                es.tell(X, [fitness(self.replayed.get(c)) for c in cands])

    def record_flaky(self, exc: Exception) -> None:
        out = self.out
        out.reasons["flaky: " + type(exc).__name__] += 1
        out.note = "flaky: a failure did not replay: " + str(exc).splitlines()[0]
        out.verdict = Verdict.INCONCLUSIVE
        if self.first_fail is not None:
            drawn, first = self.first_fail
            again, _ = self.evaluate(self.claim, drawn, self.ctx, self.timeout)
            out.flaky = {"drawn": drawn, "first": _evaluation(first, self.ctx),
                         "second": _evaluation(again, self.ctx)}

    def reverify(self, drawn: dict, ev: Evidence, hypothesis_seed: int | None) -> bool | None:
        """Re-run a failure in float64 on the CPU with tight tolerances; record what it showed.
        None when the re-verification itself raised (the claim's error)."""
        rctx = self.ctx.tightened()
        confirm, secs = self.evaluate(self.claim, drawn, rctx, self.timeout)
        if self.recorder is not None:          # recorded beside the examples, not counted as one
            self.recorder(claim=self.claim, drawn=drawn, evidence=confirm, seconds=secs, device=str(rctx.device),
                          dtype=rctx.dtype_name, origin="reverify")
        if confirm.status == "error":
            self.out.error = {"where": "re-verification", "message": confirm.why, "traceback": confirm.error,
                              "drawn": drawn}
            return None
        record = {"claim": self.claim.id, "drawn": drawn, "margin": ev.margin, "binding": ev.binding,
                  "measured": jsonable(ev.measured), "seed": self.seed, "hypothesis_seed": hypothesis_seed,
                  "origin": "curated" if hypothesis_seed is None else self.failure_origin, "device": str(self.ctx.device),
                  "dtype": self.ctx.dtype_name, "profile": self.profile.name, "versions": versions(),
                  "source": self.claim.source,
                  "reverified": _evaluation(confirm, rctx)}
        if confirm.status == "fail":
            self.out.counterexample = record
            return True
        self.out.reasons["numerical artefact"] += 1
        self.out.artefact = {"claim": self.claim.id, "drawn": drawn, "seed": self.seed,
                             "search": _evaluation(ev, self.ctx), "reverified": record["reverified"]}
        return False

    def finish(self) -> ClaimOutcome:
        out = self.out
        t0 = time.perf_counter()
        reverified = None
        if self.failure is not None and out.error is None:
            reverified = self.reverify(*self.failure, self.failure_seed)
        out.verdict, out.note = decide(out, reverified)
        domain = declared_domain(self.strategy) if self.strategy is not None else None
        if domain:
            out.coverage = coverage(domain, self.drawn)
        self.spent += time.perf_counter() - t0
        out.seconds = self.spent
        return out

    def skipped(self) -> ClaimOutcome | None:
        why = self.claim.missing()
        if why is None:
            return None
        self.out.verdict, self.out.note = Verdict.SKIPPED, why
        return self.out

    def run(self) -> ClaimOutcome:
        """The whole search in one go (``budget`` seconds, if given, from now)."""
        if (skip := self.skipped()) is not None:
            return skip
        self.search(None if self.budget is None else time.perf_counter() + self.budget)
        return self.finish()


def falsify_claim(claim: Claim, profile: Profile, device: torch.device | str = "cpu",
                  dtype=torch.float64, seed: int = 0, budget: float | None = None,
                  recorder: Callable[..., Any] | None = None, database=None,
                  progress: Callable[[ClaimOutcome], None] | None = None,
                  timeout: float | None = None, observe_dir=None, solves: SolveMemo | None = None) -> ClaimOutcome:
    """Search for a counterexample to ``claim``; returns its outcome (verdict, worst margin...).

    ``budget``: seconds for this claim; ``timeout``: per-example limit (default: the profile's);
    ``database``: a Hypothesis example database (failures are replayed first next time);
    ``observe_dir``: folder for Hypothesis's observability JSONL; ``solves``: the campaign's solve memo
    (shared by claims that evaluate the same instances; a fresh one when None).
    """
    return ClaimSearch(claim, profile, device, dtype, seed, budget, recorder, database, progress,
                       timeout, observe_dir, solves).run()


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
