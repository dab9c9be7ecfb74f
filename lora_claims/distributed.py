"""Campaigns on a Ray cluster (``lora-claims falsify --ray [ADDRESS]``; the ``[ray]`` extra).

One Ray task per (claim, campaign seed): the task searches the claim exactly as a local campaign does (the
profile's seeded Hypothesis runs, in order, then the re-verification of a failure) and records into its own
store shard on its worker, ``<shard root>/<campaign>/<node>/<claim>/a<attempt>/shard.sqlite``, with its
observability JSONL beside it.  It returns that folder's files; the driver merges the shard into the
campaign's store (:meth:`lora_claims.store.Store.merge_shard`: run and example ids renumbered, once per
shard key), re-exports the counterexample beside the store, and appends the JSONL to ``observed/``.

A task whose worker dies (SIGKILL, OOM) is retried by Ray (``max_retries``); the dead attempt's shard stays
on its node and is collected at the end by one sweep task per live node, merged with its run marked
'incomplete', so every recorded example is kept exactly once.  With ``--device cuda`` (or auto on a
cluster with GPUs) every task asks Ray for ``num_gpus=1`` and uses the GPU Ray assigns.

``--budget B`` is a wall for the campaign: the driver keeps as many tasks in flight as the cluster has
slots, and gives each task, when it is dispatched, an equal share of what is left for the claims not yet
dispatched (``left x slots / not yet dispatched``, never past the wall).  A search is not resumable from
one task to another, so the local campaign's first pass (every claim brought to its minimum before any
gets more) becomes: no claim's share can be eaten by another claim's search beyond its own share, and
time a task leaves unused goes to the claims dispatched after it.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

SHARD_ENV = "LORA_CLAIMS_SHARD_DIR"     # where tasks keep their shards on each node (default: the temp folder)
# Ray reports usage statistics to its authors by default; a verification run sends nothing anywhere unless the
# user opts in (RAY_USAGE_STATS_ENABLED=1 in the environment keeps Ray's default)
USAGE_STATS_ENV = "RAY_USAGE_STATS_ENABLED"
MAX_RETRIES = 3                          # Ray retries of a task whose worker died


class ClusterError(RuntimeError):
    """Ray is missing, or the cluster address is malformed or does not answer (bad input)."""


def shard_root() -> str:
    return os.environ.get(SHARD_ENV) or os.path.join(tempfile.gettempdir(), "lora-claims-shards")


def _probe(address: str) -> None:
    """A TCP connection to ``host:port`` (after an optional ``ray://``), so a wrong address fails at once."""
    hostport = address.split("://", 1)[1] if address.startswith("ray://") else address
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterError(f"--ray {address!r} is not a cluster address (HOST:PORT, ray://HOST:PORT or auto)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise ClusterError(f"--ray {address}: no Ray cluster answers there ({exc.strerror or exc})") from None


@contextmanager
def connected(address: str | None):
    """Ray, connected to ``address`` ('auto', HOST:PORT of a head node, ray://HOST:PORT) or, with None, to a
    local instance started here on 127.0.0.1 (and shut down after).  An already connected Ray is reused.
    Ray's usage statistics are off unless the environment turns them on."""
    os.environ.setdefault(USAGE_STATS_ENV, "0")
    try:
        import ray
    except ImportError:
        raise ClusterError("--ray needs Ray: pip install 'lora-claims[ray]'") from None
    if address not in (None, "auto"):
        _probe(address)
    if ray.is_initialized():          # (a test's session) used as it is
        yield ray
        return
    kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=True, logging_level="WARNING")
    try:
        if address is None:
            ray.init(_node_ip_address="127.0.0.1", object_store_memory=256 * 2**20, **kw)
        else:
            ray.init(address=address, **kw)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"--ray {address}: cannot connect ({str(exc).splitlines()[0] if str(exc) else exc})") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def slots(ray, gpu: bool) -> int:
    """How many tasks the cluster runs at once (one CPU, or one GPU, each)."""
    res = ray.cluster_resources()
    return max(1, int(res.get("GPU", 0) if gpu else res.get("CPU", 1)))


# ------------------------------------------------------------------ on the workers

def _attempt_folder(base: Path) -> tuple[Path, int]:
    """A fresh ``a<n>`` folder under ``base``: the n-th attempt of this task on this node."""
    base.mkdir(parents=True, exist_ok=True)
    n = 0
    while True:
        try:
            (base / f"a{n}").mkdir()
            return base / f"a{n}", n
        except FileExistsError:
            n += 1


def _pack(folder: Path, key: str) -> dict:
    """A shard folder's files (the store with its write-ahead log, the JSONL), keyed for the merge."""
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
             if p.is_file() and not p.name.endswith("-shm")}
    return {"key": key, "files": files}


def run_task(job: dict) -> dict:
    """One claim's search on this worker, into its own shard; returns the shard's files and the summary."""
    import ray
    import torch

    from . import catalog
    from .evaluation import make_deterministic
    from .runner import example_database, search_and_record
    from .search import versions
    from .store import Store

    profile, claim_id = job["profile"], job["claim"]
    node = ray.get_runtime_context().get_node_id()
    folder, attempt = _attempt_folder(Path(job["root"]) / job["campaign"] / node / claim_id)
    device = torch.device("cuda" if job["device"] == "cuda" else "cpu")
    if device.type == "cpu" and profile.get("threads"):
        torch.set_num_threads(int(profile.get("threads")))
    make_deterministic(device)
    (claim,) = catalog.select([claim_id], job["specs"])
    store = Store(folder / "shard.sqlite")
    run_id = store.start_run(profile.name, str(device), job["seed"], versions(), argv=job.get("argv"))
    database = None
    if profile.database or job["example_db"]:
        database = example_database(Path(job["root"]) / "store", job["example_db"])
    deadline = None
    if job.get("share") is not None:      # the driver's share, never past the campaign wall (epoch seconds)
        seconds = min(job["share"], job["wall"] - time.time())
        deadline = time.perf_counter() + max(0.0, seconds)
    try:
        search_and_record(claim, profile, device, job["seed"], store, run_id, deadline=deadline,
                                    database=database, observe_dir=folder / "observed")
        store.finish_run(run_id, "complete")
    finally:
        store.close()
    return _pack(folder, f"{job['campaign']}/{node}/{claim_id}/a{attempt}")


def sweep(root: str, campaign: str, merged: list[str]) -> list[dict]:
    """On one node: the shards of this campaign not merged yet (attempts whose worker died), then remove
    the campaign's folder there."""
    top = Path(root) / campaign
    out = []
    if top.is_dir():
        for folder in sorted(top.glob("*/*/a*")):
            key = f"{campaign}/{folder.relative_to(top).as_posix()}"
            if key not in merged and (folder / "shard.sqlite").exists():
                out.append(_pack(folder, key))
        shutil.rmtree(top, ignore_errors=True)
    return out


# ------------------------------------------------------------------ on the driver

def merge(store, pack: dict, observed: Path) -> dict | None:
    """Merge one returned shard into the campaign's ``store``: a counterexample is re-exported beside the
    store (its file and command point there), the observability JSONL is appended to ``observed``.
    Returns the summary as recorded (None for a dead attempt's shard, or one merged before)."""
    with tempfile.TemporaryDirectory(prefix="lora-claims-merge-") as tmp:
        for rel, data in pack["files"].items():
            p = Path(tmp) / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        fixed: list[dict] = []

        def rewrite(summary: dict) -> dict:
            ce = summary.get("counterexample")
            if ce is not None:
                ce = {k: v for k, v in ce.items() if k not in ("file", "command")}
                summary = dict(summary, counterexample=store.export_counterexample(ce))
            fixed.append(summary)
            return summary
        if store.merge_shard(Path(tmp) / "shard.sqlite", pack["key"], rewrite) is None:
            return None
        for p in sorted((Path(tmp) / "observed").glob("*.jsonl")):
            observed.mkdir(parents=True, exist_ok=True)
            with open(observed / p.name, "ab") as fh:
                fh.write(p.read_bytes())
    return fixed[-1] if fixed else None


def campaign(ray, jobs: list[dict], store, observed: Path, *, budget: float | None, gpu: bool,
             done=None) -> tuple[list[dict], list[str]]:
    """Run ``jobs`` (one per claim) as Ray tasks and merge their shards into ``store`` as they come back,
    then sweep every live node for the shards of attempts that died.  Returns the summaries (as merged) and
    one line per claim whose task failed for good."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    task = ray.remote(run_task).options(num_cpus=1, num_gpus=1 if gpu else 0, max_retries=MAX_RETRIES,
                                        retry_exceptions=False)
    wall = None if budget is None else time.time() + budget
    width = slots(ray, gpu)
    waiting = list(jobs)
    inflight: dict = {}
    summaries, failed, merged = [], [], []
    while waiting or inflight:
        while waiting and (budget is None or len(inflight) < width):
            job = waiting.pop(0)
            if wall is not None:
                left = max(0.0, wall - time.time())
                job = dict(job, wall=wall, share=min(left, left * width / (len(waiting) + 1)))
            inflight[task.remote(job)] = job
        ready, _ = ray.wait(list(inflight), num_returns=1)
        job = inflight.pop(ready[0])
        try:
            pack = ray.get(ready[0])
        except Exception as exc:          # retries exhausted, or the task itself raised
            failed.append(f"{job['claim']}: its task failed ({type(exc).__name__}: {str(exc).splitlines()[0]})")
            continue
        merged.append(pack["key"])
        summary = merge(store, pack, observed)
        if summary is not None:
            summaries.append(summary)
            if done is not None:
                done(summary)
    nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
    sweeps = [ray.remote(sweep).options(num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(n, soft=False))
              .remote(jobs[0]["root"], jobs[0]["campaign"], merged) for n in nodes] if jobs else []
    for ref in sweeps:
        try:
            packs = ray.get(ref)
        except Exception as exc:
            failed.append(f"a node's sweep for dead attempts' shards failed ({type(exc).__name__})")
            continue
        for pack in packs:
            merge(store, pack, observed)
    return summaries, failed
