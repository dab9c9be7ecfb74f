"""Builders of the (reconstructed) instances of Xu et al. (AISTATS 2025), spec shared/spec/xu2025_gradient_flow.md.

The paper's theorem texts were not available: the model is RECONSTRUCTED.  Reading B (primary): frozen
pretrained factor U (m x h), adapter Z1 (h x r), Z2 (n x r), update U Z1 Z2^T, residual target R0 (m x n),
loss 1/2 ||R0 - U Z1 Z2^T||_F^2, gradient at zero M = U^T R0.  Reading A: U = I.  Reading B': U
rank-deficient (or wide), so ker U is non-trivial.

Everything is batched over a leading dim B.  As in strategies/ntk_instances.py every random tensor is drawn
in float64 on the CPU from ``seeding.generator(seed)`` and only then moved with .to(device, dtype), so the
plain parameters reproduce an instance on any device.  Functions that take tensors (inits, misalignment)
compute in the tensors' own device and dtype.

Construction (exact, used by the tests and worth knowing in claims):
  U  = P diag(s) Q^T,  P (m x q) and Q (h x q) orthonormal, s the gains (q = effective rank of U);
  R0 = sum_i sigma_i g_i w_i^T,  g_i = cos(theta_i) p_i + sin(theta_i) p_i_perp,  p_i_perp orthonormal and
       orthogonal to col(U), w_i orthonormal in R^n;
  hence P^T R0 = sum_i sigma_i cos(theta_i) e_i w_i^T and
  M  = U^T R0      = sum_i s_i sigma_i cos(theta_i)  q_i w_i^T   (singular values s_i sigma_i cos theta_i),
  U^+ R0           = sum_i sigma_i cos(theta_i)/s_i  q_i w_i^T,
  ||P_perp R0||^2  = sum_i sigma_i^2 sin^2(theta_i)           (Reading B' limit loss, spec A6),
  principal angles between col(U) and col(R0) = thetas;  misalignment mu = 1 - cos(theta_1).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .seeding import generator

F64 = torch.float64

# seed offsets used by the dict builders (instance_from_draw / initial_point): distinct generator streams
SEED_U, SEED_TARGET, SEED_INIT = 0, 1, 2


class Pretrained(NamedTuple):
    """U = P diag(gains) Q^T; P (B, m, q) spans col(U), Q (B, h, q) spans row(U), columns in gains order."""
    U: torch.Tensor
    P: torch.Tensor
    Q: torch.Tensor


class XuInstance(NamedTuple):
    """A full instance: U (B,m,h), R0 (B,m,n), P (B,m,q), Q (B,h,q), G (B,m,k) target left singular
    vectors g_i, W (B,n,k) target right singular vectors (R0 = G diag(sigmas) W^T)."""
    U: torch.Tensor
    R0: torch.Tensor
    P: torch.Tensor
    Q: torch.Tensor
    G: torch.Tensor
    W: torch.Tensor


def _haar(batch: int, k: int, g: torch.Generator) -> torch.Tensor:
    """Haar-distributed orthogonal (batch, k, k) (QR of a Gaussian with the sign fix)."""
    Q, R = torch.linalg.qr(torch.randn(batch, k, k, generator=g, dtype=F64))
    return Q * torch.sign(torch.diagonal(R, dim1=1, dim2=2)).unsqueeze(1)


def _per_batch(values, batch: int, name: str) -> torch.Tensor:
    """A sequence (k,) or array (B, k) of floats as a float64 (batch, k) tensor."""
    t = torch.as_tensor(values, dtype=F64)
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim == 1:
        t = t.unsqueeze(0)
    if t.ndim != 2 or t.shape[0] not in (1, batch):
        raise ValueError(f"{name} must have shape (k,) or ({batch}, k), got {tuple(t.shape)}")
    return t.expand(batch, t.shape[1]).clone()


def _as_alpha(alpha, batch: int, like: torch.Tensor) -> torch.Tensor:
    """alpha as a (batch, 1, 1) tensor (scalar or one value per batch row)."""
    a = torch.as_tensor(alpha, dtype=like.dtype, device=like.device).reshape(-1)
    if a.numel() not in (1, batch):
        raise ValueError(f"alpha must be a scalar or have {batch} entries, got {a.numel()}")
    if bool((a < 0).any()):
        raise ValueError("alpha must be >= 0")
    return a.expand(batch).reshape(batch, 1, 1)


# --------------------------------------------------------------------------- pretrained factor and target

def pretrained_factor(m: int, h: int, gains, seed: int, batch: int = 1, rank: int | None = None,
                      device="cpu", dtype=F64) -> Pretrained:
    """U (B, m, h) = P diag(gains[:rank]) Q^T with Haar P (m x q) and Q (h x q), q = rank.

    ``gains``: len(gains) <= min(m, h) positive values, shape (L,) or (B, L) (not sorted: column j of P is
    the left singular vector with gain gains[j]).  ``rank`` (default L) keeps only the first ``rank`` gains:
    rank < h gives Reading B' (ker U has dimension h - rank).  P and Q are the first columns of Haar m x m and
    h x h matrices drawn from ``seed``, so the same seed gives the same leading directions for every rank.
    Returns Pretrained(U, P, Q) with P (B, m, rank), Q (B, h, rank).
    """
    s = _per_batch(gains, batch, "gains")
    L = s.shape[1]
    if not 1 <= L <= min(m, h):
        raise ValueError(f"need 1 <= len(gains) <= min(m, h) = {min(m, h)}, got {L}")
    rank = L if rank is None else int(rank)
    if not 0 <= rank <= L:
        raise ValueError(f"rank must be in [0, len(gains)] = [0, {L}], got {rank}")
    if bool((s[:, :rank] <= 0).any()):
        raise ValueError("the kept gains must be > 0 (use rank to zero gains)")
    g = generator(seed)
    P = _haar(batch, m, g)[:, :, :rank]
    Q = _haar(batch, h, g)[:, :, :rank]
    U = (P * s[:, :rank].unsqueeze(1)) @ Q.transpose(1, 2)
    return Pretrained(U.to(device, dtype), P.to(device, dtype), Q.to(device, dtype))


def identity_factor(m: int, seed: int, batch: int = 1, device="cpu", dtype=F64) -> Pretrained:
    """Reading A: U = I_m (h = m), with a Haar basis P = Q of col(U) = R^m so that targets aligned with P
    have random (not coordinate) directions.  Only theta = 0 is possible (col(U) is everything)."""
    P = _haar(batch, m, generator(seed))
    U = torch.eye(m, dtype=F64).expand(batch, m, m).clone()
    return Pretrained(U.to(device, dtype), P.to(device, dtype), P.to(device, dtype))


def target_with_angles(P: torch.Tensor, thetas, sigmas, n: int, seed: int, return_factors: bool = False,
                       device=None, dtype=None):
    """R0 (B, m, n) = sum_i sigma_i g_i w_i^T with g_i = cos(theta_i) p_i + sin(theta_i) p_i_perp.

    ``P`` (B, m, q): orthonormal basis of col(U) (the P of pretrained_factor); p_i its i-th column.
    ``thetas``, ``sigmas``: (k,) or (B, k); k <= q, k <= n, sigmas > 0 (descending with gaps >= 1.3 in the
    strategies; not enforced here), thetas in [0, pi/2].  The p_i_perp are orthonormal and orthogonal to all
    of col(P), so the principal angles between col(U) and col(R0) are exactly the thetas; this needs
    m >= q + k (ValueError otherwise, unless every theta is 0).  With q = k this is the m >= 2k of the brief.
    w_i: first k columns of a Haar n x n matrix.  Draw order from ``seed``: W, then the perpendicular
    Gaussian (only when m >= q + k), so W does not depend on the thetas.  Use a seed different from the
    factor's (instance_from_draw uses seed + 1).
    Returns R0, or (R0, G, W) with G (B, m, k) = [g_i], W (B, n, k) if ``return_factors``.
    Output device/dtype default to P's.
    """
    device = P.device if device is None else device
    dtype = P.dtype if dtype is None else dtype
    Pd = P.detach().to("cpu", F64)
    B, m, q = Pd.shape
    th = _per_batch(thetas, B, "thetas")
    sg = _per_batch(sigmas, B, "sigmas")
    k = th.shape[1]
    if sg.shape[1] != k:
        raise ValueError(f"thetas and sigmas need the same length, got {k} and {sg.shape[1]}")
    if k > q:
        raise ValueError(f"target rank k = {k} exceeds the rank of U (q = {q})")
    if k > n:
        raise ValueError(f"target rank k = {k} exceeds n = {n}")
    if bool((sg <= 0).any()):
        raise ValueError("sigmas must be > 0")
    if bool(((th < 0) | (th > math.pi / 2 + 1e-12)).any()):
        raise ValueError("thetas must lie in [0, pi/2]")
    room = m - q >= k
    if not room and bool((th != 0).any()):
        raise ValueError(f"nonzero angles need m >= rank(U) + k = {q} + {k} (got m = {m}): "
                         f"no room for {k} directions orthogonal to col(U)")
    g = generator(seed)
    W = _haar(B, n, g)[:, :, :k]
    G = Pd[:, :, :k].clone()
    if room:
        X = torch.randn(B, m, k, generator=g, dtype=F64)
        for _ in range(2):  # project out col(P) twice (re-orthogonalisation) then orthonormalise
            X = X - Pd @ (Pd.transpose(1, 2) @ X)
            X, Rx = torch.linalg.qr(X)
            if bool((torch.diagonal(Rx, dim1=1, dim2=2).abs() < 1e-8).any()):
                raise ValueError("degenerate perpendicular draw (same seed as the factor's?): use another seed")
        G = torch.cos(th).unsqueeze(1) * G + torch.sin(th).unsqueeze(1) * X
    R0 = (G * sg.unsqueeze(1)) @ W.transpose(1, 2)
    R0 = R0.to(device, dtype)
    if return_factors:
        return R0, G.to(device, dtype), W.to(device, dtype)
    return R0


def xu_instance(m: int, n: int, h: int, gains, sigmas, thetas, seed: int, batch: int = 1,
                rank: int | None = None, variant: str = "B", device="cpu", dtype=F64) -> XuInstance:
    """U from ``seed`` (+SEED_U), R0 from seed + SEED_TARGET.  variant 'A' ignores h/gains/rank (U = I_m)."""
    if variant == "A":
        if h != m:
            raise ValueError("Reading A needs h = m (U = I)")
        pre = identity_factor(m, seed + SEED_U, batch)
    else:
        pre = pretrained_factor(m, h, gains, seed + SEED_U, batch, rank=rank)
    R0, G, W = target_with_angles(pre.P, thetas, sigmas, n, seed + SEED_TARGET, return_factors=True)
    mv = lambda t: t.to(device, dtype)  # noqa: E731
    return XuInstance(mv(pre.U), mv(R0), mv(pre.P), mv(pre.Q), mv(G), mv(W))


def aligned_instance(m: int, n: int, h: int, gains, sigmas, seed: int, batch: int = 1, rank: int | None = None,
                     device="cpu", dtype=F64) -> XuInstance:
    """Spec A4's setting: theta = 0, so R0 = sum_i sigma_i p_i w_i^T with p_i the i-th column of P
    (the left singular vector of U with gain gains[i]); M = U^T R0 = sum_i gains_i sigma_i q_i w_i^T and
    spectral init S1 decouples the modes (mode i: gain s_i, target sigma_i).  Needs len(sigmas) <= rank(U)."""
    k = len(sigmas) if not torch.is_tensor(sigmas) else sigmas.shape[-1]
    return xu_instance(m, n, h, gains, sigmas, [0.0] * k, seed, batch, rank=rank, device=device, dtype=dtype)


def m_singular_values(gains, sigmas, thetas) -> list[float]:
    """The exact nonzero singular values of M = U^T R0 for the construction above: s_i sigma_i cos(theta_i)
    (in mode order; descending whenever the strategies' M-gap is enforced)."""
    return [float(s) * float(sg) * math.cos(float(t)) for s, sg, t in zip(gains, sigmas, thetas)]


# --------------------------------------------------------------------------- derived quantities

def gradient_at_zero(U: torch.Tensor, R0: torch.Tensor) -> torch.Tensor:
    """M = U^T R0 (B, h, n)."""
    return U.transpose(-2, -1) @ R0


def _col_projector_norm(U: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """||P_U v|| (B,) with P_U the orthogonal projector onto col(U) (rank-revealing SVD, relative tolerance)."""
    Uu, s, _ = torch.linalg.svd(U, full_matrices=False)
    tol = max(U.shape[-2], U.shape[-1]) * torch.finfo(U.dtype).eps * 100
    mask = (s > tol * s[..., :1]).to(U.dtype)
    c = (Uu.transpose(-2, -1) @ v.unsqueeze(-1)).squeeze(-1)
    return torch.sqrt(((c * mask) ** 2).sum(-1))


def misalignment(U: torch.Tensor, R0: torch.Tensor, kind: str = "projector") -> torch.Tensor:
    """mu (B,) = 1 - |cos angle(gamma1, P_U gamma1)| for the top left singular vector gamma1 of R0.

    kind='projector' (default, the brief): P_U the orthogonal projector onto col(U); since gamma1 is a unit
    vector, |cos| = ||P_U gamma1||, so mu = 1 - ||P_U gamma1|| (mu = 1 when gamma1 is orthogonal to col U).
    kind='UUt' (the spec's literal U U^T gamma1): differs from 'projector' unless U has orthonormal columns
    or gamma1 lies in span(p_i, col(U)^perp) for a single p_i (true for every instance built here).
    For the builders' instances mu = 1 - cos(theta_1) exactly.
    """
    gamma = torch.linalg.svd(R0, full_matrices=False)[0][..., :, 0]
    if kind == "projector":
        return 1.0 - _col_projector_norm(U, gamma).clamp(max=1.0)
    if kind == "UUt":
        v = (U @ (U.transpose(-2, -1) @ gamma.unsqueeze(-1))).squeeze(-1)
        nv = v.norm(dim=-1)
        cos = torch.where(nv > 0, (v * gamma).sum(-1).abs() / nv.clamp(min=torch.finfo(U.dtype).tiny),
                          torch.zeros_like(nv))
        return 1.0 - cos.clamp(max=1.0)
    raise ValueError(f"unknown kind {kind!r} (projector or UUt)")


# --------------------------------------------------------------------------- initialisations

def random_init(h: int, n: int, r: int, alpha, seed: int, batch: int = 1, shared: bool = False,
                device="cpu", dtype=F64):
    """Small random init (Z1, Z2) = (sqrt(alpha) G1 / sqrt(h), sqrt(alpha) G2 / sqrt(n)), shapes (B,h,r), (B,n,r).

    G1 then G2 are standard Gaussians from ``seed``: they do not depend on alpha (only the scale changes),
    and E||Z1||_F^2 = alpha r = E||Z2||_F^2.  ``alpha``: scalar or one value per batch row.  ``shared``: one
    (G1, G2) for every batch row (so a batch of alphas shares G, e.g. for spec B1).
    """
    g = generator(seed)
    b = 1 if shared else batch
    G1 = torch.randn(b, h, r, generator=g, dtype=F64).expand(batch, h, r)
    G2 = torch.randn(b, n, r, generator=g, dtype=F64).expand(batch, n, r)
    a = _as_alpha(alpha, batch, G1).sqrt()
    Z1 = a * G1 / math.sqrt(h)
    Z2 = a * G2 / math.sqrt(n)
    return Z1.to(device, dtype).contiguous(), Z2.to(device, dtype).contiguous()


def _signed_svd(A: torch.Tensor):
    """Full SVD with a deterministic sign: each left singular vector's largest-|.| entry is positive
    (the paired right vector flipped with it), so inits agree across devices."""
    Ua, s, Vh = torch.linalg.svd(A, full_matrices=True)
    V = Vh.transpose(-2, -1)
    idx = Ua.abs().argmax(dim=-2, keepdim=True)
    sign = torch.sign(torch.gather(Ua, -2, idx))
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    p = min(A.shape[-2], A.shape[-1])
    Ua = Ua * sign
    V = torch.cat([V[..., :, :p] * sign[..., :, :p], V[..., :, p:]], dim=-1)
    return Ua, s, V


def spectral_init(U: torch.Tensor, R0: torch.Tensor, r: int, alpha, kind: str = "S1", sqrt_sigma: bool = False):
    """Spectral init (Z1, Z2) (B,h,r), (B,n,r) in U's device/dtype.

    S1: Z1 = sqrt(alpha) U_{M,r}, Z2 = sqrt(alpha) V_{M,r} with the top-r singular vectors of M = U^T R0.
    S2: the same from the SVD of pinv(U) R0 (torch.linalg.pinv default cut-off, so zero gains are dropped).
    sqrt_sigma: both factors times Sigma_r^{1/2}, so Z1 Z2^T = alpha U_r Sigma_r V_r^T.
    Signs: each column of U_{.,r} has its largest-|.| entry positive (Z1 Z2^T is sign-free anyway).
    Needs r <= min(h, n); for r > rank(M) the extra columns are arbitrary null-space vectors.
    """
    B, m, h = U.shape
    n = R0.shape[-1]
    if not 1 <= r <= min(h, n):
        raise ValueError(f"r must be in [1, min(h, n)] = [1, {min(h, n)}], got {r}")
    if kind == "S1":
        A = U.transpose(-2, -1) @ R0
    elif kind == "S2":
        A = torch.linalg.pinv(U) @ R0
    else:
        raise ValueError(f"unknown kind {kind!r} (S1 or S2)")
    Ua, s, V = _signed_svd(A)
    Z1, Z2 = Ua[..., :, :r], V[..., :, :r]
    if sqrt_sigma:
        rt = s[..., :r].sqrt().unsqueeze(-2)
        Z1, Z2 = Z1 * rt, Z2 * rt
    a = _as_alpha(alpha, B, U).sqrt()
    return (a * Z1).contiguous(), (a * Z2).contiguous()


def _rank(s: torch.Tensor, rtol: float = 1e-9) -> int:
    return int((s > rtol * s[0]).sum()) if float(s[0]) > 0 else 0


def invariant_subspace(U: torch.Tensor, M: torch.Tensor, rtol: float = 1e-9) -> torch.Tensor:
    """Orthonormal basis (h, dim K) of K = span{(U^T U)^j col(M), j >= 0} for one batch row (2-D inputs):
    the smallest U^T U-invariant subspace containing col(M)."""
    A = U.transpose(-2, -1) @ U
    Ua, s, _ = torch.linalg.svd(M, full_matrices=False)
    basis = Ua[:, :_rank(s, rtol)]
    h = A.shape[0]
    for _ in range(h):
        ext = torch.cat([basis, A @ basis], dim=1)
        Ue, se, _ = torch.linalg.svd(ext, full_matrices=False)
        new = Ue[:, :_rank(se, rtol)] if se.numel() else Ue[:, :0]
        if new.shape[1] == basis.shape[1]:
            return new
        basis = new
    return basis


def wrong_subspace_init(U: torch.Tensor, R0: torch.Tensor, r: int, alpha):
    """Negative control N1: (Z1, Z2) (B,h,r), (B,n,r) of scale sqrt(alpha) in a GF-invariant set that
    excludes the target directions.

    Z2 = sqrt(alpha) x (right singular vectors of M beyond rank(M)), so M Z2 = 0; Z1 = sqrt(alpha) x an
    orthonormal basis of K^perp, K = span{(U^T U)^j col(M)}: the left singular vectors of M beyond rank(M)
    when col(M) is itself U^T U-invariant (always so for the builders' instances, where col M = span q_i),
    else a basis of K^perp.  Along GF, dZ2/dt = -Z2 (Z1^T U^T U Z1) and dZ1/dt = -U^T U Z1 (Z2^T Z2) keep
    the set, and L = L0 + 1/2 ||U Z1 Z2^T||^2 >= L0 there (the loss never drops below its value at 0).
    Needs h - dim K >= r and n - rank(M) >= r (ValueError otherwise).  Loops over the batch.
    """
    B, m, h = U.shape
    n = R0.shape[-1]
    a = _as_alpha(alpha, B, U).sqrt()
    Z1s, Z2s = [], []
    for b in range(B):
        M = U[b].transpose(0, 1) @ R0[b]
        Ua, s, V = _signed_svd(M)
        rk = _rank(s)
        K = invariant_subspace(U[b], M)
        dk = K.shape[1]
        if h - dk < r or n - rk < r:
            raise ValueError(f"no room for a wrong-subspace init of rank {r}: h - dim K = {h - dk}, "
                             f"n - rank M = {n - rk}")
        if dk == rk:
            Z1 = Ua[:, rk:rk + r]
        else:
            Uk = torch.linalg.svd(K, full_matrices=True)[0]
            Z1 = Uk[:, dk:dk + r]
        Z1s.append(Z1)
        Z2s.append(V[:, rk:rk + r])
    return (a * torch.stack(Z1s)).contiguous(), (a * torch.stack(Z2s)).contiguous()


# --------------------------------------------------------------------------- from drawn dicts

def instance_from_draw(d: dict, device="cpu", dtype=F64) -> XuInstance:
    """The instance of a dict drawn by strategies.xu.xu_draws (U from seed, R0 from seed + 1)."""
    return xu_instance(d["m"], d["n"], d["h"], d["gains"], d["sigmas"], d["thetas"], d["seed"],
                       batch=d.get("batch", 1), rank=d.get("rank_u"), variant=d.get("variant", "B"),
                       device=device, dtype=dtype)


def initial_point(d: dict, inst: XuInstance, alpha, kind: str = "random", sqrt_sigma: bool = False,
                  shared: bool = False):
    """(Z1, Z2) for a drawn dict: kind 'random' (G from seed + 2), 'S1', 'S2' or 'N1' (wrong subspace)."""
    if kind == "random":
        return random_init(d["h"], d["n"], d["r"], alpha, d["seed"] + SEED_INIT, batch=inst.U.shape[0],
                           shared=shared, device=inst.U.device, dtype=inst.U.dtype)
    if kind in ("S1", "S2"):
        return spectral_init(inst.U, inst.R0, d["r"], alpha, kind=kind, sqrt_sigma=sqrt_sigma)
    if kind == "N1":
        return wrong_subspace_init(inst.U, inst.R0, d["r"], alpha)
    raise ValueError(f"unknown init kind {kind!r}")
