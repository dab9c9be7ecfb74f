"""Dayi-Chen exact tools vs closed forms and independent oracles (scipy quad, Monte Carlo, solve_ivp)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, special

from lora_claims.theorems.numerics.hermite import activation, kernel, kernel_prime
from lora_claims.theorems.context import EvalContext
from lora_claims.theorems.numerics.teacher_student import (ODE_RTOL, Setting, drift, drift_lower_bound, loss_of_u,
                                                           ode_time, predicted_T_over_d)


def _quad_coef(f, n):
    """alpha_n = E f(z) He_n(z)/sqrt(n!) by adaptive quadrature (independent of Gauss-Hermite)."""
    g = lambda z: f(z) * special.eval_hermitenorm(n, z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa
    return integrate.quad(g, -40, 40, limit=400, points=[0.0])[0] / math.sqrt(math.factorial(n))


@pytest.mark.parametrize("name,raw", [("relu", lambda z: max(z, 0.0)), ("tanh", math.tanh), ("erf", math.erf)])
def test_coefficients_match_quad(name, raw):
    a = activation(name)
    for n in range(7):
        want = (_quad_coef(raw, n) - (a.shift if n == 0 else 0.0)) / a.scale
        assert abs(a.alpha[n] - want) < 1e-8, (name, n)


def test_relu_closed_form_coefficients():
    a = activation("relu")
    # raw ReLU: alpha_1 = 1/2, alpha_2 = 1/(2 sqrt(pi)), alpha_3 = 0; Var relu = 1/2 - 1/(2 pi)
    assert abs(a.scale - math.sqrt(0.5 - 1 / (2 * math.pi))) < 1e-12
    assert abs(a.alpha[1] * a.scale - 0.5) < 1e-12
    assert abs(a.alpha[2] * a.scale - 1 / (2 * math.sqrt(math.pi))) < 1e-10
    assert abs(a.alpha[3]) < 1e-12


def test_tanh3_is_information_exponent_3():
    a = activation("tanh3")
    assert a.information_exponent == 3
    a1 = integrate.quad(lambda z: (1 - math.tanh(z) ** 2) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -30, 30)[0]
    assert abs(a1 - 0.6057) < 1e-3          # spec quotes ~0.6059


def test_kernel_closed_forms():
    rho = torch.linspace(-0.99, 1.0, 41, dtype=torch.float64)
    # erf: E erf(z1) erf(z2) = 2/pi arcsin(2 rho / 3)
    e = activation("erf")
    want = 2 / math.pi * torch.asin(2 * rho / 3) / e.scale ** 2
    assert float((kernel(e, rho) - want).abs().max()) < 1e-10
    # ReLU (arc-cosine kernel), centred and normalised
    r = activation("relu")
    raw = (torch.sqrt(1 - rho ** 2) + (math.pi - torch.acos(rho)) * rho) / (2 * math.pi)
    want = (raw - r.shift ** 2) / r.scale ** 2
    assert float((kernel(r, rho) - want).abs().max()) < 2e-4      # truncation at n = 96 (+ tail term)
    # K' against a finite difference
    for act in (e, r, activation("tanh3")):
        x = torch.linspace(-0.9, 0.9, 19, dtype=torch.float64)
        fd = (kernel(act, x + 1e-6) - kernel(act, x - 1e-6)) / 2e-6
        assert float((kernel_prime(act, x) - fd).abs().max()) < 1e-6


def test_kernel_monte_carlo():
    g = torch.Generator().manual_seed(1)
    z1, z3 = torch.randn(2, 400_000, generator=g, dtype=torch.float64)
    for name in ("tanh3", "gelu", "h3"):
        a = activation(name)
        for rho in (-0.5, 0.3, 0.8):
            z2 = rho * z1 + math.sqrt(1 - rho ** 2) * z3
            v = a(z1) * a(z2)
            se = float(v.std()) / math.sqrt(len(v))
            assert abs(float(v.mean()) - float(kernel(a, torch.tensor(rho, dtype=torch.float64)))) < 5 * se


def _flat(act, k, xi):
    return Setting(act, tuple([1 / math.sqrt(k)] * k), tuple([1 / math.sqrt(k)] * k), xi)


def test_drift_hermite_closed_form():
    """sigma = h_p (p >= 2): -L'(0) = p xi^2 sum lam_i^2 c_i^2 r_i^-2p, equal to the lower bound."""
    for p in (2, 3, 4):
        s = Setting(f"h{p}", (0.5, -0.7, 0.3), (0.6, 0.0, 0.8), 1.3)
        lam, c = s.tensors()
        want = p * s.xi ** 2 * float((lam ** 2 * c ** 2 * s.r() ** (-2 * p)).sum())
        assert abs(float(drift(s, 0.0)) - want) < 1e-12
        assert abs(drift_lower_bound(s) - want) < 1e-12


def test_drift_is_minus_autograd_derivative():
    s = _flat("relu", 3, 0.8)
    for m in (-0.3, 0.0, 0.6):
        mt = torch.tensor(m, dtype=torch.float64, requires_grad=True)
        from lora_claims.theorems.numerics.teacher_student import population_loss
        L = population_loss(s, mt, torch.zeros(3, dtype=torch.float64))
        (g,) = torch.autograd.grad(L, mt)
        assert abs(-float(g) - float(drift(s, m))) < 1e-12


def test_loss_zero_only_at_teacher():
    s = _flat("tanh3", 4, 1.0)
    u = torch.zeros(10, dtype=torch.float64)
    u[4] = 1
    assert abs(float(loss_of_u(s, u))) < 1e-14
    u2 = u.clone()
    u2[4], u2[5] = 0.8, 0.6
    assert float(loss_of_u(s, u2)) > 1e-3


def test_ode_time_matches_pilot_and_solve_ivp():
    s = _flat("tanh3", 4, 1.0)
    tau, _ = ode_time(s, [0.5, 0.1, 0.01])
    # spec pilot: ODE T/d = 24.2 / 53.1 / 84.5 at eta0 = 0.05 (a1 = 0.6057 here vs the spec's 0.6059)
    assert np.allclose(tau / 0.05, [24.2, 53.1, 84.5], rtol=0.01)
    # closed form for h_2 with k = 1, c = 1, xi: D(m) = 2 xi^2 rho / r^2 with rho = (1 + xi^2 m)/r^2
    xi = 1.0
    s2 = Setting("h2", (1.0,), (1.0,), xi)
    r2 = 1 + xi ** 2
    f = lambda m: (1 - m * m) * 2 * xi ** 2 * (1 + xi ** 2 * m) / r2 ** 2  # noqa: E731
    want = integrate.quad(lambda m: 1 / f(m), 0.0, 0.9)[0]
    got, _ = ode_time(s2, [0.1])
    assert abs(got[0] - want) / want < 1e-6


def test_ode_tolerance_is_an_explicit_parameter():
    """rtol defaults to ODE_RTOL (1e-10); a re-verification's ctx.tolerance(ODE_RTOL) solves tighter and agrees."""
    s = _flat("tanh3", 4, 1.0)
    t1, sol1 = ode_time(s, [0.1])
    t0, _ = ode_time(s, [0.1], rtol=ODE_RTOL)
    rt = EvalContext(tight=True).tolerance(ODE_RTOL)
    assert rt == ODE_RTOL * 1e-2 and EvalContext().tolerance(ODE_RTOL) == ODE_RTOL
    t2, sol2 = ode_time(s, [0.1], rtol=rt)
    assert t0[0] == t1[0] and sol2.nfev > sol1.nfev and abs(t2[0] - t1[0]) < 1e-6 * t1[0]
    assert float(predicted_T_over_d(s, [0.1], 0.05, rtol=rt)[0]) == t2[0] / 0.05


def test_predicted_memo_is_keyed_on_the_explicit_tolerance():
    from lora_claims.theorems import dayi2024 as D
    s = _flat("tanh3", 4, 1.0)
    loose = D._predicted(s, (0.1,), 0.05, ODE_RTOL)
    strict = D._predicted(s, (0.1,), 0.05, ODE_RTOL * 1e-2)
    assert loose == (float(predicted_T_over_d(s, [0.1], 0.05)[0]),)
    assert strict == (float(predicted_T_over_d(s, [0.1], 0.05, rtol=ODE_RTOL * 1e-2)[0]),)


# ---------------------------------------------------------------- mutants used by negative controls

def test_inv_factorial_kernel_mutant_divides_by_n_factorial():
    from lora_claims.theorems.numerics.hermite import mutant_activation
    rho = torch.linspace(-0.9, 1.0, 11, dtype=torch.float64)
    for p in (2, 3, 4):                                          # sigma = h_p: K(rho) = rho^p -> rho^p / p!
        a = activation(f"h{p}")
        assert float((kernel(mutant_activation(a, "inv_factorial"), rho) - rho ** p / math.factorial(p)).abs().max()) < 1e-12
    a = activation("tanh3")
    m = mutant_activation(a, "inv_factorial")
    assert mutant_activation(a, None) is a
    want = sum(c ** 2 * rho ** n / math.gamma(n + 1) for n, c in enumerate(a.alpha) if c) + a.tail * rho ** len(a.alpha)
    assert float((kernel(m, rho) - want).abs().max()) < 1e-12
    z = torch.linspace(-3, 3, 7, dtype=torch.float64)
    assert torch.equal(m(z), a(z))                               # the activation itself is unchanged
    with pytest.raises(ValueError):
        mutant_activation(a, "nonsense")


def test_kernel_mutant_setting_changes_the_loss_only_through_the_kernel():
    s = _flat("tanh3", 4, 1.0)
    sm = Setting(s.act, s.lam, s.c, s.xi, kernel_mutant="inv_factorial")
    u = torch.zeros(10, dtype=torch.float64)
    u[4], u[5] = 0.6, 0.8
    L, Lm = float(loss_of_u(s, u)), float(loss_of_u(sm, u))
    assert L > 1e-3 and abs(Lm / L - 1) > 0.5                   # tanh3 has no n = 1 term: every term shrinks
    assert Setting(s.act, s.lam, s.c, s.xi) == s                 # the default is the true table


def test_ode_mutant_without_sphere_factor():
    """dm/dtau = D(m) (no 1 - m^2): for h_2, k = 1 the time to 0.9 is the quad of 1/D, shorter than the truth."""
    xi = 1.0
    s2 = Setting("h2", (1.0,), (1.0,), xi)
    r2 = 1 + xi ** 2
    D = lambda m: 2 * xi ** 2 * (1 + xi ** 2 * m) / r2 ** 2  # noqa: E731
    want = integrate.quad(lambda m: 1 / D(m), 0.0, 0.9)[0]
    got, _ = ode_time(s2, [0.1], mutant="no_sphere_factor")
    true, _ = ode_time(s2, [0.1])
    assert abs(got[0] - want) / want < 1e-6
    assert got[0] < 0.8 * true[0]
    with pytest.raises(ValueError):
        ode_time(s2, [0.1], mutant="nonsense")


_EXACT = {"act": "tanh3", "k": 3, "xi": 1.0, "c_mode": "uniform", "lam_mode": "signed", "d": 8, "seed": 5}


@pytest.mark.parametrize("name,kw,mut", [
    ("eval_p0_autograd", {}, {"mutant": "flip"}),
    ("eval_p1_rotation", {}, {"rotate_x": False}),
    ("eval_p2_monte_carlo", {}, {"kernel_mutant": "inv_factorial"}),
    ("eval_p3_nonneg", {}, {"teacher_sign": -1.0}),
])
def test_exact_control_flags_break_only_the_mutated_check(name, kw, mut):
    """Each control flag turns a passing exact check into a clean (finite, negative) failure on one instance."""
    from lora_claims.theorems import dayi2024 as D
    f = getattr(D, name)
    drawn = dict(_EXACT, mc=200_000)
    ctx = EvalContext("cpu", torch.float64)
    with torch.no_grad():                                        # as the harness calls it
        ok, bad = f(drawn, ctx, **kw), f(drawn, ctx, **mut)
    assert ok.status == "pass", (name, ok.measured)
    assert bad.status == "fail" and math.isfinite(bad.margin), (name, bad.measured)


def test_monotone_control_drops_the_reflection():
    from lora_claims.theorems import dayi2024 as D
    drawn = {"act": "relu", "k": 48, "xi": 2.66, "c_mode": "uniform", "lam_mode": "inv_sqrt", "d": 50, "seed": 3}
    ctx = EvalContext("cpu", torch.float64)
    ok = D.eval_monotone(drawn, ctx)
    bad = D.eval_monotone(drawn, ctx, reflect=False)
    assert ok.status == "pass" and ok.measured["m0"] > 0
    assert bad.status == "fail" and bad.measured["m0"] < -1 / 2.66 ** 2 and bad.measured["min_D"] < 0


def test_dayi_draws_c_modes_restriction():
    from hypothesis import given, settings
    from lora_claims.strategies.dayi import c_vector, dayi_draws
    from lora_claims.profiles import get_profile

    @settings(max_examples=20, deadline=None)
    @given(dayi_draws(get_profile("ci"), monotone=True, acts=("relu",), k_range=(40, 60), d_range=(3, 3),
                      c_modes=("uniform",)))
    def check(dr):
        assert dr["c_mode"] == "uniform" and dr["d"] == dr["k"] + 2 and 40 <= dr["k"] <= 60
        assert dr["xi"] * max(abs(v) for v in c_vector("uniform", dr["k"], dr["seed"])) <= 1 + 1e-12

    check()


def test_sgd_cell_is_memoised_per_context():
    """An SGD cell is computed once per evaluation context (campaign memo); a tight re-verification context
    re-runs it (same per-run streams, so the same float32 numbers on the CPU)."""
    from lora_claims.theorems import dayi2024 as D
    from lora_claims.theorems.numerics.online_sgd import SGDConfig
    cfg = SGDConfig("tanh3", 2, 8, 1.0, (0.6, 0.8), (0.6, 0.8), eta0=0.1)
    ctx = EvalContext("cpu", torch.float64)
    a = D.sgd_cell(cfg, [1, 2, 3], 400, 0.1, ctx)
    assert D.sgd_cell(cfg, [1, 2, 3], 400, 0.1, ctx) is a and len(ctx.solves) == 1
    b = D.sgd_cell(cfg, [1, 2, 3], 400, 0.1, ctx.tightened())
    assert b is not a and len(ctx.solves) == 2
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[2].m, b[2].m)
