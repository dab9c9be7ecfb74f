"""Batched online SGD for the Dayi-Chen teacher/student (spec dayi2024 'Setting', 'Executable checks').

B independent runs advance in one tensor program on the canonical frame (W = [I_k | 0], u* = e_{k+1},
index k).  Each step draws a fresh x ~ N(0, I_d) per run, takes the squared-loss gradient and a spherical
step u <- normalize(u - eta (I - u u^T) grad), eta = eta0 / d^eta_power.  m = <u, u*> and v = W u are
logged every max(1, d // 8) steps.

Randomness: one counter-based stream per run (splitmix64 of (seed_b, step, coordinate), Box-Muller), so a
run's trajectory depends only on its recorded seed -- not on the batch it shares, nor on the device.

Models (``model``): 'finetune' (the student; ``proj`` keeps u perp span W, ``normalised`` neurons),
'glm' (W = 0, single index), 'wrong_base' (the student's base is an independent random W'),
'scratch' (all k neurons theta_i in S^{d-1} trained; progress m = min_j max_i <theta_i, b_j/|b_j|>).
Injected bugs (``mutant``): 'no_sphere' (no tangent projection / renormalisation), 'flip' (gradient
ascent), 'eta_sqrt' (eta = eta0 / sqrt(d)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .hermite import activation

MODELS = ("finetune", "glm", "wrong_base", "scratch")
MUTANTS = (None, "no_sphere", "flip", "eta_sqrt")

_GAMMA = -7046029254386353131          # 0x9E3779B97F4A7C15 as int64
_C1 = -4658895280553007687             # 0xBF58476D1CE4E5B9
_C2 = -7723592293110705685             # 0x94D049BB133111EB
_M32 = (1 << 32) - 1


def _srl(z: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's >> is arithmetic)."""
    return (z >> s) & ((1 << (64 - s)) - 1)


def splitmix(z: torch.Tensor) -> torch.Tensor:
    """splitmix64 finaliser on int64 tensors (wrapping arithmetic)."""
    z = (z ^ _srl(z, 30)) * _C1
    z = (z ^ _srl(z, 27)) * _C2
    return z ^ _srl(z, 31)


def run_keys(seeds, device) -> torch.Tensor:
    return splitmix(torch.as_tensor(list(seeds), dtype=torch.int64, device=device) * _GAMMA + 1)


def normals(keys: torch.Tensor, step0: int, steps: int, d: int, dtype) -> torch.Tensor:
    """(B, steps, d) standard normals for steps step0 .. step0 + steps - 1 of each run's stream."""
    h = (d + 1) // 2
    idx = torch.arange(step0 * h, (step0 + steps) * h, dtype=torch.int64, device=keys.device)
    z = splitmix(keys[:, None] + idx[None, :] * _GAMMA)
    u1 = (_srl(z, 32).to(torch.float64 if dtype == torch.float64 else torch.float32) + 0.5) * 2.0 ** -32
    u2 = ((z & _M32).to(u1.dtype) + 0.5) * 2.0 ** -32
    rad = torch.sqrt(-2 * torch.log(u1))
    ang = (2 * math.pi) * u2
    out = torch.stack((rad * torch.cos(ang), rad * torch.sin(ang)), dim=-1)
    return out.reshape(keys.shape[0], steps, 2 * h)[:, :, :d].to(dtype)


@dataclass(frozen=True)
class SGDConfig:
    act: str
    k: int
    d: int
    xi: float
    c: tuple
    lam: tuple
    eta0: float = 0.05
    eta_power: float = 1.0
    model: str = "finetune"
    proj: bool = True
    normalised: bool = True
    mutant: str | None = None
    base_seed: int = 0                    # wrong_base: seed of W'

    def __post_init__(self):
        if self.model not in MODELS or self.mutant not in MUTANTS:
            raise ValueError(f"unknown model/mutant {self.model!r}/{self.mutant!r}")
        if self.d < self.k + 2:
            raise ValueError("need d >= k + 2")

    @property
    def eta(self) -> float:
        power = 0.5 if self.mutant == "eta_sqrt" else self.eta_power
        return self.eta0 / self.d ** power

    @property
    def log_every(self) -> int:
        return max(1, self.d // 8)


@dataclass
class SGDResult:
    config: SGDConfig
    seeds: list
    t: np.ndarray                          # (n_logs,) step counts
    m: np.ndarray                          # (n_logs, B)
    v: np.ndarray | None                   # (n_logs, B, k) (None for 'scratch')
    t_max: int
    steps_run: int
    meta: dict = field(default_factory=dict)


class Problem:
    """Tensors of one configuration on a device (the step is a pure function of (state, x))."""

    def __init__(self, cfg: SGDConfig, device, dtype):
        self.cfg, self.dev, self.dt = cfg, device, dtype
        self.sig = activation(cfg.act)
        t = lambda a: torch.tensor(a, dtype=dtype, device=device)  # noqa: E731
        self.lam, self.c = t(cfg.lam), t(cfg.c)
        k, xi = cfg.k, cfg.xi
        self.glm = cfg.model == "glm"
        self.r = torch.sqrt((0.0 if self.glm else 1.0) + xi ** 2 * self.c ** 2)
        self.rinv = 1 / self.r
        self.xcr = xi * self.c / self.r                             # xi c_i / r_i
        self.lxcr = self.lam * self.xcr
        self.Wp = None                     # the student's base if it is not the canonical one
        self.fast = (cfg.model == "glm" or (cfg.model == "finetune" and cfg.proj)) and cfg.normalised \
            and cfg.mutant != "no_sphere"
        if cfg.model == "wrong_base":
            g = torch.Generator().manual_seed(int(cfg.base_seed))
            q = torch.linalg.qr(torch.randn(cfg.d, k, generator=g, dtype=torch.float64))[0]
            self.Wp = q.T.to(device, dtype).contiguous()            # (k, d) orthonormal rows

    def teacher(self, x):
        z = x[:, self.cfg.k:self.cfg.k + 1] * (self.cfg.xi * self.c)
        if not self.glm:
            z = z + x[:, : self.cfg.k]
        if self.cfg.normalised:
            z = z / self.r
        return self.sig(z) @ self.lam

    def base_proj(self, x):
        """<w_i, x> for the student's base (zeros for the GLM)."""
        if self.glm:
            return None
        return x[:, : self.cfg.k] if self.Wp is None else x @ self.Wp.T

    def project_out_base(self, g):
        if self.glm:
            return g
        if self.Wp is None:
            g[:, : self.cfg.k] = 0
            return g
        return g - (g @ self.Wp.T) @ self.Wp

    def grad_finetune(self, u, x):
        """Per-run gradient of 1/2 (f_u(x) - f*(x))^2 w.r.t. u (B, d), and the residual."""
        cfg, xi, c, lam = self.cfg, self.cfg.xi, self.c, self.lam
        s = (u * x).sum(-1, keepdim=True)                         # <u, x>
        p = self.base_proj(x)
        pre = xi * c * s if p is None else p + xi * c * s
        if cfg.normalised:
            vv = 0.0 if p is None else self.base_proj(u)
            n2 = (0.0 if p is None else 1.0 + 2 * xi * c * vv) + xi ** 2 * c ** 2 * (u * u).sum(-1, keepdim=True)
            n = torch.sqrt(n2)
            z = pre / n
        else:
            z = pre
        e = self.sig(z) @ lam - self.teacher(x)                  # (B,)
        sp = lam * self.sig.deriv(z)                               # (B, k)
        if not cfg.normalised:
            return (e * (sp * c).sum(-1) * xi)[:, None] * x, e
        A = e * xi * (sp * c / n).sum(-1)
        q = sp * z / n2                                            # (B, k)
        gam = -e * xi ** 2 * (q * c ** 2).sum(-1)
        g = A[:, None] * x + gam[:, None] * u
        if p is not None:
            beta = -e[:, None] * xi * q * c                       # along w_i
            if self.Wp is None:
                g[:, : cfg.k] += beta
            else:
                g = g + beta @ self.Wp
        return g, e

    def grad_scratch(self, th, x):
        """th (B, k, d): gradient of 1/2 (sum lam_i sigma(<th_i, x>) - f*)^2."""
        z = torch.einsum("bkd,bd->bk", th, x)
        e = self.sig(z) @ self.lam - self.teacher(x)
        return (e[:, None] * self.lam * self.sig.deriv(z))[:, :, None] * x[:, None, :], e


def init_state(cfg: SGDConfig, seeds, device, dtype):
    """u0 ~ Unif(S^{d-1}) (perp span W in the proj variant); one draw per run from its own stream."""
    keys = run_keys([int(s) ^ 0x5EED for s in seeds], device)
    if cfg.model == "scratch":
        g = normals(keys, 0, cfg.k, cfg.d, dtype)                  # (B, k, d)
        return g / g.norm(dim=-1, keepdim=True)
    u = normals(keys, 0, 1, cfg.d, dtype)[:, 0]
    if cfg.proj and cfg.model != "glm":
        u = Problem(cfg, device, dtype).project_out_base(u)
    return u / u.norm(dim=-1, keepdim=True)


def _progress(prob: Problem, state):
    cfg = prob.cfg
    if cfg.model == "scratch":
        b = torch.zeros(cfg.k, cfg.d, dtype=state.dtype, device=state.device)
        b[:, : cfg.k] = torch.eye(cfg.k, dtype=state.dtype, device=state.device)
        b[:, cfg.k] = cfg.xi * prob.c
        b = b / b.norm(dim=-1, keepdim=True)
        ov = torch.einsum("bid,jd->bij", state, b)                 # (B, student i, teacher j)
        return ov.amax(dim=1).amin(dim=1), None
    m = state[:, cfg.k] / (state.norm(dim=-1) if cfg.mutant == "no_sphere" else 1.0)
    return m, state[:, : cfg.k].clone()


def _fast_step(prob: Problem, u, x, eta: float):
    """The proj-variant (or GLM) step with v = 0: the neuron norms are the constants r_i and the radial
    parts of the gradient cancel, so grad_t = A (x_perp - <x, u> u), A = e xi sum_i lam_i sigma'(z_i) c_i / r_i.
    Same result as the general path (tests/test_online_sgd.py), a fifth of the kernel launches."""
    k = prob.cfg.k
    s = torch.linalg.vecdot(u, x)[:, None]
    if prob.glm:
        z = torch.cat((s, x[:, k:k + 1]), dim=1)                  # student, teacher (single index)
        val, der = prob.sig.value_and_deriv(z)
        e = (val[:, 0] - val[:, 1]) * prob.lam[0]
        A = e * prob.lam[0] * der[:, 0] * prob.cfg.xi * prob.c[0] / prob.r[0]
    else:
        xr = x[:, :k] * prob.rinv
        z = torch.cat((torch.addcmul(xr, s, prob.xcr), torch.addcmul(xr, x[:, k:k + 1], prob.xcr)), dim=1)
        val, der = prob.sig.value_and_deriv(z)
        e = (val[:, :k] - val[:, k:]) @ prob.lam
        A = e * (der[:, :k] @ prob.lxcr)
    g = torch.addcmul(x, s, u, value=-1.0)
    if not prob.glm:
        g[:, :k] = 0
    if prob.cfg.mutant == "flip":
        A = -A
    new = torch.addcmul(u, A[:, None], g, value=-eta)
    return new / torch.linalg.vector_norm(new, dim=-1, keepdim=True)


def step(prob: Problem, state, x, eta: float):
    """One online SGD step for every run (x: (B, d))."""
    cfg = prob.cfg
    if prob.fast:
        return _fast_step(prob, state, x, eta)
    if cfg.model == "scratch":
        g, _ = prob.grad_scratch(state, x)
        g = g - (g * state).sum(-1, keepdim=True) * state
        if cfg.mutant == "flip":
            g = -g
        new = state - eta * g
        return new / new.norm(dim=-1, keepdim=True)
    g, _ = prob.grad_finetune(state, x)
    if cfg.proj:
        g = prob.project_out_base(g)
    if cfg.mutant == "flip":
        g = -g
    if cfg.mutant == "no_sphere":
        return state - eta * g
    g = g - (g * state).sum(-1, keepdim=True) * state
    new = state - eta * g
    return new / new.norm(dim=-1, keepdim=True)


def run_sgd(cfg: SGDConfig, seeds, t_max: int, device="cpu", dtype=torch.float32, stop_eps: float | None = None,
            chunk_elems: int = 1 << 20) -> SGDResult:
    """Run len(seeds) independent runs for up to t_max steps (stops early once every run has reached
    m >= 1 - stop_eps and stayed >= 1 - 2 stop_eps for d further steps)."""
    device = torch.device(device)
    seeds = [int(s) for s in seeds]
    B, d, le = len(seeds), cfg.d, cfg.log_every
    prob = Problem(cfg, device, dtype)
    keys = run_keys(seeds, device)
    state = init_state(cfg, seeds, device, dtype)
    eta = cfg.eta
    S = max(1, min(4096, chunk_elems // max(1, B * d * (cfg.k if cfg.model == "scratch" else 1))))
    ts, ms, vs = [0], [], []
    m0, v0 = _progress(prob, state)
    ms.append(m0), vs.append(v0)
    since = torch.full((B,), -1, dtype=torch.int64, device=device)
    n_win = max(1, -(-d // le))                                    # logs spanning d steps
    t = 0
    while t < t_max:
        s = min(S, t_max - t)
        X = normals(keys, 1 + t, s, d, dtype)                      # stream step 0 is the init
        stop = False
        for j in range(s):
            state = step(prob, state, X[:, j], eta)
            t += 1
            if t % le and t != t_max:
                continue
            m, v = _progress(prob, state)
            ts.append(t), ms.append(m), vs.append(v)
            if stop_eps is not None:
                ok, low = m >= 1 - stop_eps, ~(m >= 1 - 2 * stop_eps)
                since = torch.where(low, torch.full_like(since, -1),
                                    torch.where((since < 0) & ok, torch.full_like(since, len(ts) - 1), since))
                if len(ts) % n_win == 0 and bool(((since >= 0) & (len(ts) - 1 - since >= n_win)).all()):
                    stop = True
                    break
        if stop:
            break
    m_arr = torch.stack(ms).cpu().double().numpy()
    v_arr = None if vs[0] is None else torch.stack(vs).cpu().double().numpy()
    return SGDResult(cfg, seeds, np.array(ts, dtype=np.int64), m_arr, v_arr, int(t_max), int(t))
