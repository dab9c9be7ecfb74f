"""Hypothesis observability output (JSONL) for a run, readable by existing viewers such as Tyche.

Hypothesis delivers one observation per test case (and info messages); :func:`observing` writes them
in Hypothesis's own format to ``<folder>/<date>_testcases.jsonl`` and ``<date>_info.jsonl`` (the names
Hypothesis uses under ``.hypothesis/observed/``), with ``property`` set to the claim id.  Each
observation is one ``write`` on a file opened for appending, so several processes may share a folder.
Hypothesis's line-coverage collection for observations (a trace function: slow on Python <= 3.11) is
off unless LORA_CLAIMS_OBSERVE_COVERAGE=1.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
from pathlib import Path


@contextlib.contextmanager
def observing(folder: str | Path | None, property_name: str):
    if folder is None:
        yield
        return
    from hypothesis.internal import observability
    from hypothesis.internal.observability import with_observability_callback
    from hypothesis.strategies._internal.utils import to_jsonable

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def deliver(observation):
        doc = to_jsonable(observation, avoid_realization=False)
        if isinstance(doc, dict):
            doc["property"] = property_name
        kind = "testcases" if doc.get("type") == "test_case" else "info"
        path = folder / f"{datetime.date.today().isoformat()}_{kind}.jsonl"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(doc, default=str) + "\n")

    coverage = observability.OBSERVABILITY_COLLECT_COVERAGE
    observability.OBSERVABILITY_COLLECT_COVERAGE = os.environ.get("LORA_CLAIMS_OBSERVE_COVERAGE") == "1"
    try:
        with with_observability_callback(deliver):
            yield
    finally:
        observability.OBSERVABILITY_COLLECT_COVERAGE = coverage
