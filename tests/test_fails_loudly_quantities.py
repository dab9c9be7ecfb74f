"""numerics/fails_loudly.py against independent computations (Kim et al. 2025, Theorem 1 / Corollary 1).

Geometry: numpy SVDs and torch.autograd gradients / Hessian quadratic forms, built here.  Inequalities,
band, Corollary-1 bound: hand-built geometries against the docstrings' formulas evaluated by hand.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lora_claims.strategies.kim_instances import glogit, gquad
from lora_claims.theorems.numerics.fails_loudly import (EndpointGeometry, band_slack, corollary1_bound,
                                                       corollary1_margin, endpoint_geometry, theorem1_inequalities,
                                                       theorem1_margins)

F64 = torch.float64
T = lambda *v: torch.tensor(v, dtype=F64)  # noqa: E731


def _geo(**over) -> EndpointGeometry:
    """A hand-built geometry; every field (S,) except sv (S, k)."""
    S = len(next(iter(over.values())))
    one = torch.ones(S, dtype=F64)
    f = dict(sv=torch.ones(S, 3, dtype=F64), rank=torch.full((S,), 2), ratio=one, S_norm=one, LS_RS=0 * one,
             dist2=one, tail2=one, sig_rstar=one, sig_r=one, alpha_hat=one, beta_hat=one, norm_X=one,
             norm_Xstar=one)
    f.update(over)
    return EndpointGeometry(**f)


def _rel(value, bound, sense):
    """Relative slack by hand: (bound - value)/(|bound| + |value|) for '<=', sign-flipped for '>='."""
    v, b = (value, bound) if sense == "<=" else (-value, -bound)
    if math.isinf(v) or math.isinf(b):
        return math.nan
    den = abs(b) + abs(v)
    return 0.0 if den == 0 else (b - v) / den


# --------------------------------------------------------------------------- classification


def test_classification_properties_at_thresholds():
    """is_global: ratio <= 1 + 1e-6; is_spurious: ratio >= 1 + 1e-3; ambiguous in between (all properties)."""
    ratio = T(0.5, 1.0, 1 + 1e-6, 1 + 1e-4, 1 + 1e-3, 1 + 2e-3, 1.5, 2.5)
    geo = _geo(ratio=ratio)
    glob = torch.tensor([True, True, True, False, False, False, False, False])
    spur = torch.tensor([False, False, False, False, True, True, True, True])
    amb = torch.tensor([False, False, False, True, False, False, False, False])
    for name, want in (("is_global", glob), ("is_spurious", spur), ("is_ambiguous", amb)):
        got = getattr(geo, name)
        assert isinstance(got, torch.Tensor), name
        assert torch.equal(got, want), (name, got)


# --------------------------------------------------------------------------- endpoint geometry

M, N = 3, 5
LAM = T(0.3, 1.7, 0.05)
SVS = {1: [[3.0, 1.2, 0.0], [2.5, 1.1, 0.4], [1.0, 0.5, 5e-7]],    # rank 2, 3, 2 (5e-7 < 1e-6 sigma_1)
       2: [[3.0, 1.2, 0.0], [2.5, 1.1, 0.4], [1.0, 0.5, 5e-7]],
       3: [[3.0, 1.2, 0.6], [2.5, 1.1, 0.4], [1.0, 0.5, 0.2]]}     # full rank, distinct
RSTAR = torch.tensor([1, 2, 3])
LOSSES = {"gquad": lambda: gquad(M, N, 7.0, seed=11, batch=3, target_rank=2, target_scale=2.0),
          "glogit": lambda: glogit(M, N, 12, 0.1, seed=5, batch=3)}


def _orth(g, k, p):
    q, _ = torch.linalg.qr(torch.randn(3, k, p, generator=g, dtype=F64))
    return q


def _points(r):
    g = torch.Generator().manual_seed(100 + r)
    U, V = _orth(g, M, 3), _orth(g, N, 3)
    X = (U * torch.tensor(SVS[r], dtype=F64).unsqueeze(1)) @ V.transpose(1, 2)
    Xs = X + 0.4 * torch.randn(3, M, N, generator=g, dtype=F64)
    Xs[2] = X[2]                                  # one end point at X* itself: dist2 = 0
    return X, Xs


def _grad(loss, X, create_graph=False):
    Xg = X.clone().requires_grad_(True)
    G = torch.autograd.grad(loss.value(Xg).sum(), Xg, create_graph=create_graph)[0]
    return Xg, G


def _independent(loss, lam, X, Xs, rstar, r):
    """Every EndpointGeometry field from numpy SVDs and autograd (no fails_loudly code)."""
    Xg, G = _grad(loss, X, create_graph=True)
    Gn, Gsn = G.detach().numpy(), _grad(loss, Xs)[1].numpy()
    Xn, Xsn = X.numpy(), Xs.numpy()
    out = {k: [] for k in ("sv", "rank", "ratio", "S_norm", "LS_RS", "dist2", "tail2", "sig_rstar", "sig_r",
                           "alpha_hat", "norm_X", "norm_Xstar", "S_big")}
    Ds = []
    for i in range(X.shape[0]):
        U, s, Vt = np.linalg.svd(Xn[i], full_matrices=False)
        rk = int((s > 1e-6 * s[0]).sum())
        S = Gn[i] + float(lam[i]) * U[:, :rk] @ Vt[:rk]
        Snorm = np.linalg.norm(S, 2)
        LS = max(np.linalg.norm(U[:, :rk].T @ S), np.linalg.norm(S @ Vt[:rk].T))
        diff = Xn[i] - Xsn[i]
        d2 = float((diff ** 2).sum())
        rs = int(rstar[i])
        Us, _, Vst = np.linalg.svd(S)
        Ds.append(np.outer(Us[:, 0], Vt[r - 1]) - np.outer(U[:, r - 1], Vst[0]))
        for k, v in (("sv", s), ("rank", rk), ("ratio", np.linalg.norm(Gn[i], 2) / float(lam[i])),
                     ("S_norm", Snorm), ("LS_RS", LS / max(1.0, Snorm)), ("dist2", d2),
                     ("tail2", float((s[rs:] ** 2).sum())), ("sig_rstar", s[rs - 1]), ("sig_r", s[r - 1]),
                     ("alpha_hat", float(((Gn[i] - Gsn[i]) * diff).sum()) / d2 if d2 > 0 else 0.0),
                     ("norm_X", np.linalg.norm(Xn[i])), ("norm_Xstar", np.linalg.norm(Xsn[i])),
                     ("S_big", Snorm > 1)):
            out[k].append(v)
    D = torch.tensor(np.stack(Ds), dtype=F64)
    Hd = torch.autograd.grad((G * D).sum(), Xg)[0]          # Hess L(X)[D] by double backward
    out["beta_hat"] = ((Hd * D).sum(dim=(1, 2)) / (D ** 2).sum(dim=(1, 2))).numpy()
    return {k: np.asarray(v) for k, v in out.items()}


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("r", [1, 2, 3])
def test_endpoint_geometry_matches_independent_computation(name, r):
    """sv, rank, ratio ||grad L||_2/lam, ||S||_2, LS_RS, dist2, tail2, sigma_r*, sigma_r, alpha_hat, beta_hat
    (D = u* v_r^T - u_r v*^T, Hessian form by autograd), norms: all against numpy/autograd."""
    loss = LOSSES[name]()
    X, Xs = _points(r)
    geo = endpoint_geometry(loss, LAM, X, Xs, RSTAR, r)
    ref = _independent(loss, LAM, X, Xs, RSTAR, r)
    if name == "glogit":
        assert ref["S_big"].any() and not ref["S_big"].all()   # both sides of max(1, ||S||_2)
    assert torch.equal(geo.rank, torch.as_tensor(ref["rank"]))
    for k in ("sv", "ratio", "S_norm", "LS_RS", "dist2", "tail2", "sig_rstar", "sig_r", "alpha_hat", "beta_hat",
              "norm_X", "norm_Xstar"):
        np.testing.assert_allclose(getattr(geo, k).numpy(), ref[k], rtol=1e-9, atol=1e-12, err_msg=k)
    # beta_hat depends on the direction (Hessian not a multiple of the identity): a wrong D would show
    assert np.ptp(ref["beta_hat"]) > 1e-3
    assert float(geo.alpha_hat[2]) == 0.0 and float(geo.dist2[2]) == 0.0


def test_rank_threshold_is_strict():
    """rank X = #{sigma_i > 1e-6 sigma_1}: a singular value exactly at 1e-6 sigma_1 does not count."""
    X = torch.zeros(2, M, N, dtype=F64)
    X[0, 0, 0], X[0, 1, 1] = 1.0, 1e-6                      # sigma = (1, 1e-6, 0)
    X[1, 0, 0], X[1, 1, 1], X[1, 2, 2] = 2.0, 2e-6, 0.5     # sigma = (2, 0.5, 2e-6)
    assert torch.linalg.svdvals(X).tolist() == [[1.0, 1e-6, 0.0], [2.0, 0.5, 2e-6]]   # exact for diagonal X
    loss = gquad(M, N, 7.0, seed=11, batch=2, target_rank=2, target_scale=2.0)
    geo = endpoint_geometry(loss, T(0.5, 0.5), X, torch.zeros_like(X), torch.tensor([1, 1]), 1)
    assert geo.rank.tolist() == [1, 2]


def test_ls_rs_off_stationarity_is_quotient_not_difference():
    """LS_RS = max(||L^T S||_F, ||S R||_F) / max(1, ||S||_2) at a non-stationary X with ||S||_2 > 1."""
    loss = LOSSES["gquad"]()
    X, Xs = _points(2)
    X = 3 * X
    geo = endpoint_geometry(loss, LAM, X, Xs, RSTAR, 2)
    ref = _independent(loss, LAM, X, Xs, RSTAR, 2)
    assert ref["S_big"].all() and (ref["LS_RS"] > 0.1).all()
    np.testing.assert_allclose(geo.LS_RS.numpy(), ref["LS_RS"], rtol=1e-10)
    assert ((geo.LS_RS >= 0) & (geo.LS_RS <= np.sqrt(3))).all()     # ||L^T S||_F <= sqrt(rank) ||S||_2


# --------------------------------------------------------------------------- Theorem 1 (a)-(d)

ALPHA, BETA = T(0.5, 2.0, 0.5, 3.0, 0.5), T(10.0, 10.0, 4.0, 10.0, 10.0)     # alpha != 1: 2 a != 2 / a
# rows: generic; sigma_r = 0; sigma_r = 0 at X = X*; beta_hat < 0 (nonconvex); X = 0
HAND = dict(sv=torch.tensor([[4.0, 0.7, 0.1], [4.0, 2.0, 0.0], [3.0, 2.0, 0.0], [3.0, 2.0, 1.0],
                             [0.0, 0.0, 0.0]], dtype=F64),
            sig_r=T(0.7, 0.0, 0.0, 1.0, 0.0), sig_rstar=T(2.0, 2.0, 2.0, 0.5, 0.0),     # 0.5: a clamp at 1 shows
            dist2=T(1.3, 1.3, 0.0, 1.3, 2.0), tail2=T(0.5, 0.0, 0.0, 0.36, 0.0),
            alpha_hat=T(1.5, 1.5, 1.5, 1.5, 1.5), beta_hat=T(6.0, 6.0, 6.0, -0.5, 6.0))


def _hand_inequalities(i, slack):
    """(a)-(d) of theorem1_inequalities' docstring for row i, in plain floats."""
    h = {k: v[i].tolist() for k, v in HAND.items()}
    a, b = float(ALPHA[i]), float(BETA[i])
    sr, srs, d2, t2 = h["sig_r"], h["sig_rstar"], h["dist2"], h["tail2"]
    allow = slack * (d2 + t2)
    tiny = 1e-300                                   # a zero sigma_r (or beta_hat sigma_r <= 0) is clamped to it
    kh = srs / max(h["beta_hat"] * sr, tiny)        # kappa_hat: huge and positive, never inf/negative
    return [(sr, 1e-6 * max(h["sv"][0], tiny), ">="),
            (sr / max(srs, tiny), 2 * a / b - slack, ">="),
            (d2, t2 + 2 * a * srs / (b * max(sr, tiny)) * d2 - allow, ">="),
            (2 * kh * h["alpha_hat"] * d2 + t2, d2 + allow, "<=")]


@pytest.mark.parametrize("slack", [None, 1e-3, 0.25])
def test_theorem1_inequalities_by_hand(slack):
    geo = _geo(**HAND)
    kw = {} if slack is None else {"slack": slack}
    s = 1e-9 if slack is None else slack
    ineq = theorem1_inequalities(geo, ALPHA, BETA, **kw)
    marg = theorem1_margins(geo, ALPHA, BETA, **kw)
    assert list(ineq) == list(marg) and len(ineq) == 4
    for i in range(5):
        want = _hand_inequalities(i, s)
        for (name, q), (v, b, sense) in zip(ineq.items(), want):
            assert q.sense == sense, name
            assert math.isfinite(float(q.value[i])) and math.isfinite(float(q.bound[i])), (name, i)
            assert float(q.value[i]) == pytest.approx(v, rel=1e-12, abs=0), (name, i)
            assert float(q.bound[i]) == pytest.approx(b, rel=1e-12, abs=1e-320), (name, i)
            assert float(marg[name][i]) == pytest.approx(_rel(v, b, sense), rel=1e-9, abs=1e-15), (name, i)
    d = list(marg.values())[3]
    # (d) fails loudly (finite, negative) where sigma_r = 0 or beta_hat < 0; at X = X* (all terms 0) slack 0
    assert float(d[1]) < -0.99 and float(d[3]) < -0.99 and float(d[2]) == 0.0


def test_theorem1_d_kappa_hat_clamp():
    """kappa_hat = sigma_r*/max(beta_hat sigma_r, 1e-300): sigma_r = 0 gives (d)'s value 2e300 alpha_hat dist2 + tail2."""
    geo = _geo(sig_r=T(0.0, 0.0, 1.0), sig_rstar=T(1.0, 1.0, 1.0), beta_hat=T(4.0, 4.0, -0.25),
               alpha_hat=T(1.0, 1.0, 1.0), dist2=T(1.0, 0.0, 1.0), tail2=T(0.5, 0.5, 0.5))
    d = list(theorem1_inequalities(geo, T(1.0, 1.0, 1.0), T(10.0, 10.0, 10.0), slack=0.0).values())[3]
    np.testing.assert_allclose(d.value.numpy(), [2e300, 0.5, 2e300], rtol=1e-12)
    assert d.bound.tolist() == [1.0, 0.0, 1.0]
    assert d.slack().tolist() == pytest.approx([-1.0, -1.0, -1.0], abs=1e-12)   # a loud, finite failure


# --------------------------------------------------------------------------- Corollary 1 band and bound


@pytest.mark.parametrize("slack", [None, 1e-3])
def test_band_slack_three_sides(slack):
    """Rows: below the rank threshold; inside the band 0 < sigma_r/sigma_r* < 2a/b; above it; X = 0."""
    s = 1e-9 if slack is None else slack
    # alpha = 0.5, beta = 2.5: 2 a / b = 0.4 (2 / a / b would be 1.6); sigma_r* = 0.5 < 1 (a clamp at 1 would show)
    geo = _geo(sv=torch.tensor([[2.0, 1.0, 0.1], [2.0, 1.0, 0.1], [2.0, 1.0, 0.1], [0.0, 0.0, 0.0]], dtype=F64),
               sig_r=T(1e-9, 0.1, 0.35, 0.0), sig_rstar=T(0.5, 0.5, 0.5, 0.0))
    alpha, beta = T(0.5, 0.5, 0.5, 0.5), T(2.5, 2.5, 2.5, 2.5)
    got = band_slack(geo, alpha, beta, **({} if slack is None else {"slack": slack}))
    bound = 0.4 - s
    want = []
    for sr, srs, s1 in ((1e-9, 0.5, 2.0), (0.1, 0.5, 2.0), (0.35, 0.5, 2.0), (0.0, 0.0, 0.0)):
        low = _rel(sr, 1e-6 * s1, "<=")
        high = _rel(sr / max(srs, 1e-300), bound, ">=")
        want.append(max(low, high))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-15)
    assert float(got[0]) > 0.99 and float(got[1]) < 0 and float(got[2]) > 0 and float(got[3]) == 0.0
    # inside the band the better side is (b)'s: sigma_r/sigma_r* = 0.2 against 0.4 - s
    assert float(got[1]) == pytest.approx((0.2 - bound) / (0.2 + bound), rel=1e-12)


def test_corollary1_bound_denominator_sign():
    """den = 1 - 2 a sigma_r*/(b sigma_r): +inf (margin NaN) where den <= 0 (den = 0 exactly, slightly negative,
    sigma_r = 0), sqrt(tail2/den) - ||X*|| where den > 0."""
    # alpha = 1, beta = 2: den = 1 - sigma_r*/sigma_r
    geo = _geo(sig_rstar=T(1.0, 1.0, 1.0, 1.0, 1.0, 1.0), sig_r=T(1.0, 0.99, 0.0, 2.0, 1.25, 4.0),
               tail2=T(0.5, 0.5, 0.5, 0.5, 0.09, 0.0), norm_Xstar=T(0.3, 0.3, 0.3, 0.3, 0.1, 0.2),
               norm_X=T(1.0, 1.0, 1.0, 1.0, 2.0, 0.5))
    alpha, beta = torch.ones(6, dtype=F64), torch.full((6,), 2.0, dtype=F64)
    got = corollary1_bound(geo, alpha, beta)
    assert got[:3].tolist() == [math.inf] * 3
    fin = [math.sqrt(0.5 / 0.5) - 0.3, math.sqrt(0.09 / 0.2) - 0.1, -0.2]
    np.testing.assert_allclose(got[3:].numpy(), fin, rtol=1e-12)
    marg = corollary1_margin(geo, alpha, beta)
    assert torch.isnan(marg[:3]).all()
    # alpha = 0 (no RSC, e.g. G-logit with mu = 0): den = 1 for every sigma_r, so also at sigma_r = 0
    g0 = _geo(sig_rstar=T(1.0), sig_r=T(0.0), tail2=T(0.25), norm_Xstar=T(0.1))
    assert corollary1_bound(g0, T(0.0), T(2.0)).tolist() == pytest.approx([0.5 - 0.1], rel=1e-12)
    nx = [1.0, 2.0, 0.5]
    np.testing.assert_allclose(marg[3:].numpy(), [(x - b) / (x + abs(b)) for x, b in zip(nx, fin)], rtol=1e-12)


def test_lora_rank_above_min_dim_has_sigma_r_zero_and_no_direction():
    """r > min(m, n): X has no r-th singular value (sigma_r = 0, so (a) fails: rank < r) and no r-th
    singular pair, so beta_hat is undefined (NaN); everything else is as for r = min(m, n)."""
    loss = gquad(2, 3, 4.0, seed=1, batch=2, target_rank=2, target_scale=2.0)
    lam = torch.full((2,), 0.3, dtype=F64)
    X = torch.randn(2, 2, 3, generator=torch.Generator().manual_seed(5), dtype=F64)
    Xs = torch.zeros_like(X)
    rstar = torch.ones(2, dtype=torch.long)
    big, ref = endpoint_geometry(loss, lam, X, Xs, rstar, 3), endpoint_geometry(loss, lam, X, Xs, rstar, 2)
    assert (big.sig_r == 0).all() and torch.isnan(big.beta_hat).all()
    assert torch.equal(big.sv, ref.sv) and torch.equal(big.ratio, ref.ratio) and torch.equal(big.alpha_hat, ref.alpha_hat)
    a = theorem1_inequalities(big, T(1.0, 1.0), T(2.0, 2.0))["(a) rank = r: sigma_r >= 1e-6 sigma_1"]
    assert (a.slack() < 0).all()


def test_rank_threshold_is_relative_to_sigma_1_below_one():
    """rank = #{sigma_i > 1e-6 sigma_1} with sigma_1 < 1: 8e-7 counts when sigma_1 = 0.5 (threshold 5e-7); an
    absolute threshold 1e-6 would not count it."""
    loss = gquad(3, 3, 2.0, seed=0, batch=1, target_rank=1, target_scale=1.0)
    X = torch.diag(T(0.5, 8e-7, 1e-7)).unsqueeze(0)
    geo = endpoint_geometry(loss, torch.ones(1, dtype=F64), X, torch.zeros_like(X), torch.ones(1, dtype=torch.long), 2)
    assert geo.rank.tolist() == [2]


# --------------------------------------------------------------------------- K1 / K2: ambiguous points decide nothing

def _planted_landscape(ratio, rank=None):
    """A landscape stand-in for kim2025's evaluators: certified end points with the given ratios (X = X*)."""
    from types import SimpleNamespace
    geo = _geo(ratio=T(*ratio), dist2=0 * T(*ratio), rank=torch.tensor(rank or [3] * len(ratio)))
    meas = {"global": int(geo.is_global.sum()), "ambiguous": int(geo.is_ambiguous.sum())}
    return SimpleNamespace(certified=torch.ones(len(ratio), dtype=torch.bool), geo=geo,
                           measured=lambda: dict(meas), obj=SimpleNamespace(r=3),
                           alpha=torch.ones(len(ratio), dtype=F64), beta=torch.full((len(ratio),), 4.0, dtype=F64))


@pytest.mark.parametrize("ratio, status", [
    ((1.0, 1.0), "pass"),
    ((1.0, 1 + 1e-4), "pass"),             # the ambiguous point is left out; the global one decides
    ((1 + 1e-4, 1 + 5e-4), "inconclusive"),  # only ambiguous points: nothing was decided (was a pass)
    ((1.0, 1.5), "fail"),                  # a spurious certified SOSP
])
def test_k1_every_sosp_global_leaves_ambiguous_points_undecided(monkeypatch, ratio, status):
    """Spec classification: global <= 1 + 1e-6, spurious >= 1 + 1e-3, in between inconclusive (never a pass)."""
    from lora_claims.theorems import kim2025 as K
    monkeypatch.setattr(K, "landscape", lambda drawn, ctx, regime: _planted_landscape(ratio))
    ev = K.eval_every_sosp_global({"family": "gquad", "r": 3}, None)
    assert ev.status == status, (ev.status, ev.reason, ev.margin)


def test_k2_rank_below_r_ignores_an_ambiguous_low_rank_point(monkeypatch):
    """A certified SOSP of rank < r that is ambiguous is counted, not scored as global."""
    from lora_claims.theorems import kim2025 as K
    land = _planted_landscape((1.0, 1 + 1e-4, 1 + 2e-4), rank=[3, 2, 2])
    monkeypatch.setattr(K, "landscape", lambda drawn, ctx, regime: land)
    monkeypatch.setattr(K, "band_slack", lambda geo, a, b: torch.ones(3, dtype=F64))
    ev = K.eval_dichotomy({"family": "gquad", "r": 3}, None)
    assert ev.measured["ambiguous_rank_below_r"] == 2
    assert ev.measured["margin[rank < r => global]"] == 1.0      # nothing decided of rank < r
