"""The regime page's sweeps, facts and sentence choices on hand-made tables (no training)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace

import pandas as pd
import pytest
import torch

from analysis import plots, retraining
from analysis.chapters import regime
from analysis.profiles import PROTOCOL, Regime, get_profile
from analysis.retraining import RandomSubset
from analysis.statistics import SeedNoise, noise_table

BUDGETS, FRACTIONS = (2.0, 8.0), (0.5, 0.7)
SIZES = (500, 1_000, 2_500)  # training images: 50, 100 and 250 per class
PROFILE = replace(get_profile("smoke"), regime=Regime(sizes=(50, 100, 250), epochs=BUDGETS, fractions=FRACTIONS,
                                                      ccs_hard_cut=0.1), secondary_seeds=1, score_seeds=3)
HALF = PROFILE.study_fraction  # 50%: the size sweep's fraction pruned
# one point of single-run noise: with one seed per cell a difference counts beyond 2 * sqrt(2) * 1 = 2.8 points
NOISE = SeedNoise(sd=0.01, dof=10)
EVERYWHERE = defaultdict(lambda: NOISE)  # that noise at every size and budget


def sweep(cells: dict[tuple[float, float], dict[str, float]], train: dict[float, float] | None = None) -> pd.DataFrame:
    """A budget sweep with one seed per cell: `cells[(fraction, budget)]` maps selection -> test accuracy;
    the full-data runs (fraction 0) reach 90% test and `train[budget]` train accuracy."""
    train = train or {b: 0.5 for b in BUDGETS}
    rows = [{"budget_epochs": b, "fraction": f, "selection": s, "seed": 0, "test_acc": acc, "train_acc": 1.0}
            for (f, b), accs in cells.items() for s, acc in accs.items()]
    rows += [{"budget_epochs": b, "fraction": 0.0, "selection": "full", "seed": 0, "test_acc": 0.9,
              "train_acc": t} for b, t in train.items()]
    return pd.DataFrame(rows, columns=regime.BUDGET_COLUMNS)


def cell(hard: float, easy: float, random: float = 0.5, ccs: float | None = None) -> dict[str, float]:
    return {"hard": hard, "easy": easy, "random": random} | ({"ccs": ccs} if ccs is not None else {})


def grid(hard_minus_easy: dict[tuple[float, float], float], random: float = 0.5,
         ccs: dict[float, float] | None = None) -> dict[tuple[float, float], dict[str, float]]:
    """Easy at 80% everywhere, hard offset per (fraction, budget); CCS at the largest fraction (default 50%)."""
    ccs = ccs or {}
    return {(f, b): cell(0.8 + hard_minus_easy.get((f, b), 0.0), 0.8, random,
                         ccs.get(b, 0.5) if f == max(FRACTIONS) else None)
            for f in FRACTIONS for b in BUDGETS}


def size_sweep(hard_minus_easy: dict[int, float], random: float | dict[int, float] = 0.5,
               full: dict[int, float] | None = None) -> pd.DataFrame:
    """A size sweep at 50% pruned with one seed per cell: easy at 80% at every size, hard offset per size, random
    at `random` (per size if a dict); the full-data runs reach `full[size]` test accuracy (default 90%)."""
    full = full or {}
    rows = []
    for size in SIZES:
        accs = {"hard": 0.8 + hard_minus_easy.get(size, 0.0), "easy": 0.8,
                "random": random.get(size, 0.5) if isinstance(random, dict) else random}
        rows += [{"size": size, "fraction": HALF, "selection": s, "seed": 0, "test_acc": a, "train_acc": 1.0}
                 for s, a in accs.items()]
        rows.append({"size": size, "fraction": 0.0, "selection": "full", "seed": 0,
                     "test_acc": full.get(size, 0.9), "train_acc": 1.0})
    return pd.DataFrame(rows, columns=regime.SIZE_COLUMNS)


def tables(sizes: pd.DataFrame | None = None, budgets: pd.DataFrame | None = None,
           noise: SeedNoise = NOISE) -> dict[str, pd.DataFrame]:
    """The page's tables, each sweep a tie everywhere unless given, `noise` at every size and budget."""
    return {"sizes": size_sweep({}) if sizes is None else sizes, "budgets": sweep(grid({})) if budgets is None
            else budgets, "size_noise": noise_table({n: noise for n in SIZES}, regime.SIZE),
            "budget_noise": noise_table({b: noise for b in BUDGETS}, regime.BUDGET)}


# --- the sweeps, without training ----------------------------------------------------------------------------

def test_run_builds_each_size_and_budget_without_training(monkeypatch, store):
    """Each size: its own score runs on that class-balanced set, EL2N at 10% of its budget, the hardest, easiest and
    a random half retrained for that size's full-data steps; then the budget sweep as before."""
    profile = get_profile("smoke")  # sizes 50 and 100 per class, budgets 2.5 and 5 epochs, 2 score seeds
    trained, scored, retrained = [], [], []

    def score_runs(p, store, configs, executor):
        trained.extend(configs)
        return [{"final_test_acc": 0.9, "final_train_acc": 1.0}] * len(configs)

    def compute_scores(p, store, score, epoch, seeds, variant=PROTOCOL, executor=None):
        scored.append((p.num_train, score, epoch, seeds, variant.epochs))
        return torch.arange(p.num_train, dtype=torch.float), None  # example i has score i: the hardest are the last

    def retrain(p, store, selections, seeds, executor, desc, variant=PROTOCOL):
        retrained.append((p, selections, variant))
        return pd.DataFrame([{**labels, "seed": s, "test_acc": 0.5, "train_acc": 0.6}
                             for labels, _ in selections for s in range(seeds)])

    for name, fake in (("score_runs", score_runs), ("compute_scores", compute_scores), ("retrain", retrain)):
        monkeypatch.setattr(regime, name, fake)
    out = regime.run(profile, store("smoke"))

    # sizes: 500 images at 7 steps per epoch, 1,000 at 15 (batch 64), 5 epochs each
    assert [(c.data.train_per_class, c.seed, c.steps) for c in trained[:4]] == [
        (50, 0, 35), (50, 1, 35), (100, 0, 75), (100, 1, 75)]
    assert scored[:2] == [(500, "el2n", 0.5, 2, None), (1_000, "el2n", 0.5, 2, None)]
    for (p, selections, variant), n, steps in zip(retrained[:2], (500, 1_000), (35, 75)):
        assert p.num_train == n and variant == PROTOCOL and p.train_config(1000).steps == steps
        (hard_labels, hard), (easy_labels, easy), (random_labels, random) = selections
        assert (hard_labels, easy_labels, random_labels) == ({"selection": "hard"}, {"selection": "easy"},
                                                            {"selection": "random"})
        assert hard.tolist() == list(range(n // 2, n)) and easy.tolist() == list(range(n // 2))
        assert random == RandomSubset(n // 2)
    sizes = out["sizes"]
    assert list(sizes.columns) == regime.SIZE_COLUMNS
    assert sizes.groupby("size")["selection"].apply(sorted).to_dict() == {
        500: ["easy", "full", "full", "hard", "random"], 1_000: ["easy", "full", "full", "hard", "random"]}
    assert set(sizes.loc[sizes["selection"] != "full", "fraction"]) == {0.5}

    # budgets: the profile's own 1,000 images for 2.5 and 5 epochs (38 and 75 steps)
    assert [(c.data.train_per_class, c.steps) for c in trained[4:]] == [(100, 38), (100, 38), (100, 75), (100, 75)]
    assert scored[2:] == [(1_000, "el2n", 0.25, 2, 2.5), (1_000, "el2n", 0.5, 2, 5.0)]
    assert [v.epochs for _, _, v in retrained[2:]] == [2.5, 5.0]
    budgets = out["budgets"]
    assert list(budgets.columns) == regime.BUDGET_COLUMNS
    assert sorted(budgets.loc[budgets["budget_epochs"] == 5.0, "selection"]) == [
        "ccs", "easy", "easy", "full", "full", "hard", "hard", "random", "random"]


def test_sized_profiles_are_in_ascending_order_with_the_whole_set_last():
    laptop = get_profile("laptop")
    assert [p.num_train for p in regime.sized(laptop)] == [2_500, 10_000, 25_000, 50_000]
    assert regime.sized(laptop)[-1] == laptop  # the whole set: the protocol's own runs


# --- sentence parts --------------------------------------------------------------------------------------------

def test_listing_joins_with_and():
    assert [regime.listing(w) for w in ([], ["a"], ["a", "b"], ["a", "b", "c"])] == ["", "a", "a and b", "a, b and c"]


def test_where_lists_the_points_with_a_sign_in_the_axis_units():
    signs = pd.Series([-1, 1, 0, 1], index=pd.Index([2.5, 5.0, 10.0, 20.0], name="budget_epochs"))
    assert regime.where(signs, 1) == "5 and 20"
    assert regime.where(signs, -1) == "2.5"
    sizes = pd.Series([1, 1, -1], index=pd.Index([2_500.0, 10_000.0, 50_000.0], name="size"))
    assert regime.where(sizes, 1) == "2,500 and 10,000"
    assert regime.where(sizes, 0) == ""


def test_crossover_sentence_names_each_outcome_present_in_order():
    signs = pd.Series([0, -1, 1], index=pd.Index([2.0, 4.0, 8.0], name="budget_epochs"))
    assert regime.crossover_sentence(0.5, signs, 8.0) == (
        "50% pruned: easy wins at 4 epochs, hard wins at 8 epochs, within noise at 2 epochs, "
        "so hard wins from 8 epochs on")
    sizes = pd.Series([-1, 0, 1], index=pd.Index([500.0, 1_000.0, 2_500.0], name="size"))
    assert regime.crossover_sentence(0.5, sizes, 2_500.0) == (
        "50% pruned: easy wins at 500 images, hard wins at 2,500 images, within noise at 1,000 images, "
        "so hard wins from 2,500 images on")


def test_crossover_sentence_leaves_out_absent_outcomes_and_says_when_hard_never_wins_for_good():
    budgets = pd.Series([-1, -1], index=pd.Index([2.0, 8.0], name="budget_epochs"))
    assert regime.crossover_sentence(0.7, budgets, None) == (
        "70% pruned: easy wins at 2 and 8 epochs, so hard does not win at the longest budget")
    sizes = pd.Series([-1, -1], index=pd.Index([500.0, 2_500.0], name="size"))
    assert regime.crossover_sentence(0.5, sizes, None) == (
        "50% pruned: easy wins at 500 and 2,500 images, so hard does not win at the largest size")


# --- the size sweep's facts ------------------------------------------------------------------------------------

def test_size_crossover_fact():
    # 5 points are beyond the 2.8 points of one seed a side, 2 points within them
    def says(diffs: dict[int, float]) -> str:
        return regime.facts(tables(size_sweep(diffs)), PROFILE)["size_crossover"]

    assert says({500: -0.05, 1_000: 0.02, 2_500: 0.05}) == (
        "50% pruned: easy wins at 500 images, hard wins at 2,500 images, within noise at 1,000 images, "
        "so hard wins from 2,500 images on")
    assert says({500: -0.05, 1_000: 0.05, 2_500: 0.05}) == (
        "50% pruned: easy wins at 500 images, hard wins at 1,000 and 2,500 images, so hard wins from 1,000 images on")
    assert says({500: 0.05, 1_000: -0.05, 2_500: 0.05}) == (  # the win at 500 images does not last
        "50% pruned: easy wins at 1,000 images, hard wins at 500 and 2,500 images, so hard wins from 2,500 images on")
    assert says({500: -0.05, 1_000: 0.05, 2_500: 0.02}) == (
        "50% pruned: easy wins at 500 images, hard wins at 1,000 images, within noise at 2,500 images, "
        "so hard does not win at the largest size")
    assert regime.crossings(size_sweep({1_000: 0.05, 2_500: 0.05}), [HALF], EVERYWHERE, regime.SIZE) == {HALF: 1_000.0}


def test_size_context_names_the_sizes_where_random_beats_both_ends():
    # random at 85% beats easy (80%) by 5 points everywhere, and hard except at 1,000 images (hard at 90%)
    beats = size_sweep({1_000: 0.10}, random=0.85)
    assert regime.facts(tables(beats), PROFILE)["size_context"] == (
        "At 50% pruned, random pruning beats both the hardest and the easiest subset at 500 and 2,500 images.")
    one = size_sweep({}, random={2_500: 0.85})
    assert regime.size_context(one, HALF, EVERYWHERE).endswith("subset at 2,500 images.")
    assert regime.size_context(size_sweep({}, random=0.82), HALF, EVERYWHERE).endswith(  # 2 points: within noise
        "subset at no size.")


def test_size_facts_numbers():
    facts = regime.facts(tables(size_sweep({}, full={500: 0.4, 1_000: 0.5, 2_500: 0.61234})), PROFILE)
    assert (facts["sizes"], facts["size_fraction"]) == ("500, 1,000 and 2,500", "50%")
    # the profile's 5 epochs over each set at batch 64: 7, 15 and 39 steps per epoch
    assert facts["size_steps"] == "35 steps at 500, 75 steps at 1,000 and 195 steps at 2,500 images"
    assert facts["size_full"] == "40.0% at 500 images to 61.2% at 2,500 images"
    table = facts["size_table"].data
    assert table.loc[(0.0, "full"), 2_500] == pytest.approx(0.61234)
    assert table.loc[(0.5, "hard"), 500] == pytest.approx(0.8)
    assert facts["runs"] == "28"  # 3 sizes x (3 selections + 1 full-data run) + the 16 runs of the budget sweep


# --- the budget sweep's facts ----------------------------------------------------------------------------------

def test_budget_crossover_fact_joins_the_fractions():
    table = sweep(grid({(0.5, 2.0): -0.05, (0.5, 8.0): 0.05, (0.7, 2.0): -0.05, (0.7, 8.0): -0.05}))
    assert regime.facts(tables(budgets=table), PROFILE)["budget_crossover"] == (
        "50% pruned: easy wins at 2 epochs, hard wins at 8 epochs, so hard wins from 8 epochs on; "
        "70% pruned: easy wins at 2 and 8 epochs, so hard does not win at the longest budget")
    assert regime.crossings(table, FRACTIONS, EVERYWHERE, regime.BUDGET) == {0.5: 8.0, 0.7: None}
    within = sweep(grid({(0.5, 2.0): -0.05, (0.5, 8.0): 0.02, (0.7, 2.0): -0.05, (0.7, 8.0): -0.05}))
    assert regime.facts(tables(budgets=within), PROFILE)["budget_crossover"].startswith(
        "50% pruned: easy wins at 2 epochs, within noise at 8 epochs, so hard does not win at the longest budget; ")


def test_growing_lead_of_easy_is_reported_per_fraction():
    # 50%: -2 -> -6 points (grows); 70%: -6 -> -2 points (shrinks)
    table = sweep(grid({(0.5, 2.0): -0.02, (0.5, 8.0): -0.06, (0.7, 2.0): -0.06, (0.7, 8.0): -0.02}))
    assert regime.budget_context(table, PROFILE, EVERYWHERE).startswith(
        "Easy's lead over hard grows with the budget instead of shrinking: hard minus easy goes from "
        "-2.0 to -6.0 points at 50% pruned. Random pruning")


def test_no_growing_lead_when_hard_starts_ahead_or_the_gap_shrinks():
    starts_ahead = sweep(grid({(0.5, 2.0): 0.01, (0.5, 8.0): -0.06}))
    shrinks = sweep(grid({(0.5, 2.0): -0.06, (0.5, 8.0): -0.02}))
    for table in (starts_ahead, shrinks):
        assert "grows with the budget" not in regime.budget_context(table, PROFILE, EVERYWHERE)


def test_hard_closing_on_random_is_reported_where_the_narrowing_is_beyond_noise():
    # random at 85%; at 50% pruned hard goes from 70% to 82% (random's lead 15 -> 3 points; the change's standard
    # error is 2 points, four cells of one seed); at 70% hard stays at 80%
    closes = sweep(grid({(0.5, 2.0): -0.10, (0.5, 8.0): 0.02}, random=0.85))
    assert regime.closing_on_random(closes, PROFILE, EVERYWHERE) == {0.5: pytest.approx((0.15, 0.03))}
    assert ("Hard closes on random pruning as the budget grows: random minus hard goes from +15.0 to +3.0 points at "
            "50% pruned (the narrowing's 95% interval excludes zero).") in \
        regime.budget_context(closes, PROFILE, EVERYWHERE)
    within_noise = sweep(grid({(0.5, 2.0): -0.05, (0.5, 8.0): -0.02}, random=0.85))  # 10 -> 7 points
    hard_ahead = sweep(grid({(0.5, 2.0): -0.10, (0.5, 8.0): 0.02}, random=0.5))
    for table in (within_noise, hard_ahead):
        assert regime.closing_on_random(table, PROFILE, EVERYWHERE) == {}
        assert "closes on random" not in regime.budget_context(table, PROFILE, EVERYWHERE)


def test_random_wins_count_cells_where_random_beats_both_ends_beyond_two_standard_errors():
    # random at 85% beats easy (80%) everywhere by 5 points, and hard (80%) except where hard is at 90% or at 83%
    # (2 points: within the 2.8 points of one seed a side)
    table = sweep(grid({(0.5, 2.0): 0.10, (0.5, 8.0): 0.03}, random=0.85))
    assert "Random pruning beats both the hardest and the easiest subset in 2 of 4 fraction-budget cells" in \
        regime.budget_context(table, PROFILE, EVERYWHERE)
    assert regime.random_wins(table, 0.5, EVERYWHERE, regime.BUDGET) == [] and \
        regime.random_wins(table, 0.7, EVERYWHERE, regime.BUDGET) == [2.0, 8.0]
    nowhere = sweep(grid({}, random=0.8))
    assert "in 0 of 4 fraction-budget cells" in regime.budget_context(nowhere, PROFILE, EVERYWHERE)


def test_ccs_budgets_or_no_budget():
    wins = sweep(grid({}, ccs={2.0: 0.6, 8.0: 0.52}))  # beats random (50%) at 2 epochs; 2 points at 8: within noise
    assert "at 70% pruned, CCS beats random at 2 epochs." in regime.budget_context(wins, PROFILE, EVERYWHERE)
    both = sweep(grid({}, ccs={2.0: 0.6, 8.0: 0.6}))
    assert "CCS beats random at 2, 8 epochs." in regime.budget_context(both, PROFILE, EVERYWHERE)
    none = sweep(grid({}, ccs={2.0: 0.4, 8.0: 0.5}))
    assert "CCS beats random at no budget." in regime.budget_context(none, PROFILE, EVERYWHERE)


def test_longest_budget_sentence_only_when_hard_loses_at_every_fraction():
    loses = sweep(grid({(0.5, 8.0): -0.05, (0.7, 8.0): -0.04}), train={2.0: 0.4, 8.0: 0.734})
    assert regime.budget_context(loses, PROFILE, EVERYWHERE).endswith(
        "Training longer does not reach the regime where the hardest examples pay: at the longest budget the full "
        "data reaches 73% train accuracy and hard still loses to easy.")
    tie_at_one = sweep(grid({(0.5, 8.0): -0.05, (0.7, 8.0): -0.02}))  # 2 points at 70%: within noise
    assert "Training longer" not in regime.budget_context(tie_at_one, PROFILE, EVERYWHERE)


def test_budget_facts_numbers():
    table = sweep(grid({}), train={2.0: 0.4123, 8.0: 0.987})
    facts = regime.facts(tables(budgets=table), PROFILE)
    assert len(table) == 16  # 2 budgets x (3 + 4 selections) + 2 full-data runs
    assert (facts["seeds"], facts["ccs_cut"], facts["score_seeds"]) == ("1", "10%", "2")
    assert (facts["budgets"], facts["largest"]) == ("2, 8", "70%")
    assert facts["train_range"] == "41.2% at 2 epochs to 98.7% at 8 epochs"
    assert facts["budget_table"].data.loc[(0.7, "ccs"), 2.0] == pytest.approx(0.5)
    assert facts["budget_table"].data.loc[(0.0, "full"), 8.0] == pytest.approx(0.9)
    assert facts["budget_context"] == regime.budget_context(table, PROFILE, EVERYWHERE)


# --- the verdict and the figure --------------------------------------------------------------------------------

def test_verdict_is_the_regime_rule_on_the_size_sweep():
    # easy wins on the smallest set and hard on the largest; the budget sweep (hard loses everywhere) is not judged
    budgets = sweep(grid({(f, b): -0.05 for f in FRACTIONS for b in BUDGETS}))
    (verdict,) = regime.verdicts(tables(size_sweep({500: -0.05, 2_500: 0.05}), budgets), PROFILE)
    assert verdict.claim_id == "regime" and verdict.verdict == "reproduced"
    assert verdict.ours == ("50% pruned, hard minus easy: "
                            "-5.00% (95% interval -8.15% to -1.85%; seeds: hard 1, easy 1) at 500 training images, "
                            "+5.00% (95% interval +1.85% to +8.15%; seeds: hard 1, easy 1) at 2,500")
    (reversed_,) = regime.verdicts(tables(size_sweep({500: 0.05, 2_500: -0.05})), PROFILE)
    assert reversed_.verdict == "not reproduced"
    assert regime.CLAIMS == ("regime",)


def test_without_seed_noise_one_seed_per_cell_is_inconclusive(store):
    # an empty store has no two runs that differ only by seed: one seed per cell cannot be judged
    noise = retraining.seed_noise(PROFILE, store(PROFILE.name))
    assert math.isnan(noise.sd)
    (verdict,) = regime.verdicts(tables(size_sweep({500: -0.05, 2_500: 0.05}), noise=noise), PROFILE)
    assert verdict.verdict == "inconclusive"


def test_figure_has_the_size_panel_first_then_one_budget_panel_per_fraction():
    sizes, budgets = size_sweep({500: -0.05, 2_500: 0.05}), sweep(grid({}))
    fig = plots.regime_panels(sizes, {HALF: 2_500.0}, budgets, regime.full_mean(budgets, regime.BUDGET),
                              {0.5: 8.0, 0.7: None})
    size_ax, *budget_axes = fig.axes[:3]
    assert size_ax.get_xscale() == "log" and size_ax.get_title() == "50% pruned, by data size"
    assert [t.get_text() for t in size_ax.get_xticklabels()] == ["500", "1,000", "2,500"]
    assert [list(line.get_xdata()) for line in size_ax.get_lines() if line.get_linestyle() == ":"] == [[2_500.0] * 2]
    assert [ax.get_title() for ax in budget_axes] == [f"{f:.0%} pruned, by training budget" for f in FRACTIONS]
    assert len(fig.axes) == 5  # each budget panel has a right axis for the full data's train accuracy
