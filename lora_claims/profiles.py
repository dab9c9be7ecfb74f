"""Search profiles: how hard to look, on which device, with which Hypothesis phases.

Selected by ``--profile`` (CLI), ``--claims-profile`` (pytest) or the environment variable
LORA_CLAIMS_PROFILE.  ``scale`` is handed to every claim's strategy factory so one declaration
serves a 2-core CI run and a GPU night (batch sizes, number of random initialisations, dimensions);
``scale['cuda']`` overrides it on a GPU (:func:`for_device`).  ``landscape_max_dim`` bounds m, n of the
landscape claims that run matrix-free at large sizes (strategies/ntk.py; absent: ``max_dim``).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int            # examples per claim in total (across runs)
    runs: int                    # independently seeded Hypothesis runs per claim
    database: bool               # keep Hypothesis's example database beside the store
    target: bool                 # Hypothesis's target phase (steer toward negative margins)
    device: str                  # default device ('auto' = CUDA when present)
    scale: dict = field(default_factory=dict)
    example_timeout: float | None = None   # seconds one example may run before it is inconclusive (timeout)
    min_conclusive: int = 1      # a theorem/lemma is 'held' only after this many conclusive examples
    cap_factor: int = 4          # to reach min_conclusive a search may run up to cap_factor x max_examples
    optimiser_evals: int = 0     # CMA-ES candidates after the random search (lora_claims/optimise.py); 0: off
    isolate: bool = False        # evaluate in a killable child process (isolate.py): the limit holds for native code

    @property
    def phases(self) -> tuple:
        from hypothesis import Phase      # here, not at import: the command line's --help needs no Hypothesis
        ph = [Phase.explicit, Phase.reuse, Phase.generate]
        if self.target:
            ph.append(Phase.target)
        ph.append(Phase.shrink)
        return tuple(ph)

    def get(self, key: str, default=None):
        return self.scale.get(key, default)


PROFILES = {
    "ci": Profile("ci", max_examples=8, runs=1, database=False, target=False, device="cpu",
                  scale={"batch": 4, "inits": 6, "max_dim": 8, "threads": 1, "model_block": 10,
                         "dayi_d_max": 256, "dayi_seeds": 32, "dayi_instances": 1, "dayi_exact_d_max": 32}, example_timeout=120,
                  min_conclusive=3),
    "dev": Profile("dev", max_examples=30, runs=2, database=True, target=True, device="auto",
                   scale={"batch": 16, "inits": 15, "max_dim": 10, "landscape_max_dim": 64, "model_block": 24,
                          "dayi_d_min": 128, "dayi_d_max": 1024, "dayi_seeds": 64}, example_timeout=300,
                   min_conclusive=10, optimiser_evals=30, isolate=True),
    "nightly": Profile("nightly", max_examples=400, runs=8, database=True, target=True, device="auto",
                       scale={"batch": 256, "inits": 60, "max_dim": 12, "landscape_max_dim": 64, "model_block": 48,
                              "dayi_d_min": 128, "dayi_d_max": 4096, "dayi_seeds": 256,
                              "cuda": {"landscape_max_dim": 256}}, example_timeout=600,
                       min_conclusive=60, optimiser_evals=200, isolate=True),
}

ENV_VAR = "LORA_CLAIMS_PROFILE"


class UnknownProfile(KeyError):
    pass


def get_profile(name: str | None = None) -> Profile:
    if name is None:
        name = os.environ.get(ENV_VAR) or "ci"
    if name not in PROFILES:
        raise UnknownProfile(f"unknown profile {name!r} (choose from {', '.join(PROFILES)})")
    return PROFILES[name]


def with_model(profile: Profile, model: str | None) -> Profile:
    """``profile`` with the real-model claims pointed at a local Hugging Face model directory (``--model``)."""
    if not model:
        return profile
    return dataclasses.replace(profile, scale={**profile.scale, "model": model})


def for_device(profile: Profile, device) -> Profile:
    """``profile`` with its ``scale['cuda']`` overrides merged in when the run is on a CUDA device (e.g.
    nightly's landscape claims draw m, n up to 256 on a GPU, 64 on a CPU); unchanged otherwise."""
    extra = profile.scale.get("cuda")
    if not extra or getattr(device, "type", str(device)) != "cuda":
        return profile
    return dataclasses.replace(profile, scale={**profile.scale, **extra})


def with_limits(profile: Profile, time_limit: float | None = None, isolate: bool | None = None) -> Profile:
    """``profile`` with its per-example limit (``--time-limit``) and its evaluation process (``--isolate`` /
    ``--in-process``) overridden where given."""
    changes = {k: v for k, v in (("example_timeout", time_limit), ("isolate", isolate)) if v is not None}
    return dataclasses.replace(profile, **changes) if changes else profile
