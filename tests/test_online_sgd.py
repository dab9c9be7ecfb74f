"""Batched online SGD: the counter RNG vs a pure-Python splitmix64, per-run streams, fast = general path."""
from __future__ import annotations

import math

import numpy as np
import torch

from lora_claims.theorems.numerics import online_sgd as O
from lora_claims.theorems.numerics.teacher_student import Setting, predicted_T_over_d
from lora_claims.theorems.numerics.scaling_stats import cell_quantile, first_passage

M64 = (1 << 64) - 1


def _splitmix_py(z: int) -> int:
    z &= M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def test_splitmix_matches_reference():
    xs = [0, 1, 12345, 2 ** 40 + 7, -5]
    got = O.splitmix(torch.tensor(xs, dtype=torch.int64)).tolist()
    assert [g & M64 for g in got] == [_splitmix_py(x) for x in xs]


def test_normals_are_standard_and_per_run():
    keys = O.run_keys([3, 4, 5], "cpu")
    X = O.normals(keys, 0, 2000, 64, torch.float64)
    x = X.flatten()
    assert abs(float(x.mean())) < 0.01 and abs(float(x.var()) - 1) < 0.01
    assert abs(float((x ** 4).mean()) - 3) < 0.05
    # a run's stream does not depend on the batch it is in, nor on chunking
    alone = O.normals(O.run_keys([4], "cpu"), 0, 2000, 64, torch.float64)
    assert torch.equal(alone[0], X[1])
    assert torch.equal(O.normals(keys, 700, 5, 64, torch.float64), X[:, 700:705])


def _cfg(**kw):
    k = kw.pop("k", 3)
    c = tuple([1 / math.sqrt(k)] * k)
    return O.SGDConfig("tanh3", k, kw.pop("d", 24), kw.pop("xi", 1.0), c, c, **kw)


def test_fast_step_equals_general_path():
    cfg = _cfg(eta0=0.3)
    p = O.Problem(cfg, "cpu", torch.float64)
    u = O.init_state(cfg, range(8), "cpu", torch.float64)
    x = torch.randn(8, cfg.d, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert p.fast
    fast = O.step(p, u, x, cfg.eta)
    p.fast = False
    slow = O.step(p, u, x, cfg.eta)
    assert float((fast - slow).abs().max()) < 1e-13
    assert float(fast[:, : cfg.k].abs().max()) == 0.0            # proj variant stays perp span W
    assert torch.allclose(fast.norm(dim=1), torch.ones(8, dtype=torch.float64))


def test_runs_are_reproducible_and_batch_independent():
    cfg = _cfg()
    a = O.run_sgd(cfg, [11, 12, 13], 300, dtype=torch.float64)
    b = O.run_sgd(cfg, [12], 300, dtype=torch.float64)
    assert np.array_equal(a.t, np.arange(0, 301, cfg.log_every))
    assert np.allclose(a.m[:, 1], b.m[:, 0], atol=1e-12)


def test_sgd_median_time_near_ode():
    """The spec's calibration (tanh3, k = 4, xi = 1, eta0 = 0.1): median T_0.1/d within 15% of tau/eta0 at d = 64."""
    cfg = _cfg(k=4, d=64, eta0=0.1)
    s = Setting("tanh3", cfg.lam, cfg.c, 1.0)
    pred = float(predicted_T_over_d(s, [0.1], 0.1)[0])
    r = O.run_sgd(cfg, range(24), int(3 * pred * 64), stop_eps=0.1)
    T, c = first_passage(r.t, r.m, 0.1, 64)
    assert c.mean() == 0
    assert abs(cell_quantile(T, c) / 64 / pred - 1) < 0.15


def test_mutants_change_the_dynamics():
    cfg = _cfg(k=4, d=32, eta0=0.1)
    flip = O.run_sgd(O.SGDConfig(**{**cfg.__dict__, "mutant": "flip"}), range(8), 2000)
    assert np.median(flip.m[-1]) < 0.5
    assert O.SGDConfig(**{**cfg.__dict__, "mutant": "eta_sqrt"}).eta == 0.1 / math.sqrt(32)
    glm = O.run_sgd(O.SGDConfig("tanh3", 1, 16, 1.0, (1.0,), (1.0,), eta0=2.0, eta_power=2.0, model="glm"), range(4), 50)
    assert glm.v.shape[-1] == 1
