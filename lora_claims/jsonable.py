"""Turn measured quantities (tensors, numpy scalars, nested containers) into plain JSON values."""
from __future__ import annotations

import math
import sys


def jsonable(x):
    # torch and numpy are looked up, not imported: a value cannot be a tensor unless torch is loaded, and
    # the command line (``--help``, the store) stays free of their import time
    torch, np = sys.modules.get("torch"), sys.modules.get("numpy")
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if torch is not None and isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return jsonable(x.item() if x.dim() == 0 else x.tolist())
    if np is not None and isinstance(x, np.generic):
        return jsonable(x.item())
    if np is not None and isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)  # JSON has no NaN/inf; keep them visible as strings
    return x
