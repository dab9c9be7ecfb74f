"""Where each claim comes from in its paper's spec (``theorems/spec/``, copies of ``shared/spec/``, shipped in
the package so a report links to them offline).

A built-in claim names its spec items in its ``theorem`` field ('C2 / B1 (...)', 'NC-A (...)', 'Theorem 3.1',
'Lemma L0 (...)', 'Sec. 3.4 (...)') and in its id ('kim2025.k0_identities': K0, 'jang2024.nc_f_...': NC-F);
:func:`refs` finds, for each such tag, the spec item that starts with it
(a bullet or numbered line, bold stripped, or a '; '-separated part of one) and the section it sits in.  A tag that no item starts with is
not linked (the suite's own controls, M1..M14, are not in the specs); a claim with no linked item is linked to
its spec as a whole.
"""
from __future__ import annotations

import functools
import re
from importlib.resources import files

from ..strategies.data import MissingPackageData

# the spec of each built-in paper prefix (the real-network claims check Jang et al.'s statements)
SPEC_OF = {"jang2024": "jang2024_ntk.md", "kim2025": "kim2025_fails_loudly.md", "xu2025": "xu2025_gradient_flow.md",
           "dayi2024": "dayi2024_rank1_teacher.md", "realnet": "jang2024_ntk.md", "realmodel": "jang2024_ntk.md"}

TAG = re.compile(r"\b(NC-[A-Z]|NC\d+|[A-Z]\d+\b'?|Theorem \d+(?:\.\d+)?|Lemma L?\d+|Corollary \d+|"
                 r"Sec(?:tion|\.) \d+(?:\.\d+)?)")
ARXIV = re.compile(r"arXiv[ :]?(\d{4}\.\d{4,5})(v\d+)?")


def slug(text: str) -> str:
    """An HTML id for a spec heading (lower case, runs of other characters as '-')."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def spec_files() -> list[str]:
    return sorted(p.name for p in files("lora_claims.theorems").joinpath("spec").iterdir() if p.name.endswith(".md"))


@functools.lru_cache(maxsize=None)
def spec_text(name: str) -> str:
    """A shipped spec's markdown; a missing one is an error (never an empty spec)."""
    try:
        return files("lora_claims.theorems").joinpath("spec", name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MissingPackageData(f"lora_claims is installed without its data file theorems/spec/{name}; "
                                 "reinstall it (the wheel must ship package data)") from None


@functools.lru_cache(maxsize=None)
def sections(name: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(title, ((heading, body), ...)): a spec split at its '## ' headings; the text before the first one is
    the preamble (heading ''), kept when it holds anything."""
    lines = spec_text(name).splitlines()
    title = lines[0].lstrip("# ").strip() if lines else name
    out, heading, body = [], "", []
    for line in lines[1:] + ["## "]:
        if line.startswith("## "):
            if heading or any(b.strip() for b in body):
                out.append((heading, "\n".join(body).strip()))
            heading, body = line[3:].strip(), []
        else:
            body.append(line)
    return title, tuple(out)


@functools.lru_cache(maxsize=None)
def items(name: str) -> tuple[tuple[str, str], ...]:
    """(section heading, item text with bold stripped) for every bullet or numbered line of a spec."""
    return tuple((heading, m.group(1).replace("**", "")) for heading, body in sections(name)[1]
                 for line in body.splitlines() if (m := re.match(r"^\s*(?:-|\d+\.)\s+(.*)", line)))


def _variants(tag: str) -> list[str]:
    """The spellings of a tag that a spec item may start with ('Lemma L0' -> 'L0'; 'Sec. 3.4' -> 'Section 3.4')."""
    if tag.startswith("Lemma L"):
        return [tag, tag[len("Lemma "):]]
    if tag.startswith("Sec. "):
        return ["Section " + tag[len("Sec. "):]]
    return [tag]


def refs(claim_id: str, theorem: str) -> dict | None:
    """The spec a claim belongs to and the items its ``theorem`` field names:
    ``{"spec": file, "items": [{"tag", "section", "anchor", "text"}]}``, or None for a claim of no shipped spec."""
    name = SPEC_OF.get(claim_id.split(".")[0])
    if "_kim_" in claim_id:                     # realmodel.exp_kim_*: Kim et al.'s experiments on a transformer
        name = SPEC_OF["kim2025"]
    if name is None:
        return None
    found, seen = [], set()
    m = re.match(r"(nc_[a-z]\b|[a-z]\d+)", claim_id.partition(".")[2])
    from_id = [m.group(1).upper().replace("NC_", "NC-")] if m else []
    for tag in TAG.findall(theorem or "") + from_id:
        for section, text in items(name):
            if any(re.search(r"(?:^|; )" + re.escape(v) + r"(?![\w.])", text) for v in _variants(tag)):
                if (section, text) not in seen:
                    seen.add((section, text))
                    found.append({"tag": tag, "section": section, "anchor": f"spec-{slug(name)}-{slug(section or 'preamble')}",
                                  "text": text})
                break
    return {"spec": name, "anchor": f"spec-{slug(name)}", "items": found}


def arxiv_ids(text: str) -> list[str]:
    """The arXiv identifiers a paper reference names ('arXiv 2402.11867')."""
    return [m.group(1) + (m.group(2) or "") for m in ARXIV.finditer(text or "")]
