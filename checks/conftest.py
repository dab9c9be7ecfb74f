"""pytest options for the registry-generated claim checks: profile, device, seed, results store."""
from __future__ import annotations

import os

import pytest
import torch

from theorems.profiles import ENV_VAR, get_profile
from theorems.runner import example_database, observed_dir
from theorems.search import make_deterministic, resolve_device, versions
from theorems.store import DEFAULT_PATH, Store


def pytest_addoption(parser):
    g = parser.getgroup("lora-claims")
    g.addoption("--claims-profile", default=None, help=f"ci, dev or nightly (default ${ENV_VAR} or ci)")
    g.addoption("--claims-device", default=None, help="auto, cpu or cuda (default: the profile's)")
    g.addoption("--claims-seed", type=int, default=0)
    g.addoption("--claims-results", default=os.environ.get("LORA_CLAIMS_RESULTS", str(DEFAULT_PATH)),
                help="results store every example is recorded into")


@pytest.fixture(scope="session")
def claims_profile(request):
    return get_profile(request.config.getoption("--claims-profile"))


@pytest.fixture(scope="session")
def claims_device(request, claims_profile):
    dev = resolve_device(request.config.getoption("--claims-device") or claims_profile.device)
    if dev.type == "cpu" and claims_profile.get("threads"):
        torch.set_num_threads(int(claims_profile.get("threads")))
    make_deterministic(dev)
    return dev


@pytest.fixture(scope="session")
def claims_seed(request):
    return request.config.getoption("--claims-seed")


@pytest.fixture(scope="session")
def claims_store(request, claims_profile, claims_device, claims_seed):
    """One run per pytest process (each xdist worker records its own run into the shared store),
    with the runner's example database and observability output beside the store."""
    results = request.config.getoption("--claims-results")
    store = Store(results)
    run_id = store.start_run(claims_profile.name, str(claims_device), claims_seed, versions())
    extras = {"database": example_database(results) if claims_profile.database else None,
              "observe_dir": observed_dir(results)}
    yield store, run_id, extras
    store.finish_run(run_id, "complete")
    store.close()
