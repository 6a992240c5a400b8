"""The regime study's crossover and verdict on hand-made sweep tables (no training)."""

from __future__ import annotations

import pandas as pd

from analysis.rules import NOT, PARTLY, REPRODUCED, crossover, hard_vs_easy, regime


def sweep(hard_minus_easy: dict[float, float], fraction: float = 0.7) -> pd.DataFrame:
    """A sweep with one seed per cell: easy at 80% accuracy, hard offset by the given amount per budget."""
    rows = []
    for b, diff in hard_minus_easy.items():
        rows += [{"budget_epochs": b, "fraction": fraction, "selection": "easy", "seed": 0, "test_acc": 0.8},
                 {"budget_epochs": b, "fraction": fraction, "selection": "hard", "seed": 0, "test_acc": 0.8 + diff},
                 {"budget_epochs": b, "fraction": 0.0, "selection": "full", "seed": 0, "test_acc": 0.9}]
    return pd.DataFrame(rows)


def test_hard_vs_easy_signs_each_budget_beyond_tolerance():
    signs = hard_vs_easy(sweep({2: -0.05, 4: 0.003, 8: 0.02}), 0.7)
    assert signs.to_dict() == {2.0: -1, 4.0: 0, 8.0: 1}  # +0.3 points is within the half-point tolerance


def test_crossover_is_where_hard_starts_to_win_for_good():
    assert crossover(sweep({2: -0.05, 4: 0.003, 8: 0.02, 16: 0.01}), 0.7) == 8.0
    assert crossover(sweep({2: -0.05, 4: 0.02, 8: -0.02, 16: 0.01}), 0.7) == 16.0
    assert crossover(sweep({2: -0.05, 4: 0.02, 8: -0.01}), 0.7) is None  # a win that does not last
    assert crossover(sweep({2: 0.01}), 0.5) is None  # no runs at that fraction


def test_regime_verdict_needs_easy_first_then_hard_first():
    assert regime(sweep({2: -0.05, 8: 0.02})).verdict == REPRODUCED
    assert regime(sweep({2: -0.05, 8: -0.02})).verdict == PARTLY
    assert regime(sweep({2: 0.01, 8: 0.02})).verdict == PARTLY
    assert regime(sweep({2: 0.02, 8: -0.02})).verdict == NOT
