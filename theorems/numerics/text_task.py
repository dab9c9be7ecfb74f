"""The small labelled text task the real-model claims fine-tune on (issue 15): template sentiment sentences.

A sentence is "<subject> <verb> <adjective>." with the subject, verb and adjective drawn by a seeded
generator; its label is the class of the adjective: 0 = positive, 1 = negative, 2 = neutral (the
neutral class only when K = 3).  Labels therefore arise from the words alone, with no annotator and no
download; a sentence encoder that knows English separates the classes, a random one need not.  Targets:
cross-entropy takes the label; the squared loss takes the one-hot label (K >= 2) or the polarity
+1 / -1 (K = 1, positive vs negative).
"""
from __future__ import annotations

import random

import torch

SUBJECTS = ("the film", "this movie", "the plot", "the acting", "the soundtrack", "the ending", "the cast",
            "the script", "the story", "the director's work", "the dialogue", "the final scene")
VERBS = ("was", "is", "seemed", "felt", "turned out")
ADJECTIVES = (
    ("wonderful", "brilliant", "moving", "delightful", "superb", "charming", "gripping", "beautiful", "funny",
     "touching"),                                                                          # 0: positive
    ("dull", "tedious", "awful", "boring", "clumsy", "lifeless", "dreadful", "bland", "annoying", "predictable"),
    ("long", "in colour", "in english", "two hours long", "shot in spring", "set in a city", "about a family",
     "released in may", "in three parts", "mostly indoors"),                               # 2: neutral
)


def examples(count: int, seed: int, K: int) -> tuple[list[str], list[int]]:
    """``count`` (sentence, label) pairs; classes {0, 1} for K <= 2, {0, 1, 2} for K = 3."""
    if K not in (1, 2, 3):
        raise ValueError(f"the text task has K in {{1, 2, 3}} outputs, not {K}")
    rng = random.Random(int(seed))
    classes = 3 if K == 3 else 2
    texts, labels = [], []
    for _ in range(int(count)):
        c = rng.randrange(classes)
        texts.append(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(ADJECTIVES[c])}.")
        labels.append(c)
    return texts, labels


def targets(labels: list[int], K: int, loss: str, dtype=torch.float64) -> torch.Tensor:
    """(N, K) squared-loss targets or (N,) class labels (cross-entropy)."""
    y = torch.tensor(labels)
    if loss == "ce":
        return y
    if K == 1:
        return (1.0 - 2.0 * y.to(dtype)).unsqueeze(1)          # positive +1, negative -1
    return torch.nn.functional.one_hot(y, K).to(dtype)
