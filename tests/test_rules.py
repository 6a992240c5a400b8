"""Verdict rules on hand-made results with known answers, and the scorecard's bookkeeping."""

from __future__ import annotations

import pandas as pd

from analysis import rules, statistics
from analysis.chapters import scorecard


def _curves(el2n: list[float], random: list[float]) -> pd.DataFrame:
    rows = [{"method": "el2n", "fraction": 0.5, "test_acc": a} for a in el2n]
    return pd.DataFrame(rows + [{"method": "random", "fraction": 0.5, "test_acc": a} for a in random])


def test_compare_counts_only_differences_beyond_tolerance():
    assert statistics.tolerance([0.9], [0.9]) == 0.005  # one run each: the half-point floor
    assert statistics.compare([0.904], [0.900]) == 0
    assert statistics.compare([0.91], [0.90]) == 1
    assert statistics.compare([0.90], [0.91]) == -1
    # two standard errors of the difference: noisy runs widen the band past the floor
    noisy, steady = [0.88, 0.94], [0.90, 0.90]
    assert statistics.tolerance(noisy, steady) > 0.02
    assert statistics.compare(noisy, steady) == 0


def test_pruning_half_verdicts():
    full = pd.DataFrame({"test_acc": [0.80, 0.80]})
    assert rules.cifar10_half(_curves([0.80, 0.80], [0.70, 0.70]), full).verdict == rules.REPRODUCED
    assert rules.cifar10_half(_curves([0.75, 0.75], [0.70, 0.70]), full).verdict == rules.PARTLY
    assert rules.cifar10_half(_curves([0.70, 0.70], [0.72, 0.72]), full).verdict == rules.NOT


def test_scorecard_collects_recorded_verdicts_and_lists_pending_chapters():
    assert scorecard.recorded("smoke").empty
    assert "pruning_curves" in scorecard.pending("smoke")
    assert not {"galleries", "scorecard"} & set(scorecard.pending("smoke"))  # pages that judge nothing
    full = pd.DataFrame({"test_acc": [0.80, 0.80]})
    scorecard.record("smoke", rules.cifar10_half(_curves([0.80, 0.80], [0.70, 0.70]), full))
    card = scorecard.recorded("smoke")
    assert card[["claim_id", "chapter", "verdict"]].values.tolist() == [
        ["cifar10_half", "pruning_curves", rules.REPRODUCED]]
    assert "pruning_curves" not in scorecard.pending("smoke")
    assert scorecard.recorded("scarce-test").empty  # profiles keep separate scorecards
