"""Instances for the example claims: a target matrix M = U diag(s) V^T with a spectral gap at rank r.

The preconditions hold by construction (no ``assume``): s is log-spaced, and s_r / s_{r+1} >= ``gap``,
so alternating least squares converges to the best rank-r approximation at rate 1/gap per sweep.
"""
from __future__ import annotations

import torch
from hypothesis import strategies as st

from lora_claims import Span, declare


def target_draws(profile):
    """Drawn values (JSON-able): sizes, the LoRA rank r, the gap at r, and a seed for the tensors."""
    max_dim = int(profile.get("max_dim", 8))

    @st.composite
    def instance(draw):
        m = draw(st.integers(2, max_dim))
        n = draw(st.integers(2, max_dim))
        r = draw(st.integers(1, min(m, n) - 1))
        gap = draw(st.floats(2.0, 10.0))
        seed = draw(st.integers(0, 2**31 - 1))
        return {"m": m, "n": n, "r": r, "gap": gap, "seed": seed}
    # the space it promises (lora-claims reports how much of it each run reached)
    return declare(instance(), {"m": Span(2, max_dim), "n": Span(2, max_dim),
                                "r": Span(1, lambda d: min(d["m"], d["n"]) - 1, text="[1, min(m, n) - 1]"),
                                "gap": Span(2.0, 10.0), "seed": Span(0, 2**31 - 1, reach=False)})


def target(drawn, device, dtype):
    """(M, singular values) reproducible from the drawn values alone."""
    g = torch.Generator().manual_seed(drawn["seed"])
    m, n, r, gap = drawn["m"], drawn["n"], drawn["r"], drawn["gap"]
    k = min(m, n)
    head = torch.logspace(0, -0.5, r, dtype=torch.float64)
    tail = head[-1] / gap * torch.logspace(0, -1, k - r, dtype=torch.float64)
    s = torch.cat([head, tail])
    u, _ = torch.linalg.qr(torch.randn(m, k, generator=g, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(n, k, generator=g, dtype=torch.float64))
    return (u * s) @ v.T, s
