"""Mutation testing of the modules a verdict is computed from (issue 14, power), with cosmic-ray.

Opt-in (like the slow tests): ``pip install -e '.[mutation]'`` then ``python benchmarks/mutation.py`` in a
checkout you are not editing -- cosmic-ray rewrites each module in place for each mutant and restores it.
For every module below it runs the module's own tests against every mutant and reports killed / survived /
incompetent (the mutant could not run at all, e.g. a float shifted as an int) and the score killed /
(killed + survived).  Survivors are listed with their line, so each can be killed by a test or recorded as
equivalent in SURVIVORS_EQUIVALENT (README's BENCHMARKS table gets the score).

Operators: arithmetic (+ - * /), comparisons, boolean and unary operators, numbers, ``not``, ``and``/``or``,
break/continue and zero-iteration loops.  Bitwise, shift, floor-division, modulo and power replacements of
float arithmetic are excluded: on tensors and floats they raise at once (incompetent, not informative).
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTEST = f"{sys.executable} -m pytest -x -q -p no:cacheprovider"

# module -> the tests that check it (run against every mutant; -x stops at the first kill)
POWER = "checks/ -k 'power_certification or nc_j_first_order or nc_k_spurious'"
MODULES = {
    "theorems/numerics/slack.py": "tests/test_slack.py",
    "theorems/numerics/sosp.py": f"tests/test_minimise_sosp.py tests/test_jang_margins.py {POWER}",
    "theorems/numerics/certificate.py": "tests/test_certificate.py tests/test_minimise_sosp.py tests/test_kim_losses.py",
    "theorems/numerics/landscape.py": f"tests/test_jang_margins.py tests/test_minimise_sosp.py {POWER}",
    "theorems/numerics/fails_loudly.py": "tests/test_fails_loudly.py",
    "theorems/numerics/rank_reduction.py": "tests/test_rank_reduction.py tests/test_jang_margins.py",
    "theorems/numerics/convex_oracle.py": "tests/test_convex_oracle.py",
}

EXCLUDE = [r"core/ReplaceBinaryOperator_.*_(BitOr|BitAnd|BitXor|LShift|RShift|FloorDiv|Mod|Pow)$",
           r"core/ReplaceBinaryOperator_(BitOr|BitAnd|BitXor|LShift|RShift|FloorDiv|Mod|Pow)_.*",
           r"core/ReplaceUnaryOperator_.*_Invert$", r"core/ExceptionReplacer"]

# (module, line, operator) of survivors examined and found equivalent (no input can tell them apart)
SURVIVORS_EQUIVALENT: dict[tuple[str, int, str], str] = {
    ("theorems/numerics/slack.py", 26, "core/ReplaceComparisonOperator_Eq_LtE"):
        "den = |bound| + |value| + scale >= 0 (scale >= 0): den <= 0 iff den == 0",
    ("theorems/numerics/slack.py", 32, "core/ReplaceComparisonOperator_Eq_LtE"): "as line 26, scalar path",
    ("theorems/numerics/slack.py", 29, "core/ReplaceOrWithAnd"):
        "one infinite operand already gives (b - v) / den = ±inf / inf = nan",
}


def config(module: str, tests: str, timeout: float) -> str:
    excl = ", ".join(json.dumps(e) for e in EXCLUDE)
    return (f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = {timeout}\nexcluded-modules = []\n'
            f'test-command = "{PYTEST} {tests}"\n\n[cosmic-ray.distributor]\nname = "local"\n\n'
            f'[cosmic-ray.filters.operators-filter]\nexclude-operators = [{excl}]\n')


def survivors(session: Path) -> tuple[dict, list[dict]]:
    con = sqlite3.connect(session)
    rows = con.execute("SELECT s.operator_name, s.start_pos_row, r.test_outcome, r.worker_outcome "
                       "FROM mutation_specs s JOIN work_results r ON s.job_id = r.job_id").fetchall()
    counts = {"killed": 0, "survived": 0, "incompetent": 0, "abnormal": 0, "filtered": 0}
    left = []
    for op, line, test_outcome, worker in rows:
        worker, test_outcome = str(worker).lower(), str(test_outcome).lower()
        if worker == "skipped":
            counts["filtered"] += 1                  # excluded operator (EXCLUDE)
        elif worker != "normal":
            counts["abnormal"] += 1
        elif test_outcome == "survived":
            counts["survived"] += 1
            left.append({"operator": op, "line": line})
        else:
            counts[test_outcome if test_outcome in counts else "incompetent"] += 1
    skipped = con.execute("SELECT COUNT(*) FROM work_items WHERE job_id NOT IN (SELECT job_id FROM work_results)").fetchone()[0]
    counts["not run"] = skipped
    return counts, left


def run(module: str, tests: str, workdir: Path, timeout: float) -> dict:
    stem = Path(module).stem
    cfg, session = workdir / f"{stem}.toml", workdir / f"{stem}.sqlite"
    cfg.write_text(config(module, tests, timeout))
    session.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run(["cosmic-ray", "init", str(cfg), str(session)], cwd=ROOT, check=True)
    subprocess.run(["cr-filter-operators", str(session), str(cfg)], cwd=ROOT, check=True)
    subprocess.run(["cosmic-ray", "exec", str(cfg), str(session)], cwd=ROOT, check=True)
    counts, left = survivors(session)
    equivalent = [s for s in left if (module, s["line"], s["operator"]) in SURVIVORS_EQUIVALENT]
    live = [s for s in left if s not in equivalent]
    scored = counts["killed"] + counts["survived"] - len(equivalent)
    return {"module": module, "tests": tests, **counts, "equivalent": len(equivalent),
            "score": counts["killed"] / scored if scored else None, "survivors": live,
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", default=",".join(Path(m).stem for m in MODULES),
                    help="comma-separated module stems (default: all)")
    ap.add_argument("--workdir", default="results/mutation")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant's test run")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    want = set(args.modules.split(","))
    workdir = (ROOT / args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for module, tests in MODULES.items():
        if Path(module).stem in want:
            res = run(module, tests, workdir, args.timeout)
            results.append(res)
            score = "-" if res["score"] is None else f"{res['score']:.1%}"
            print(f"{module}: killed {res['killed']}, survived {res['survived']} (equivalent "
                  f"{res['equivalent']}), incompetent {res['incompetent']}, score {score} [{res['seconds']} s]",
                  flush=True)
            for s in res["survivors"]:
                print(f"  survived: line {s['line']}: {s['operator']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
