"""Exact population quantities of the (reconstructed) Dayi-Chen rank-1 fine-tuning model.

Spec dayi2024 'Setting' and 'Exact tools' [derived for the reconstructed model]: normalised neurons,
canonical frame W = [I_k | 0], u* = e_{k+1} (index k), a_i = w_i + xi c_i u, b_i = w_i + xi c_i u*.
The loss depends on u only through m = <u, u*> and v = W u (rotation invariance, P1), and

    L(m, v) = 1/2 sum_ij lam_i lam_j [K(rho^aa_ij) - 2 K(rho^ab_ij) + K(rho^bb_ij)].

In the proj variant (u perp span W, v = 0) the population flow is the 1-d ODE
dm/dtau = (1 - m^2) D(m), D(m) = -L'(m) = xi^2 sum_ij lam_i lam_j c_i c_j K'(rho^ab_ij(m)) / (r_i r_j),
with tau = eta t; the predicted SGD time is T_eps / d = tau_eps / eta0 for eta = eta0 / d.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.integrate import solve_ivp

from .hermite import Activation, activation, kernel, kernel_prime, mutant_activation

ODE_MUTANTS = (None, "no_sphere_factor")
ODE_RTOL = 1e-10                   # the ODE's default relative tolerance (a re-verification passes a tighter one)


@dataclass(frozen=True)
class Setting:
    """One teacher/student pair: activation name, lam (k), c (k, unit), xi; canonical frame.
    ``kernel_mutant`` (negative controls only): a mis-normalised Hermite table (hermite.mutant_activation)."""

    act: str
    lam: tuple
    c: tuple
    xi: float
    kernel_mutant: str | None = None

    @property
    def k(self) -> int:
        return len(self.c)

    @property
    def sigma(self) -> Activation:
        return mutant_activation(activation(self.act), self.kernel_mutant)

    def tensors(self, device=None, dtype=torch.float64):
        t = lambda a: torch.tensor(a, dtype=dtype, device=device)  # noqa: E731
        return t(self.lam), t(self.c)

    def r(self, device=None, dtype=torch.float64) -> torch.Tensor:
        """r_i = ||b_i|| = sqrt(1 + xi^2 c_i^2)."""
        _, c = self.tensors(device, dtype)
        return torch.sqrt(1 + self.xi ** 2 * c ** 2)


def _gram(s: Setting, m, v):
    """Normalised Gram entries rho^aa, rho^ab, rho^bb, each (..., k, k); m (...), v (..., k)."""
    lam, c = s.tensors(v.device, v.dtype)
    xi, eye = s.xi, torch.eye(s.k, dtype=v.dtype, device=v.device)
    cc = c[:, None] * c[None, :]
    cv = c[:, None] * v[..., None, :]                             # c_i v_j
    aa = eye + xi * (cv + cv.transpose(-1, -2)) + xi ** 2 * cc
    ab = eye + xi * cv + xi ** 2 * cc * m[..., None, None]
    bb = eye + xi ** 2 * cc
    na = torch.sqrt(torch.diagonal(aa, dim1=-2, dim2=-1))
    nb = torch.sqrt(torch.diagonal(bb, dim1=-2, dim2=-1))
    return (aa / (na[..., :, None] * na[..., None, :]), ab / (na[..., :, None] * nb[..., None, :]),
            bb / (nb[..., :, None] * nb[..., None, :]))


def population_loss(s: Setting, m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Exact L(m, v) = 1/2 E (f_u - f*)^2 (broadcast over leading dims; autograd-capable)."""
    lam, _ = s.tensors(v.device, v.dtype)
    aa, ab, bb = _gram(s, m, v)
    K = s.sigma
    ll = lam[:, None] * lam[None, :]
    return 0.5 * (ll * (kernel(K, aa) - 2 * kernel(K, ab) + kernel(K, bb))).sum(dim=(-2, -1))


def loss_of_u(s: Setting, u: torch.Tensor) -> torch.Tensor:
    """L(u) for u (..., d) in the canonical frame (m = u[k], v = u[:k])."""
    return population_loss(s, u[..., s.k], u[..., : s.k])


def base_variance(s: Setting) -> float:
    """Var(f* - f_base) = E (f* - f)^2 with the base model f = sum lam_i sigma(w_i.x) (exact)."""
    lam, c = s.tensors()
    r = s.r()
    eye = torch.eye(s.k, dtype=torch.float64)
    bb = (eye + s.xi ** 2 * c[:, None] * c[None, :]) / (r[:, None] * r[None, :])
    bw = eye / r[:, None]                                          # <b_i/|b_i|, w_j>
    K, ll = s.sigma, lam[:, None] * lam[None, :]
    return float((ll * (kernel(K, bb) - 2 * kernel(K, bw) + kernel(K, eye))).sum())


def drift(s: Setting, m) -> torch.Tensor:
    """D(m) = -L'(m) in the proj variant (v = 0), float64."""
    m = torch.as_tensor(m, dtype=torch.float64)
    lam, c = s.tensors()
    r = s.r()
    w = lam * c / r
    rho = (torch.eye(s.k, dtype=torch.float64) + s.xi ** 2 * c[:, None] * c[None, :] * m[..., None, None]) \
        / (r[:, None] * r[None, :])
    return s.xi ** 2 * (w[:, None] * w[None, :] * kernel_prime(s.sigma, rho)).sum(dim=(-2, -1))


def drift_lower_bound(s: Setting) -> float:
    """T2: D(0) >= xi^2 sum_i lam_i^2 c_i^2 r_i^-2 sum_{n>=2} n alpha_n^2 r_i^(-2(n-1))."""
    lam, c = s.tensors()
    r2 = s.r() ** 2
    a2 = s.sigma.coef() ** 2
    n = torch.arange(a2.shape[0], dtype=torch.float64)
    inner = (n[None, 2:] * a2[None, 2:] * r2[:, None] ** (-(n[None, 2:] - 1))).sum(-1)
    return float(s.xi ** 2 * (lam ** 2 * c ** 2 / r2 * inner).sum())


def ode_time(s: Setting, eps, m0: float = 0.0, tau_max: float = 1e4, rtol: float = ODE_RTOL,
             mutant: str | None = None):
    """tau_eps: time for dm/dtau = (1 - m^2) D(m) to go from m0 to 1 - eps (inf if never), per eps.
    ``rtol``: the integrator's relative tolerance (a claim's re-verification passes a tighter one).
    ``mutant='no_sphere_factor'`` (negative controls only): dm/dtau = D(m), the spherical factor dropped."""
    eps = np.atleast_1d(np.asarray(eps, dtype=float))
    if mutant not in ODE_MUTANTS:
        raise ValueError(f"unknown ODE mutant {mutant!r} (one of {ODE_MUTANTS})")
    sphere = mutant != "no_sphere_factor"

    # the drift as a polynomial-free scalar function (numpy for the integrator)
    def rhs(_, y):
        return [((1 - y[0] ** 2) if sphere else 1.0) * float(drift(s, y[0]))]
    events = []
    for e in eps:
        ev = (lambda target: (lambda t, y: y[0] - target))(1 - e)
        ev.terminal = False
        ev.direction = 1
        events.append(ev)
    stop = lambda t, y: y[0] - (1 - 0.5 * eps.min())  # noqa: E731
    stop.terminal = True
    sol = solve_ivp(rhs, (0.0, tau_max), [m0], method="DOP853", rtol=rtol, atol=1e-12,
                    events=events + [stop], dense_output=True)
    out = np.array([te[0] if len(te) else np.inf for te in sol.t_events[: len(eps)]])
    return out, sol


def predicted_T_over_d(s: Setting, eps, eta0: float, m0: float = 0.0, mutant: str | None = None,
                       rtol: float = ODE_RTOL):
    """T_eps / d = tau_eps / eta0 (eta = eta0 / d); ``mutant``, ``rtol``: see :func:`ode_time`."""
    tau, _ = ode_time(s, eps, m0, rtol=rtol, mutant=mutant)
    return tau / eta0


def linearised_residual(s: Setting, d: int, n_per_feature: int = 50, ridge: float = 1e-6, seed: int = 0,
                        device=None, dtype=torch.float64) -> float:
    """C8: residual fraction of the best linearised (kernel) predictor of f* - f_base.

    Features lam_i sigma'(w_i.x) x (k d of them), ridge regression on n_per_feature * k * d samples; the
    residual E (f* - f - pred)^2 / Var(f* - f) is measured on as many fresh samples.
    """
    g = torch.Generator().manual_seed(int(seed))
    k, sig = s.k, s.sigma
    lam, c = s.tensors(device, dtype)
    r = s.r(device, dtype)
    n = n_per_feature * k * d

    def sample():
        x = torch.randn(n, d, generator=g, dtype=torch.float64).to(device, dtype)
        zt = (x[:, :k] + s.xi * c * x[:, k:k + 1]) / r
        y = sig(zt) @ lam - sig(x[:, :k]) @ lam
        F = (lam * sig.deriv(x[:, :k]))[:, :, None] * x[:, None, :]
        return F.reshape(n, k * d), y

    F, y = sample()
    A = F.T @ F / n + ridge * torch.eye(k * d, dtype=dtype, device=device)
    coef = torch.linalg.solve(A, F.T @ y / n)
    F2, y2 = sample()
    res = y2 - F2 @ coef
    return float((res ** 2).mean() / y2.var())
