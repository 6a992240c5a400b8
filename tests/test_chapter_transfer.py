"""The transfer page: the accuracy and gain matrices, the cell counts in its prose, and its verdict."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.chapters import transfer
from analysis.profiles import Variant, get_profile

SPREAD = (-0.002, 0.0, 0.002)  # three retraining seeds around each mean
SOURCES = ["a", "b", "a lr/2"]  # sources a and b are also the targets
# mean test accuracy: {target: {source: mean}}
MEANS = {
    "a": {"a": 0.70, "b": 0.72, "a lr/2": 0.66, "random": 0.68},
    "b": {"a": 0.60, "b": 0.65, "a lr/2": 0.652, "random": 0.64},
}


def runs(means: dict = MEANS) -> pd.DataFrame:
    return pd.DataFrame([{"source": s, "seed": i, "test_acc": m + d, "target": t}
                         for t, row in means.items() for s, m in row.items() for i, d in enumerate(SPREAD)])


def test_sources_are_the_transfer_models_and_other_hyperparameters():
    profile = get_profile("smoke")
    assert transfer.transfer_sources(profile) == {
        "resnet18-w4": Variant(model="resnet18", width=4), "vgg11-w8": Variant(model="vgg11", width=8),
        "resnet18-w4 lr/2 wd/5": Variant(lr=0.05, weight_decay=1e-4)}


def test_matrices_order_the_sources_and_subtract_random():
    acc, gain = transfer.matrices(runs(), SOURCES)
    assert list(acc.index) == [*SOURCES, "random"] and list(acc.columns) == ["a", "b"]
    assert list(gain.index) == SOURCES
    assert gain.loc["b", "a"] == pytest.approx(0.04) and gain.loc["a", "b"] == pytest.approx(-0.04)


def test_counts():
    _, gain = transfer.matrices(runs(), SOURCES)
    # vs random: target a - a +2, b +4, a lr/2 -2 points; target b - a -4, b +1, a lr/2 +1.2: two losses of six.
    # vs the target's own scores: (b -> a) +2 and (a lr/2 -> b) +0.2 (within noise) hold; (a -> b) and
    # (a lr/2 -> a) lose: two of the four foreign cells whose target also scores.
    assert transfer.counts(runs(), gain) == {"cells": 6, "losses": 2, "foreign": 4, "as_own": 2}


def test_context():
    _, gain = transfer.matrices(runs(), SOURCES)
    assert transfer.context(runs(), gain) == (
        "2 of 6 cells lose to random pruning beyond two standard errors (differences from -4.0% to +4.0%). "
        "Against the target's own scores instead of random, scores from another source prune as well or better "
        "in 2 of 4 cells.")


def test_facts_and_verdict():
    profile = get_profile("smoke")
    acc, gain = transfer.matrices(runs(), SOURCES)
    tables = {"runs": runs(), "accuracy": acc, "gain": gain}
    facts = transfer.facts(tables, profile)
    assert facts["table"].data.columns.name is None and list(facts["table"].data.index) == [*SOURCES, "random"]
    assert facts["fraction"] == f"{profile.study_fraction:.0%}"
    verdicts = transfer.verdicts(tables, profile)
    assert [v.claim_id for v in verdicts] == list(transfer.CLAIMS) == ["transfer"]
    assert verdicts[0].verdict == "partly"  # four of six cells beat random
