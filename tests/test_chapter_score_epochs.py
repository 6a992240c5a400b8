"""The score-epochs page: its table, and the sentence naming the subsets that beat random pruning."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.chapters import score_epochs
from analysis.profiles import get_profile
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
    facts = score_epochs.facts({"sweep": sweep(MEANS, 0.65), "seed_noise": NOISE.table(), "accuracy": ACCURACY},
                               profile)
    table = facts["table"].data
    assert list(table.columns) == [0.0, 0.5] and list(table.index) == ["el2n", "grand"]
    assert (table.index.name, table.columns.name) == ("pruned by", "score epoch")
    assert abs(table.loc["el2n", 0.5] - 0.70) < 1e-12
    html = facts["table"].to_html()
    assert ">0.5</th>" in html and ">70.00%</td>" in html and "epoch_" not in html
    assert facts["random"] == "65.00%" and facts["fraction"] == f"{profile.study_fraction:.0%}"
    assert facts["score_accuracy"].endswith("(eval mode, without augmentation; mean of 2 runs): 10% at "
                                            "initialisation, 45% at epoch 0.5.")


def test_the_page_judges_its_claim():
    verdicts = score_epochs.verdicts({"sweep": sweep(MEANS, 0.65), "seed_noise": NOISE.table()},
                                     get_profile("smoke"))
    assert [v.claim_id for v in verdicts] == list(score_epochs.CLAIMS) == ["early"]
    assert verdicts[0].verdict == "reproduced"  # el2n@0.5 beats both el2n@0 and random
