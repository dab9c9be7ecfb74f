"""Seeded generation shared by every instance builder: a drawn seed reproduces the tensors."""
from __future__ import annotations

import torch


def generator(seed: int) -> torch.Generator:
    """A CPU generator (identical streams on every machine); builders move tensors afterwards."""
    return torch.Generator(device="cpu").manual_seed(int(seed))
