"""Reliability (issue 7): bad input, SIGKILL mid-run, per-example timeouts, determinism, concurrent
writers.  Fault injection uses short-lived subprocesses running toy claims, so it stays fast; the
25-second kill on the real `ci` campaign is opt-in (LORA_CLAIMS_SLOW_TESTS=1)."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import strategies as st

from lora_claims.theorems.claim import Claim, Evidence, Verdict
from lora_claims.profiles import Profile
from lora_claims.search import falsify_claim
from lora_claims.store import APPLICATION_ID, SCHEMA_VERSION, Store

from test_cli import assert_usage_error, cli

ROOT = Path(__file__).resolve().parent.parent

# A child process: registers a slow toy claim and runs the real CLI on it.  Every example is logged to
# LOG after the store committed it, so the parent knows what was completed before the kill.
CHILD = textwrap.dedent("""
    import json, os, sys, time
    from hypothesis import strategies as st
    from lora_claims.theorems import claim as claims
    from lora_claims import store as store_mod
    from lora_claims.theorems.claim import Claim, Evidence
    from lora_claims.cli import main

    LOG = os.environ["KILL_LOG"]
    def ev(d, ctx):
        time.sleep(0.02)
        return Evidence(0.5 if d["x"] < 300_000 else -0.5)
    claims.REGISTRY.add(Claim(id="toykill.c", paper="Toy", theorem="T", statement="s", assumptions="a", kind="lemma",
                          provenance="derived", strategy=lambda p: st.fixed_dictionaries({"x": st.integers(0, 10**6)}),
                          evaluate=ev))
    claims.REGISTRY.add(Claim(id="toykill.nc", paper="Toy", theorem="T", statement="s", assumptions="a",
                              kind="control", provenance="derived", guards=("toykill.c",),
                              strategy=lambda p: st.just({}), evaluate=lambda d, ctx: Evidence(-1.0)))
    orig = store_mod.Store.recorder
    def recorder(self, run_id):
        rec = orig(self, run_id)
        def logged(**kw):
            row = rec(**kw)
            with open(LOG, "a") as fh:
                fh.write(f"{row} {kw['evidence'].status}\\n")
            return row
        return logged
    store_mod.Store.recorder = recorder
    sys.exit(main(["falsify", "toykill.c", "--profile", "dev", "--results", sys.argv[1], "--seed", sys.argv[2]]))
""")


def _start_child(store: Path, log: Path, seed: int) -> subprocess.Popen:
    env = dict(os.environ, KILL_LOG=str(log), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", CHILD, str(store), str(seed)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _logged(log: Path) -> list[tuple[int, str]]:
    if not log.exists():
        return []
    return [(int(a), b) for a, b in (line.split() for line in log.read_text().splitlines() if " " in line)]


def _wait_for_rows(log: Path, n: int, proc: subprocess.Popen, timeout=120, after_fail=False):
    """Until ``n`` examples are committed (``after_fail``: ``n`` more after the first failing one)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        rows = _logged(log)
        first_fail = next((i for i, (_, st) in enumerate(rows) if st == "fail"), None)
        if (len(rows) >= n) if not after_fail else (first_fail is not None and len(rows) - first_fail > n):
            return
        if proc.poll() is not None:
            raise AssertionError(f"child exited early ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.01)
    raise AssertionError("child recorded too few examples")


def _interrupt(store: Path, log: Path, seed: int, after_rows: int, sig: int, after_fail=False) -> int:
    """Start a child campaign, send it ``sig`` once it has recorded ``after_rows`` examples."""
    proc = _start_child(store, log, seed)
    _wait_for_rows(log, after_rows, proc, after_fail=after_fail)
    proc.send_signal(sig)
    return proc.wait(timeout=60)


def _integrity(store: Path) -> sqlite3.Connection:
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    return db


# ---------------------------------------------------------------- 1. bad input

def test_cli_refuses_a_newer_schema_and_leaves_it(tmp_path):
    path = tmp_path / "claims.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    before = path.read_bytes()
    assert_usage_error(*cli("report", "--results", path, "-o", tmp_path / "r.html"))
    assert_usage_error(*cli("falsify", "jang2024.nc_a*", "--results", path))
    assert path.read_bytes() == before and not (tmp_path / "r.html").exists()
    # issue 16 case 7: nor are -wal / -shm companions left beside the refused store
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()


def _foreign(path: Path, app: int = 0, schema=None) -> None:
    """Another application's database: a meta(key, value) table (and a runs table of its own)."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, x TEXT)")
    db.execute("INSERT INTO runs (x) VALUES ('theirs')")
    if schema is not None:
        db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (schema,))
    if app:
        db.execute(f"PRAGMA application_id = {app}")
    db.commit()
    db.close()


@pytest.mark.parametrize("kind", ["meta-and-runs", "their-schema-row", "their-application-id"])
def test_a_foreign_sqlite_database_is_refused_and_left_byte_identical(tmp_path, kind):
    """Issue 16 case 1: a store is recognised positively (application_id, or a lora-claims schema row and
    tables), so another application's database is refused before anything is written."""
    path = tmp_path / "theirs.sqlite"
    _foreign(path, app=0x12345678 if kind == "their-application-id" else 0,
             schema="2" if kind == "their-schema-row" else None)
    before = path.read_bytes()
    for argv in (("falsify", "jang2024.nc_a*"), ("report", "-o", str(tmp_path / "r.html"))):
        rc, out, err = cli(*argv, "--results", path)
        assert_usage_error(rc, out, err)
        assert "not a lora-claims store" in err
    assert path.read_bytes() == before and not (tmp_path / "r.html").exists()
    assert not any(Path(f"{path}-{x}").exists() for x in ("wal", "shm", "journal"))


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_a_device_as_the_store_is_refused():
    """Issue 16 case 9: /dev/null as the store gave 'cannot rollback - no transaction is active'."""
    rc, out, err = cli("falsify", "jang2024.nc_a*", "--results", "/dev/null")
    assert_usage_error(rc, out, err)
    assert "not a regular file" in err


def test_a_corrupt_schema_value_is_a_one_line_error(tmp_path):
    """Issue 16 case 4: schema_version = 'two' was a ValueError traceback in falsify and report."""
    path = tmp_path / "claims.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = 'two' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    before = path.read_bytes()
    for argv in (("falsify", "jang2024.nc_a*"), ("report", "-o", str(tmp_path / "r.html"))):
        rc, out, err = cli(*argv, "--results", path)
        assert_usage_error(rc, out, err)
        assert "schema version is 'two'" in err
    assert path.read_bytes() == before


def test_report_leaves_a_healthy_store_byte_identical(tmp_path):
    """Reading a store (the report) writes nothing to it -- not even the application id it already has."""
    path = tmp_path / "claims.sqlite"
    s = Store(path)
    s.finish_run(s.start_run("ci", "cpu", 0, {}))
    s.close()
    before = path.read_bytes()
    rc, _, err = cli("report", "--results", path, "-o", tmp_path / "r.html")
    assert rc == 0, err
    assert path.read_bytes() == before


def test_new_stores_carry_the_application_id_and_old_ones_are_still_opened(tmp_path):
    path = tmp_path / "claims.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    db.execute("PRAGMA application_id = 0")                  # a store made before the id was set
    db.commit()
    db.close()
    s = Store(path)
    s.finish_run(s.start_run("ci", "cpu", 0, {}))
    s.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    db.close()


def test_report_on_a_corrupt_store_is_byte_identical(tmp_path):
    # a real store with a run in it, then a page overwritten with garbage
    path = tmp_path / "claims.sqlite"
    s = Store(path)
    run = s.start_run("ci", "cpu", 0, {})
    for i in range(200):
        s.recorder(run)(claim=type("C", (), {"id": "toy.x"}), drawn={"i": i, "pad": "p" * 200},
                        evidence=Evidence(1.0), seconds=0.0, device="cpu", dtype="float64", origin="search")
    s.close()
    raw = bytearray(path.read_bytes())
    raw[4096 * 3: 4096 * 3 + 2048] = b"\xa5" * 2048
    path.write_bytes(bytes(raw))
    assert_usage_error(*cli("report", "--results", path, "-o", tmp_path / "r.html"))
    assert path.read_bytes() == bytes(raw)


@pytest.mark.parametrize("argv", [
    ["falsify", "nosuch.*"],
    ["falsify", "jang2024.nc_a*", "--profile", "weekly"],
    ["falsify", "jang2024.nc_a*", "--budget", "-5"],
    ["falsify", "jang2024.nc_a*", "--budget", "1e"],
    ["falsify", "jang2024.nc_a*", "--device", "tpu"],
    ["falsify", "jang2024.nc_a*", "--device", ""],                 # issue 16: no longer the profile's default
    ["falsify", "jang2024.nc_a*", "--seed", str(2**63)],           # issue 16: was an OverflowError after writing
    ["falsify", "jang2024.nc_a*", "--seed", "-1"],
], ids=lambda a: " ".join(a))
def test_bad_usage_leaves_an_existing_store_byte_identical(tmp_path, argv):
    path = tmp_path / "claims.sqlite"
    s = Store(path)
    s.finish_run(s.start_run("ci", "cpu", 0, {}))
    s.close()
    before = path.read_bytes()
    assert_usage_error(*cli(*argv, "--results", path))
    assert path.read_bytes() == before


def test_unusable_paths_exit_2(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert_usage_error(*cli("falsify", "jang2024.nc_a*", "--results", afile / "claims.sqlite"))
    store = tmp_path / "claims.sqlite"
    Store(store).close()
    before = store.read_bytes()
    assert_usage_error(*cli("report", "--results", store, "-o", tmp_path / "no" / "dir" / "r.html"))
    assert_usage_error(*cli("report", "--results", store, "-o", tmp_path))
    assert store.read_bytes() == before


def test_counterexample_for_no_claim_exits_2(tmp_path):
    ce = tmp_path / "ce.json"
    ce.write_text(json.dumps({"claim": "nopaper.nothm", "drawn": {"x": 1}, "command": "lora-claims reproduce"}))
    assert_usage_error(*cli("reproduce", ce))


# ---------------------------------------------------------------- 2. crash safety

@pytest.mark.parametrize("kill_after_rows, after_fail", [(2, False), (1, True)],
                         ids=["early", "while-shrinking"])
def test_sigkill_leaves_an_intact_store_and_the_next_run_resumes(tmp_path, kill_after_rows, after_fail):
    store, log = tmp_path / "claims.sqlite", tmp_path / "done.log"
    assert _interrupt(store, log, 1, kill_after_rows, signal.SIGKILL, after_fail) == -signal.SIGKILL
    completed = {row for row, _ in _logged(log)}
    db = _integrity(store)
    kept = {r[0] for r in db.execute("SELECT id FROM examples")}
    assert completed <= kept                                     # every completed example survived
    assert db.execute("SELECT status FROM runs").fetchall() == [("running",)]
    db.close()
    # the report reads the interrupted store
    rc, _, err = cli("report", "--results", store, "-o", tmp_path / "r.html")
    assert rc == 0, err
    # the next run marks the killed one incomplete and replays the database's failure first
    log2 = tmp_path / "done2.log"
    proc = _start_child(store, log2, seed=2)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err.decode()[-2000:]           # the toy lemma is false: exit 1
    db = _integrity(store)
    statuses = [r[0] for r in db.execute("SELECT status FROM runs ORDER BY id")]
    assert statuses == ["incomplete", "complete"]
    first = db.execute("SELECT status, drawn FROM examples WHERE run_id = 2 ORDER BY id LIMIT 1").fetchone()
    failed_before = db.execute("SELECT COUNT(*) FROM examples WHERE run_id = 1 AND status = 'fail'").fetchone()[0]
    db.close()
    assert failed_before or not after_fail
    if failed_before:       # a failure found before the kill was saved in the database: replayed first
        assert first[0] == "fail", first


@pytest.mark.parametrize("after_rows", [2, 9])
def test_sigterm_marks_the_run_incomplete(tmp_path, after_rows):
    store, log = tmp_path / "claims.sqlite", tmp_path / "done.log"
    assert _interrupt(store, log, 3, after_rows, signal.SIGTERM) == 128 + signal.SIGTERM
    db = _integrity(store)
    assert db.execute("SELECT status, finished IS NOT NULL FROM runs").fetchall() == [("incomplete", 1)]
    assert db.execute("SELECT COUNT(*) FROM claim_results").fetchone()[0] == 0     # no outcome for a cut search
    db.close()


@pytest.mark.skipif(os.environ.get("LORA_CLAIMS_SLOW_TESTS") != "1",
                    reason="opt-in (LORA_CLAIMS_SLOW_TESTS=1): kills the real ci campaign after 25 s")
def test_real_campaign_killed_after_25_seconds(tmp_path):
    store = tmp_path / "claims.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "lora_claims.cli", "falsify", "--profile", "ci", "--results",
                             str(store)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(25)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    db = _integrity(store)
    assert db.execute("SELECT COUNT(*) FROM examples").fetchone()[0] > 0
    db.close()
    rc, _, err = cli("report", "--results", store, "-o", tmp_path / "r.html")
    assert rc == 0, err


# ---------------------------------------------------------------- 3. timeouts

def test_example_past_its_limit_is_inconclusive_timeout_and_the_run_goes_on():
    def ev(d, ctx):
        if d["x"] % 4 == 0:
            while True:                 # a solver that never converges
                time.sleep(0.001)
        return Evidence(1.0)
    c = Claim(id="toyto.c", paper="Toy", theorem="T", statement="s", assumptions="a", kind="lemma",
              provenance="derived", strategy=lambda p: st.fixed_dictionaries({"x": st.integers(0, 10**6)}),
              evaluate=ev)
    profile = Profile("to", max_examples=12, runs=1, database=False, target=False, device="cpu",
                      example_timeout=0.2)
    t0 = time.perf_counter()
    out = falsify_claim(c, profile)
    assert time.perf_counter() - t0 < 12 * 0.2 + 5
    assert out.examples == 12                                    # every example ran: none hung the run
    timeouts = out.reasons.get("timeout", 0)
    assert timeouts == out.inconclusive > 0 and out.passed == 12 - timeouts
    assert out.verdict is (Verdict.INCONCLUSIVE if timeouts > 0.2 * 12 else Verdict.HELD)


# ---------------------------------------------------------------- 4. determinism

def test_two_runs_with_seed_7_give_identical_margins(tmp_path):
    margins = []
    for k in range(2):
        store = tmp_path / f"s{k}.sqlite"
        rc, out, err = cli("falsify", "jang2024.lemma_l2_origin", "kim2025.k5_origin", "jang2024.nc_f*",
                           "--profile", "ci", "--seed", 7, "--json", "--results", store)
        assert rc == 0, err
        db = sqlite3.connect(store)
        margins.append(db.execute("SELECT claim_id, origin, drawn, status, margin FROM examples ORDER BY id").fetchall())
        db.close()
        doc = json.loads(out)
        margins[-1].append(tuple((s["id"], s["verdict"], s["worst_margin"]) for s in doc["claims"]))
    assert len(margins[0]) > 10 and margins[0] == margins[1]


WORKER_CLAIMS = textwrap.dedent("""
    import time
    from hypothesis import strategies as st
    from lora_claims import Evidence, control, lemma

    def slow(d, ctx):
        time.sleep(0.2)
        return Evidence(0.5)

    for i in range(4):
        lemma(f"toyw.l{i}", paper="Toy", theorem="T", statement="s", assumptions="a", provenance="derived",
              strategy=lambda p: st.fixed_dictionaries({"x": st.integers(0, 10**6)}), evaluate=slow)
        control(f"toyw.nc{i}", guards=f"toyw.l{i}", statement="MUTANT (slow too: both workers stay busy)",
                strategy=lambda p: st.fixed_dictionaries({"x": st.integers(0, 10**6)}), evaluate=slow)
""")


def test_sigterm_to_a_workers_campaign_stops_every_worker(tmp_path):
    """Issue 16 case 8: with --workers N the parent forwards SIGTERM to its children, which record their
    runs incomplete and exit; nothing keeps writing after the parent is gone."""
    mod, store = tmp_path / "toyw_claims.py", tmp_path / "claims.sqlite"
    mod.write_text(WORKER_CLAIMS)
    proc = subprocess.Popen([sys.executable, "-m", "lora_claims", "falsify", "toyw.*", "--claims", str(mod),
                             "--workers", "2", "--profile", "dev", "--device", "cpu", "--results", str(store)],
                            cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    rows = []
    while time.monotonic() - t0 < 120:              # until both workers have a run with examples in it
        if store.exists():
            try:
                db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
                rows = db.execute("SELECT r.id, r.pid FROM runs r WHERE r.status = 'running' AND EXISTS "
                                  "(SELECT 1 FROM examples e WHERE e.run_id = r.id)").fetchall()
                db.close()
            except sqlite3.Error:
                rows = []
        if len(rows) == 2:
            break
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        time.sleep(0.1)
    assert len(rows) == 2, "the two workers did not start recording"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert b"stopped by signal" in proc.stderr.read()
    for _, pid in rows:                             # the workers are gone (reaped by the parent)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    db = _integrity(store)
    assert sorted(st for (st,) in db.execute("SELECT status FROM runs")) == ["incomplete", "incomplete"]
    db.close()


# ---------------------------------------------------------------- issue 16 case 2: unwritable stores

def _chattr(flag: str, *paths: Path) -> bool:
    """chattr +i / -i (an immutable file or folder: refused even to root); False where unsupported."""
    try:
        return subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True).returncode == 0
    except OSError:
        return False


@pytest.fixture
def healthy_store(tmp_path):
    path = tmp_path / "ro" / "claims.sqlite"
    path.parent.mkdir()
    s = Store(path)
    s.finish_run(s.start_run("ci", "cpu", 0, {}))
    s.close()
    return path


@pytest.mark.parametrize("what", ["file", "folder"])
def test_an_unwritable_store_is_refused_by_falsify_and_read_by_report(tmp_path, healthy_store, what):
    """Issue 16 case 2: a store falsify cannot write (the file, or the folder its write-ahead log lives in)
    was a traceback ('attempt to write a readonly database'); now exit 2 naming it, nothing written, while
    report (and reproduce) read it without any write."""
    path = healthy_store
    target = path if what == "file" else path.parent
    if os.geteuid() == 0:
        if not _chattr("+i", target):
            pytest.skip("running as root and chattr +i is unsupported here: no way to make a store unwritable")
        undo = lambda: _chattr("-i", target)                                  # noqa: E731
    else:
        mode = target.stat().st_mode
        target.chmod(0o555 if what == "folder" else 0o444)
        undo = lambda: target.chmod(mode)                                     # noqa: E731
    try:
        before = path.read_bytes()
        rc, out, err = cli("falsify", "jang2024.nc_a*", "--results", path)
        assert_usage_error(rc, out, err)
        assert "not writable" in err and str(path) in err
        rc, out, err = cli("report", "--results", path, "-o", tmp_path / "r.html")
        assert rc == 0, err
        assert path.read_bytes() == before
        assert sorted(p.name for p in path.parent.iterdir()) == ["claims.sqlite"]
    finally:
        undo()
