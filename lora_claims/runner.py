"""A falsification campaign: the selected claims under one profile, recorded into the results store.

Shared by ``lora-claims falsify`` and ``pytest checks/`` so both record the same things the same way:
every example, each claim's summary, an exported counterexample file, Hypothesis's example database
and observability JSONL beside the store.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import torch

from .theorems.claim import Claim
from .profiles import Profile
from .search import ClaimOutcome, falsify_claim
from .store import Store
from .theorems.context import SolveMemo


class Interrupted(BaseException):
    """A stop signal (SIGTERM) arrived: the run unwinds and is recorded as incomplete."""


_STOP: list[int] = []


def request_stop(signum: int) -> None:
    """Called from a signal handler: raise :class:`Interrupted` now and before any further outcome is
    recorded (Hypothesis may swallow the first one while replaying a failure, as a flaky error)."""
    _STOP.append(signum)
    raise Interrupted(signum)


def reset_stop() -> None:
    _STOP.clear()


def _check_stop() -> None:
    if _STOP:
        raise Interrupted(_STOP[0])


def example_database(results: str | Path):
    """Hypothesis's example database beside the store: failures found once are replayed first."""
    from hypothesis.database import DirectoryBasedExampleDatabase
    return DirectoryBasedExampleDatabase(str(Path(results).parent / "hypothesis-db"))


def observed_dir(results: str | Path) -> Path:
    """Where Hypothesis's observability JSONL goes (Tyche reads ``*_testcases.jsonl``)."""
    return Path(results).parent / "observed"


def run_and_record(claim: Claim, profile: Profile, device, seed: int, store: Store, run_id: int, *,
                   budget: float | None = None, database=None, observe_dir=None,
                   progress: Callable[[ClaimOutcome], None] | None = None,
                   solves: SolveMemo | None = None) -> tuple[ClaimOutcome, dict]:
    """Search one claim, record its examples and summary (with the claim's metadata, so the report can
    show it without its module); export its counterexample if any."""
    out = falsify_claim(claim, profile, device, torch.float64, seed, budget, recorder=store.recorder(run_id),
                        database=database, progress=progress, observe_dir=observe_dir, solves=solves)
    _check_stop()                     # an interrupted search is not an outcome
    summary = out.summary()
    summary["claim"] = claim.metadata()
    if summary["counterexample"] is not None:
        summary["counterexample"] = store.export_counterexample(
            dict(summary["counterexample"], statement=claim.statement, theorem=claim.theorem,
                 kind=claim.kind, paper=claim.paper, provenance=claim.provenance, profile=profile.name))
    store.record_outcome(run_id, summary)
    return out, summary


def campaign(selected: list[Claim], profile: Profile, device, seed: int, store: Store, run_id: int, *,
             budget: float | None = None, database=None, observe_dir=None,
             progress: Callable[[ClaimOutcome], None] | None = None,
             done: Callable[[dict], None] | None = None) -> list[dict]:
    """Every selected claim in turn; a budget is shared: each claim gets an equal part of what is left.
    One solve memo serves the campaign (claims drawing the same instances share their solves)."""
    t0 = time.perf_counter()
    solves = SolveMemo()
    summaries = []
    for i, c in enumerate(selected):
        share = None
        if budget is not None:
            share = max(0.0, budget - (time.perf_counter() - t0)) / (len(selected) - i)
        _, s = run_and_record(c, profile, device, seed, store, run_id, budget=share, database=database,
                              observe_dir=observe_dir, progress=progress, solves=solves)
        summaries.append(s)
        if done is not None:
            done(s)
    return summaries
