"""Plot traces carried by Evidence (``Evidence.traces``), drawn by the report.

Convention: ``Evidence.traces = {"plots": [plot(...), ...]}``.  Each plot is plain JSON (it is stored
in the results store as is) and says what a person should look at: a title, axis labels, log axes
where the theory is a power law or an exponential, one or more named series (labelled by what they are:
an instance, an init scale, an activation -- never a batch row index), shaded bands (a confidence band,
a claim's window) and a caption saying what the plot shows and what the claim asserts about it.  The report draws
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


STYLES = ("line", "points", "dashed")       # dashed: a reference (a bound, a predicted rate), not data


def series(label: str, x: Sequence, y: Sequence, *, style: str = "line", group: str | None = None) -> dict:
    """One named curve (``style`` 'line', 'points' or 'dashed'); curves and bands of one ``group`` (an
    instance, an activation) share a colour."""
    x, y = _floats(x), _floats(y)
    if len(x) != len(y):
        raise ValueError(f"series {label!r}: {len(x)} x values but {len(y)} y values")
    if style not in STYLES:
        raise ValueError(f"unknown series style {style!r}")
    return {"label": label, "x": x, "y": y, "style": style, "group": group}


def band(label: str, x: Sequence, lo: Sequence, hi: Sequence, *, group: str | None = None) -> dict:
    """A shaded region between two curves over ``x`` (a confidence band, a claim's window)."""
    x, lo, hi = _floats(x), _floats(lo), _floats(hi)
    if not len(x) == len(lo) == len(hi):
        raise ValueError(f"band {label!r}: {len(x)} x values, {len(lo)} lower and {len(hi)} upper")
    return {"label": label, "x": x, "lo": lo, "hi": hi, "group": group}


def plot(title: str, xlabel: str, ylabel: str, curves: Sequence[dict], *, xlog: bool = False,
         ylog: bool = False, hline: float | None = None, hline_label: str = "reference",
         bands: Sequence[dict] = (), caption: str = "") -> dict:
    """A plot spec: ``curves`` from :func:`series`, ``bands`` from :func:`band`; ``hline`` draws a reference
    line (e.g. a bound) named ``hline_label``; ``caption``: what the plot shows and what the claim asserts."""
    return {"title": title, "xlabel": xlabel, "ylabel": ylabel, "series": list(curves), "bands": list(bands),
            "xlog": bool(xlog), "ylog": bool(ylog), "hline": hline, "hline_label": hline_label,
            "caption": caption}


def plots(*specs: dict) -> dict:
    """The ``traces`` value for Evidence."""
    return {"plots": list(specs)}
