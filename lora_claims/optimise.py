"""Margin-minimising search: CMA-ES over Hypothesis's own choice sequences (robustness-guided falsification,
as S-TaLiRo and Breach do for signal temporal logic).

Hypothesis draws an instance from a sequence of primitive choices (integers, floats, booleans with their
bounds).  Starting from the lowest-margin examples of the random search, CMA-ES (the ``cma`` package)
moves the bounded numeric choices in [0, 1]^k to lower the margin.  Candidates are not evaluated here: they
are handed back to Hypothesis as choice sequences in an example database, so its reuse phase replays them
through the claim's own strategy (preconditions hold by construction, whatever CMA-ES proposes), the same
``evaluate`` and bookkeeping as any example, and a failing one is shrunk by Hypothesis and re-verified in
float64 like every other failure.

Why CMA-ES: the drawn parameters are few (2-20), mixed (rounded integers, floats on very different
scales, booleans) and the margin is noisy across them; CMA-ES needs no gradient, is invariant to monotone
transforms of the objective, and proposes whole populations per step, which is
one Hypothesis replay run.  Its worth is measured against random generation at equal evaluations in
``tests/test_optimise.py`` and ``benchmarks/falsify_bench.py``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Point:
    """One evaluated example in choice space: its choices, their (type, constraints) and its margin."""
    choices: tuple
    kinds: tuple          # per choice: ('integer', lo, hi) | ('float', lo, hi) | ('boolean',) | ('fixed',)
    margin: float


def describe(nodes) -> tuple[tuple, tuple]:
    """(choices, kinds) from Hypothesis's choice nodes (``data.nodes``)."""
    choices, kinds = [], []
    for n in nodes:
        c = getattr(n, "constraints", None) or getattr(n, "kwargs", None) or {}
        choices.append(n.value)
        lo, hi = c.get("min_value"), c.get("max_value")
        if n.type == "integer" and lo is not None and hi is not None and hi > lo:
            kinds.append(("integer", int(lo), int(hi)))
        elif (n.type == "float" and lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi)
              and hi > lo):
            kinds.append(("float", float(lo), float(hi)))
        elif n.type == "boolean" and 0 < float(c.get("p", 0.5)) < 1:
            kinds.append(("boolean",))
        else:
            kinds.append(("fixed",))
    return tuple(choices), tuple(kinds)


class ChoiceSpace:
    """The tunable coordinates of one choice sequence, mapped to [0, 1]^k."""

    def __init__(self, point: Point):
        self.base = point.choices
        self.kinds = point.kinds
        self.free = [i for i, k in enumerate(point.kinds) if k[0] != "fixed"]

    @property
    def dim(self) -> int:
        return len(self.free)

    def encode(self, choices) -> np.ndarray:
        x = []
        for i in self.free:
            k, v = self.kinds[i], choices[i]
            if k[0] == "boolean":
                x.append(0.75 if v else 0.25)
            else:
                x.append((float(v) - k[1]) / (k[2] - k[1]))
        return np.clip(np.array(x, dtype=float), 0.0, 1.0)

    def decode(self, x) -> tuple:
        out = list(self.base)
        for j, i in enumerate(self.free):
            k, u = self.kinds[i], float(np.clip(x[j], 0.0, 1.0))
            if k[0] == "integer":
                out[i] = int(min(k[2], max(k[1], round(k[1] + u * (k[2] - k[1])))))
            elif k[0] == "float":
                out[i] = float(min(k[2], max(k[1], k[1] + u * (k[2] - k[1]))))
            else:
                out[i] = bool(u > 0.5)
        return tuple(out)


def fitness(margin: float | None) -> float:
    """What CMA-ES minimises: the margin itself (bounded, [-1, 1]); a candidate that did not replay to a
    conclusive example gets a value worse than any margin."""
    if margin is None or not math.isfinite(margin):
        return 2.0
    return float(margin)


def cma_strategy(point: Point, seed: int, popsize: int):
    import cma
    space = ChoiceSpace(point)
    x0 = space.encode(point.choices)
    if space.dim == 1:                       # cma needs >= 2 dimensions: pad with an inert coordinate
        x0 = np.append(x0, 0.5)
    es = cma.CMAEvolutionStrategy(x0, 0.25, {"bounds": [0.0, 1.0], "popsize": popsize, "seed": seed % (2**31 - 1) + 1,
                                             "verbose": -9, "maxfevals": 10**9})
    return space, es
