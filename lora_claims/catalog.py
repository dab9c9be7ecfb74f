"""Which claims exist: the suite's own papers, installed plugins, and modules or files named by the user.

Three sources, loaded in this order and all through the one declaration idiom
(``lora_claims.theorem / lemma / control``):

- built-in: ``lora_claims.theorems.papers`` (the four papers and the real-network checks);
- plugins: every entry point of the group ``lora_claims.claims`` (a third-party package declares
  ``[project.entry-points."lora_claims.claims"] name = "its_module"``);
- ``--claims MODULE_OR_FILE``: an importable module name, or a path to a ``.py`` file.

Every claim is tagged with its source (``builtin``, ``entry-point:<name>:<module>``, ``module:<name>``,
``file:<absolute path>``) so a counterexample file can be reproduced from any directory and
``--workers`` children load the same modules.  After each load the contract is checked (every control
guards known non-controls; every theorem and lemma is guarded); a module that fails to import or
breaks the contract raises :class:`ClaimLoadError` (exit 2 on the command line).
"""
from __future__ import annotations

import difflib
import fnmatch
import hashlib
import importlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path

from .claim_index import ENTRY_POINT_GROUP
from .theorems.claim import REGISTRY, Claim, ClaimLoadError, UnknownClaim

BUILTIN = "builtin"

_loaded: set[str] = set()


def _import(source: str, target: str) -> None:
    if source in _loaded:
        return
    try:
        with REGISTRY.loading(source):
            if source.startswith("file:"):
                path = Path(target)
                if not path.is_file():
                    raise ClaimLoadError(f"--claims {target}: no such file")
                name = "lora_claims_user_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
                spec = importlib.util.spec_from_file_location(name, path)
                if spec is None or spec.loader is None:
                    raise ClaimLoadError(f"--claims {target}: not a Python file")
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    sys.modules.pop(name, None)
                    raise
            else:
                importlib.import_module(target)
    except ClaimLoadError:
        raise
    except ModuleNotFoundError as exc:
        if source == BUILTIN:
            raise
        raise ClaimLoadError(f"cannot load claims from {target!r}: {exc}") from None
    except Exception as exc:
        if source == BUILTIN:
            raise
        raise ClaimLoadError(f"cannot load claims from {target!r}: {type(exc).__name__}: {exc}") from None
    _loaded.add(source)


def source_of(spec: str) -> tuple[str, str]:
    """(source tag, import target) for a ``--claims`` value: a ``.py`` path or a module name."""
    if spec.endswith(".py") or "/" in spec or Path(spec).is_file():
        path = Path(spec).expanduser().resolve()
        return f"file:{path}", str(path)
    if not all(part.isidentifier() for part in spec.split(".")):
        raise ClaimLoadError(f"--claims {spec!r}: neither a .py file nor a module name")
    return f"module:{spec}", spec


def load(specs=()) -> list[Claim]:
    """Load the built-in claims, every installed plugin, then each ``--claims`` spec; check the contract."""
    _import(BUILTIN, "lora_claims.theorems.papers")
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        _import(f"entry-point:{ep.name}:{ep.value}", ep.value)
    for spec in specs or ():
        _import(*source_of(spec))
    REGISTRY.check_guards()
    return REGISTRY.all()


def builtin_claims() -> list[Claim]:
    """The suite's own claims (what ``claim_index`` ships), whatever else is loaded."""
    _import(BUILTIN, "lora_claims.theorems.papers")
    return [c for c in REGISTRY.all() if c.source == BUILTIN]


def load_source(source: str) -> None:
    """Load the module a recorded claim came from (a counterexample file's ``source``)."""
    if not source or source == BUILTIN or source.startswith("entry-point:"):
        load()
        return
    kind, _, target = source.partition(":")
    if kind not in ("file", "module") or not target:
        raise ClaimLoadError(f"unknown claim source {source!r}")
    load([target])


def specs_of_loaded() -> list[str]:
    """The ``--claims`` values that reload what this process loaded beyond builtins and plugins
    (handed to ``--workers`` children)."""
    return [s.partition(":")[2] for s in sorted(_loaded) if s.startswith(("file:", "module:"))]


def all_claims(specs=()) -> list[Claim]:
    return load(specs)


def get(claim_id: str, specs=()) -> Claim:
    load(specs)
    if not isinstance(claim_id, str) or claim_id not in REGISTRY:
        raise UnknownClaim(f"unknown claim id {claim_id!r}{suggest(claim_id)}")
    return REGISTRY.get(claim_id)


def suggest(text) -> str:
    """'; did you mean ...' with what is closest to ``text`` (a typo'd id or glob), or ''.  A glob whose paper
    prefix is unknown gets the closest paper with the rest kept ('kim2024.*' -> 'kim2025.*'); a glob of a
    known paper gets the ids that start like it; a plain id gets the closest ids."""
    if not isinstance(text, str):
        return ""
    ids = sorted(c.id for c in REGISTRY.all())
    papers = sorted({i.split(".")[0] for i in ids})
    head, dot, rest = text.partition(".")
    close: list[str] = []
    if dot and head not in papers:
        near = difflib.get_close_matches(head, papers, n=1, cutoff=0.6)
        if near and any(fnmatch.fnmatchcase(i, f"{near[0]}.{rest}") for i in ids):
            close = [f"{near[0]}.{rest}"]
    elif any(ch in text for ch in "*?["):
        stem = text[:min(text.index(ch) for ch in "*?[" if ch in text)]
        close = [i for i in ids if i.startswith(stem)][:3]
    if not close:
        close = difflib.get_close_matches(text, ids, n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


def select(patterns: list[str] | None, specs=()) -> list[Claim]:
    """Claims whose ids match any glob pattern; every pattern must match at least one claim."""
    claims = load(specs)
    if not patterns:
        return claims
    chosen: set[str] = set()
    for p in patterns:
        hits = [c.id for c in claims if fnmatch.fnmatchcase(c.id, p)]
        if not hits:
            raise UnknownClaim(f"no claim matches {p!r}{suggest(p)} (see `lora-claims list`)")
        chosen.update(hits)
    return [c for c in claims if c.id in chosen]
