"""Strategy coverage (issue 14, power): every claim's strategy declares the instance space it promises
(strategies/domain.py) and, over a few hundred draws, reaches each declared end and value without drawing
outside it.  A strategy that silently stops drawing part of its space fails here, whatever the verdicts."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from lora_claims import catalog
from lora_claims.profiles import get_profile
from lora_claims.strategies.domain import (OneOf, Span, coverage, declare, declared_domain, declares, outside,
                                          shortfalls)

SEEDS, DRAWS = 30, 10         # many short seeded runs: one long run repeats few distinct values per parameter
# the nightly profile (the widest space) always; the ci profile's too when LORA_CLAIMS_SLOW_TESTS=1
PROFILES = ["nightly"] + (["ci"] if os.environ.get("LORA_CLAIMS_SLOW_TESTS") == "1" else [])


def sample(strategy, n: int = DRAWS, at: int = 0) -> list[dict]:
    out: list[dict] = []

    @seed(at)
    @settings(max_examples=n, database=None, phases=(Phase.generate,), deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(drawn):
        out.append(drawn)

    collect()
    return out


def many(strategy) -> list[dict]:
    return [d for s in range(SEEDS) for d in sample(strategy, at=s)]


def _keys(d: dict, prefix="") -> set[str]:
    keys = set()
    for k, v in d.items():
        keys |= _keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
    return keys


BUILTIN = [c.id for c in catalog.all_claims() if c.source == "builtin"]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("cid", BUILTIN)
def test_strategy_covers_its_declared_space(cid, profile):
    claim = catalog.get(cid)
    if claim.missing():
        pytest.skip(f"{cid}: {claim.missing()}")
    strategy = claim.strategy(get_profile(profile))
    domain = declared_domain(strategy)
    assert domain, f"{cid}: its strategy declares no domain (strategies/domain.py: declares / declare)"
    drawn = many(strategy)
    undeclared = set().union(*(_keys(d) for d in drawn)) - set(domain)
    assert not undeclared, f"{cid}: drawn but not declared: {sorted(undeclared)}"
    gaps = shortfalls(coverage(domain, drawn))
    assert not gaps, f"{cid} ({profile}): " + " | ".join(gaps)
    # every draw is one reproduce accepts: nothing declared is missing from it, nothing is outside
    refused = [(d, p) for d in drawn for p in outside(domain, d)]
    assert not refused, f"{cid} ({profile}): a draw reproduce would refuse: {refused[0]}"


# ---------------------------------------------------------------- the mechanism can fail

@declares(lambda profile, hi=10: {"m": Span(2, 10), "loss": OneOf(("sq", "ce")), "lam": Span(1e-3, 1e-1, log=True)})
def _toy(profile, hi=10):
    return st.fixed_dictionaries({"m": st.integers(2, hi), "loss": st.sampled_from(("sq", "ce")),
                                  "lam": st.floats(-3, -1).map(lambda u: 10 ** u)})


def test_a_faithful_strategy_covers_its_space():
    s = _toy(None)
    assert not shortfalls(coverage(declared_domain(s), many(s)))


def test_a_strategy_that_stopped_drawing_part_of_its_space_is_seen():
    s = _toy(None, hi=5)                              # the declaration still says m in [2, 10]
    gaps = shortfalls(coverage(declared_domain(s), many(s)))
    assert gaps and gaps[0].startswith("m [2, 10]: missing upper end")


def test_values_outside_the_declaration_and_missing_choices_are_seen():
    s = declare(st.fixed_dictionaries({"m": st.integers(2, 12), "loss": st.just("sq")}),
                {"m": Span(2, 10), "loss": OneOf(("sq", "ce"))})
    cov = coverage(declared_domain(s), many(s))
    assert cov["m"]["outside"] and not cov["m"]["covered"]
    assert cov["loss"]["missing"] == ["ce"] and not cov["loss"]["covered"]


def test_log_spans_are_judged_in_decades():
    cov = coverage({"lam": Span(1e-3, 1e-1, log=True)}, [{"lam": 1.1e-3}, {"lam": 0.03}])
    assert cov["lam"]["missing"] == ["upper end"]      # 0.03 is 0.52 decades short of 0.1 (the edge: 0.4)
    cov = coverage({"lam": Span(1e-3, 1e-1, log=True)}, [{"lam": 1.1e-3}, {"lam": 0.045}])
    assert cov["lam"]["covered"]


def test_the_search_reports_coverage_with_its_outcome():
    from lora_claims.profiles import PROFILES
    from lora_claims.search import falsify_claim
    from lora_claims.theorems.claim import Claim, Evidence
    c = Claim(id="toy.cov", paper="toy", theorem="t", statement="s", assumptions="a", kind="theorem",
              provenance="derived", strategy=lambda p: _toy(p, hi=5), evaluate=lambda d, ctx: Evidence(0.5))
    out = falsify_claim(c, PROFILES["ci"])
    s = out.summary()
    assert s["coverage"]["m"]["declared"] == "[2, 10]" and "upper end" in s["coverage"]["m"]["missing"]


def test_a_union_judges_each_end_on_its_own_span():
    from lora_claims.strategies.domain import union
    u = union(Span(1.0, 1.9), Span(2.2, 100.0, log=True))
    assert coverage({"k": u}, [{"k": 1.0}, {"k": 80.0}])["k"]["covered"]        # 80: top 10% of the log span
    cov = coverage({"k": u}, [{"k": 1.0}, {"k": 30.0}, {"k": 2.0}])["k"]
    assert cov["missing"] == ["upper end"] and cov["outside"] == [2.0]           # 2.0 lies in the gap


def test_a_broken_declaration_is_reported_not_raised():
    cov = coverage({"lam": Span(lambda d: d["missing_key"], 1.0)}, [{"lam": 0.5}])
    assert not cov["lam"]["covered"] and "KeyError" in cov["lam"]["missing"][0]


def test_a_parameter_of_one_family_is_required_there_and_refused_elsewhere():
    """Span/OneOf ``when``: a family's own parameter (Kim's kappa, realnet's transformer ff) is judged only on
    that family's draws: missing there is refused, present elsewhere is refused, absent elsewhere is fine."""
    from lora_claims.strategies.domain import union
    dom = {"family": OneOf(("gquad", "gsense")), "kappa": Span(1.0, 1.9, when=lambda d: d["family"] == "gquad")}
    assert outside(dom, {"family": "gquad", "kappa": 1.5}) == []
    assert outside(dom, {"family": "gsense"}) == []
    assert "kappa is missing" in outside(dom, {"family": "gquad"})[0]
    assert "not declared for these values" in outside(dom, {"family": "gsense", "kappa": 1.5})[0]
    assert "outside" in outside(dom, {"family": "gquad", "kappa": 5.0})[0]
    # the union of two conditional spans (either regime) keeps the condition
    u = {"family": dom["family"], "kappa": union(dom["kappa"], Span(2.2, 100.0, log=True,
                                                                     when=lambda d: d["family"] == "gquad"))}
    assert outside(u, {"family": "gsense"}) == [] and outside(u, {"family": "gquad", "kappa": 50.0}) == []
    assert outside(u, {"family": "gquad"})
