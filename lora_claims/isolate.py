"""Evaluation in a child process the runner can kill: a per-example limit that holds for native code.

``time_limit`` (limits.py) raises from a SIGALRM handler, which Python runs only between bytecodes, so
one long native call (an eigensolver, a hung CUDA kernel) overruns it by as long as the call takes.
:class:`EvalWorker` evaluates each example in a persistent child process (``python -m
lora_claims.isolate``; the campaign's solve memo lives there), waits for it with the limit plus
``GRACE`` seconds, and at that point kills the child (SIGKILL) and reports the example
``inconclusive (timeout)``; the next example starts a fresh child.  A child that dies by itself (a
segfault, the OOM killer) makes the example an ``error``.  Inside the child the in-process limit
still interrupts Python-level overruns at the limit itself.

Claims are found in the child by id and source (catalog.load_source), so a claim that is not
registered (a test's ad-hoc Claim) is evaluated in-process.  Messages are length-prefixed pickles
over the child's stdin / stdout; the child's own prints go to stderr.
"""
from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import time

from .evaluation import evaluate_safely, make_deterministic
from .theorems.claim import Claim, Evidence
from .theorems.context import EvalContext

GRACE = 3.0          # seconds past the limit before the child is killed (the in-child limit fires first)
START_TIMEOUT = 120  # seconds a new child may take to import torch and answer its first message
_HEADER = struct.Struct("!Q")


def _send(fh, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:                                      # an unbuffered pipe may take part of it per write
        view = view[fh.write(view):]
    fh.flush()


def _read_exactly(fh, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = fh.read(n - len(buf))
        if not chunk:
            raise EOFError("the evaluation process closed its pipe")
        buf += chunk
    return buf


def _recv(fh):
    (n,) = _HEADER.unpack(_read_exactly(fh, _HEADER.size))
    return pickle.loads(_read_exactly(fh, n))


class EvalWorker:
    """A persistent, killable evaluation process (see the module docstring); ``evaluate`` has the
    signature of search.evaluate_safely."""

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self.proc: subprocess.Popen | None = None
        self.started = 0          # children started (1 + restarts after a kill or a death)
        self.killed = 0

    def _start(self) -> None:
        # unbuffered: select() sees the pipe itself, so no reply may wait unseen in a read-ahead buffer
        self.proc = subprocess.Popen([sys.executable, "-m", "lora_claims.isolate"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=dict(os.environ), bufsize=0)
        self.started += 1
        _send(self.proc.stdin, {"threads": self.threads})
        try:
            ready = self._wait(START_TIMEOUT) and _recv(self.proc.stdout) == "ready"
        except (EOFError, pickle.UnpicklingError):
            ready = False
        if not ready:
            raise RuntimeError(f"it did not start (python -m lora_claims.isolate, {START_TIMEOUT} s)")

    def _wait(self, seconds: float) -> bool:
        ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, seconds))
        return bool(ready)

    def _kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._kill()

    def _begin(self, claim: Claim, drawn: dict, ctx: EvalContext, timeout: float | None):
        """Hand one example to the child (started first where there is none); its answer once the claim is
        loaded: "started", or a ("load-error", why) tuple."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        _send(self.proc.stdin, {"claim": claim.id, "source": claim.source, "drawn": drawn,
                                "device": str(ctx.device), "dtype": ctx.dtype_name, "tight": ctx.tight,
                                "timeout": timeout})
        # the child first loads the claim's module (its first example: every built-in claim, seconds), then
        # says it starts; the limit counts from there, as in-process
        if not self._wait(START_TIMEOUT):
            raise RuntimeError(f"it did not load {claim.id} within {START_TIMEOUT} s")
        try:
            return _recv(self.proc.stdout)
        except (EOFError, pickle.UnpicklingError):
            raise RuntimeError(f"it died loading {claim.id}") from None

    def evaluate(self, claim: Claim, drawn: dict, ctx: EvalContext,
                 timeout: float | None = None) -> tuple[Evidence, float]:
        if not claim.source:                         # not findable by id in a child: in-process
            return evaluate_safely(claim, drawn, ctx, timeout)
        try:
            started = self._begin(claim, drawn, ctx, timeout)
        except (RuntimeError, OSError) as exc:     # no child to evaluate in: recorded, the campaign goes on
            self._kill()
            return Evidence.errored(f"the evaluation process failed: {exc}", ""), 0.0
        if started != "started":                     # the child cannot find the claim: in-process
            self._kill()
            return evaluate_safely(claim, drawn, ctx, timeout)
        t0 = time.perf_counter()
        wait = None if timeout is None or timeout <= 0 else timeout + GRACE
        if wait is not None and not self._wait(wait):
            self._kill()
            self.killed += 1
            return (Evidence.inconclusive(f"timeout: example ran past its {timeout:g} s limit (in native code; "
                                          "its evaluation process was killed)"), time.perf_counter() - t0)
        try:
            reply = _recv(self.proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            code = self.proc.wait()
            self.proc = None
            return (Evidence.errored(f"the evaluation process died (exit {code}) evaluating this example",
                                     f"{type(exc).__name__}: {exc}"), time.perf_counter() - t0)
        return reply


def _serve() -> None:
    """The child: load claims as asked, evaluate examples until stdin closes."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)                                   # prints of a claim go to stderr, never into the channel
    inp = sys.stdin.buffer
    hello = _recv(inp)
    import torch

    from . import catalog
    from .theorems.context import SolveMemo
    if hello.get("threads"):
        torch.set_num_threads(int(hello["threads"]))
    solves = SolveMemo()
    _send(out, "ready")
    while True:
        try:
            req = _recv(inp)
        except EOFError:
            return
        try:
            if req["claim"] not in catalog.REGISTRY:
                catalog.load_source(req["source"])
            claim = catalog.get(req["claim"])
        except Exception as exc:
            _send(out, ("load-error", f"{type(exc).__name__}: {exc}"))
            continue
        _send(out, "started")
        device = torch.device(req["device"])
        make_deterministic(device)
        ctx = EvalContext(device, getattr(torch, req["dtype"]), tight=req["tight"], solves=solves)
        _send(out, evaluate_safely(claim, req["drawn"], ctx, req["timeout"]))


if __name__ == "__main__":
    _serve()
