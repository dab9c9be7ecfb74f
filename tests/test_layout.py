"""The package's shape: one import namespace, no import cycles, no private names across modules, and the
layering strategies -> numerics only, numerics -> nothing of the claims or the engine.

Checked on the source (ast), including imports inside functions: a lazy import that closes a cycle is
still a cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"lora_claims": "lora_claims", "theorems": "lora_claims.theorems",
           "strategies": "lora_claims.strategies", "report": "lora_claims.report"}


def modules() -> dict[str, Path]:
    out = {}
    for folder, pkg in FOLDERS.items():
        for p in sorted((ROOT / folder).rglob("*.py")):
            rel = p.relative_to(ROOT / folder).with_suffix("")
            parts = [] if rel.name == "__init__" and rel.parent == Path(".") else list(rel.parts)
            if parts and parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([pkg, *parts])] = p
    return out


MODULES = modules()


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports(name: str, path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for every import statement of the module."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(name, path)
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names = [a.name for a in node.names]
            out.append((target, names))
            out += [(f"{target}.{n}", []) for n in names if f"{target}.{n}" in MODULES]
    return out


def graph() -> dict[str, set[str]]:
    g = {}
    for name, path in MODULES.items():
        g[name] = {t for t, _ in imports(name, path) if t in MODULES and t != name}
    return g


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    colour, stack = {}, []

    def visit(u):
        colour[u] = 1
        stack.append(u)
        for v in sorted(g.get(u, ())):
            if colour.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if colour.get(v) is None and (c := visit(v)):
                return c
        stack.pop()
        colour[u] = 2
        return None

    for u in sorted(g):
        if colour.get(u) is None and (c := visit(u)):
            return c
    return None


def test_the_cycle_finder_finds_a_planted_cycle():
    planted = {k: set(v) for k, v in graph().items()}
    planted["lora_claims.theorems.claim"].add("lora_claims.theorems.papers")   # the old lazy import
    assert find_cycle(planted) is not None


def test_no_import_cycles():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_private_names_imported_across_modules():
    bad = []
    for name, path in MODULES.items():
        for target, names in imports(name, path):
            if target.startswith("lora_claims") and target != name:
                bad += [f"{name}: from {target} import {n}" for n in names if n.startswith("_") and n != "__version__"]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("layer,allowed", [
    ("lora_claims.strategies", ("lora_claims.strategies", "lora_claims.theorems.numerics")),
    ("lora_claims.theorems.numerics", ("lora_claims.theorems.numerics",)),
])
def test_layering(layer, allowed):
    bad = []
    for name, path in MODULES.items():
        if name == layer or name.startswith(layer + "."):
            for target, _ in imports(name, path):
                if target.startswith("lora_claims") and target in MODULES and not target.startswith(allowed):
                    bad.append(f"{name} imports {target}")
    assert not bad, "\n".join(bad)


def test_one_declaration_idiom_in_the_paper_modules():
    """Claims are declared with theorem / lemma / control only (no hand-built Claim(...) registration)."""
    bad = []
    for name, path in MODULES.items():
        if name.startswith("lora_claims.theorems.") and ".numerics" not in name:
            text = path.read_text()
            for word in ("register(", "register_mutant(", "Claim("):
                if word in text and name != "lora_claims.theorems.claim":
                    bad.append(f"{name} uses {word}")
    assert not bad, "\n".join(bad)


def test_only_lora_claims_is_installed():
    """pyproject maps the card's folders into lora_claims: no other top-level import name."""
    import tomllib
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert all(p == "lora_claims" or p.startswith("lora_claims.") for p in cfg["packages"])
    assert set(cfg["package-dir"].values()) == set(FOLDERS)
    found = {str(Path(p).parent.relative_to(ROOT)).replace("/", ".") for p in ROOT.glob("*/**/__init__.py")
             if Path(p).parts[len(ROOT.parts)] in FOLDERS}
    mapped = {k for k in cfg["packages"]}
    expect = {FOLDERS[f.split(".")[0]] + ("." + f.split(".", 1)[1] if "." in f else "") for f in found}
    assert expect <= mapped, f"packages not installed: {sorted(expect - mapped)}"


def test_package_data_is_read_through_the_package():
    from lora_claims.strategies.data import fixture
    doc = fixture("kim2025_spurious.json")
    assert doc["fixtures"], "the curated Kim fixtures are empty"


def test_a_missing_data_file_is_a_loud_error_not_an_empty_set(monkeypatch, tmp_path):
    from importlib import resources

    from lora_claims.strategies import data
    (tmp_path / "fixtures").mkdir()
    monkeypatch.setattr(resources, "files", lambda pkg: tmp_path)      # a wheel built without its data
    with pytest.raises(data.MissingPackageData, match="kim2025_spurious.json"):
        data.fixture("kim2025_spurious.json")


def test_a_missing_data_file_is_exit_2_on_the_command_line(tmp_path):
    """Simulated broken install: the fixture lookup fails at import of kim2025 -> one line, exit 2."""
    import subprocess
    import sys
    code = ("import importlib.resources as r, pathlib, sys; r.files = lambda pkg: pathlib.Path(sys.argv[1]); "
            "from lora_claims.cli import main; sys.exit(main(['list']))")
    p = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, p.stderr
    assert "without its data file" in p.stderr and "Traceback" not in p.stderr
