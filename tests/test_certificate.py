"""The global certificate's three quantities (theorems/numerics/certificate.py) against closed forms on a
batch of two different rows: sigma_max(M)/lam - 1, lambda_min(S) and ||S Y||_F per row."""
from __future__ import annotations

import torch

from lora_claims.theorems.numerics.certificate import certificate

F64 = torch.float64


class _Fixed:
    """An objective whose M(Y) and S are fixed (the certificate only reads M, S_from_M and lam)."""

    def __init__(self, M, S, lam):
        self._M, self._S, self.lam = M, S, lam

    def M(self, Y):
        return self._M

    def S_from_M(self, M):
        return self._S


def test_certificate_quantities_are_the_closed_forms_per_row():
    M = torch.stack([torch.diag(torch.tensor([3.0, 1.0], dtype=F64)), torch.diag(torch.tensor([0.5, 0.25], dtype=F64))])
    lam = torch.tensor([2.0, 1.0], dtype=F64)
    S = torch.stack([torch.diag(torch.tensor([-0.5, 2.0, 7.0], dtype=F64)), torch.diag(torch.tensor([1.5, 3.0, 4.0], dtype=F64))])
    Y = torch.stack([torch.tensor([[1.0], [0.0], [0.0]], dtype=F64), torch.tensor([[0.0], [2.0], [1.0]], dtype=F64)])
    c = certificate(_Fixed(M, S, lam), Y)
    assert torch.allclose(c.excess(), torch.tensor([3.0 / 2.0 - 1.0, 0.5 - 1.0], dtype=F64), rtol=0, atol=1e-14)
    assert torch.equal(c.S_lam_min, torch.tensor([-0.5, 1.5], dtype=F64))
    # S Y: row 0 = (-0.5, 0, 0); row 1 = (0, 6, 4)
    assert torch.allclose(c.SY_norm, torch.tensor([0.5, 52 ** 0.5], dtype=F64), rtol=0, atol=1e-14)
