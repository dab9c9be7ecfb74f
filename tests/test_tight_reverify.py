"""Re-verification really tightens the numerics (EvalContext.tightened: tight=True, ctx.tolerance() 100x
smaller, passed explicitly to the solvers) and never reuses a loose solve."""
import torch

from lora_claims.strategies.dayi import setting_from_draw
from lora_claims.strategies.ntk_instances import random_ntk
from lora_claims.theorems import xu2025
from lora_claims.theorems.context import TIGHT_FACTOR, EvalContext
from lora_claims.theorems.numerics.gradient_flow import LoRAFlow, integrate
from lora_claims.theorems.numerics.landscape import probe
from lora_claims.theorems.numerics.lora import LoRAObjective
from lora_claims.theorems.numerics.teacher_student import ode_time

F64 = torch.float64


def test_tolerance_scales_only_in_the_tightened_context():
    ctx = EvalContext()
    assert ctx.tolerance(1e-10) == 1e-10 and not ctx.tight
    tight = ctx.tightened()
    assert tight.tight and abs(tight.tolerance(1e-10) - 1e-10 * TIGHT_FACTOR) < 1e-24
    assert tight.device.type == "cpu" and tight.dtype is torch.float64
    assert tight.solves is ctx.solves                    # one memo, but its keys carry the tightness
    assert ctx.tolerance(1e-10) == 1e-10


def test_integrator_takes_more_steps_and_agrees_when_tight():
    g = torch.Generator().manual_seed(0)
    U = torch.randn(2, 6, 4, generator=g, dtype=F64)
    R0 = torch.randn(2, 6, 5, generator=g, dtype=F64)
    flow = LoRAFlow(U, R0, "B")
    Z1, Z2 = 0.1 * torch.randn(2, 4, 2, generator=g, dtype=F64), 0.1 * torch.randn(2, 5, 2, generator=g, dtype=F64)
    loose = integrate(flow, Z1, Z2, 3.0, n_eval=4, events=False)
    tight = EvalContext().tightened()
    strict = integrate(flow, Z1, Z2, 3.0, n_eval=4, events=False, rtol=tight.tolerance(1e-10),
                       atol=tight.tolerance(1e-13))
    assert strict.nfe > loose.nfe
    assert float((strict.Z1 - loose.Z1).abs().max()) < 1e-8


def test_xu_solve_cache_is_not_shared_with_a_tight_rerun():
    d = {"variant": "B", "k": 1, "r": 1, "m": 5, "n": 4, "h": 4, "rank_u": 4, "gains": [1.0] * 4,
         "sigmas": [1.0], "thetas": [0.3], "alpha_grid": "small", "alphas": [1e-4, 1e-6, 1e-8], "seed": 3, "batch": 1}
    ctx = EvalContext()
    a = xu2025.solved(d, ctx)
    b = xu2025.solved(d, ctx.tightened())
    assert a[2] is not b[2] and b[2].nfe > a[2].nfe
    assert xu2025.solved(d, ctx) is a                    # the loose solve is memoised, separately


def test_landscape_solver_stops_at_the_tight_tolerance():
    loss = random_ntk(2, 2, 4, 4, "sq", seed=1, batch=2)
    obj = LoRAObjective(loss, torch.full((2,), 0.05, dtype=F64), r=3)
    ep = probe(obj, (0.01, 1.0), 2, seed=0, tol=EvalContext().tightened().tolerance(1e-7))
    c = ep.certified
    assert bool(c.any())
    assert float(ep.sosp.grad_norm[c].max()) <= 1e-9        # 100x below the certification threshold 1e-7


def test_dayi_ode_is_solved_tighter():
    s = setting_from_draw({"act": "tanh3", "k": 4, "xi": 1.0, "c_mode": "positive", "lam_mode": "inv_sqrt",
                           "seed": 0})
    t1, sol1 = ode_time(s, [0.1])
    t2, sol2 = ode_time(s, [0.1], rtol=EvalContext().tightened().tolerance(1e-10))
    assert sol2.nfev > sol1.nfev and abs(t2[0] - t1[0]) < 1e-6 * t1[0]
