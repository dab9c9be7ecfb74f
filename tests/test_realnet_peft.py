"""peft's real LoRA layers vs the theorems' parameterisation (theorems/numerics/peft_checks.py,
theorems/realnet_peft.py), checked against independent computations; skipped without peft."""
from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from lora_claims.theorems import realnet_peft as RP
from lora_claims.theorems.context import EvalContext
from lora_claims.theorems.numerics import ntk_features as nf
from lora_claims.theorems.numerics import peft_checks as pc

MLP = {"kind": "mlp", "d_in": 6, "width": 7, "K": 2, "seed": 0}
TRF = {"kind": "transformer", "d_in": 3, "width": 6, "K": 2, "ff": 5, "seed": 1}
CTX = EvalContext(torch.device("cpu"), torch.float64)


def test_missing_peft_is_a_clear_skip(monkeypatch):
    from lora_claims.catalog import select
    from lora_claims.theorems.claim import Verdict
    from lora_claims.profiles import get_profile
    from lora_claims.search import falsify_claim
    monkeypatch.setitem(sys.modules, "peft", None)          # makes `import peft` raise ImportError
    assert pc.missing() == pc.SKIP_REASON
    peft_claims = select(["realnet.peft_*", "realnet.nc_peft_*"])
    assert len(peft_claims) >= 5
    for c in peft_claims:                                   # declared, so the runner and pytest skip them
        assert c.requires == ("peft",) and "lora-claims[peft]" in c.missing()
    out = falsify_claim(peft_claims[0], get_profile("ci"))
    assert out.verdict is Verdict.SKIPPED and out.ok and out.examples == 0
    ev = RP._peft_or_skip()                                 # a direct call (e.g. reproduce) is vacuous
    assert ev.status == "vacuous" and "pip install" in ev.why


@pytest.fixture(autouse=True)
def _peft_installed(request):
    """Every test below needs peft (importorskip); the skip-path test above does not."""
    if request.node.name != "test_missing_peft_is_a_clear_skip":
        pytest.importorskip("peft")


@pytest.mark.parametrize("init", ["default", "gaussian"])
def test_default_and_gaussian_inits_zero_B(init):
    _, lay = pc.wrap(nf.pretrained(MLP), "l1", 3, 8, init)
    A, B, s = pc.factors(lay)
    assert s == 8 / 3 and A.shape == (3, 7) and B.shape == (7, 3)
    assert float(B.detach().abs().max()) == 0.0 and float(A.detach().abs().max()) > 0.0
    assert float(lay.get_delta_weight("default").detach().abs().max()) == 0.0


def test_merged_update_by_hand():
    model, lay = pc.wrap(nf.pretrained(TRF), "block.v", 2, 4, "default")
    g = torch.Generator().manual_seed(0)
    A, B = torch.randn(2, 6, generator=g, dtype=torch.float64), torch.randn(6, 2, generator=g, dtype=torch.float64)
    pc.set_factors(lay, A, B)
    W0 = nf.pretrained(TRF).block.v.weight
    by_hand = W0.numpy() + 2.0 * B.numpy() @ A.numpy()                      # s = lora_alpha / r = 2
    np.testing.assert_allclose(pc.merged_weight(model, "block.v").numpy(), by_hand, rtol=1e-13, atol=1e-15)


def test_theorem_factors_round_trip_and_balance():
    g = torch.Generator().manual_seed(1)
    U, _ = torch.linalg.qr(torch.randn(7, 2, generator=g, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(6, 2, generator=g, dtype=torch.float64))
    sig = torch.tensor([2.0, 0.5], dtype=torch.float64)
    AJ, BJ = U * sig.sqrt(), V * sig.sqrt()                                # balanced: AJ^T AJ = BJ^T BJ
    _, lay = pc.wrap(nf.pretrained(MLP), "l0", 2, 16, "default")
    s, u = pc.factors(lay)[2], 0.3
    A, B = pc.from_theorem_factors(AJ, BJ, s, u)
    pc.set_factors(lay, A, B)
    dW = lay.get_delta_weight("default").detach()
    torch.testing.assert_close(dW, u * AJ @ BJ.T, rtol=1e-13, atol=1e-15)
    nuc = float(np.linalg.svd(dW.numpy(), compute_uv=False).sum())
    assert nuc == pytest.approx(u * 2.5, rel=1e-12)
    assert 0.5 * s * float((A ** 2).sum() + (B ** 2).sum()) == pytest.approx(nuc, rel=1e-12)


def test_pissa_residual_against_numpy_svd():
    net = nf.pretrained(MLP)
    _, lay = pc.wrap(net, "l1", 2, 8, "pissa")
    W = net.l1.weight.float().double().numpy()
    s = np.linalg.svd(W, compute_uv=False)
    res = lay.base_layer.weight.detach().double().numpy()
    assert np.linalg.norm(res, 2) == pytest.approx(s[2], rel=1e-5)
    assert np.linalg.svd(lay.get_delta_weight("default").detach().double().numpy(), compute_uv=False)[:2] == \
        pytest.approx(s[:2], rel=1e-5)


def _drawn(init, layer="l1", arch=MLP, r=2):
    return {"arch": arch, "layer": layer, "N": 3, "lam_frac": 0.1, "r": r, "lora_alpha": 8, "init": init, "seed": 5}


@pytest.mark.parametrize("init", ["default", "gaussian", "pissa"])
def test_peft_claims_hold_on_fixed_instances(init):
    d = _drawn(init)
    for ev in (RP.eval_merged_update(d, CTX), RP.eval_noop(d, CTX)):
        assert ev.status == "pass", (ev.binding, ev.measured)
    if init == "pissa":
        ev = RP.eval_pissa(_drawn("pissa", "block.up", TRF), CTX)
        assert ev.status == "pass", (ev.binding, ev.measured)


def test_weight_decay_claim_and_its_mutant():
    d = {"arch": MLP, "layer": "l1", "N": 2, "loss": "sq", "lam_frac": 0.1, "seed": 3, "batch": 1, "inits": 2,
         "lora_alpha": 16}
    ok = RP.eval_weight_decay(d, CTX)
    assert ok.status == "pass", (ok.binding, ok.measured)
    bad = RP.eval_weight_decay(d, CTX, drop_scaling=True)
    # both balance conditions break without the scaling; the equality at t = 1 must be among them
    assert bad.status == "fail" and bad.measured["margin[balanced: s wd = nuclear]"] < 0
