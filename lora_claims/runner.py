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

from .theorems.claim import Claim, Verdict
from .profiles import Profile
from .search import ClaimOutcome, ClaimSearch
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


def example_database(results: str | Path, shared: str | None = None):
    """Hypothesis's example database beside the store: failures found once are replayed first.  With
    ``shared`` (a Redis URL, ``--example-db``) it is multiplexed with that Redis database, so every host
    replays what any host found (lora_claims/exampledb.py)."""
    local = str(Path(results).parent / "hypothesis-db")
    if shared:
        from .exampledb import shared_database
        return shared_database(local, shared)
    from hypothesis.database import DirectoryBasedExampleDatabase
    return DirectoryBasedExampleDatabase(local)


def observed_dir(results: str | Path) -> Path:
    """Where Hypothesis's observability JSONL goes (Tyche reads ``*_testcases.jsonl``)."""
    return Path(results).parent / "observed"


def record(search: ClaimSearch, store: Store, run_id: int) -> dict:
    """Record a finished search's summary (with the claim's metadata, so the report can show it without its
    module); export its counterexample, if any, beside the store."""
    _check_stop()                     # an interrupted search is not an outcome
    claim, out = search.claim, search.out
    summary = out.summary()
    summary["claim"] = claim.metadata()
    if summary["counterexample"] is not None:
        summary["counterexample"] = store.export_counterexample(
            dict(summary["counterexample"], statement=claim.statement, theorem=claim.theorem,
                 kind=claim.kind, paper=claim.paper, provenance=claim.provenance, profile=search.profile.name))
    store.record_outcome(run_id, summary)
    return summary


def _search(claim: Claim, profile: Profile, device, seed: int, store: Store, run_id: int, *, database=None,
            observe_dir=None, progress=None, solves=None, budget=None) -> ClaimSearch:
    return ClaimSearch(claim, profile, device, torch.float64, seed, budget, store.recorder(run_id), database,
                       progress, None, observe_dir, solves)


def search_and_record(claim: Claim, profile: Profile, device, seed: int, store: Store, run_id: int, *,
                      deadline: float | None = None, database=None, observe_dir=None) -> dict:
    """One claim searched to the end (or to ``deadline``, a ``time.perf_counter()`` wall: a started example
    finishes, a failure found is re-verified) and recorded: a distributed campaign's task."""
    s = _search(claim, profile, device, seed, store, run_id, database=database, observe_dir=observe_dir)
    if s.skipped() is None:
        s.search(deadline)
        s.finish()
    return record(s, store, run_id)


def run_and_record(claim: Claim, profile: Profile, device, seed: int, store: Store, run_id: int, *,
                   budget: float | None = None, database=None, observe_dir=None,
                   progress: Callable[[ClaimOutcome], None] | None = None,
                   solves: SolveMemo | None = None) -> tuple[ClaimOutcome, dict]:
    """Search one claim to the end and record it."""
    s = _search(claim, profile, device, seed, store, run_id, database=database, observe_dir=observe_dir,
                progress=progress, solves=solves, budget=budget)
    out = s.run()
    return out, record(s, store, run_id)


# a budgeted campaign's first pass: rounds in which every claim still below its minimum of conclusive
# examples gets an equal share of what is left, before any claim gets more
MINIMUM_ROUNDS = 3


def campaign(selected: list[Claim], profile: Profile, device, seed: int, store: Store, run_id: int, *,
             budget: float | None = None, database=None, observe_dir=None,
             progress: Callable[[ClaimOutcome], None] | None = None,
             done: Callable[[dict], None] | None = None) -> list[dict]:
    """The selected claims under one profile.  Without a budget each claim is searched to the end in turn.
    With one, ``budget`` is a wall: first every claim is brought to the profile's minimum of conclusive
    examples (rounds sharing what is left equally among the claims still short), then what remains is
    shared among the claims in turn for the rest of their search; a search stops at the wall (a started
    example finishes, a failure found is re-verified).  One solve memo serves the campaign."""
    solves = SolveMemo()
    kw = dict(database=database, observe_dir=observe_dir, progress=progress, solves=solves)
    summaries = []
    if budget is None:
        for c in selected:
            s = _search(c, profile, device, seed, store, run_id, **kw)
            s.run()
            summaries.append(record(s, store, run_id))
            if done is not None:
                done(summaries[-1])
        return summaries
    wall = time.perf_counter() + budget
    searches = [_search(c, profile, device, seed, store, run_id, **kw) for c in selected]
    live = [s for s in searches if s.skipped() is None]
    for _ in range(MINIMUM_ROUNDS):
        short = [s for s in live if not s.stopped and s.out.conclusive < s.out.min_conclusive]
        for i, s in enumerate(short):
            left = wall - time.perf_counter()
            if left <= 0:
                break
            s.search(time.perf_counter() + left / (len(short) - i), enough=s.out.min_conclusive)
        if not short or time.perf_counter() >= wall:
            break
    for i, s in enumerate(searches):
        if s.out.verdict is not Verdict.SKIPPED:
            left = max(0.0, wall - time.perf_counter())
            s.search(time.perf_counter() + left / (len(searches) - i))
            s.finish()
        summaries.append(record(s, store, run_id))
        if done is not None:
            done(summaries[-1])
    return summaries
