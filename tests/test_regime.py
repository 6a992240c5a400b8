"""The regime study's crossover and verdict on hand-made sweep tables (no training)."""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd
import pytest

from analysis.rules import INCONCLUSIVE, NOT, PARTLY, REPRODUCED, crossover, hard_vs_easy, regime
from analysis.statistics import SeedNoise

# one point of single-run noise: a one-seed difference counts beyond 2 * sqrt(2) * 1 = 2.8 points
NOISE = defaultdict(lambda: SeedNoise(sd=0.01, dof=10))  # one point of seed noise at every size and budget
AXES = ("size", "budget_epochs")


def sweep(hard_minus_easy: dict[float, float], fraction: float = 0.7, axis: str = "size") -> pd.DataFrame:
    """A sweep along `axis` with one seed per cell: easy at 80% accuracy, hard offset by the given amount per point."""
    rows = []
    for x, diff in hard_minus_easy.items():
        rows += [{axis: x, "fraction": fraction, "selection": "easy", "seed": 0, "test_acc": 0.8},
                 {axis: x, "fraction": fraction, "selection": "hard", "seed": 0, "test_acc": 0.8 + diff},
                 {axis: x, "fraction": 0.0, "selection": "full", "seed": 0, "test_acc": 0.9}]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("axis", AXES)
def test_hard_vs_easy_signs_each_point_of_the_axis_beyond_two_standard_errors(axis):
    signs = hard_vs_easy(sweep({2: -0.05, 4: 0.02, 8: 0.05}, axis=axis), 0.7, NOISE, axis)
    assert signs.to_dict() == {2.0: -1, 4.0: 0, 8.0: 1}  # +2 points is within the 2.8 points of one seed a side
    assert signs.index.name == axis
    # without a noise estimate one seed a side cannot be judged
    unknown = defaultdict(lambda: SeedNoise(sd=math.nan, dof=0))
    no_estimate = hard_vs_easy(sweep({2: -0.05, 8: 0.05}, axis=axis), 0.7, unknown, axis)
    assert no_estimate.to_dict() == {2.0: 0, 8.0: 0}


@pytest.mark.parametrize("axis", AXES)
def test_crossover_is_where_hard_starts_to_win_for_good(axis):
    def cross(diffs: dict[float, float], fraction: float = 0.7) -> float | None:
        return crossover(sweep(diffs, axis=axis), fraction, NOISE, axis)

    assert cross({2: -0.05, 4: 0.02, 8: 0.05, 16: 0.04}) == 8.0
    assert cross({2: -0.05, 4: 0.05, 8: -0.05, 16: 0.04}) == 16.0
    assert cross({2: -0.05, 4: 0.05, 8: -0.04}) is None  # a win that does not last
    assert cross({2: -0.05, 4: 0.05, 8: 0.02}) is None  # within noise at the largest
    assert cross({2: 0.05}, fraction=0.5) is None  # no runs at that fraction


def test_crossover_reads_sizes_in_images():
    assert crossover(sweep({2_500: -0.05, 10_000: 0.05, 50_000: 0.05}), 0.7, NOISE, "size") == 10_000


def test_regime_verdict_needs_easy_first_on_the_smallest_set_then_hard_first_on_the_largest():
    assert regime(sweep({2_500: -0.05, 10_000: 0.0, 50_000: 0.05}), NOISE).verdict == REPRODUCED
    # one end holds and the other is within noise: it holds in more conditions than it fails
    assert regime(sweep({2_500: -0.05, 50_000: 0.02}), NOISE).verdict == PARTLY
    # one end holds, the other fails: as many failures as successes is not "partly"
    assert regime(sweep({2_500: -0.05, 50_000: -0.05}), NOISE).verdict == NOT
    assert regime(sweep({2_500: 0.05, 50_000: 0.05}), NOISE).verdict == NOT
    assert regime(sweep({2_500: 0.05, 50_000: -0.05}), NOISE).verdict == NOT
    # both ends tied (one seed each: the 90% interval, +-2.4 points, admits a one-point gain): cannot tell
    assert regime(sweep({2_500: 0.0, 50_000: 0.0}), NOISE).verdict == INCONCLUSIVE
    # easy trails hard by 2 points on the smallest set: its 90% interval excludes a one-point gain, so that end fails
    assert regime(sweep({2_500: 0.02, 50_000: -0.01}), NOISE).verdict == NOT


def test_regime_verdict_says_the_gaps_at_both_ends_in_images():
    verdict = regime(sweep({2_500: -0.05, 10_000: 0.01, 50_000: 0.05}), NOISE)
    assert verdict.claim_id == "regime" and verdict.chapter == "regime"
    assert verdict.ours == ("70% pruned, hard minus easy: "
                            "-5.00% (95% interval -8.15% to -1.85%; seeds: hard 1, easy 1) at 2,500 training images, "
                            "+5.00% (95% interval +1.85% to +8.15%; seeds: hard 1, easy 1) at 50,000")
    assert "smallest training set" in verdict.reason


def test_regime_verdict_reads_the_given_fraction_else_the_largest():
    both = pd.concat([sweep({2_500: -0.05, 50_000: 0.05}, fraction=0.5),
                      sweep({2_500: 0.05, 50_000: -0.05}, fraction=0.7)])
    assert regime(both, NOISE).verdict == NOT  # 70% pruned: hard first, then easy
    assert regime(both, NOISE, fraction=0.5).verdict == REPRODUCED


def test_each_size_is_judged_with_its_own_seed_noise():
    # the same 5-point gaps: beyond a one-point pool (3.2 points), within a five-point pool at the smallest
    table = sweep({2_500: -0.05, 50_000: 0.05})
    assert regime(table, NOISE).verdict == REPRODUCED
    noisy_small = {2_500: SeedNoise(sd=0.05, dof=10), 50_000: SeedNoise(sd=0.01, dof=10)}
    assert regime(table, noisy_small).verdict == PARTLY  # easy's win at 2,500 images is no longer told
    assert list(hard_vs_easy(table, 0.7, noisy_small, "size")) == [0, 1]
