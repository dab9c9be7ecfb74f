"""The ``lora-claims`` command line (DESIGN.md, "CLI contract").

exit 0: every theorem/lemma held and every control falsified (skipped claims aside)
exit 1: a theorem/lemma falsified, or a control searched to its minimum and not falsified
exit 2: bad usage or bad input (unknown claim, bad profile, unreadable store, bad file)
exit 3: nothing falsified, but some claim inconclusive, under-searched or in error
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

# only what the parser needs is imported here; torch, Hypothesis and the claims are imported by the command
# that uses them, so `lora-claims --help` answers at once (tests/test_cli_startup.py)
from .jsonable import jsonable
from .profiles import PROFILES, UnknownProfile, get_profile, with_limits, with_model
from .store import DEFAULT_PATH, Store, StoreError

if TYPE_CHECKING:
    import torch

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNDECIDED = 0, 1, 2, 3
MAX_SEED = 2**31 - 1      # the run seed; Hypothesis runs use seed * 1000 + k, stored as SQLite integers
EXIT_CODES = ("exit codes: 0 every theorem/lemma held and every control falsified; 1 a theorem/lemma falsified "
              "or a control not falsified; 2 bad usage or input; 3 nothing falsified but some claim inconclusive, "
              "under-searched or in error (an experiment's finding, reproduced or not, never sets 1)")


class UsageError(Exception):
    pass




class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        raise UsageError(message)


CLAIMS_HELP = ("also load the claims declared in MODULE_OR_FILE (a module name or a .py path; repeatable); "
               "installed plugins (entry-point group lora_claims.claims) are always loaded")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="lora-claims", description="Falsifiable claims from LoRA-training theory.", epilog=EXIT_CODES)
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    common = _Parser(add_help=False)
    common.add_argument("--claims", action="append", default=[], metavar="MODULE_OR_FILE", help=CLAIMS_HELP)
    ls = sub.add_parser("list", help="list every registered claim", parents=[common])
    ls.add_argument("--paper", action="append", default=[], metavar="PAPER",
                    help="only this paper's claims (the id prefix, e.g. kim2025; repeatable)")
    ls.add_argument("--kind", action="append", default=[], metavar="KIND",
                    help="only claims of this kind (theorem, lemma, control, experiment; repeatable)")
    ls.add_argument("--json", action="store_true")
    fa = sub.add_parser("falsify", help="search for counterexamples (the main job)", parents=[common],
                        epilog=EXIT_CODES)
    fa.add_argument("patterns", nargs="*", metavar="PATTERN", help="glob on claim ids, e.g. 'jang2024.*'")
    fa.add_argument("--profile", default=None, help=f"one of {', '.join(PROFILES)} (default: ci or $LORA_CLAIMS_PROFILE)")
    fa.add_argument("--budget", default=None, help="time budget in seconds shared by the selected claims")
    fa.add_argument("--device", default=None, help="auto, cpu or cuda (default: the profile's)")
    fa.add_argument("--seed", type=int, default=0)
    fa.add_argument("--model", default=None, metavar="PATH",
                    help="a local Hugging Face model directory for the realmodel.* claims (default: all-MiniLM-L6-v2 "
                         "of the [models] extra)")
    fa.add_argument("--results", default=str(DEFAULT_PATH), help="results store (SQLite)")
    fa.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                    help="the per-example limit (default: the profile's: ci 120, dev 300, nightly 600)")
    iso = fa.add_mutually_exclusive_group()
    iso.add_argument("--isolate", dest="isolate", action="store_true", default=None,
                     help="evaluate in a killable child process, so the limit holds for native code (dev and "
                          "nightly do; ci does not)")
    iso.add_argument("--in-process", dest="isolate", action="store_false",
                     help="evaluate in this process (the limit then interrupts Python code only)")
    fa.add_argument("--json", action="store_true")
    fa.add_argument("--workers", type=int, default=1,
                    help="split the claims round-robin over N processes; with --device cuda each takes one "
                         "visible GPU (i mod count); all write into the one store")
    fa.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                    help="run one Ray task per claim on the cluster at ADDRESS (HOST:PORT of its head, ray://HOST:PORT "
                         "or auto; none: a local Ray instance); each task records into a shard that is merged into "
                         "--results (the [ray] extra)")
    fa.add_argument("--example-db", default=os.environ.get("LORA_CLAIMS_EXAMPLE_DB") or None, metavar="REDIS_URL",
                    help="share Hypothesis's example database through Redis (e.g. redis://HOST:6379/0), multiplexed "
                         "with the local one, so a counterexample found on one host is replayed first on every host; "
                         "turns the database on in every profile (default: $LORA_CLAIMS_EXAMPLE_DB)")
    rp = sub.add_parser("report", help="write the HTML claim report from the store", parents=[common])
    rp.add_argument("--results", default=str(DEFAULT_PATH))
    rp.add_argument("-o", "--output", default="report.html")
    rr = sub.add_parser("reproduce", help="re-run one recorded counterexample", parents=[common],
                        epilog="exit codes: 0 reproduced (the re-run has the recorded status); 1 not reproduced; "
                               "2 bad input (unreadable file, unknown example or claim, drawn values outside the "
                               "claim's domain)")
    rr.add_argument("counterexample", help="an exported JSON file, or an example id in the store")
    rr.add_argument("--results", default=str(DEFAULT_PATH))
    rr.add_argument("--device", default="cpu")
    rr.add_argument("--profile", default=None, help="whose per-example time limit holds the re-run (default: the "
                    "recording run's profile, else dev)")
    rr.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                    help="the re-run's limit (default: the profile's per-example limit); it holds for native "
                         "code: the re-run's process is killed at the limit + 3 s")
    rr.add_argument("--json", action="store_true", help="the recorded and the re-run evaluation as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return {"list": cmd_list, "falsify": cmd_falsify, "report": cmd_report,
                "reproduce": cmd_reproduce}[args.cmd](args)
    except (UsageError, UnknownProfile, StoreError) as exc:
        return _usage(exc)
    except BrokenPipeError:                 # `lora-claims list | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except SystemExit:                      # --help, --version
        raise
    except KeyboardInterrupt:
        return _interrupted(signal.SIGINT)
    except BaseException as exc:
        # the other input errors and the stop signal come from modules a command has imported by now
        from .reproduce import BadCounterexample
        from .runner import Interrupted
        from .strategies.data import MissingPackageData
        from .theorems.claim import ClaimLoadError, UnknownClaim
        if isinstance(exc, Interrupted):
            return _interrupted(exc.args[0])
        if isinstance(exc, (UnknownClaim, ClaimLoadError, MissingPackageData, BadCounterexample)):
            return _usage(exc)
        raise


def _usage(exc) -> int:
    msg = exc.args[0] if exc.args else str(exc)
    print(f"lora-claims: error: {msg}", file=sys.stderr)
    return EXIT_USAGE


def _interrupted(signum) -> int:
    print(f"\nlora-claims: interrupted by {signal.Signals(signum).name}; the run is recorded as incomplete",
          file=sys.stderr)
    return 128 + int(signum)


# ---------------------------------------------------------------- list

def cmd_list(args) -> int:
    from . import claim_index
    index = claim_index.indexed(args.claims)       # built-ins only: the shipped index, no torch import
    if index is not None:
        kinds, rows = tuple(index["kinds"]), index["claims"]
    else:
        from . import catalog
        from .theorems.claim import KINDS as kinds
        rows = [c.metadata() for c in catalog.all_claims(args.claims)]
    papers = sorted({r["id"].split(".")[0] for r in rows})
    for p in args.paper:
        if p not in papers:
            close = difflib.get_close_matches(p, papers, n=1, cutoff=0.5)
            raise UsageError(f"--paper {p!r} is not a paper of the registry ({', '.join(papers)})"
                             + (f"; did you mean {close[0]}?" if close else ""))
    for k in args.kind:
        if k not in kinds:
            raise UsageError(f"--kind {k!r} is not a kind (choose from {', '.join(kinds)})")
    rows = [r for r in rows if (not args.paper or r["id"].split(".")[0] in args.paper)
            and (not args.kind or r["kind"] in args.kind)]
    if args.json:
        print(json.dumps({"claims": rows}, indent=2))
        return EXIT_OK
    if not rows:
        print("no claim matches these filters")
        return EXIT_OK
    w = max(len(r["id"]) for r in rows + [{"id": "ID"}])
    print(f"{'ID':<{w}}  {'KIND':<10} {'PROVENANCE':<13} THEOREM")
    for r in rows:
        print(f"{r['id']:<{w}}  {r['kind']:<10} {r['provenance']:<13} {r['theorem']}")
    print(f"\n{len(rows)} claims: " + "; ".join(_counts(rows, kinds)))
    return EXIT_OK


def _counts(rows: list[dict], kinds_order) -> list[str]:
    """Per paper: its total and the count of each kind, e.g. 'kim2025 29 (theorem 10, lemma 3, control 16)'."""
    out = []
    for paper in sorted({r["id"].split(".")[0] for r in rows}):
        mine = [r["kind"] for r in rows if r["id"].split(".")[0] == paper]
        kinds = ", ".join(f"{k} {mine.count(k)}" for k in kinds_order if k in mine)
        out.append(f"{paper} {len(mine)} ({kinds})")
    return out


# ---------------------------------------------------------------- falsify

def _budget(text) -> float | None:
    if text is None:
        return None
    try:
        b = float(text)
    except ValueError:
        raise UsageError(f"--budget must be a number of seconds, got {text!r}") from None
    if not math.isfinite(b) or b <= 0:
        raise UsageError(f"--budget must be a positive number of seconds, got {text!r}")
    return b


def _time_limit(seconds: float | None) -> float | None:
    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        raise UsageError(f"--time-limit must be a positive number of seconds, got {seconds:g}")
    return seconds


class Progress:
    """A live status line on a terminal (claims done, examples, worst margin, time left); plain lines
    otherwise, one per finished claim."""

    def __init__(self, total: int, budget: float | None, stream=None, width: int = 36):
        self.total, self.budget, self.width = total, budget, width
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.t0 = time.perf_counter()
        self.done = 0
        self.examples = 0          # examples of finished claims
        self.last = 0.0

    def _left(self) -> str:
        if self.budget is None:
            return f"{time.perf_counter() - self.t0:.0f}s elapsed"
        return f"{max(0.0, self.budget - (time.perf_counter() - self.t0)):.0f}s left"

    def update(self, out):
        if not self.tty or time.perf_counter() - self.last < 0.2:
            return
        self.last = time.perf_counter()
        wm = "-" if out.worst_margin is None else f"{out.worst_margin:.3g}"
        self.stream.write(f"\r[{self.done}/{self.total} claims, {self.examples + out.examples} examples, "
                          f"{self._left()}] {out.claim.id}: {out.examples} ex, worst margin {wm}\033[K")
        self.stream.flush()

    def finish(self, s: dict):
        self.done += 1
        self.examples += s["examples"]
        if self.tty:
            self.stream.write("\r\033[K")
        mark = {"as expected": "ok ", "skipped": "ok ", "reported": "-- ", "undecided": "?? "}.get(s["expectation"], "BAD")
        wm = "-" if s["worst_margin"] is None else f"{s['worst_margin']:.3g}"
        if s["verdict"] == "skipped":
            self.stream.write(f"{mark} [{self.done}/{self.total}] {s['id']:<{self.width}} skipped      "
                              f"{s.get('note', '')}\n")
        else:
            extra = ""
            if s["verdict"] in ("inconclusive", "error") or s.get("budget_spent"):
                extra = f"  -- {s['note']}"
            self.stream.write(f"{mark} [{self.done}/{self.total}] {s['id']:<{self.width}} {s.get('finding') or s['verdict']:<14} "
                              f"{s['examples']:>4} ex ({s['conclusive']} conclusive)  worst margin {wm:>10}  "
                              f"{s['seconds']:.1f}s  ({self._left()}){extra}\n")
        self.stream.flush()


def _device(name: str) -> torch.device:
    from .search import resolve_device
    try:
        return resolve_device(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _exit_on_sigterm():
    """SIGTERM (a CI job cancelled) unwinds like Ctrl-C, so the run is recorded as incomplete."""
    from .runner import request_stop, reset_stop
    reset_stop()
    if threading.current_thread() is not threading.main_thread():
        return None

    def _terminate(signum, frame):
        request_stop(signum)         # not SystemExit: Hypothesis would take that for a test failure
    return signal.signal(signal.SIGTERM, _terminate)


def _falsify_in_workers(args, profile, selected, device) -> int:
    """One `lora-claims falsify` process per part of the claims (lora_claims.gpus.deal), each pinned to a GPU
    by CUDA_VISIBLE_DEVICES when the device is CUDA; their JSON summaries are merged here."""
    import torch
    from .gpus import deal
    parts = [p for p in deal([c.id for c in selected], args.workers) if p]
    gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = visible.split(",") if visible else [str(i) for i in range(gpus)]
    procs, stopped = [], []

    def _forward(signum, frame):                # SIGTERM / Ctrl-C: stop every worker, which records its run
        stopped.append(signum)                  # incomplete (as a single-process campaign does), then exit
        for q in procs:
            if q.poll() is None:
                q.send_signal(signal.SIGTERM)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, _forward) for s in (signal.SIGTERM, signal.SIGINT)} if main_thread else {}
    try:
        for i, part in enumerate(parts):
            if stopped:
                break
            env = dict(os.environ)
            if gpus:
                env["CUDA_VISIBLE_DEVICES"] = ids[i % len(ids)]
            procs.append(subprocess.Popen(_worker_command(args, profile, selected, device, part),
                                          stdout=subprocess.PIPE, env=env, text=True))
        results = [(p.communicate()[0], p.returncode) for p in procs]
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if stopped:
        print(f"lora-claims: stopped by signal {stopped[0]}; every worker was stopped and its run recorded "
              "incomplete", file=sys.stderr)
        return 128 + signal.SIGTERM
    return _merge_workers(args, profile, selected, device, len(parts), results)


def _worker_command(args, profile, selected, device, part: list[str]) -> list[str]:
    """The `lora-claims falsify` command line of the worker that checks the claim ids ``part``."""
    from . import catalog
    cmd = [sys.executable, "-m", "lora_claims", "falsify", *part, "--json", "--seed", str(args.seed),
           "--results", args.results, "--profile", profile.name, "--device", device.type]
    if profile.get("model"):
        cmd += ["--model", profile.get("model")]
    for spec in catalog.specs_of_loaded():      # the children load the same --claims modules
        cmd += ["--claims", spec]
    if args.budget is not None:
        cmd += ["--budget", str(_budget(args.budget) * len(part) / len(selected))]
    if args.time_limit is not None:
        cmd += ["--time-limit", str(args.time_limit)]
    if args.isolate is not None:
        cmd += ["--isolate" if args.isolate else "--in-process"]
    if args.example_db:
        cmd += ["--example-db", args.example_db]
    return cmd


def _merge_workers(args, profile, selected, device, workers: int, results: list[tuple[str, int]]) -> int:
    """The workers' JSON summaries (stdout, exit code) as one campaign's output and exit code."""
    from .search import exit_code
    codes = [code for _, code in results]
    summaries = []
    for out, code in results:
        if code in (EXIT_OK, EXIT_FAIL, EXIT_UNDECIDED):
            summaries += json.loads(out)["claims"]
    order = {c.id: k for k, c in enumerate(selected)}
    summaries.sort(key=lambda s: order[s["id"]])
    doc = {"profile": profile.name, "device": device.type, "seed": args.seed, "workers": workers,
           "results": args.results, "claims": summaries}
    _emit(args, doc, f"{len(summaries)} claims in {workers} workers, "
                     f"{sum(s['examples'] for s in summaries)} examples; results in {args.results}")
    if any(c not in (EXIT_OK, EXIT_FAIL, EXIT_UNDECIDED) for c in codes):
        return max(codes)
    if len(summaries) != len(selected):
        return EXIT_FAIL
    return exit_code(summaries)


def _falsify_on_ray(args, profile, selected, budget) -> int:
    """One Ray task per claim (lora_claims/distributed.py); their shards merged into the store as they come."""
    import uuid
    from . import catalog
    from . import distributed as D
    from .runner import observed_dir
    from .search import exit_code
    name = profile.device if args.device is None else args.device
    if name not in ("auto", "cpu", "cuda"):
        raise UsageError(f"unknown device {name!r} (auto, cpu or cuda)")
    t0 = time.perf_counter()
    try:
        # Ray prints its workers' deaths on the driver's stdout ("(raylet) A worker died..."): sent to stderr,
        # so stdout stays the one JSON document (printed after Ray is shut down)
        with contextlib.redirect_stdout(sys.stderr), D.connected(args.ray or None) as ray:
            gpus = ray.cluster_resources().get("GPU", 0)
            if name == "cuda" and not gpus:
                raise UsageError("--device cuda requested but the Ray cluster has no GPU")
            gpu = name == "cuda" or (name == "auto" and gpus > 0)
            store = Store(args.results)
            campaign_id = uuid.uuid4().hex[:12]
            jobs = [{"claim": c.id, "specs": catalog.specs_of_loaded(), "profile": profile, "seed": args.seed,
                     "device": "cuda" if gpu else "cpu", "root": D.shard_root(), "campaign": campaign_id,
                     "example_db": args.example_db, "argv": sys.argv} for c in selected]
            prog = Progress(len(selected), budget, width=max(len(c.id) for c in selected))
            try:
                summaries, failed = D.campaign(ray, jobs, store, observed_dir(args.results), budget=budget,
                                               gpu=gpu, done=prog.finish)
            finally:
                store.close()
    except D.ClusterError as exc:
        raise UsageError(str(exc)) from None
    for line in failed:
        print(f"lora-claims: {line}", file=sys.stderr)
    order = {c.id: k for k, c in enumerate(selected)}
    summaries.sort(key=lambda s: order[s["id"]])
    doc = {"profile": profile.name, "device": "cuda" if gpu else "cpu", "seed": args.seed,
           "ray": args.ray or "local", "campaign": campaign_id, "results": args.results, "claims": summaries}
    _emit(args, doc, f"{len(summaries)} claims as Ray tasks, {sum(s['examples'] for s in summaries)} examples, "
                     f"{time.perf_counter() - t0:.1f}s; results in {args.results}")
    if len(summaries) != len(selected):
        return EXIT_FAIL
    return exit_code(summaries)


def _model(spec: str | None) -> str | None:
    """A ``--model`` directory, resolved and checked before anything runs (exit 2 when it is not a model)."""
    if spec is None:
        return None
    from .theorems.numerics.hf_features import ModelError, check_model
    try:
        return check_model(spec)
    except ModelError as e:
        raise UsageError(f"--model: {e}") from None


def cmd_falsify(args) -> int:
    import torch
    from . import catalog
    from .evaluation import make_deterministic
    from .runner import campaign, example_database, observed_dir
    from .search import exit_code, versions
    profile = with_limits(with_model(get_profile(args.profile), _model(args.model)),
                          _time_limit(args.time_limit), args.isolate)
    selected = catalog.select(args.patterns, args.claims)
    budget = _budget(args.budget)
    if not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed must be an integer in [0, {MAX_SEED}], got {args.seed}")
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    if args.example_db:
        from .exampledb import SharedDatabaseError, check_url
        try:
            check_url(args.example_db)
        except SharedDatabaseError as exc:
            raise UsageError(str(exc)) from None
    if args.ray is not None:
        if args.workers > 1:
            raise UsageError("--ray and --workers exclude each other (Ray places the tasks)")
        return _falsify_on_ray(args, profile, selected, budget)
    device = _device(profile.device if args.device is None else args.device)
    if args.workers > 1:
        return _falsify_in_workers(args, profile, selected, device)
    if device.type == "cpu" and profile.get("threads"):
        torch.set_num_threads(int(profile.get("threads")))
    make_deterministic(device)
    store = Store(args.results)
    database = example_database(args.results, args.example_db) if profile.database or args.example_db else None
    run_id = store.start_run(profile.name, str(device), args.seed, versions())
    prog = Progress(len(selected), budget, width=max(len(c.id) for c in selected))
    t0 = time.perf_counter()
    status = "incomplete"
    previous = _exit_on_sigterm()
    try:
        summaries = campaign(selected, profile, device, args.seed, store, run_id, budget=budget,
                             database=database, observe_dir=observed_dir(args.results),
                             progress=prog.update, done=prog.finish)
        status = "complete"
    finally:
        store.finish_run(run_id, status)        # 'incomplete' after Ctrl-C or SIGTERM
        store.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    doc = {"profile": profile.name, "device": str(device), "seed": args.seed, "run": run_id,
           "results": args.results, "claims": summaries}
    _emit(args, doc, f"{len(summaries)} claims, {sum(s['examples'] for s in summaries)} examples, "
                     f"{time.perf_counter() - t0:.1f}s; results in {args.results} (run {run_id})")
    return exit_code(summaries)


def _emit(args, doc: dict, headline: str) -> None:
    """A campaign's result: one JSON document with --json, else the headline, counterexamples and totals."""
    if args.json:
        print(json.dumps(jsonable(doc), indent=2))
        return
    print(headline)
    summaries = doc["claims"]
    for s in summaries:
        if s["counterexample"] and s.get("finding"):
            print(f"  {s['id']}: {s['finding']} -> {s['counterexample']['command']}")
        elif s["counterexample"]:
            print(f"  {s['id']}: counterexample -> {s['counterexample']['command']}")
        elif s.get("artefact"):
            print(f"  {s['id']}: numerical artefact (a failure that did not re-verify in float64 on the CPU)")
    _print_verdict_totals(summaries)


def _print_verdict_totals(summaries: list[dict]) -> None:
    """The totals line and what needs a look (the same wording as the report's badge)."""
    from .theorems.claim import STATEMENT_KINDS
    thm = [s for s in summaries if s["kind"] in STATEMENT_KINDS and s["verdict"] != "skipped"]
    ctl = [s for s in summaries if s["kind"] == "control" and s["verdict"] != "skipped"]
    exp = [s for s in summaries if s["kind"] == "experiment" and s["verdict"] != "skipped"]
    print(f"theorems held {sum(s['verdict'] == 'held' for s in thm)}/{len(thm)} · "
          f"controls falsified {sum(s['verdict'] == 'falsified' for s in ctl)}/{len(ctl)}"
          + (f" · experiments reproduced {sum(s.get('finding') == 'reproduced' for s in exp)}/{len(exp)}"
             if exp else ""))
    unexpected = [s["id"] for s in summaries if s["expectation"] == "unexpected"]
    undecided = [f"{s['id']} ({s['verdict']}: {s['note']})" for s in summaries if s["expectation"] == "undecided"]
    if unexpected:
        print("NOT AS EXPECTED: " + ", ".join(unexpected))
    if undecided:
        print("UNDECIDED (inconclusive, under-searched or error):\n  " + "\n  ".join(undecided))


# ---------------------------------------------------------------- report / reproduce

def cmd_report(args) -> int:
    from . import catalog
    from .report.build import build_report
    out = Path(args.output)
    if out.is_dir() or not out.parent.is_dir():
        raise UsageError(f"cannot write the report to {out}: " +
                         ("it is a directory" if out.is_dir() else f"no folder {out.parent}"))
    store = Store(args.results, create=False, readonly=True)
    try:
        path = build_report(store, catalog.all_claims(args.claims), out)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {out}: {exc.strerror}") from None
    finally:
        store.close()
    print(f"wrote {path}")
    return EXIT_OK


def cmd_reproduce(args) -> int:
    """Exit 0: the re-run has the recorded status (reproduced); 1: it does not; 2: bad input."""
    from . import reproduce as R
    doc = R.load(args.counterexample, args.results)
    claim = R.resolve(doc, args.claims)
    R.check_drawn(claim, doc["drawn"])
    profile = get_profile(args.profile or (doc.get("profile") if doc.get("profile") in PROFILES else "dev"))
    res = R.rerun(claim, doc, _device(args.device), profile, _time_limit(args.time_limit))
    print(json.dumps(jsonable(res), indent=2) if args.json else R.describe(res))
    return EXIT_OK if res["reproduced"] else EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
