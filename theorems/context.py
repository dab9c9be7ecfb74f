"""The evaluation context: what one evaluation may depend on besides its drawn values.

The search owns one :class:`EvalContext` per claim search and hands it to ``evaluate(drawn, ctx)``:
the device and dtype, whether this is a float64 re-verification (``tight``: solver tolerances
``TIGHT_FACTOR`` times smaller, :meth:`EvalContext.tolerance`), and a memo of expensive solves
(:meth:`EvalContext.memo`).  The memo (:class:`SolveMemo`) is owned by the campaign, so claims that
evaluate the same drawn instance (same strategy, same seed) share one solve; its keys include the
device, dtype and tightness, so a re-verification never reuses a solve made at the search's tolerances.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

TIGHT_FACTOR = 1e-2


class SolveMemo:
    """A bounded least-recently-used memo of solves, keyed on plain values (never on tensors)."""

    def __init__(self, size: int = 64):
        self.size = size
        self._items: OrderedDict = OrderedDict()

    def get_or_compute(self, key: tuple, compute: Callable[[], Any]) -> Any:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = compute()                         # an exception is not memoised
        self._items[key] = value
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class EvalContext:
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    dtype: torch.dtype = torch.float64
    tight: bool = False
    solves: SolveMemo = field(default_factory=SolveMemo, repr=False)

    def __post_init__(self):
        self.device = torch.device(self.device)

    def tolerance(self, default: float) -> float:
        """A solver tolerance: ``default``, or ``default * TIGHT_FACTOR`` in a re-verification."""
        return default * TIGHT_FACTOR if self.tight else default

    def memo(self, kind: str, drawn: dict, compute: Callable[[], Any], *extra) -> Any:
        """``compute()`` once per (kind, drawn values, extra, device, dtype, tightness)."""
        key = (kind, json.dumps(drawn, sort_keys=True, default=str), extra, str(self.device), self.dtype_name,
               self.tight)
        return self.solves.get_or_compute(key, compute)

    def tightened(self) -> "EvalContext":
        """The re-verification context: float64 on the CPU, tight tolerances (its memo keys differ)."""
        return EvalContext(torch.device("cpu"), torch.float64, tight=True, solves=self.solves)

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).replace("torch.", "")
