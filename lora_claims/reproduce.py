"""`lora-claims reproduce`: re-run one recorded example (an exported counterexample file, or an example id
in the store) and say whether it reproduced.

The drawn values are checked against the claim's declared domain first (the same declaration its strategy
promises and the coverage check holds it to: strategies/domain.py), so a hand-edited file is never evaluated
outside the claim's assumptions; the store is opened read-only; the re-run is held to the profile's
per-example limit.  Reproduced means the re-run has the recorded status (a counterexample: it fails again).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from . import catalog
from .profiles import PROFILES, Profile, for_device
from .isolate import EvalWorker
from .store import Store
from .strategies.domain import declared_domain, outside
from .theorems.claim import Claim
from .theorems.context import EvalContext


class BadCounterexample(ValueError):
    """The file, the example id or its drawn values cannot be reproduced (exit 2, one line)."""


def load(text: str, results: str) -> dict:
    """The record to reproduce: a counterexample file's JSON, or an example row of the store at ``results``
    as {claim, drawn, source, status, margin, binding, profile}."""
    p = Path(text)
    if p.exists():
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadCounterexample(f"cannot read counterexample file {p}: {exc}") from None
        if not isinstance(doc, dict) or "claim" not in doc or not isinstance(doc.get("drawn"), dict):
            raise BadCounterexample(f"{p} is not a lora-claims counterexample (needs 'claim' and 'drawn')")
        doc.setdefault("status", "fail")          # an exported counterexample failed, re-verified
    elif text.isdigit():
        store = Store(results, create=False, readonly=True)
        try:
            row = store.example(int(text))
            meta = store.claim_metadata()
            runs = {r["id"]: r for r in store.runs()}
        finally:
            store.close()
        if row is None:
            raise BadCounterexample(f"no example {text} in {results}")
        doc = {"claim": row["claim_id"], "drawn": row["drawn"], "source": meta.get(row["claim_id"], {}).get("source"),
               "status": row["status"], "margin": row["margin"], "binding": row["binding"],
               "profile": runs.get(row["run_id"], {}).get("profile")}
    else:
        raise BadCounterexample(f"{text} is neither a counterexample file nor an example id")
    if not isinstance(doc["claim"], str):
        raise BadCounterexample(f"the counterexample's claim id must be a string, got {doc['claim']!r}")
    return doc


def resolve(doc: dict, claims=()) -> Claim:
    """The claim of a record, loading the module it was declared in when it is not loaded yet."""
    catalog.load(claims)
    if doc["claim"] not in catalog.REGISTRY and isinstance(doc.get("source"), str):
        catalog.load_source(doc["source"])
    return catalog.get(doc["claim"])


def check_drawn(claim: Claim, drawn: dict) -> None:
    """Raise BadCounterexample unless ``drawn`` is one of the claim's curated examples or lies in its declared
    domain under some profile, on a CPU or a GPU (the profiles differ in sizes and batch)."""
    if any(drawn == ex for ex in claim.examples):
        return
    found = []
    cuda = torch.device("cuda")
    for profile in [*PROFILES.values(), *(for_device(p, cuda) for p in PROFILES.values() if p.get("cuda"))]:
        try:
            domain = declared_domain(claim.strategy(profile))
        except Exception:                  # a strategy that cannot be built here (a missing extra)
            continue
        if domain is None:
            continue
        problems = outside(domain, drawn)
        if not problems:
            return
        found.append((profile.name, problems))
    if found:
        name, problems = min(found, key=lambda f: len(f[1]))
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise BadCounterexample(f"the drawn values are outside {claim.id}'s domain: {problems[0]}{more}; "
                                f"closest profile: {name}")


def rerun(claim: Claim, doc: dict, device: torch.device, profile: Profile, limit: float | None = None) -> dict:
    """Evaluate the record's drawn values once, float64, in a killable child process (isolate.py), so the
    limit (``limit`` seconds, else the profile's per-example limit) holds even for a call into native code."""
    limit = profile.example_timeout if limit is None else limit
    worker = EvalWorker(profile.get("threads"))
    try:
        ev, secs = worker.evaluate(claim, doc["drawn"], EvalContext(device, torch.float64), limit)
    finally:
        worker.close()
    if ev.status == "error":          # drawn values that do not fit the claim (or a bug in it)
        raise BadCounterexample(f"the drawn values do not fit {claim.id}: evaluating them raised "
                                f"{ev.why[len('error: '):]}")
    recorded = {"status": doc.get("status"), "margin": doc.get("margin"), "binding": doc.get("binding")}
    again = {"status": ev.status, "margin": ev.margin, "binding": ev.binding, "reason": ev.why,
             "measured": ev.measured, "seconds": round(secs, 3), "device": str(device), "dtype": "float64",
             "time_limit": limit}
    return {"claim": claim.id, "kind": claim.kind, "drawn": doc["drawn"], "recorded": recorded, "rerun": again,
            "reproduced": ev.status == recorded["status"], "profile": profile.name}


def _row(label: str, r: dict) -> str:
    m = r.get("margin")
    margin = "margin " + (f"{m:+.6g}" if isinstance(m, (int, float)) else "–")
    tail = f"  ({r['binding']})" if r.get("binding") else ""
    return f"  {label:<9}{str(r.get('status')):<13}{margin}{tail}"


def describe(res: dict) -> str:
    """The result in words: the verdict, then the recorded and the re-run evaluation side by side."""
    rec, again = res["recorded"], res["rerun"]
    verb = {"fail": "fails", "pass": "passes"}.get(again["status"], f"is {again['status']}")
    head = (f"reproduced: {res['claim']} ({res['kind']}) {verb} again" if res["reproduced"] else
            f"NOT reproduced: {res['claim']} ({res['kind']}) was recorded {rec['status']}, the re-run is "
            f"{again['status']}")
    if again["status"] == "inconclusive" and again.get("reason"):
        head += f" ({again['reason']})"
    return "\n".join([head, _row("recorded", rec), _row("re-run", again),
                      f"  re-run on {again['device']}, {again['dtype']}, {again['seconds']:.2f} s "
                      + (f"(limit {again['time_limit']:g} s, " if again["time_limit"] else "(no time limit, ")
                      + f"profile {res['profile']})"])
