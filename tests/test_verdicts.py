"""Honest verdicts (issue 14): 'held' only at the profile's minimum of conclusive examples, with the
violation-rate bound it can quote; under-searched is inconclusive; the budget is a wall shared so every
claim reaches its minimum first; an erroring claim is isolated; each exit code of the CLI contract."""
from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import strategies as st

from lora_claims.profiles import Profile
from lora_claims.runner import campaign
from lora_claims.search import ClaimOutcome, decide, exit_code, falsify_claim
from lora_claims.store import Store
from lora_claims.theorems.claim import Claim, Evidence, Verdict, violation_rate_bound

from test_cli import cli


def toy(evaluate, id="toyv.c", kind="lemma", strategy=None, reference=""):
    return Claim(id=id, paper="Toy", theorem="T", statement="toy", assumptions="none", kind=kind,
                 provenance="derived", evaluate=evaluate, reference=reference,
                 strategy=strategy or (lambda p: st.fixed_dictionaries({"x": st.integers(0, 10**6)})))


def profile(max_examples=4, runs=1, min_conclusive=6, cap_factor=4, timeout=None):
    return Profile("v", max_examples=max_examples, runs=runs, database=False, target=False, device="cpu",
                   min_conclusive=min_conclusive, cap_factor=cap_factor, example_timeout=timeout)


def passes(d, ctx):
    return Evidence(1.0)


def test_violation_bound_is_the_exact_zero_failure_bound():
    for n in (1, 3, 8, 60, 1000):
        b = violation_rate_bound(n)
        assert math.isclose((1 - b) ** n, 0.05, rel_tol=1e-12)        # P(0 violations | rate = b) = 5%
    assert violation_rate_bound(0) == 1.0
    assert abs(violation_rate_bound(1000) - 3 / 1000) < 2e-4           # the rule of three


def test_held_only_at_the_minimum_the_search_goes_on_to_reach_it():
    out = falsify_claim(toy(passes), profile(max_examples=4, min_conclusive=10))
    assert out.verdict is Verdict.HELD and out.conclusive >= 10         # past max_examples, up to the cap
    assert out.violation_bound == pytest.approx(violation_rate_bound(out.conclusive))
    assert f"{out.conclusive} conclusive examples, 0 violations" in out.note


def test_a_premise_that_never_arises_is_not_held():
    def vacuous(d, ctx):
        return Evidence.vacuously("no premise")
    out = falsify_claim(toy(vacuous), profile(max_examples=4, min_conclusive=3, cap_factor=2))
    assert out.verdict is Verdict.INCONCLUSIVE and out.note == "no conclusive example (the premise never arose)"
    assert out.expectation == "undecided" and out.examples == 8


def test_under_searched_names_its_count():
    calls = []

    def some_vacuous(d, ctx):
        calls.append(1)
        return Evidence(1.0) if len(calls) % 4 == 0 else Evidence.vacuously("no premise")
    out = falsify_claim(toy(some_vacuous), profile(max_examples=4, min_conclusive=5, cap_factor=2))
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.conclusive == 2 and out.examples == 8                   # the cap: 2 x max_examples
    assert out.note.startswith("under-searched: 2 conclusive examples, the profile needs 5")
    assert out.under_searched and out.summary()["under_searched"] is True


def test_an_exhausted_strategy_is_held_and_says_exhaustive():
    out = falsify_claim(toy(passes, strategy=lambda p: st.just({"x": 1})), profile(min_conclusive=5))
    assert out.verdict is Verdict.HELD and out.exhausted and out.conclusive == 1
    assert "exhaustive" in out.note


@pytest.mark.parametrize("counts,expect", [
    (dict(passed=2), Verdict.INCONCLUSIVE),                     # below the minimum of 3: under-searched
    (dict(passed=3), Verdict.HELD),
    (dict(passed=2, exhausted=True), Verdict.HELD),             # nothing more to draw
    (dict(passed=3, inconclusive=1), Verdict.INCONCLUSIVE),      # 1 of 4 > 20% inconclusive
    (dict(passed=0, vacuous=5), Verdict.INCONCLUSIVE),
])
def test_decide_is_pure_and_honest(counts, expect):
    out = ClaimOutcome(toy(passes), Verdict.HELD, min_conclusive=3)
    for k, v in counts.items():
        setattr(out, k, v)
    out.examples = out.passed + out.failed + out.inconclusive + out.vacuous
    assert decide(out, None)[0] is expect


def sleepers(prefix: str, n: int, seconds: float) -> list[Claim]:
    """n toy claims whose every example sleeps ``seconds`` and holds."""
    def slow(d, ctx):
        time.sleep(seconds)
        return Evidence(1.0)
    return [toy(slow, id=f"toyv.{prefix}{i}") for i in range(n)]


def budgeted_campaign(tmp_path, selected, prof, budget):
    store = Store(tmp_path / "s.sqlite")
    run = store.start_run("v", "cpu", 0, {})
    try:
        return campaign(selected, prof, "cpu", 0, store, run, budget=budget)
    finally:
        store.close()


def test_budget_is_a_wall_and_every_claim_reaches_its_minimum_first(tmp_path, capsys):
    """Five claims of 0.2 s examples, a 2 s budget: each reaches min_conclusive = 2 before any gets more;
    the campaign ends within the budget plus the slowest example (plus scheduling slack)."""
    t0 = time.perf_counter()
    out = budgeted_campaign(tmp_path, sleepers("w", 5, 0.2), profile(max_examples=50, min_conclusive=2), 2.0)
    took = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\n[budget wall] budget 2.0 s, slowest example 0.2 s, campaign took {took:.2f} s "
              f"(overrun {took - 2.0:+.2f} s); conclusive per claim {[s['conclusive'] for s in out]}")
    assert took < 2.0 + 0.2 + 0.5
    assert all(s["conclusive"] >= 2 and s["verdict"] == "held" for s in out)
    assert all(s["budget_spent"] and "budget ran out after" in s["note"] for s in out)


def test_a_starved_claim_is_under_searched_and_says_the_budget_ran_out(tmp_path):
    out = budgeted_campaign(tmp_path, sleepers("s", 3, 0.3), profile(max_examples=50, min_conclusive=20), 1.0)
    assert all(s["verdict"] == "inconclusive" and s["expectation"] == "undecided" for s in out)
    assert all("under-searched" in s["note"] and "budget ran out after" in s["note"] for s in out)
    assert all(s["conclusive"] >= 1 for s in out)                   # shared, not first-come


def test_an_erroring_claim_is_isolated_and_the_campaign_goes_on(tmp_path):
    def buggy(d, ctx):
        if d["x"] > 10:
            raise ValueError("a bug in the claim's own code")
        return Evidence(1.0)

    def bad_strategy(p):
        raise KeyError("no such profile key")
    selected = [toy(buggy, id="toyv.e1"), toy(passes, id="toyv.e2", strategy=bad_strategy), toy(passes, id="toyv.e3")]
    store = Store(tmp_path / "s.sqlite")
    run = store.start_run("v", "cpu", 0, {})
    out = campaign(selected, profile(max_examples=20, min_conclusive=3), "cpu", 0, store, run)
    rows = {s["id"]: s for s in store.claim_results()}
    store.close()
    e1, e2, e3 = out
    assert e1["verdict"] == "error" and e1["error"]["where"] == "evaluate"
    assert "ValueError: a bug in the claim's own code" in e1["error"]["traceback"]
    assert e1["error"]["drawn"]["x"] > 10
    assert e2["verdict"] == "error" and e2["error"]["where"] == "strategy" and "KeyError" in e2["error"]["traceback"]
    assert e3["verdict"] == "held"                                   # the campaign went on
    assert rows["toyv.e1"]["error"]["traceback"] == e1["error"]["traceback"]     # recorded in the store
    assert exit_code(out) == 3


def test_error_while_drawing_is_the_claims_error():
    def strat(p):
        return st.integers(0, 10).map(lambda x: {"x": 1 // (x - x)})     # ZeroDivisionError while drawing
    out = falsify_claim(toy(passes, strategy=strat), profile())
    assert out.verdict is Verdict.ERROR and "ZeroDivisionError" in out.error["traceback"]


@pytest.mark.parametrize("kind,evaluate,expect", [
    ("lemma", lambda d, ctx: Evidence(1.0), 0),                        # held
    ("theorem", lambda d, ctx: Evidence((0.5 - d["x"]) / 10), 1),            # falsified theorem
    ("control", lambda d, ctx: Evidence(1.0), 1),                      # control searched, not falsified
    ("lemma", lambda d, ctx: Evidence(math.nan), 3),                   # inconclusive
    ("lemma", lambda d, ctx: 1 / 0, 3),                                # error
])
def test_each_exit_code(tmp_path, register_toy, kind, evaluate, expect):
    c = register_toy(toy(evaluate, id="toyexit3.c", kind=kind,
                         strategy=lambda p: st.fixed_dictionaries({"x": st.integers(0, 9)})))
    rc, out, err = cli("falsify", c.id, "--json", "--results", tmp_path / "s.sqlite")
    assert rc == expect, err
    s = json.loads(out)["claims"][0]
    assert s["expectation"] == {0: "as expected", 1: "unexpected", 3: "undecided"}[expect]
    rc2, text, _ = cli("falsify", c.id, "--results", tmp_path / "s2.sqlite")
    assert rc2 == expect and "theorems held" in text


@pytest.mark.parametrize("evaluate,finding,expect", [
    (lambda d, ctx: Evidence(0.5), "reproduced", 0),
    (lambda d, ctx: Evidence(-0.5), "not reproduced", 0),     # a finding, not a falsified theorem
    (lambda d, ctx: Evidence(math.nan), None, 3),             # could not be measured
    (lambda d, ctx: 1 / 0, None, 3),                          # the experiment's code raised
])
def test_an_experiment_reports_its_finding_and_never_fails_the_run(tmp_path, register_toy, evaluate, finding,
                                                                     expect):
    c = register_toy(toy(evaluate, id="toyexp.e", kind="experiment", strategy=lambda p: st.just({"x": 1}),
                         reference="paper: 1.0"))
    rc, out, err = cli("falsify", c.id, "--json", "--results", tmp_path / "s.sqlite")
    assert rc == expect, err
    s = json.loads(out)["claims"][0]
    assert s["finding"] == finding
    assert s["expectation"] == ("reported" if finding else "undecided")
    rc2, text, progress = cli("falsify", c.id, "--results", tmp_path / "s2.sqlite")
    assert rc2 == expect and "theorems held 0/0" in text
    assert f"experiments reproduced {int(finding == 'reproduced')}/1" in text
    if finding:
        assert f"toyexp.e {finding}" in progress and "NOT AS EXPECTED" not in text


def test_exit_2_for_bad_usage(tmp_path):
    rc, _, err = cli("falsify", "--profile", "nosuch", "--results", tmp_path / "s.sqlite")
    assert rc == 2 and err.startswith("lora-claims: error:")
