"""The HTML claim report: one self-contained file built from the results store.

Jinja2 renders ``templates/report.html.j2``; plots are inline SVG from ``report/plots.py``; CSS and
JavaScript are inline, so the file opens offline.  Per claim it shows the latest recorded result (the
margin distribution, the closest approach, any counterexample, artefact or flaky replay, the plots its
traces call for) and its history across runs; a run table gives examples and time per run.
"""
from __future__ import annotations

import datetime
import json
import math
import os
import shlex
from collections import Counter
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from ..theorems import spec_refs
from ..theorems.claim import PROVENANCES, STATEMENT_KINDS

from . import plots

MAX_TRACE_PLOTS = 6          # per example shown


def _fmt(x) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3g}" if math.isfinite(x) else str(x)
    return str(x)


def _when(ts) -> str:
    if ts is None:
        return "–"
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _figure(svg: str | None, caption: str) -> dict | None:
    """A figure of the report: an inline SVG with the caption shown under it."""
    return None if svg is None else {"svg": svg, "caption": caption}


def _trace_figures(store, example_id, salt: str, where: str) -> list[dict]:
    """The plots an example's traces call for, each captioned by its spec (``where``: which example)."""
    specs = plots.trace_specs(store.traces(example_id))[:MAX_TRACE_PLOTS]
    figs = []
    for i, spec in enumerate(specs):
        caption = spec.get("caption") or f"{spec.get('title') or 'Trace'}, as recorded by the claim."
        caption = caption[0].lower() + caption[1:] if caption[1:2].islower() else caption
        if (fig := _figure(plots.trace_plot(spec, f"{salt}-{i}"), f"{where}: {caption}")) is not None:
            figs.append(fig)
    return figs


def _margins_caption(meta: dict, res: dict, n: int) -> str:
    what = (f"Margins of the {n} conclusive example{'s' if n != 1 else ''} of run {res['run_id']}, each the "
            "relative slack of the claim's binding inequality (in [−1, 1]); dashed: margin 0, right of it the "
            "statement held, left of it it was violated; orange: the closest approach. ")
    if meta.get("kind") == "control":
        return what + "A control is a deliberately wrong statement: the suite must find an example left of 0."
    return what + "The claim asserts that every example lies at or right of 0."


def _history_caption(meta: dict) -> str:
    return ("Worst margin of this claim in each recorded run, coloured by that run's verdict; "
            + ("a control must fall below 0 (falsified) in every run." if meta.get("kind") == "control"
               else "the claim asserts it never falls below the dashed line at 0."))


MAX_COVERAGE_PLOTS = 2


def _conditions(evidence: dict | None) -> list[dict]:
    """Per-condition margins of one evaluation (``measured['margin[<condition>]']``, relative slack), with the
    inequality's value, bound and tolerance-relative figure where it was declared (``condition[<name>]``),
    binding first."""
    if not evidence:
        return []
    measured = evidence.get("measured") or {}
    rows = []
    for k, v in measured.items():
        if k.startswith("margin[") and k.endswith("]"):
            name = k[len("margin["):-1]
            ineq = measured.get(f"condition[{name}]") or {}
            rows.append({"condition": name, "margin": v, "binds": name == evidence.get("binding"),
                         "value": ineq.get("value"), "sense": ineq.get("sense"), "bound": ineq.get("bound"),
                         "relative": ineq.get("relative")})
    return sorted(rows, key=lambda r: (not r["binds"], r["margin"] if isinstance(r["margin"], (int, float)) else 0))


def _quantities(evidence: dict | None) -> list[tuple[str, object]]:
    """The measured scalars of one evaluation, in the claim's own terms (margins listed separately)."""
    if not evidence:
        return []
    measured = evidence.get("measured") or {}
    return [(k, v) for k, v in measured.items()
            if not k.startswith(("margin[", "condition[")) and isinstance(v, (int, float, str, bool))
            and not isinstance(v, bool)]


def _table(evidence: dict | None) -> dict | None:
    """An experiment's measured table (``measured['table']``: columns and rows), or None."""
    t = ((evidence or {}).get("measured") or {}).get("table")
    if not isinstance(t, dict) or not isinstance(t.get("columns"), list) or not isinstance(t.get("rows"), list):
        return None
    return {"columns": [str(c) for c in t["columns"]], "rows": [list(r) for r in t["rows"] if isinstance(r, list)],
            "caption": str(t.get("caption") or "")}


def _coverage(examples: list[dict], salt: str, declared: dict | None = None) -> tuple[list[dict], list[str]]:
    """What the search drew: per drawn numeric parameter its range and distinct values over the run, beside
    the strategy's declared space and what of it the run did not reach (``declared``: the outcome's
    coverage, strategies/domain.py), and margin-against-parameter plots for the parameters that varied most."""
    drawn = [(json.loads(e["drawn"]), e["margin"], e["status"]) for e in examples]
    keys: dict[str, list] = {}
    for d, m, st in drawn:
        for k, v in d.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                keys.setdefault(k, []).append((float(v), m if st in ("pass", "fail") else None))
    rows = []
    for k, vals in keys.items():
        xs = [v for v, _ in vals]
        rows.append({"name": k, "min": min(xs), "max": max(xs), "distinct": len(set(xs)), "n": len(xs)})
    rows.sort(key=lambda r: -r["distinct"])
    declared = declared or {}
    for r in rows:
        r["declared"] = declared.get(r["name"])
    for name, cov in declared.items():              # declared parameters that are not plain numbers (loss, arch.kind)
        if not any(r["name"] == name for r in rows):
            rows.append({"name": name, "min": None, "max": None, "distinct": len(cov.get("reached") or []),
                         "n": cov.get("draws", 0), "declared": cov})
    figs = []
    for r in [r for r in rows if "seed" not in r["name"]][:MAX_COVERAGE_PLOTS]:   # a seed's value means nothing
        if r["distinct"] >= 3:
            vals = keys[r["name"]]
            svg = plots.margin_vs_parameter([v for v, _ in vals], [m for _, m in vals], r["name"], f"{salt}-{r['name']}")
            if svg:
                figs.append(_figure(svg, f"Margin of each conclusive example against the drawn {r['name']}: "
                                         "where in the drawn space the claim comes closest to its bound "
                                         "(dashed: margin 0)."))
    return rows, figs


def arxiv_parts(paper: str) -> list[tuple[str, str | None]]:
    """A paper reference as (text, arXiv id or None) pieces: the template links each id to its abstract page
    and escapes the text as it escapes everything."""
    out, last, paper = [], 0, paper or ""
    for m in spec_refs.ARXIV.finditer(paper):
        out.append((paper[last:m.start()], m.group(1) + (m.group(2) or "")))
        last = m.end()
    if last < len(paper) or not out:
        out.append((paper[last:], None))
    return out


def _specs(rows: list[dict]) -> list[dict]:
    """The shipped specs the shown claims link to, split into their sections (for the report's appendix)."""
    names = sorted({r["spec"]["spec"] for r in rows if r.get("spec")})
    out = []
    for name in names:
        title, parts = spec_refs.sections(name)
        sections = [{"heading": heading or "Preamble", "body": body,
                     "anchor": f"spec-{spec_refs.slug(name)}-{spec_refs.slug(heading or 'preamble')}"}
                    for heading, body in parts]
        out.append({"name": name, "title": title, "anchor": f"spec-{spec_refs.slug(name)}", "sections": sections})
    return out


def _claim_row(store, meta: dict, res, history, results_path: str) -> dict:
    cid_ = meta["id"]
    row = {"claim": meta, "result": res, "history": history, "margins_fig": None, "trace_figs": [],
           "spec": spec_refs.refs(cid_, meta.get("theorem", "")),
           "ce_trace_figs": [],
           "history_fig": _figure(plots.history_plot(history, f"{cid_}-history"), _history_caption(meta)),
           "statuses": {}, "closest_cmd": None, "closest_is_ce": False, "conditions": [], "quantities": [],
           "coverage": [], "coverage_figs": [], "table": None}
    if res is None:
        return row
    examples = [e for e in store.examples_of(cid_, res["run_id"]) if e.get("origin") != "reverify"]
    row["statuses"] = dict(Counter(e["status"] for e in examples))
    closest = res.get("closest") or {}
    conclusive = [e["margin"] for e in examples if e["status"] in ("pass", "fail")]
    row["margins_fig"] = _figure(plots.margin_distribution(conclusive, f"{cid_}-margins", closest.get("margin")),
                                 _margins_caption(meta, res, len(conclusive)))
    cid = closest.get("example_id") or store.worst_example_id(cid_, res["run_id"])
    if cid is not None:
        row["closest_cmd"] = f"lora-claims reproduce {cid} --results {shlex.quote(results_path)}"
    ce, ce_id = res.get("counterexample"), None
    if ce:
        drawn = json.dumps(ce.get("drawn"), sort_keys=True)
        ce_id = next((e["id"] for e in reversed(examples) if e["drawn"] == drawn and e["status"] == "fail"), None)
        row["ce_trace_figs"] = _trace_figures(store, ce_id, f"{cid_}-ce", "At the counterexample")
    row["closest_is_ce"] = bool(ce) and closest.get("drawn") == ce.get("drawn")
    focus = ce or closest
    row["conditions"], row["quantities"] = _conditions(focus), _quantities(focus)
    row["table"] = _table(focus)
    row["coverage"], row["coverage_figs"] = _coverage(examples, f"{cid_}-coverage", res.get("coverage"))
    if cid != ce_id and not row["closest_is_ce"]:
        row["trace_figs"] = _trace_figures(store, cid, f"{cid_}-closest", "At the closest approach")
    return row


def _runs(store, results: list[dict]) -> list[dict]:
    totals = store.run_totals()
    by_run: dict[int, list] = {}
    for r in results:
        by_run.setdefault(r["run_id"], []).append(r)
    rows = []
    for run in store.runs():
        rs = by_run.get(run["id"], [])
        t = totals.get(run["id"], {"examples": 0, "claims": 0, "seconds": 0.0})
        wall = None if run["finished"] is None else run["finished"] - run["started"]
        rows.append({**run, "started_text": _when(run["started"]), "wall": wall, **t,
                     "summaries": len(rs),
                     "confirmed": sum(1 for r in rs if r["kind"] in STATEMENT_KINDS and r["verdict"] == "falsified"),
                     "controls_missed": sum(1 for r in rs if r["kind"] == "control"
                                            and r["verdict"] not in ("falsified", "skipped")),
                     "skipped": sum(1 for r in rs if r["verdict"] == "skipped"),
                     "unexpected": sum(1 for r in rs if _expectation(r) == "unexpected")})
    return rows


def _expectation(result: dict) -> str:
    """As recorded (ClaimOutcome.expectation); older records carry only 'ok'."""
    if "expectation" in result:
        return result["expectation"]
    if result["verdict"] == "skipped":
        return "skipped"
    return "as expected" if result["ok"] else "unexpected"


def build_report(store, claims, output) -> Path:
    results = store.claim_results()           # ordered by run id: the last one per claim is the latest
    latest: dict[str, dict] = {}
    history: dict[str, list] = {}
    for r in results:
        latest[r["id"]] = r
        history.setdefault(r["id"], []).append(
            {"run": r["run_id"], "verdict": r["verdict"], "worst_margin": r["worst_margin"],
             "examples": r["examples"], "seconds": r["seconds"]})
    results_path = os.path.abspath(store.path)      # the reproduce commands work from any folder
    # every loaded claim, then every claim the store has results for whose module is not loaded here
    # (shown from the metadata recorded with its outcome, marked as such: never silently dropped)
    metas = {c.id: dict(c.metadata(), loaded=True) for c in claims}
    for cid, meta in store.claim_metadata().items():
        if cid not in metas:
            metas[cid] = dict(meta, loaded=False)
    for cid, res in latest.items():
        if cid not in metas:             # recorded before claim metadata was stored with outcomes
            metas[cid] = {"id": cid, "paper": res.get("paper", ""), "theorem": res.get("theorem", ""),
                          "kind": res.get("kind", ""), "provenance": res.get("provenance", ""),
                          "statement": "", "assumptions": "", "notes": "", "guards": [], "source": "",
                          "loaded": False}
    rows = [_claim_row(store, meta, latest.get(cid), history.get(cid, []), results_path)
            for cid, meta in metas.items()]
    guarded_by: dict[str, list[str]] = {}
    for meta in metas.values():
        for g in meta.get("guards") or ():
            guarded_by.setdefault(g, []).append(meta["id"])
    for r in rows:
        r["guarded_by"] = guarded_by.get(r["claim"]["id"], [])
    runs = _runs(store, results)
    verdicts = Counter((r["result"].get("finding") or r["result"]["verdict"]) if r["result"] else "not run"
                       for r in rows)
    unexpected = [r["claim"]["id"] for r in rows if r["result"] and _expectation(r["result"]) == "unexpected"]
    undecided = [r["claim"]["id"] for r in rows if r["result"] and _expectation(r["result"]) == "undecided"]
    latest_rows = [r["result"] for r in rows if r["result"] and r["result"]["verdict"] != "skipped"]
    totals = {"theorems": sum(r["kind"] in STATEMENT_KINDS for r in latest_rows),
              "held": sum(r["kind"] in STATEMENT_KINDS and r["verdict"] == "held" for r in latest_rows),
              "experiments": sum(r["kind"] == "experiment" for r in latest_rows),
              "reproduced": sum(r.get("finding") == "reproduced" for r in latest_rows),
              "controls": sum(r["kind"] == "control" for r in latest_rows),
              "falsified": sum(r["kind"] == "control" and r["verdict"] == "falsified" for r in latest_rows)}
    # package data, read through the package (a wheel ships it); a missing template is a loud error
    env = Environment(loader=PackageLoader("lora_claims.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    env.filters["fmt"] = _fmt
    env.filters["when"] = _when
    env.filters["tojson_pretty"] = lambda x: json.dumps(x, indent=2, sort_keys=True, default=str)
    env.filters["tojson_compact"] = lambda x: json.dumps(x, sort_keys=True, default=str)
    env.filters["sortkey"] = lambda x: "" if x is None else x
    env.filters["arxiv_parts"] = arxiv_parts
    html = env.get_template("report.html.j2").render(
        rows=rows, runs=runs, provenances=PROVENANCES, verdicts=dict(verdicts), unexpected=unexpected,
        undecided=undecided, totals=totals, specs=_specs(rows),
        papers=list(dict.fromkeys(r["claim"]["id"].split(".")[0] for r in rows)),
        generated=_when(datetime.datetime.now(datetime.timezone.utc).timestamp()), store=results_path)
    out = Path(output)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)                    # a reader never sees half a report
    return out
