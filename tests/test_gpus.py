"""Several-GPU placement (pure logic; runs without a GPU)."""
import pytest
import torch

from lora_claims.gpus import cuda_for_worker, deal, worker_index


def test_worker_index_parses_xdist_names_only():
    assert worker_index({"PYTEST_XDIST_WORKER": "gw0"}) == 0
    assert worker_index({"PYTEST_XDIST_WORKER": "gw13"}) == 13
    assert worker_index({}) is None
    assert worker_index({"PYTEST_XDIST_WORKER": "master"}) is None


def test_workers_spread_over_visible_gpus():
    devs = [cuda_for_worker(w, count=4) for w in range(8)]
    assert [d.index for d in devs] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert cuda_for_worker(None, count=4) == torch.device("cuda")
    assert cuda_for_worker(5, count=1) == torch.device("cuda")
    with pytest.raises(ValueError):
        cuda_for_worker(0, count=0)


def test_deal_is_a_round_robin_partition():
    items = [f"c{i}" for i in range(7)]
    parts = deal(items, 3)
    assert parts == [["c0", "c3", "c6"], ["c1", "c4"], ["c2", "c5"]]
    assert sorted(sum(parts, [])) == sorted(items)
    assert deal(items, 10)[9] == [] and deal([], 2) == [[], []]
    with pytest.raises(ValueError):
        deal(items, 0)


def test_falsify_splits_claims_over_worker_processes_into_one_store(tmp_path):
    import json
    import sqlite3
    import subprocess
    import sys
    db = tmp_path / "r.db"
    cmd = [sys.executable, "-m", "lora_claims.cli", "falsify", "xu2025.a3_gradient_autograd", "xu2025.m2_wrong_gradient",
           "jang2024.nc_a_tightness", "--workers", "2", "--results", str(db), "--json", "--device", "cpu"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out.stdout)
    assert doc["workers"] == 2
    assert [s["id"] for s in doc["claims"]] == ["jang2024.nc_a_tightness", "xu2025.a3_gradient_autograd",
                                               "xu2025.m2_wrong_gradient"]       # registry order
    with sqlite3.connect(db) as con:
        ids = {r[0] for r in con.execute("SELECT DISTINCT claim_id FROM examples")}
        runs = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert ids == {s["id"] for s in doc["claims"]} and runs == 2                  # one run per worker


def test_workers_must_be_positive():
    from lora_claims.cli import main
    assert main(["falsify", "xu2025.a3_gradient_autograd", "--workers", "0"]) == 2
