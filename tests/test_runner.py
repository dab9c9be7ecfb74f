"""The campaign runner (issue 6): shared budget, seeded runs, example database, target phase, closest
approach, progress display, observability JSONL, counterexample records, artefacts end to end, and
pytest-xdist workers recording the same examples as a serial run."""
from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import Phase, strategies as st

from lora_claims import catalog
from lora_claims.theorems import claim as claims
from lora_claims.theorems.claim import Claim, Evidence, Verdict
from lora_claims.cli import Progress
from lora_claims.profiles import PROFILES, Profile
from lora_claims.runner import campaign, example_database, observed_dir, run_and_record
from lora_claims.search import falsify_claim
from lora_claims.store import Store

from test_cli import cli

ROOT = Path(__file__).resolve().parent.parent
MANY = Profile("many", max_examples=10_000, runs=1, database=False, target=False, device="cpu")
THREE_RUNS = Profile("three", max_examples=30, runs=3, database=False, target=False, device="cpu")


def toy(evaluate, id="toyrun.c", kind="lemma", hi=10**6):
    return Claim(id=id, paper="Toy", theorem="T0", statement="toy statement", assumptions="none", kind=kind,
                 provenance="derived", strategy=lambda p: st.fixed_dictionaries({"x": st.integers(0, hi)}),
                 evaluate=evaluate)


def slow_pass(d, ctx):
    time.sleep(0.01)
    return Evidence(1.0 - d["x"] / 10 ** 6)


def test_budget_is_shared_across_the_claims(tmp_path):
    selected = [toy(slow_pass, id=f"toyrun.b{i}") for i in range(3)]
    store = Store(tmp_path / "s.sqlite")
    run = store.start_run("many", "cpu", 0, {})
    t0 = time.perf_counter()
    out = campaign(selected, MANY, "cpu", 0, store, run, budget=1.5)
    took = time.perf_counter() - t0
    store.close()
    assert took < 1.5 + 1.5                      # the budget bounds the campaign (plus a last example each)
    assert [s["id"] for s in out] == [c.id for c in selected]
    assert all(s["examples"] > 3 for s in out)   # every claim got its share, not only the first
    assert all(s["seconds"] < 1.2 for s in out)
    assert all(s["budget_spent"] and s["verdict"] == "held" for s in out)


def test_runs_are_independently_seeded(tmp_path):
    c = toy(slow_pass)
    folder = tmp_path / "observed"
    falsify_claim(c, THREE_RUNS, observe_dir=folder)
    cases = [json.loads(line) for f in folder.glob("*_testcases.jsonl") for line in f.read_text().splitlines()]
    runs: dict = {}
    for case in cases:
        runs.setdefault(case["run_start"], []).append(case["representation"])
    assert len(runs) == 3                                        # three Hypothesis runs
    assert len({tuple(r) for r in runs.values()}) == 3           # that drew different examples


def test_observability_jsonl_is_hypothesis_format(tmp_path):
    c = toy(lambda d, ctx: Evidence((49 - d["x"]) / 1000), hi=1000)
    folder = tmp_path / "observed"
    falsify_claim(c, PROFILES["ci"], observe_dir=folder)
    files = sorted(p.name for p in folder.iterdir())
    assert any(n.endswith("_testcases.jsonl") for n in files)
    cases = [json.loads(line) for line in next(folder.glob("*_testcases.jsonl")).read_text().splitlines()]
    assert cases and all(case["type"] == "test_case" and case["property"] == c.id for case in cases)
    assert {"status", "representation", "features", "timing", "run_start"} <= set(cases[0])
    assert {"passed", "failed"} <= {case["status"] for case in cases}


def test_failure_is_replayed_first_from_the_example_database(tmp_path):
    c = toy(lambda d, ctx: Evidence(0.5 if d["x"] < 400_000 else -0.5))
    db = example_database(tmp_path / "s.sqlite")
    first = falsify_claim(c, PROFILES["dev"], seed=1, database=db)
    assert first.verdict is Verdict.FALSIFIED and first.counterexample["drawn"] == {"x": 400_000}
    calls = []
    second = falsify_claim(c, PROFILES["dev"], seed=2, database=db, recorder=lambda **kw: calls.append(kw))
    assert second.verdict is Verdict.FALSIFIED
    assert calls[0]["drawn"] == {"x": 400_000} and calls[0]["evidence"].status == "fail"
    # keyed by claim: another claim sharing the database does not replay it
    other = toy(slow_pass, id="toyrun.other")
    seen = []
    falsify_claim(other, PROFILES["dev"], seed=2, database=db, recorder=lambda **kw: seen.append(kw["drawn"]))
    assert {"x": 400_000} not in seen[:1]


def test_nightly_has_the_target_phase_and_database():
    assert Phase.target in PROFILES["nightly"].phases and PROFILES["nightly"].database
    assert PROFILES["nightly"].runs > 1
    assert Phase.target not in PROFILES["ci"].phases


class _Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self._tty = tty

    def isatty(self):
        return self._tty


@pytest.mark.parametrize("tty", [True, False])
def test_progress_display(tty):
    stream = _Stream(tty)
    p = Progress(2, budget=60.0, stream=stream)
    out = falsify_claim(toy(slow_pass), Profile("q", 5, 1, False, False, "cpu"), progress=p.update)
    p.finish(out.summary())
    text = stream.getvalue()
    assert "toyrun.c" in text and "held" in text and "left" in text
    if tty:
        assert "\r" in text and "claims" in text and "worst margin" in text and "best margin" not in text
    else:
        assert "\r" not in text and "\033" not in text and len(text.splitlines()) == 1


def test_counterexample_record_and_reproduction(tmp_path):
    c = toy(lambda d, ctx: Evidence((49 - d["x"]) / 1000, {"x": d["x"]}), hi=1000)
    store = Store(tmp_path / "s.sqlite")
    run = store.start_run("ci", "cpu", 5, {})
    out, s = run_and_record(c, PROFILES["ci"], "cpu", 5, store, run)
    store.close()
    ce = s["counterexample"]
    doc = json.loads(Path(ce["file"]).read_text())
    assert doc["drawn"] == {"x": 50} and doc["margin"] < 0 and doc["measured"] == {"x": 50}
    assert doc["seed"] == 5 and doc["device"] == "cpu" and doc["dtype"] == "float64"
    assert doc["hypothesis_seed"] == 5000 and doc["origin"] == "search"
    assert {"torch", "hypothesis", "python", "lora-claims"} <= set(doc["versions"])
    assert doc["reverified"]["status"] == "fail" and doc["statement"] == "toy statement"
    assert doc["command"] == f"lora-claims reproduce {ce['file']}"


def test_planted_float_artefact_is_reported_as_artefact_by_the_cli(tmp_path, register_toy):
    """A failure that only the loose (search) tolerance produces is an artefact, not a counterexample."""
    c = toy(lambda d, ctx: Evidence(0.5 - ctx.tolerance(1.0) if d["x"] > 10 else 1.0),
            id="toyart.c", kind="theorem")
    register_toy(c)
    rc, out, err = cli("falsify", "toyart.c", "--json", "--results", tmp_path / "s.sqlite")
    assert rc == 3, err                                 # an artefact is not a falsified theorem: undecided
    s = json.loads(out)["claims"][0]
    assert s["verdict"] == "inconclusive" and s["counterexample"] is None
    assert s["artefact"]["search"]["margin"] == -0.5 and s["artefact"]["reverified"]["status"] == "pass"
    assert "numerical artefact" in s["note"]
    assert not (tmp_path / "counterexamples").exists()


def _pytest_checks(store: Path, *extra) -> None:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "checks/", "-k",
           "lemma_l2_origin or nc_a_tightness or k5_origin or nc_f_origin", "--claims-results", str(store), *extra]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _recorded(store: Path) -> set:
    db = sqlite3.connect(store)
    try:
        return set(db.execute("SELECT claim_id, origin, drawn, status, margin FROM examples"))
    finally:
        db.close()


def test_xdist_workers_record_the_same_examples_as_a_serial_run(tmp_path):
    serial, parallel = tmp_path / "serial.sqlite", tmp_path / "parallel.sqlite"
    _pytest_checks(serial)
    _pytest_checks(parallel, "-n", "2")
    a, b = _recorded(serial), _recorded(parallel)
    assert len(a) > 10 and a == b
    db = sqlite3.connect(parallel)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2         # one run per worker
    assert db.execute("SELECT COUNT(*) FROM claim_results").fetchone()[0] == 4
    db.close()
    assert (parallel.parent / "observed").is_dir()


@pytest.mark.skipif(os.environ.get("LORA_CLAIMS_SLOW_TESTS") != "1",
                    reason="opt-in (LORA_CLAIMS_SLOW_TESTS=1): the full ci campaign takes minutes")
def test_full_ci_campaign_and_report_name_every_claim(tmp_path):
    """The main job: `falsify --profile ci` over every registered claim, then `report`."""
    store, html = tmp_path / "claims.sqlite", tmp_path / "report.html"
    rc, out, err = cli("falsify", "--profile", "ci", "--json", "--results", store)
    assert rc == 0, err[-3000:]
    assert {s["id"] for s in json.loads(out)["claims"]} == {c.id for c in catalog.all_claims()}
    rc, _, err = cli("report", "--results", store, "-o", html)
    assert rc == 0, err
    text = html.read_text(encoding="utf-8")
    assert all(f'data-id="{c.id}"' in text for c in catalog.all_claims())
    assert text.count("<svg") >= len(catalog.all_claims()) and 'data-verdict="not run"' not in text
