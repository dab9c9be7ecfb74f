"""`lora-claims --help` answers without importing torch, Hypothesis or the claims (issue 20): the parser
needs only the profiles and the store's default path; each command imports what it uses."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

PROBE = """
import sys
from lora_claims import cli
try:
    cli.main({argv!r})
except SystemExit:
    pass
print("HEAVY", sorted(m for m in ("torch", "hypothesis", "numpy", "scipy", "lora_claims.theorems.jang2024")
                      if m in sys.modules))
"""


@pytest.mark.parametrize("argv", [["--help"], ["falsify", "--help"], ["list", "--help"], ["report", "--help"],
                                  ["reproduce", "--help"], ["frobnicate"]])
def test_help_and_usage_errors_import_no_numerics(argv):
    out = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY []", out.stdout + out.stderr


def test_help_is_fast():
    """Within 1 s on an idle machine; 3 s here allows for a loaded CI runner (a torch import takes 3-20 s)."""
    subprocess.run([sys.executable, "-m", "lora_claims", "--help"], capture_output=True, timeout=120)   # warm caches
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "lora_claims", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "falsify" in out.stdout
    assert time.perf_counter() - t0 < 3.0


def test_the_public_api_still_imports_by_name():
    out = subprocess.run([sys.executable, "-c", "from lora_claims import theorem, control, Evidence, at_most, Span, "
                          "EvalContext; import lora_claims; print(len(lora_claims.__all__))"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and int(out.stdout) >= 20, out.stderr
    bad = subprocess.run([sys.executable, "-c", "import lora_claims; lora_claims.nonexistent"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode != 0 and "has no attribute 'nonexistent'" in bad.stderr


NO_PLUGINS = """
import sys
from lora_claims import claim_index
claim_index.entry_points = lambda group: []          # as on an install with no plugin
from lora_claims import cli
code = cli.main({argv!r})
print("HEAVY", sorted(m for m in ("torch", "hypothesis", "lora_claims.theorems.jang2024") if m in sys.modules))
print("EXIT", code)
"""


@pytest.mark.parametrize("argv", [["list"], ["list", "--paper", "kim2025", "--kind", "control"], ["list", "--json"]])
def test_list_of_the_builtins_reads_the_shipped_index_without_torch(argv):
    out = subprocess.run([sys.executable, "-c", NO_PLUGINS.format(argv=argv)], capture_output=True, text=True,
                         timeout=120)
    lines = out.stdout.strip().splitlines()
    assert lines[-2:] == ["HEAVY []", "EXIT 0"], out.stdout[-2000:] + out.stderr
    if argv == ["list"]:
        assert "claims: dayi2024" in out.stdout and "kim2025.k1_special" in out.stdout


STALE = """
import json
from lora_claims import claim_index, reindex
print("FRESH", claim_index.read() == json.loads(json.dumps(reindex.build())))
"""


def test_the_shipped_index_is_the_registry():
    """A claim added, removed or edited without `python -m lora_claims.reindex` fails here.  In a fresh process:
    this one's registry holds what other tests declared or replaced."""
    out = subprocess.run([sys.executable, "-c", STALE], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip().splitlines()[-1:] == ["FRESH True"], \
        "lora_claims/claim_index.json is stale: run `python -m lora_claims.reindex`\n" + out.stdout[-500:] + out.stderr[-2000:]


def test_list_with_a_claims_file_loads_the_registry(tmp_path):
    """With anything beyond the built-ins (here a --claims file), list shows it: the index is not used."""
    f = tmp_path / "mine.py"
    f.write_text("from lora_claims import theorem, control, Evidence, at_most\n"
                 "from hypothesis import strategies as st\n"
                 "theorem('mine.t', paper='me', theorem='T1', statement='s', assumptions='a', provenance='derived',\n"
                 "        strategy=lambda p: st.fixed_dictionaries({'x': st.floats(0, 1)}),\n"
                 "        evaluate=lambda d, ctx: Evidence.from_margins({'x <= 1': at_most(d['x'], 1.0)}))\n"
                 "control('mine.c', guards='mine.t', paper='me', theorem='T1', statement='MUTANT', assumptions='a',\n"
                 "        provenance='derived', strategy=lambda p: st.fixed_dictionaries({'x': st.floats(0, 1)}),\n"
                 "        evaluate=lambda d, ctx: Evidence.from_margins({'x <= -1': at_most(d['x'], -1.0)}))\n")
    out = subprocess.run([sys.executable, "-c", NO_PLUGINS.format(argv=["list", "--claims", str(f), "--paper", "mine"])],
                         capture_output=True, text=True, timeout=300)
    assert "mine.t" in out.stdout and "mine.c" in out.stdout and out.stdout.strip().endswith("EXIT 0"), \
        out.stdout[-2000:] + out.stderr
