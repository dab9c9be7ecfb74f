"""Plot traces carried by Evidence (``Evidence.traces``), drawn by the report.

Convention: ``Evidence.traces = {"plots": [plot(...), ...]}``.  Each plot is plain JSON (it is stored
in the results store as is) and says what a person should look at: a title, axis labels, log axes
where the theory is a power law or an exponential, and one or more named series.  The report draws
every plot of a claim's closest-approach example (and of its counterexample, if any); claims do not
draw anything themselves.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence


def _floats(values: Iterable) -> list[float | None]:
    out = []
    for v in values:
        v = float(v)
        out.append(v if math.isfinite(v) else None)        # JSON has no NaN; the report skips None
    return out


def series(label: str, x: Sequence, y: Sequence, *, style: str = "line") -> dict:
    """One named curve (``style`` 'line' or 'points')."""
    x, y = _floats(x), _floats(y)
    if len(x) != len(y):
        raise ValueError(f"series {label!r}: {len(x)} x values but {len(y)} y values")
    if style not in ("line", "points"):
        raise ValueError(f"unknown series style {style!r}")
    return {"label": label, "x": x, "y": y, "style": style}


def plot(title: str, xlabel: str, ylabel: str, curves: Sequence[dict], *, xlog: bool = False,
         ylog: bool = False, hline: float | None = None) -> dict:
    """A plot spec: ``curves`` from :func:`series`; ``hline`` draws a reference line (e.g. a bound)."""
    return {"title": title, "xlabel": xlabel, "ylabel": ylabel, "series": list(curves),
            "xlog": bool(xlog), "ylog": bool(ylog), "hline": hline}


def plots(*specs: dict) -> dict:
    """The ``traces`` value for Evidence."""
    return {"plots": list(specs)}
