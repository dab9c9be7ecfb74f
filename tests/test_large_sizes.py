"""Issue 17, bigger instances: the landscape claims that run matrix-free at size draw layers past max_dim
where the profile says (dev: m, n <= 64; nightly: 64 on a CPU, 256 on a GPU), ci's draws are unchanged, and
the drawn values stay inside the declared domain that reproduce checks."""
from __future__ import annotations

import torch

from lora_claims import catalog
from lora_claims.profiles import PROFILES, for_device, get_profile
from lora_claims.reproduce import check_drawn
from lora_claims.strategies.domain import declared_domain, outside
from lora_claims.strategies.ntk import large_inits, ntk_draws

from test_strategy_coverage import many

LARGE = ("jang2024.sec4_no_spurious", "jang2024.c4_value_agreement")


def _draws(cid, profile):
    strategy = catalog.get(cid).strategy(profile)
    return strategy, many(strategy)


def test_ci_draws_no_large_layer_and_matches_the_small_family():
    """ci has no landscape_max_dim: large=True changes nothing there, draw for draw."""
    ci = get_profile("ci")
    assert many(ntk_draws(ci, inits=True, large=True)) == many(ntk_draws(ci, inits=True))
    for cid in LARGE:
        _, drawn = _draws(cid, ci)
        assert max(max(d["m"], d["n"]) for d in drawn) <= ci.get("max_dim")


def test_dev_draws_layers_up_to_64_with_one_instance_and_fewer_starts():
    dev = get_profile("dev")
    for cid in LARGE:
        strategy, drawn = _draws(cid, dev)
        big = [d for d in drawn if max(d["m"], d["n"]) > dev.get("max_dim")]
        assert len(big) >= len(drawn) // 4, cid                                # about half the draws
        assert max(max(d["m"], d["n"]) for d in big) >= 52 and all(max(d["m"], d["n"]) <= 64 for d in big)
        assert all(d["batch"] == 1 and d["inits"] == large_inits(dev) for d in big)
        assert max(d["N"] for d in big) > 6                                   # KN grows with the layer
        small = [d for d in drawn if d not in big]
        assert all(d["batch"] == dev.get("batch") and d["N"] <= 6 for d in small)
        domain = declared_domain(strategy)
        bad = [p for d in drawn for p in outside(domain, d)]
        assert not bad, bad[:3]


def test_nightly_on_a_gpu_reaches_256_and_reproduce_accepts_it():
    nightly = get_profile("nightly")
    assert for_device(nightly, torch.device("cpu")) is nightly
    gpu = for_device(nightly, torch.device("cuda"))
    assert gpu.get("landscape_max_dim") == 256 and nightly.get("landscape_max_dim") == 64
    _, drawn = _draws("jang2024.sec4_no_spurious", gpu)
    top = max(drawn, key=lambda d: max(d["m"], d["n"]))
    assert max(top["m"], top["n"]) > 200
    check_drawn(catalog.get("jang2024.sec4_no_spurious"), top)            # in the domain of some profile
    assert outside(declared_domain(catalog.get("jang2024.sec4_no_spurious").strategy(nightly)), top)


def test_only_profiles_with_a_cuda_section_change_on_a_gpu():
    for p in PROFILES.values():
        on_gpu = for_device(p, torch.device("cuda"))
        assert (on_gpu is p) == (not p.get("cuda")), p.name
