"""Gradient flow of LoRA in matrix factorisation, batched (Xu et al. 2025, arXiv 2503.06982).

The paper's theorem texts were not available: the model below is the RECONSTRUCTED one of
shared/spec/xu2025_gradient_flow.md ("Reconstructed model"); ``variant`` is a parameter so the exact
statement can be swapped in later.  Reading B (primary): frozen pretrained factor U (m x h), residual
target R0 = Y_ft - U V^T (m x n), adapter Z1 (h x r), Z2 (n x r), prediction update U Z1 Z2^T,

    E = R0 - U Z1 Z2^T,   L = 1/2 ||E||_F^2,   dZ1/dt = U^T E Z2,   dZ2/dt = E^T U Z1.

Reading A is U = I (plain additive LoRA, h = m); Reading B' is the same flow with a wide or
rank-deficient U (non-trivial ker U).  Everything is batched over a leading dimension B and follows
the device/dtype of U and R0; exact checks use float64.

Solver choice: torchdiffeq.odeint rather than scipy.integrate.solve_ivp, because it integrates the
whole batch as ONE ODE system on torch tensors (so the same code runs on CUDA and vectorises over
instances), and offers dopri8 (8th order, as DOP853).  solve_ivp is CPU/numpy only and one system
at a time; the tests use it (DOP853) as the independent oracle.  Two details make the batched
solve as accurate as a per-instance one: the error norm is the max-norm (torchdiffeq's default RMS
norm would let one row's error be diluted by the others), and the output grid is passed as
a forced step so every reported state is a true Runge-Kutta step, not torchdiffeq's 4th-order dense
interpolant (which is far less accurate than dopri8 at rtol 1e-10); see ``_solve`` for why this
takes one odeint call per grid interval.

Event times: torchdiffeq's ``odeint_event`` stops the WHOLE system at the first event (its
``event_fn`` must return a scalar), so it cannot give per-row times.  Instead each event function
is evaluated on the uniform output grid, the first sign change is bracketed per row, and the
bracket is refined by the Illinois (modified regula falsi) method, each trial point obtained by
re-integrating all rows at once from the bracket's left state with a per-row time rescaling
(dy/ds = d_b f(y), s in [0, 1]).  The grid is uniform, not log-spaced: the events of this flow
(escape from the small-init saddle) happen at t ~ ln(1/alpha)/(2 sigma), not near t = 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torchdiffeq import odeint


_MUTANTS = (None, "transpose", "drop_factor", "skew")

# the solver's default tolerances; a float64 re-verification passes 100x smaller ones explicitly
RTOL = 1e-10
ATOL = 1e-13
# event times are refined until the bracket (or the last move) is below EVENT_XTOL * max(t, 1)
EVENT_XTOL = 1e-12


def _max_norm(x: torch.Tensor) -> torch.Tensor:
    return x.abs().max()


def _rms_norm(x: torch.Tensor) -> torch.Tensor:
    """torchdiffeq's default error norm (one row's error is diluted by the other rows')."""
    return x.abs().pow(2).mean().sqrt()


# the solver's error norm over the whole batched state: 'max' (every row meets the tolerance, the default)
# or 'rms' (torchdiffeq's default; only for the negative control of the batched solve)
NORMS = {"max": _max_norm, "rms": _rms_norm}


def _norm_fn(norm: str):
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {sorted(NORMS)}, not {norm!r}")
    return NORMS[norm]


class LoRAFlow:
    """The batched gradient flow above.  U: (B, m, h) or None (Reading A), R0: (B, m, n).

    ``mutant`` (negative control N5 of the spec): ``"transpose"`` uses U where U^T belongs in
    dZ1 (needs m == h); ``"drop_factor"`` drops Z1 in dZ2, i.e. dZ2 = E^T U I_{h x r} (= E^T U when
    h == r).  Both break the conserved imbalance (A1) and the closed form (A4).  ``"skew"`` flips the
    sign of dZ2 (Z2' = -E^T U Z1): a rotation-like flow that is no gradient flow, so the loss rises
    and falls (breaks A2) while staying bounded.
    """

    def __init__(self, U: torch.Tensor | None, R0: torch.Tensor, variant: str = "B",
                 mutant: str | None = None):
        if variant not in ("A", "B", "B'"):
            raise ValueError(f"unknown variant {variant!r} (expected 'A', 'B' or \"B'\")")
        if mutant not in _MUTANTS:
            raise ValueError(f"unknown mutant {mutant!r} (expected one of {_MUTANTS})")
        if R0.dim() != 3:
            raise ValueError("R0 must have shape (B, m, n)")
        if variant == "A":
            if U is not None:
                raise ValueError("variant 'A' means U = I: pass U=None")
        elif U is None or U.dim() != 3 or U.shape[:2] != R0.shape[:2]:
            raise ValueError("variant 'B' needs U of shape (B, m, h) matching R0 (B, m, n)")
        self.U, self.R0, self.variant, self.mutant = U, R0, variant, mutant
        self.batch, self.m, self.n = R0.shape
        self.h = self.m if U is None else U.shape[2]
        if mutant == "transpose" and self.m != self.h:
            raise ValueError("mutant 'transpose' needs a square U (m == h)")
        self.dtype, self.device = R0.dtype, R0.device

    def take(self, index) -> "LoRAFlow":
        """The same flow for batch rows ``index``."""
        index = torch.as_tensor(index, device=self.device).reshape(-1)
        return LoRAFlow(None if self.U is None else self.U[index], self.R0[index], self.variant,
                        self.mutant)

    # --- the model -------------------------------------------------------------------------------
    def _Umul(self, X):                       # U X
        return X if self.U is None else self.U @ X

    def _UTmul(self, X):                      # U^T X
        return X if self.U is None else self.U.transpose(-1, -2) @ X

    def update(self, Z1, Z2):
        """Prediction update U Z1 Z2^T: (B, m, n)."""
        return self._Umul(Z1) @ Z2.transpose(-1, -2)

    def residual(self, Z1, Z2):
        """E = R0 - U Z1 Z2^T."""
        return self.R0 - self.update(Z1, Z2)

    def loss(self, Z1, Z2):
        """L = 1/2 ||E||_F^2: (B,)."""
        return 0.5 * (self.residual(Z1, Z2) ** 2).sum(dim=(-2, -1))

    def rhs(self, Z1, Z2):
        """(dZ1/dt, dZ2/dt) = (U^T E Z2, E^T U Z1) (mutated if ``mutant`` is set)."""
        E = self.residual(Z1, Z2)
        if self.mutant == "transpose":
            dZ1 = self._Umul(E @ Z2)
        else:
            dZ1 = self._UTmul(E @ Z2)
        if self.mutant == "drop_factor":
            Ir = torch.eye(self.h, Z1.shape[-1], dtype=Z1.dtype, device=Z1.device).expand_as(Z1)
            dZ2 = E.transpose(-1, -2) @ self._Umul(Ir)
        else:
            dZ2 = E.transpose(-1, -2) @ self._Umul(Z1)
        if self.mutant == "skew":
            dZ2 = -dZ2
        return dZ1, dZ2

    def grad(self, Z1, Z2):
        """Euclidean gradient of L (= -rhs for the true flow)."""
        dZ1, dZ2 = self.rhs(Z1, Z2)
        return -dZ1, -dZ2

    def grad_norm(self, Z1, Z2):
        dZ1, dZ2 = self.rhs(Z1, Z2)
        return ((dZ1 ** 2).sum(dim=(-2, -1)) + (dZ2 ** 2).sum(dim=(-2, -1))).sqrt()

    def M(self):
        """Gradient at zero, -dL/d(Z1 Z2^T) at 0: M = U^T R0 (= R0 in Reading A)."""
        return self._UTmul(self.R0)

    @staticmethod
    def imbalance(Z1, Z2):
        """Z1^T Z1 - Z2^T Z2 (conserved by the true flow, spec A1): (B, r, r)."""
        return Z1.transpose(-1, -2) @ Z1 - Z2.transpose(-1, -2) @ Z2

    # --- flat state ------------------------------------------------------------------------------
    def pack(self, Z1, Z2):
        """(Z1, Z2) -> flat state (..., B, (h+n) r)."""
        return torch.cat([Z1.flatten(-2), Z2.flatten(-2)], dim=-1)

    def unpack(self, y, r: int | None = None):
        """Flat state (..., B, (h+n) r) -> (Z1 (..., B, h, r), Z2 (..., B, n, r))."""
        if r is None:
            r = y.shape[-1] // (self.h + self.n)
        k = self.h * r
        return (y[..., :k].reshape(*y.shape[:-1], self.h, r),
                y[..., k:].reshape(*y.shape[:-1], self.n, r))

    def field(self, r: int):
        """f(t, y) on the flat state, for ODE solvers."""
        def f(t, y):
            return self.pack(*self.rhs(*self.unpack(y, r)))
        return f


# --- integration ---------------------------------------------------------------------------------
@dataclass
class Flow:
    """A solved trajectory.  Event times are (B,), NaN where the event does not occur."""
    t: torch.Tensor          # (T,)
    Z1: torch.Tensor         # (T, B, h, r)
    Z2: torch.Tensor         # (T, B, n, r)
    loss: torch.Tensor       # (T, B)
    t_tau: torch.Tensor      # first t with ||U Z1 Z2^T||_2 >= tau sigma_1(R0)
    t_half: torch.Tensor     # first t with L <= (L(0) + L(t_end)) / 2
    t_grad: torch.Tensor | None  # first t >= t_half with ||grad L|| <= grad_stop
    tau: float
    nfe: int                 # right-hand-side evaluations (all solves, events included)

    @property
    def final(self):
        return self.Z1[-1], self.Z2[-1]


class _Field(torch.nn.Module):
    """f(t, y) with an evaluation counter; remembers the step size the solver last proposed."""

    def __init__(self, f, counter, scale=None):
        super().__init__()
        self.f, self.counter, self.scale, self.last_dt = f, counter, scale, None

    def forward(self, t, y):
        self.counter[0] += 1
        dy = self.f(t, y)
        return dy if self.scale is None else self.scale * dy

    def callback_step(self, t0, y0, dt):
        self.last_dt = dt


def _segment(fn, y0, a, b, method, rtol, atol, norm="max"):
    """One odeint call on [a, b] whose end is a forced step (a true RK state, not interpolated)."""
    t = torch.stack([a, b])
    opts = dict(step_t=t[1:], norm=_norm_fn(norm))
    if fn.last_dt is not None:
        opts["first_step"] = torch.minimum(fn.last_dt, b - a)
    return odeint(fn, y0, t, method=method, rtol=rtol, atol=atol, options=opts)[-1]


def _solve(flow: LoRAFlow, y0, t, r, method, rtol, atol, counter, norm="max"):
    """States at every grid time, one odeint call per grid interval.

    Not one call with ``step_t=t``: torchdiffeq advances its step_t index only when a step is
    truncated (strict ``<``), so a natural step landing exactly on a grid point makes it skip every
    later grid point and fill them with its 4th-order interpolant (measured errors ~2e-7 at
    rtol 1e-10).  The step size is carried across calls through ``first_step``.
    """
    fn = _Field(flow.field(r), counter)
    ys = [y0]
    for k in range(1, len(t)):
        ys.append(_segment(fn, ys[-1], t[k - 1], t[k], method, rtol, atol, norm))
    return torch.stack(ys)


def _solve_rows(flow: LoRAFlow, y0, d, r, method, rtol, atol, counter, norm="max"):
    """State at time d_b after y0_b, for every row at once (time rescaled to s in [0, 1])."""
    fn = _Field(flow.field(r), counter, scale=d.reshape(-1, 1).to(y0.dtype))
    s = torch.tensor([0.0, 1.0], dtype=y0.dtype, device=y0.device)
    return _segment(fn, y0, s[0], s[1], method, rtol, atol, norm)


def _event_funcs(flow: LoRAFlow, r, tau, level, grad_stop):
    """g(y) per row; the event is g >= 0."""
    s1 = torch.linalg.matrix_norm(flow.R0, ord=2)

    def g_tau(fl, idx, y):
        Z1, Z2 = fl.unpack(y, r)
        return torch.linalg.matrix_norm(fl.update(Z1, Z2), ord=2) - tau * s1[idx]

    def g_half(fl, idx, y):
        return level[idx] - fl.loss(*fl.unpack(y, r))

    def g_grad(fl, idx, y):
        return grad_stop - fl.grad_norm(*fl.unpack(y, r))
    return g_tau, g_half, g_grad


def _first_crossing(gv: torch.Tensor, start: torch.Tensor):
    """First grid index k >= start_b with g >= 0 per row; -1 if none.  gv: (T, B)."""
    T = gv.shape[0]
    k = torch.arange(T, device=gv.device).unsqueeze(1)
    hit = (gv >= 0) & (k >= start.unsqueeze(0))
    first = torch.where(hit, k, torch.full_like(k, T)).amin(dim=0)
    return torch.where(first < T, first, torch.full_like(first, -1))


def _refine(flow, g, ys, t, first, r, method, rtol, atol, counter, iters=60, xtol=EVENT_XTOL,
            norm="max"):
    """Illinois root refinement of the first crossing inside [t_{k-1}, t_k] per row.

    A row stops when its bracket or its last Illinois move is below xtol (relative to t).
    """
    B = ys.shape[1]
    out = torch.full((B,), float("nan"), dtype=t.dtype, device=t.device)
    out[first == 0] = t[0]
    rows = torch.nonzero(first > 0).reshape(-1)
    if len(rows) == 0:
        return out
    fl = flow.take(rows)
    k = first[rows]
    a, b = t[k - 1].clone(), t[k].clone()
    ya = ys[k - 1, rows]
    ga = g(fl, rows, ya)
    gb = g(fl, rows, ys[k, rows])
    side = torch.zeros_like(a)          # +1 last moved b, -1 last moved a
    c_old = a.clone()
    done = torch.zeros_like(a, dtype=torch.bool)
    for _ in range(iters):
        c = b - gb * (b - a) / (gb - ga)
        bad = ~torch.isfinite(c) | (c <= a) | (c >= b)
        c = torch.where(bad, 0.5 * (a + b), c)
        tol = xtol * b.abs().clamp_min(1.0)
        done = done | ((b - a) <= tol) | ((c - c_old).abs() <= tol)
        if bool(done.all()):
            break
        c = torch.where(done, c_old, c)
        yc = _solve_rows(fl, ya, torch.where(done, torch.zeros_like(c), c - a), r, method, rtol,
                         atol, counter, norm)
        gc = g(fl, rows, yc)
        left = (gc < 0) & ~done
        right = (gc >= 0) & ~done
        ya = torch.where(left.unsqueeze(1), yc, ya)
        # Illinois: halve the stale endpoint's value when the same side moves twice
        gb = torch.where(left, torch.where(side < 0, 0.5 * gb, gb), torch.where(right, gc, gb))
        ga = torch.where(right, torch.where(side > 0, 0.5 * ga, ga), torch.where(left, gc, ga))
        a, b = torch.where(left, c, a), torch.where(right, c, b)
        side = torch.where(left, -1.0, torch.where(right, 1.0, side))
        c_old = c
    out[rows] = torch.where(done, c_old, c)
    return out


def integrate(flow: LoRAFlow, Z1_0, Z2_0, t_end: float, *, method: str = "dopri8",
              rtol: float = RTOL, atol: float = ATOL, n_eval: int = 200, tau: float = 0.01,
              grad_stop: float | None = None, events: bool = True, norm: str = "max") -> Flow:
    """Solve the flow on [0, t_end] (uniform grid of ``n_eval`` points) and locate its events.

    The batch is one ODE system (dopri8 or dopri5 of torchdiffeq, max-norm error control, the grid
    as forced steps); events are refined to ~1e-12 in t, so their accuracy is the solver's.
    ``t_grad`` is searched from the t_half grid cell on, so that a tiny gradient at a small init
    (the saddle at 0) does not count as convergence.  ``events=False`` skips the event search
    (event times are then NaN) when only the states are wanted.  Default tolerances rtol 1e-10,
    atol 1e-13 (:data:`RTOL`, :data:`ATOL`); a caller re-verifying in float64 passes tighter ones.
    ``norm``: the error norm over the batched state, 'max' (default) or 'rms' (torchdiffeq's default, which
    lets the other rows dilute one row's error: kept only for the negative control of the batched solve).
    """
    _norm_fn(norm)
    if method not in ("dopri8", "dopri5"):
        raise ValueError("method must be 'dopri8' or 'dopri5'")
    r = Z1_0.shape[-1]
    counter = [0]
    t = torch.linspace(0.0, float(t_end), int(n_eval), dtype=flow.dtype, device=flow.device)
    y0 = flow.pack(Z1_0.to(flow.dtype), Z2_0.to(flow.dtype))
    ys = _solve(flow, y0, t, r, method, rtol, atol, counter, norm)   # (T, B, D)
    Z1, Z2 = flow.unpack(ys, r)
    B = ys.shape[1]
    loss = flow.loss(Z1, Z2)                                           # broadcasts over time
    if not events:
        nan = torch.full((B,), float("nan"), dtype=flow.dtype, device=flow.device)
        return Flow(t, Z1, Z2, loss, nan, nan.clone(), None if grad_stop is None else nan.clone(),
                    float(tau), counter[0])
    level = 0.5 * (loss[0] + loss[-1])
    g_tau, g_half, g_grad = _event_funcs(flow, r, tau, level, grad_stop)
    allrows = torch.arange(B, device=flow.device)
    zero = torch.zeros(B, dtype=torch.long, device=flow.device)

    def on_grid(g):
        return g(flow, allrows, ys)
    f_tau = _first_crossing(on_grid(g_tau), zero)
    t_tau = _refine(flow, g_tau, ys, t, f_tau, r, method, rtol, atol, counter, norm=norm)
    f_half = _first_crossing(on_grid(g_half), zero)
    no_progress = (loss[0] - loss[-1]) <= 1e-14 * loss[0].abs().clamp_min(1e-300)
    f_half = torch.where(no_progress, torch.full_like(f_half, -1), f_half)
    t_half = _refine(flow, g_half, ys, t, f_half, r, method, rtol, atol, counter, norm=norm)
    t_grad = None
    if grad_stop is not None:
        f_grad = _first_crossing(on_grid(g_grad), f_half.clamp_min(0))
        t_grad = _refine(flow, g_grad, ys, t, f_grad, r, method, rtol, atol, counter, norm=norm)
    return Flow(t, Z1, Z2, loss, t_tau, t_half, t_grad, float(tau), counter[0])


def states_at(flow: LoRAFlow, Z1_0, Z2_0, times, *, method: str = "dopri8", rtol: float = RTOL,
              atol: float = ATOL, norm: str = "max"):
    """(Z1, Z2) at a per-row time ``times`` (B,) from (Z1_0, Z2_0): one batched solve, each row's time
    rescaled to s in [0, 1] (e.g. the state exactly at each row's event time t_tau).  Rows with a
    non-finite time come back as NaN.  Tolerances and ``norm`` as in :func:`integrate`."""
    r = Z1_0.shape[-1]
    times = torch.as_tensor(times, dtype=flow.dtype, device=flow.device).reshape(-1)
    ok = torch.isfinite(times)
    y0 = flow.pack(Z1_0.to(flow.dtype), Z2_0.to(flow.dtype))
    y = _solve_rows(flow, y0, torch.where(ok, times, torch.zeros_like(times)), r, method, rtol, atol, [0],
                    norm)
    y = torch.where(ok.reshape(-1, 1), y, torch.full_like(y, float("nan")))
    return flow.unpack(y, r)


def spec_horizon(flow: LoRAFlow, alpha: float, r: int) -> torch.Tensor:
    """The spec's horizon T = ln(sigma_1(R0)/alpha)/(2 sigma_r(M)) + 20/(2 s_min sigma_r(R0)), (B,).

    s_min is the smallest nonzero singular value of U (1 in Reading A).
    """
    sR = torch.linalg.svdvals(flow.R0)
    sM = torch.linalg.svdvals(flow.M())
    if flow.U is None:
        smin = torch.ones_like(sR[:, 0])
    else:
        sU = torch.linalg.svdvals(flow.U)
        smin = torch.where(sU > 1e-12 * sU[:, :1], sU, torch.full_like(sU, math.inf)).amin(dim=1)
    return torch.log(sR[:, 0] / alpha) / (2 * sM[:, r - 1]) + 10.0 / (smin * sR[:, r - 1])


# --- discrete cross-check ------------------------------------------------------------------------
def gradient_descent_flow(flow: LoRAFlow, Z1_0, Z2_0, eta: float, steps: int, stride: int = 0):
    """GD (explicit Euler on the flow): Z <- Z + eta * rhs(Z), iterate k sits at time k eta.

    Returns (iterates, (Z1, Z2) final): ``iterates`` is a list of (k, Z1, Z2) every ``stride``
    steps (k = 0 included; empty when stride = 0).  Non-finite rows are kept (divergence shows).
    """
    Z1, Z2 = Z1_0.clone(), Z2_0.clone()
    its = [(0, Z1, Z2)] if stride else []
    for k in range(1, int(steps) + 1):
        d1, d2 = flow.rhs(Z1, Z2)
        Z1, Z2 = Z1 + eta * d1, Z2 + eta * d2
        if stride and k % stride == 0:
            its.append((k, Z1, Z2))
    return its, (Z1, Z2)


def _state_dist(flow, A, B):
    d = flow.pack(*A) - flow.pack(*B)
    return d.norm(dim=-1)


def step_halving_ratio(flow: LoRAFlow, Z1_0, Z2_0, eta: float, T: float, *, method: str = "dopri8",
                       rtol: float = RTOL, atol: float = ATOL):
    """||GD(eta) - GF(T)|| / ||GD(eta/2) - GF(T)|| per row, at the same time T (= 2 for Euler).

    T / eta must be an integer.  Distances are over the flat state (Z1, Z2).  The ODE reference is
    solved by :func:`integrate` with ``method``, ``rtol`` and ``atol``.
    """
    N = round(T / eta)
    if N < 1 or abs(N * eta - T) > 1e-9 * T:
        raise ValueError("T must be a positive integer multiple of eta")
    ode = integrate(flow, Z1_0, Z2_0, T, n_eval=2, events=False, method=method, rtol=rtol, atol=atol).final
    _, g1 = gradient_descent_flow(flow, Z1_0, Z2_0, eta, N)
    _, g2 = gradient_descent_flow(flow, Z1_0, Z2_0, eta / 2, 2 * N)
    return _state_dist(flow, g1, ode) / _state_dist(flow, g2, ode)


# --- closed forms (Reading B, aligned spectral init; spec A4) ------------------------------------
def logistic_mode(t, s, sigma, x0):
    """x(t) = sigma x0 e^{2 s sigma t} / (sigma + x0 (e^{2 s sigma t} - 1)).

    Convention (derived, spec A4): U = P diag(s) Q^T (P orthonormal columns, Q orthogonal), target
    R0 = sum_j sigma_j p_j w_j^T (+ any part orthogonal to col U), so M = U^T R0 = sum_j s_j sigma_j
    q_j w_j^T.  Spectral init Z1 = sqrt(alpha) [q_j], Z2 = sqrt(alpha) [w_j] (columns j in the
    chosen modes).  With Z1 e_j = a_j q_j, Z2 e_j = b_j w_j the flow decouples into
    a' = s(sigma - s a b) b, b' = s(sigma - s a b) a; balance a = b is conserved and the mode's
    singular value of the prediction update, x = s a b = p_j^T U Z1 Z2^T w_j, obeys
    x' = 2 s x (sigma - x) with x0 = s alpha.  So U Z1 Z2^T = sum_j x_j(t) p_j w_j^T and the loss
    is 1/2 sum_j (sigma_j - x_j)^2 + 1/2 (the untouched rest of R0)^2.
    Valid for 0 < x0 < sigma.  Works on tensors or floats (broadcasting); arguments are cast to
    float64, so pass Python floats or float64 tensors (a float32 t costs ~1e-7 relative).
    """
    t, s, sigma, x0 = (torch.as_tensor(v, dtype=torch.float64) for v in (t, s, sigma, x0))
    e = torch.exp(2 * s * sigma * t)
    # overflow-safe form: sigma x0 / (sigma e^{-k} + x0 (1 - e^{-k}))
    em = torch.exp(-2 * s * sigma * t)
    return torch.where(e < 1e300, sigma * x0 * e / (sigma + x0 * (e - 1)),
                       sigma * x0 / (sigma * em + x0 * (1 - em)))


def time_to_error(s, sigma, x0, eps):
    """T_eps = (1/(2 s sigma)) ln[(sigma - x0)(sigma - eps)/(x0 eps)]: first t with sigma - x(t) = eps.

    eps is the error of the mode's SINGULAR VALUE (the mode's loss is then eps^2 / 2), for
    0 < x0 < sigma - eps.  Finite for every eps > 0 (spec C3).
    """
    s, sigma, x0, eps = (torch.as_tensor(v, dtype=torch.float64) for v in (s, sigma, x0, eps))
    return torch.log((sigma - x0) * (sigma - eps) / (x0 * eps)) / (2 * s * sigma)


def time_to_value(s, sigma, x0, x):
    """Inverse of logistic_mode: first t with x(t) = x, for x0 < x < sigma."""
    s, sigma, x0, x = (torch.as_tensor(v, dtype=torch.float64) for v in (s, sigma, x0, x))
    return torch.log(x * (sigma - x0) / (x0 * (sigma - x))) / (2 * s * sigma)
