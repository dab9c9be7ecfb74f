"""Turn measured quantities (tensors, numpy scalars, nested containers) into plain JSON values."""
from __future__ import annotations

import math

import numpy as np
import torch


def jsonable(x):
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return jsonable(x.item() if x.dim() == 0 else x.tolist())
    if isinstance(x, np.generic):
        return jsonable(x.item())
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)  # JSON has no NaN/inf; keep them visible as strings
    return x
