"""Campaigns beyond one machine (issue 19): Ray tasks whose shards are merged into the store, and the Redis
example database shared by hosts.

The Ray tests share one local Ray instance (2 CPUs, node address 127.0.0.1) per process, started by a
module fixture (~10 s): under ``pytest -n 2`` the three of them may land in both workers, so at most two
instances run at once.  (``xdist_group`` / ``--dist loadgroup`` would keep them in one worker, but with
pytest 9.2 and pytest-xdist 3.8 the group is not applied: xdist renames ``item._nodeid``, which pytest 9 no
longer reads.)  The Redis tests use the server named by
LORA_CLAIMS_TEST_REDIS (``.ci/run`` starts one); without it, or without ray / redis, they skip and say why.
"""
from __future__ import annotations

import json
import math
import os
import signal
import socket
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest

from lora_claims.cli import main
from lora_claims.store import Store

CLAIMS = str(Path(__file__).parent / "data" / "distributed_claims.py")
# a few fast ci claims: a theorem, a control falsified (a counterexample exported), an autograd check
EQUIVALENCE = ["jang2024.lemma_l2_origin", "jang2024.nc_f_origin_threshold", "xu2025.a3_*"]
REDIS_URL = os.environ.get("LORA_CLAIMS_TEST_REDIS")


@pytest.fixture(autouse=True)
def _registry_restored(monkeypatch):
    """``--claims CLAIMS`` loads its claims into this process's registry: undone after each test, so the
    other tests in this worker see the registry as it was (README's claim table, `list`)."""
    from lora_claims import catalog
    from lora_claims.theorems.claim import REGISTRY
    catalog.load()
    monkeypatch.setattr(REGISTRY, "claims", dict(REGISTRY.claims))
    monkeypatch.setattr(catalog, "_loaded", set(catalog._loaded))


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _falsify(capsys, *argv) -> tuple[int, dict | None, str]:
    code = main(["falsify", *argv, "--profile", "ci", "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def _rows(path, run_status=None) -> list[tuple]:
    db = sqlite3.connect(path)
    q = ("SELECT e.claim_id, e.origin, e.drawn, e.status, e.margin FROM examples e JOIN runs r ON r.id = e.run_id"
         + (" WHERE r.status = ?" if run_status else "") + " ORDER BY e.id")
    rows = db.execute(q, (run_status,) if run_status else ()).fetchall()
    db.close()
    return rows


# ------------------------------------------------------------------ no Ray needed

def _shard(path, claim="toy.a", examples=3, status="complete"):
    """A shard store: one run with ``examples`` examples and a summary pointing at its last example."""
    from lora_claims.theorems.claim import Evidence
    st = Store(path)
    run = st.start_run("ci", "cpu", 0, {})
    rec = st.recorder(run)

    class C:
        id = claim
    ids = [rec(C, {"x": i}, Evidence(0.5 - i / 10), 0.1, "cpu", "float64", "search") for i in range(examples)]
    if status == "complete":
        st.record_outcome(run, {"id": claim, "verdict": "held", "ok": True, "examples": examples, "passed": examples,
                                "failed": 0, "inconclusive": 0, "worst_margin": 0.5 - (examples - 1) / 10, "seconds": 1.0,
                                "closest": {"example_id": ids[-1]}})
        st.finish_run(run, "complete")
    st.close()
    return ids


def test_merge_renumbers_and_is_idempotent(tmp_path):
    target = tmp_path / "campaign.sqlite"
    _shard(target, claim="toy.before", examples=2)                 # ids taken already: the merge renumbers
    _shard(tmp_path / "done.sqlite", examples=3)
    _shard(tmp_path / "dead.sqlite", examples=2, status="running")  # a worker killed mid-task
    st = Store(target)
    maps = st.merge_shard(tmp_path / "done.sqlite", "c/n/toy.a/a1")
    assert maps["runs"] == {1: 2} and maps["examples"] == {1: 3, 2: 4, 3: 5}
    assert st.merge_shard(tmp_path / "dead.sqlite", "c/n/toy.a/a0")["runs"] == {1: 3}
    # merged again (a retried return, a second sweep): nothing changes
    assert st.merge_shard(tmp_path / "done.sqlite", "c/n/toy.a/a1") is None
    assert st.merge_shard(tmp_path / "dead.sqlite", "c/n/toy.a/a0") is None
    assert [(r["id"], r["status"]) for r in st.runs()] == [(1, "complete"), (2, "complete"), (3, "incomplete")]
    res = {r["id"]: r for r in st.claim_results()}
    assert res["toy.a"]["run_id"] == 2 and res["toy.a"]["closest"]["example_id"] == 5
    assert st.example(5)["drawn"] == {"x": 2} and st.example(5)["claim_id"] == "toy.a"
    st.close()
    rows = _rows(target)
    assert len(rows) == 2 + 3 + 2 and [json.loads(r[2])["x"] for r in rows] == [0, 1, 0, 1, 2, 0, 1]
    assert sqlite3.connect(target).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_bad_cluster_address_is_bad_input(tmp_path, capsys):
    pytest.importorskip("ray", reason="the [ray] extra is not installed")
    results = tmp_path / "r" / "claims.sqlite"
    for address in (f"127.0.0.1:{_closed_port()}", "not an address"):
        t0 = time.perf_counter()
        code, doc, err = _falsify(capsys, EQUIVALENCE[0], "--ray", address, "--results", str(results))
        assert code == 2 and doc is None and err.count("\n") == 1 and "Traceback" not in err, err
        assert "--ray" in err and time.perf_counter() - t0 < 15
    assert not results.exists() and not results.parent.exists()


def test_rays_usage_statistics_are_off_unless_asked_for(monkeypatch):
    from lora_claims import distributed as D
    monkeypatch.setitem(sys.modules, "ray", None)
    for preset, expected in ((None, "0"), ("1", "1")):
        if preset is None:
            monkeypatch.delenv(D.USAGE_STATS_ENV, raising=False)
        else:
            monkeypatch.setenv(D.USAGE_STATS_ENV, preset)
        with pytest.raises(D.ClusterError):
            with D.connected(None):
                pass
        assert os.environ[D.USAGE_STATS_ENV] == expected


def test_ray_missing_is_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)            # `import ray` raises ImportError
    results = tmp_path / "claims.sqlite"
    code, doc, err = _falsify(capsys, EQUIVALENCE[0], "--ray", "--results", str(results))
    assert code == 2 and err.strip() == "lora-claims: error: --ray needs Ray: pip install 'lora-claims[ray]'"
    assert not results.exists()
    code, _, err = _falsify(capsys, EQUIVALENCE[0], "--ray", "--workers", "2", "--results", str(results))
    assert code == 2 and "exclude each other" in err and not results.exists()


def test_unreachable_example_db_is_bad_input(tmp_path, capsys):
    pytest.importorskip("redis", reason="the [ray] extra (redis client) is not installed")
    results = tmp_path / "claims.sqlite"
    for url in (f"redis://127.0.0.1:{_closed_port()}/0", "http://example.org/"):
        code, doc, err = _falsify(capsys, EQUIVALENCE[0], "--example-db", url, "--results", str(results))
        assert code == 2 and doc is None and err.count("\n") == 1 and "Traceback" not in err, err
    assert not results.exists()


def test_redis_outage_only_loses_sharing(tmp_path, capsys):
    """Redis down during the run (a closed port): the local half of the database still replays the failure."""
    pytest.importorskip("redis", reason="the [ray] extra (redis client) is not installed")
    from lora_claims import catalog
    from lora_claims.profiles import PROFILES
    from lora_claims.runner import example_database
    from lora_claims.search import falsify_claim
    (claim,) = catalog.select(["distributed.nc_square_shifted"], [CLAIMS])
    db = example_database(tmp_path / "claims.sqlite", f"redis://127.0.0.1:{_closed_port()}/0")
    first = falsify_claim(claim, PROFILES["ci"], seed=1, database=db)
    assert first.verdict.value == "falsified"
    seen = []
    second = falsify_claim(claim, PROFILES["ci"], seed=2, database=db, recorder=lambda **kw: seen.append(kw))
    assert second.verdict.value == "falsified"
    assert seen[0]["drawn"] == first.counterexample["drawn"] and seen[0]["evidence"].status == "fail"
    err = capsys.readouterr().err
    assert err.count("the shared example database") == 1 and "going on with the local one" in err


# ------------------------------------------------------------------ Redis shared by two campaigns

@pytest.mark.skipif(not REDIS_URL, reason="no Redis server: set LORA_CLAIMS_TEST_REDIS=redis://127.0.0.1:PORT/0 "
                                          "(.ci/run starts one)")
def test_counterexample_is_replayed_first_by_another_campaign(tmp_path, capsys):
    redis = pytest.importorskip("redis", reason="the [ray] extra (redis client) is not installed")
    client = redis.Redis.from_url(REDIS_URL)
    for k in client.scan_iter(b"hypothesis-example:distributed.*"):
        client.delete(k)
    cid = "distributed.nc_square_shifted"
    # two "hosts": separate results folders, so separate local databases; only Redis joins them
    code, first, _ = _falsify(capsys, cid, "--claims", CLAIMS, "--seed", "1", "--example-db", REDIS_URL,
                              "--results", str(tmp_path / "host1" / "claims.sqlite"))
    assert code == 0 and first["claims"][0]["verdict"] == "falsified"
    found = first["claims"][0]["counterexample"]["drawn"]
    assert list(client.scan_iter(b"hypothesis-example:" + cid.encode() + b"*"))
    code, second, _ = _falsify(capsys, cid, "--claims", CLAIMS, "--seed", "2", "--example-db", REDIS_URL,
                               "--results", str(tmp_path / "host2" / "claims.sqlite"))
    assert code == 0 and second["claims"][0]["verdict"] == "falsified"
    replayed = [r for r in _rows(tmp_path / "host2" / "claims.sqlite") if r[1] == "search"]
    assert json.loads(replayed[0][2]) == found and replayed[0][3] == "fail"
    # without the shared database the second host does not start from it
    code, alone, _ = _falsify(capsys, cid, "--claims", CLAIMS, "--seed", "2",
                              "--results", str(tmp_path / "host3" / "claims.sqlite"))
    assert json.loads([r for r in _rows(tmp_path / "host3" / "claims.sqlite") if r[1] == "search"][0][2]) != found


# ------------------------------------------------------------------ on a local Ray cluster

@pytest.fixture(scope="module")
def ray_cluster():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")        # nothing leaves this machine
    ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", object_store_memory=256 * 2**20,
             log_to_driver=False, configure_logging=True, logging_level="WARNING")
    yield ray
    ray.shutdown()


def test_ray_campaign_matches_the_local_one(ray_cluster, tmp_path, capsys):
    local, remote = tmp_path / "local" / "claims.sqlite", tmp_path / "ray" / "claims.sqlite"
    t0 = time.perf_counter()
    code_l, doc_l, _ = _falsify(capsys, *EQUIVALENCE, "--seed", "3", "--results", str(local))
    t1 = time.perf_counter()
    code_r, doc_r, _ = _falsify(capsys, *EQUIVALENCE, "--seed", "3", "--ray", "--results", str(remote))
    print(f"local {t1 - t0:.1f}s, ray {time.perf_counter() - t1:.1f}s", file=sys.stderr)
    assert code_l == code_r == 0
    a, b = doc_l["claims"], doc_r["claims"]
    assert [c["id"] for c in a] == [c["id"] for c in b] and len(a) == 3
    for x, y in zip(a, b):
        for f in ("verdict", "examples", "passed", "failed", "inconclusive", "closest"):
            assert x[f] == y[f] or f == "closest" and x[f]["drawn"] == y[f]["drawn"], (x["id"], f)
        assert math.isclose(x["worst_margin"], y["worst_margin"], rel_tol=1e-12), x["id"]
    # the same examples recorded, one run per task; the counterexample and the JSONL beside the store
    assert sorted(_rows(local)) == sorted(_rows(remote))
    st = Store(remote, create=False, readonly=True)
    assert len(st.runs()) == 3 and {r["status"] for r in st.runs()} == {"complete"}
    ce = doc_r["claims"][1]["counterexample"]
    assert Path(ce["file"]).parent == remote.parent / "counterexamples" and Path(ce["file"]).is_file()
    assert json.loads(Path(ce["file"]).read_text())["drawn"] == doc_l["claims"][1]["counterexample"]["drawn"]
    lines = lambda p: sum(len(f.read_text().splitlines()) for f in (p.parent / "observed").glob("*testcases.jsonl"))
    assert lines(remote) == lines(local) > 0
    st.close()
    assert main(["report", "--results", str(remote), "-o", str(tmp_path / "r.html")]) == 0
    assert all(c["id"] in (tmp_path / "r.html").read_text() for c in b)


def test_killed_worker_is_retried_and_keeps_its_examples(ray_cluster, tmp_path, capsys, monkeypatch):
    root = tmp_path / "shards"
    monkeypatch.setenv("LORA_CLAIMS_SHARD_DIR", str(root))
    results = tmp_path / "claims.sqlite"
    killed: list = []

    def kill_first_attempt():
        deadline = time.time() + 120
        while time.time() < deadline:
            for shard in root.glob("*/*/distributed.slow_square/a0/shard.sqlite"):
                try:
                    db = sqlite3.connect(f"file:{shard}?mode=ro", uri=True, timeout=1)
                    n = db.execute("SELECT COUNT(*) FROM examples").fetchone()[0]
                    run = db.execute("SELECT pid FROM runs").fetchone()
                    db.close()
                except sqlite3.Error:
                    continue
                if run is not None and n >= 3:
                    pid = run[0]
                    os.kill(pid, signal.SIGKILL)
                    time.sleep(0.5)
                    killed.append(_rows(shard))
                    return
            time.sleep(0.05)
    watcher = threading.Thread(target=kill_first_attempt, daemon=True)
    watcher.start()
    code, doc, err = _falsify(capsys, "distributed.slow_square", "--claims", CLAIMS, "--seed", "0",
                              "--ray", "--results", str(results))
    watcher.join(5)
    assert killed, "the first attempt was never seen recording"
    assert code == 0 and doc["claims"][0]["verdict"] == "held", err
    assert sqlite3.connect(results).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    st = Store(results, create=False, readonly=True)
    assert [r["status"] for r in st.runs()] == ["complete", "incomplete"]   # the retry, then the swept dead one
    st.close()
    dead = _rows(results, "incomplete")
    assert len(dead) >= 3 and dead == killed[0]                # every example the dead attempt recorded, once
    assert len(_rows(results, "complete")) == doc["claims"][0]["examples"]
    assert not any(root.iterdir())                             # the sweep cleaned the shard folders


def test_budget_is_a_wall_shared_by_the_tasks(ray_cluster, tmp_path, capsys):
    """--budget under Ray: each task's share of the wall; the slow claim stops early but has its minimum."""
    # unbudgeted first (it also warms both workers: a cold worker's imports would eat the 2 s wall)
    code, full, _ = _falsify(capsys, "distributed.*", "--claims", CLAIMS, "--ray", "--results",
                             str(tmp_path / "full.sqlite"))
    assert code == 0 and not full["claims"][0]["budget_spent"]
    t0 = time.perf_counter()
    code, doc, err = _falsify(capsys, "distributed.*", "--claims", CLAIMS, "--ray", "--budget", "2",
                              "--results", str(tmp_path / "claims.sqlite"))
    wall = time.perf_counter() - t0
    slow, control = doc["claims"]
    assert control["verdict"] == "falsified"
    assert slow["budget_spent"] and slow["examples"] < full["claims"][0]["examples"] and slow["verdict"] == "held", slow["note"]
    assert slow["conclusive"] >= slow["min_conclusive"] and slow["seconds"] < 2 + 1.0
    assert wall < 2 + 10, wall
