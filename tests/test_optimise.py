"""The margin-minimising optimiser (lora_claims/optimise.py): its candidates stay inside the strategy's
space, go through the same evaluate/bookkeeping, and find a rare corner random generation misses."""
from __future__ import annotations

import math

import numpy as np

from lora_claims.optimise import ChoiceSpace, Point, fitness
from lora_claims.planted import BOX, planted_claims
from lora_claims.profiles import Profile
from lora_claims.search import falsify_claim
from lora_claims.theorems.claim import Verdict

X0, X1, Y0, Y1 = BOX


def corner_claim():
    return planted_claims()[0]


def prof(optimiser_evals: int, max_examples: int):
    return Profile("opt", max_examples=max_examples, runs=1, database=False, target=False, device="cpu",
                   min_conclusive=1, optimiser_evals=optimiser_evals)


def test_choice_space_round_trips_and_respects_bounds():
    p = Point(choices=(5, 0.25, True, "s"), kinds=(("integer", 0, 10), ("float", 0.0, 1.0), ("boolean",), ("fixed",)),
              margin=1.0)
    sp = ChoiceSpace(p)
    assert sp.dim == 3
    assert sp.decode(sp.encode(p.choices)) == p.choices
    for x in (np.full(3, -5.0), np.full(3, 5.0), np.array([0.33, 0.77, 0.49])):
        c = sp.decode(x)
        assert 0 <= c[0] <= 10 and isinstance(c[0], int) and 0.0 <= c[1] <= 1.0 and c[3] == "s"


def test_fitness_is_monotone_in_the_margin_and_penalises_no_result():
    ms = [-1.0, -0.5, -1e-6, 0.0, 1e-6, 0.5, 1.0]              # margins are bounded (relative slack)
    fs = [fitness(m) for m in ms]
    assert fs == sorted(fs) and fitness(None) > fitness(1.0) and fitness(math.nan) > fitness(1.0)


def test_optimiser_candidates_are_recorded_as_examples_of_their_own_origin():
    origins = []

    def rec(**kw):
        origins.append(kw["origin"])
    out = falsify_claim(corner_claim(), prof(optimiser_evals=24, max_examples=8), recorder=rec)
    assert "optimiser" in origins and origins.count("search") >= 8
    assert out.examples == sum(o != "reverify" for o in origins)


def test_optimiser_rate_beats_random_rate_at_equal_evaluations(capsys):
    """48 evaluations per seed: random generation alone, against 8 random + 40 CMA-ES candidates; over 10
    seeds the optimiser's falsification rate must beat random's, and every counterexample is real."""
    results = []
    for seed in range(10):
        random_only = falsify_claim(corner_claim(), prof(0, 48), seed=seed)
        hunted = falsify_claim(corner_claim(), prof(40, 8), seed=seed)
        for out in (random_only, hunted):
            assert out.verdict in (Verdict.FALSIFIED, Verdict.HELD), out.note
            if out.verdict is Verdict.FALSIFIED:
                d = out.counterexample["drawn"]
                assert X0 < d["x"] < X1 and Y0 < d["y"] < Y1          # a real counterexample, re-verified
        results.append((random_only.verdict is Verdict.FALSIFIED, hunted.verdict is Verdict.FALSIFIED))
    rand = sum(r for r, _ in results) / len(results)
    opt = sum(h for _, h in results) / len(results)
    with capsys.disabled():
        print(f"\n[optimiser] 1% corner, 48 evaluations per seed, 10 seeds: random {rand:.0%}, "
              f"random 8 + CMA-ES 40 {opt:.0%}")
    assert opt >= rand + 0.4, (rand, opt)
