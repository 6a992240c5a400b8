"""The score-epochs page: its table, and the sentence naming the subsets that beat random pruning."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from analysis.chapters import score_epochs
from analysis.profiles import ScoreEpochs, get_profile
from analysis.statistics import SeedNoise

# three retraining seeds around each mean: their own standard deviation, 0.2 points, sets each arm's standard
# error, so a difference counts beyond 2 * sqrt(2 / 3) * 0.2 = 0.33 points whatever the pooled noise
SPREAD = (-0.002, 0.0, 0.002)
NOISE = SeedNoise(sd=0.002, dof=30)  # runs that vary by a fifth of a point, as these tables' seeds do


def sweep(means: dict[tuple[str, float], float], random: float) -> pd.DataFrame:
    """A hand-made score-epoch sweep: three seeds around each (score, epoch) mean, and random pruning."""
    rows = [{"score": s, "epoch": e, "seed": i, "test_acc": m + d}
            for (s, e), m in means.items() for i, d in enumerate(SPREAD)]
    rows += [{"score": "random", "epoch": np.nan, "seed": i, "test_acc": random + d} for i, d in enumerate(SPREAD)]
    return pd.DataFrame(rows)


ACCURACY = pd.DataFrame({"epoch": [0.0, 0.0, 0.5, 0.5], "seed": [0, 1, 0, 1], "train_acc": [0.1, 0.1, 0.44, 0.46]})
MEANS = {("el2n", 0.0): 0.60, ("el2n", 0.5): 0.70, ("grand", 0.0): 0.59, ("grand", 0.5): 0.66}


def test_subsets_beyond_two_standard_errors_beat_random():
    # random 0.65: el2n@0.5 is 5 points above, grand@0.5 1 point above (beyond 0.33 points), the rest below
    assert score_epochs.against_random(sweep(MEANS, 0.65), NOISE, +1) == ["EL2N at epoch 0.5", "GraNd at epoch 0.5"]
    assert score_epochs.context(sweep(MEANS, 0.65), NOISE) == (
        "Subsets that beat random pruning beyond two standard errors: EL2N at epoch 0.5, GraNd at epoch 0.5.")
    # arms with their own seeds need no pooled estimate
    assert score_epochs.against_random(sweep(MEANS, 0.65), SeedNoise(sd=math.nan, dof=0), +1) == [
        "EL2N at epoch 0.5", "GraNd at epoch 0.5"]


def test_without_a_winner_the_sentence_names_the_losers_or_says_all_are_within_noise():
    # random 0.698: el2n@0.5 only 0.2 points above; the other three 3.2 to 10.8 points below
    assert score_epochs.against_random(sweep(MEANS, 0.698), NOISE, +1) == []
    assert score_epochs.context(sweep(MEANS, 0.698), NOISE) == (
        "No score from any epoch beats random pruning beyond two standard errors here; EL2N at epoch 0, GraNd at "
        "epoch 0, GraNd at epoch 0.5 fall below it.")
    close = {k: 0.70 + d for k, d in zip(MEANS, (0.0, 0.001, -0.001, 0.002), strict=True)}
    assert score_epochs.context(sweep(close, 0.70), NOISE) == (
        "No score from any epoch beats random pruning beyond two standard errors here; every one is within noise "
        "of it.")
    one = {("el2n", 0.5): 0.60, ("grand", 0.5): 0.70}
    assert score_epochs.context(sweep(one, 0.70), NOISE).endswith("EL2N at epoch 0.5 falls below it.")


def test_facts_show_the_mean_per_score_and_epoch():
    profile = get_profile("smoke")
    skew = pd.DataFrame({"score": ["el2n"], "epoch": [0.5], "class": ["ship"], "kept": [0.17]})
    facts = score_epochs.facts({"sweep": sweep(MEANS, 0.65), "seed_noise": NOISE.table(), "accuracy": ACCURACY,
                                "skew": skew}, profile)
    table = facts["table"].data
    assert list(table.columns) == [0.0, 0.5] and list(table.index) == ["el2n", "grand"]
    assert (table.index.name, table.columns.name) == ("pruned by", "score epoch")
    assert abs(table.loc["el2n", 0.5] - 0.70) < 1e-12
    html = facts["table"].to_html()
    assert ">0.5</th>" in html and ">70.00%</td>" in html and "epoch_" not in html
    assert facts["random"] == "65.00%" and facts["fraction"] == f"{profile.study_fraction:.0%}"
    assert facts["skew"].endswith("EL2N: ship 17% at epoch 0.5.")
    assert facts["kirsch_timing"].startswith("Read at the last score epoch before his score time (16%")
    assert facts["score_accuracy"].endswith("(eval mode, without augmentation; mean of 2 runs): 10% at "
                                            "initialisation, 45% at epoch 0.5.")


def test_the_page_judges_its_claim():
    verdicts = score_epochs.verdicts({"sweep": sweep(MEANS, 0.65), "seed_noise": NOISE.table()},
                                     get_profile("smoke"))
    assert [v.claim_id for v in verdicts] == list(score_epochs.CLAIMS) == ["early"]
    assert verdicts[0].verdict == "reproduced"  # el2n@0.5 beats both el2n@0 and random


def laptop_sweep(at_1: float, at_2: float, random: float = 0.85) -> pd.DataFrame:
    """A `laptop` sweep: EL2N at initialisation, 5%, 10% and 20% of its 10 epochs."""
    return sweep({("el2n", 0.0): 0.60, ("el2n", 0.5): 0.80, ("el2n", 1.0): at_1, ("el2n", 2.0): at_2}, random)


def test_kirschs_score_time_is_bracketed_by_the_profiles_score_epochs():
    # after 2 of 12.6 epochs (16%): laptop 1 and 2 of 10; smoke 0.5 of 5, scarce 7 of 70 and paper 20 of 200 all lie
    # before it with none after
    assert [score_epochs.kirsch_epochs(get_profile(n)) for n in ("laptop", "smoke", "scarce", "paper")] == [
        [1.0, 2.0], [0.5], [7], [20]]


def test_the_figure_marks_the_published_score_times_in_the_profiles_epochs():
    # the paper reads its scores at epoch 20 of 200 (10%), Kirsch after 2 of 12.6 epochs (16%)
    laptop = score_epochs.published_score_times(get_profile("laptop"))
    assert list(laptop) == ["Paul et al. (2021): 10% of training", "Kirsch (PyTorch): 16% of training"]
    assert np.allclose(list(laptop.values()), [1.0, 20 / 12.6])
    assert np.allclose(list(score_epochs.published_score_times(get_profile("paper")).values()), [20, 4000 / 126])


def test_the_timing_sentence_reads_el2n_on_both_sides_of_kirschs_score_time():
    # Kirsch reads his scores after 2 of 12.6 epochs (16%), between `laptop`'s epochs 1 (10%) and 2 (20%); his
    # EL2N beats random pruning at half pruned by 92.56 - 91.39 = +1.2 points
    laptop = get_profile("laptop")
    text = score_epochs.kirsch_timing(laptop_sweep(0.83, 0.84), NOISE, laptop)
    assert text.startswith("Read on either side of his score time (16% of training), EL2N reaches 83.00% at epoch 1 "
                           "(10% of training), -2.0 points from random pruning (95% interval -2.")
    assert "3 seeds) and 84.00% at epoch 2 (20% of training), -1.0 points" in text and "epoch 0.5" not in text
    assert text.endswith("3 seeds): below random pruning on both sides of his score time, so the timing does not "
                         "explain why his own runs put EL2N +1.2 points from random pruning.")
    assert score_epochs.kirsch_timing(laptop_sweep(0.86, 0.87), NOISE, laptop).endswith(
        ": above random pruning on both sides of his score time, as in his own runs (+1.2 points).")
    # within noise on both sides neither agrees nor disagrees with his runs
    assert score_epochs.kirsch_timing(laptop_sweep(0.85, 0.851), NOISE, laptop).endswith(
        ": within noise of random pruning on both sides of his score time, so these runs cannot tell whether the "
        "timing explains why his own runs put EL2N +1.2 points from random pruning.")


def test_where_the_comparison_turns_between_the_two_epochs_both_sides_are_named():
    laptop = get_profile("laptop")
    assert score_epochs.kirsch_timing(laptop_sweep(0.83, 0.87), NOISE, laptop).endswith(
        ": below random pruning, then above it, so reading the scores at his score time could account for why his "
        "own runs put EL2N +1.2 points from random pruning.")
    assert score_epochs.kirsch_timing(laptop_sweep(0.87, 0.83), NOISE, laptop).endswith(
        ": above random pruning, then below it, so reading the scores at his score time could account for why his "
        "own runs put EL2N +1.2 points from random pruning.")
    # his side (above) is on neither side here
    assert score_epochs.kirsch_timing(laptop_sweep(0.83, 0.85), NOISE, laptop).endswith(
        ": below random pruning, then within noise of it; the comparison changes between these epochs.")
    # at a fraction he did not prune there is no result of his to explain
    at_40 = replace(laptop, study_fraction=0.4)
    assert score_epochs.kirsch_timing(laptop_sweep(0.83, 0.87), NOISE, at_40).endswith(
        ": below random pruning, then above it; the comparison changes between these epochs.")
    assert score_epochs.kirsch_timing(laptop_sweep(0.83, 0.84), NOISE, at_40).endswith(
        ": below random pruning on both sides of his score time.")


def test_the_timing_sentence_at_or_only_after_kirschs_score_time():
    # an epoch that falls on his share: 2 of 12.6
    on_it = replace(get_profile("laptop"), epochs=12.6, score_epochs=ScoreEpochs(epochs=(0, 2)))
    text = score_epochs.kirsch_timing(laptop_sweep(0.83, 0.87), NOISE, on_it)
    assert text.startswith("Read at his score time (16% of training), EL2N reaches 87.00% at epoch 2 (16% of ")
    assert text.endswith(": above random pruning at his score time, as in his own runs (+1.2 points).")
    # only an epoch after it (30% of training)
    after = replace(get_profile("laptop"), score_epochs=ScoreEpochs(epochs=(3,)))
    text = score_epochs.kirsch_timing(sweep({("el2n", 3.0): 0.80}, 0.85), NOISE, after)
    assert text.startswith("Read at the first score epoch after his score time (16% of training), EL2N reaches "
                           "80.00% at epoch 3 (30% of training)")
    assert text.endswith(": below random pruning just after his score time, so the timing does not explain why his "
                         "own runs put EL2N +1.2 points from random pruning.")


def test_the_timing_sentence_says_when_no_score_epoch_is_as_late_as_kirschs():
    # smoke reads scores at 0 and 0.5 of 5 epochs (10%): both before his 16%
    text = score_epochs.kirsch_timing(sweep(MEANS, 0.65), NOISE, get_profile("smoke"))
    assert text.startswith("Read at the last score epoch before his score time (16% of training), EL2N reaches "
                           "70.00% at epoch 0.5 (10% of training), +5.0 points from random pruning")
    assert text.endswith("No score epoch of this profile comes as late as his, so his timing cannot be tested here.")


def test_class_skew_names_the_class_each_subset_keeps_least_of():
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 2, 2])  # class 2 has 2 images
    chosen = [({"score": "el2n", "epoch": 0.0}, torch.tensor([0, 1, 2, 4])),  # keeps 3/4, 1/4, 0/2
              ({"score": "el2n", "epoch": 1.0}, torch.tensor([0, 4, 5, 8])),  # keeps 1/4, 2/4, 1/2
              ({"score": "grand", "epoch": 0.0}, torch.tensor([0, 1, 4, 5, 8]))]  # keeps 2/4, 2/4, 1/2: a tie
    skew = score_epochs.class_skew(chosen, labels, ("cat", "dog", "ship"))
    assert skew.to_dict("records") == [{"score": "el2n", "epoch": 0.0, "class": "ship", "kept": 0.0},
                                       {"score": "el2n", "epoch": 1.0, "class": "cat", "kept": 0.25},
                                       {"score": "grand", "epoch": 0.0, "class": "cat", "kept": 0.5}]
    assert score_epochs.skew_sentence(skew.iloc[[1, 0, 2]], 0.5) == (
        "The selection prunes class-agnostically, as in the paper; the class each subset keeps least of, and the "
        "share of its images kept (random pruning keeps about 50% of each): EL2N: ship 0% at initialisation, cat 25% "
        "at epoch 1; GraNd: cat 50% at initialisation.")


def test_a_sweep_without_the_epochs_near_kirschs_is_refused():
    with pytest.raises(ValueError, match="no EL2N runs at epoch 1: build it from `kirsch_epochs`"):
        score_epochs.kirsch_timing(sweep(MEANS, 0.65), NOISE, get_profile("laptop"))
