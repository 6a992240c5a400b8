"""The pruning-curves page's facts on hand-made tables with known answers (no training)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.chapters import pruning_curves, score_epochs
from analysis.profiles import get_profile
from analysis.statistics import SeedNoise

# mean test accuracy per (method, fraction): 81% and 75% for EL2N from two seeds each, random from one
CURVES = pd.DataFrame([{"method": m, "fraction": f, "seed": s, "test_acc": a}
                       for m, f, s, a in (("el2n", 0.3, 0, 0.80), ("el2n", 0.3, 1, 0.82), ("el2n", 0.5, 0, 0.74),
                                          ("el2n", 0.5, 1, 0.76), ("random", 0.3, 0, 0.79),
                                          ("random", 0.5, 0, 0.70))])
FULL = pd.DataFrame({"test_acc": [0.84, 0.86], "train_acc": [0.996, 0.990]})
# EL2N keeps fewest cats; random keeps fewest ships and GraNd fewest airplanes, so neither row nor the whole table
# would name the cat
COVERAGE = pd.DataFrame({"airplane": [0.6, 0.5, 0.1], "cat": [0.2, 0.52, 0.5], "ship": [0.7, 0.45, 0.5]},
                        index=pd.Index(["el2n", "random", "grand"], name="method"))
SCORE_ACCURACY = pd.DataFrame({"epoch": [1.0, 1.0], "seed": [0, 1], "train_acc": [0.55, 0.57]})
# trained for half the steps, EL2N 2 points above random (3 seeds each, 0.1 points apart)
KIRSCH_STEPS = pd.DataFrame([{"method": m, "seed": s, "test_acc": a + d} for m, a in (("el2n", 0.72), ("random", 0.70))
                             for s, d in enumerate((-0.001, 0.0, 0.001))])
# seed noise 0.1 points, 0.4 among random arms (whose seeds also draw their subsets), 4 degrees of freedom each
NOISE = SeedNoise(sd=0.001, dof=4, random=SeedNoise(sd=0.004, dof=4)).table()
# EL2N keeping the hardest half of each class: 72% from two seeds, between class-agnostic EL2N (75%) and random (70%)
BALANCED = pd.DataFrame({"method": pruning_curves.BALANCED, "fraction": 0.5, "seed": [0, 1],
                         "test_acc": [0.715, 0.725]})
# EL2N at the score epochs nearest Kirsch's of the profiles below (smoke 0.5, laptop 1 and 2, paper 20), 2 seeds
# each (75% at smoke's), and random pruning (70%)
TIMING = pd.DataFrame({"score": ["el2n"] * 8 + ["random"] * 2, "epoch": [0.5, 0.5, 1, 1, 2, 2, 20, 20, None, None],
                       "seed": [0, 1] * 5, "test_acc": [0.74, 0.76, 0.7, 0.7, 0.72, 0.72, 0.8, 0.8, 0.69, 0.71]})
TABLES = {"curves": CURVES, "full": FULL, "coverage": COVERAGE, "score_accuracy": SCORE_ACCURACY,
          "kirsch_steps": KIRSCH_STEPS, "kirsch_noise": NOISE, "balanced": BALANCED, "timing": TIMING,
          "seed_noise": NOISE}


def with_half(el2n: float, table: str = "curves") -> dict:
    """TABLES with the EL2N arm at half pruned of `table` (the curves, or the half-steps runs) moved to `el2n`."""
    df = TABLES[table]
    arm = (df["method"] == "el2n") & (df["fraction"] == 0.5 if "fraction" in df else True)
    moved = df["test_acc"] - df.loc[arm, "test_acc"].mean() + el2n
    return {**TABLES, table: df.assign(test_acc=df["test_acc"].where(~arm, moved))}


def test_the_rarest_class_under_el2n_and_its_share_under_each_method():
    facts = pruning_curves.facts(TABLES, get_profile("smoke"))
    assert (facts["rare_class"], facts["rare_el2n"], facts["rare_random"]) == ("cat", "20%", "52%")


def test_kirschs_step_rule_is_compared_with_the_papers_with_the_random_arms_own_noise():
    text = pruning_curves.facts(TABLES, get_profile("smoke"))["kirsch_steps"]
    # se of the difference: sqrt(0.1^2 / 3 + 0.4^2 / 3) = 0.24 points on 4.5 Welch dof (t = 2.66): +-0.63 points
    assert text == ("Trained as his code trains a pruned run, for 50% of the full run's steps at 50% pruned, EL2N "
                    "reaches 72.00% and random pruning 70.00%: +2.0 points (95% interval +1.4 to +2.6; 3 and 3 seeds), "
                    "against +5.0 points with the paper's rule (75.00% and 70.00%): his step rule does not change the "
                    "comparison.")
    assert pruning_curves.kirsch_variant(get_profile("laptop")).epochs == 5


# his EL2N beats random pruning by 92.56% - 91.39% at half pruned (published_results.yaml, kirsch_pytorch)
@pytest.mark.parametrize(("paper", "his_rule", "ends"), [
    (0.75, 0.70, "under his step rule EL2N is within noise of random pruning, where his own runs put it +1.2 points "
                 "from it."),
    (0.75, 0.68, "under his step rule EL2N is below random pruning, where his own runs put it +1.2 points from it."),
    (0.65, 0.72, "his step rule turns the comparison to his own runs' side (+1.2 points)."),
    (0.65, 0.68, "his step rule does not change the comparison, so it does not explain why his own runs put EL2N "
                 "+1.2 points from random pruning."),
    # within noise under both rules: neither for nor against his runs
    (0.70, 0.70, "his step rule does not change the comparison, and with both within noise these runs cannot tell "
                 "whether it explains why his own runs put EL2N +1.2 points from random pruning."),
])
def test_kirschs_step_rule_concludes_against_the_papers_rule_and_his_own_difference(paper, his_rule, ends):
    tables = {**with_half(paper), "kirsch_steps": with_half(his_rule, "kirsch_steps")["kirsch_steps"]}
    assert pruning_curves.facts(tables, get_profile("smoke"))["kirsch_steps"].endswith(ends)


def test_the_score_epoch_is_stated_with_how_far_the_score_runs_had_learnt():
    profile = get_profile("laptop")
    facts = pruning_curves.facts(TABLES, profile)
    assert (facts["score_epoch"], facts["score_share"], facts["score_train_acc"]) == ("1", "10%", "56%")


def test_accuracy_table_and_full_data_numbers():
    facts = pruning_curves.facts(TABLES, get_profile("smoke"))
    table = facts["table"].data
    assert list(table.columns) == ["30% pruned", "50% pruned"] and table.index.name == "pruned by"
    assert table.loc["el2n"].tolist() == pytest.approx([0.81, 0.75])
    assert table.loc["random"].tolist() == pytest.approx([0.79, 0.70])
    assert ">81.00%</td>" in facts["table"].to_html()
    assert (facts["full"], facts["full_test"], facts["full_train"]) == ("85.00%", "85.0%", "99.3%")


def test_a_class_balanced_subset_is_the_data_scarce_regime():
    facts = pruning_curves.facts(TABLES, get_profile("smoke"))  # 100 images per class, 2 sizes and 2 budgets
    assert facts["regime"].startswith("a data-scarce regime, where Sorscher et al. (2022) predict")
    assert (facts["n_train"], facts["study"], facts["regime_sizes"], facts["budgets"]) == (
        "1,000 training images", "50%", "2", "2")


def test_the_whole_training_set_is_the_papers_regime():
    facts = pruning_curves.facts(TABLES, get_profile("paper"))  # 40% pruned, 4 sizes and 5 budgets
    assert facts["regime"] == "the paper's full training set"
    assert (facts["n_train"], facts["study"], facts["regime_sizes"], facts["budgets"]) == (
        "50,000 training images", "40%", "4", "5")
    # a full-data network below 99% train accuracy does not fit its training set: the page says so
    unfitted = {**TABLES, "full": FULL.assign(train_acc=0.929)}
    assert pruning_curves.facts(unfitted, get_profile("laptop"))["regime"] == (
        "the paper's full training set, on a network that does not fit it within its training budget (train "
        "accuracy below 99%)")


@pytest.mark.parametrize(("name", "runs"), [("paper", 216), ("laptop", 45), ("smoke", 12)])
def test_retraining_runs_count_seeds_per_method_and_fraction(name, runs):
    # paper: 9 fractions x 6 methods x 4 seeds; laptop: 3 fractions x (3 x 3 primary + 3 x 2 controls);
    # smoke: 2 fractions x 6 methods x 1 seed
    assert pruning_curves.retraining_runs(get_profile(name)) == runs


def test_the_paper_profiles_cost_is_stated_on_every_profile():
    facts = pruning_curves.facts(TABLES, get_profile("smoke"))
    assert facts["paper_runs"] == "216 retraining runs of 200 epochs"


def test_kirschs_protocol_is_stated_from_his_code_beside_ours():
    text = pruning_curves.kirsch_protocol(get_profile("laptop"))
    assert "after 2 of 12.6 epochs (16% of training; ours at 10%" in text
    assert "fewer steps than his full-data run" in text


def test_forgetting_is_placed_against_the_full_data_and_el2n():
    # forgetting at 85.4% from two seeds, against the full data (85%) and EL2N (75%), both two seeds at 0.1-point
    # noise: se 0.1 on 4 dof (t = 2.776): +-0.28 points
    forgetting = pd.DataFrame({"method": "forgetting", "fraction": 0.5, "seed": [0, 1], "test_acc": [0.853, 0.855]})
    tables = {**TABLES, "curves": pd.concat([CURVES, forgetting], ignore_index=True)}
    assert pruning_curves.facts(tables, get_profile("smoke"))["forgetting"] == (
        "Forgetting scores (Toneva et al., 2019), the baseline the paper compares EL2N and GraNd with, reach 85.40% "
        "at 50% pruned (2 seeds): +0.4 points from the full data (95% interval +0.1 to +0.7) and +10.4 from EL2N "
        "(+10.1 to +10.7): they match the full data (90% interval within one point) and are better than EL2N.")
    assert pruning_curves.facts(TABLES, get_profile("smoke"))["forgetting"] == ""  # not run: no sentence


def test_class_balanced_el2n_is_placed_against_random_and_the_papers_selection():
    # against random (one seed, its own 0.4-point noise): se sqrt(0.1^2 / 2 + 0.4^2) = 0.41 on 4.2 Welch dof: +-1.1
    # points; against class-agnostic EL2N (fixed subsets, 0.1-point noise): se 0.1 on 4 dof (t = 2.776): +-0.28
    assert pruning_curves.facts(TABLES, get_profile("smoke"))["balanced"] == (
        "Keeping the hardest 50% of each class instead, so that every class keeps 50% of its images, EL2N reaches "
        "72.00% (2 seeds): +2.0 points from random pruning (95% interval +0.9 to +3.1) and -3.0 points from the "
        "class-agnostic subset (-3.3 to -2.7): above random pruning and worse than the paper's selection.")


@pytest.mark.parametrize(("balanced", "share"), [(0.72, "all"), (0.66, "part"), (0.65, "none")])
def test_where_el2n_loses_to_random_the_class_skew_accounts_for_all_part_or_none_of_it(balanced, share):
    tables = with_half(0.65)  # class-agnostic EL2N 5 points below random pruning
    tables["balanced"] = BALANCED.assign(test_acc=BALANCED["test_acc"] - 0.72 + balanced)
    assert pruning_curves.facts(tables, get_profile("smoke"))["balanced"].endswith(
        f", so the class skew accounts for {share} of EL2N's loss to random pruning.")


def test_the_page_states_el2n_read_near_kirschs_score_time():
    # smoke reads scores at 0 and 0.5 of 5 epochs (10%), both before his 16%: the later one is stated
    text = pruning_curves.facts(TABLES, get_profile("smoke"))["kirsch_timing"]
    assert text == score_epochs.kirsch_timing(TIMING, SeedNoise.of(NOISE), get_profile("smoke"))
    assert "EL2N reaches 75.00% at epoch 0.5 (10% of training), +5.0 points from random pruning" in text


def test_the_figure_marks_el2n_read_at_the_other_epoch_near_kirschs():
    laptop = get_profile("laptop")  # score epoch 1; Kirsch's time lies between epochs 1 and 2
    timing = TIMING[TIMING["epoch"].isin([1, 2]) | (TIMING["score"] == "random")]
    later = pruning_curves.later_el2n(timing, laptop)
    assert later["label"].tolist() == ["EL2N read at 20% of training"] * 2 and later["test_acc"].tolist() == [0.72] * 2
