"""lora-claims: theorems of LoRA-training theory as executable, falsifiable claims.

The public API for declaring claims of your own (README, "Check your own theorem")::

    from lora_claims import theorem, control, Evidence, at_most

    theorem("mine.thm1", paper=..., theorem="Theorem 1", statement=..., assumptions=..., provenance="derived",
            strategy=lambda profile: <a Hypothesis strategy of JSON-able dicts>,
            evaluate=lambda drawn, ctx: Evidence.from_margins({"gap <= tol": at_most(gap, 1e-8), ...}))
    control("mine.nc1", guards="mine.thm1", statement="MUTANT: ...", strategy=..., evaluate=...)

Load such a module with ``--claims MODULE_OR_FILE`` (every subcommand, and ``pytest checks/``) or
declare it as an entry point of the group ``lora_claims.claims`` in your package's pyproject.
"""
from .theorems.claim import (KINDS, PROVENANCES, Claim, ClaimLoadError, Evidence, NumericalFailure, Verdict, worst, worst_row,
                             Condition, at_least, at_most, control, experiment, lemma, theorem)
from .theorems.context import EvalContext
from .strategies.domain import OneOf, Span, declare, declares

__all__ = ["theorem", "lemma", "control", "experiment", "Evidence", "EvalContext", "Claim", "Verdict", "NumericalFailure",
           "ClaimLoadError", "at_most", "at_least", "Condition", "Span", "OneOf", "declare", "declares", "worst", "worst_row",
           "KINDS", "PROVENANCES"]
