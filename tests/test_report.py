"""report/: the self-contained HTML report built from a results store (toy claims, no search)."""
from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from hypothesis import strategies as st

from lora_claims.report import plots
from lora_claims.report.build import build_report
from lora_claims.theorems import traces as T
from lora_claims.theorems.claim import Claim, Evidence
from lora_claims.store import Store


def _toy(id, kind="theorem"):
    return Claim(id=id, paper="Toy paper (2030)", theorem=f"Theorem {id[-1]}", statement=f"statement of {id}",
                 assumptions=f"assumptions of {id}", kind=kind, provenance="derived",
                 strategy=lambda p: st.just({}), evaluate=lambda d, ctx: Evidence(1.0))


CLAIMS = [_toy("toy.a"), _toy("toy.b"), _toy("toy.c", "control"), _toy("toy.d")]   # toy.d never runs

CURVE = T.plots(T.plot("loss curve", "step", "loss", [T.series("loss", range(50), [2.0 ** -k for k in range(50)])],
                       ylog=True, hline=1e-9),
                T.plot("iterations vs d", "d", "iterations", [T.series("k=1", [2, 4, 8], [3, 9, 27], style="points")],
                       xlog=True, ylog=True))


def _summary(claim, verdict, ok, worst, run_examples, **extra):
    s = {"id": claim.id, "paper": claim.paper, "theorem": claim.theorem, "kind": claim.kind,
         "provenance": claim.provenance, "verdict": verdict, "ok": ok, "examples": run_examples,
         "passed": run_examples, "failed": 0, "inconclusive": 0, "vacuous": 0, "worst_margin": worst,
         "seconds": 0.5, "note": "", "reasons": {}, "closest": None, "counterexample": None,
         "artefact": None, "flaky": None}
    s.update(extra)
    return s


def _record(store, run, claim, drawn, margin, traces=None, origin="search"):
    return store.recorder(run)(claim=claim, drawn=drawn, evidence=Evidence(margin, {"m": margin}, traces=traces or {},
                                                                          binding="cond"),
                               seconds=0.01, device="cpu", dtype="float64", origin=origin)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    store = Store(folder / "claims.sqlite")
    a, b, c, _ = CLAIMS
    # run 1: toy.a held, toy.c (control) falsified with a counterexample, toy.b an artefact
    r1 = store.start_run("ci", "cpu", 0, {})
    ids = [_record(store, r1, a, {"i": i}, 0.1 * (i + 1), CURVE if i == 0 else None) for i in range(6)]
    store.record_outcome(r1, _summary(a, "held", True, 0.1, 6,
                                      closest={"drawn": {"i": 0}, "margin": 0.1, "binding": "cond",
                                               "measured": {"m": 0.1}, "example_id": ids[0]}))
    _record(store, r1, c, {"j": 3}, -0.5, {"adhoc": {"x": [0, 1, 2], "y": [1, 4, 9]}, "norms": [3.0, 2.0, 1.0]})
    ce = store.export_counterexample({"claim": c.id, "drawn": {"j": 3}, "margin": -0.5, "binding": "cond",
                                      "measured": {"m": -0.5}, "seed": 0, "device": "cpu", "dtype": "float64",
                                      "versions": {}, "reverified": {"dtype": "float64", "margin": -0.5}})
    store.record_outcome(r1, _summary(c, "falsified", True, -0.5, 1, counterexample=ce))
    _record(store, r1, b, {"k": 1}, 0.3)
    artefact = {"claim": b.id, "drawn": {"k": 9}, "seed": 0,
                "search": {"device": "cpu", "dtype": "float32", "status": "fail", "margin": -1e-3},
                "reverified": {"device": "cpu", "dtype": "float64", "status": "pass", "margin": 0.25}}
    store.record_outcome(r1, _summary(b, "inconclusive", True, 0.3, 1, artefact=artefact,
                                      note="numerical artefact: the failure did not reproduce"))
    store.finish_run(r1)
    # run 2 (killed: never finished): toy.a again, closer to the boundary
    r2 = store.start_run("nightly", "cpu", 1, {})
    for i in range(4):
        _record(store, r2, a, {"i": i}, 0.01 * (i + 1), CURVE if i == 0 else None)
    # no example id in the summary: the report finds the run's worst example itself
    store.record_outcome(r2, _summary(a, "held", True, 0.01, 4, closest={"drawn": {"i": 0}, "margin": 0.01}))
    store.db.execute("UPDATE runs SET status = 'incomplete' WHERE id = ?", (r2,))
    out = build_report(store, CLAIMS, folder / "report.html")
    store.close()
    return out.read_text(encoding="utf-8")


class _Doc(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.tags, self.ids, self.rows, self.details, self.svg_text = Counter(), [], [], [], []
        self.external = []
        self._in_svg_text = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "tr" and "data-id" in a:
            self.rows.append(a["data-id"])
        if tag == "details" and "claim" in (a.get("class") or ""):
            self.details.append(a["id"])
        for k in ("src", "href", "xlink:href"):
            v = a.get(k) or ""
            if v and not v.startswith("#"):
                self.external.append((tag, k, v))
        if tag == "link":
            self.external.append((tag, "link", a.get("href")))
        self._in_svg_text = tag == "text"

    def handle_data(self, data):
        if self._in_svg_text:
            self.svg_text.append(data)


def test_report_is_one_offline_file(report):
    doc = _Doc(report)
    assert report.lstrip().lower().startswith("<!doctype html")
    assert doc.external == []                  # no CDN, no linked files: everything inline
    assert doc.tags["script"] == 1 and doc.tags["img"] == 0
    assert len(doc.ids) == len(set(doc.ids)), [i for i, n in Counter(doc.ids).items() if n > 1]


def test_table_and_sections_name_every_claim(report):
    doc = _Doc(report)
    assert doc.rows == [c.id for c in CLAIMS]
    assert doc.details == [c.id for c in CLAIMS]
    for c in CLAIMS:
        assert c.statement in report and c.assumptions in report
    assert "Not run yet" in report            # toy.d


def test_plots_are_inline_svg_with_the_traces(report):
    doc = _Doc(report)
    # toy.a: margin distribution, history, two trace plots; toy.b: margins; toy.c: margins + 2 ad-hoc traces
    assert doc.tags["svg"] >= 8
    text = " ".join(doc.svg_text)
    for title in ("loss curve", "iterations vs d", "adhoc", "norms", "worst margin", "margin (≥ 0"):
        assert title in text, title


def test_counterexample_artefact_closest_history_and_runs(report):
    assert "lora-claims reproduce " in report and "toy.c-" in report        # the exported file's command
    assert "Numerical artefact" in report and "float32" in report and "tighter tolerances" in report
    row_b = report[report.index('<tr data-id="toy.b"'):report.index('<tr data-id="toy.c"')]
    assert "inconclusive" in row_b and ">artefact<" in row_b         # flagged in the table too
    assert "Closest approach" in report
    assert re.search(r"history \(2 runs\)", report)
    runs = report[report.index('<table id="runs"'):]
    assert "incomplete" in runs and "nightly" in runs
    assert re.search(r'<td class="num">4</td><td class="num">', runs)      # examples of run 2


def test_plot_functions_tolerate_odd_traces():
    assert plots.trace_specs(None) == [] and plots.trace_specs({"note": "text", "flag": True}) == []
    assert plots.trace_plot({"title": "empty", "series": []}, "s") is None
    svg = plots.trace_plot(T.plot("gaps", "x", "y", [T.series("a", [1, 2, 3], [1.0, float("nan"), 3.0])],
                                  xlog=True, ylog=True), "s1")
    assert svg.startswith("<svg") and 'id="s1-' in svg
    assert plots.margin_distribution([], "m") is None
    wide = plots.margin_distribution([-1e-6, 1e-9, 1.0, 1e4], "m2")      # symlog axis for a wide range
    assert wide.startswith("<svg")
    assert plots.history_plot([{"run": 1, "verdict": "held", "worst_margin": 0.1}], "h") is None


def test_report_of_a_real_run_draws_claim_traces(tmp_path):
    """The closest approach of a real claim that emits plot traces is drawn (kim2025.k6 traces GD)."""
    from lora_claims.catalog import get
    from lora_claims.profiles import PROFILES
    from lora_claims.runner import run_and_record
    c = get("kim2025.k6_saddle_escape")
    store = Store(tmp_path / "s.sqlite")
    run = store.start_run("ci", "cpu", 0, {})
    out, summary = run_and_record(c, PROFILES["ci"], "cpu", 0, store, run)
    specs = plots.trace_specs(store.traces(summary["closest"]["example_id"]))
    html = build_report(store, [c], tmp_path / "r.html").read_text(encoding="utf-8")
    store.close()
    assert specs, "kim2025.k6_saddle_escape no longer emits plot traces"
    text = " ".join(_Doc(html).svg_text)
    for spec in specs:
        assert spec["title"] in text
    # the paper as an arXiv link, the claim linked to its spec item, that item's section in the appendix
    assert '<a href="https://arxiv.org/abs/2502.09376">arXiv 2502.09376</a>' in html
    anchor = re.search(r'<a href="#(spec-kim2025[^"]+)">kim2025_fails_loudly.md § ([^<]+)</a>, item <b>K6</b>', html)
    assert anchor and f'<h3 id="{anchor.group(1)}">' in html, "k6 is not linked to the spec's K6 item"
    assert "At the closest approach: the LoRA objective along plain gradient descent" in html


def test_every_figure_has_a_caption(report):
    figures = re.findall(r"<figure>(.*?)</figure>", report, flags=re.S)
    assert len(figures) >= 8
    for f in figures:
        cap = re.search(r"<figcaption>(.*?)</figcaption>", f, flags=re.S)
        assert cap and len(cap.group(1).strip()) > 30, f[-300:]
    assert "A control is a deliberately wrong statement: the suite must find an example left of 0." in report


def test_a_skipped_control_is_not_counted_as_missed(tmp_path):
    """A control skipped for a missing optional extra is neither 'not falsified' nor unexpected."""
    store = Store(tmp_path / "claims.sqlite")
    a, _, c, _ = CLAIMS
    run = store.start_run("ci", "cpu", 0, {})
    store.record_outcome(run, _summary(c, "skipped", True, None, 0, note="peft not installed"))
    store.record_outcome(run, _summary(a, "held", True, 0.5, 1))
    store.finish_run(run, "complete")
    html = build_report(store, CLAIMS, tmp_path / "r.html").read_text()
    store.close()
    row = re.search(r"<tr>\s*<td[^>]*>1</td>.*?</tr>", html, re.S).group(0)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells[-2:] == ["0", "1"], cells           # controls not falsified, skipped
    assert "as expected</span>" in html and 'badge bad' not in html


def test_report_shows_conditions_guards_quantities_and_coverage(tmp_path):
    """Per-condition margins with the binding one marked, the counterexample in the claim's own quantities,
    guard links both ways, and the coverage view of what the search drew."""
    from lora_claims.profiles import PROFILES
    from lora_claims.runner import run_and_record

    def ev(d, ctx, shift=0.0):
        return Evidence.from_margins({"x below 100": (100 - d["x"] - shift) / 100, "always fine": 1.0},
                                     {"x_seen": d["x"]})
    thm = Claim(id="toyr.thm", paper="Toy", theorem="T1", statement="x < 100", assumptions="x in 0..99",
                kind="theorem", provenance="derived", strategy=lambda p: st.fixed_dictionaries({"x": st.integers(0, 99)}),
                evaluate=ev)
    ctl = Claim(id="toyr.nc", paper="Toy", theorem="T1", statement="MUTANT", assumptions="as T1", kind="control",
                provenance="derived", guards=("toyr.thm",),
                strategy=lambda p: st.fixed_dictionaries({"x": st.integers(0, 99)}),
                evaluate=lambda d, ctx: ev(d, ctx, shift=50.0))
    store = Store(tmp_path / "s.sqlite")
    run = store.start_run("ci", "cpu", 0, {})
    for c in (thm, ctl):
        run_and_record(c, PROFILES["ci"], "cpu", 0, store, run)
    store.finish_run(run)
    html = build_report(store, [thm, ctl], tmp_path / "r.html").read_text()
    store.close()
    thm_part = html[html.index('<details class="claim" id="toyr.thm"'):html.index('<details class="claim" id="toyr.nc"')]
    ctl_part = html[html.index('<details class="claim" id="toyr.nc"'):]
    assert 'Guarded by</b> 1 control: <a href="#toyr.nc">toyr.nc</a>' in thm_part
    assert 'Guards</b> (a mutant of): <a href="#toyr.thm">toyr.thm</a>' in ctl_part
    assert "★ x below 100" in ctl_part and "always fine" in ctl_part       # binding condition first, marked
    assert "In the claim's own quantities: <b>x_seen</b>" in ctl_part
    assert "coverage: what the search drew" in thm_part and "<td>x</td>" in thm_part
    assert thm_part.count("<svg") >= 2                                       # margin histogram + coverage plot


@pytest.mark.parametrize("margin,finding", [(0.25, "reproduced"), (-0.25, "not reproduced")])
def test_report_shows_an_experiments_finding_beside_the_papers_figure(tmp_path, margin, finding):
    """An experiment's row says reproduced / not reproduced (not held / falsified), its detail shows the
    paper's figure, the measured table and the finding, and the badge counts it apart from the theorems."""
    from lora_claims.profiles import PROFILES
    from lora_claims.runner import run_and_record

    table = {"columns": ["lam", "rank"], "rows": [[0.01, 3], [0.1, 2]], "caption": "toy table"}
    exp = Claim(id="toyx.exp", paper="Toy", theorem="Table 9", statement="rank falls", assumptions="toy",
                kind="experiment", provenance="paper", reference="Table 9: rank 5 then 1",
                strategy=lambda p: st.just({"x": 1}),
                evaluate=lambda d, ctx: Evidence.from_margins({"falls": margin}, {"table": table}))
    store = Store(tmp_path / "s.sqlite")
    run = store.start_run("ci", "cpu", 0, {})
    out, summary = run_and_record(exp, PROFILES["ci"], "cpu", 0, store, run)
    store.finish_run(run)
    assert summary["finding"] == finding and summary["expectation"] == "reported" and summary["ok"]
    html = build_report(store, [exp], tmp_path / "r.html").read_text()
    store.close()
    part = html[html.index('<details class="claim" id="toyx.exp"'):]
    assert f'">{finding}</span>' in html[:html.index("<h2>Claims in detail")]     # the claims table
    assert "The paper's figure.</b> Table 9: rank 5 then 1" in part
    assert f"<b>Finding:</b> <span class=\"verdict {finding.replace(' ', '')}\">{finding}" in part
    assert "<caption>toy table</caption>" in part and "<th>rank</th>" in part
    assert "theorems held 0/0 · controls falsified 0/0 · experiments reproduced " \
           f"{int(margin > 0)}/1" in html
    assert "badge bad" not in html                                   # a finding is never 'unexpected'
