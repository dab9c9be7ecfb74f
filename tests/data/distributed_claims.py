"""Claims for tests/test_distributed.py (loaded with --claims): a slow theorem (0.3 s an example, so a worker
can be killed mid-task) and a fast control that is falsified for x > 1/2."""
import time

from hypothesis import strategies as st

from lora_claims import Evidence, at_least, control, theorem


def draws(profile):
    return st.fixed_dictionaries({"x": st.floats(0, 1)})


def square(drawn, ctx, shift=0.0):
    x = drawn["x"]
    return Evidence.from_margins({"1 + x^2 >= 2x + shift": at_least(1 + x * x, 2 * x + shift)})


def slow_square(drawn, ctx):
    time.sleep(0.3)
    return square(drawn, ctx)


theorem("distributed.slow_square", paper="folklore", theorem="(1 - x)^2 >= 0",
        statement="1 + x^2 >= 2x for x in [0, 1]", assumptions="x in [0, 1]", provenance="derived",
        strategy=draws, evaluate=slow_square)
control("distributed.nc_square_shifted", guards="distributed.slow_square",
        statement="MUTANT: 1 + x^2 >= 2x + 0.25 (false for x > 1/2)",
        strategy=draws, evaluate=lambda drawn, ctx: square(drawn, ctx, shift=0.25))
