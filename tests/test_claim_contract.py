"""The claim contract (theorems/claim.py): Evidence statuses, from_margins, Claim validation, the registry."""
from __future__ import annotations

import math
import re

import pytest
from hypothesis import strategies as st

from lora_claims import catalog
from lora_claims.theorems import claim as claims
from lora_claims.theorems.claim import KINDS, PROVENANCES, STATEMENT_KINDS, Claim, Evidence, UnknownClaim, Verdict

ID_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


def _toy(**kw) -> Claim:
    base = dict(id="toy.claim", paper="Toy 2024", theorem="Lemma 0", statement="x >= 0",
                assumptions="x is a natural number", kind="lemma", provenance="derived",
                strategy=lambda p: st.fixed_dictionaries({"x": st.integers(0, 10)}),
                evaluate=lambda drawn, ctx: Evidence(float(drawn["x"]) / 10))
    base.update(kw)
    return Claim(**base)


# ---------------------------------------------------------------- Evidence.status

@pytest.mark.parametrize("margin", [0.0, -0.0, 1e-300, 0.5, 1.0])
def test_non_negative_margin_passes(margin):
    ev = Evidence(margin)
    assert ev.status == "pass"
    assert ev.why is None


@pytest.mark.parametrize("margin", [-1e-300, -0.5, -1.0])
def test_negative_margin_fails(margin):
    ev = Evidence(margin)
    assert ev.status == "fail"
    assert ev.why is None


@pytest.mark.parametrize("margin", [math.nan, -math.nan, math.inf, -math.inf])
def test_non_finite_margin_is_inconclusive_with_a_reason(margin):
    ev = Evidence(margin)
    assert ev.status == "inconclusive"          # never 'pass', and never 'fail' either
    assert ev.why and "non-finite" in ev.why


def test_a_reason_makes_any_margin_inconclusive():
    ev = Evidence(1.0, reason="solver did not converge")
    assert ev.status == "inconclusive"
    assert ev.why == "solver did not converge"


def test_inconclusive_constructor():
    ev = Evidence.inconclusive("NaN in the Hessian", {"k": 1})
    assert ev.status == "inconclusive"
    assert ev.why == "NaN in the Hessian"
    assert math.isnan(ev.margin)
    assert ev.measured == {"k": 1}


# ---------------------------------------------------------------- Evidence.from_margins

def test_from_margins_takes_the_minimum_and_names_the_binding_condition():
    ev = Evidence.from_margins({"stationary": 0.3, "curvature": -0.2, "rank": 0.9}, {"q": 7})
    assert ev.margin == -0.2
    assert ev.binding == "curvature"
    assert ev.status == "fail"
    assert ev.measured["q"] == 7
    assert ev.measured["margin[stationary]"] == 0.3
    assert ev.measured["margin[curvature]"] == -0.2


def test_from_margins_all_holding():
    ev = Evidence.from_margins({"a": 0.7, "b": 0.0})
    assert (ev.margin, ev.binding, ev.status) == (0.0, "b", "pass")


def test_from_margins_single_condition_and_ints():
    ev = Evidence.from_margins({"only": 1})
    assert ev.margin == 1.0 and isinstance(ev.margin, float)
    assert ev.binding == "only"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_from_margins_non_finite_is_inconclusive(bad):
    # a non-finite condition is inconclusive even when another condition clearly fails
    ev = Evidence.from_margins({"ok": 1.0, "broken": bad, "violated": -0.5})
    assert ev.status == "inconclusive"
    assert ev.status != "pass"
    assert "broken" in ev.why
    assert "violated" not in ev.why


def test_from_margins_does_not_mutate_measured():
    measured = {"a": 1}
    Evidence.from_margins({"c": 1.0}, measured)
    assert measured == {"a": 1}


def test_from_margins_keeps_events():
    ev = Evidence.from_margins({"c": 1.0}, events=["r0=2"])
    assert ev.events == ["r0=2"]


# ---------------------------------------------------------------- Claim validation

def test_claim_accepts_every_known_kind_and_provenance():
    for kind in KINDS:
        for prov in PROVENANCES:
            c = _toy(kind=kind, provenance=prov, reference="the paper: 3.1" if kind == "experiment" else "")
            assert c.is_control == (kind == "control") and c.is_experiment == (kind == "experiment")


def test_only_an_experiment_carries_the_papers_figure():
    with pytest.raises(ValueError, match="reference"):
        _toy(kind="experiment")
    with pytest.raises(ValueError, match="reference"):
        _toy(kind="theorem", reference="Table 1: 3.1")
    assert _toy(kind="experiment", reference="Table 1: 3.1").metadata()["reference"] == "Table 1: 3.1"


@pytest.mark.parametrize("kind", ["theorm", "Theorem", "", "mutant", None])
def test_claim_rejects_unknown_kind(kind):
    with pytest.raises(ValueError, match="kind"):
        _toy(kind=kind)


@pytest.mark.parametrize("prov", ["papers", "Paper", "", "guess", None])
def test_claim_rejects_unknown_provenance(prov):
    with pytest.raises(ValueError, match="provenance"):
        _toy(provenance=prov)


def test_claim_metadata():
    md = _toy().metadata()
    for key in ("id", "paper", "theorem", "kind", "provenance", "statement", "assumptions"):
        assert key in md
    assert md["id"] == "toy.claim"


# ---------------------------------------------------------------- the registry

@pytest.fixture(scope="module")
def registered():
    return catalog.all_claims()


def test_registry_is_not_empty(registered):
    assert registered


def test_every_registered_claim_is_well_formed(registered):
    for c in registered:
        assert ID_RE.match(c.id), c.id
        assert c.kind in KINDS, c.id
        assert c.provenance in PROVENANCES, c.id
        assert c.statement.strip(), c.id
        assert c.assumptions.strip(), c.id
        assert c.paper.strip() and c.theorem.strip(), c.id
        assert callable(c.strategy) and callable(c.evaluate), c.id
        for ex in c.examples:
            assert isinstance(ex, dict), c.id


def test_registered_ids_are_unique(registered):
    ids = [c.id for c in registered]
    assert len(ids) == len(set(ids))


def test_registering_a_duplicate_id_is_refused(registered):
    before = [c.id for c in catalog.all_claims()]
    with pytest.raises(ValueError, match="duplicate"):
        claims.REGISTRY.add(registered[0])
    assert [c.id for c in catalog.all_claims()] == before


def test_get_known_and_unknown(registered):
    assert catalog.get(registered[0].id) is registered[0]
    with pytest.raises(UnknownClaim):
        catalog.get("nosuchpaper.nosuchclaim")


def test_select_everything_without_patterns(registered):
    ids = [c.id for c in registered]
    assert [c.id for c in catalog.select(None)] == ids
    assert [c.id for c in catalog.select([])] == ids


def test_select_globs(registered):
    ids = [c.id for c in registered]
    paper = ids[0].split(".")[0]
    same_paper = [i for i in ids if i.startswith(paper + ".")]
    assert [c.id for c in catalog.select([paper + ".*"])] == same_paper
    assert [c.id for c in catalog.select(["*"])] == ids
    # an exact id selects exactly that claim
    assert [c.id for c in catalog.select([ids[-1]])] == [ids[-1]]
    # overlapping patterns: no duplicates, registry order kept
    got = [c.id for c in catalog.select([ids[-1], "*", ids[0]])]
    assert got == ids
    # ? and [] globs
    one = ids[0]
    assert one in [c.id for c in catalog.select([one[:-1] + "?"])]
    # globs are case-sensitive
    if one.upper() != one:
        with pytest.raises(UnknownClaim):
            catalog.select([one.upper()])


@pytest.mark.parametrize("patterns", [["nosuch.*"], ["jang2024.nosuch"], ["*", "nosuch.*"], [""]])
def test_select_unknown_pattern_raises(patterns):
    with pytest.raises(UnknownClaim):
        catalog.select(patterns)


def test_select_controls(registered):
    controls = [c.id for c in registered if c.kind == "control"]
    if not controls:
        pytest.skip("no controls registered")
    for cid in controls:
        assert catalog.select([cid])[0].is_control


# ---------------------------------------------------------------- every claim can be seen to fail

def test_only_controls_guard_claims():
    with pytest.raises(ValueError, match="only a control"):
        _toy(guards=("toy.other",))
    assert _toy(kind="control", guards=("toy.other",)).metadata()["guards"] == ["toy.other"]


def test_every_theorem_and_lemma_is_guarded_by_a_control(registered):
    """Each non-control claim names at least one control (a mutant of its statement or numerics) that the
    same harness must falsify: a check that no mutant can break would be a check that cannot fail."""
    ids = {c.id for c in registered}
    guarded = {}
    for c in registered:
        for g in c.guards:
            assert g in ids, f"{c.id} guards unknown claim {g}"
            assert catalog.get(g).kind in STATEMENT_KINDS, f"{c.id} guards the {catalog.get(g).kind} {g}"
            guarded.setdefault(g, []).append(c.id)
    unguarded = sorted(c.id for c in registered if c.kind in STATEMENT_KINDS and c.id not in guarded)
    assert not unguarded, f"claims without a control that shows they can fail: {unguarded}"
    for c in registered:
        if c.is_control:
            assert c.guards, f"control {c.id} does not say which claim it guards"


def test_a_claim_whose_optional_dependency_is_missing_is_skipped_not_failed():
    from lora_claims.profiles import get_profile
    from lora_claims.search import falsify_claim

    def never(drawn, ctx):
        raise AssertionError("a skipped claim must not be evaluated")
    for kind in ("theorem", "control"):
        c = _toy(kind=kind, requires=("no_such_module_for_lora_claims",), evaluate=never)
        assert "no_such_module_for_lora_claims not installed" in c.missing()
        out = falsify_claim(c, get_profile("ci"))
        assert out.verdict is Verdict.SKIPPED and out.ok and out.examples == 0
        assert "pip install" in out.note
    assert _toy(requires=("torch",)).missing() is None
