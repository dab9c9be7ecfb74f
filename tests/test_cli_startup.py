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
