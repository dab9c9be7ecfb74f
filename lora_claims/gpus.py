"""Several GPUs on one host: which GPU a process uses, and how claims are shared among GPUs.

A pytest-xdist worker (PYTEST_XDIST_WORKER = 'gw<i>') takes GPU i mod the number of visible GPUs,
so `pytest checks/ -n N` spreads its workers over the devices; `lora-claims falsify --gpus all`
deals the selected claims round-robin to one worker process per GPU.  CUDA_VISIBLE_DEVICES is
respected (torch counts only the visible devices).
"""
from __future__ import annotations

import os
import re
from typing import Sequence, TypeVar

import torch

T = TypeVar("T")


def worker_index(env: dict | None = None) -> int | None:
    """The xdist worker number (gw3 -> 3), or None outside xdist."""
    name = (os.environ if env is None else env).get("PYTEST_XDIST_WORKER", "")
    m = re.fullmatch(r"gw(\d+)", name)
    return int(m.group(1)) if m else None


def cuda_for_worker(worker: int | None, count: int | None = None) -> torch.device:
    """cuda:<worker mod count> (plain 'cuda' -- the current device -- outside a worker or with one GPU)."""
    count = torch.cuda.device_count() if count is None else count
    if count < 1:
        raise ValueError("no CUDA device is visible")
    if worker is None or count == 1:
        return torch.device("cuda")
    return torch.device("cuda", worker % count)


def deal(items: Sequence[T], n: int) -> list[list[T]]:
    """Round-robin ``items`` into ``n`` lists (claim i goes to GPU i mod n): keeps each family spread out."""
    if n < 1:
        raise ValueError("need at least one device")
    return [list(items[i::n]) for i in range(n)]
