"""benchmarks/mutation.py's record of equivalent survivors stays true to the source (no cosmic-ray needed).

A survivor is recorded by (module, enclosing function, source line, mutated line); an entry whose line is
no longer in that function is stale -- it would silently stop matching and the mutant would count as alive
-- so every entry is checked against the module as it is now.
"""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("bench_mutation", ROOT / "benchmarks" / "mutation.py")
MUT = importlib.util.module_from_spec(SPEC)
sys.modules["bench_mutation"] = MUT
SPEC.loader.exec_module(MUT)


def _function_lines(source: str, name: str) -> set[str]:
    return {line.strip() for line, where in zip(source.splitlines(), MUT.enclosing_names(source)) if where == name}


@pytest.mark.parametrize("key", sorted(MUT.SURVIVORS_EQUIVALENT), ids=lambda k: f"{Path(k[0]).stem}:{k[1]}:{k[2][:30]}")
def test_every_equivalent_survivor_is_still_in_its_function(key):
    module, function, before, after = key
    assert module in MUT.MODULES, f"{module} is not a mutated module"
    source = (ROOT / module).read_text()
    assert before in _function_lines(source, function), f"stale: {before!r} is not in {function or 'module level'}"
    assert after != before                      # '' for a deletion (a removed decorator)
    assert MUT.SURVIVORS_EQUIVALENT[key].strip()


def test_enclosing_and_changed_lines():
    src = "X = 1\n\nclass A:\n    def f(self):\n        return 2\n\n\ndef g():\n    def h():\n        pass\n    return 3\n"
    assert [MUT.enclosing_names(src)[i - 1] for i in (1, 3, 5, 8, 10, 11)] == ["", "A", "A.f", "g", "g.h", "g"]
    diff = "--- a\n+++ b\n@@ -1 +1 @@\n-    if x == 0:\n+    if x <= 0:\n"
    assert MUT.changed_lines(diff) == ("if x == 0:", "if x <= 0:")
    assert MUT.changed_lines("") == ("", "")
    assert MUT.changed_lines("-\n-\n-@torch.no_grad()\n") == ("@torch.no_grad()", "")      # blank lines skipped
