"""Global-optimality certificates for the LoRA objective (Jang et al. 2024; spec lemma L1).

Without a perturbation: a first-order stationary (A, B) is a global minimiser of F_lam, and
A B^T one of L + lam ||.||_*, iff sigma_max(M) <= lam.  With a symmetric perturbation P the
certificate is S = (lam/2) I + P + 1/2 [[0, M], [M^T, 0]] >= 0 together with S Y = 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Certificate:
    sigma_ratio: torch.Tensor   # (B,) sigma_max(M) / lam  (<= 1 certifies, given stationarity)
    S_lam_min: torch.Tensor     # (B,) lambda_min(S)       (>= 0 certifies, given S Y = 0)
    SY_norm: torch.Tensor       # (B,) ||S Y||_F

    def excess(self) -> torch.Tensor:
        """sigma_max(M)/lam - 1: > 0 means the spectral certificate fails."""
        return self.sigma_ratio - 1.0


def spectral_ratio(M: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    return torch.linalg.matrix_norm(M, ord=2) / lam


def certificate(obj, Y: torch.Tensor) -> Certificate:
    """Evaluate both forms of the certificate at Y for a LoRAObjective ``obj``."""
    M = obj.M(Y)
    S = obj.S_from_M(M)
    return Certificate(spectral_ratio(M, obj.lam), torch.linalg.eigvalsh(S)[:, 0],
                       (S @ Y).flatten(1).norm(dim=1))
