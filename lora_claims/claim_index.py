"""The built-in claims' metadata as a shipped JSON index, so ``lora-claims list`` answers without importing
torch or the claims' modules (importing them takes as long as importing torch).

The index holds what ``Claim.metadata()`` gives for every built-in claim, in registry order, and the claim
kinds; it is used only when nothing else would be loaded (no ``--claims``, no installed plugin), else
``list`` loads the registry as every other command does.  ``python -m lora_claims.reindex`` rewrites it
from the registry; a test fails when it is stale.
"""
from __future__ import annotations

import json
from importlib.metadata import entry_points
from importlib.resources import files

from .strategies.data import MissingPackageData

ENTRY_POINT_GROUP = "lora_claims.claims"
INDEX_NAME = "claim_index.json"


def plugins_installed() -> bool:
    return any(True for _ in entry_points(group=ENTRY_POINT_GROUP))


def read() -> dict:
    """The shipped index: {"kinds": [...], "claims": [metadata, ...]}; a missing one is an error."""
    try:
        text = files("lora_claims").joinpath(INDEX_NAME).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MissingPackageData(f"lora_claims is installed without its data file lora_claims/{INDEX_NAME}; "
                                 "reinstall it (the wheel must ship package data)") from None
    return json.loads(text)


def indexed(specs=()) -> dict | None:
    """The index when it answers for everything that would be loaded (no ``--claims`` and no plugin), else None."""
    if specs or plugins_installed():
        return None
    return read()
