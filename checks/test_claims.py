"""One generic check per registered claim (PyTorch OpInfo style): no per-paper glue.

A theorem or lemma passes when the search finds no counterexample (verdict 'held'); a control
(a deliberately wrong mutant) passes when the same harness falsifies it; an experiment passes when it was
measured (its finding, reproduced or not, is reported beside the paper's figure).
"""
from __future__ import annotations

import json

import pytest

from lora_claims.theorems.claim import Verdict
from lora_claims.runner import run_and_record


def test_claim(claim, claims_profile, claims_device, claims_seed, claims_store):
    why = claim.missing()
    if why is not None:
        pytest.skip(f"{claim.id}: {why}")
    store, run_id, extras = claims_store
    out, summary = run_and_record(claim, claims_profile, claims_device, claims_seed, store, run_id, **extras)
    detail = json.dumps({k: summary[k] for k in ("verdict", "examples", "conclusive", "inconclusive", "worst_margin",
                                                 "note", "reasons", "counterexample")}, indent=1, default=str)
    if summary["error"]:
        pytest.fail(f"{claim.id}: the claim's code raised ({summary['error']['where']}):\n{summary['error']['traceback']}")
    if claim.is_experiment:       # a finding, reproduced or not: it must have been measured, not undecided
        assert out.verdict in (Verdict.HELD, Verdict.FALSIFIED), f"experiment {claim.id} not measured\n{detail}"
        return
    if claim.is_control:
        assert out.verdict is Verdict.FALSIFIED, f"control {claim.id} was not falsified: the harness lacks power\n{detail}"
        assert out.counterexample is not None
    else:
        assert out.verdict is not Verdict.FALSIFIED, f"{claim.id} FALSIFIED\n{detail}"
        assert out.verdict is Verdict.HELD, f"{claim.id} {out.verdict.value} under profile {claims_profile.name}\n{detail}"
        assert out.conclusive >= claims_profile.min_conclusive or out.exhausted, detail
