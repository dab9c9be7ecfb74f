"""lora_claims/search.py: falsify_claim, the one evaluation path, on tiny toy claims.

The toy claims are built here and never registered: they do not leak into the global registry.
"""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import strategies as st

from lora_claims import catalog
from lora_claims.theorems import claim as claims
from lora_claims.theorems.context import TIGHT_FACTOR
from lora_claims.theorems.claim import Claim, Evidence, NumericalFailure, Verdict
from lora_claims.profiles import PROFILES, Profile
from lora_claims.search import falsify_claim

QUICK = Profile("quick", max_examples=40, runs=1, database=False, target=False, device="cpu")
TWO_RUNS = Profile("two", max_examples=40, runs=2, database=False, target=True, device="cpu")


def ints(lo=0, hi=1000):
    return lambda profile: st.fixed_dictionaries({"x": st.integers(lo, hi)})


def toy(evaluate, *, id="toy.c", kind="lemma", strategy=None, examples=()) -> Claim:
    return Claim(id=id, paper="Toy", theorem="T0", statement="toy", assumptions="none", kind=kind,
                 provenance="derived", strategy=strategy or ints(), evaluate=evaluate,
                 examples=tuple(examples))


def x_below_50(drawn, ctx):
    return Evidence((49 - drawn["x"]) / 1000, {"x": drawn["x"]})


def x_nonneg(drawn, ctx):
    return Evidence(drawn["x"] / 1000 + 0.0)


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, **kw):
        self.calls.append(kw)


# ---------------------------------------------------------------- verdicts

def test_true_claim_is_held():
    rec = Recorder()
    out = falsify_claim(toy(x_nonneg), QUICK, recorder=rec)
    assert out.verdict is Verdict.HELD
    assert out.ok
    assert out.worst_margin is not None and out.worst_margin >= 0
    assert out.examples > 0 and out.passed == out.examples
    assert out.failed == 0 and out.inconclusive == 0
    assert out.counterexample is None
    assert out.closest["margin"] == out.worst_margin
    assert out.summary()["verdict"] == "held"


def test_false_claim_is_falsified_and_shrunk_to_the_boundary():
    out = falsify_claim(toy(x_below_50), QUICK)
    assert out.verdict is Verdict.FALSIFIED
    assert not out.ok
    assert out.counterexample is not None
    assert out.counterexample["drawn"] == {"x": 50}
    assert out.counterexample["claim"] == "toy.c"
    assert out.counterexample["margin"] < 0
    assert out.worst_margin < 0
    s = out.summary()
    assert s["verdict"] == "falsified" and s["counterexample"]["drawn"] == {"x": 50}


def test_falsified_with_ci_profile_too():
    out = falsify_claim(toy(x_below_50), PROFILES["ci"])
    assert out.verdict is Verdict.FALSIFIED
    assert out.counterexample["drawn"] == {"x": 50}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_margin_is_inconclusive_never_held(bad):
    out = falsify_claim(toy(lambda d, ctx: Evidence(bad)), QUICK)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.verdict is not Verdict.HELD
    assert out.passed == 0 and out.failed == 0
    assert out.inconclusive == out.examples > 0
    assert out.worst_margin is None
    assert out.counterexample is None
    assert out.note
    assert sum(out.reasons.values()) == out.inconclusive


def test_mostly_nan_is_inconclusive_not_held():
    # NaN for most of the range: too many inconclusive examples to call the claim held
    def ev(d, ctx):
        return Evidence(math.nan if d["x"] > 100 else 1.0)
    out = falsify_claim(toy(ev), QUICK)
    assert out.inconclusive > 0
    assert out.verdict is Verdict.INCONCLUSIVE


def test_numerical_failure_is_inconclusive():
    def ev(d, ctx):
        raise NumericalFailure("gradient descent did not converge")
    out = falsify_claim(toy(ev), QUICK)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.inconclusive == out.examples > 0
    assert any("NumericalFailure" in r for r in out.reasons)


def test_linalg_error_is_inconclusive():
    def ev(d, ctx):
        torch.linalg.cholesky(-torch.eye(2, dtype=ctx.dtype))
        return Evidence(1.0)
    out = falsify_claim(toy(ev), QUICK)
    assert out.verdict is Verdict.INCONCLUSIVE


def test_numerical_failure_in_float64_reverification_is_not_a_counterexample():
    def ev(d, ctx):
        if ctx.dtype == torch.float64:
            raise NumericalFailure("did not converge")
        return Evidence(-1.0)
    out = falsify_claim(toy(ev), QUICK, dtype=torch.float32)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.counterexample is None


# ---------------------------------------------------------------- controls

def test_falsified_control_is_ok():
    out = falsify_claim(toy(x_below_50, kind="control"), QUICK)
    assert out.verdict is Verdict.FALSIFIED
    assert out.ok is True
    assert out.summary()["ok"] is True


def test_control_that_holds_is_not_ok():
    out = falsify_claim(toy(x_nonneg, kind="control"), QUICK)
    assert out.verdict is Verdict.HELD
    assert out.ok is False


def test_inconclusive_control_is_not_ok():
    out = falsify_claim(toy(lambda d, ctx: Evidence(math.nan), kind="control"), QUICK)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.ok is False


@pytest.mark.parametrize("kind", ["theorem", "lemma"])
def test_theorem_ok_unless_falsified(kind):
    assert falsify_claim(toy(x_nonneg, kind=kind), QUICK).ok is True
    assert falsify_claim(toy(x_below_50, kind=kind), QUICK).ok is False


# ---------------------------------------------------------------- curated examples

def test_curated_examples_are_replayed_first():
    rec = Recorder()
    curated = [{"x": 7}, {"x": 3}]
    out = falsify_claim(toy(x_nonneg, examples=curated), QUICK, recorder=rec)
    assert out.verdict is Verdict.HELD
    assert [c["drawn"] for c in rec.calls[:2]] == curated
    assert [c["origin"] for c in rec.calls[:2]] == ["curated", "curated"]
    assert all(c["origin"] == "search" for c in rec.calls[2:])
    assert len(rec.calls) > 2


def test_failing_curated_example_falsifies_without_search():
    searched = []

    def ev(d, ctx):
        searched.append(d)
        return x_below_50(d, ctx)

    rec = Recorder()
    out = falsify_claim(toy(ev, examples=[{"x": 10}, {"x": 777}, {"x": 5}]), QUICK, recorder=rec)
    assert out.verdict is Verdict.FALSIFIED
    assert out.counterexample["drawn"] == {"x": 777}   # the curated instance, not a shrunk search one
    # stops at the first failure, then re-verifies it once
    assert [c["origin"] for c in rec.calls] == ["curated", "curated", "reverify"]
    assert searched == [{"x": 10}, {"x": 777}, {"x": 777}]
    assert out.examples == 2


def test_curated_example_is_not_mutated_by_the_run():
    curated = ({"x": 777},)
    c = toy(x_below_50, examples=curated)
    falsify_claim(c, QUICK)
    assert c.examples == ({"x": 777},)


# ---------------------------------------------------------------- re-verification in float64 on the CPU

def only_fails_in_float32(d, ctx):
    return Evidence(-1.0 if ctx.dtype is torch.float32 else 1.0)


def only_fails_off_cpu(d, ctx):
    return Evidence(-1.0 if ctx.device.type != "cpu" else 1.0)


def test_float32_only_failure_is_a_numerical_artefact():
    calls = []

    def ev(d, ctx):
        calls.append((ctx.device.type, ctx.dtype))
        return only_fails_in_float32(d, ctx)

    out = falsify_claim(toy(ev), QUICK, dtype=torch.float32)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.verdict is not Verdict.FALSIFIED
    assert "numerical artefact" in out.note
    assert out.counterexample is None
    assert ("cpu", torch.float64) in calls         # it was re-verified
    # the artefact carries both evaluations: the float32 failure and the float64 pass
    assert out.artefact["search"]["status"] == "fail" and out.artefact["search"]["dtype"] == "float32"
    assert out.artefact["search"]["margin"] == -1.0
    assert out.artefact["reverified"]["status"] == "pass" and out.artefact["reverified"]["dtype"] == "float64"
    assert out.artefact["reverified"]["device"] == "cpu"
    assert out.summary()["artefact"] == out.artefact


def test_off_cpu_only_failure_is_a_numerical_artefact():
    # the 'meta' device stands in for an accelerator: anything that is not (cpu, float64)
    out = falsify_claim(toy(only_fails_off_cpu), QUICK, device="meta", dtype=torch.float64)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert "numerical artefact" in out.note
    assert out.counterexample is None


def test_float32_artefact_control_is_not_ok():
    out = falsify_claim(toy(only_fails_in_float32, kind="control"), QUICK, dtype=torch.float32)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.ok is False


def test_genuine_failure_in_float32_is_falsified_and_reverified():
    out = falsify_claim(toy(x_below_50), QUICK, dtype=torch.float32)
    assert out.verdict is Verdict.FALSIFIED
    assert out.counterexample["drawn"] == {"x": 50}
    assert out.counterexample["dtype"] == "float32"
    assert out.counterexample["reverified"]["margin"] < 0


def test_float64_cpu_failure_is_reevaluated_with_tight_tolerances():
    calls = []

    def ev(d, ctx):
        calls.append((d, ctx.tight, ctx.tolerance(1e-6)))
        return x_below_50(d, ctx)

    rec = Recorder()
    out = falsify_claim(toy(ev), QUICK, recorder=rec)
    assert out.verdict is Verdict.FALSIFIED
    assert out.counterexample["reverified"]["status"] == "fail"
    assert len(calls) == len(rec.calls) == out.examples + 1
    assert [c["origin"] for c in rec.calls].count("reverify") == 1
    assert all(not tight for _, tight, _ in calls[:-1])
    assert calls[-1][0] == {"x": 50} and calls[-1][1] is True
    assert calls[-1][2] == pytest.approx(1e-6 * TIGHT_FACTOR)
    assert not any(tight for _, tight, _ in calls[:-1])


def test_failure_only_at_loose_tolerance_is_an_artefact():
    # a solver whose loose stopping rule leaves an error that looks like a violation
    def ev(d, ctx):
        return Evidence(0.5 - ctx.tolerance(1.0))
    out = falsify_claim(toy(ev), QUICK)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.artefact["search"]["margin"] == -0.5
    assert out.artefact["reverified"]["margin"] == pytest.approx(0.49)


# ---------------------------------------------------------------- recorder

def test_recorder_is_called_once_per_evaluated_example():
    seen = []

    def ev(d, ctx):
        e = x_below_50(d, ctx)
        seen.append((dict(d), e))
        return e

    rec = Recorder()
    out = falsify_claim(toy(ev, examples=[{"x": 1}]), QUICK, recorder=rec)
    # the search evaluates once per recorder call; the last call is the re-verification
    assert rec.calls[-1]["origin"] == "reverify"
    rec.calls, seen = rec.calls[:-1], seen[:-1]
    assert len(rec.calls) == out.examples == len(seen)
    assert out.passed + out.failed + out.inconclusive == out.examples
    for call, (drawn, ev_) in zip(rec.calls, seen):
        assert call["drawn"] == drawn
        assert call["evidence"] is ev_
        assert call["claim"].id == "toy.c"
        assert call["device"] == "cpu" and call["dtype"] == "float64"
        assert call["seconds"] >= 0
        assert call["origin"] in ("curated", "search")
    assert sum(c["evidence"].status == "fail" for c in rec.calls) == out.failed


def test_recorder_sees_inconclusive_evidence():
    rec = Recorder()
    falsify_claim(toy(lambda d, ctx: Evidence(math.nan)), QUICK, recorder=rec)
    assert rec.calls and all(c["evidence"].status == "inconclusive" for c in rec.calls)


def test_progress_callback_is_called():
    seen = []
    out = falsify_claim(toy(x_nonneg), QUICK, progress=lambda o: seen.append(o.examples))
    assert seen and seen[-1] == out.examples


# ---------------------------------------------------------------- determinism

def _trace(seed, profile=TWO_RUNS):
    strategy = lambda p: st.fixed_dictionaries(
        {"x": st.integers(0, 10**6), "f": st.floats(0.0, 1.0), "s": st.sampled_from(["a", "b", "c"])})
    rec = Recorder()
    ev = lambda d, ctx: Evidence(math.sin(d["x"]) + d["f"])
    falsify_claim(toy(ev, strategy=strategy), profile, seed=seed, recorder=rec)
    return [(c["drawn"], c["evidence"].margin) for c in rec.calls]


def test_same_seed_same_examples():
    a, b = _trace(3), _trace(3)
    assert a and a == b


def test_different_seed_different_examples():
    assert _trace(3) != _trace(4)


def test_same_seed_same_counterexample():
    a = falsify_claim(toy(x_below_50), TWO_RUNS, seed=11)
    b = falsify_claim(toy(x_below_50), TWO_RUNS, seed=11)
    assert a.counterexample["drawn"] == b.counterexample["drawn"] == {"x": 50}
    assert a.examples == b.examples


# ---------------------------------------------------------------- budget, isolation

def test_exhausted_budget_is_inconclusive_not_held():
    out = falsify_claim(toy(x_nonneg), QUICK, budget=0.0)
    assert out.verdict is not Verdict.HELD
    assert out.verdict is Verdict.INCONCLUSIVE


def test_toy_claims_do_not_leak_into_the_registry():
    ids = [c.id for c in catalog.all_claims()]
    assert "toy.c" not in ids


def test_failure_that_does_not_replay_is_inconclusive():
    calls = [0]

    def ev(d, ctx):
        calls[0] += 1
        return Evidence(-1.0 if calls[0] == 3 else 1.0)   # fails once, never again

    out = falsify_claim(toy(ev), QUICK)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.counterexample is None
    assert any(r.startswith("flaky") for r in out.reasons)
    # surfaced with its two evaluations: the failure and the replay that passed
    assert out.flaky["first"]["status"] == "fail" and out.flaky["first"]["margin"] == -1.0
    assert out.flaky["second"]["status"] == "pass"
