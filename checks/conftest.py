"""pytest options for the registry-generated claim checks: profile, device, seed, results store."""
from __future__ import annotations

import os

import pytest
import torch

from lora_claims import catalog
from lora_claims.profiles import ENV_VAR, get_profile, with_model
from lora_claims.runner import example_database, observed_dir
from lora_claims.evaluation import make_deterministic
from lora_claims.search import resolve_device, versions
from lora_claims.store import DEFAULT_PATH, Store
from lora_claims.theorems.context import SolveMemo


def pytest_addoption(parser):
    g = parser.getgroup("lora-claims")
    g.addoption("--claims-profile", default=None, help=f"ci, dev or nightly (default ${ENV_VAR} or ci)")
    g.addoption("--claims-device", default=None, help="auto, cpu or cuda (default: the profile's)")
    g.addoption("--claims-seed", type=int, default=0)
    g.addoption("--claims", action="append", default=[], metavar="MODULE_OR_FILE",
                help="also check the claims declared in MODULE_OR_FILE (repeatable); installed plugins "
                     "(entry-point group lora_claims.claims) are always checked")
    g.addoption("--claims-model", default=None, metavar="PATH",
                help="a local Hugging Face model directory for the realmodel.* claims (default: the [models] extra's)")
    g.addoption("--claims-results", default=os.environ.get("LORA_CLAIMS_RESULTS", str(DEFAULT_PATH)),
                help="results store every example is recorded into")


def pytest_generate_tests(metafunc):
    """One test per registered claim: built-in, installed plugins and --claims modules."""
    if "claim" in metafunc.fixturenames:
        claims = catalog.all_claims(metafunc.config.getoption("--claims"))
        metafunc.parametrize("claim", claims, ids=[c.id for c in claims])


@pytest.fixture(scope="session")
def claims_solves():
    """The session's solve memo (claims drawing the same instances share their solves, as in a campaign)."""
    return SolveMemo()


@pytest.fixture(scope="session")
def claims_profile(request):
    return with_model(get_profile(request.config.getoption("--claims-profile")), request.config.getoption("--claims-model"))


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
def claims_store(request, claims_profile, claims_device, claims_seed, claims_solves):
    """One run per pytest process (each xdist worker records its own run into the shared store),
    with the runner's example database and observability output beside the store."""
    results = request.config.getoption("--claims-results")
    store = Store(results)
    run_id = store.start_run(claims_profile.name, str(claims_device), claims_seed, versions())
    extras = {"database": example_database(results) if claims_profile.database else None,
              "observe_dir": observed_dir(results), "solves": claims_solves}
    yield store, run_id, extras
    store.finish_run(run_id, "complete")
    store.close()
