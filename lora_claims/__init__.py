"""lora-claims: theorems of LoRA-training theory as executable, falsifiable claims.

The public API for declaring claims of your own (README, "Check your own theorem")::

    from lora_claims import theorem, control, Evidence

    theorem("mine.thm1", paper=..., theorem="Theorem 1", statement=..., assumptions=..., provenance="derived",
            strategy=lambda profile: <a Hypothesis strategy of JSON-able dicts>,
            evaluate=lambda drawn, ctx: Evidence.from_margins({...}))
    control("mine.nc1", guards="mine.thm1", statement="MUTANT: ...", strategy=..., evaluate=...)

Load such a module with ``--claims MODULE_OR_FILE`` (every subcommand, and ``pytest checks/``) or
declare it as an entry point of the group ``lora_claims.claims`` in your package's pyproject.
"""
from .theorems.claim import (KINDS, PROVENANCES, Claim, ClaimLoadError, Evidence, NumericalFailure, Verdict,
                             control, lemma, theorem, tol_margin)
from .theorems.context import EvalContext

__all__ = ["theorem", "lemma", "control", "Evidence", "EvalContext", "Claim", "Verdict", "NumericalFailure",
           "ClaimLoadError", "tol_margin", "KINDS", "PROVENANCES"]
