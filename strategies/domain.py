"""Declared instance spaces of the strategies, and what a search actually drew from them.

A strategy builder promises a space: for each drawn parameter, a numeric :class:`Span` or a set of
:class:`OneOf` values (``arch.kind`` names a nested key).  :func:`declares` attaches that promise to the
strategy it builds; :func:`coverage` compares the promise with the drawn values: which declared ends a run
reached, which values it never drew, and any value outside the promise (a strategy that draws less, or more,
than it says).  The declaration is written independently of the drawing code, so narrowing a range in one
and not the other is seen (tests/test_strategy_coverage.py asserts every claim's strategy covers its space).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable

# a declared end counts as reached within this fraction of the span (log10 span for log-scaled parameters).
# Hypothesis's generation inside composite strategies leans to the lower end and repeats values (measured:
# 24 distinct kappa in 87 draws of kim_draws, none in its top 5%; mu_factor at most 2.69 of [1.1, 3] in 40
# draws of the mixed-regime strategy), so an end is judged on the outer fifth: a range narrowed by more than
# that is still seen (tests/test_strategy_coverage.py narrows [2, 10] to [2, 5])
EDGE = 0.2
# a value counts as outside only beyond this fraction of the span (drawn values rounded to 4 digits)
OUTSIDE_SLACK = 1e-3


@dataclass(frozen=True)
class Span:
    """A numeric parameter in [lo, hi] (``log``: spread over decades, its ends judged in log10), and the
    extra values ``also`` outside it (e.g. lam = 0 beside a log range), each expected to be drawn too.
    ``lo``/``hi`` may be functions of the whole drawn dict where the bound depends on other parameters
    (``text`` then says it, e.g. "[40mn, 60mn]"); each draw is judged against its own bounds.
    ``reach=False``: a label (a seed) that must stay inside but whose ends mean nothing."""
    lo: Any
    hi: Any
    log: bool = False
    also: tuple = ()
    text: str = ""
    reach: bool = True
    parts: tuple = ()         # a union of spans (see union): each end is judged on the span that holds it
    when: Any = None          # a function of the drawn dict: the parameter exists only where it is true

    def bounds(self, drawn: dict) -> tuple[float, float]:
        lo = self.lo(drawn) if callable(self.lo) else self.lo
        hi = self.hi(drawn) if callable(self.hi) else self.hi
        return float(lo), float(hi)

    def describe(self) -> str:
        extra = "".join(f" or {v:g}" for v in self.also)
        ends = ["f(drawn)" if callable(e) else f"{e:g}" for e in (self.lo, self.hi)]
        core = self.text or f"[{ends[0]}, {ends[1]}]"
        return core + (" (log)" if self.log else "") + extra


@dataclass(frozen=True)
class OneOf:
    """A parameter taking each of ``values`` (all of them are expected to be drawn); ``when`` as for Span."""
    values: tuple
    when: Any = None

    def describe(self) -> str:
        return "{" + ", ".join(map(str, self.values)) + "}"


def declares(domain_of: Callable[..., dict]):
    """Decorator for a strategy builder ``f(profile, **kw) -> strategy``: the strategy it builds carries
    ``domain_of(profile, **kw)``, the space the builder promises to draw from."""
    def wrap(builder):
        @functools.wraps(builder)
        def build(profile, *args, **kw):
            return declare(builder(profile, *args, **kw), domain_of(profile, *args, **kw))
        return build
    return wrap


def declare(strategy, domain: dict):
    """Attach a declared domain to a strategy (returned, for chaining)."""
    strategy.declared_domain = dict(domain)
    return strategy


def declared_domain(strategy) -> dict | None:
    return getattr(strategy, "declared_domain", None)


def _lookup(drawn: dict, name: str) -> Any:
    v: Any = drawn
    for part in name.split("."):
        if not isinstance(v, dict) or part not in v:
            return None
        v = v[part]
    return v


def applies(spec, drawn: dict) -> bool:
    """Whether ``drawn`` has the parameter ``spec`` declares (a family-specific one only in its family)."""
    return spec.when is None or bool(spec.when(drawn))


def _place(spec: Span, v: float, drawn: dict) -> tuple[bool, bool, bool]:
    """(inside, at the lower end, at the upper end) of v in its declared span for this draw."""
    if spec.parts:
        lows, highs = [p.bounds(drawn)[0] for p in spec.parts], [p.bounds(drawn)[1] for p in spec.parts]
        first, last = spec.parts[lows.index(min(lows))], spec.parts[highs.index(max(highs))]
        places = {id(p): _place(p, v, drawn) for p in spec.parts}
        return (any(pl[0] for pl in places.values()), places[id(first)][1] and places[id(first)][0],
                places[id(last)][2] and places[id(last)][0])
    lo, hi = spec.bounds(drawn)
    if spec.log:
        if v <= 0 or lo <= 0:
            return False, False, False
        lo, hi, v = math.log10(lo), math.log10(hi), math.log10(v)
    if hi == lo:                      # a one-point span: its value reaches both ends
        return (v == lo,) * 3
    p = (v - lo) / (hi - lo)
    return -OUTSIDE_SLACK <= p <= 1 + OUTSIDE_SLACK, p <= EDGE, p >= 1 - EDGE


def coverage(domain: dict, drawn: list[dict]) -> dict:
    """Per declared parameter: the declared space, what was drawn, whether both ends (every value) were
    reached, and the drawn values outside the declaration.  ``covered`` is False for a parameter never
    drawn at all."""
    out = {}
    for name, spec in domain.items():
        try:
            out[name] = _covered(spec, name, drawn)
        except Exception as exc:              # a broken declaration is reported, never a crash of the search
            out[name] = {"declared": spec.describe(), "draws": 0, "reached": None, "outside": [],
                         "missing": [f"declaration raised {type(exc).__name__}: {exc}"], "covered": False}
    return out


def _covered(spec, name: str, drawn: list[dict]) -> dict:
    """One parameter's coverage row (see :func:`coverage`)."""
    pairs = [(v, d) for d in drawn if (v := _lookup(d, name)) is not None]
    if isinstance(spec, Span):                # a list-valued parameter: each element is judged
        pairs = [(x, d) for v, d in pairs for x in (v if isinstance(v, list) else [v])]
    vals = [v for v, _ in pairs]
    row: dict[str, Any] = {"declared": spec.describe(), "draws": len(vals)}
    if isinstance(spec, Span):
        nums = [(float(v), d) for v, d in pairs if isinstance(v, (int, float)) and not isinstance(v, bool)]
        extra = [v for v, _ in nums if v in spec.also]
        nums_in = [(v, d) for v, d in nums if v not in spec.also]
        places = [_place(spec, v, d) for v, d in nums_in]
        row["reached"] = [min(v for v, _ in nums), max(v for v, _ in nums)] if nums else None
        row["outside"] = sorted({v for (v, _), (inside, _, _) in zip(nums_in, places) if not inside})[:5]
        row["outside"] += [repr(v) for v in vals if not isinstance(v, (int, float)) or isinstance(v, bool)][:5]
        lo_ok = any(at_lo for _, at_lo, _ in places) or (not spec.reach and bool(places))
        hi_ok = any(at_hi for _, _, at_hi in places) or (not spec.reach and bool(places))
        row["missing"] = [e for e, ok in (("lower end", lo_ok), ("upper end", hi_ok)) if not ok]
        row["missing"] += [f"{v:g}" for v in spec.also if v not in extra]
    else:
        seen = {json_key(v) for v in vals}
        declared = {json_key(v) for v in spec.values}
        row["reached"] = sorted(seen & declared, key=str)
        row["outside"] = sorted(seen - declared, key=str)[:5]
        row["missing"] = sorted(declared - seen, key=str)
    row["covered"] = bool(vals) and not row["missing"] and not row["outside"]
    return row


def json_key(v):
    """A hashable stand-in for a drawn value (lists from JSON become tuples)."""
    return tuple(v) if isinstance(v, list) else v


def shortfalls(cov: dict) -> list[str]:
    """One line per parameter whose declared space was not covered (empty when all were)."""
    lines = []
    for name, row in cov.items():
        bits = []
        if not row["draws"]:
            bits.append("never drawn")
        if row["missing"]:
            bits.append("missing " + ", ".join(map(str, row["missing"])))
        if row["outside"]:
            bits.append("drawn outside: " + ", ".join(map(str, row["outside"])))
        if bits:
            lines.append(f"{name} {row['declared']}: " + "; ".join(bits))
    return lines


def union(a, b):
    """The declared space of a parameter drawn by either of two strategies (Spans: the hull of the two,
    per draw; OneOf: every value of both)."""
    if a == b:
        return a
    when = None if a.when is None or b.when is None else (lambda d: applies(a, d) or applies(b, d))
    if isinstance(a, OneOf) and isinstance(b, OneOf):
        return OneOf(tuple(dict.fromkeys(a.values + b.values)), when=when)
    if isinstance(a, Span) and isinstance(b, Span):
        parts = (a.parts or (a,)) + (b.parts or (b,))
        return Span(lambda d: min(p.bounds(d)[0] for p in parts), lambda d: max(p.bounds(d)[1] for p in parts),
                    also=tuple(dict.fromkeys(a.also + b.also)), reach=a.reach or b.reach, parts=parts,
                    text=f"{a.describe()} or {b.describe()}", when=when)
    raise TypeError(f"cannot join {a!r} and {b!r}")


def either(*strategies):
    """``st.one_of`` of declared strategies, declaring the union of their spaces."""
    from hypothesis import strategies as st
    domains = [declared_domain(s) for s in strategies]
    if any(d is None for d in domains):
        raise ValueError("either(): every strategy must declare its domain")
    joined: dict = {}
    for dom in domains:
        for k, spec in dom.items():
            joined[k] = union(joined[k], spec) if k in joined else spec
    return declare(st.one_of(*strategies), joined)


def with_domain(strategy, base, extra: dict | None = None, drop=()):
    """Declare ``strategy`` (built from the declared ``base`` by map/flatmap/filter) with base's space, less
    the parameters in ``drop``, plus ``extra``."""
    dom = declared_domain(base)
    if dom is None:
        raise ValueError("with_domain(): the base strategy declares no domain")
    dom = {k: v for k, v in dom.items() if k not in drop}
    dom.update(extra or {})
    return declare(strategy, dom)


def outside(domain: dict, drawn: dict) -> list[str]:
    """What in ``drawn`` breaks the declared ``domain``: one line per parameter that is missing, not a
    number, or outside its span / set (empty: every declared value is inside).  ``reproduce`` refuses such
    values, so a hand-edited counterexample is never evaluated outside the claim's assumptions."""
    problems = []
    for name, spec in domain.items():
        v = _lookup(drawn, name)
        try:
            expected = applies(spec, drawn)
        except Exception as exc:             # the condition reads a value that is missing or unusable
            problems.append(f"{name}: whether it is declared cannot be decided on these values "
                            f"({type(exc).__name__}: {exc})")
            continue
        if not expected:
            if v is not None:
                problems.append(f"{name} = {v!r} is not declared for these values")
            continue
        if v is None:
            problems.append(f"{name} is missing (declared {spec.describe()})")
            continue
        try:
            if isinstance(spec, OneOf):
                if json_key(v) not in {json_key(x) for x in spec.values}:
                    problems.append(f"{name} = {v!r} is not one of {spec.describe()}")
                continue
            for x in (v if isinstance(v, list) else [v]):
                if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                    problems.append(f"{name} = {x!r} is not a finite number (declared {spec.describe()})")
                elif x not in spec.also and not _place(spec, float(x), drawn)[0]:
                    problems.append(f"{name} = {x!r} is outside {spec.describe()}"
                                    + (f" = [{spec.bounds(drawn)[0]:g}, {spec.bounds(drawn)[1]:g}] for these values"
                                       if not spec.parts and (callable(spec.lo) or callable(spec.hi)) else ""))
        except Exception as exc:             # a bound computed from another value that is itself unusable
            problems.append(f"{name}: its declared bound cannot be evaluated on these values "
                            f"({type(exc).__name__}: {exc})")
    return problems
