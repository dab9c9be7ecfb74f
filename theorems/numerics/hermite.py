"""Hermite expansions of the Dayi-Chen activation family (spec dayi2024 'Exact tools', 'Activation family').

Every activation is normalised so that E sigma(z)^2 = 1 (z ~ N(0, 1)).  Its coefficients in the
orthonormal (probabilists') Hermite basis h_n = He_n / sqrt(n!) are computed once by Gauss-Hermite
quadrature (>= 200 nodes; for the kinked ReLU, Gauss-Legendre split at the kink, since Gauss-Hermite across
a kink is only ~1e-3 accurate) and give the dual kernel K(rho) = E[sigma(p.x) sigma(q.x)] = sum_n alpha_n^2 rho^n
for unit p, q with p.q = rho, and its derivative K'(rho).  The mass sum_{n > N} alpha_n^2 beyond the
truncation (non-negligible only for the kinked ReLU) is carried as a rho^(N+1) term so that K(1) = 1.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

NODES = 256
N_COEF = 96

_SQ2 = math.sqrt(2.0)


def _gelu(z):
    return 0.5 * z * (1 + torch.erf(z / _SQ2))


def _raw(name: str):
    """The un-normalised activation as a torch function (works on any dtype/device)."""
    if name.startswith("h") and name[1:].isdigit():
        p = int(name[1:])
        return lambda z: hermite_h(p, z)
    table = {
        "relu": torch.relu,
        "gelu": _gelu,
        "erf": torch.erf,
        "tanh": torch.tanh,
        "tanh3": lambda z: torch.tanh(z) - _tanh_a1() * z,
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}")
    return table[name]


def hermite_h(n: int, z):
    """Normalised probabilists' Hermite polynomial h_n(z) = He_n(z)/sqrt(n!) by the stable recurrence."""
    h0, h1 = torch.ones_like(z), z
    if n == 0:
        return h0
    for j in range(1, n):
        h0, h1 = h1, (z * h1 - math.sqrt(j) * h0) / math.sqrt(j + 1)
    return h1


@functools.lru_cache(maxsize=None)
def _gauss(nodes: int = NODES):
    x, w = np.polynomial.hermite_e.hermegauss(nodes)          # weight exp(-x^2/2), sum w = sqrt(2 pi)
    return torch.tensor(x, dtype=torch.float64), torch.tensor(w / math.sqrt(2 * math.pi), dtype=torch.float64)


def gauss_expect(f, nodes: int = NODES) -> float:
    """E f(z), z ~ N(0,1), by Gauss-Hermite quadrature."""
    x, w = _gauss(nodes)
    return float((w * f(x)).sum())


KINKED = {"relu"}              # non-smooth at 0: Gauss-Hermite converges slowly across a kink


@functools.lru_cache(maxsize=None)
def _split_legendre(nodes: int, half_width: float = 30.0):
    """Gauss-Legendre on [-L, 0] and [0, L] (nodes each) with the Gaussian density folded into the weights:
    exact splitting at the kink, so E f(z) h_n(z) converges spectrally on each smooth piece."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    xs = np.concatenate([(x - 1) * half_width / 2, (x + 1) * half_width / 2])
    ws = np.concatenate([w, w]) * half_width / 2 * np.exp(-xs ** 2 / 2) / math.sqrt(2 * math.pi)
    return torch.tensor(xs, dtype=torch.float64), torch.tensor(ws, dtype=torch.float64)


@functools.lru_cache(maxsize=None)
def _tanh_a1() -> float:
    return gauss_expect(lambda z: 1 - torch.tanh(z) ** 2)


@dataclass(frozen=True)
class Activation:
    """sigma(z) = (raw(z) - shift) / scale with E sigma^2 = 1; ``alpha`` its Hermite coefficients."""

    name: str
    shift: float
    scale: float
    alpha: tuple          # alpha_0 .. alpha_N (float64)
    tail: float           # 1 - sum alpha_n^2 (mass beyond the truncation)

    def __call__(self, z):
        return (_raw(self.name)(z) - self.shift) / self.scale

    def deriv(self, z):
        """sigma'(z) (torch autograd-free closed forms)."""
        n = self.name
        if n.startswith("h") and n[1:].isdigit():
            p = int(n[1:])
            return math.sqrt(p) * hermite_h(p - 1, z) / self.scale if p > 0 else torch.zeros_like(z)
        if n == "relu":
            d = (z > 0).to(z.dtype)
        elif n == "gelu":
            d = 0.5 * (1 + torch.erf(z / _SQ2)) + z * torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        elif n == "erf":
            d = 2 / math.sqrt(math.pi) * torch.exp(-z * z)
        elif n == "tanh":
            d = 1 - torch.tanh(z) ** 2
        elif n == "tanh3":
            d = 1 - torch.tanh(z) ** 2 - _tanh_a1()
        else:
            raise ValueError(n)
        return d / self.scale

    def value_and_deriv(self, z):
        """(sigma(z), sigma'(z)) sharing the expensive part (the SGD hot loop)."""
        if self.name in ("tanh", "tanh3"):
            t = torch.tanh(z)
            a = _tanh_a1() if self.name == "tanh3" else 0.0
            return (t - a * z) / self.scale, (1 - a - t * t) / self.scale
        return self(z), self.deriv(z)

    @property
    def information_exponent(self) -> int:
        """Smallest n >= 1 with alpha_n != 0 (to 1e-10)."""
        return next(n for n in range(1, len(self.alpha)) if abs(self.alpha[n]) > 1e-10)

    def coef(self, device=None, dtype=torch.float64) -> torch.Tensor:
        return torch.tensor(self.alpha, dtype=dtype, device=device)


CENTRED = {"relu"}          # spec: "centred ReLU"; other members keep their mean (it cancels in the loss)
FAMILY = ("h1", "h2", "h3", "h4", "tanh3", "relu", "gelu", "erf", "tanh")
NONLINEAR = tuple(n for n in FAMILY if n != "h1")


@functools.lru_cache(maxsize=None)
def activation(name: str, nodes: int = NODES, n_coef: int = N_COEF) -> Activation:
    """The normalised activation and its Hermite coefficients (Gauss-Hermite, ``nodes`` >= 200)."""
    if nodes < 200:
        raise ValueError("the spec asks for >= 200 quadrature nodes")
    raw = _raw(name)
    x, w = _split_legendre(2 * nodes) if name in KINKED else _gauss(nodes)
    fx = raw(x)
    shift = float((w * fx).sum()) if name in CENTRED else 0.0
    scale = math.sqrt(float((w * (fx - shift) ** 2).sum()))
    sig = (fx - shift) / scale
    # h_n(x) * w by the recurrence, all n at once
    alpha, h0, h1 = [], torch.ones_like(x), x.clone()
    alpha.append(float((w * sig * h0).sum()))
    alpha.append(float((w * sig * h1).sum()))
    for j in range(1, n_coef):
        h0, h1 = h1, (x * h1 - math.sqrt(j) * h0) / math.sqrt(j + 1)
        alpha.append(float((w * sig * h1).sum()))
    a = np.array(alpha)
    a[np.abs(a) < 1e-13] = 0.0
    tail = max(0.0, 1.0 - float((a ** 2).sum()))
    return Activation(name, shift, scale, tuple(a.tolist()), tail)


KERNEL_MUTANTS = (None, "inv_factorial")


def mutant_activation(act: Activation, mutant: str | None) -> Activation:
    """A deliberately mis-normalised Hermite table (negative controls only).

    ``'inv_factorial'``: alpha_n / sqrt(n!), as if the orthonormal coefficients were taken for the He_n basis,
    so :func:`kernel` computes sum_n alpha_n^2 rho^n / n! (the activation itself is unchanged)."""
    if mutant is None:
        return act
    if mutant != "inv_factorial":
        raise ValueError(f"unknown kernel mutant {mutant!r} (one of {KERNEL_MUTANTS})")
    alpha = tuple(a / math.exp(0.5 * math.lgamma(n + 1)) for n, a in enumerate(act.alpha))
    return Activation(act.name, act.shift, act.scale, alpha, act.tail)


def kernel(act: Activation, rho: torch.Tensor) -> torch.Tensor:
    """K(rho) = sum_n alpha_n^2 rho^n (+ tail rho^(N+1)); rho may carry autograd."""
    c = act.coef(rho.device, rho.dtype) ** 2
    out = torch.full_like(rho, act.tail)
    for n in range(c.shape[0] - 1, -1, -1):                   # Horner
        out = out * rho + c[n]
    return out


def kernel_prime(act: Activation, rho: torch.Tensor) -> torch.Tensor:
    """K'(rho) = sum_n n alpha_n^2 rho^(n-1) (+ tail (N+1) rho^N)."""
    c = act.coef(rho.device, rho.dtype) ** 2
    N = c.shape[0]
    out = act.tail * (N + 0.0) * torch.ones_like(rho)
    for n in range(N - 1, 0, -1):
        out = out * rho + n * c[n]
    return out
