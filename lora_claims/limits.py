"""Per-example time limits.

``time_limit(seconds)`` interrupts a Python-level computation that runs past its limit (an ODE that
stiffens, a solver that does not converge) by raising :class:`ExampleTimeout` from a SIGALRM timer.
It works in the main thread of a POSIX process (the CLI and pytest, xdist workers included); elsewhere
it is a no-op and only the run's budget bounds the time.  A single native call that never returns
cannot be interrupted this way.
"""
from __future__ import annotations

import contextlib
import signal
import threading


class ExampleTimeout(Exception):
    """An example ran past its per-example limit."""


@contextlib.contextmanager
def time_limit(seconds: float | None):
    usable = (seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def _expired(signum, frame):
        raise ExampleTimeout(f"example ran past its {seconds:g} s limit")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
