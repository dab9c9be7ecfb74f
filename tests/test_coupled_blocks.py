"""Kim et al. Theorem 2 on a coupled loss: losses.CoupledBlocks, lora.BlockLoRA and
fails_loudly.block_geometry against independent computations (an entry-by-entry numpy loss, autograd,
the separable case done block by block with the single-matrix code)."""
import numpy as np
import pytest
import torch

from lora_claims.strategies.kim_instances import coupled_gquad, gquad
from lora_claims.theorems import kim2025 as K
from lora_claims.theorems.context import EvalContext
from lora_claims.theorems.numerics.convex_oracle import convex_optimum
from lora_claims.theorems.numerics.fails_loudly import block_geometry, endpoint_geometry, geometry
from lora_claims.theorems.numerics.losses import CoupledBlocks, WeightedQuadratic
from lora_claims.theorems.numerics.lora import BlockLoRA, LoRAObjective

F64 = torch.float64


def _loss(gamma, B=2, L=2, m=3, n=4, mu=0.7, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.rand(B, L, m, n, generator=g, dtype=F64) + 0.5
    T = torch.randn(B, L, m, n, generator=g, dtype=F64)
    return CoupledBlocks(W, T, gamma, mu=mu)


def _numpy_value(loss, X):
    """1/2 sum over entries of d^T Q d with Q_lk = sqrt(W_l W_k) (gamma off the diagonal) + mu/2 off-blocks."""
    W, T, g = loss.W.numpy(), loss.T.numpy(), loss.gamma.numpy()
    X = X.detach().numpy()
    B, L, m, n = W.shape
    out = np.zeros(B)
    for b in range(B):
        on = np.zeros((L * m, L * n), dtype=bool)
        for i in range(m):
            for j in range(n):
                d = np.array([X[b, l * m + i, l * n + j] - T[b, l, i, j] for l in range(L)])
                w = np.sqrt(W[b, :, i, j])
                Q = np.outer(w, w) * (g[b] + (1 - g[b]) * np.eye(L))
                out[b] += 0.5 * d @ Q @ d
        for l in range(L):
            on[l * m:(l + 1) * m, l * n:(l + 1) * n] = True
        out[b] += 0.5 * loss.mu * (X[b][~on] ** 2).sum()
    return out


@pytest.mark.parametrize("gamma", [0.0, 0.35, 0.9])
def test_coupled_loss_value_gradient_and_hessian(gamma):
    loss = _loss(torch.full((2,), gamma, dtype=F64))
    X = torch.randn(2, 6, 8, dtype=F64, requires_grad=True)
    assert np.allclose(loss.value(X).detach().numpy(), _numpy_value(loss, X), rtol=1e-13, atol=1e-13)
    g, = torch.autograd.grad(loss.value(X).sum(), X, create_graph=True)
    assert torch.allclose(loss.grad(X), g, atol=1e-13)
    D = torch.randn_like(X)
    hv, = torch.autograd.grad((g * D).sum(), X)
    assert torch.allclose(loss.hvp(X, D), hv, atol=1e-12)
    H = loss.hess(X)
    assert torch.allclose((H @ D.reshape(2, -1, 1)).reshape(X.shape), hv, atol=1e-12)
    ev = torch.linalg.eigvalsh(H)
    assert bool((ev[:, 0] > 0).all()) and bool((ev[:, -1] <= loss.lipschitz() * (1 + 1e-12)).all())


def test_coupled_loss_rejects_bad_input():
    W = torch.ones(1, 2, 2, 2, dtype=F64)
    with pytest.raises(ValueError):
        CoupledBlocks(W, W, 1.0)
    with pytest.raises(ValueError):
        CoupledBlocks(-W, W, 0.1)


def _separate(loss):
    """gamma = 0: the blocks as single-matrix G-quads, one batch row per (instance, block)."""
    return WeightedQuadratic(loss.W.reshape(-1, loss.bm, loss.bn), loss.T.reshape(-1, loss.bm, loss.bn))


def test_block_lora_is_the_sum_of_block_objectives_when_separable():
    loss = _loss(0.0)
    lam, r = torch.tensor([0.3, 0.5], dtype=F64), 2
    obj = BlockLoRA(loss, lam, r, 2)
    Y = obj.project(torch.randn(2, obj.m + obj.n, obj.r, dtype=F64))
    single = LoRAObjective(_separate(loss), lam.repeat_interleave(2), r)
    blocks = torch.stack([torch.cat([Y[:, l * 3:(l + 1) * 3, l * r:(l + 1) * r],
                                     Y[:, 6 + l * 4:6 + (l + 1) * 4, l * r:(l + 1) * r]], dim=1) for l in range(2)], 1)
    want = single.value(blocks.reshape(4, 7, r)).reshape(2, 2).sum(dim=1)
    assert torch.allclose(obj.value(Y), want, atol=1e-12)
    assert torch.allclose(loss.diagonal(obj.delta(Y)).reshape(4, 3, 4), single.delta(blocks.reshape(4, 7, r)), atol=1e-13)


def test_block_lora_derivatives_are_those_of_the_restriction():
    loss = _loss(torch.tensor([0.2, 0.6], dtype=F64))
    obj = BlockLoRA(loss, torch.tensor([0.3, 0.5], dtype=F64), 2, 2)
    Y = torch.randn(2, obj.m + obj.n, obj.r, dtype=F64, requires_grad=True)    # off-block entries too
    v = obj.value(Y)
    g, = torch.autograd.grad(v.sum(), Y, create_graph=True)
    assert torch.allclose(obj.grad(Y), g, atol=1e-12)
    assert float(obj.grad(Y).detach()[(obj.mask == 0).expand_as(Y)].abs().max()) == 0.0    # flat off the blocks
    V = torch.randn_like(Y)
    hv, = torch.autograd.grad((g * V).sum(), Y)
    assert torch.allclose(obj.hvp(Y, V), hv, atol=1e-11)
    H = obj.hess(Y)
    assert torch.allclose((H @ V.reshape(2, -1, 1)).reshape(Y.shape), hv, atol=1e-11)


def test_the_convex_oracle_on_the_embedding_is_the_blockwise_optimum():
    """gamma = 0: the optimum of the embedded problem is the block-by-block optimum; gamma > 0: X* is block
    diagonal and satisfies the blockwise optimality conditions sigma_max(grad_l L) <= lam."""
    lam = torch.tensor([0.4, 0.4], dtype=F64)
    sep = _loss(0.0, mu=1.0)
    opt = convex_optimum(sep, lam)
    per = convex_optimum(_separate(sep), lam.repeat_interleave(2))
    assert torch.allclose(sep.diagonal(opt.delta).reshape(4, 3, 4), per.delta, atol=1e-9)
    cpl = _loss(torch.tensor([0.3, 0.45], dtype=F64), mu=1.0)
    opt = convex_optimum(cpl, lam)
    assert bool(opt.converged.all())
    assert float(cpl.off_diagonal(opt.delta).abs().max()) <= 1e-12
    G = cpl.diagonal(cpl.grad(opt.delta)).reshape(4, 3, 4)
    assert float((torch.linalg.matrix_norm(G, ord=2) / 0.4).max()) <= 1 + 1e-8
    moved = convex_optimum(_separate(cpl), lam.repeat_interleave(2)).delta
    assert float((cpl.diagonal(opt.delta).reshape(4, 3, 4) - moved).abs().max()) > 1e-3   # the coupling matters


def test_block_geometry_equals_single_matrix_geometry_when_separable():
    loss = _loss(0.0, B=1)
    r = 2
    X = loss.embed(torch.randn(1, 2, 3, 4, dtype=F64))
    Xs = loss.embed(torch.randn(1, 2, 3, 4, dtype=F64))
    lam = torch.tensor([0.5], dtype=F64)
    rstar = torch.tensor([[1, 2]])
    got = block_geometry(loss, lam, X, Xs, rstar, r)
    want = endpoint_geometry(_separate(loss), lam.repeat(2), loss.diagonal(X)[0], loss.diagonal(Xs)[0],
                             rstar.reshape(-1), r)
    for f in ("ratio", "dist2", "tail2", "alpha_hat", "beta_hat", "sig_r", "sig_rstar"):
        assert torch.allclose(getattr(got, f), getattr(want, f), atol=1e-12), f


def test_block_geometry_of_a_coupled_loss_uses_the_joint_block_gradient_and_the_block_hessian():
    """gamma > 0: alpha_hat_l from the joint loss's block gradient (autograd), beta_hat_l from block l's own
    Hessian diag(W_l); the single-matrix geometry of block l alone misses the coupling."""
    loss = _loss(torch.tensor([0.6], dtype=F64), B=1)
    X = loss.embed(torch.randn(1, 2, 3, 4, dtype=F64)).requires_grad_(True)
    Xs = loss.embed(torch.randn(1, 2, 3, 4, dtype=F64)).requires_grad_(True)
    lam, rstar, r = torch.tensor([0.5], dtype=F64), torch.tensor([[1, 2]]), 2
    got = block_geometry(loss, lam, X.detach(), Xs.detach(), rstar, r)
    G = loss.diagonal(torch.autograd.grad(loss.value(X).sum(), X)[0])[0]
    Gs = loss.diagonal(torch.autograd.grad(loss.value(Xs).sum(), Xs)[0])[0]
    D = loss.diagonal(X - Xs).detach()[0]
    want_alpha = ((G - Gs) * D).sum(dim=(1, 2)) / (D ** 2).sum(dim=(1, 2))
    assert torch.allclose(got.alpha_hat, want_alpha, atol=1e-12)
    W = loss.W[0].reshape(2, -1)                                       # block l's own Hessian: diag(W_l)
    want = geometry(G, Gs, lambda d: (W * d ** 2).sum(dim=1), lam.repeat(2), loss.diagonal(X.detach())[0],
                    loss.diagonal(Xs.detach())[0], rstar.reshape(-1), r)
    for f in ("beta_hat", "ratio", "S_norm", "tail2"):
        assert torch.allclose(getattr(got, f), getattr(want, f), atol=1e-12), f
    alone = endpoint_geometry(_separate(loss), lam.repeat(2), loss.diagonal(X.detach())[0],
                              loss.diagonal(Xs.detach())[0], rstar.reshape(-1), r)
    assert float((got.alpha_hat - alone.alpha_hat).abs().max()) > 1e-3      # the coupling is seen


def test_theorem2_boundary_kappa_2_counts_as_special():
    """Theorem 2's special regime is non-strict: a block with kappa = 2 (2 alpha = beta) is special, so a
    pair of such blocks is checked by 'every block special => global'."""
    d = {"family": "gquad-blocks", "m": 3, "n": 3, "r": 2, "target_rank": 1, "target_scale": 2.0, "lam": 0.6,
         "seed": 3, "inits": 1, "kappas": [2.0, 1.5]}
    ev = K.eval_k4(d, EvalContext())
    assert ev.status == "pass" and ev.measured["all_special_joint_sosp"] >= 1, ev.measured


def test_coupled_gquad_keeps_a_curated_block():
    d = K._coupled_fixtures()[0]
    loss = coupled_gquad(d["m"], d["n"], d["kappas"], d["gamma"], d["seed"], d["target_rank"], d["target_scale"],
                         d["weights"], (d["first_batch"], d["first_index"]))
    single = gquad(d["m"], d["n"], d["kappas"][0], d["seed"], d["first_batch"], d["target_rank"], d["target_scale"],
                   d["weights"]).take(torch.tensor([d["first_index"]]))
    assert torch.equal(loss.W[0, 0], single.W[0]) and torch.equal(loss.T[0, 0], single.T[0])


def test_seeded_coupled_sosps_are_non_global_and_show_the_coupling():
    """The claim's power: the curated fixtures seed non-global joint SOSPs, and at one of them a certified
    block sits away from X*'s block with alpha_hat < 0 (what a uniform per-block RSC constant cannot allow)."""
    ctx = EvalContext()
    evs = [K.eval_k8(d, ctx) for d in K._coupled_fixtures()]
    assert all(e.status == "pass" for e in evs), [e.binding for e in evs]
    assert sum(e.measured["joint_nonglobal"] for e in evs) >= 2
    assert sum(e.measured["certified_blocks_away_from_xstar"] for e in evs) >= 1
    assert min(min(e.measured["moved_block_alpha_hat"], default=1.0) for e in evs) < 0
    ctl = [K.eval_k8(d, ctx, separable_reading=True) for d in K._coupled_fixtures()]
    assert any(e.status == "fail" and e.binding == "a certified block is X*'s block" for e in ctl)
