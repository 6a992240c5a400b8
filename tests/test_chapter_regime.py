"""The regime page's facts and sentence choices on hand-made sweep tables (no training)."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest

from analysis import retraining
from analysis.chapters import regime
from analysis.profiles import Regime, get_profile
from analysis.statistics import SeedNoise

BUDGETS, FRACTIONS = (2.0, 8.0), (0.5, 0.7)
PROFILE = replace(get_profile("smoke"), regime=Regime(epochs=BUDGETS, fractions=FRACTIONS, ccs_hard_cut=0.1),
                  secondary_seeds=1, score_seeds=3)
# one point of single-run noise: with one seed per cell a difference counts beyond 2 * sqrt(2) * 1 = 2.8 points
NOISE = SeedNoise(sd=0.01, dof=10)


@pytest.fixture(autouse=True)
def _noise(monkeypatch):
    """The page's seed noise, fixed instead of read from the (empty) run store."""
    monkeypatch.setattr("analysis.chapters.regime.seed_noise", lambda profile: NOISE)


def sweep(cells: dict[tuple[float, float], dict[str, float]], train: dict[float, float] | None = None) -> pd.DataFrame:
    """A regime sweep with one seed per cell: `cells[(fraction, budget)]` maps selection -> test accuracy;
    the full-data runs (fraction 0) reach 90% test and `train[budget]` train accuracy."""
    train = train or {b: 0.5 for b in BUDGETS}
    rows = [{"budget_epochs": b, "fraction": f, "selection": s, "seed": 0, "test_acc": acc, "train_acc": 1.0}
            for (f, b), accs in cells.items() for s, acc in accs.items()]
    rows += [{"budget_epochs": b, "fraction": 0.0, "selection": "full", "seed": 0, "test_acc": 0.9,
              "train_acc": t} for b, t in train.items()]
    return pd.DataFrame(rows, columns=regime.COLUMNS)


def cell(hard: float, easy: float, random: float = 0.5, ccs: float | None = None) -> dict[str, float]:
    return {"hard": hard, "easy": easy, "random": random} | ({"ccs": ccs} if ccs is not None else {})


def grid(hard_minus_easy: dict[tuple[float, float], float], random: float = 0.5,
         ccs: dict[float, float] | None = None) -> dict[tuple[float, float], dict[str, float]]:
    """Easy at 80% everywhere, hard offset per (fraction, budget); CCS at the largest fraction (default 50%)."""
    ccs = ccs or {}
    return {(f, b): cell(0.8 + hard_minus_easy.get((f, b), 0.0), 0.8, random,
                         ccs.get(b, 0.5) if f == max(FRACTIONS) else None)
            for f in FRACTIONS for b in BUDGETS}


# --- crossover sentences -------------------------------------------------------------------------------------

def test_budgets_where_lists_the_budgets_with_a_sign():
    signs = pd.Series([-1, 1, 0, 1], index=[2.5, 5.0, 10.0, 20.0])
    assert regime.budgets_where(signs, 1) == "5, 20"
    assert regime.budgets_where(signs, -1) == "2.5"
    assert regime.budgets_where(pd.Series([1], index=[5.0]), -1) == ""


def test_crossover_sentence_names_each_outcome_present_in_order():
    signs = pd.Series([0, -1, 1], index=[2.0, 4.0, 8.0])
    assert regime.crossover_sentence(0.5, signs, 8.0) == (
        "50% pruned: easy wins at 4 epochs, hard wins at 8 epochs, within noise at 2 epochs, "
        "so hard wins from 8 epochs on")


def test_crossover_sentence_leaves_out_absent_outcomes_and_says_when_hard_never_wins_for_good():
    assert regime.crossover_sentence(0.7, pd.Series([-1, -1], index=[2.0, 8.0]), None) == (
        "70% pruned: easy wins at 2, 8 epochs, so hard does not win at the longest budget")


def test_crossover_fact_joins_the_fractions():
    # 5 points are beyond the 2.8 points of one seed a side, 2 points within them
    table = sweep(grid({(0.5, 2.0): -0.05, (0.5, 8.0): 0.05, (0.7, 2.0): -0.05, (0.7, 8.0): -0.05}))
    assert regime.facts({"sweep": table}, PROFILE)["crossover"] == (
        "50% pruned: easy wins at 2 epochs, hard wins at 8 epochs, so hard wins from 8 epochs on; "
        "70% pruned: easy wins at 2, 8 epochs, so hard does not win at the longest budget")
    assert regime.crossings(table, FRACTIONS, NOISE) == {0.5: 8.0, 0.7: None}
    within = sweep(grid({(0.5, 2.0): -0.05, (0.5, 8.0): 0.02, (0.7, 2.0): -0.05, (0.7, 8.0): -0.05}))
    assert regime.facts({"sweep": within}, PROFILE)["crossover"].startswith(
        "50% pruned: easy wins at 2 epochs, within noise at 8 epochs, so hard does not win at the longest budget; ")


# --- context -------------------------------------------------------------------------------------------------

def test_growing_lead_of_easy_is_reported_per_fraction():
    # 50%: -2 -> -6 points (grows); 70%: -6 -> -2 points (shrinks)
    table = sweep(grid({(0.5, 2.0): -0.02, (0.5, 8.0): -0.06, (0.7, 2.0): -0.06, (0.7, 8.0): -0.02}))
    assert regime.context(table, PROFILE).startswith(
        "Easy's lead over hard grows with the budget instead of shrinking: hard minus easy goes from "
        "-2.0 to -6.0 points at 50% pruned. Random pruning")


def test_no_growing_lead_when_hard_starts_ahead_or_the_gap_shrinks():
    starts_ahead = sweep(grid({(0.5, 2.0): 0.01, (0.5, 8.0): -0.06}))
    shrinks = sweep(grid({(0.5, 2.0): -0.06, (0.5, 8.0): -0.02}))
    for table in (starts_ahead, shrinks):
        assert "grows with the budget" not in regime.context(table, PROFILE)


def test_random_wins_count_cells_where_random_beats_both_ends_beyond_two_standard_errors():
    # random at 85% beats easy (80%) everywhere by 5 points, and hard (80%) except where hard is at 90% or at 83%
    # (2 points: within the 2.8 points of one seed a side)
    table = sweep(grid({(0.5, 2.0): 0.10, (0.5, 8.0): 0.03}, random=0.85))
    assert "Random pruning beats both the hardest and the easiest subset in 2 of 4 fraction-budget cells" in \
        regime.context(table, PROFILE)
    nowhere = sweep(grid({}, random=0.8))
    assert "in 0 of 4 fraction-budget cells" in regime.context(nowhere, PROFILE)


def test_ccs_budgets_or_no_budget():
    wins = sweep(grid({}, ccs={2.0: 0.6, 8.0: 0.52}))  # beats random (50%) at 2 epochs; 2 points at 8: within noise
    assert "at 70% pruned, CCS beats random at 2 epochs." in regime.context(wins, PROFILE)
    both = sweep(grid({}, ccs={2.0: 0.6, 8.0: 0.6}))
    assert "CCS beats random at 2, 8 epochs." in regime.context(both, PROFILE)
    none = sweep(grid({}, ccs={2.0: 0.4, 8.0: 0.5}))
    assert "CCS beats random at no budget." in regime.context(none, PROFILE)


def test_longest_budget_sentence_only_when_hard_loses_at_every_fraction():
    loses = sweep(grid({(0.5, 8.0): -0.05, (0.7, 8.0): -0.04}), train={2.0: 0.4, 8.0: 0.734})
    assert regime.context(loses, PROFILE).endswith(
        "Training longer does not reach the regime where the hardest examples pay: at the longest budget the full "
        "data reaches 73% train accuracy and hard still loses to easy.")
    tie_at_one = sweep(grid({(0.5, 8.0): -0.05, (0.7, 8.0): -0.02}))  # 2 points at 70%: within noise
    assert "Training longer" not in regime.context(tie_at_one, PROFILE)


# --- plain facts and the verdict -----------------------------------------------------------------------------

def test_facts_numbers():
    table = sweep(grid({}), train={2.0: 0.4123, 8.0: 0.987})
    facts = regime.facts({"sweep": table}, PROFILE)
    assert facts["runs"] == str(len(table)) == "16"  # 2 budgets x (3 + 4 selections) + 2 full-data runs
    assert (facts["seeds"], facts["ccs_cut"], facts["score_seeds"]) == ("1", "10%", "2")
    assert (facts["budgets"], facts["largest"]) == ("2, 8", "70%")
    assert facts["train_range"] == "41.2% at 2 epochs to 98.7% at 8 epochs"
    assert facts["table"].data.loc[(0.7, "ccs"), 2.0] == pytest.approx(0.5)
    assert facts["table"].data.loc[(0.0, "full"), 8.0] == pytest.approx(0.9)


def test_verdict_is_the_regime_rule():
    table = sweep(grid({(0.7, 2.0): -0.05, (0.7, 8.0): 0.05}))
    (verdict,) = regime.verdicts({"sweep": table}, PROFILE)
    assert verdict.claim_id == "regime" and verdict.verdict == "reproduced"
    assert regime.CLAIMS == ("regime",)


def test_verdict_reads_the_seed_noise_of_the_run_store(monkeypatch):
    # an empty store has no two runs that differ only by seed: one seed per cell cannot be judged
    monkeypatch.setattr("analysis.chapters.regime.seed_noise", retraining.seed_noise)
    assert math.isnan(retraining.seed_noise(PROFILE).sd)
    (verdict,) = regime.verdicts({"sweep": sweep(grid({(0.7, 2.0): -0.05, (0.7, 8.0): 0.05}))}, PROFILE)
    assert verdict.verdict == "inconclusive"
