"""Convex losses of a matrix update delta, batched over a leading dimension.

Every loss here is a function of delta in R^{m x n} (one per batch row) and exposes
its value, gradient M = grad L(delta) and dense Hessian over vec(delta) (row-major),
Hessian-vector products and, where it has one, the Hessian's structure (diagonal plus
low rank: StructuredHessian), so the LoRA objective, the minimiser, the SOSP test and
the convex oracle can treat them alike and never form the mn x mn matrix at size.  The NTK-linearised empirical risk is Jang et al. (2024), Section 2.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class StructuredHessian:
    """Hess L = diag(vec diag) + F^T C F over row-major vec(delta), either part optional (None).

    diag: (B, m, n); F: (B, q, mn); C: (B, q, q) symmetric PSD (q = KN for the NTK risk, not invertible for
    cross-entropy).  Solves use the Woodbury identity in the form that never inverts C:
    (D + F^T C F)^{-1} = D^{-1} - D^{-1} F^T (I + C F D^{-1} F^T)^{-1} C F D^{-1}."""
    diag: torch.Tensor | None
    F: torch.Tensor | None = None
    C: torch.Tensor | None = None

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        """Hess v for v (B, mn)."""
        out = 0 if self.diag is None else self.diag.reshape(v.shape) * v
        if self.F is not None:
            out = out + (self.F.transpose(1, 2) @ (self.C @ (self.F @ v.unsqueeze(-1)))).squeeze(-1)
        return out

    def sandwich(self, J: torch.Tensor) -> torch.Tensor:
        """J^T Hess J for J (B, mn, p): (B, p, p)."""
        out = 0
        if self.diag is not None:
            out = J.transpose(1, 2) @ (self.diag.reshape(J.shape[0], -1, 1) * J)
        if self.F is not None:
            FJ = self.F @ J
            out = out + FJ.transpose(1, 2) @ self.C @ FJ
        return out

    def shifted_solver(self, rho: torch.Tensor):
        """(solve, ok): solve(rhs) = (Hess + rho I)^{-1} rhs for rhs (B, mn); ok (B,) False where the shifted
        diagonal is not positive (the caller keeps those rows)."""
        Bsz = rho.shape[0]
        d = rho.reshape(-1, 1) + (0 if self.diag is None else self.diag.reshape(Bsz, -1))
        d = d.expand(Bsz, self.F.shape[-1]) if self.F is not None else d
        ok = (d > 0).all(dim=1)
        dinv = torch.where(ok.unsqueeze(-1), 1.0 / d.clamp_min(torch.finfo(d.dtype).tiny), torch.ones_like(d))
        if self.F is None:
            return (lambda rhs: rhs * dinv), ok
        F, C = self.F, self.C
        K = torch.eye(F.shape[1], dtype=F.dtype, device=F.device) + C @ (F * dinv.unsqueeze(1)) @ F.transpose(1, 2)
        lu, piv, info = torch.linalg.lu_factor_ex(K)
        ok = ok & (info == 0)

        def solve(rhs):
            u = rhs * dinv
            w = torch.linalg.lu_solve(lu, piv, C @ (F @ u.unsqueeze(-1)))
            return u - dinv * (F.transpose(1, 2) @ w).squeeze(-1)
        return solve, ok


class MatrixLoss:
    """Interface: a batched, twice-differentiable convex loss L(delta)."""

    m: int
    n: int
    dtype: torch.dtype
    device: torch.device

    @property
    def batch(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def value(self, delta: torch.Tensor) -> torch.Tensor:  # (B,)
        raise NotImplementedError

    def grad(self, delta: torch.Tensor) -> torch.Tensor:  # (B, m, n)
        raise NotImplementedError

    def hess(self, delta: torch.Tensor) -> torch.Tensor:  # (B, mn, mn)
        raise NotImplementedError

    def hvp(self, delta: torch.Tensor, D: torch.Tensor) -> torch.Tensor:  # (B, m, n)
        """The Hessian applied to a direction D without forming it: forward-mode derivative of ``grad``
        (cost of one gradient; every loss here writes its gradient in closed form)."""
        return torch.func.jvp(self.grad, (delta,), (D,))[1]

    def hess_structure(self, delta: torch.Tensor) -> "StructuredHessian | None":
        """The Hessian as diag + F^T C F where the loss has that structure (G-quad: diagonal; the NTK risk:
        rank <= KN), so solves and quadratic forms never form the mn x mn matrix; else None."""
        return None

    def lipschitz(self) -> torch.Tensor:  # (B,) upper bound on the gradient's Lipschitz constant
        raise NotImplementedError

    def take(self, index: torch.Tensor) -> "MatrixLoss":
        """The same losses for the batch rows ``index`` (used to tile many inits per instance)."""
        raise NotImplementedError


class NTKRisk(MatrixLoss):
    """L(delta) = (1/N) sum_i loss(f0_i + [<G_ik, delta>]_k, y_i).

    G: (B, N, K, m, n); f0: (B, N, K); y: (B, N, K) targets for ``kind='sq'`` (loss 1/2||z-y||^2)
    or (B, N) integer labels for ``kind='ce'`` (softmax cross-entropy over the K outputs).
    """

    def __init__(self, G: torch.Tensor, f0: torch.Tensor, y: torch.Tensor, kind: str = "sq"):
        if kind not in ("sq", "ce"):
            raise ValueError(f"unknown loss kind {kind!r} (expected 'sq' or 'ce')")
        if G.dim() != 5:
            raise ValueError("G must have shape (B, N, K, m, n)")
        self.G, self.f0, self.y, self.kind = G, f0, y, kind
        self.Bsz, self.N, self.K, self.m, self.n = G.shape
        self.Gmat = G.reshape(self.Bsz, self.N * self.K, self.m * self.n)
        self.dtype, self.device = G.dtype, G.device

    @property
    def batch(self) -> int:
        return self.Bsz

    def outputs(self, delta: torch.Tensor) -> torch.Tensor:
        """z(delta): (B, N, K)."""
        lin = torch.bmm(self.Gmat, delta.reshape(self.Bsz, -1, 1)).reshape(self.Bsz, self.N, self.K)
        return self.f0 + lin

    def _dz(self, z: torch.Tensor) -> torch.Tensor:
        """dL/dz: (B, N, K)."""
        if self.kind == "sq":
            return (z - self.y) / self.N
        p = torch.softmax(z, dim=-1)
        onehot = torch.nn.functional.one_hot(self.y, self.K).to(z.dtype)
        return (p - onehot) / self.N

    def value(self, delta: torch.Tensor) -> torch.Tensor:
        z = self.outputs(delta)
        if self.kind == "sq":
            return 0.5 * ((z - self.y) ** 2).sum(dim=(1, 2)) / self.N
        lse = torch.logsumexp(z, dim=-1)
        zy = torch.gather(z, -1, self.y.unsqueeze(-1)).squeeze(-1)
        return (lse - zy).sum(dim=1) / self.N

    def grad_outputs(self, delta: torch.Tensor) -> torch.Tensor:
        return self._dz(self.outputs(delta))

    def grad(self, delta: torch.Tensor) -> torch.Tensor:
        dz = self._dz(self.outputs(delta)).reshape(self.Bsz, 1, -1)
        return torch.bmm(dz, self.Gmat).reshape(self.Bsz, self.m, self.n)

    def hvp(self, delta: torch.Tensor, D: torch.Tensor) -> torch.Tensor:
        """Closed form: G^T H_z G vec D / N, H_z = I (squared loss) or diag(p) - p p^T (cross-entropy)."""
        dz = torch.bmm(self.Gmat, D.reshape(self.Bsz, -1, 1)).reshape(self.Bsz, self.N, self.K)
        if self.kind == "ce":
            p = torch.softmax(self.outputs(delta), dim=-1)
            dz = p * dz - p * (p * dz).sum(dim=-1, keepdim=True)
        return torch.bmm(dz.reshape(self.Bsz, 1, -1), self.Gmat).reshape(self.Bsz, self.m, self.n) / self.N

    def hess_structure(self, delta: torch.Tensor) -> StructuredHessian:
        """Hess = Gmat^T C Gmat: C = I / N (squared loss) or blockdiag(diag(p_i) - p_i p_i^T) / N."""
        q = self.N * self.K
        if self.kind == "sq":
            C = torch.eye(q, dtype=self.dtype, device=self.device).expand(self.Bsz, q, q) / self.N
        else:
            p = torch.softmax(self.outputs(delta), dim=-1)
            Hz = (torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)) / self.N     # (B, N, K, K)
            C = torch.zeros(self.Bsz, self.N, self.K, self.N, self.K, dtype=self.dtype, device=self.device)
            idx = torch.arange(self.N, device=self.device)
            C[:, idx, :, idx, :] = Hz.transpose(0, 1)
            C = C.reshape(self.Bsz, q, q)
        return StructuredHessian(None, self.Gmat, C)

    def hess(self, delta: torch.Tensor) -> torch.Tensor:
        if self.kind == "sq":
            return self.Gmat.transpose(1, 2) @ self.Gmat / self.N
        p = torch.softmax(self.outputs(delta), dim=-1)  # (B, N, K)
        Hz = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)  # (B, N, K, K)
        Gi = self.G.reshape(self.Bsz, self.N, self.K, self.m * self.n)
        return torch.einsum("bnkp,bnkl,bnlq->bpq", Gi, Hz, Gi) / self.N

    def lipschitz(self) -> torch.Tensor:
        s = torch.linalg.matrix_norm(self.Gmat, ord=2) ** 2 / self.N
        return s if self.kind == "sq" else 0.5 * s

    def take(self, index: torch.Tensor) -> "NTKRisk":
        return NTKRisk(self.G[index], self.f0[index], self.y[index], self.kind)


# ---------------------------------------------------------------------------------------------
# Instance families of Kim, Kim, Ryu (2025), "LoRA Training Provably Converges to a Low-Rank
# Global Minimum or It Fails Loudly" (ICML 2025, arXiv 2502.09376); spec
# shared/spec/kim2025_fails_loudly.md, "Instance families" and negative control NC1.
# alpha()/beta() are the constants of the paper's A2 (restricted strong convexity, RSC) and A3
# (restricted smoothness, RSM); every family below satisfies them globally (no rank or radius
# restriction needed), except ScalarFeatureLoss, which is nonconvex on purpose.
# ---------------------------------------------------------------------------------------------


def _row_major_outer_eye(Bsz: int, k: int, dtype, device) -> torch.Tensor:
    return torch.eye(k, dtype=dtype, device=device).expand(Bsz, k, k)


class Ridge(MatrixLoss):
    """``inner`` + (eps/2) ||delta||_F^2 per batch row: Kim et al.'s reading of Jang et al.'s genericity
    condition, an eps-perturbation that makes the NTK risk strongly convex (spec jang2024, addendum)."""

    def __init__(self, inner: MatrixLoss, eps: torch.Tensor):
        self.inner, self.eps = inner, torch.as_tensor(eps, dtype=inner.dtype, device=inner.device).expand(inner.batch)
        self.m, self.n, self.dtype, self.device = inner.m, inner.n, inner.dtype, inner.device

    @property
    def batch(self) -> int:
        return self.inner.batch

    def value(self, delta: torch.Tensor) -> torch.Tensor:
        return self.inner.value(delta) + 0.5 * self.eps * (delta ** 2).sum(dim=(1, 2))

    def grad(self, delta: torch.Tensor) -> torch.Tensor:
        return self.inner.grad(delta) + self.eps.view(-1, 1, 1) * delta

    def hess(self, delta: torch.Tensor) -> torch.Tensor:
        H = self.inner.hess(delta)
        return H + self.eps.view(-1, 1, 1) * torch.eye(H.shape[-1], dtype=H.dtype, device=H.device)

    def hvp(self, delta: torch.Tensor, D: torch.Tensor) -> torch.Tensor:
        return self.inner.hvp(delta, D) + self.eps.view(-1, 1, 1) * D

    def hess_structure(self, delta: torch.Tensor) -> StructuredHessian | None:
        h = self.inner.hess_structure(delta)
        if h is None:
            return None
        ridge = self.eps.view(-1, 1, 1).expand(self.batch, self.m, self.n)
        return StructuredHessian(ridge if h.diag is None else h.diag + ridge, h.F, h.C)

    def lipschitz(self) -> torch.Tensor:
        return self.inner.lipschitz() + self.eps

    def take(self, index: torch.Tensor) -> "Ridge":
        return Ridge(self.inner.take(index), self.eps[index])


class WeightedQuadratic(MatrixLoss):
    """G-quad of Kim, Kim, Ryu (2025): L(X) = 1/2 sum_ij W_ij (X_ij - T_ij)^2, W > 0.

    W, T: (B, m, n).  Hess L = diag(vec W) (row-major vec), so the exact RSC/RSM constants of the
    paper's A2/A3 are alpha = min W and beta = max W (attained by unit matrices E_ij on the
    min/max-weight entries); weights in {1, kappa} give beta/alpha = kappa.
    """

    def __init__(self, W: torch.Tensor, T: torch.Tensor):
        if W.dim() != 3 or W.shape != T.shape:
            raise ValueError("W and T must both have shape (B, m, n)")
        if bool((W <= 0).any()):
            raise ValueError("weights W must be positive")
        self.W, self.T = W, T
        self.Bsz, self.m, self.n = W.shape
        self.dtype, self.device = W.dtype, W.device

    @property
    def batch(self) -> int:
        return self.Bsz

    def value(self, delta: torch.Tensor) -> torch.Tensor:
        return 0.5 * (self.W * (delta - self.T) ** 2).sum(dim=(1, 2))

    def grad(self, delta: torch.Tensor) -> torch.Tensor:
        return self.W * (delta - self.T)

    def hess(self, delta: torch.Tensor) -> torch.Tensor:
        return torch.diag_embed(self.W.reshape(self.Bsz, -1))

    def hess_structure(self, delta: torch.Tensor) -> StructuredHessian:
        return StructuredHessian(self.W)

    def hvp(self, delta: torch.Tensor, D: torch.Tensor) -> torch.Tensor:
        return self.W * D

    def alpha(self) -> torch.Tensor:
        """Exact RSC constant: min_ij W_ij, (B,)."""
        return self.W.flatten(1).amin(dim=1)

    def beta(self) -> torch.Tensor:
        """Exact RSM constant: max_ij W_ij, (B,)."""
        return self.W.flatten(1).amax(dim=1)

    def lipschitz(self) -> torch.Tensor:
        return self.beta()

    def take(self, index: torch.Tensor) -> "WeightedQuadratic":
        return WeightedQuadratic(self.W[index], self.T[index])


class CoupledBlocks(MatrixLoss):
    """L coupled G-quad blocks (Kim, Kim, Ryu 2025, Theorem 2: several matrices, a loss that need not be
    separable), as one loss of the block-diagonal update X = blkdiag(X_1, ..., X_L) (L m x L n):

      L(X) = 1/2 sum_ij d_ij^T Q_ij d_ij + (mu/2) ||off-diagonal blocks of X||_F^2,
      d_ij = (X_l - T_l)_ij over l,  Q_ij = D^(1/2) ((1 - gamma) I + gamma 1 1^T) D^(1/2),  D = diag(W_l,ij).

    gamma in [0, 1) couples every pair of blocks entry by entry (gamma = 0: separable); Q_ij > 0, so L is
    strongly convex.  The off-diagonal ridge makes the convex optimum of L + lam ||X||_* block diagonal
    (pinching: ||X||_* >= ||blkdiag part||_*, with equality of the objective only where the off-diagonal
    blocks vanish), so it is the joint optimum of L + lam sum_l ||X_l||_*.  W, T: (B, L, m, n), gamma: (B,).
    """

    def __init__(self, W: torch.Tensor, T: torch.Tensor, gamma, mu: float = 1.0):
        if W.dim() != 4 or W.shape != T.shape:
            raise ValueError("W and T must both have shape (B, L, m, n)")
        if bool((W <= 0).any()):
            raise ValueError("weights W must be positive")
        self.W, self.T = W, T
        self.Bsz, self.blocks, self.bm, self.bn = W.shape
        self.gamma = torch.as_tensor(gamma, dtype=W.dtype, device=W.device).expand(self.Bsz).clone()
        if bool(((self.gamma < 0) | (self.gamma >= 1)).any()):
            raise ValueError("the coupling gamma must lie in [0, 1)")
        self.mu = float(mu)
        self.m, self.n = self.blocks * self.bm, self.blocks * self.bn
        self.dtype, self.device = W.dtype, W.device
        self.root = W.sqrt()

    @property
    def batch(self) -> int:
        return self.Bsz

    def diagonal(self, X: torch.Tensor) -> torch.Tensor:
        """(..., L m, L n) -> (..., L, m, n): the diagonal blocks."""
        L, m, n = self.blocks, self.bm, self.bn
        return torch.stack([X[..., l * m:(l + 1) * m, l * n:(l + 1) * n] for l in range(L)], dim=-3)

    def embed(self, blocks: torch.Tensor) -> torch.Tensor:
        """(..., L, m, n) -> (..., L m, L n): the block-diagonal matrix."""
        m, n = self.bm, self.bn
        X = blocks.new_zeros(*blocks.shape[:-3], self.m, self.n)
        for l in range(self.blocks):
            X[..., l * m:(l + 1) * m, l * n:(l + 1) * n] = blocks[..., l, :, :]
        return X

    def off_diagonal(self, X: torch.Tensor) -> torch.Tensor:
        return X - self.embed(self.diagonal(X))

    def _apply_Q(self, D: torch.Tensor) -> torch.Tensor:
        """Q applied entry by entry to the blocks D (B, L, m, n) (the diagonal-block Hessian)."""
        g = self.gamma.view(-1, 1, 1, 1)
        s = self.root * D
        return self.root * ((1 - g) * s + g * s.sum(dim=1, keepdim=True))

    def value(self, delta: torch.Tensor) -> torch.Tensor:
        d = self.diagonal(delta) - self.T
        return 0.5 * (d * self._apply_Q(d)).sum(dim=(1, 2, 3)) + 0.5 * self.mu * (self.off_diagonal(delta) ** 2).sum(dim=(1, 2))

    def grad(self, delta: torch.Tensor) -> torch.Tensor:
        return self.embed(self._apply_Q(self.diagonal(delta) - self.T)) + self.mu * self.off_diagonal(delta)

    def hvp(self, delta: torch.Tensor, D: torch.Tensor) -> torch.Tensor:
        return self.embed(self._apply_Q(self.diagonal(D))) + self.mu * self.off_diagonal(D)

    def _entries(self, l: int) -> torch.Tensor:
        """Row-major positions in vec(X) of block l's entries, (m n,)."""
        a = torch.arange(self.bm, device=self.device).unsqueeze(1) + l * self.bm
        b = torch.arange(self.bn, device=self.device).unsqueeze(0) + l * self.bn
        return (a * self.n + b).reshape(-1)

    def hess(self, delta: torch.Tensor) -> torch.Tensor:
        """Dense Hessian over vec(X) (constant): mu on off-diagonal-block entries, Q's entries on the blocks."""
        k = self.m * self.n
        H = torch.zeros(self.Bsz, k, k, dtype=self.dtype, device=self.device)
        on = torch.zeros(k, dtype=torch.bool, device=self.device)
        w = self.root.flatten(2)                                    # (B, L, mn)
        g = self.gamma.view(-1, 1)
        for l in range(self.blocks):
            il = self._entries(l)
            on[il] = True
            for j in range(self.blocks):
                ij = self._entries(j)
                H[:, il, ij] = (w[:, l] * w[:, j]) * (1.0 if l == j else g)
        off = (~on).nonzero().squeeze(1)
        H[:, off, off] = self.mu
        return H

    def block_constants(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, L) constants of each block's own Hessian, the block l of Hess L: min and max W_l.  These are
        not Theorem 2's alpha_l once gamma > 0: the block gradient then also moves with the other blocks."""
        return self.W.flatten(2).amin(dim=2), self.W.flatten(2).amax(dim=2)

    def lipschitz(self) -> torch.Tensor:
        top = self.W.flatten(1).amax(dim=1) * (1 + (self.blocks - 1) * self.gamma)
        return torch.clamp(top, min=self.mu)

    def take(self, index: torch.Tensor) -> "CoupledBlocks":
        return CoupledBlocks(self.W[index], self.T[index], self.gamma[index], self.mu)


class MatrixSensing(MatrixLoss):
    """G-sense of Kim, Kim, Ryu (2025): L(X) = (1/(2p)) ||A(X) - y||^2, A(X)_k = <A_k, X>.

    Aop: (B, p, m, n), y: (B, p).  Hess L = Amat^T Amat / p with Amat = Aop as (B, p, mn), constant
    in X, so alpha()/beta() = the smallest/largest eigenvalue of A*A/p (computed in float64 with
    eigvalsh) are exact global RSC/RSM constants; they are positive (alpha > 0) only when p >= mn
    and the measurements span R^{m x n}.
    """

    def __init__(self, Aop: torch.Tensor, y: torch.Tensor):
        if Aop.dim() != 4 or y.shape != Aop.shape[:2]:
            raise ValueError("Aop must have shape (B, p, m, n) and y shape (B, p)")
        self.Aop, self.y = Aop, y
        self.Bsz, self.p, self.m, self.n = Aop.shape
        self.Amat = Aop.reshape(self.Bsz, self.p, self.m * self.n)
        self.dtype, self.device = Aop.dtype, Aop.device
        self._eig = None

    @property
    def batch(self) -> int:
        return self.Bsz

    def measure(self, delta: torch.Tensor) -> torch.Tensor:
        """A(delta): (B, p)."""
        return torch.bmm(self.Amat, delta.reshape(self.Bsz, -1, 1)).squeeze(-1)

    def value(self, delta: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((self.measure(delta) - self.y) ** 2).sum(dim=1) / self.p

    def grad(self, delta: torch.Tensor) -> torch.Tensor:
        res = (self.measure(delta) - self.y).unsqueeze(1)  # (B, 1, p)
        return torch.bmm(res, self.Amat).reshape(self.Bsz, self.m, self.n) / self.p

    def hess(self, delta: torch.Tensor) -> torch.Tensor:
        return self.Amat.transpose(1, 2) @ self.Amat / self.p

    def _eigs(self) -> torch.Tensor:
        if self._eig is None:
            A64 = self.Amat.to(torch.float64)
            self._eig = torch.linalg.eigvalsh(A64.transpose(1, 2) @ A64 / self.p)
        return self._eig

    def alpha(self) -> torch.Tensor:
        """Exact RSC constant lambda_min(A*A/p), (B,) (0 up to rounding when p < mn)."""
        return self._eigs()[:, 0].to(self.dtype)

    def beta(self) -> torch.Tensor:
        """Exact RSM constant lambda_max(A*A/p), (B,)."""
        return self._eigs()[:, -1].to(self.dtype)

    def lipschitz(self) -> torch.Tensor:
        return self.beta()

    def take(self, index: torch.Tensor) -> "MatrixSensing":
        return MatrixSensing(self.Aop[index], self.y[index])


class LogisticMatrix(MatrixLoss):
    """G-logit of Kim, Kim, Ryu (2025): L(X) = (1/N) sum_i softplus(-y_i <G_i, X>) + (mu/2)||X||_F^2.

    G: (B, N, m, n); y: (B, N) labels in {-1, +1}; mu >= 0 (float or (B,)).  Convex, non-quadratic.
    Hess L = (1/N) sum_i s_i (1 - s_i) vec G_i vec G_i^T + mu I with s_i = sigmoid(y_i <G_i, X>),
    and 0 < s (1 - s) <= 1/4, so alpha() = mu is a (global) lower RSC bound and
    beta() = mu + lambda_max(sum_i vec G_i vec G_i^T) / (4N) a (global) upper RSM bound.
    """

    def __init__(self, G: torch.Tensor, y: torch.Tensor, mu):
        if G.dim() != 4 or y.shape != G.shape[:2]:
            raise ValueError("G must have shape (B, N, m, n) and y shape (B, N)")
        self.G, self.y = G, y
        self.Bsz, self.N, self.m, self.n = G.shape
        self.Gmat = G.reshape(self.Bsz, self.N, self.m * self.n)
        self.dtype, self.device = G.dtype, G.device
        mu = torch.as_tensor(mu, dtype=self.dtype, device=self.device)
        self.mu = mu.expand(self.Bsz).clone() if mu.dim() == 0 else mu
        if bool((self.mu < 0).any()):
            raise ValueError("mu must be nonnegative")
        self._lmax = None

    @property
    def batch(self) -> int:
        return self.Bsz

    def margins(self, delta: torch.Tensor) -> torch.Tensor:
        """y_i <G_i, delta>: (B, N)."""
        return self.y * torch.bmm(self.Gmat, delta.reshape(self.Bsz, -1, 1)).squeeze(-1)

    def value(self, delta: torch.Tensor) -> torch.Tensor:
        z = self.margins(delta)
        data = torch.nn.functional.softplus(-z).sum(dim=1) / self.N
        return data + 0.5 * self.mu * (delta ** 2).sum(dim=(1, 2))

    def grad(self, delta: torch.Tensor) -> torch.Tensor:
        w = -self.y * torch.sigmoid(-self.margins(delta)) / self.N  # d/dz_i of softplus(-y_i z_i) / N
        g = torch.bmm(w.unsqueeze(1), self.Gmat).reshape(self.Bsz, self.m, self.n)
        return g + self.mu.view(-1, 1, 1) * delta

    def hess(self, delta: torch.Tensor) -> torch.Tensor:
        z = self.margins(delta)
        c = torch.exp(torch.nn.functional.logsigmoid(z) + torch.nn.functional.logsigmoid(-z)) / self.N
        H = torch.einsum("bkp,bk,bkq->bpq", self.Gmat, c, self.Gmat)
        H = 0.5 * (H + H.transpose(1, 2))
        return H + self.mu.view(-1, 1, 1) * _row_major_outer_eye(self.Bsz, self.m * self.n, self.dtype, self.device)

    def alpha(self) -> torch.Tensor:
        """Lower bound on the RSC constant: mu, (B,)."""
        return self.mu.clone()

    def beta(self) -> torch.Tensor:
        """Upper bound on the RSM constant: mu + lambda_max(sum_i vec G_i vec G_i^T)/(4N), (B,)."""
        if self._lmax is None:
            G64 = self.Gmat.to(torch.float64)
            self._lmax = torch.linalg.eigvalsh(G64.transpose(1, 2) @ G64)[:, -1].to(self.dtype)
        return self.mu + self._lmax / (4 * self.N)

    def lipschitz(self) -> torch.Tensor:
        return self.beta()

    def take(self, index: torch.Tensor) -> "LogisticMatrix":
        return LogisticMatrix(self.G[index], self.y[index], self.mu[index])


class ScalarFeatureLoss(MatrixLoss):
    """NC1 of Kim, Kim, Ryu (2025) (spec negative control "NC1 RSC violated"): nonconvex.

    L(X) = phi(<G, X>) + c ||X||_F^2,  phi(t) = (t^2 - 1)^2 / 4 + a t,   G: (B, m, n).
    phi'(t) = t^3 - t + a, phi''(t) = 3 t^2 - 1, so
    grad L = phi'(t) G + 2 c X and Hess L = phi''(t) vec G vec G^T + 2 c I.
    The spec's instance: m = n = 3, G = e1 e1^T, c = 0.05, a = -0.2 (strategies.kim_instances.nc1_quartic).

    Constants (g = ||G||_F):
      alpha() = 2c - g^2: a global lower bound on the Hessian's eigenvalues (phi'' >= -1), hence
               on every RSC ratio; negative for NC1 (-0.9): the family violates A2 by design.
      beta() = lipschitz() = 2c + g^2 max(3 g^2 R^2 - 1, 1): an upper bound on ||Hess L||_2, valid
               only on the ball ||X||_F <= R = ``radius`` (|t| <= g R there); there is no global one.
    """

    def __init__(self, G: torch.Tensor, c=0.05, a=-0.2, radius: float = 2.0):
        if G.dim() != 3:
            raise ValueError("G must have shape (B, m, n)")
        self.G = G
        self.Bsz, self.m, self.n = G.shape
        self.dtype, self.device = G.dtype, G.device
        self.c = self._per_row(c)
        self.a = self._per_row(a)
        self.radius = float(radius)

    def _per_row(self, v) -> torch.Tensor:
        v = torch.as_tensor(v, dtype=self.dtype, device=self.device)
        return v.expand(self.Bsz).clone() if v.dim() == 0 else v

    @property
    def batch(self) -> int:
        return self.Bsz

    def feature(self, delta: torch.Tensor) -> torch.Tensor:
        """t = <G, delta>: (B,)."""
        return (self.G * delta).sum(dim=(1, 2))

    def phi(self, t: torch.Tensor) -> torch.Tensor:
        return 0.25 * (t * t - 1) ** 2 + self.a * t

    def dphi(self, t: torch.Tensor) -> torch.Tensor:
        return t ** 3 - t + self.a

    def d2phi(self, t: torch.Tensor) -> torch.Tensor:
        return 3 * t * t - 1

    def value(self, delta: torch.Tensor) -> torch.Tensor:
        return self.phi(self.feature(delta)) + self.c * (delta ** 2).sum(dim=(1, 2))

    def grad(self, delta: torch.Tensor) -> torch.Tensor:
        t = self.feature(delta)
        return self.dphi(t).view(-1, 1, 1) * self.G + 2 * self.c.view(-1, 1, 1) * delta

    def hess(self, delta: torch.Tensor) -> torch.Tensor:
        t = self.feature(delta)
        g = self.G.reshape(self.Bsz, -1)
        H = self.d2phi(t).view(-1, 1, 1) * (g.unsqueeze(-1) * g.unsqueeze(-2))
        eye = _row_major_outer_eye(self.Bsz, self.m * self.n, self.dtype, self.device)
        return H + 2 * self.c.view(-1, 1, 1) * eye

    def alpha(self) -> torch.Tensor:
        """Global lower bound 2c - ||G||_F^2 on Hess L (negative for NC1: no RSC), (B,)."""
        return 2 * self.c - (self.G ** 2).sum(dim=(1, 2))

    def beta(self) -> torch.Tensor:
        """Upper bound on ||Hess L||_2 on the ball ||X||_F <= radius only, (B,)."""
        g2 = (self.G ** 2).sum(dim=(1, 2))
        return 2 * self.c + g2 * torch.clamp(3 * g2 * self.radius ** 2 - 1, min=1.0)

    def lipschitz(self) -> torch.Tensor:
        """Gradient Lipschitz bound on the ball ||X||_F <= radius (see beta)."""
        return self.beta()

    def take(self, index: torch.Tensor) -> "ScalarFeatureLoss":
        return ScalarFeatureLoss(self.G[index], self.c[index], self.a[index], self.radius)


class FormedHessian(MatrixLoss):
    """``inner`` with every second-order shortcut off: its Hessian is always the formed mn x mn matrix
    (no diagonal path) and Hessian-vector products are forward-mode derivatives of the gradient.  The
    reference the shortcuts are tested against, and the "old path" of benchmarks/scaling.py."""

    def __init__(self, inner: MatrixLoss):
        self.inner = inner
        self.m, self.n, self.dtype, self.device = inner.m, inner.n, inner.dtype, inner.device

    @property
    def batch(self) -> int:
        return self.inner.batch

    def value(self, delta: torch.Tensor) -> torch.Tensor:
        return self.inner.value(delta)

    def grad(self, delta: torch.Tensor) -> torch.Tensor:
        return self.inner.grad(delta)

    def hess(self, delta: torch.Tensor) -> torch.Tensor:
        return self.inner.hess(delta)

    def lipschitz(self) -> torch.Tensor:
        return self.inner.lipschitz()

    def __getattr__(self, name):             # alpha, beta, ... of the inner loss
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def take(self, index: torch.Tensor) -> "FormedHessian":
        return FormedHessian(self.inner.take(index))
