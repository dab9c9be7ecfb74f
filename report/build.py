"""The HTML claim report: one self-contained file built from the results store with Jinja2."""
from __future__ import annotations

import json
import time
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from theorems.claim import PROVENANCES

TEMPLATES = Path(__file__).parent / "templates"


def _latest_by_claim(results: list[dict]) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for r in results:  # ordered by run id
        latest[r["id"]] = r
    return latest


def build_report(store, claims, output) -> Path:
    results = store.claim_results()
    latest = _latest_by_claim(results)
    history: dict[str, list] = {}
    for r in results:
        history.setdefault(r["id"], []).append(
            {"run": r["run_id"], "verdict": r["verdict"], "worst_margin": r["worst_margin"]})
    runs = {r["id"]: r for r in store.runs()}
    rows = []
    for c in claims:
        res = latest.get(c.id)
        margins = [] if res is None else [e["margin"] for e in store.examples_of(c.id, res["run_id"])
                                           if e["margin"] is not None]
        rows.append({"claim": c.metadata(), "result": res, "margins": margins,
                     "history": history.get(c.id, []),
                     "run": None if res is None else runs.get(res["run_id"])})
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["fmt"] = lambda x: "–" if x is None else (f"{x:.3g}" if isinstance(x, float) else str(x))
    env.filters["tojson_pretty"] = lambda x: json.dumps(x, indent=2, sort_keys=True)
    html = env.get_template("report.html.j2").render(
        rows=rows, provenances=PROVENANCES, generated=time.strftime("%Y-%m-%d %H:%M:%S"),
        store=str(store.path), n_runs=len(runs))
    out = Path(output)
    out.write_text(html, encoding="utf-8")
    return out
