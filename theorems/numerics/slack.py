"""Relative slack: the one bounded scale every claim's margin is on (README, "Verdicts and margins").

The condition ``value <= bound`` has slack ``(bound - value) / (|bound| + |value| + scale)``, in [-1, 1]:
its sign says whether the condition holds, 0 is the bound itself, +1 a value of 0 under a positive bound
(or a negative value under a zero bound), -1 a value that exceeds the bound by far more than both.
``scale`` (>= 0) is the quantity's natural unit where the bound is (near) 0; otherwise the slack of the
smallest violation of ``x <= 0`` would already be -1.  Both bound and value 0: slack 0 (holds).  NaN or an
infinite value gives NaN (never a pass).  Works elementwise on tensors as on floats.
"""
from __future__ import annotations

import math

import torch


def slack_at_most(value, bound, scale=0.0):
    """Relative slack of ``value <= bound`` (floats or broadcastable tensors)."""
    if isinstance(value, torch.Tensor) or isinstance(bound, torch.Tensor):
        value = torch.as_tensor(value)
        bound = torch.as_tensor(bound, dtype=value.dtype if value.is_floating_point() else torch.float64,
                                device=value.device)
        value = value.to(bound.dtype)
        den = bound.abs() + value.abs() + scale
        out = (bound - value) / den
        out = torch.where(den == 0, torch.zeros_like(out), out)
        return torch.where(torch.isinf(value) | torch.isinf(bound), torch.full_like(out, math.nan), out)
    value, bound = float(value), float(bound)
    if math.isinf(value) or math.isinf(bound):
        return math.nan
    den = abs(bound) + abs(value) + float(scale)
    if den == 0:
        return 0.0
    return (bound - value) / den


def slack_at_least(value, bound, scale=0.0):
    """Relative slack of ``value >= bound``."""
    return slack_at_most(-value if isinstance(value, torch.Tensor) else -float(value),
                         -bound if isinstance(bound, torch.Tensor) else -float(bound), scale)


def tolerance_relative(value: float, bound: float, sense: str) -> float:
    """The condition's excess over its bound in units of the bound, ``(bound - value) / |bound|`` for '<='
    (``(value - bound) / |bound|`` for '>='): the tolerance-relative figure kept beside the slack.  NaN where
    the bound is 0 or either side is not finite."""
    value, bound = float(value), float(bound)
    if bound == 0 or not math.isfinite(bound) or not math.isfinite(value):
        return math.nan
    return ((bound - value) if sense == "<=" else (value - bound)) / abs(bound)
