"""Package data of the strategies (curated fixtures), read with importlib.resources.

A missing data file is an error (:class:`MissingPackageData`), never an empty set: a wheel built
without its fixtures must not run claims that depend on them as if nothing were curated.
"""
from __future__ import annotations

import json
from importlib import resources


class MissingPackageData(FileNotFoundError):
    """A data file the package must ship is absent (a broken install)."""


def fixture(name: str) -> dict:
    """The JSON document ``fixtures/<name>`` shipped with ``lora_claims.strategies``."""
    path = resources.files(__package__).joinpath("fixtures", name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MissingPackageData(f"lora_claims is installed without its data file strategies/fixtures/{name}; "
                                 "reinstall it (the wheel must ship package data)") from None
    return json.loads(text)
