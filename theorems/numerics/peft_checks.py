"""The LoRA parameterisation the theorems assume, read off peft's real LoRA layers.

Jang et al. and Kim et al. write the update as delta = A B^T with weight decay (lam/2)(||A||^2 + ||B||^2).
peft (``LoraConfig``, ``get_peft_model``) stores lora_A (r x n), lora_B (m x r) and a scaling s =
lora_alpha / r, and its merged update is s B A.  So the theorems' factors are A_J = sqrt(s) B, B_J =
sqrt(s) A^T, and weight decay lam on peft's factors is the nuclear weight lam / s on the merged update
(at balanced points).  Everything here goes through peft's own objects (``LoraLayer.get_delta_weight``,
``scaling``, ``merge_and_unload``, the wrapped forward), never a re-implementation.  peft is optional:
:func:`missing` says why it cannot be used.
"""
from __future__ import annotations

import copy

import torch

INITS = {"default": True, "gaussian": "gaussian", "pissa": "pissa"}
SKIP_REASON = "peft is not installed: pip install 'lora-claims[peft]'"


def missing() -> str | None:
    """None when peft imports, else the reason the peft checks are skipped."""
    try:
        import peft  # noqa: F401
    except ImportError:
        return SKIP_REASON
    return None


def dtype_for(init: str) -> torch.dtype:
    """peft's PiSSA init refuses float64 (it runs its SVD in float32); the others run in float64."""
    return torch.float32 if init == "pissa" else torch.float64


def wrap(net: torch.nn.Module, layer: str, r: int, lora_alpha: int, init: str):
    """(peft model, its LoRA layer at ``layer``) for a deep copy of ``net`` in ``dtype_for(init)``."""
    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(r=int(r), lora_alpha=lora_alpha, target_modules=[layer], lora_dropout=0.0,
                     init_lora_weights=INITS[init])
    model = get_peft_model(copy.deepcopy(net).to(dtype_for(init)), cfg)
    return model, model.base_model.model.get_submodule(layer)


def factors(lay) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(A (r x n), B (m x r), s) of peft's 'default' adapter."""
    return lay.lora_A["default"].weight, lay.lora_B["default"].weight, float(lay.scaling["default"])


def set_factors(lay, A: torch.Tensor, B: torch.Tensor) -> None:
    with torch.no_grad():
        lay.lora_A["default"].weight.copy_(A)
        lay.lora_B["default"].weight.copy_(B)


def from_theorem_factors(AJ: torch.Tensor, BJ: torch.Tensor, s: float, u: float = 1.0):
    """peft's (A, B) whose merged update s B A equals u A_J B_J^T (u: a unit change of delta)."""
    c = (u / s) ** 0.5
    return c * BJ.T, c * AJ


def merged_weight(model, layer: str) -> torch.Tensor:
    """The adapted layer's weight after peft's ``merge_and_unload`` (on a copy of ``model``)."""
    return copy.deepcopy(model).merge_and_unload().get_submodule(layer).weight.detach()


def rel(x: torch.Tensor, ref: torch.Tensor) -> float:
    """max |x - ref| / max(max |ref|, tiny), in float64."""
    x, ref = x.detach().double(), ref.detach().double()
    return float((x - ref).abs().max() / ref.abs().max().clamp_min(1e-300))
