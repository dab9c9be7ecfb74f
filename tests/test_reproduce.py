"""`lora-claims reproduce` and the killable evaluation process (issue 16, cases 5 and 6).

A user's claims file declares a domain (x in [0, 2], k in {1, 2, 3}); reproduce must re-run only values
inside it, say in words whether the recorded status came back (exit 0 / 1), refuse bad input in one line
(exit 2), and hold its time limit even for a call that blocks in native code.  EvalWorker is tested
directly: a kill at the limit, a restart, a child that dies, agreement with in-process evaluation.

Most runs are in-process (test_cli.cli, the registry restored after each test); the native hang and the
campaign that meets one run as subprocesses from a directory outside the source tree.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from test_cli import assert_usage_error, cli

USER_CLAIMS = textwrap.dedent('''
    import os, signal, time
    from hypothesis import strategies as st
    from lora_claims import Evidence, OneOf, Span, at_most, control, declare, theorem

    def draws(profile):
        return declare(st.fixed_dictionaries({"x": st.floats(0, 2), "k": st.sampled_from([1, 2, 3])}),
                       {"x": Span(0, 2), "k": OneOf((1, 2, 3))})

    def product(drawn, ctx):
        if drawn["k"] == 2 and drawn["x"] == 0.25:      # a value the tests use to make the child die
            os._exit(7)
        return Evidence.from_margins({"x k <= 6": at_most(drawn["x"] * drawn["k"], 6.0)})

    def block_in_native_code(drawn, ctx):
        """Blocks in the kernel with SIGALRM masked: the in-process limit cannot interrupt it."""
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        r, w = os.pipe()
        os.read(r, 1)

    def sleep_in_python(drawn, ctx):
        time.sleep(60)

    common = dict(paper="toy", theorem="T1", assumptions="x in [0, 2], k in {1, 2, 3}", provenance="derived",
                  strategy=draws)
    theorem("usr.product", statement="x k <= 6", evaluate=product, **common)
    theorem("usr.native_hang", statement="never returns", evaluate=block_in_native_code, **common)
    theorem("usr.python_sleep", statement="sleeps", evaluate=sleep_in_python, **common)
    control("usr.nc_product", guards=("usr.product", "usr.native_hang", "usr.python_sleep"),
            statement="MUTANT: x k <= 1", strategy=draws,
            evaluate=lambda d, ctx: Evidence.from_margins({"x k <= 1": at_most(d["x"] * d["k"], 1.0)}))
''')


def cli_process(*args, cwd, timeout=300):
    return subprocess.run([sys.executable, "-m", "lora_claims", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture()
def user(tmp_path, monkeypatch):
    """The user's claims file (its own path per test, so each test loads it afresh) and a folder; the
    registry of this process is restored after the test."""
    from lora_claims import catalog
    from lora_claims.theorems.claim import REGISTRY
    catalog.load()
    monkeypatch.setattr(REGISTRY, "claims", dict(REGISTRY.claims))
    f = tmp_path / "user_claims.py"
    f.write_text(USER_CLAIMS)
    (tmp_path / "run").mkdir()
    return f, tmp_path


def _counterexample(tmp, drawn, claim="usr.product", **extra):
    path = tmp / "ce.json"
    path.write_text(json.dumps({"claim": claim, "drawn": drawn, **extra}))
    return path


@pytest.mark.parametrize("drawn, status, rc, words", [
    ({"x": 1.9, "k": 3}, "fail", 0, "reproduced: usr.nc_product (control) fails again"),
    ({"x": 0.5, "k": 1}, "fail", 1, "NOT reproduced: usr.nc_product (control) was recorded fail, the re-run is pass"),
    ({"x": 0.5, "k": 1}, "pass", 0, "reproduced: usr.nc_product (control) passes again"),
])
def test_reproduce_says_in_words_whether_it_reproduced(user, drawn, status, rc, words):
    f, tmp = user
    ce = _counterexample(tmp, drawn, claim="usr.nc_product", status=status, margin=-0.7)
    code, out, err = cli("reproduce", ce, "--claims", f)
    assert code == rc, err
    lines = out.splitlines()
    assert lines[0] == words
    assert lines[1].split()[:4] == ["recorded", status, "margin", "-0.7"]      # recorded and re-run side by side
    again = lines[2].split()
    fails = drawn["x"] * drawn["k"] > 1.0
    assert again[:3] == ["re-run", "fail" if fails else "pass", "margin"] and (float(again[3]) < 0) == fails


@pytest.mark.parametrize("doc, says", [
    ({"claim": "usr.product", "drawn": {"x": 5, "k": 1}}, "x = 5 is outside [0, 2]"),
    ({"claim": "usr.product", "drawn": {"x": -1, "k": 1}}, "x = -1 is outside [0, 2]"),
    ({"claim": "usr.product", "drawn": {"x": 1, "k": 4}}, "k = 4 is not one of {1, 2, 3}"),
    ({"claim": "usr.product", "drawn": {"x": "a", "k": 1}}, "x = 'a' is not a finite number"),
    ({"claim": "usr.product", "drawn": {"x": 1e400 * 0, "k": 1}}, "is not a finite number"),   # NaN
    ({"claim": "usr.product", "drawn": {"k": 1}}, "x is missing"),
    ({"claim": ["usr.product"], "drawn": {"x": 1, "k": 1}}, "claim id must be a string"),
    ({"claim": "usr.nope", "drawn": {"x": 1, "k": 1}}, "unknown claim id"),
    ({"claim": "usr.product", "drawn": [1, 2]}, "is not a lora-claims counterexample"),
    ({"drawn": {"x": 1, "k": 1}}, "is not a lora-claims counterexample"),
])
def test_reproduce_refuses_bad_input_in_one_line(user, doc, says):
    f, tmp = user
    ce = tmp / "ce.json"
    ce.write_text(json.dumps(doc))
    code, out, err = cli("reproduce", ce, "--claims", f)
    assert_usage_error(code, out, err)
    assert says in err, err


@pytest.mark.parametrize("content", [b"\xff\xfe{not utf-8", b"{\"claim\": ", b"[]"])
def test_reproduce_refuses_an_unreadable_file(user, content):
    f, tmp = user
    ce = tmp / "ce.json"
    ce.write_bytes(content)
    assert_usage_error(*cli("reproduce", ce, "--claims", f))


@pytest.mark.parametrize("limit", ["0", "-1", "nan", "inf", "soon"])
def test_reproduce_refuses_a_bad_time_limit(user, limit):
    f, tmp = user
    ce = _counterexample(tmp, {"x": 1.9, "k": 3}, claim="usr.nc_product")
    code, out, err = cli("reproduce", ce, "--claims", f, "--time-limit", limit)
    assert_usage_error(code, out, err)
    assert "--time-limit" in err, err


def test_reproduce_drawn_values_a_claim_cannot_take_are_bad_input(user):
    f, tmp = user
    ce = _counterexample(tmp, {"x": 0.25, "k": 2})       # the claim's evaluation process dies on it
    code, out, err = cli("reproduce", ce, "--claims", f)
    assert_usage_error(code, out, err)
    assert "died (exit 7)" in err, err


def test_a_native_hang_ends_within_the_limit_plus_five_seconds(user):
    """Case 6: the re-run blocks in the kernel with SIGALRM masked; the child is killed at limit + GRACE."""
    f, tmp = user
    ce = _counterexample(tmp, {"x": 1.0, "k": 1}, claim="usr.native_hang")
    t0 = time.monotonic()
    res = cli_process("reproduce", ce, "--claims", f, "--time-limit", "1", "--json", cwd=tmp / "run", timeout=120)
    wall = time.monotonic() - t0
    assert res.returncode == 1, res.stderr                          # recorded fail, re-run inconclusive
    again = json.loads(res.stdout)["rerun"]
    assert again["status"] == "inconclusive" and "killed" in again["reason"], again
    assert again["seconds"] <= 1 + 5, again                          # from the example's start
    assert wall < 60, wall                                           # the whole command, child start included


def test_a_python_level_overrun_stops_at_the_limit_itself(user):
    f, tmp = user
    ce = _counterexample(tmp, {"x": 1.0, "k": 1}, claim="usr.python_sleep")
    code, out, err = cli("reproduce", ce, "--claims", f, "--time-limit", "1", "--json")
    again = json.loads(out)["rerun"]
    assert again["status"] == "inconclusive" and again["reason"].startswith("timeout"), again
    assert "killed" not in again["reason"] and again["seconds"] < 3, again


def test_falsify_with_a_native_hang_records_timeouts_and_goes_on(user):
    """The campaign does not hang: every example of the hanging claim is inconclusive (timeout), the other
    claim is still searched, and the run is complete."""
    f, tmp = user
    store = tmp / "run" / "s.sqlite"
    # a budget that a loaded 2-core CI machine does not starve: each child start (importing torch) took 8 s there
    BUDGET = 90
    t0 = time.monotonic()
    res = cli_process("falsify", "usr.product", "usr.nc_product", "usr.native_hang", "--claims", f,
                      "--profile", "ci", "--isolate", "--time-limit", "0.5", "--budget", BUDGET, "--json",
                      "--results", store, cwd=tmp / "run", timeout=300)
    wall = time.monotonic() - t0
    assert res.returncode == 3, res.stderr                           # an inconclusive theorem: undecided
    by_id = {s["id"]: s for s in json.loads(res.stdout)["claims"]}
    hang = by_id["usr.native_hang"]
    assert hang["verdict"] == "inconclusive" and hang["examples"] >= 1, hang
    assert by_id["usr.product"]["verdict"] == "held" and by_id["usr.nc_product"]["verdict"] == "falsified", by_id
    assert wall < BUDGET + 60, wall                                  # the budget, + start and a last kill


# ---------------------------------------------------------------- EvalWorker directly

@pytest.fixture()
def loaded(user):
    from lora_claims import catalog
    f, _ = user
    catalog.load([str(f)])
    return {c: catalog.get(c) for c in ("usr.product", "usr.nc_product", "usr.native_hang")}


def test_the_worker_is_killed_at_the_limit_and_restarted(loaded):
    from lora_claims.evaluation import evaluate_safely
    from lora_claims.isolate import GRACE, EvalWorker
    from lora_claims.theorems.context import EvalContext
    ctx = EvalContext()
    w = EvalWorker(threads=1)
    try:
        ev, secs = w.evaluate(loaded["usr.nc_product"], {"x": 1.9, "k": 3}, ctx, 10)
        inproc, _ = evaluate_safely(loaded["usr.nc_product"], {"x": 1.9, "k": 3}, ctx, 10)
        assert (ev.status, ev.margin, ev.binding) == (inproc.status, inproc.margin, inproc.binding) == \
               ("fail", inproc.margin, inproc.binding) and ev.margin < 0
        ev, secs = w.evaluate(loaded["usr.native_hang"], {"x": 1.0, "k": 1}, ctx, 0.5)
        assert ev.status == "inconclusive" and "killed" in ev.why and secs < 0.5 + GRACE + 1, (ev.why, secs)
        assert (w.killed, w.proc) == (1, None)
        ev, _ = w.evaluate(loaded["usr.product"], {"x": 0.5, "k": 1}, ctx, 10)      # a fresh child
        assert ev.status == "pass" and w.started == 2
        ev, _ = w.evaluate(loaded["usr.product"], {"x": 0.25, "k": 2}, ctx, 10)     # the child dies
        assert ev.status == "error" and "died (exit 7)" in ev.why, ev.why
        ev, _ = w.evaluate(loaded["usr.product"], {"x": 1.0, "k": 1}, ctx, 10)
        assert ev.status == "pass" and w.started == 3
    finally:
        w.close()
    assert w.proc is None


def test_no_answer_waits_unseen_behind_a_slow_parent(loaded, monkeypatch):
    """A parent slower than the child (a loaded machine): both of the child's messages are in the pipe
    before the parent reads the first; a read-ahead buffer would take the answer with it, select() would
    then wait on an empty pipe and the limit would kill a healthy child."""
    import select as real
    import types

    from lora_claims import isolate
    from lora_claims.theorems.context import EvalContext

    def slow_select(*a):
        time.sleep(0.05)
        return real.select(*a)
    monkeypatch.setattr(isolate, "select", types.SimpleNamespace(select=slow_select))
    w = isolate.EvalWorker(threads=1)
    try:
        quick = [w.evaluate(loaded["usr.product"], {"x": 0.1 * i, "k": 1}, EvalContext(), 0.2)[0].status
                 for i in range(10)]
        assert quick == ["pass"] * 10 and (w.started, w.killed) == (1, 0), quick
    finally:
        w.close()
    assert w.proc is None


def test_reproduce_commands_work_from_another_folder(user):
    """The exported counterexample's command and the report's reproduce commands carry absolute paths, so they
    run from a folder other than the campaign's (a relative --results was given)."""
    f, tmp = user
    res = cli_process("falsify", "usr.product", "usr.nc_product", "--claims", f, "--profile", "ci", "--in-process",
                      "--json", "--results", "s.sqlite", cwd=tmp / "run")
    assert res.returncode == 0, res.stderr
    ce = {s["id"]: s for s in json.loads(res.stdout)["claims"]}["usr.nc_product"]["counterexample"]
    assert Path(ce["file"]).is_absolute() and str(tmp / "run") in ce["command"]
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    cmd = shlex.split(ce["command"])[1:]                 # drop "lora-claims": run it as python -m lora_claims
    again = cli_process(*cmd, cwd=elsewhere)
    assert again.returncode == 0 and "reproduced" in again.stdout, again.stdout + again.stderr
    rep = cli_process("report", "--claims", f, "--results", "s.sqlite", "-o", "r.html", cwd=tmp / "run")
    assert rep.returncode == 0, rep.stderr
    html = (tmp / "run" / "r.html").read_text()
    assert ce["command"] in html                                      # the counterexample's
    assert f"--results {tmp / 'run' / 's.sqlite'}" in html             # the held claim's closest example
