"""Issue 17, bigger instances: the landscape claims that run matrix-free at size draw layers past max_dim
where the profile says (dev: m, n <= 64; nightly: 64 on a CPU, 256 on a GPU), ci's draws are unchanged, and
the drawn values stay inside the declared domain that reproduce checks."""
from __future__ import annotations

import torch

from lora_claims import catalog
from lora_claims.profiles import PROFILES, for_device, get_profile
from lora_claims.reproduce import check_drawn
from lora_claims.strategies.domain import declared_domain, outside
from lora_claims.strategies.kim import kim_draws
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


KIM_LARGE = ("kim2025.k0_identities", "kim2025.k1_special", "kim2025.k2_generic_dichotomy",
             "kim2025.k3_fails_loudly")


def test_kim_ci_draws_are_unchanged_by_large():
    """ci has no landscape_max_dim: Kim's large=True changes nothing there, draw for draw."""
    ci = get_profile("ci")
    for regime in ("special", "generic"):
        assert many(kim_draws(ci, regime=regime, large=True)) == many(kim_draws(ci, regime=regime))
    for cid in KIM_LARGE:
        _, drawn = _draws(cid, ci)
        assert max(max(d["m"], d["n"]) for d in drawn) <= 5


def test_kim_dev_draws_large_gquad_layers_only():
    """dev: about half the G-quad draws of Kim's landscape theorems are layers up to 64 (one instance);
    G-sense and G-logit stay at m, n <= 5 (their data grow as (mn)^2); the draws are in the declared domain."""
    dev = get_profile("dev")
    for cid in KIM_LARGE:
        strategy, drawn = _draws(cid, dev)
        gq = [d for d in drawn if d["family"] == "gquad"]
        big = [d for d in gq if max(d["m"], d["n"]) > 5]
        assert len(big) >= len(gq) // 4, cid
        assert max(max(d["m"], d["n"]) for d in big) >= 52 and all(max(d["m"], d["n"]) <= 64 for d in big)
        assert all(d["batch"] == 1 for d in big)
        assert all(max(d["m"], d["n"]) <= 5 for d in drawn if d["family"] != "gquad")
        domain = declared_domain(strategy)
        bad = [p for d in drawn for p in outside(domain, d)]
        assert not bad, bad[:3]
        # a large G-quad draw is outside ci's domain (reproduce judges it against the profiles that have it)
        assert outside(declared_domain(catalog.get(cid).strategy(get_profile("ci"))), big[0])
        check_drawn(catalog.get(cid), big[0])


REALNET_LARGE = ("realnet.sec4_no_spurious", "realnet.c4_value_agreement")


def test_realnet_ci_draws_are_unchanged_by_large():
    from lora_claims.strategies.realnet import WIDTH_CAP, realnet_draws
    ci = get_profile("ci")
    assert many(realnet_draws(ci, inits=True, large=True)) == many(realnet_draws(ci, inits=True))
    for cid in REALNET_LARGE:
        _, drawn = _draws(cid, ci)
        assert max(d["arch"]["width"] for d in drawn) <= WIDTH_CAP


def test_realnet_dev_draws_networks_past_the_width_cap():
    """dev: about half the draws of realnet's sec4/c4 are networks of width in (16, 64], one data set, fewer
    starts; the draws are in the declared domain and reproduce accepts them."""
    from lora_claims.strategies.realnet import WIDTH_CAP
    dev = get_profile("dev")
    for cid in REALNET_LARGE:
        strategy, drawn = _draws(cid, dev)
        big = [d for d in drawn if d["arch"]["width"] > WIDTH_CAP]
        assert len(big) >= len(drawn) // 4, cid
        assert max(d["arch"]["width"] for d in big) >= 52 and all(d["arch"]["width"] <= 64 for d in big)
        assert all(d["batch"] == 1 and d["inits"] == large_inits(dev) for d in big)
        assert not [p for d in drawn for p in outside(declared_domain(strategy), d)]
        check_drawn(catalog.get(cid), big[0])
