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
Identity comparisons (``is``/``is not`` replacing ``<`` etc.) and ``-x -> +x`` (the same mutant as deleting
the minus) are excluded as duplicates of mutants that are kept.

Speed: importing torch, scipy and hypothesis costs ~4 s, more than most killed mutants' tests.  A fork
server (``--serve``) imports those third-party libraries once and forks a fresh child per mutant, which
imports the project (the mutated file on disk) and runs pytest; nothing of the project is ever imported
in the server, so every mutant is tested by a clean process.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent          # cosmic-ray's scripts live beside the interpreter
PYTEST = f"{sys.executable} -m pytest -x -q -p no:cacheprovider"

# module -> the tests that check it (run against every mutant; -x stops at the first kill)
POWER = " ".join(f"checks/test_claims.py::test_claim[jang2024.{c}]" for c in
                 ("power_certification", "nc_j_first_order_certification", "nc_k_spurious_among_end_points"))
MODULES = {
    "theorems/numerics/slack.py": "tests/test_slack.py",
    "theorems/numerics/sosp.py": f"tests/test_sosp.py tests/test_jang_margins.py tests/test_minimise_sosp.py {POWER}",
    "theorems/numerics/certificate.py": "tests/test_certificate.py tests/test_minimise_sosp.py tests/test_kim_losses.py",
    "theorems/numerics/landscape.py": f"tests/test_landscape.py tests/test_jang_margins.py tests/test_tight_reverify.py tests/test_minimise_sosp.py {POWER}",
    "theorems/numerics/fails_loudly.py": "tests/test_fails_loudly_quantities.py tests/test_fails_loudly.py tests/test_kim_losses.py",
    "theorems/numerics/rank_reduction.py": "tests/test_rank_reduction_quantities.py tests/test_rank_reduction.py tests/test_jang_margins.py",
    "theorems/numerics/convex_oracle.py": ("tests/test_convex_oracle.py tests/test_kim_losses.py tests/test_fails_loudly.py "
                                           "tests/test_minimise_sosp.py"),
}

EXCLUDE = [r"core/ReplaceBinaryOperator_.*_(BitOr|BitAnd|BitXor|LShift|RShift|FloorDiv|Mod|Pow)$",
           r"core/ReplaceBinaryOperator_(BitOr|BitAnd|BitXor|LShift|RShift|FloorDiv|Mod|Pow)_.*",
           r"core/ReplaceUnaryOperator_.*_Invert$", r"core/ExceptionReplacer",
           r"core/ReplaceComparisonOperator_.*_(Is|IsNot)$", r"core/ReplaceUnaryOperator_USub_UAdd$"]

# (module, line, operator, occurrence) of survivors examined and found equivalent: no input can tell them
# apart, or -- reasons starting "contract:" -- they differ only in what the module promises nothing about (an
# iteration budget, which of several valid directions a step takes, an exact tie at a tolerance).
# cosmic-ray's occurrence numbers the mutation sites of one operator in the module.
SURVIVORS_EQUIVALENT: dict[tuple[str, int, str, int], str] = {
    ("theorems/numerics/slack.py", 26, "core/ReplaceComparisonOperator_Eq_LtE", 0):
        "den = |bound| + |value| + scale >= 0 (scale >= 0): den <= 0 iff den == 0",
    ("theorems/numerics/slack.py", 32, "core/ReplaceComparisonOperator_Eq_LtE", 1): "as line 26, scalar path",
    ("theorems/numerics/slack.py", 29, "core/ReplaceOrWithAnd", 1):
        "one infinite operand already gives (b - v) / den = +-inf / inf = nan",
    ("theorems/numerics/sosp.py", 18, "core/NumberReplacer", 4):
        "DENSE_LIMIT 600 -> 601: dense eigvalsh and Lanczos give the same extremes (tests agree to 1e-9); the "
        "limit only trades speed, and no test instance has dimension 600 or 601",
    ("theorems/numerics/sosp.py", 18, "core/NumberReplacer", 5): "DENSE_LIMIT 600 -> 599: as above",
    ("theorems/numerics/sosp.py", 67, "core/NumberReplacer", 23):
        "eigsh tol 1e-10 -> -0.9999999999: ARPACK replaces tol <= 0 by machine epsilon (dsaupd), at least "
        "as accurate; tol -> 1 + 1e-10 is killed by test_lanczos_resolves_a_clustered_spectrum",
    ("theorems/numerics/sosp.py", 68, "core/NumberReplacer", 29): "as line 67 (the largest eigenvalue)",
    ("theorems/numerics/sosp.py", 67, "core/NumberReplacer", 25): "eigsh(k=1)[0] -> [-1]: a one-element array",
    ("theorems/numerics/sosp.py", 68, "core/NumberReplacer", 31): "as line 67",
    ("theorems/numerics/landscape.py", 47, "core/NumberReplacer", 5):
        "numerical_rank's clamp_min(1e-300) -> clamp_min(-1.0): sigma_1 >= 0, and at sigma_1 = 0 both thresholds "
        "count nothing (0 > 0 is false)",
    ("theorems/numerics/landscape.py", 50, "core/NumberReplacer", 8): "contract: probe's gd_steps 600 -> 601: an iteration budget, not a decision (end points are certified by the SOSP test, whatever the budget)",
    ("theorems/numerics/landscape.py", 50, "core/NumberReplacer", 9): "contract: gd_steps 600 -> 599: as occurrence 8",
    ("theorems/numerics/landscape.py", 50, "core/NumberReplacer", 10): "contract: newton_iters 200 -> 201: as occurrence 8",
    ("theorems/numerics/landscape.py", 50, "core/NumberReplacer", 11): "contract: newton_iters 200 -> 199: as occurrence 8",
    ("theorems/numerics/rank_reduction.py", 66, "core/NumberReplacer", 20):
        "rank_gap of an empty Y: zeros(0) -> zeros(1) gives s = [0.], so top = 0 and s[r] = 0 for every rank r >= 0, the same (0.0, 0.0)",
    ("theorems/numerics/rank_reduction.py", 81, "core/ReplaceComparisonOperator_Eq_GtE", 0):
        "svec weights: triu_indices gives only pairs j <= l, so j >= l iff j == l",
    ("theorems/numerics/rank_reduction.py", 119, "core/NumberReplacer", 53):
        "Y.shape[1] == 0 -> == -1: without the early return zero columns give an empty product whose nuclear norm is also 0.0",
    ("theorems/numerics/rank_reduction.py", 128, "core/NumberReplacer", 57):
        "full_column_rank's Y.shape[1] == 0 -> Y.shape[0] == 0: zero columns fall through to an empty SVD and the "
        "same empty result; zero rows would mean m + n = 0",
    ("theorems/numerics/rank_reduction.py", 131, "core/NumberReplacer", 65):
        "sig[0] == 0.0 -> == -1.0: as occurrence 4 of Eq_Lt (the all-zero case falls through to the same result)",
    ("theorems/numerics/rank_reduction.py", 131, "core/ReplaceComparisonOperator_Eq_LtE", 4):
        "sig[0] <= 0.0: as occurrence 4 of Eq_Lt",
    ("theorems/numerics/rank_reduction.py", 131, "core/ReplaceComparisonOperator_Eq_LtE", 3):
        "sig.numel() <= 0 iff == 0 (a count)",
    ("theorems/numerics/rank_reduction.py", 131, "core/ReplaceComparisonOperator_Eq_Lt", 4):
        "sig[0] < 0 never holds (singular values >= 0); the all-zero case it skips falls through to keep = sig > 0 = none, the same empty result",
    ("theorems/numerics/rank_reduction.py", 186, "core/NumberReplacer", 99):
        "smax's empty fallback 0.0 -> -1.0: only used as 'smax > 0', false for both",
    ("theorems/numerics/rank_reduction.py", 187, "core/NumberReplacer", 101):
        "smax > 0 -> smax > -1: at smax = 0 every singular value is 0, so the count (sig > 0).sum() is the else value 0",
    ("theorems/numerics/rank_reduction.py", 187, "core/ReplaceComparisonOperator_Gt_GtE", 3):
        "smax > 0 -> >= 0: as occurrence 101",
    ("theorems/numerics/rank_reduction.py", 188, "core/ReplaceComparisonOperator_LtE_Eq", 3):
        "d <= crank iff d == crank: crank counts at most min(KN, d) singular values",
    ("theorems/numerics/rank_reduction.py", 198, "core/ReplaceComparisonOperator_Gt_GtE", 5):
        "contract: x @ w > 0 -> >= 0 differs only at x @ w = +-0, choosing -x for x: both are null directions with <Y^T Y, Delta> = 0 and a negative eigenvalue, so outputs, the nuclear norm and the rank after the step are the same (the docstring allows any null vector); only the final Y's sign pattern differs, which the reduction promises nothing about",
    ("theorems/numerics/rank_reduction.py", 88, "core/NumberReplacer", 36):
        "svec's s = X.shape[-1] -> X.shape[-2]: svec is applied to square s x s matrices only",
    ("theorems/numerics/rank_reduction.py", 119, "core/NumberReplacer", 51):
        "_nuclear's Y.shape[1] == 0 -> Y.shape[0] == 0: zero columns give an m x n zero product whose nuclear norm is 0.0 as well; zero rows would mean m + n = 0",
    ("theorems/numerics/rank_reduction.py", 186, "core/NumberReplacer", 98):
        "smax's empty fallback 0.0 -> 1.0: an empty sig counts nothing either way ((sig > tol).sum() of no entries is 0)",
    ("theorems/numerics/rank_reduction.py", 194, "core/ReplaceBinaryOperator_Mul_Div", 10):
        "contract: the branch switch 1e-8 ||w|| -> 1e-8 / ||w||: both branches take a null direction x with <x, svec(Y^T Y)> <= 0; for a one-dimensional null space they give the same x, otherwise they differ only in which such direction is taken, which the reduction's guarantees (outputs kept, nuclear norm not increased, rank <= r_max) do not fix",
    ("theorems/numerics/rank_reduction.py", 197, "core/NumberReplacer", 107):
        "contract: null[-1] -> null[0] in the fallback: another unit null vector, oriented the same way; as line 194",
    ("theorems/numerics/rank_reduction.py", 208, "core/NumberReplacer", 119):
        "scale.clamp_min(0.0) -> clamp_min(-1.0): 1 + t evals >= 0 up to rounding with equality at the dropped column 0; any other column rounded below 0 fails keep = scale > tol max and is dropped too",
    ("theorems/numerics/rank_reduction.py", 209, "core/ReplaceComparisonOperator_Gt_GtE", 6):
        "contract: keep = scale > tol max -> >=: differs only at an exact tie, where the column's share of Y Y^T is exactly the tolerance either way",
    ("theorems/numerics/fails_loudly.py", 61, "core/NumberReplacer", 15):
        "sigma_1 >= 0: clamp_min(1e-300) -> clamp_min(-1.0) differs only at sigma_1 = 0, where 0 > 1e-306 and "
        "0 > 0 are both false",
    ("theorems/numerics/fails_loudly.py", 73, "core/NumberReplacer", 69):
        "(rstar - 1).clamp_min(0) -> clamp_min(-1) differs only at rstar = 0, which the one caller excludes "
        "(kim2025.valid_instances keeps rstar >= 1)",
    ("theorems/numerics/fails_loudly.py", 74, "core/NumberReplacer", 74):
        "zeros_like(sv[:, 0]) -> zeros_like(sv[:, 1]): the same (S,) zeros (zeros_like reads shape and dtype)",
    ("theorems/numerics/fails_loudly.py", 99, "core/ReplaceComparisonOperator_Eq_LtE", 0):
        "sense == '<=' -> sense <= '<=': the two senses are '<=' and '>=', and '>=' <= '<=' is false ('>' > '<')",
    ("theorems/numerics/fails_loudly.py", 146, "core/NumberReplacer", 157):
        "den.clamp_min(1e-300) -> clamp_min(-1.0) inside torch.where(den > 0, ...): den = fl(1 - q) > 0 is "
        ">= 2^-53 (Sterbenz), so neither clamp binds where the branch is kept",
    ("theorems/numerics/fails_loudly.py", 74, "core/NumberReplacer", 75): "zeros_like(sv[:, -1]): as occurrence 74",
    ("theorems/numerics/fails_loudly.py", 78, "core/ReplaceFalseWithTrue", 1):
        "svd(S, full_matrices=True): only the top singular pair (column 0) is used, the same either way up to "
        "a common sign, which D's quadratic form does not see",
}


PRELOAD = ("torch", "numpy", "scipy", "scipy.linalg", "scipy.optimize", "scipy.stats", "hypothesis", "pytest",
           "cma", "cvxpy")


def serve(sock_path: str, timeout: float) -> None:
    """Fork server: preload third-party libraries, then run one pytest child per request (sequentially)."""
    import importlib
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import pytest
    Path(sock_path).unlink(missing_ok=True)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    while True:
        conn, _ = srv.accept()
        with conn:
            req = json.loads(conn.makefile().readline())
            pid = os.fork()
            if pid == 0:
                os.chdir(req["cwd"])
                sys.dont_write_bytecode = True       # a stale .pyc of an earlier mutant can never be read
                sys.path.insert(0, req["cwd"])
                fd = os.open(os.devnull, os.O_WRONLY)
                os.dup2(fd, 1), os.dup2(fd, 2)
                os._exit(int(pytest.main(req["args"])))
            deadline = time.monotonic() + timeout
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    rc = os.waitstatus_to_exitcode(status)
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    rc = 124
                    break
                time.sleep(0.02)
            try:
                conn.sendall(f"{rc}\n".encode())
            except OSError:                          # the client was killed (cosmic-ray's timeout): carry on
                pass


def client(sock_path: str, args: list[str]) -> int:
    """Run pytest ``args`` in the fork server's child; exit with its exit code.  Without a server (it
    died, or never started) pytest runs here instead: slower, never a false kill."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.connect(sock_path)
            c.sendall((json.dumps({"cwd": os.getcwd(), "args": args}) + "\n").encode())
            reply = c.makefile().readline().strip()
        if reply:
            return int(reply)
    except OSError:
        pass
    print("mutation.py: no fork server answered; running pytest in this process", file=sys.stderr)
    return subprocess.call([sys.executable, "-m", "pytest", *args])


def config(module: str, tests: str, timeout: float, sock: str | None = None) -> str:
    excl = ", ".join(json.dumps(e) for e in EXCLUDE)
    cmd = (f"{sys.executable} {ROOT / 'benchmarks' / 'mutation.py'} --client {sock} -x -q -p no:cacheprovider {tests}"
           if sock else f"{PYTEST} {tests}")
    return (f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = {timeout}\nexcluded-modules = []\n'
            f'test-command = {json.dumps(cmd)}\n\n[cosmic-ray.distributor]\nname = "local"\n\n'
            f'[cosmic-ray.filters.operators-filter]\nexclude-operators = [{excl}]\n')


def survivors(session: Path) -> tuple[dict, list[dict]]:
    con = sqlite3.connect(session)
    rows = con.execute("SELECT s.operator_name, s.start_pos_row, s.occurrence, r.test_outcome, r.worker_outcome "
                       "FROM mutation_specs s JOIN work_results r ON s.job_id = r.job_id").fetchall()
    counts = {"killed": 0, "survived": 0, "incompetent": 0, "abnormal": 0, "filtered": 0}
    left = []
    for op, line, occurrence, test_outcome, worker in rows:
        worker, test_outcome = str(worker).lower(), str(test_outcome).lower()
        if worker == "skipped":
            counts["filtered"] += 1                  # excluded operator (EXCLUDE)
        elif worker != "normal":
            counts["abnormal"] += 1
        elif test_outcome == "survived":
            counts["survived"] += 1
            left.append({"operator": op, "line": line, "occurrence": occurrence})
        else:
            counts[test_outcome if test_outcome in counts else "incompetent"] += 1
    skipped = con.execute("SELECT COUNT(*) FROM work_items WHERE job_id NOT IN (SELECT job_id FROM work_results)").fetchone()[0]
    counts["not run"] = skipped
    return counts, left


def sample(session: Path, every: int) -> int:
    """Keep every ``every``-th mutant still to run (by job order, deterministic); the others are marked
    skipped with the output 'not sampled'.  Returns how many were left out."""
    con = sqlite3.connect(session)
    todo = [j for (j,) in con.execute("SELECT job_id FROM work_items WHERE job_id NOT IN "
                                     "(SELECT job_id FROM work_results) ORDER BY rowid")]
    out = [j for i, j in enumerate(todo) if i % every]
    con.executemany("INSERT INTO work_results (job_id, worker_outcome, output, test_outcome, diff) "
                    "VALUES (?, 'SKIPPED', 'not sampled', NULL, NULL)", [(j,) for j in out])
    con.commit()
    return len(out)


def run(module: str, tests: str, workdir: Path, timeout: float, sock: str | None = None, every: int = 1) -> dict:
    stem = Path(module).stem
    cfg, session = workdir / f"{stem}.toml", workdir / f"{stem}.sqlite"
    cfg.write_text(config(module, tests, timeout, sock))
    session.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "cosmic-ray"), "init", str(cfg), str(session)], cwd=ROOT, check=True)
    subprocess.run([str(BIN / "cr-filter-operators"), str(session), str(cfg)], cwd=ROOT, check=True)
    unsampled = sample(session, every) if every > 1 else 0
    subprocess.run([str(BIN / "cosmic-ray"), "exec", str(cfg), str(session)], cwd=ROOT, check=True)
    counts, left = survivors(session)
    equivalent = [s for s in left if (module, s["line"], s["operator"], s["occurrence"]) in SURVIVORS_EQUIVALENT]
    live = [s for s in left if s not in equivalent]
    scored = counts["killed"] + counts["survived"] - len(equivalent)
    counts["filtered"] -= unsampled
    return {"module": module, "tests": tests, **counts, "unsampled": unsampled, "equivalent": len(equivalent),
            "score": counts["killed"] / scored if scored else None, "survivors": live,
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", default=",".join(Path(m).stem for m in MODULES),
                    help="comma-separated module stems (default: all)")
    ap.add_argument("--workdir", default="results/mutation")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant's test run")
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-fork-server", action="store_true", help="start a fresh interpreter per mutant")
    ap.add_argument("--sample", type=int, default=1, metavar="K",
                    help="run every K-th mutant only (deterministic); the score is then an estimate")
    ap.add_argument("--serve", metavar="SOCKET", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.timeout)
        return 0
    want = set(args.modules.split(","))
    workdir = (ROOT / args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    sock, server = None, None
    if not args.no_fork_server:
        sock = str(workdir / "fork-server.sock")
        Path(sock).unlink(missing_ok=True)
        server = subprocess.Popen([sys.executable, __file__, "--serve", sock, "--timeout", str(args.timeout)], cwd=ROOT)
        while not Path(sock).exists():
            if server.poll() is not None:
                raise SystemExit(f"the fork server exited ({server.returncode}); --no-fork-server runs without it")
            time.sleep(0.1)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))      # so the finally below stops the server
    try:
        results = run_all(args, want, workdir, sock)
    finally:
        if server is not None:
            server.kill()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


def run_all(args, want: set, workdir: Path, sock: str | None) -> list[dict]:
    results = []
    for module, tests in MODULES.items():
        if Path(module).stem in want:
            res = run(module, tests, workdir, args.timeout, sock, args.sample)
            results.append(res)
            score = "-" if res["score"] is None else f"{res['score']:.1%}"
            sampled = f", 1 in {args.sample} sampled ({res['unsampled']} left out)" if args.sample > 1 else ""
            print(f"{module}: killed {res['killed']}, survived {res['survived']} (equivalent "
                  f"{res['equivalent']}), incompetent {res['incompetent']}, abnormal {res['abnormal']}, score {score}"
                  f"{sampled} [{res['seconds']} s]", flush=True)
            for s in res["survivors"]:
                print(f"  survived: line {s['line']}: {s['operator']} (occurrence {s['occurrence']})")
    return results


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--client":
        raise SystemExit(client(sys.argv[2], sys.argv[3:]))
    raise SystemExit(main())
