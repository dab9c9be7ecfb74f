"""Shared fixtures for the suite's own tests."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """Tiny matrices: intra-op threading only adds overhead (and stalls on a loaded 2-core machine)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture()
def register_toy(monkeypatch):
    """Register a toy claim for one test (removed afterwards), keeping the contract the CLI enforces:
    a theorem or lemma gets a guard control ``<id>_guard``; a control without guards guards a built-in; an
    experiment needs none."""
    import dataclasses

    from lora_claims import catalog
    from lora_claims.theorems.claim import REGISTRY, STATEMENT_KINDS

    catalog.load()

    def add(c):
        if c.is_control and not c.guards:
            c = dataclasses.replace(c, guards=("jang2024.thm3_1",))
        monkeypatch.setitem(REGISTRY.claims, c.id, c)
        if c.kind in STATEMENT_KINDS:
            g = dataclasses.replace(c, id=c.id + "_guard", kind="control", guards=(c.id,))
            monkeypatch.setitem(REGISTRY.claims, g.id, g)
        return c
    return add
