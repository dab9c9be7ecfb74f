"""The LoRA objective with weight decay, in the lifted variable Y = [A; B].

F(A, B) = L(A B^T) + (lam/2)(||A||_F^2 + ||B||_F^2) + <P, Y Y^T>     (P optional, symmetric)

Closed forms (Jang et al. 2024, Sec. 2 and Lemma L1 of the spec):
  M = grad L(A B^T),  S = (lam/2) I + P + 1/2 [[0, M], [M^T, 0]],  grad_Y F = 2 S Y,
  Hess_Y F = 2 (S kron I_r) + J^T Hess_delta L J,  J = d vec(A B^T) / d vec(Y).
Everything is batched over the leading dimension; vec is row-major.
"""
from __future__ import annotations

import torch

from .losses import MatrixLoss


class LoRAObjective:
    def __init__(self, loss: MatrixLoss, lam: torch.Tensor, r: int, P: torch.Tensor | None = None):
        self.loss, self.r, self.P = loss, int(r), P
        self.m, self.n = loss.m, loss.n
        lam = torch.as_tensor(lam, dtype=loss.dtype, device=loss.device)
        self.lam = lam.expand(loss.batch).clone() if lam.dim() == 0 else lam

    @property
    def batch(self) -> int:
        return self.loss.batch

    @property
    def dim(self) -> int:
        return (self.m + self.n) * self.r

    def take(self, index: torch.Tensor) -> "LoRAObjective":
        return LoRAObjective(self.loss.take(index), self.lam[index], self.r,
                             None if self.P is None else self.P[index])

    def project(self, Y: torch.Tensor) -> torch.Tensor:
        """Y in the objective's variable space (every Y here; BlockLoRA zeroes the entries off its blocks)."""
        return Y

    def split(self, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return Y[:, : self.m], Y[:, self.m:]

    def delta(self, Y: torch.Tensor) -> torch.Tensor:
        A, B = self.split(Y)
        return A @ B.transpose(1, 2)

    def value(self, Y: torch.Tensor) -> torch.Tensor:
        v = self.loss.value(self.delta(Y)) + 0.5 * self.lam * (Y ** 2).sum(dim=(1, 2))
        if self.P is not None:
            v = v + (self.P * (Y @ Y.transpose(1, 2))).sum(dim=(1, 2))
        return v

    def M(self, Y: torch.Tensor) -> torch.Tensor:
        return self.loss.grad(self.delta(Y))

    def S_from_M(self, M: torch.Tensor) -> torch.Tensor:
        Bsz, m, n = M.shape
        S = torch.zeros(Bsz, m + n, m + n, dtype=M.dtype, device=M.device)
        S[:, :m, m:] = 0.5 * M
        S[:, m:, :m] = 0.5 * M.transpose(1, 2)
        S.diagonal(dim1=1, dim2=2).add_(0.5 * self.lam.unsqueeze(-1))
        if self.P is not None:
            S = S + self.P
        return S

    def S(self, Y: torch.Tensor) -> torch.Tensor:
        return self.S_from_M(self.M(Y))

    def grad(self, Y: torch.Tensor) -> torch.Tensor:
        return 2.0 * self.S(Y) @ Y

    def jacobian_delta(self, Y: torch.Tensor) -> torch.Tensor:
        """J = d vec(A B^T) / d vec(Y): (B, mn, (m+n) r)."""
        A, B = self.split(Y)
        Im = torch.eye(self.m, dtype=Y.dtype, device=Y.device)
        In = torch.eye(self.n, dtype=Y.dtype, device=Y.device)
        JA = torch.einsum("ac,zbj->zabcj", Im, B)  # d delta_ab / d A_cj = [a=c] B_bj
        JB = torch.einsum("bd,zaj->zabdj", In, A)  # d delta_ab / d B_dj = [b=d] A_aj
        J = torch.cat([JA, JB], dim=3)
        return J.reshape(Y.shape[0], self.m * self.n, self.dim)

    def hess(self, Y: torch.Tensor) -> torch.Tensor:
        """Dense Hessian over vec(Y): (B, (m+n) r, (m+n) r), in closed form."""
        delta = self.delta(Y)
        S = self.S_from_M(self.loss.grad(delta))
        Ir = torch.eye(self.r, dtype=Y.dtype, device=Y.device)
        H = 2.0 * torch.einsum("zik,jl->zijkl", S, Ir).reshape(Y.shape[0], self.dim, self.dim)
        J = self.jacobian_delta(Y)
        hs = self.loss.hess_structure(delta)   # a structured loss Hessian is never formed (G-quad, NTK at size)
        H = H + (J.transpose(1, 2) @ self.loss.hess(delta) @ J if hs is None else hs.sandwich(J))
        return 0.5 * (H + H.transpose(1, 2))

    def hvp(self, Y: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        """Hessian-vector products without forming H (V shaped like Y), in closed form:
        H[V] = 2 S V + J^T Hess L [J V], with J V = V_A B^T + A V_B^T and J^T W = [W B; W^T A]
        (cost O((m+n) n r) plus one loss Hessian-vector product, against O(((m+n) r)^2 mn) for ``hess``)."""
        A, B = self.split(Y)
        VA, VB = self.split(V)
        delta = A @ B.transpose(1, 2)
        M = self.loss.grad(delta)
        W = self.loss.hvp(delta, VA @ B.transpose(1, 2) + A @ VB.transpose(1, 2))
        SV = torch.cat([M @ VB, M.transpose(1, 2) @ VA], dim=1) + self.lam.reshape(-1, 1, 1) * V
        if self.P is not None:
            SV = SV + 2.0 * self.P @ V
        return SV + torch.cat([W @ B, W.transpose(1, 2) @ A], dim=1)


class BlockLoRA(LoRAObjective):
    """One rank-r LoRA per diagonal block of a block-diagonal update (Kim et al. 2025, Theorem 2):
    X = blkdiag(A_1 B_1^T, ..., A_L B_L^T) = A B^T with A = blkdiag(A_l), B = blkdiag(B_l), so F is the
    rank-(L r) LoRAObjective restricted to block-diagonal factors.  It is evaluated at mask * Y, so the
    entries of Y off the blocks are exact flat directions (zero gradient, zero Hessian rows) and every
    start is projected onto the blocks; gradients, Hessians and Hessian-vector products are those of the
    restriction, in closed form from the parent's."""

    def __init__(self, loss: MatrixLoss, lam: torch.Tensor, r: int, blocks: int, P: torch.Tensor | None = None):
        if loss.m % blocks or loss.n % blocks:
            raise ValueError(f"a {loss.m} x {loss.n} update has no {blocks} equal diagonal blocks")
        super().__init__(loss, lam, blocks * r, P)
        self.blocks, self.block_r = int(blocks), int(r)
        bm, bn = self.m // blocks, self.n // blocks
        mask = torch.zeros(self.m + self.n, self.r, dtype=loss.dtype, device=loss.device)
        for l in range(blocks):
            cols = slice(l * r, (l + 1) * r)
            mask[l * bm:(l + 1) * bm, cols] = 1.0
            mask[self.m + l * bn:self.m + (l + 1) * bn, cols] = 1.0
        self.mask = mask

    def take(self, index: torch.Tensor) -> "BlockLoRA":
        return BlockLoRA(self.loss.take(index), self.lam[index], self.block_r, self.blocks,
                         None if self.P is None else self.P[index])

    def project(self, Y: torch.Tensor) -> torch.Tensor:
        return Y * self.mask

    def delta(self, Y: torch.Tensor) -> torch.Tensor:
        return super().delta(self.project(Y))

    def value(self, Y: torch.Tensor) -> torch.Tensor:
        return super().value(self.project(Y))

    def grad(self, Y: torch.Tensor) -> torch.Tensor:
        return self.project(super().grad(self.project(Y)))

    def hess(self, Y: torch.Tensor) -> torch.Tensor:
        keep = self.mask.reshape(-1)
        return keep.unsqueeze(1) * super().hess(self.project(Y)) * keep.unsqueeze(0)

    def hvp(self, Y: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        return self.project(super().hvp(self.project(Y), self.project(V)))


def balanced_factors(delta: torch.Tensor, r: int) -> torch.Tensor:
    """Y = [U sqrt(s); V sqrt(s)] from the top-r SVD of delta (balanced: A^T A = B^T B)."""
    U, s, Vh = torch.linalg.svd(delta, full_matrices=False)
    k = min(r, s.shape[-1])
    root = s[:, :k].clamp_min(0).sqrt()
    A = U[:, :, :k] * root.unsqueeze(1)
    B = Vh[:, :k, :].transpose(1, 2) * root.unsqueeze(1)
    Y = torch.cat([A, B], dim=1)
    if k < r:
        Y = torch.cat([Y, Y.new_zeros(Y.shape[0], Y.shape[1], r - k)], dim=2)
    return Y
