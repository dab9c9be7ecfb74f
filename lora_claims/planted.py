"""Planted false statements whose counterexamples fill a small corner (about 1%) of their instance space.

They are not registered claims: they measure the search's power (tests/test_optimise.py,
benchmarks/falsify_bench.py).  Each margin is graded (the distance to the corner), as a real claim's margin
is, so a margin-minimising search can follow it; random generation only finds the corner by chance.  The
corners avoid the values Hypothesis favours (bounds, simple fractions, equal coordinates).
"""
from __future__ import annotations

import math

from hypothesis import strategies as st

from .theorems.claim import Claim, Evidence

BOX = (0.613, 0.713, 0.137, 0.237)          # x0, x1, y0, y1: 1% of [0, 1]^2
BAND = (37, 40, 0.311, 0.411)               # n in [37, 40], t in (t0, t1): 4/64 x 0.1 = 0.6%


def _box_distance(x, lo, hi):
    return max(lo - x, 0.0, x - hi)


def eval_box(d, ctx):
    """Margin of 'the point (x, y) is outside BOX': -depth inside, +distance outside."""
    x0, x1, y0, y1 = BOX
    x, y = d["x"], d["y"]
    inside = min(x - x0, x1 - x, y - y0, y1 - y)
    if inside > 0:
        return Evidence(-inside, {"x": x, "y": y})
    return Evidence(math.hypot(_box_distance(x, x0, x1), _box_distance(y, y0, y1)) + 1e-9, {"x": x, "y": y})


def eval_band(d, ctx):
    """Margin of 'n not in [37, 40] or t outside (0.311, 0.411)' on integers and floats mixed."""
    n0, n1, t0, t1 = BAND
    n, t = d["n"], d["t"]
    inside = min((n - n0 + 0.5) / 64, (n1 + 0.5 - n) / 64, t - t0, t1 - t)
    if inside > 0:
        return Evidence(-inside, {"n": n, "t": t})
    dn = max(n0 - 0.5 - n, 0.0, n - n1 - 0.5) / 64
    return Evidence(math.hypot(dn, _box_distance(t, t0, t1)) + 1e-9, {"n": n, "t": t})


def planted_claims() -> list[Claim]:
    """The planted statements as (unregistered) theorem-kind claims: a search should falsify them."""
    return [
        Claim(id="planted.box_1pct", paper="planted", theorem="1% box", kind="theorem", provenance="derived",
              statement="(x, y) never lies in the box (0.613, 0.713) x (0.137, 0.237)", assumptions="x, y in [0, 1]",
              strategy=lambda p: st.fixed_dictionaries({"x": st.floats(0, 1), "y": st.floats(0, 1)}),
              evaluate=eval_box),
        Claim(id="planted.band_06pct", paper="planted", theorem="0.6% band", kind="theorem", provenance="derived",
              statement="never 37 <= n <= 40 with 0.311 < t < 0.411", assumptions="n in 1..64, t in [0, 1]",
              strategy=lambda p: st.fixed_dictionaries({"n": st.integers(1, 64), "t": st.floats(0, 1)}),
              evaluate=eval_band),
    ]
