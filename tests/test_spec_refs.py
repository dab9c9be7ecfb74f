"""Claims link to their spec items and papers to arXiv (issue 20): the shipped specs are shared/spec's, every
linked item exists in the report's spec appendix, arXiv ids become links and nothing else is unescaped."""
from __future__ import annotations

from pathlib import Path

import pytest

from lora_claims import catalog
from lora_claims.report import build
from lora_claims.theorems import spec_refs

SHARED = Path(__file__).resolve().parents[2] / "shared" / "spec"


@pytest.mark.skipif(not SHARED.is_dir(), reason="no shared/spec beside the checkout to compare with")
def test_the_shipped_specs_are_shared_specs():
    shipped = spec_refs.spec_files()
    assert shipped == sorted(p.name for p in SHARED.glob("*.md"))
    for name in shipped:
        assert spec_refs.spec_text(name) == (SHARED / name).read_text(encoding="utf-8"), \
            f"theorems/spec/{name} differs from shared/spec/{name}: copy it again"


def _items(claim_id: str) -> list[tuple[str, str]]:
    c = catalog.get(claim_id)
    return [(i["tag"], i["section"]) for i in spec_refs.refs(c.id, c.theorem)["items"]]


def test_claims_link_to_the_items_their_theorem_field_and_id_name():
    assert _items("jang2024.nc_a_tightness")[0][0] == "NC-A"
    assert _items("jang2024.nc_a_tightness")[0][1].startswith("Negative controls")
    assert [t for t, _ in _items("xu2025.b1_alignment_improves")] == ["C2", "B1"]
    assert _items("jang2024.lemma_l0_balance")[0][0] == "Lemma L0"          # the spec item reads 'L0 balance'
    assert ("Sec. 3.4", "Results") in _items("kim2025.k5_bias_bound")
    assert ("K0", "Executable checks") in _items("kim2025.k0_identities")   # from the id
    assert ("P2", "Executable checks (batched on GPU; float32 is fine for SGD, float64 for exact tests)") \
        in _items("dayi2024.p2_exact_loss_mc")                               # a '; ' part of the P0 line
    assert _items("kim2025.m3_norm") == [("M3", "Calibration fixtures (prototype) and negative controls")]
    assert _items("kim2025.m14_coupled_separable_reading") == []             # the suite's own control: no item
    assert spec_refs.refs("mine.t1", "Theorem 1") is None                    # a user's claim: no shipped spec


def test_every_linked_item_has_its_anchor_in_the_spec_appendix():
    rows = [{"spec": spec_refs.refs(c.id, c.theorem)} for c in catalog.load()]
    anchors = {sp["anchor"] for sp in build._specs(rows)} | {
        sec["anchor"] for sp in build._specs(rows) for sec in sp["sections"]}
    linked = [i["anchor"] for r in rows if r["spec"] for i in r["spec"]["items"]]
    assert linked and set(linked) <= anchors
    assert sum(1 for r in rows if r["spec"] and r["spec"]["items"]) >= 90     # most claims name an item


def test_arxiv_ids_are_split_out_for_links():
    assert build.arxiv_parts("Jang <et al.> 2024, arXiv 2402.11867 & arXiv:2503.06982v2 (ICML)") == [
        ("Jang <et al.> 2024, ", "2402.11867"), (" & ", "2503.06982v2"), (" (ICML)", None)]
    assert build.arxiv_parts("no id here") == [("no id here", None)]
    assert build.arxiv_parts("") == [("", None)]


def test_a_paper_reference_is_escaped_around_its_links(tmp_path):
    """The report links the id and escapes the rest (a paper named with '<' and '&')."""
    from hypothesis import strategies as st

    from lora_claims.store import Store
    from lora_claims.theorems.claim import Claim, Evidence
    c = Claim(id="toy.x", paper="Toy <et al.> & co, arXiv 2402.11867", theorem="T1", statement="s", assumptions="a",
              kind="theorem", provenance="derived", strategy=lambda p: st.just({}), evaluate=lambda d, ctx: Evidence(1.0))
    store = Store(tmp_path / "s.sqlite")
    html = build.build_report(store, [c], tmp_path / "r.html").read_text(encoding="utf-8")
    store.close()
    assert 'Toy &lt;et al.&gt; &amp; co, <a href="https://arxiv.org/abs/2402.11867">arXiv 2402.11867</a>' in html
