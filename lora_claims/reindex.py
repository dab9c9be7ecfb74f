"""``python -m lora_claims.reindex``: rewrite the shipped claim index (``claim_index.json``) from the registry,
after a built-in claim is added, removed or edited (``tests/test_cli_startup.py`` fails while it is stale)."""
from __future__ import annotations

import json
import sys
from importlib.resources import files

from . import catalog
from .claim_index import INDEX_NAME
from .theorems.claim import KINDS


def build() -> dict:
    """The index from the registry: every built-in claim's metadata, in registry order (imports the claims)."""
    return {"kinds": list(KINDS), "claims": [c.metadata() for c in catalog.builtin_claims()]}


def main() -> int:
    path = files("lora_claims").joinpath(INDEX_NAME)
    with open(str(path), "w", encoding="utf-8") as f:
        f.write(json.dumps(build(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
