"""lora_claims/store.py: the SQLite (WAL) results store: round trip, refusal of bad files, concurrent writers."""
from __future__ import annotations

import math
import multiprocessing as mp
import os
import sqlite3

import pytest

from lora_claims.theorems.claim import Evidence
from lora_claims.store import SCHEMA_VERSION, Store, StoreError

N_WRITERS, PER_WRITER = 3, 50   # each spawned writer imports torch (~2 s of CPU)


class _C:  # the store needs only claim.id
    def __init__(self, id):
        self.id = id


def _record(store, run_id, claim_id, i, margin=None, reason=None, origin="search"):
    ev = Evidence(float(i) / 1000 if margin is None else margin, {"i": i}, reason=reason, binding="cond")
    store.recorder(run_id)(claim=_C(claim_id), drawn={"i": i, "pad": "y" * 100}, evidence=ev,
                           seconds=0.01, device="cpu", dtype="float64", origin=origin)


def _summary(claim_id, verdict="held", ok=True, worst=0.5):
    return {"id": claim_id, "verdict": verdict, "ok": ok, "examples": 3, "passed": 2, "failed": 0,
            "inconclusive": 1, "worst_margin": worst, "seconds": 0.1, "counterexample": None,
            "reasons": {"NumericalFailure": 1}, "closest": {"drawn": {"i": 0}, "margin": worst}}


@pytest.fixture
def healthy(tmp_path):
    """A closed, healthy store with a few pages of rows."""
    path = tmp_path / "claims.sqlite"
    s = Store(path)
    run = s.start_run("ci", "cpu", 0, {"torch": "x"})
    for i in range(120):
        _record(s, run, "toy.a", i)
    s.record_outcome(run, _summary("toy.a"))
    s.finish_run(run)
    s.close()
    return path


def _refused_unchanged(path, match=None):
    before = path.read_bytes()
    with pytest.raises(StoreError, match=match):
        Store(path)
    assert path.read_bytes() == before
    with pytest.raises(StoreError, match=match):   # refused again: nothing was 'repaired' in between
        Store(path, create=False)
    assert path.read_bytes() == before
    # nothing beside it either: no -wal / -shm companions appear (issue 16, case 7)
    assert not any(path.with_name(f"{path.name}-{x}").exists() for x in ("wal", "shm", "journal"))


# ---------------------------------------------------------------- round trip

def test_fresh_store_round_trip(tmp_path):
    path = tmp_path / "nested" / "dir" / "claims.sqlite"
    s = Store(path)
    assert path.exists()
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    run = s.start_run("ci", "cpu", 7, {"torch": "2"})
    _record(s, run, "toy.a", 1, origin="curated")
    _record(s, run, "toy.a", 2)
    _record(s, run, "toy.a", 3, margin=-0.25)
    _record(s, run, "toy.a", 4, margin=math.nan, reason="did not converge")
    _record(s, run, "toy.a", 5, margin=math.inf)
    _record(s, run, "toy.b", 6)
    s.record_outcome(run, _summary("toy.a", "falsified", False, -0.25))
    s.record_outcome(run, _summary("toy.b"))
    s.finish_run(run)
    s.close()

    s = Store(path, create=False)
    try:
        runs = s.runs()
        assert len(runs) == 1 and runs[0]["id"] == run
        assert runs[0]["status"] == "complete" and runs[0]["seed"] == 7 and runs[0]["finished"]
        ex = s.examples_of("toy.a")
        assert [e["status"] for e in ex] == ["pass", "pass", "fail", "inconclusive", "inconclusive"]
        assert [e["margin"] for e in ex[:3]] == [0.001, 0.002, -0.25]
        assert ex[3]["margin"] is None and ex[4]["margin"] is None      # NaN/inf never stored as numbers
        assert ex[3]["reason"] == "did not converge"
        assert "non-finite" in ex[4]["reason"]
        assert len(s.examples_of("toy.a", run)) == 5 and s.examples_of("toy.a", run + 1) == []
        assert len(s.examples_of("toy.b")) == 1
        first = s.example(ex[0]["id"])
        assert first["drawn"] == {"i": 1, "pad": "y" * 100}
        assert first["claim_id"] == "toy.a" and first["origin"] == "curated" and first["binding"] == "cond"
        assert s.example(10**9) is None
        res = {r["id"]: r for r in s.claim_results()}
        assert res["toy.a"]["verdict"] == "falsified" and res["toy.a"]["worst_margin"] == -0.25
        assert res["toy.a"]["run_id"] == run and res["toy.b"]["ok"] is True
    finally:
        s.close()


def test_reopen_appends_new_runs(healthy):
    s = Store(healthy)
    run2 = s.start_run("dev", "cpu", 1, {})
    _record(s, run2, "toy.a", 0)
    s.record_outcome(run2, _summary("toy.a", "held"))
    s.close()
    s = Store(healthy, create=False)
    try:
        assert [r["id"] for r in s.runs()] == [1, run2]
        assert len(s.examples_of("toy.a")) == 121
        assert [r["run_id"] for r in s.claim_results()] == [1, run2]
    finally:
        s.close()


def test_missing_store_without_create(tmp_path):
    with pytest.raises(StoreError):
        Store(tmp_path / "nope.sqlite", create=False)
    assert not (tmp_path / "nope.sqlite").exists()


def test_directory_is_refused(tmp_path):
    with pytest.raises(StoreError):
        Store(tmp_path)


def test_empty_file_becomes_a_store(tmp_path):
    path = tmp_path / "empty.sqlite"
    path.write_bytes(b"")
    Store(path).close()
    Store(path, create=False).close()


# ---------------------------------------------------------------- bad files are refused, byte-identical

@pytest.mark.parametrize("content", [
    b"hello, this is a text file\n" * 20,
    bytes(range(256)) * 40,
    bytes((i * 7919 + 13) % 256 for i in range(3000)),
    b"SQLite",                          # shorter than the magic
    b"{\"claims\": []}",
    b"SQLite format 2\x00" + bytes(4096),
], ids=["text", "bytes", "random", "short", "json", "other-magic"])
def test_non_sqlite_file_is_refused_and_untouched(tmp_path, content):
    path = tmp_path / "claims.sqlite"
    path.write_bytes(content)
    _refused_unchanged(path, match="not a SQLite")


@pytest.mark.parametrize("cut", ["16", "50", "100", "4096", "4097", "half", "minus_page", "minus_1"])
def test_truncated_store_is_refused_and_untouched(healthy, cut):
    raw = healthy.read_bytes()
    n = {"half": len(raw) // 2, "minus_page": len(raw) - 4096, "minus_1": len(raw) - 1}.get(cut)
    n = int(cut) if n is None else n
    assert 0 < n < len(raw)
    healthy.write_bytes(raw[:n])
    _refused_unchanged(healthy)


@pytest.mark.parametrize("how", ["garbage_pages", "zero_pages", "garbage_page1"])
def test_corrupt_store_is_refused_and_untouched(healthy, how):
    raw = healthy.read_bytes()
    page = int.from_bytes(raw[16:18], "big")
    if how == "garbage_pages":
        bad = raw[:page] + bytes([0xA5]) * (len(raw) - page)
    elif how == "zero_pages":
        bad = raw[:page] + bytes(len(raw) - page)
    else:
        bad = raw[:100] + bytes([0x5A]) * (page - 100) + raw[page:]
    healthy.write_bytes(bad)
    _refused_unchanged(healthy)


def test_foreign_sqlite_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO customers VALUES (1, 'x')")
    db.commit()
    db.close()
    _refused_unchanged(path, match="not a lora-claims store")


@pytest.mark.parametrize("name", ["claims.sqlite", "run #3.sqlite", "what?.sqlite", "100%25.sqlite"])
def test_newer_schema_is_refused_and_untouched(tmp_path, name):
    path = tmp_path / name
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    before_names = set(os.listdir(tmp_path))
    _refused_unchanged(path, match="newer than")
    # nothing but SQLite's own sidecar files may appear next to it
    extra = set(os.listdir(tmp_path)) - before_names
    assert extra <= {name + "-wal", name + "-shm"}, extra


@pytest.mark.parametrize("name", ["run #3.sqlite", "what?.sqlite", "100%25.sqlite", "a b.sqlite"])
def test_healthy_store_with_uri_characters_in_its_name(tmp_path, name):
    path = tmp_path / name
    s = Store(path)
    _record(s, s.start_run("ci", "cpu", 0, {}), "toy.a", 1)
    s.close()
    s = Store(path, create=False)
    try:
        assert len(s.examples_of("toy.a")) == 1
    finally:
        s.close()
    assert set(os.listdir(tmp_path)) <= {name, name + "-wal", name + "-shm"}


# ---------------------------------------------------------------- concurrent writers

def _writer(path, k, barrier, q):
    try:
        barrier.wait(timeout=60)
        s = Store(path)
        run = s.start_run("ci", "cpu", k, {})
        for i in range(PER_WRITER):
            _record(s, run, f"toy.w{k}", i)
        s.record_outcome(run, _summary(f"toy.w{k}"))
        s.finish_run(run)
        s.close()
        q.put((k, run, None))
    except BaseException as exc:  # report to the parent instead of dying silently
        q.put((k, None, repr(exc)))


def test_concurrent_writers(tmp_path):
    # the store does not exist yet: the writers also race to create it
    path = tmp_path / "shared.sqlite"
    ctx = mp.get_context("spawn")
    barrier, q = ctx.Barrier(N_WRITERS), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(path), k, barrier, q)) for k in range(N_WRITERS)]
    for p in procs:
        p.start()
    results = [q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    errors = [r for r in results if r[2] is not None]
    assert not errors, errors
    runs = sorted(r[1] for r in results)
    assert len(set(runs)) == N_WRITERS

    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT COUNT(*) FROM examples").fetchone()[0] == N_WRITERS * PER_WRITER
        for k in range(N_WRITERS):
            rows = db.execute("SELECT drawn FROM examples WHERE claim_id = ?", (f"toy.w{k}",)).fetchall()
            assert len(rows) == PER_WRITER
        per_run = dict(db.execute("SELECT run_id, COUNT(*) FROM examples GROUP BY run_id"))
        assert sorted(per_run) == runs and set(per_run.values()) == {PER_WRITER}
        assert db.execute("SELECT COUNT(*) FROM claim_results").fetchone()[0] == N_WRITERS
        assert {r[0] for r in db.execute("SELECT status FROM runs")} == {"complete"}
        assert db.execute("SELECT COUNT(*) FROM meta WHERE key='schema_version'").fetchone()[0] == 1
    finally:
        db.close()
    s = Store(path, create=False)   # and the store still opens
    s.close()


# ---------------------------------------------------------------- schema migration and interrupted runs

_V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started REAL NOT NULL, finished REAL,
    status TEXT NOT NULL, profile TEXT, device TEXT, seed INTEGER, argv TEXT, versions TEXT, host TEXT);
CREATE TABLE examples (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL REFERENCES runs(id),
    claim_id TEXT NOT NULL, origin TEXT, drawn TEXT NOT NULL, status TEXT NOT NULL, margin REAL,
    reason TEXT, binding TEXT, measured TEXT, traces TEXT, seconds REAL, device TEXT, dtype TEXT,
    created REAL NOT NULL);
CREATE INDEX examples_claim ON examples(claim_id, run_id);
CREATE TABLE claim_results (
    run_id INTEGER NOT NULL REFERENCES runs(id), claim_id TEXT NOT NULL, verdict TEXT NOT NULL,
    ok INTEGER NOT NULL, examples INTEGER, passed INTEGER, failed INTEGER, inconclusive INTEGER,
    worst_margin REAL, seconds REAL, summary TEXT NOT NULL, PRIMARY KEY (run_id, claim_id));
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO runs (started, finished, status, profile, device, seed, argv, versions, host)
    VALUES (1.0, 2.0, 'complete', 'ci', 'cpu', 0, '[]', '{}', 'h');
INSERT INTO examples (run_id, claim_id, origin, drawn, status, margin, created)
    VALUES (1, 'toy.a', 'search', '{"i": 1}', 'pass', 0.5, 1.5);
"""


def test_v1_store_is_migrated_without_losing_records(tmp_path):
    path = tmp_path / "v1.sqlite"
    db = sqlite3.connect(path)
    db.executescript(_V1_SCHEMA)
    db.execute("INSERT INTO claim_results VALUES (1, 'toy.a', 'held', 1, 1, 1, 0, 0, 0.5, 0.1, ?)",
               ('{"id": "toy.a", "verdict": "held"}',))
    db.commit()
    db.close()
    s = Store(path)
    try:
        assert s.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
        assert [e["margin"] for e in s.examples_of("toy.a")] == [0.5]
        assert s.runs()[0]["status"] == "complete" and s.runs()[0]["pid"] is None
        assert [r["verdict"] for r in s.claim_results()] == ["held"]
        run = s.start_run("ci", "cpu", 0, {})
        _record(s, run, "toy.a", 2)
        assert len(s.examples_of("toy.a")) == 2
    finally:
        s.close()


def test_run_of_a_dead_process_is_marked_incomplete(tmp_path):
    path = tmp_path / "s.sqlite"
    s = Store(path)
    run = s.start_run("ci", "cpu", 0, {})
    dead = mp.get_context("spawn").Process(target=int)
    dead.start()
    dead.join()
    s.db.execute("UPDATE runs SET pid = ? WHERE id = ?", (dead.pid, run))   # as if that process had died mid-run
    live = s.start_run("ci", "cpu", 0, {})
    statuses = {r["id"]: r["status"] for r in s.runs()}
    assert statuses == {run: "incomplete", live: "running"}       # our own live run is left alone
    s.close()
