"""Barvinok–Pataki rank reduction for LoRA factorisations in the NTK regime.

Constructive proof of Jang, Lee & Ryu (2024), "LoRA Training in the NTK Regime has No
Spurious Local Minima", Theorem 3.1 (spec check C1): from any factorisation
delta = A B^T, Y = [A; B] in R^{(m+n) x s}, one can reach a factorisation of rank s with
s(s+1)/2 <= KN that reproduces all KN outputs <G_ik, delta> and whose nuclear norm is not
larger (Barvinok 1995 / Pataki 1998 rank bound for spectrahedra).

One step.  Look for Delta in S^s, Delta != 0, with <sym(A^T G_ik B), Delta> = 0 for all
(i, k); such a Delta exists whenever s(s+1)/2 exceeds the number of linearly independent
constraints (in particular whenever s(s+1)/2 > KN).  With Y' = Y (I + t Delta)^{1/2},
    A' B'^T = A (I + t Delta) B^T,   <G_ik, A' B'^T> - <G_ik, A B^T> = t <sym(A^T G_ik B), Delta> = 0,
    1/2 ||Y'||_F^2 = 1/2 ||Y||_F^2 + (t/2) <Y^T Y, Delta>.
Orienting Delta so that <Y^T Y, Delta> <= 0 forces a negative eigenvalue (Y^T Y is positive
definite once Y has full column rank) and makes 1/2||Y||_F^2 non-increasing; taking
t = -1/lambda_min(Delta) makes I + t Delta singular, so at least one column can be dropped.
Since ||A B^T||_* <= 1/2 ||Y||_F^2 with equality for balanced factors, starting from a
balanced factorisation the nuclear norm of delta never increases.

Among all null vectors we use the one that decreases 1/2||Y||_F^2 the most (minus the
projection of Y^T Y onto the null space), falling back to any null vector when that
projection vanishes.  Everything is computed in float64, for one instance at a time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

RANK_TOL = 1e-12   # singular values <= RANK_TOL * sigma_max count as zero (factor rank and constraint rank)


def rank_bound(KN: int) -> int:
    """Largest r with r(r+1)/2 <= KN (the Thm 3.1 bound; same as strategies.ntk_instances.r_max)."""
    r = 0
    while (r + 1) * (r + 2) // 2 <= KN:
        r += 1
    return r


@dataclass
class RankReduction:
    Y: torch.Tensor                    # (m+n, s_final), input dtype
    ranks: list[int]                   # s after the initial clean-up, then after every step
    outputs_before: torch.Tensor       # (N, K) float64: <G_ik, A B^T> for the input Y
    outputs_after: torch.Tensor        # (N, K) float64: same for the output Y
    nuclear_before: float              # ||A B^T||_* for the input Y
    nuclear_after: float
    half_sq_norm_before: float         # 1/2 ||Y||_F^2 for the input Y
    half_sq_norm_after: float
    initial_rank: int = 0              # number of columns of the input Y
    steps: int = 0                     # number of reduction steps taken
    stop_reason: str = ""              # 'bound' | 'no_null_vector' | 'target_rank' | 'zero'
    constraint_rank: int = -1          # numerical rank of the constraint matrix at the stop
    history: list[dict] = field(default_factory=list)  # per-step diagnostics
    tol: float = RANK_TOL              # the rank tolerance the columns were counted with

    @property
    def rank(self) -> int:
        return int(self.Y.shape[1])

    def rank_gap(self, r: int) -> tuple[float, float]:
        """(sigma_{r+1}(Y), tol * sigma_1(Y)) of the final factor, sigma_{r+1} = 0 when Y has <= r columns:
        ``rank <= r`` iff the first is <= the second (the tolerance the rank was counted with)."""
        s = torch.linalg.svdvals(self.Y.detach().double()) if self.Y.numel() else torch.zeros(0)
        top = float(s[0]) if s.numel() else 0.0
        return (float(s[r]) if s.numel() > r else 0.0), self.tol * top

    @property
    def output_error(self) -> float:
        """max |outputs_after - outputs_before| / max(1, max |outputs_before|)."""
        scale = max(1.0, float(self.outputs_before.abs().max())) if self.outputs_before.numel() else 1.0
        return float((self.outputs_after - self.outputs_before).abs().max()) / scale \
            if self.outputs_before.numel() else 0.0


def _svec_index(s: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Indices (j, l), j <= l, and weights (1 on the diagonal, sqrt 2 off it) of svec on S^s."""
    j, l = torch.triu_indices(s, s)
    w = torch.where(j == l, torch.ones(j.shape, dtype=torch.float64),
                    torch.full(j.shape, math.sqrt(2.0), dtype=torch.float64))
    return j, l, w


def svec(X: torch.Tensor) -> torch.Tensor:
    """Coordinates of symmetric X (..., s, s) in the orthonormal basis E_jj, (E_jl + E_lj)/sqrt 2."""
    s = X.shape[-1]
    j, l, w = _svec_index(s)
    return X[..., j, l] * w.to(X.dtype)


def smat(x: torch.Tensor, s: int) -> torch.Tensor:
    """Inverse of svec: symmetric (s, s) matrix from its orthonormal-basis coordinates."""
    j, l, w = _svec_index(s)
    X = torch.zeros(s, s, dtype=x.dtype)
    vals = x / w.to(x.dtype)
    X[j, l] = vals
    X[l, j] = vals
    return X


def constraint_matrix(G: torch.Tensor, Y: torch.Tensor, m: int) -> torch.Tensor:
    """Rows svec(sym(A^T G_ik B)), shape (KN, s(s+1)/2); <G_ik, A D B^T> = row . svec(D)."""
    A, B = Y[:m], Y[m:]
    N, K = G.shape[:2]
    C = torch.einsum("ja,ikjb,bl->ikal", A, G, B).reshape(N * K, Y.shape[1], Y.shape[1])
    C = 0.5 * (C + C.transpose(1, 2))
    return svec(C)


def outputs(G: torch.Tensor, Y: torch.Tensor, m: int) -> torch.Tensor:
    """<G_ik, A B^T>: (N, K)."""
    delta = Y[:m] @ Y[m:].T
    return torch.einsum("ikab,ab->ik", G, delta)


def _nuclear(Y: torch.Tensor, m: int) -> float:
    if Y.shape[1] == 0:
        return 0.0
    return float(torch.linalg.svdvals(Y[:m] @ Y[m:].T).sum())


def full_column_rank(Y: torch.Tensor, tol: float = RANK_TOL) -> torch.Tensor:
    """Re-factor Y to full column rank keeping Y Y^T: Y V for the right singular vectors V of the
    singular values above tol * sigma_max (the dropped part of Y Y^T is at most (tol sigma_max)^2
    per column).  The columns of the result are orthogonal."""
    if Y.shape[1] == 0:
        return Y
    _, sig, Vh = torch.linalg.svd(Y, full_matrices=False)
    if sig.numel() == 0 or float(sig[0]) == 0.0:
        return Y[:, :0]
    keep = sig > tol * sig[0]
    return Y @ Vh[keep].T


def reduce_rank(G: torch.Tensor, Y: torch.Tensor, target_rank: int | None = None,
                tol: float = RANK_TOL, use_constraint_rank: bool = True,
                max_steps: int | None = None) -> RankReduction:
    """Barvinok–Pataki rank reduction of one factorisation (Jang et al. 2024, Thm 3.1, check C1).

    G: (N, K, m, n) output gradients; Y: (m+n, s) = [A; B] with delta = A B^T (ideally balanced,
    so that the nuclear-norm guarantee applies).  Repeats the step of the module docstring while
    s(s+1)/2 > KN, and (``use_constraint_rank``) also while s(s+1)/2 exceeds the numerical rank
    of the constraint matrix (singular values <= tol * sigma_max count as zero; tol > 0).  Stops
    early once s <= target_rank, or after max_steps (>= 0) steps.  Returns a :class:`RankReduction`;
    the final Y is in Y's dtype.
    """
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol}")
    if max_steps is not None and max_steps < 0:
        raise ValueError(f"max_steps must be >= 0, got {max_steps}")
    if G.dim() != 4:
        raise ValueError("G must have shape (N, K, m, n) (one instance)")
    if Y.dim() != 2:
        raise ValueError("Y must have shape (m+n, s) (one instance)")
    N, K, m, n = G.shape
    if Y.shape[0] != m + n:
        raise ValueError(f"Y has {Y.shape[0]} rows, expected m+n = {m + n}")
    KN = K * N
    in_dtype = Y.dtype
    G = G.detach().to(torch.float64)
    Y0 = Y.detach().to(torch.float64)

    out0 = outputs(G, Y0, m)
    nuc0 = _nuclear(Y0, m)
    half0 = 0.5 * float((Y0 ** 2).sum())

    Yc = full_column_rank(Y0, tol)
    ranks = [int(Yc.shape[1])]
    history: list[dict] = []
    stop, crank = "", -1
    steps = 0
    while True:
        s = Yc.shape[1]
        d = s * (s + 1) // 2
        if s == 0:
            stop = "zero"
            break
        if target_rank is not None and s <= target_rank:
            stop = "target_rank"
            break
        if max_steps is not None and steps >= max_steps:
            stop = "max_steps"
            break
        if d <= KN and not use_constraint_rank:
            stop = "bound"
            break
        C = constraint_matrix(G, Yc, m)  # (KN, d)
        _, sig, Vh = torch.linalg.svd(C, full_matrices=True)
        smax = float(sig[0]) if sig.numel() else 0.0
        crank = int((sig > tol * smax).sum()) if smax > 0 else 0
        if d <= crank:
            stop = "bound" if d <= KN else "no_null_vector"
            break
        null = Vh[crank:]  # (d - crank, d), orthonormal rows spanning the (numerical) null space
        w = svec(Yc.T @ Yc)
        proj = null.T @ (null @ w)
        if float(proj.norm()) > 1e-8 * float(w.norm()):
            x = -proj / proj.norm()
        else:
            x = null[-1]
            if float(x @ w) > 0:
                x = -x
        Delta = smat(x, s)
        evals, Q = torch.linalg.eigh(Delta)
        lam_min = float(evals[0])
        if not lam_min < 0:
            # cannot happen for full-column-rank Y (Y^T Y > 0 and <Y^T Y, Delta> <= 0, Delta != 0)
            stop = "no_negative_eigenvalue"
            break
        t = -1.0 / lam_min
        scale = (1.0 + t * evals).clamp_min(0.0)  # scale[0] == 0 up to rounding
        keep = scale > tol * float(scale.max())
        keep[0] = False
        Ynew = (Yc @ Q[:, keep]) * scale[keep].sqrt()
        Yc = full_column_rank(Ynew, tol)
        steps += 1
        ranks.append(int(Yc.shape[1]))
        history.append({"s_before": s, "s_after": int(Yc.shape[1]), "t": t, "lambda_min": lam_min,
                        "null_dim": int(d - crank), "trace_change": float(x @ w) * t / 2.0,
                        "residual": float((C @ x).abs().max()) if C.shape[0] else 0.0})   # KN = 0: none

    out1 = outputs(G, Yc, m)
    return RankReduction(
        Y=Yc.to(in_dtype), ranks=ranks, outputs_before=out0, outputs_after=out1,
        nuclear_before=nuc0, nuclear_after=_nuclear(Yc, m),
        half_sq_norm_before=half0, half_sq_norm_after=0.5 * float((Yc ** 2).sum()),
        initial_rank=int(Y.shape[1]), steps=steps, stop_reason=stop, constraint_rank=crank,
        history=history, tol=tol,
    )


__all__ = ["RANK_TOL", "RankReduction", "reduce_rank", "rank_bound", "constraint_matrix", "outputs",
           "full_column_rank", "svec", "smat"]
