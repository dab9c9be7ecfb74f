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
# the public names are loaded on first use (PEP 562), so `lora-claims --help` does not import torch
_PUBLIC = {
    ".theorems.claim": ("KINDS", "PROVENANCES", "Claim", "ClaimLoadError", "Evidence", "NumericalFailure", "Verdict",
                        "worst", "worst_row", "Condition", "at_least", "at_most", "control", "experiment", "lemma",
                        "theorem"),
    ".theorems.context": ("EvalContext",),
    ".strategies.domain": ("OneOf", "Span", "declare", "declares"),
}
_WHERE = {name: module for module, names in _PUBLIC.items() for name in names}


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module 'lora_claims' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


__all__ = ["theorem", "lemma", "control", "experiment", "Evidence", "EvalContext", "Claim", "Verdict", "NumericalFailure",
           "ClaimLoadError", "at_most", "at_least", "Condition", "Span", "OneOf", "declare", "declares", "worst", "worst_row",
           "KINDS", "PROVENANCES"]
