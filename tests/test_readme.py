"""README stays true: every registered claim is in its table; .ci/run calls its test command verbatim."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from lora_claims.catalog import all_claims
from lora_claims.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_every_claim_in_readme_table():
    text = (ROOT / "README.md").read_text()
    missing = [c.id for c in all_claims() if f"`{c.id}`" not in text]
    assert not missing, f"README.md claim table lacks {missing}"


def test_readme_table_kind_and_provenance_match_the_registry():
    """A provenance corrected in the registry (or the README) cannot leave the other behind."""
    rows = {m.group(1): (m.group(2), m.group(3)) for m in
            re.finditer(r"^\| `([\w.]+)` \|.*\| (\w+) \| ([\w~-]+) \|$", (ROOT / "README.md").read_text(), flags=re.M)}
    wrong = {c.id: (rows[c.id], (c.kind, c.provenance)) for c in all_claims()
             if c.id in rows and rows[c.id] != (c.kind, c.provenance)}
    assert len(rows) >= 100 and not wrong, f"README (kind, provenance) vs registry: {wrong}"


def test_ci_runs_readme_test_command():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```\n(.*?)\n```", text, flags=re.S)
    test_cmd = next(b.strip() for b in blocks if "pytest" in b and "pip install" in b)
    assert test_cmd in (ROOT / ".ci" / "run").read_text()
    main_cmd = next(b.strip() for b in blocks if "lora-claims falsify" in b and "pip install" in b)
    assert "lora-claims report" in main_cmd


@pytest.mark.parametrize("command", ["list", "falsify", "report", "reproduce"])
def test_readme_synopsis_names_every_option(command):
    """README's command-line block follows --help: an option added to the parser cannot go undocumented."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main([command, "--help"])
    options = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", out.getvalue())) - {"--help"}
    text = (ROOT / "README.md").read_text()
    synopsis = re.search(r"## The command line\n\n```\n(.*?)```", text, flags=re.S).group(1)
    block = re.search(rf"^lora-claims {command}\b.*?(?=^lora-claims |\Z)", synopsis, flags=re.S | re.M).group(0)
    missing = sorted(o for o in options if o not in block)
    assert options and not missing, f"README's synopsis of `lora-claims {command}` lacks {missing}"
