"""The convex oracle's speed machinery (theorems/numerics/convex_oracle.py): FISTA's momentum and adaptive
restart, the polish (ADMM on the quadratic model, then Newton on balanced factors) and its schedule, and
the iteration count.  These change how fast the oracle converges, never what it converges to, so the
other oracle tests (optimum, KKT, conic cross-check) cannot see them; here every piece is pinned by an
iteration budget measured on fixed instances, by an independent re-run of the loop, or by a spy loss.
Measured (torch 2.13, float64): the polish at iteration 50 finishes every squared-loss row at iteration 51;
pure FISTA needs 389-2342 iterations on the instances below, and 4400 to > 6000 without restart or momentum.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lora_claims.strategies.ntk_instances import random_ntk
from lora_claims.theorems.numerics.convex_oracle import admm_model, convex_optimum, factor_newton, svt
from lora_claims.theorems.numerics.losses import MatrixLoss, NTKRisk

F64 = torch.float64
LAMS = torch.tensor([1e-3, 3e-3, 1e-2, 1e-1], dtype=F64)
SHAPES = [(3, 2, 5, 6), (4, 3, 6, 5), (2, 2, 4, 4)]


def _schedule(first: int, max_iter: int) -> list[int]:
    """The polish iterations the module docstring promises: first, then gaps max(first, k // 2)."""
    out = [first]
    while out[-1] + max(first, out[-1] // 2) <= max_iter:
        out.append(out[-1] + max(first, out[-1] // 2))
    return [k for k in out if k <= max_iter]


class _FailingPolish(MatrixLoss):
    """``inner`` with a negative-definite Hessian, so every polish candidate is rejected (ADMM's Cholesky
    fails, its rows keep x); counts the polishes (one Hessian call each when no row gets a rank)."""

    def __init__(self, inner: MatrixLoss, log: list):
        self.inner, self.log = inner, log
        self.m, self.n, self.dtype, self.device = inner.m, inner.n, inner.dtype, inner.device

    @property
    def batch(self) -> int:
        return self.inner.batch

    def value(self, delta):
        return self.inner.value(delta)

    def grad(self, delta):
        return self.inner.grad(delta)

    def hess(self, delta):
        self.log.append(delta.shape[0])
        return -torch.eye(self.m * self.n, dtype=delta.dtype).expand(delta.shape[0], -1, -1)

    def lipschitz(self):
        return self.inner.lipschitz()

    def take(self, index):
        return _FailingPolish(self.inner.take(index), self.log)


# ---------------------------------------------------------------- the polish

@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("first", [30, 50])
def test_polish_finishes_the_squared_loss_at_its_first_polish(shape, first):
    """On the squared loss ADMM's quadratic model is exact and the factor Newton step is quadratic, so the
    first polish lands on the optimum and FISTA's next step meets the stopping test: iteration first + 1."""
    loss = random_ntk(*shape, "sq", seed=11, batch=LAMS.numel())
    opt = convex_optimum(loss, LAMS, polish_every=first, max_iter=first + 10)
    assert bool(opt.converged.all()), opt.iterations.tolist()
    assert opt.iterations.tolist() == [first + 1] * LAMS.numel()
    assert opt.residual.max().item() <= 1e-12


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_polish_finishes_cross_entropy_within_three_polishes(shape):
    """Cross-entropy's quadratic model is only local: measured 51 or 101 iterations; 151 is the budget."""
    loss = random_ntk(*shape, "ce", seed=11, batch=LAMS.numel())
    opt = convex_optimum(loss, LAMS, max_iter=200)
    assert bool(opt.converged.all()), opt.iterations.tolist()
    assert opt.iterations.max().item() <= 151
    assert opt.residual.max().item() <= 1e-12


@pytest.mark.parametrize("max_iter", [49, 50, 99, 100, 149, 150, 224, 225, 336, 337, 505])
def test_polish_schedule_backs_off_geometrically(max_iter):
    """Failing polishes are retried at 50, 100, 150, 225, 337, 505, ... and only for unconverged rows
    with lam > 0 (a lam = 0 row is never polished)."""
    log: list = []
    lam = torch.tensor([1e-3, 0.0], dtype=F64)
    loss = random_ntk(4, 3, 6, 5, "sq", seed=11, batch=2)
    assert convex_optimum(loss.take(torch.tensor([1])), 0.0).iterations.item() > 50   # lam = 0 row: running at the first polish
    opt = convex_optimum(_FailingPolish(loss, log), lam, max_iter=max_iter)
    assert not bool(opt.converged[0]) and opt.iterations[0].item() == max_iter
    assert len(log) == len(_schedule(50, max_iter))
    assert set(log) <= {1}, "the lam = 0 row was sent to the polish"


def test_rejected_polish_leaves_fista_untouched():
    """A candidate that does not lower the prox-gradient residual is discarded with the momentum state:
    the iterates are then exactly pure FISTA's."""
    loss = random_ntk(4, 3, 6, 5, "ce", seed=5, batch=3)
    lam = torch.tensor([1e-3, 1e-2, 1e-1], dtype=F64)
    spied = convex_optimum(_FailingPolish(loss, []), lam, max_iter=260)
    plain = convex_optimum(loss, lam, polish_every=0, max_iter=260)
    assert spied.iterations.tolist() == plain.iterations.tolist()
    assert torch.equal(spied.delta, plain.delta)


def _kkt_residual(loss, X, lam):
    """L ||X - svt(X - grad/L, lam/L)||_F, written from the prox optimality condition (0 at the optimum)."""
    L = loss.lipschitz().view(-1, 1, 1)
    return (L * (X - svt(X - loss.grad(X) / L, lam / L.flatten()))).flatten(1).norm(dim=1)


def test_admm_on_the_squared_loss_is_exact():
    """For the squared loss the local quadratic model is the loss: ADMM from 0 reaches the optimum itself
    (measured: KKT residual <= 6e-12 after 300 iterations, <= 5e-5 after 80) with the optimum's rank."""
    loss = random_ntk(4, 3, 6, 5, "sq", seed=11, batch=4)
    ref = convex_optimum(loss, LAMS)
    x0 = torch.zeros(4, 6, 5, dtype=F64)
    Z, rank = admm_model(loss, LAMS, x0)
    assert _kkt_residual(loss, Z, LAMS).max().item() <= 1e-10
    assert rank.tolist() == ref.rank.tolist()
    Z, _ = admm_model(loss, LAMS, x0, iters=150)
    assert _kkt_residual(loss, Z, LAMS).max().item() <= 1e-6
    # a row whose Hessian is not PSD keeps its x and reports rank 0
    Z, rank = admm_model(_FailingPolish(loss, []), LAMS, x0 + 1.0)
    assert torch.equal(Z, x0 + 1.0) and rank.tolist() == [0] * 4


@pytest.mark.parametrize("kind, steps", [("ce", 5), ("sq", 20)])
def test_factor_newton_converges_from_near_the_optimum(kind, steps):
    """Newton on balanced rank-r factors from a point 1e-3 (relative) off the optimum, at the optimum's rank:
    measured KKT residual <= 3e-13 after 3 (ce) / 20 (sq) steps, quadratic convergence."""
    loss = random_ntk(4, 3, 6, 5, kind, seed=11, batch=4)
    ref = convex_optimum(loss, LAMS)
    g = torch.Generator().manual_seed(0)
    D = ref.delta + 1e-3 * torch.randn(ref.delta.shape, generator=g, dtype=F64) * ref.delta.abs().max()
    out = torch.stack([factor_newton(loss.take(torch.tensor([b])), LAMS[b:b + 1], D[b:b + 1], int(ref.rank[b]),
                                     steps=steps)[0] for b in range(4)])
    assert _kkt_residual(loss, out, LAMS).max().item() <= 1e-12
    assert (out - ref.delta).abs().max().item() <= 1e-9


def test_large_lam_stops_at_once_at_zero():
    """lam above sigma_max(grad L(0)): the first prox step is exactly 0, which meets the relative-change
    test at once."""
    loss = random_ntk(3, 2, 4, 5, "ce", seed=1, batch=2)
    lam = 2 * torch.linalg.matrix_norm(loss.grad(torch.zeros(2, 4, 5, dtype=F64)), ord=2)
    opt = convex_optimum(loss, lam, max_iter=50)
    assert bool(opt.converged.all()) and opt.iterations.tolist() == [1, 1]


@pytest.mark.parametrize("c", [1e4, 1.0])
def test_scaling_the_problem_scales_the_optimum(c):
    """Squared loss with f0, y -> c f0, c y and lam -> c lam has the optimum c delta* (homogeneity): the
    relative stopping test and the relative rank threshold must give the same rank and converge
    (measured: 51-338 iterations at c = 1e4)."""
    loss = random_ntk(3, 2, 5, 6, "sq", seed=11, batch=4)
    ref = convex_optimum(loss, LAMS)
    opt = convex_optimum(NTKRisk(loss.G, c * loss.f0, c * loss.y, "sq"), c * LAMS, max_iter=2000)
    assert bool(opt.converged.all()), opt.iterations.tolist()
    assert opt.rank.tolist() == ref.rank.tolist()
    assert (opt.delta - c * ref.delta).abs().max().item() <= 1e-10 * c * ref.delta.abs().max().item()


def test_no_polish_without_polish_every():
    log: list = []
    convex_optimum(_FailingPolish(random_ntk(3, 2, 5, 6, "sq", seed=11, batch=1), log), 1e-3,
                   polish_every=0, max_iter=120)
    assert log == []


# ---------------------------------------------------------------- FISTA: momentum, restart, count

@pytest.mark.parametrize("kind, shape, seed", [("sq", (3, 2, 5, 6), 11), ("ce", (2, 2, 4, 4), 3),
                                               ("sq", (4, 3, 6, 5), 5)])
def test_pure_fista_iteration_budget(kind, shape, seed):
    """Accelerated and restarted: measured 389-2342 iterations at lam = 0.1, 0.03 (plain proximal
    gradient, or momentum without the restart, needs 4400 to more than 6000)."""
    loss = random_ntk(*shape, kind, seed=seed, batch=2)
    opt = convex_optimum(loss, torch.tensor([0.1, 0.03], dtype=F64), polish_every=0, max_iter=3000)
    assert bool(opt.converged.all()), opt.iterations.tolist()


def _fista_numpy(loss, lam: float, steps: int) -> np.ndarray:
    """FISTA with singular-value thresholding and gradient-based restart, written from its definition
    (O'Donoghue & Candes 2015), for one batch row; ``loss.grad`` is the only shared code."""
    L = float(loss.lipschitz()[0])
    x = np.zeros((loss.m, loss.n))
    y, t = x.copy(), 1.0
    for _ in range(steps):
        g = loss.grad(torch.as_tensor(y).unsqueeze(0))[0].numpy()
        U, s, Vt = np.linalg.svd(y - g / L, full_matrices=False)
        x_new = (U * np.maximum(s - lam / L, 0.0)) @ Vt
        if np.sum((y - x_new) * (x_new - x)) > 0:
            t_new, beta = 1.0, 0.0
        else:
            t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
            beta = (t - 1) / t_new
        y = x_new + beta * (x_new - x)
        x, t = x_new, t_new
    return x


@pytest.mark.parametrize("steps", [1, 2, 7, 40])
def test_iterates_match_fista_written_out(steps):
    """``max_iter`` unconverged iterations are exactly FISTA's: count, flag and iterate."""
    loss = random_ntk(3, 2, 5, 6, "ce", seed=2, batch=1)
    opt = convex_optimum(loss, 0.02, polish_every=0, max_iter=steps)
    assert opt.iterations.tolist() == [steps] and not bool(opt.converged[0])
    ref = _fista_numpy(loss, 0.02, steps)
    assert np.abs(opt.delta[0].numpy() - ref).max() <= 1e-12 * max(1.0, np.abs(ref).max())


def test_warm_start_at_the_optimum_takes_one_iteration():
    loss = random_ntk(4, 3, 6, 5, "sq", seed=4, batch=4)
    opt = convex_optimum(loss, LAMS)
    again = convex_optimum(loss, LAMS, delta0=opt.delta)
    assert again.iterations.tolist() == [1] * 4 and bool(again.converged.all())


def test_converged_rows_leave_the_batch_with_their_own_count():
    """Rows stop at different iterations; each keeps its own count and its own iterate."""
    loss = random_ntk(2, 2, 4, 4, "ce", seed=3, batch=2)
    lam = torch.tensor([0.1, 0.03], dtype=F64)
    both = convex_optimum(loss, lam, polish_every=0, max_iter=3000)
    assert both.iterations[0].item() < both.iterations[1].item()
    for b in range(2):
        one = convex_optimum(loss.take(torch.tensor([b])), lam[b].item(), polish_every=0, max_iter=3000)
        assert one.iterations.item() == both.iterations[b].item()
        assert torch.equal(one.delta[0], both.delta[b])
