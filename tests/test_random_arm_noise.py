"""Every comparison with random pruning gives the random arm the pool of the condition's random arms
(`SeedNoise.vs_random`): each rule and page sentence that compares with random pruning tells a 5-point gain
when random subsets vary as little as fixed ones, and cannot tell it when they vary by 5 points."""

from __future__ import annotations

import math

import pandas as pd

from analysis import rules
from analysis.chapters import noise, regime, score_epochs, seeds, transfer
from analysis.statistics import SeedNoise

PRECISE = SeedNoise(sd=0.002, dof=30)  # fixed subsets and random ones vary by a fifth of a point
WIDE = SeedNoise(sd=0.002, dof=30, random=SeedNoise(sd=0.05, dof=10))  # random subsets by five points
SPREAD = (-1e-3, 0.0, 1e-3)  # three seeds an arm


def arm(mean: float, **labels) -> list[dict]:
    return [{**labels, "seed": i, "test_acc": mean + d} for i, d in enumerate(SPREAD)]


def test_the_random_pool_is_lent_only_where_it_is_the_wider():
    assert WIDE.vs_random == (WIDE, WIDE.random)
    thinner = SeedNoise(sd=0.01, dof=10, random=SeedNoise(sd=0.001, dof=1))  # one lucky pair of random runs
    assert thinner.vs_random == (thinner, thinner)
    no_fixed = SeedNoise(sd=math.nan, dof=0, random=SeedNoise(sd=0.01, dof=2))
    assert no_fixed.of_random is no_fixed.random


def test_pruning_half_says_how_el2n_does_against_random_with_the_random_pool():
    curves = pd.DataFrame(arm(0.75, method="el2n", fraction=0.5) + arm(0.70, method="random", fraction=0.5))
    full = pd.DataFrame(arm(0.80))
    assert "above random" in rules.cifar10_half(curves, full, PRECISE).reason
    assert "within noise of random" in rules.cifar10_half(curves, full, WIDE).reason


def test_early_needs_el2n_to_beat_random_by_more_than_the_random_arms_spread():
    sweep = pd.DataFrame(arm(0.80, score="el2n", epoch=1.0) + arm(0.70, score="el2n", epoch=0.0)
                         + arm(0.75, score="random", epoch=math.nan))
    assert rules.early(sweep, 1.0, PRECISE).verdict == rules.REPRODUCED
    assert "Precondition failed" in rules.early(sweep, 1.0, WIDE).reason
    assert score_epochs.against_random(sweep, PRECISE, +1) == ["EL2N at epoch 1"]
    assert score_epochs.against_random(sweep, WIDE, +1) == []


def test_transfer_targets_and_losses_are_told_against_random_with_its_pool():
    runs = pd.DataFrame(arm(0.80, source="a", target="a") + arm(0.80, source="b", target="a")
                        + arm(0.75, source="random", target="a"))
    assert rules.transfer(runs, {"a": PRECISE}).verdict == rules.REPRODUCED
    assert "Precondition failed" in rules.transfer(runs, {"a": WIDE}).reason
    losing = pd.DataFrame(arm(0.70, source="a", target="a") + arm(0.75, source="random", target="a"))
    gain = pd.DataFrame({"a": [-0.05]}, index=["a"])
    assert transfer.counts(losing, gain, {"a": PRECISE})["losses"] == 1
    assert transfer.counts(losing, gain, {"a": WIDE})["losses"] == 0


def test_the_best_window_must_beat_random_with_the_random_pool():
    windows = [{"selection": "window", "offset": o, "seed": s, "test_acc": a}
               for s in range(3) for o, a in ((0, 0.70), (500, 0.80), (10_000, 0.72))]
    offsets = pd.DataFrame(windows + arm(0.75, selection="random", offset=math.nan))
    assert rules.window_cifar10(offsets, 50_000, PRECISE).verdict == rules.REPRODUCED
    assert rules.window_cifar10(offsets, 50_000, WIDE).verdict == rules.PARTLY  # beating random cannot be told


def test_page_sentences_compare_with_random_through_its_pool():
    grand = pd.DataFrame([row | {"score": "grand", "n_seeds": k} for k in (1, 2)
                          for row in arm(0.70, score="grand")])
    random = pd.DataFrame(arm(0.75, method="random"))
    assert "worse than random pruning" in seeds.context(grand, random, PRECISE)
    assert "worse than random pruning" not in seeds.context(grand, random, WIDE)

    windows = pd.DataFrame(arm(0.70, selection="el2n", offset=0) + arm(0.75, selection="random", offset=math.nan))
    assert "stays below random pruning" in noise.context(windows, 0.1, 1_000, PRECISE)
    assert "stays below random pruning" not in noise.context(windows, 0.1, 1_000, WIDE)

    sizes = pd.DataFrame([row for sel, acc in (("hard", 0.70), ("easy", 0.70), ("random", 0.75))
                          for row in arm(acc, selection=sel, size=2_500, fraction=0.5)])
    assert regime.random_wins(sizes, 0.5, {2_500: PRECISE}, regime.SIZE) == [2_500]
    assert regime.random_wins(sizes, 0.5, {2_500: WIDE}, regime.SIZE) == []

