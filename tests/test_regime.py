"""The regime study's crossover and verdict on hand-made sweep tables (no training)."""

from __future__ import annotations

import math

import pandas as pd

from analysis.rules import INCONCLUSIVE, NOT, PARTLY, REPRODUCED, crossover, hard_vs_easy, regime
from analysis.statistics import SeedNoise

# one point of single-run noise: a one-seed difference counts beyond 2 * sqrt(2) * 1 = 2.8 points
NOISE = SeedNoise(sd=0.01, dof=10)


def sweep(hard_minus_easy: dict[float, float], fraction: float = 0.7) -> pd.DataFrame:
    """A sweep with one seed per cell: easy at 80% accuracy, hard offset by the given amount per budget."""
    rows = []
    for b, diff in hard_minus_easy.items():
        rows += [{"budget_epochs": b, "fraction": fraction, "selection": "easy", "seed": 0, "test_acc": 0.8},
                 {"budget_epochs": b, "fraction": fraction, "selection": "hard", "seed": 0, "test_acc": 0.8 + diff},
                 {"budget_epochs": b, "fraction": 0.0, "selection": "full", "seed": 0, "test_acc": 0.9}]
    return pd.DataFrame(rows)


def test_hard_vs_easy_signs_each_budget_beyond_two_standard_errors():
    signs = hard_vs_easy(sweep({2: -0.05, 4: 0.02, 8: 0.05}), 0.7, NOISE)
    assert signs.to_dict() == {2.0: -1, 4.0: 0, 8.0: 1}  # +2 points is within the 2.8 points of one seed a side
    # without a noise estimate one seed a side cannot be judged
    no_estimate = hard_vs_easy(sweep({2: -0.05, 8: 0.05}), 0.7, SeedNoise(sd=math.nan, dof=0))
    assert no_estimate.to_dict() == {2.0: 0, 8.0: 0}


def test_crossover_is_where_hard_starts_to_win_for_good():
    assert crossover(sweep({2: -0.05, 4: 0.02, 8: 0.05, 16: 0.04}), 0.7, NOISE) == 8.0
    assert crossover(sweep({2: -0.05, 4: 0.05, 8: -0.05, 16: 0.04}), 0.7, NOISE) == 16.0
    assert crossover(sweep({2: -0.05, 4: 0.05, 8: -0.04}), 0.7, NOISE) is None  # a win that does not last
    assert crossover(sweep({2: -0.05, 4: 0.05, 8: 0.02}), 0.7, NOISE) is None  # within noise at the longest
    assert crossover(sweep({2: 0.05}), 0.5, NOISE) is None  # no runs at that fraction


def test_regime_verdict_needs_easy_first_then_hard_first():
    assert regime(sweep({2: -0.05, 8: 0.05}), NOISE).verdict == REPRODUCED
    # one end holds and the other is within noise: it holds in more conditions than it fails
    assert regime(sweep({2: -0.05, 8: 0.02}), NOISE).verdict == PARTLY
    # one end holds, the other fails: as many failures as successes is not "partly"
    assert regime(sweep({2: -0.05, 8: -0.05}), NOISE).verdict == NOT
    assert regime(sweep({2: 0.05, 8: 0.05}), NOISE).verdict == NOT
    assert regime(sweep({2: 0.05, 8: -0.05}), NOISE).verdict == NOT
    # both ends tied (one seed each: the 90% interval, +-2.4 points, admits a one-point gain): cannot tell
    assert regime(sweep({2: 0.0, 8: 0.0}), NOISE).verdict == INCONCLUSIVE
    # easy trails hard by 2 points at the short budget: its 90% interval excludes a one-point gain, so that end fails
    assert regime(sweep({2: 0.02, 8: -0.01}), NOISE).verdict == NOT
