"""Dayi-Chen exact tools vs closed forms and independent oracles (scipy quad, Monte Carlo, solve_ivp)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, special

from theorems.numerics.hermite import activation, kernel, kernel_prime
from theorems.numerics.teacher_student import Setting, drift, drift_lower_bound, loss_of_u, ode_time


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
        from theorems.numerics.teacher_student import population_loss
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
