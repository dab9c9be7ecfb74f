"""The `lora-claims` command line (lora_claims/cli.py): JSON shapes and exit codes 0 / 1 / 2."""
from __future__ import annotations

import contextlib
import io
import json
import shlex
import sqlite3
from pathlib import Path

import pytest
import torch
from hypothesis import strategies as st

from lora_claims import catalog
from lora_claims.theorems import claim as claims
from lora_claims.theorems.claim import Claim, Evidence
from lora_claims.cli import main

CLAIM_KEYS = {"id", "paper", "theorem", "kind", "provenance", "verdict", "examples", "worst_margin",
              "seconds", "counterexample"}


def cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    threads = torch.get_num_threads()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main([str(a) for a in argv])
    finally:
        torch.set_num_threads(threads)   # the ci profile pins one thread; do not leak that
    return rc, out.getvalue(), err.getvalue()


def assert_usage_error(rc, out, err):
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lora-claims: error: "), err
    assert out == ""


# ---------------------------------------------------------------- list

def test_list_json_names_every_registered_claim():
    rc, out, err = cli("list", "--json")
    assert rc == 0
    rows = json.loads(out)["claims"]
    assert [r["id"] for r in rows] == [c.id for c in catalog.all_claims()]
    for r in rows:
        for key in ("id", "paper", "theorem", "kind", "provenance"):
            assert isinstance(r[key], str) and r[key], (r["id"], key)
        assert r["kind"] in claims.KINDS and r["provenance"] in claims.PROVENANCES


def test_list_plain():
    rc, out, _ = cli("list")
    assert rc == 0
    for c in catalog.all_claims():
        assert c.id in out


# ---------------------------------------------------------------- usage errors: exit 2, one line

@pytest.mark.parametrize("argv", [
    ["falsify", "nosuch.*"],
    ["falsify", "jang2024.nc_a*", "nosuchpaper.claim"],
    ["falsify", "jang2024.nc_a*", "--profile", "weekly"],
    ["falsify", "jang2024.nc_a*", "--budget", "-1"],
    ["falsify", "jang2024.nc_a*", "--budget=-1"],
    ["falsify", "jang2024.nc_a*", "--budget", "abc"],
    ["falsify", "jang2024.nc_a*", "--budget", "0"],
    ["falsify", "jang2024.nc_a*", "--budget", "nan"],
    ["falsify", "jang2024.nc_a*", "--budget", "inf"],
    ["falsify", "jang2024.nc_a*", "--device", "tpu"],
    ["falsify", "jang2024.nc_a*", "--seed", "abc"],
    ["falsify", "jang2024.nc_a*", "--no-such-flag"],
    ["frobnicate"],
    [],
], ids=lambda a: " ".join(a) or "no-args")
def test_bad_usage_exits_2_with_one_line(tmp_path, argv):
    store = tmp_path / "claims.sqlite"
    rc, out, err = cli(*argv, *(["--results", store] if argv[:1] == ["falsify"] else []))
    assert_usage_error(rc, out, err)
    assert not store.exists()        # refused before anything was written


def test_unknown_profile_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LORA_CLAIMS_PROFILE", "weekly")
    assert_usage_error(*cli("falsify", "jang2024.nc_a*", "--results", tmp_path / "s.sqlite"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_exits_2(tmp_path):
    store = tmp_path / "claims.sqlite"
    assert_usage_error(*cli("falsify", "jang2024.nc_a*", "--device", "cuda", "--results", store))
    assert not store.exists()


def _corrupt(path: Path) -> bytes:
    data = b"SQLite format 3\x00" + bytes(range(256)) * 8
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("content", ["corrupt", "text"])
def test_report_on_a_bad_store_exits_2_and_leaves_it(tmp_path, content):
    store = tmp_path / "claims.sqlite"
    data = _corrupt(store) if content == "corrupt" else b"not a database\n"
    if content == "text":
        store.write_bytes(data)
    html = tmp_path / "report.html"
    assert_usage_error(*cli("report", "--results", store, "-o", html))
    assert store.read_bytes() == data
    assert not html.exists()


def test_falsify_into_a_bad_store_exits_2_and_leaves_it(tmp_path):
    store = tmp_path / "claims.sqlite"
    data = _corrupt(store)
    assert_usage_error(*cli("falsify", "jang2024.nc_a*", "--results", store))
    assert store.read_bytes() == data


def test_report_on_a_missing_store_exits_2(tmp_path):
    store = tmp_path / "missing.sqlite"
    assert_usage_error(*cli("report", "--results", store, "-o", tmp_path / "r.html"))
    assert not store.exists()


@pytest.mark.parametrize("content", [
    "this is not JSON {",
    "",
    json.dumps({"drawn": {"r0": 2}}),                                    # no claim
    json.dumps({"claim": "jang2024.nc_a_tightness"}),                    # no drawn
    json.dumps({"claim": "jang2024.nc_a_tightness", "drawn": [1, 2]}),   # drawn not a dict
    json.dumps([{"claim": "jang2024.nc_a_tightness", "drawn": {}}]),     # not an object
    json.dumps({"claim": "nosuch.claim", "drawn": {"x": 1}}),            # unknown claim
    json.dumps({"claim": "jang2024.nc_a_tightness", "drawn": {}}),       # drawn does not fit the claim
    json.dumps({"claim": "jang2024.nc_a_tightness", "drawn": {"r0": "two", "m": 2, "n": 2, "lam": 0.1}}),
], ids=["not-json", "empty", "no-claim", "no-drawn", "drawn-list", "list", "unknown-claim", "drawn-empty",
        "drawn-wrong-type"])
def test_reproduce_bad_file_exits_2(tmp_path, content):
    path = tmp_path / "ce.json"
    path.write_text(content)
    assert_usage_error(*cli("reproduce", path, "--results", tmp_path / "s.sqlite"))


def test_reproduce_missing_file_or_store_exits_2(tmp_path):
    assert_usage_error(*cli("reproduce", tmp_path / "nope.json"))
    assert_usage_error(*cli("reproduce", "12", "--results", tmp_path / "missing.sqlite"))
    assert not (tmp_path / "missing.sqlite").exists()
    assert_usage_error(*cli("reproduce", tmp_path))     # a directory


# ---------------------------------------------------------------- exit 1 (with toy claims, registered only here)

def _toy(id, kind, margin):
    return Claim(id=id, paper="Toy", theorem="T0", statement="toy", assumptions="none", kind=kind,
                 provenance="derived", strategy=lambda p: st.fixed_dictionaries({"x": st.integers(0, 9)}),
                 evaluate=lambda d, ctx: Evidence(margin(d["x"])))


@pytest.mark.parametrize("kind, margin, expect", [
    ("lemma", lambda x: 1.0, 0),             # held theorem/lemma
    ("lemma", lambda x: float("nan"), 3),    # inconclusive lemma: undecided, not a failure of the claim
    ("theorem", lambda x: (0.5 - x) / 10, 1),       # falsified theorem
    ("control", lambda x: (0.5 - x) / 10, 0),       # falsified control
    ("control", lambda x: 1.0, 1),           # control not falsified: the suite lacks power
])
def test_exit_code_follows_the_contract(tmp_path, register_toy, kind, margin, expect):
    c = _toy("toyexit.c", kind, margin)
    register_toy(c)                                        # removed again after the test
    rc, out, err = cli("falsify", "toyexit.c", "--json", "--results", tmp_path / "s.sqlite")
    assert rc == expect, err
    doc = json.loads(out)
    assert [s["id"] for s in doc["claims"]] == ["toyexit.c"]


# ---------------------------------------------------------------- end to end on two real claims

@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    # a space in the path: the reproduction command must survive a shell
    folder = tmp_path_factory.mktemp("e2e results")
    store = folder / "claims.sqlite"
    rc, out, err = cli("falsify", "jang2024.nc_a*", "jang2024.lemma_l2_origin", "--profile", "ci",
                       "--json", "--results", store)
    return {"rc": rc, "doc": json.loads(out) if out.strip() else None, "err": err, "store": store,
            "folder": folder}


def test_e2e_exit_and_document(e2e):
    assert e2e["rc"] == 0, e2e["err"]
    doc = e2e["doc"]
    assert {"profile", "device", "seed", "claims"} <= set(doc)
    assert doc["profile"] == "ci" and doc["device"] == "cpu" and doc["seed"] == 0
    ids = [s["id"] for s in doc["claims"]]
    assert set(ids) == {"jang2024.nc_a_tightness", "jang2024.lemma_l2_origin"}
    for s in doc["claims"]:
        assert CLAIM_KEYS <= set(s), CLAIM_KEYS - set(s)
        assert s["verdict"] in ("held", "falsified", "inconclusive")
        assert s["examples"] > 0 and s["seconds"] >= 0
        meta = catalog.get(s["id"]).metadata()
        assert all(s[k] == meta[k] for k in ("paper", "theorem", "kind", "provenance"))
    by_id = {s["id"]: s for s in doc["claims"]}
    assert by_id["jang2024.lemma_l2_origin"]["verdict"] != "falsified"


def test_e2e_nc_a_counterexample_is_the_smallest_member(e2e):
    nc_a = {s["id"]: s for s in e2e["doc"]["claims"]}["jang2024.nc_a_tightness"]
    assert nc_a["kind"] == "control"
    assert nc_a["verdict"] == "falsified"
    assert nc_a["worst_margin"] < 0
    ce = nc_a["counterexample"]
    assert ce is not None
    assert {k: ce["drawn"][k] for k in ("r0", "m", "n")} == {"r0": 2, "m": 2, "n": 2}
    assert ce["command"].startswith("lora-claims reproduce ")


def test_e2e_every_example_is_in_the_store(e2e):
    db = sqlite3.connect(e2e["store"])
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for s in e2e["doc"]["claims"]:
            n = db.execute("SELECT COUNT(*) FROM examples WHERE claim_id = ? AND origin != 'reverify'",
                           (s["id"],)).fetchone()[0]
            assert n == s["examples"]
            n = db.execute("SELECT COUNT(*) FROM examples WHERE claim_id = ? AND origin = 'reverify'",
                           (s["id"],)).fetchone()[0]
            assert n == (1 if s["counterexample"] else 0)      # a counterexample is re-verified once
        assert db.execute("SELECT status FROM runs").fetchall() == [("complete",)]
        assert db.execute("SELECT COUNT(*) FROM claim_results").fetchone()[0] == 2
    finally:
        db.close()


def test_e2e_reproduction_command_prints_fail(e2e):
    ce = {s["id"]: s for s in e2e["doc"]["claims"]}["jang2024.nc_a_tightness"]["counterexample"]
    argv = shlex.split(ce["command"])
    assert argv[:2] == ["lora-claims", "reproduce"] and len(argv) == 3
    assert Path(argv[2]).is_file()
    # run it as the console script would (lora-claims = lora_claims.cli:main), in-process to stay fast
    rc, out, err = cli(*argv[1:])
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "reproduced: jang2024.nc_a_tightness (control) fails again"
    assert lines[1].split()[:2] == ["recorded", "fail"] and lines[2].split()[:2] == ["re-run", "fail"]
    rc, out, err = cli(*argv[1:], "--json")
    assert rc == 0, err
    shown = json.loads(out)
    assert shown["rerun"]["status"] == shown["recorded"]["status"] == "fail" and shown["reproduced"] is True
    assert shown["claim"] == "jang2024.nc_a_tightness"
    assert shown["drawn"] == ce["drawn"]
    assert shown["profile"] == "ci"                  # the recording run's profile sets the time limit
    assert shown["rerun"]["margin"] == pytest.approx(ce["margin"], rel=1e-9, abs=1e-12)


def test_e2e_reproduce_by_example_id(e2e):
    db = sqlite3.connect(e2e["store"])
    row = db.execute("SELECT id FROM examples WHERE claim_id = 'jang2024.nc_a_tightness' AND status = 'fail' "
                     "ORDER BY id LIMIT 1").fetchone()
    db.close()
    before = Path(e2e["store"]).read_bytes()
    rc, out, err = cli("reproduce", row[0], "--results", e2e["store"], "--json")
    assert rc == 0, err
    assert json.loads(out)["rerun"]["status"] == "fail"
    assert Path(e2e["store"]).read_bytes() == before          # issue 16: reproduce opens the store read-only
    assert_usage_error(*cli("reproduce", "999999", "--results", e2e["store"]))


def test_e2e_report_names_every_claim(e2e):
    html = e2e["folder"] / "report.html"
    rc, out, err = cli("report", "--results", e2e["store"], "-o", html)
    assert rc == 0, err
    text = html.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html")
    for c in catalog.all_claims():
        assert c.id in text, c.id
    assert "falsified" in text
