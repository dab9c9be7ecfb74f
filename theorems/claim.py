"""The claim contract: Claim, Evidence, Verdict, provenance, kinds, and the registry.

A claim is one theorem, lemma or negative control turned into an executable statement:
``evaluate(drawn, device, dtype) -> Evidence`` on instances drawn by ``strategy(profile)``.
Evidence carries a signed, scale-normalised margin (>= 0 holds, < 0 violated).  NaN or inf
is never a pass: such evidence is inconclusive, with a reason.
"""
from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

KINDS = ("theorem", "lemma", "control")
PROVENANCES = {
    "paper": "stated in the paper's abstract or confirmed from the authors' code",
    "paper-2nd": "the paper's statement as quoted by third-party notes of its source",
    "paper~": "the paper's statement, paraphrased; exact constants unconfirmed",
    "derived": "a standard consequence, not a sentence of the paper",
    "reconstructed": "the paper's text was not available; statement reconstructed",
}

# a claim's verdict is 'held' only if at most this fraction of its examples were inconclusive
MAX_INCONCLUSIVE_FRACTION = 0.2


class Verdict(str, Enum):
    HELD = "held"
    FALSIFIED = "falsified"
    INCONCLUSIVE = "inconclusive"
    SKIPPED = "skipped"              # an optional dependency the claim requires is not installed


class NumericalFailure(RuntimeError):
    """Raised by numerics that could not produce a trustworthy answer (non-convergence, NaN)."""


class UnknownClaim(KeyError):
    pass


@dataclass
class Evidence:
    """What one evaluation found.  ``status``: 'pass' (margin >= 0), 'fail' or 'inconclusive'."""

    margin: float
    measured: dict[str, Any] = field(default_factory=dict)
    traces: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    binding: str | None = None          # which condition set the margin
    events: list[str] = field(default_factory=list)
    vacuous: bool = False               # the claim's premise did not arise (nothing to check)

    @property
    def status(self) -> str:
        """'pass', 'fail', 'inconclusive' (numerics could not decide) or 'vacuous' (premise absent)."""
        if self.vacuous:
            return "vacuous"
        if self.reason is not None or not math.isfinite(self.margin):
            return "inconclusive"
        return "pass" if self.margin >= 0 else "fail"

    @property
    def why(self) -> str | None:
        if self.reason is not None:
            return self.reason
        if not math.isfinite(self.margin):
            return f"non-finite margin ({self.margin})"
        return None

    @classmethod
    def inconclusive(cls, reason: str, measured: dict | None = None, **kw) -> "Evidence":
        return cls(math.nan, dict(measured or {}), reason=reason, **kw)

    @classmethod
    def vacuously(cls, reason: str, measured: dict | None = None, **kw) -> "Evidence":
        """The drawn instance does not meet the claim's premise (e.g. no spurious SOSP to test):
        neither a pass nor a numerical failure; never counts toward 'held'."""
        return cls(math.nan, dict(measured or {}), reason=reason, vacuous=True, **kw)

    @classmethod
    def from_margins(cls, margins: dict[str, float], measured: dict | None = None, **kw) -> "Evidence":
        """The claim holds iff every named condition holds: margin = min over conditions.

        Any non-finite condition margin makes the evidence inconclusive (never a pass).
        """
        measured = dict(measured or {})
        measured.update({f"margin[{k}]": float(v) for k, v in margins.items()})
        bad = [k for k, v in margins.items() if not math.isfinite(float(v))]
        if bad:
            return cls.inconclusive(f"non-finite margin for {', '.join(bad)}", measured, **kw)
        key = min(margins, key=lambda k: float(margins[k]))
        return cls(float(margins[key]), measured, binding=key, **kw)


def tol_margin(value: float, tol: float) -> float:
    """Margin of the condition ``value <= tol``, normalised by the tolerance: (tol - value) / tol."""
    return (tol - float(value)) / tol


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    theorem: str
    statement: str
    assumptions: str
    kind: str
    provenance: str
    strategy: Callable[[Any], Any]              # profile -> hypothesis strategy of JSON-able dicts
    evaluate: Callable[..., Evidence]           # (drawn, device, dtype) -> Evidence
    examples: tuple = ()                        # explicit drawn dicts replayed every run (curated)
    notes: str = ""
    expected: str | None = None                 # for controls: what falsifies the mutant
    guards: tuple = ()                          # for controls: ids of the claims whose check it shows can fail
    requires: tuple = ()                        # optional modules the claim needs (skipped without them)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind must be one of {KINDS}")
        if self.guards and self.kind != "control":
            raise ValueError(f"{self.id}: only a control guards other claims")
        if self.provenance not in PROVENANCES:
            raise ValueError(f"{self.id}: provenance must be one of {sorted(PROVENANCES)}")

    @property
    def is_control(self) -> bool:
        return self.kind == "control"

    def missing(self) -> str | None:
        """Why the claim cannot run here (an optional dependency is not installed), or None."""
        import importlib.util
        absent = [m for m in self.requires if importlib.util.find_spec(m) is None]
        if not absent:
            return None
        return f"{', '.join(absent)} not installed (pip install 'lora-claims[{absent[0]}]')"

    def metadata(self) -> dict:
        return {"id": self.id, "paper": self.paper, "theorem": self.theorem, "kind": self.kind,
                "provenance": self.provenance, "statement": self.statement,
                "assumptions": self.assumptions, "notes": self.notes, "guards": list(self.guards)}


_REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    if claim.id in _REGISTRY:
        raise ValueError(f"duplicate claim id {claim.id}")
    _REGISTRY[claim.id] = claim
    return claim


def register_mutant(paper_key: str, paper: str, id_: str, guards: str, theorem: str, statement: str,
                    strategy, evaluate, *, provenance: str = "derived", examples: tuple = ()) -> Claim:
    """Register a control that mutates one claim of the same paper: id and guard are ``paper_key.<name>``,
    the statement is prefixed 'MUTANT: ', the assumptions are the guarded claim's."""
    return register(Claim(id=f"{paper_key}.{id_}", paper=paper, theorem=theorem, statement="MUTANT: " + statement,
                          assumptions="As the guarded claim.", kind="control", provenance=provenance,
                          strategy=strategy, evaluate=evaluate, examples=examples,
                          guards=(f"{paper_key}.{guards}",)))


def all_claims() -> list[Claim]:
    from . import papers  # noqa: F401  (importing the paper modules registers their claims)
    return list(_REGISTRY.values())


def get(claim_id: str) -> Claim:
    claims = {c.id: c for c in all_claims()}
    if claim_id not in claims:
        raise UnknownClaim(f"unknown claim id {claim_id!r}")
    return claims[claim_id]


def select(patterns: list[str] | None) -> list[Claim]:
    """Claims whose ids match any glob pattern; every pattern must match at least one claim."""
    claims = all_claims()
    if not patterns:
        return claims
    chosen: dict[str, Claim] = {}
    for p in patterns:
        hits = [c for c in claims if fnmatch.fnmatchcase(c.id, p)]
        if not hits:
            raise UnknownClaim(f"no claim matches {p!r} (see `lora-claims list`)")
        chosen.update({c.id: c for c in hits})
    return [c for c in claims if c.id in chosen]
