"""The one bounded margin scale (theorems/numerics/slack.py, theorems/claim.py: Condition, at_most, at_least):
closed forms, sign, bounds, zero bounds, non-finite values, tensors against scalars."""
from __future__ import annotations

import math
import random

import pytest

from lora_claims.theorems.claim import Evidence, at_least, at_most

@pytest.mark.parametrize("margin", [1.0000001, -1.5, 1e9, -9.4e10])
def test_a_margin_off_the_bounded_scale_is_refused(margin):
    with pytest.raises(ValueError, match=r"outside \[-1, 1\]"):
        Evidence(margin)
    with pytest.raises(ValueError, match="at_most/at_least"):
        Evidence.from_margins({"raw difference": margin})


@pytest.mark.parametrize("value,bound,expected", [
    (0.0, 1e-7, 1.0),              # far inside
    (1e-7, 1e-7, 0.0),             # at the bound
    (3e-7, 1e-7, -0.5),            # (1 - 3) / (1 + 3)
    (1e-7 / 3, 1e-7, 0.5),         # (1 - 1/3) / (1 + 1/3)
    (0.0, 0.0, 0.0),               # an exact symmetry zero against a zero bound holds
    (-2.0, 0.0, 1.0),
    (1e300, 1e-10, -1.0),
])
def test_relative_slack_closed_forms(value, bound, expected):
    c = at_most(value, bound)
    assert c.margin == pytest.approx(expected, abs=1e-15)
    assert at_least(-value, -bound).margin == pytest.approx(expected, abs=1e-15)


def test_slack_keeps_the_sign_of_the_inequality_and_stays_bounded():
    rng = random.Random(0)
    for _ in range(2000):
        v, b = (rng.choice([-1, 1]) * 10 ** rng.uniform(-300, 300) for _ in range(2))
        m = at_most(v, b).margin
        assert -1.0 <= m <= 1.0
        assert (m >= 0) == (v <= b) or v == b
        assert math.copysign(1, at_least(v, b).margin) == math.copysign(1, v - b) or v == b


def test_slack_scale_grades_a_zero_bound():
    assert at_most(1e-12, 0.0).margin == -1.0                  # no unit: any violation is total
    assert at_most(1e-12, 0.0, scale=1e-9).margin == pytest.approx(-1e-12 / (1e-12 + 1e-9), rel=1e-12)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_slack_of_non_finite_is_inconclusive(value):
    ev = Evidence.from_margins({"c": at_most(value, 1.0)})
    assert ev.status == "inconclusive"


def test_tensor_slack_equals_the_scalar_one():
    import torch
    from lora_claims.theorems.numerics.slack import slack_at_least, slack_at_most
    v = torch.tensor([0.0, 1e-7, 3e-7, 0.0, math.inf, math.nan], dtype=torch.float64)
    b = torch.tensor([1e-7, 1e-7, 1e-7, 0.0, 1.0, 1.0], dtype=torch.float64)
    t = slack_at_most(v, b)
    for i in range(len(v)):
        s = slack_at_most(float(v[i]), float(b[i]))
        assert (math.isnan(s) and math.isnan(float(t[i]))) or float(t[i]) == s
    assert torch.equal(slack_at_least(-v[:4], -b[:4]), t[:4])


def test_condition_keeps_value_bound_and_tolerance_relative_figure():
    ev = Evidence.from_margins({"||grad|| <= 1e-7": at_most(3e-7, 1e-7), "rank": 0.5})
    rec = ev.measured["condition[||grad|| <= 1e-7]"]
    assert rec == {"value": 3e-7, "sense": "<=", "bound": 1e-7, "relative": pytest.approx(-2.0)}
    assert ev.binding == "||grad|| <= 1e-7" and ev.margin == pytest.approx(-0.5)




def test_tensor_slack_uses_the_scale_keeps_the_dtype_and_takes_a_scalar_bound():
    import torch
    from lora_claims.theorems.numerics.slack import slack_at_most
    v = torch.tensor([1e-12, 3e-7], dtype=torch.float32)
    out = slack_at_most(v, 1e-7)                                  # tensor value, float bound
    assert out.dtype == torch.float32
    assert torch.allclose(out, torch.tensor([(1e-7 - 1e-12) / (1e-7 + 1e-12), -0.5]), rtol=1e-6)
    z = slack_at_most(torch.tensor([1e-12], dtype=torch.float64), 0.0, scale=1e-9)
    assert float(z) == pytest.approx(-1e-12 / (1e-12 + 1e-9), rel=1e-12)
