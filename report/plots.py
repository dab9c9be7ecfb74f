"""Plots for the report, drawn with matplotlib into inline SVG strings (no files, no external resources).

Three kinds: the margin distribution of a claim's examples (with the zero line), the plot specs that
claims put in ``Evidence.traces`` (``theorems/traces.py``; ad-hoc trace dicts from older evidence are
drawn generically when they hold numeric sequences), and a claim's worst margin across runs.
"""
from __future__ import annotations

import io
import math
import re

import matplotlib
import numpy as np
from matplotlib.figure import Figure

VERDICT_COLOURS = {"held": "#2a7d2a", "falsified": "#b22222", "inconclusive": "#c77c00"}
_RC = {"svg.fonttype": "none", "font.size": 8.5, "axes.titlesize": 9.5, "axes.grid": True,
       "grid.alpha": 0.3, "legend.fontsize": 7.5, "legend.frameon": False}
MAX_POINTS = 2000          # longer series are thinned for the picture (every k-th point)


def _figure(width=5.2, height=2.9) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height), layout="constrained")


def _svg(fig: Figure, salt: str) -> str:
    """The figure as an <svg> element; ``salt`` keeps element ids unique across one HTML page."""
    buf = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)     # RDF boilerplate
    # ids must be unique in the page: prefix every id and reference with the salt
    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", salt) + "-"
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'url\(#([^)]+)\)', lambda m: f'url(#{prefix}{m.group(1)})', text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    return text


def _wide(values: np.ndarray) -> float | None:
    """A linear threshold for a symlog axis when |values| span more than three decades, else None."""
    a = np.abs(values[np.isfinite(values) & (values != 0)])
    if a.size < 2 or a.max() / a.min() <= 1e3:
        return None
    return float(max(np.percentile(a, 5), a.max() * 1e-9))


def margin_distribution(margins: list[float], salt: str, closest: float | None = None) -> str | None:
    """Histogram of the conclusive margins with the zero line (left of it: violated)."""
    m = np.asarray([x for x in margins if x is not None and math.isfinite(x)], dtype=float)
    if m.size == 0:
        return None
    fig = _figure(height=2.4)
    ax = fig.add_subplot()
    lt = _wide(m)
    if lt is None:
        lo, hi = float(min(m.min(), 0.0)), float(max(m.max(), 0.0))
        pad = 0.05 * (hi - lo or 1.0)
        bins = np.linspace(lo - pad, hi + pad, 31)
    else:
        hi = float(np.abs(m).max()) * 1.01
        pos = np.geomspace(lt, hi, 16)
        bins = np.concatenate([-pos[::-1], [0.0], pos]) if (m < 0).any() else np.concatenate([[0.0], pos])
        ax.set_xscale("symlog", linthresh=lt)
    ax.hist(m[m >= 0], bins=bins, color="#4a7fb5", label=f"holds ({int((m >= 0).sum())})")
    if (m < 0).any():
        ax.hist(m[m < 0], bins=bins, color="#b22222", label=f"violated ({int((m < 0).sum())})")
    ax.axvline(0.0, color="black", lw=1.2, ls="--", label="margin 0")
    if closest is not None and math.isfinite(closest):
        ax.axvline(closest, color="#c77c00", lw=1.0, label=f"closest approach {closest:.3g}")
    ax.set_xlabel("margin (≥ 0: the statement held; < 0: violated)")
    ax.set_ylabel("examples")
    ax.legend(loc="best")
    return _svg(fig, salt)


def _values(v) -> np.ndarray:
    return np.asarray([np.nan if (x is None or isinstance(x, str)) else float(x) for x in v], dtype=float)


def trace_plot(spec: dict, salt: str) -> str | None:
    """Draw one plot spec of ``theorems.traces.plot``; None when it has nothing drawable."""
    series = [s for s in spec.get("series") or [] if s.get("x") and s.get("y")]
    if not series:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    for s in series:
        x, y = _values(s["x"]), _values(s["y"])
        step = max(1, len(x) // MAX_POINTS)
        x, y = x[::step], y[::step]
        if s.get("style") == "points":
            ax.plot(x, y, "o", ms=3.5, label=s.get("label"))
        else:
            ax.plot(x, y, "-", lw=1.4, label=s.get("label"))
    if spec.get("hline") is not None:
        ax.axhline(float(spec["hline"]), color="black", ls="--", lw=1.0, label="reference")
    if spec.get("xlog"):
        ax.set_xscale("log")
    if spec.get("ylog"):
        ax.set_yscale("log")
    ax.set_title(spec.get("title") or "")
    ax.set_xlabel(spec.get("xlabel") or "")
    ax.set_ylabel(spec.get("ylabel") or "")
    if len(series) > 1 or spec.get("hline") is not None or any(s.get("label") for s in series):
        ax.legend(loc="best")
    return _svg(fig, salt)


def _numeric_list(v) -> bool:
    return (isinstance(v, list) and len(v) >= 2
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v))


def generic_specs(traces: dict) -> list[dict]:
    """Plot specs for ad-hoc trace dicts: each numeric sequence (or {x, y} pair) becomes a line."""
    specs = []
    for key, value in traces.items():
        if key == "plots":
            continue
        if isinstance(value, dict) and _numeric_list(value.get("x")) and _numeric_list(value.get("y")):
            specs.append({"title": key, "xlabel": "x", "ylabel": key,
                          "series": [{"label": key, "x": value["x"], "y": value["y"], "style": "line"}]})
        elif isinstance(value, dict):
            curves = [{"label": k, "x": list(range(len(v))), "y": v, "style": "line"}
                      for k, v in value.items() if _numeric_list(v)]
            if curves:
                specs.append({"title": key, "xlabel": "index", "ylabel": "value", "series": curves})
        elif _numeric_list(value):
            specs.append({"title": key, "xlabel": "index", "ylabel": key,
                          "series": [{"label": key, "x": list(range(len(value))), "y": value, "style": "line"}]})
    return specs


def trace_specs(traces: dict | None) -> list[dict]:
    """The plot specs carried by an example's traces (conventional ones first, then ad-hoc ones)."""
    if not isinstance(traces, dict):
        return []
    specs = [p for p in traces.get("plots") or [] if isinstance(p, dict)]
    return specs + generic_specs(traces)


def history_plot(history: list[dict], salt: str) -> str | None:
    """Worst margin per run, coloured by verdict, with the zero line."""
    pts = [h for h in history if h.get("worst_margin") is not None]
    if len(history) < 2 or not pts:
        return None
    fig = _figure(height=2.2)
    ax = fig.add_subplot()
    x = [h["run"] for h in pts]
    y = np.asarray([h["worst_margin"] for h in pts], dtype=float)
    ax.plot(x, y, "-", color="#999", lw=1.0)
    for verdict, colour in VERDICT_COLOURS.items():
        sel = [i for i, h in enumerate(pts) if h["verdict"] == verdict]
        if sel:
            ax.plot([x[i] for i in sel], y[sel], "o", color=colour, ms=5, label=verdict)
    lt = _wide(y)
    if lt is not None:
        ax.set_yscale("symlog", linthresh=lt)
    ax.axhline(0.0, color="black", ls="--", lw=1.0)
    ax.set_xlabel("run")
    ax.set_ylabel("worst margin")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="best")
    return _svg(fig, salt)


def margin_vs_parameter(values: list[float], margins: list[float], name: str, salt: str) -> str | None:
    """Coverage view: each conclusive example's margin against one drawn parameter (zero line dashed)."""
    pts = [(float(v), float(m)) for v, m in zip(values, margins)
           if v is not None and m is not None and math.isfinite(float(v)) and math.isfinite(float(m))]
    if len(pts) < 2 or len({p[0] for p in pts}) < 2:
        return None
    x, y = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    fig = _figure(width=3.6, height=2.4)
    ax = fig.add_subplot()
    ax.scatter(x[y >= 0], y[y >= 0], s=10, color="#4a7fb5", label="holds")
    if (y < 0).any():
        ax.scatter(x[y < 0], y[y < 0], s=12, color="#b22222", label="violated")
    lt = _wide(y)
    if lt is not None:
        ax.set_yscale("symlog", linthresh=lt)
    if x.min() > 0 and x.max() / x.min() > 1e3:
        ax.set_xscale("log")
    ax.axhline(0.0, color="black", lw=1.0, ls="--")
    ax.set_xlabel(f"drawn {name}")
    ax.set_ylabel("margin")
    ax.legend(loc="best")
    return _svg(fig, salt)
