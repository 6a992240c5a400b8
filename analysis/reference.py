"""The paper's protocol and claims and Kirsch's (TMLR 2023) published numbers, with their sources.

The project keeps its own copy (`published_results.yaml`) so the book builds without `../shared`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

PUBLISHED = Path(__file__).with_name("published_results.yaml")


@cache
def published() -> dict:
    """The whole reference file as a dict."""
    return yaml.safe_load(PUBLISHED.read_text())


def claim(claim_id: str) -> str:
    """The text of one of the paper's claims."""
    for c in published()["paper"]["claims"]:
        if c["id"] == claim_id:
            return c["text"]
    raise KeyError(f"no claim {claim_id!r} in {PUBLISHED.name}")


# Kirsch's method names -> ours (his suffix is the score epoch: 20 of 200 in JAX, 1 in PyTorch)
KIRSCH_METHODS = {"el2n_20": "el2n", "grand_20": "grand", "el2n_1": "el2n", "grand_1": "grand"}


def kirsch_accuracy(source: str = "kirsch_jax") -> pd.DataFrame:
    """Kirsch's final test accuracies (0-1): one row per (method, fraction pruned), methods named as ours."""
    table = published()[source]["test_accuracy"]
    fractions = table["fraction_pruned"]
    rows = [{"method": KIRSCH_METHODS.get(m, m), "fraction": f, "test_acc": acc / 100}
            for m, values in table.items() if m != "fraction_pruned" for f, acc in zip(fractions, values)]
    return pd.DataFrame(rows)


def kirsch_score_share() -> float:
    """The share of training after which Kirsch's PyTorch reproduction reads its scores (2 of 12.6 epochs)."""
    theirs = published()["kirsch_pytorch"]["protocol"]
    return theirs["score_after_epochs"] / theirs["train_epochs"]


@dataclass(frozen=True)
class KirschGap:
    """Kirsch's PyTorch EL2N minus random pruning at one pruned fraction, in test-accuracy points."""

    points: float

    @property
    def side(self) -> int:
        """+1 where his EL2N beats random pruning, -1 where it loses: the sign of his published mean (his seed
        spread is not published)."""
        return int(self.points > 0) - int(self.points < 0)

    @property
    def why(self) -> str:
        """What a control must account for to explain his result, in the words the chapters end on."""
        return f"why his own runs put EL2N {self.points:+.1f} points from random pruning"


def kirsch_el2n_gap(fraction: float) -> KirschGap | None:
    """Kirsch's PyTorch reproduction: EL2N against random pruning at `fraction` pruned (None where he did not
    prune that fraction)."""
    theirs = kirsch_accuracy("kirsch_pytorch").set_index(["method", "fraction"])["test_acc"]
    if ("el2n", fraction) not in theirs.index:
        return None
    return KirschGap(100 * (theirs["el2n", fraction] - theirs["random", fraction]))


# Who each source of `published_results.yaml` is, in words, for the sentences that cite it
SOURCES = {"paper": "Paul et al. (2021)", "kirsch_jax": "Kirsch's JAX run of the authors' code (ResNet-18, 200 epochs)",
           "kirsch_pytorch": "Kirsch's PyTorch reproduction (hlb-CIFAR10 network, 12.6 epochs)"}


def full_data_accuracy() -> dict[str, float]:
    """The published full-data CIFAR-10 test accuracies (percent), by source: those sources of the reference file
    that state one (the paper draws its own as a figure only)."""
    return {name: float(entry["full_data"]) for name, entry in published().items()
            if isinstance(entry, dict) and "full_data" in entry}
