"""Verdict rules on hand-made results with known answers, and the scorecard's bookkeeping."""

from __future__ import annotations

import pandas as pd

from analysis import verdicts


def _curves(el2n: list[float], random: list[float]) -> pd.DataFrame:
    rows = [{"method": "el2n", "fraction": 0.5, "test_acc": a} for a in el2n]
    return pd.DataFrame(rows + [{"method": "random", "fraction": 0.5, "test_acc": a} for a in random])


def test_compare_counts_only_differences_beyond_tolerance():
    assert verdicts.tolerance([0.9], [0.9]) == 0.005  # one run each: the half-point floor
    assert verdicts.compare([0.904], [0.900]) == 0
    assert verdicts.compare([0.91], [0.90]) == 1
    assert verdicts.compare([0.90], [0.91]) == -1
    # two standard errors of the difference: noisy runs widen the band past the floor
    noisy, steady = [0.88, 0.94], [0.90, 0.90]
    assert verdicts.tolerance(noisy, steady) > 0.02
    assert verdicts.compare(noisy, steady) == 0


def test_pruning_half_verdicts():
    full = pd.DataFrame({"test_acc": [0.80, 0.80]})
    assert verdicts.pruning_half(_curves([0.80, 0.80], [0.70, 0.70]), full).verdict == verdicts.REPRODUCED
    assert verdicts.pruning_half(_curves([0.75, 0.75], [0.70, 0.70]), full).verdict == verdicts.PARTLY
    assert verdicts.pruning_half(_curves([0.70, 0.70], [0.72, 0.72]), full).verdict == verdicts.NOT


def test_scorecard_collects_recorded_verdicts_and_lists_pending_chapters():
    assert verdicts.scorecard("smoke").empty
    assert "pruning_curves" in verdicts.pending("smoke")
    assert not {"galleries", "scorecard"} & set(verdicts.pending("smoke"))  # pages that judge nothing
    full = pd.DataFrame({"test_acc": [0.80, 0.80]})
    verdicts.record("smoke", verdicts.pruning_half(_curves([0.80, 0.80], [0.70, 0.70]), full))
    card = verdicts.scorecard("smoke")
    assert card[["claim_id", "chapter", "verdict"]].values.tolist() == [
        ["cifar10_half", "pruning_curves", verdicts.REPRODUCED]]
    assert "pruning_curves" not in verdicts.pending("smoke")
    assert verdicts.scorecard("cpu").empty  # profiles keep separate scorecards
