"""Plots for the report, drawn with matplotlib into inline SVG strings (no files, no external resources).

Three kinds: the margin distribution of a claim's examples (with the zero line), the plot specs that
claims put in ``Evidence.traces`` (``theorems/traces.py``; ad-hoc trace dicts from older evidence are
drawn generically when they hold numeric sequences), and a claim's worst margin across runs.
"""
from __future__ import annotations

import io
import math
import re
import textwrap

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

VERDICT_COLOURS = {"held": "#2a7d2a", "falsified": "#b22222", "inconclusive": "#c77c00"}
_RC = {"svg.fonttype": "none", "font.size": 8.5, "axes.titlesize": 9.5, "axes.grid": True,
       "grid.alpha": 0.3, "legend.fontsize": 7.5, "legend.frameon": False}
MAX_POINTS = 2000          # longer series are thinned for the picture (every k-th point)
MAX_GRID_TICKS = 8         # a log x axis over at most this many grid values is ticked at them
STRIP_BELOW = 8            # fewer conclusive margins than this: a strip of points, not a histogram
CHARS_PER_INCH = 13        # axis labels wrap to the axis they label (a long y-label is never cut off)


def _figure(width=5.2, height=2.9) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height), layout="constrained")


def _labels(fig: Figure, ax, xlabel: str, ylabel: str) -> None:
    """Axis labels wrapped to the figure's size, so none runs past the picture's edge."""
    w, h = fig.get_size_inches()
    ax.set_xlabel("\n".join(textwrap.wrap(xlabel or "", int(w * CHARS_PER_INCH))))
    ax.set_ylabel("\n".join(textwrap.wrap(ylabel or "", int(min(h, 2.4) * CHARS_PER_INCH))))   # the axes, not the legend


def _plain_ticks(ax) -> None:
    """Tick labels as plain numbers on linear axes (no '1e6' offset or exponent text off the axis), and on log
    axes spanning less than a decade (where the ticks are minor ones, else written '1.4 x 10^-3')."""
    fmt = FuncFormatter(lambda v, _: f"{v:.4g}")
    for axis, scale, (lo, hi) in ((ax.xaxis, ax.get_xscale(), ax.get_xlim()), (ax.yaxis, ax.get_yscale(), ax.get_ylim())):
        if scale == "linear":
            axis.set_major_formatter(fmt)
        elif scale == "log" and lo > 0 and hi / lo < 10:
            axis.set_major_formatter(fmt)
            axis.set_minor_formatter(fmt)


LEGEND_CHARS_PER_INCH, LEGEND_HANDLE = 16, 0.5      # legend text at 7.5 pt; a handle and its gaps, in inches


def _legend_cols(labels: list[str], width: float) -> int:
    """Columns of a legend below the axes: as many as fit the figure's ``width`` (inches), at most three."""
    column = LEGEND_HANDLE + max((len(t) for t in labels), default=0) / LEGEND_CHARS_PER_INCH
    return max(1, min(3, len(labels), int(width // column)))


def _legend(fig: Figure, ax) -> None:
    """The legend below the axes, outside the data (nothing drawn over bars or curves)."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    with matplotlib.rc_context(_RC):
        fig.legend(handles, labels, loc="outside lower center", ncols=_legend_cols(labels, fig.get_size_inches()[0]))


def _height(base: float, labels: list[str], width: float) -> float:
    """A figure's height grown by the rows its legend needs below the axes (the axes keep ``base``'s room)."""
    rows = math.ceil(len(labels) / _legend_cols(labels, width)) if labels else 0
    return base + 0.16 * rows


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
    """The conclusive margins with the zero line (left of it: violated): a histogram with integer counts, or,
    for fewer than ``STRIP_BELOW`` examples, a strip with one point per example."""
    m = np.asarray([x for x in margins if x is not None and math.isfinite(x)], dtype=float)
    if m.size == 0:
        return None
    strip = m.size < STRIP_BELOW
    fig = _figure(height=1.9 if strip else 2.6)
    ax = fig.add_subplot()
    lt = _wide(m)
    if lt is not None:
        ax.set_xscale("symlog", linthresh=lt)
    held, violated = m[m >= 0], m[m < 0]
    if strip:
        for vals, colour, name in ((held, "#4a7fb5", "holds"), (violated, "#b22222", "violated")):
            if vals.size:
                ax.plot(vals, np.zeros_like(vals), "o", ms=6, alpha=0.8, color=colour, label=f"{name} ({vals.size})")
        ax.set_yticks([])
        ax.grid(False, axis="y")
        ylabel = ""
    else:
        if lt is None:
            lo, hi = float(min(m.min(), 0.0)), float(max(m.max(), 0.0))
            pad = 0.05 * (hi - lo or 1.0)
            bins = np.linspace(lo - pad, hi + pad, 31)
        else:
            hi = float(np.abs(m).max()) * 1.01
            pos = np.geomspace(lt, hi, 16)
            bins = np.concatenate([-pos[::-1], [0.0], pos]) if violated.size else np.concatenate([[0.0], pos])
        ax.hist(held, bins=bins, color="#4a7fb5", label=f"holds ({held.size})")
        if violated.size:
            ax.hist(violated, bins=bins, color="#b22222", label=f"violated ({violated.size})")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ylabel = "examples"
    ax.axvline(0.0, color="black", lw=1.2, ls="--", label="margin 0")
    if closest is not None and math.isfinite(closest):
        ax.axvline(closest, color="#c77c00", lw=1.0, label=f"closest approach {closest:.3g}")
    _labels(fig, ax, "margin (≥ 0: the statement held; < 0: violated)", ylabel)
    _plain_ticks(ax)
    _legend(fig, ax)
    return _svg(fig, salt)


def _values(v) -> np.ndarray:
    return np.asarray([np.nan if (x is None or isinstance(x, str)) else float(x) for x in v], dtype=float)


def trace_plot(spec: dict, salt: str) -> str | None:
    """Draw one plot spec of ``theorems.traces.plot``; None when it has nothing drawable."""
    series = [s for s in spec.get("series") or [] if s.get("x") and s.get("y")]
    bands = [b for b in spec.get("bands") or [] if b.get("x") and b.get("lo") and b.get("hi")]
    if not series:
        return None
    labels = [str(i["label"]) for i in bands + series if i.get("label")] + (
        [spec.get("hline_label") or "reference"] if spec.get("hline") is not None else [])
    fig = _figure(height=_height(2.9, labels, 5.2))
    ax = fig.add_subplot()
    palette = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    colours: dict = {}

    def colour(item):                  # one colour per group (an instance, an activation); else one per item
        key = item.get("group") or id(item)
        return colours.setdefault(key, palette[len(colours) % len(palette)])

    for b in bands:
        ax.fill_between(_values(b["x"]), _values(b["lo"]), _values(b["hi"]), alpha=0.18, lw=0, color=colour(b),
                        label=b.get("label") or None)          # an empty label: no legend entry
    for s in series:
        x, y = _values(s["x"]), _values(s["y"])
        step = max(1, len(x) // MAX_POINTS)
        x, y = x[::step], y[::step]
        fmt, kw = {"points": ("o", {"ms": 3.5}), "dashed": ("--", {"lw": 1.1})}.get(s.get("style"), ("-", {"lw": 1.4}))
        ax.plot(x, y, fmt, color=colour(s), label=s.get("label") or None, **kw)
    if spec.get("hline") is not None:
        ax.axhline(float(spec["hline"]), color="black", ls="--", lw=1.0, label=spec.get("hline_label") or "reference")
    if spec.get("xlog"):
        ax.set_xscale("log")
    if spec.get("ylog"):
        ax.set_yscale("log")
    ax.set_title(spec.get("title") or "")
    _labels(fig, ax, spec.get("xlabel") or "", spec.get("ylabel") or "")
    _plain_ticks(ax)
    xs = sorted({v for s in series for v in _values(s["x"]) if math.isfinite(v) and v > 0})
    if spec.get("xlog") and 2 <= len(xs) <= MAX_GRID_TICKS and xs[-1] / xs[0] < 1e3:
        # a short grid on a log axis (d in {32, ..., 256}, k in {2, ..., 16}): tick exactly the grid, in plain numbers
        ax.set_xticks(xs, [f"{v:g}" for v in xs])
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    if labels:
        _legend(fig, ax)
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
    fig = _figure(height=2.4)
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
    ax.axhline(0.0, color="black", ls="--", lw=1.0, label="margin 0")
    _labels(fig, ax, "run", "worst margin")
    _plain_ticks(ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _legend(fig, ax)
    return _svg(fig, salt)


def margin_vs_parameter(values: list[float], margins: list[float], name: str, salt: str) -> str | None:
    """Coverage view: each conclusive example's margin against one drawn parameter (zero line dashed)."""
    pts = [(float(v), float(m)) for v, m in zip(values, margins)
           if v is not None and m is not None and math.isfinite(float(v)) and math.isfinite(float(m))]
    if len(pts) < 2 or len({p[0] for p in pts}) < 2:
        return None
    x, y = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    fig = _figure(width=3.8, height=2.7)
    ax = fig.add_subplot()
    ax.scatter(x[y >= 0], y[y >= 0], s=10, color="#4a7fb5", label="holds")
    if (y < 0).any():
        ax.scatter(x[y < 0], y[y < 0], s=12, color="#b22222", label="violated")
    lt = _wide(y)
    if lt is not None:
        ax.set_yscale("symlog", linthresh=lt)
    if x.min() > 0 and x.max() / x.min() > 1e3:
        ax.set_xscale("log")
    ax.axhline(0.0, color="black", lw=1.0, ls="--", label="margin 0")
    _labels(fig, ax, f"drawn {name}", "margin")
    _plain_ticks(ax)
    _legend(fig, ax)
    return _svg(fig, salt)
