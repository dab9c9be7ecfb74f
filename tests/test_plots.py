"""report/plots.py draws what a reader would put in a paper (issue 20): integer counts, legends outside the
axes, no offset text, labels that fit, a strip instead of a one-bar histogram, bands and shared colours; and
every figure of a report has a caption.  Each test inspects the matplotlib figure the SVG is made from."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from lora_claims.report import plots
from lora_claims.theorems import traces as T


@pytest.fixture
def drawn(monkeypatch):
    """The figures handed to plots._svg (each is drawn before it is serialised)."""
    figs = []
    real = plots._svg

    def keep(fig, salt):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(fig).draw()            # lays out the figure as savefig does; a renderer to measure with
        figs.append(fig)
        return real(fig, salt)
    monkeypatch.setattr(plots, "_svg", keep)
    return figs


def _outside(fig, ax) -> bool:
    """The figure's legend lies wholly outside the axes (does not overlap the data area)."""
    r = fig.canvas.get_renderer()
    leg, box = fig.legends[0].get_window_extent(r), ax.get_window_extent(r)
    return leg.y1 <= box.y0 + 1 or leg.y0 >= box.y1 - 1 or leg.x1 <= box.x0 + 1 or leg.x0 >= box.x1 - 1


def _inside_figure(fig) -> bool:
    """What is drawn (axes with their labels, ticks and title; the legend) lies within the figure: nothing is
    cut off (2 px of antialiasing allowed; a legend at most 95% of the figure's width)."""
    r = fig.canvas.get_renderer()
    W, H = fig.bbox.width, fig.bbox.height
    boxes = [ax.get_tightbbox(r) for ax in fig.axes] + [leg.get_window_extent(r) for leg in fig.legends]
    inside = all(b.x0 >= -2 and b.y0 >= -2 and b.x1 <= W + 2 and b.y1 <= H + 2 for b in boxes)
    # a browser draws the SVG's text in its own copy of the font: a legend needs slack on both sides
    return inside and all(leg.get_window_extent(r).width <= 0.95 * W for leg in fig.legends)


def test_histogram_counts_are_integers_with_the_legend_outside(drawn):
    plots.margin_distribution(list(np.linspace(0.01, 0.9, 13)) + [-0.2], "h", closest=-0.2)
    fig = drawn[-1]
    ax = fig.axes[0]
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert fig.legends and not ax.get_legend() and _outside(fig, ax)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "holds (13)" in labels and "violated (1)" in labels
    assert _inside_figure(fig)


def test_few_margins_are_a_strip_not_a_histogram(drawn):
    plots.margin_distribution([0.3], "one")
    ax = drawn[-1].axes[0]
    assert not ax.patches and len(ax.get_yticks()) == 0           # no bars, no count axis
    plots.margin_distribution(list(np.linspace(0, 1, plots.STRIP_BELOW)), "many")
    assert drawn[-1].axes[0].patches                               # enough examples: bars


def test_no_offset_or_exponent_text_on_linear_axes(drawn):
    plots.trace_plot(T.plot("big", "x", "y", [T.series("s", [1e6, 1e6 + 1, 1e6 + 2], [5e6, 5e6 + 3, 5e6 + 1])]),
                     "o")
    ax = drawn[-1].axes[0]
    assert ax.xaxis.get_offset_text().get_text() == "" and ax.yaxis.get_offset_text().get_text() == ""
    assert all(re.fullmatch(r"[0-9.e+\-−]*", t.get_text()) for t in ax.get_xticklabels())


def test_a_long_y_label_wraps_and_stays_in_the_figure(drawn):
    label = "tan angle(col Z1, top singular direction of M) at the first time the update reaches tau"
    plots.trace_plot(T.plot("t", "init scale alpha", label,
                            [T.series(f"instance {i}", [1e-8, 1e-6, 1e-4], [1e-3, 1e-2, 1e-1]) for i in range(8)],
                            xlog=True, ylog=True), "w")
    fig = drawn[-1]
    assert "\n" in fig.axes[0].get_ylabel()
    assert _inside_figure(fig) and _outside(fig, fig.axes[0])


def test_a_short_grid_on_a_log_axis_is_ticked_at_its_values(drawn):
    plots.trace_plot(T.plot("T vs k", "k", "T", [T.series("m", [2, 4, 8, 16], [1, 2, 4, 8], style="points")],
                            xlog=True, ylog=True), "g")
    ax = drawn[-1].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "4", "8", "16"]
    assert not any(t.get_text() for t in ax.xaxis.get_minorticklabels())


def test_a_wide_legend_takes_fewer_columns_and_stays_in_the_figure(drawn):
    curves = [T.series(f"{kind}, alpha={a:g}", [0, 1, 2], [1, 0.1, 0.01]) for a in (1e-4, 1e-6, 1e-8)
              for kind in ("random", "spectral S1")]
    plots.trace_plot(T.plot("L - L*", "t", "L - L*", curves, ylog=True), "wide")
    assert _inside_figure(drawn[-1]) and _outside(drawn[-1], drawn[-1].axes[0])


def test_bands_dashed_references_and_groups_share_a_colour(drawn):
    x = [32, 64, 128]
    spec = T.plot("T vs d", "d", "T", [T.series("median (a)", x, [1, 2, 4], style="points", group="a"),
                                         T.series("fit (a)", x, [1, 2, 4], group="a"),
                                         T.series("window", x, [1, 1.8, 3.2], style="dashed", group="w"),
                                         T.series("median (b)", x, [2, 4, 8], style="points", group="b")],
                  bands=[T.band("CI (a)", x, [0.9, 1.9, 3.6], [1.1, 2.1, 4.4], group="a")], xlog=True, ylog=True,
                  caption="what it shows")
    plots.trace_plot(spec, "b")
    ax = drawn[-1].axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert lines["window"].get_linestyle() == "--" and lines["fit (a)"].get_linestyle() == "-"
    assert lines["median (a)"].get_color() == lines["fit (a)"].get_color() != lines["median (b)"].get_color()
    band = ax.collections[0]
    assert band.get_label() == "CI (a)"
    assert np.allclose(band.get_facecolor()[0][:3], plt_rgb(lines["fit (a)"].get_color()))
    assert spec["caption"] == "what it shows"


def plt_rgb(colour):
    from matplotlib.colors import to_rgb
    return to_rgb(colour)


def test_series_and_bands_reject_what_cannot_be_drawn():
    with pytest.raises(ValueError, match="style"):
        T.series("s", [1], [1], style="dotted-ish")
    with pytest.raises(ValueError, match="band"):
        T.band("b", [1, 2], [1], [2, 3])
    assert T.band("b", [1], [math.inf], [2])["lo"] == [None]          # JSON has no inf: the report skips it
