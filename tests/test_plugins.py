"""Users' own theorems: the public API, `--claims MODULE_OR_FILE`, the entry-point group, and what a
counterexample file, the report and `--workers` children do with a claim declared outside the package.

Every CLI run here is a subprocess (a fresh registry), from a directory outside the source tree.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

USER_CLAIMS = textwrap.dedent('''
    from hypothesis import strategies as st
    from lora_claims import Evidence, at_least, control, theorem

    def draws(profile):
        return st.fixed_dictionaries({"a": st.floats(-10, 10), "b": st.floats(-10, 10)})

    def slack(drawn, ctx, shift=0.0):
        a, b = drawn["a"], drawn["b"]
        return Evidence.from_margins({"two squares": at_least(a * a + b * b, 2 * a * b + shift)},
                                     {"device": str(ctx.device), "tight": ctx.tight})

    theorem("usr.two_squares", paper="folklore", theorem="AM-GM", statement="a^2 + b^2 >= 2ab",
            assumptions="a, b in [-10, 10]", provenance="derived", strategy=draws, evaluate=slack)
    control("usr.nc_shifted", guards="usr.two_squares", statement="MUTANT: a^2 + b^2 >= 2ab + 1",
            strategy=draws, evaluate=lambda d, ctx: slack(d, ctx, shift=1.0))
''')


def cli(*args, cwd, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "lora_claims", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture()
def user(tmp_path):
    (tmp_path / "mine").mkdir()
    f = tmp_path / "mine" / "user_claims.py"
    f.write_text(USER_CLAIMS)
    (tmp_path / "run").mkdir()
    (tmp_path / "other").mkdir()
    return f, tmp_path


def test_public_api_names():
    import lora_claims
    for name in ("theorem", "lemma", "control", "Evidence", "EvalContext"):
        assert hasattr(lora_claims, name), name


def test_a_users_file_is_listed_falsified_reproduced_and_reported(user):
    f, tmp = user
    store = tmp / "run" / "results" / "claims.sqlite"
    listed = cli("list", "--json", "--claims", str(f), cwd=tmp / "run")
    assert listed.returncode == 0, listed.stderr
    rows = {r["id"]: r for r in json.loads(listed.stdout)["claims"]}
    assert rows["usr.two_squares"]["source"] == f"file:{f.resolve()}"
    assert rows["usr.nc_shifted"]["guards"] == ["usr.two_squares"]
    assert rows["jang2024.thm3_1"]["source"] == "builtin"

    run = cli("falsify", "usr.*", "--claims", str(f), "--profile", "ci", "--json", "--results", str(store),
              cwd=tmp / "run")
    assert run.returncode == 0, run.stderr
    doc = {c["id"]: c for c in json.loads(run.stdout)["claims"]}
    assert doc["usr.two_squares"]["verdict"] == "held"
    assert doc["usr.nc_shifted"]["verdict"] == "falsified"
    ce = doc["usr.nc_shifted"]["counterexample"]
    saved = json.loads(Path(ce["file"]).read_text())
    assert saved["source"] == f"file:{f.resolve()}"

    # from another directory, without --claims: the file says where the claim came from
    again = cli("reproduce", ce["file"], cwd=tmp / "other")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("reproduced: usr.nc_shifted (control) fails again")

    # the report, without the module loaded, still shows both claims from their recorded metadata
    html = tmp / "other" / "r.html"
    rep = cli("report", "--results", str(store), "-o", str(html), cwd=tmp / "other")
    assert rep.returncode == 0, rep.stderr
    text = html.read_text()
    assert 'data-id="usr.two_squares"' in text and 'data-id="usr.nc_shifted"' in text
    assert "a^2 + b^2 &gt;= 2ab" in text and "not loaded here" in text


BROKEN = {
    "unguarded": ("from hypothesis import strategies as st\nfrom lora_claims import Evidence, theorem\n"
                  "theorem('usr.lonely', paper='p', theorem='t', statement='s', assumptions='a', provenance='derived',"
                  " strategy=lambda p: st.just({}), evaluate=lambda d, ctx: Evidence(1.0))\n", "not guarded"),
    "raises": ("raise RuntimeError('boom at import')\n", "boom at import"),
    "duplicate": ("from hypothesis import strategies as st\nfrom lora_claims import Evidence, control\n"
                  "control('jang2024.thm3_1', guards='jang2024.thm3_1', statement='s', strategy=lambda p: st.just({}),"
                  " evaluate=lambda d, ctx: Evidence(1.0))\n", "duplicate claim id"),
    "bad_guard": ("from hypothesis import strategies as st\nfrom lora_claims import Evidence, control\n"
                  "control('usr.nc', guards='usr.nothing', paper='p', theorem='t', statement='s',"
                  " strategy=lambda p: st.just({}), evaluate=lambda d, ctx: Evidence(1.0))\n", "unknown claim"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_claims_module_is_refused_with_one_line(case, tmp_path):
    text, needle = BROKEN[case]
    f = tmp_path / f"{case}.py"
    f.write_text(text)
    for cmd in (["list"], ["falsify", "usr.*", "--results", str(tmp_path / "s.sqlite")]):
        r = cli(*cmd, "--claims", str(f), cwd=tmp_path)
        assert r.returncode == 2, (case, r.stdout, r.stderr)
        assert needle in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "s.sqlite").exists()


@pytest.mark.parametrize("spec", ["no_such_module_for_lora_claims", "/no/such/file.py", "not a module"])
def test_a_missing_claims_module_is_exit_2(spec, tmp_path):
    r = cli("list", "--claims", spec, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.startswith("lora-claims: error:")


def test_entry_point_group_is_loaded_without_any_option(tmp_path):
    """A distribution on sys.path that declares `lora_claims.claims` is loaded everywhere."""
    site = tmp_path / "site"
    (site / "usrpkg").mkdir(parents=True)
    (site / "usrpkg" / "__init__.py").write_text("")
    (site / "usrpkg" / "claims.py").write_text(USER_CLAIMS)
    dist = site / "usrpkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: usrpkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[lora_claims.claims]\nusr = usrpkg.claims\n")
    env = dict(os.environ, PYTHONPATH=str(site) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = cli("list", "--json", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    rows = {x["id"]: x for x in json.loads(r.stdout)["claims"]}
    assert rows["usr.two_squares"]["source"] == "entry-point:usr:usrpkg.claims"


def test_workers_children_load_the_same_claims_modules(user):
    f, tmp = user
    store = tmp / "run" / "w.sqlite"
    r = cli("falsify", "usr.*", "--claims", str(f), "--profile", "ci", "--workers", "2", "--json",
            "--results", str(store), cwd=tmp / "run")
    assert r.returncode == 0, r.stderr
    doc = {c["id"]: c for c in json.loads(r.stdout)["claims"]}
    assert doc["usr.two_squares"]["verdict"] == "held" and doc["usr.nc_shifted"]["verdict"] == "falsified"


def test_pytest_checks_takes_the_same_option(user):
    f, tmp = user
    checks = Path(__file__).resolve().parent.parent / "checks"
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(checks), "--claims", str(f),
                        "-k", "usr", "--claims-results", str(tmp / "run" / "p.sqlite")],
                       cwd=tmp / "run", capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:]
    assert "2 passed" in r.stdout, r.stdout[-2000:]
