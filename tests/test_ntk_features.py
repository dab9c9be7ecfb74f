"""NTK features of real networks (theorems/numerics/ntk_features.py) and the measured Kim constants
(theorems/numerics/kim_constants.py) against independent computations."""
from __future__ import annotations

import copy

import pytest
import torch

from lora_claims.theorems.numerics import ntk_features as nf
from lora_claims.theorems.numerics.kim_constants import bracket, rank1_rayleigh

MLP = {"kind": "mlp", "d_in": 4, "width": 5, "K": 3, "seed": 1}
TRF = {"kind": "transformer", "d_in": 3, "width": 4, "K": 2, "ff": 5, "seed": 2}
CASES = [(MLP, "l0"), (MLP, "l1"), (TRF, "block.q"), (TRF, "block.k"), (TRF, "block.v"), (TRF, "block.o"),
         (TRF, "block.up")]


def _outputs(net, layer, W, X):
    params = dict(net.named_parameters())
    return torch.func.functional_call(net, {**params, layer + ".weight": W}, (X,))


@pytest.mark.parametrize("arch,layer", CASES, ids=[f"{a['kind']}-{l}" for a, l in CASES])
def test_jacobian_matches_finite_differences(arch, layer):
    net = nf.pretrained(arch)
    X = nf.inputs(arch, 3, seed=5)
    G, f0 = nf.jacobian(net, layer, X)
    W0 = dict(net.named_parameters())[layer + ".weight"]
    assert G.shape == (3, arch["K"], *W0.shape) == (3, arch["K"], *nf.layer_shape(arch, layer))
    torch.testing.assert_close(f0, net(X), rtol=0, atol=0)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        D = torch.randn(W0.shape, generator=g, dtype=torch.float64)
        eps = 1e-5
        fd = (_outputs(net, layer, W0 + eps * D, X) - _outputs(net, layer, W0 - eps * D, X)) / (2 * eps)
        lin = (G * D).sum(dim=(-2, -1))
        assert float((fd - lin).abs().max()) <= 1e-7 * max(1.0, float(lin.abs().max()))


def test_jacobian_closed_form_for_a_hidden_linear_layer():
    """z = head(tanh(W h0 + b)), h0 = tanh(l0 x): dz_k/dW = (head_k * (1 - tanh^2(W h0 + b))) h0^T."""
    net = nf.pretrained(MLP)
    X = nf.inputs(MLP, 4, seed=9)
    G, _ = nf.jacobian(net, "l1", X)
    with torch.no_grad():
        h0 = torch.tanh(net.l0(X))
        dact = 1 - torch.tanh(net.l1(h0)) ** 2
        closed = (net.head.weight.unsqueeze(0) * dact.unsqueeze(1)).unsqueeze(-1) * h0[:, None, None, :]
    torch.testing.assert_close(G, closed, rtol=1e-12, atol=1e-14)


def test_pretraining_is_deterministic_and_learns():
    nf._pretrained.cache_clear()
    a = copy.deepcopy(nf.pretrained(MLP))
    nf._pretrained.cache_clear()
    rng = torch.get_rng_state()
    b = nf.pretrained(MLP)
    assert torch.equal(rng, torch.get_rng_state()), "building a network must not touch the global RNG"
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(va, vb), k
    assert nf.pretrain_loss(MLP, b) < 0.1 * nf.pretrain_loss(MLP)


@pytest.mark.parametrize("loss", ["sq", "ce"])
def test_unit_scale_is_an_exact_reparametrisation(loss):
    raw = nf.ntk_risk(TRF, "block.v", 3, loss, seed=4, batch=2)
    unit, u = nf.unit_scale(raw)
    zero = torch.zeros(2, raw.m, raw.n, dtype=torch.float64)
    torch.testing.assert_close(torch.linalg.matrix_norm(unit.grad(zero), ord=2), torch.ones(2, dtype=torch.float64))
    D = torch.randn(2, raw.m, raw.n, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    # outputs: <G', D> = <G, u D> / s with s the RMS residual (1 for cross-entropy): the losses match up to s^2
    s = (raw.y - raw.f0).flatten(1).pow(2).mean(dim=1).sqrt() if loss == "sq" else torch.ones(2, dtype=torch.float64)
    lhs = unit.value(D) * s ** 2
    torch.testing.assert_close(lhs, raw.value(u.view(-1, 1, 1) * D), rtol=1e-12, atol=0)


def test_mlp_features_are_rank_one_and_transformer_features_rank_at_most_tokens():
    for arch, layer in CASES:
        G, _ = nf.jacobian(nf.pretrained(arch), layer, nf.inputs(arch, 2, seed=3))
        ranks = torch.linalg.matrix_rank(G.flatten(0, 1), rtol=1e-10)
        assert int(ranks.max()) <= nf.positions(arch)


def test_bracket_on_a_weighted_quadratic_is_exact():
    """G-quad: Hess = diag(vec W); alpha = min W, beta = max W; rank-1 extremes are attained on E_ij."""
    W = torch.tensor([[1.0, 5.0, 2.0], [3.0, 1.5, 4.0]], dtype=torch.float64)
    X = torch.zeros(2, 3, dtype=torch.float64)
    X[0, 0] = 1.0
    b = bracket(torch.diag(W.reshape(-1)), X)
    assert b["alpha_global"] == pytest.approx(1.0) and b["alpha_upper"] == pytest.approx(1.0)
    assert b["beta_global"] == pytest.approx(5.0) and b["beta_lower"] == pytest.approx(5.0)  # E_01 = e0 e1^T
    assert b["r_star"] == 1 and b["regime"] == "generic"
    b = bracket(torch.diag(torch.tensor([1.0, 1.5, 1.2, 1.9], dtype=torch.float64)), X[:, :2])
    assert b["regime"] == "special"


def test_rank1_extremes_bracket_the_spectrum_and_find_null_rank1_directions():
    g = torch.Generator().manual_seed(3)
    m, n, p = 4, 5, 3                      # p < m + n - 1: the null space of Gmat contains a rank-1 matrix
    Gm = torch.randn(p, m * n, generator=g, dtype=torch.float64)
    H = Gm.T @ Gm
    ev = torch.linalg.eigvalsh(H)
    lo, hi = rank1_rayleigh(H, m, n, largest=False), rank1_rayleigh(H, m, n, largest=True)
    assert ev[0] - 1e-12 <= lo <= 1e-10 and 0 < hi <= ev[-1] + 1e-10
    Gm = torch.randn(m * n, m * n, generator=g, dtype=torch.float64)   # full rank: alpha_upper >= lambda_min > 0
    H = Gm.T @ Gm
    assert rank1_rayleigh(H, m, n, largest=False) >= float(torch.linalg.eigvalsh(H)[0]) - 1e-10


def test_rank1_extremes_in_subspaces_against_an_independent_search():
    """The subspace-restricted extreme (beta_lower's form) equals a direct evaluation of d:H:d at the returned
    optimum's neighbourhood: it is attained by some u v^T (value reached by a brute-force search over a grid of
    unit u in span(P), v in span(Q)) and no grid point beats it."""
    g = torch.Generator().manual_seed(5)
    m, n = 3, 2
    Gm = torch.randn(4, m * n, generator=g, dtype=torch.float64)
    H = Gm.T @ Gm
    P = torch.linalg.qr(torch.randn(m, 2, generator=g, dtype=torch.float64))[0]
    Q = torch.eye(n, dtype=torch.float64)
    got = rank1_rayleigh(H, m, n, largest=True, P=P, Q=Q)
    t = torch.linspace(0, torch.pi, 721, dtype=torch.float64)
    U = P @ torch.stack([t.cos(), t.sin()])                  # unit u in span(P), (m, 721)
    V = torch.stack([t.cos(), t.sin()])                      # unit v in R^2
    D = (U.T[:, None, :, None] * V.T[None, :, None, :]).reshape(-1, m * n)
    brute = float(((D @ H) * D).sum(dim=1).max())
    assert brute <= got + 1e-10 and got <= brute + 1e-4 * abs(brute)


def test_measured_assumptions_of_a_real_instance():
    """KN = 6 < m + n - 1 = 9: the null space of the features holds a rank-1 direction, so alpha = 0 (generic
    regime); the NTK model is exact at delta = 0 and the linearisation error is small for tiny updates."""
    from lora_claims.theorems import realnet as R
    from lora_claims.theorems.context import EvalContext

    d = {"arch": MLP, "layer": "l1", "N": 2, "loss": "sq", "lam_frac": 0.1, "seed": 0, "batch": 1}
    meas = R.assumptions(d, EvalContext(torch.device("cpu"), torch.float64))
    assert meas["kim_regime"] == "generic" and meas["KN"] == 6
    assert meas["kim_alpha_upper"] <= 1e-10 * meas["kim_beta_lower"]
    assert meas["kim_alpha_global"] <= meas["kim_alpha_upper"] + 1e-12
    assert meas["kim_beta_lower"] <= meas["kim_beta_global"] + 1e-12
    assert meas["jang_bound_nonvacuous"] and meas["max_rank_G_ik"] == 1
    tiny = 1e-6 * torch.randn(1, 5, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    small, large = R.linearisation_error(d, tiny, ts=(1.0, 1e4))
    assert small < 1e-4 and large > 10 * small          # second order: the error grows with the update
