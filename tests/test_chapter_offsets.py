"""The sliding-windows page's facts and sentence choice on hand-made tables (no training)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from analysis.chapters import offsets
from analysis.profiles import get_profile
from analysis.statistics import SeedNoise

PROFILE = replace(get_profile("smoke"), offsets=replace(get_profile("smoke").offsets, window_fraction=0.4))
N = PROFILE.num_train  # 1,000
NOISE = SeedNoise(sd=0.01, dof=10)  # one point of single-run noise


def sweep(windows: dict[int, list[float]], random: tuple[float, ...] = (0.5,)) -> pd.DataFrame:
    """`offset_sweep`-shaped rows: per offset its seeds' accuracies, then the random subset's."""
    rows = [{"offset": o, "selection": "window", "seed": s, "test_acc": a}
            for o, accs in windows.items() for s, a in enumerate(accs)]
    rows += [{"offset": np.nan, "selection": "random", "seed": s, "test_acc": a} for s, a in enumerate(random)]
    return pd.DataFrame(rows).assign(train_acc=1.0, kept=400)


RISES = ("Accuracy rises with every step of the offset, from 60.00% for the hardest window to 63.00% for the last "
         "one tested ({} skipped): the best window is the easiest one tested, not one that skips a small tail. {}; "
         "the regime page varies the amount of data.")
FULL = ("This profile trains on the whole training set, where Sorscher et al. (2022) expect harder examples to "
        "pay")
SCARCE = get_profile("scarce")


def best(skipped: str, share: str) -> str:
    return (f"On the mean over all seeds the best window skips the top {skipped} examples ({share}); the verdict "
            "chooses on one seed and judges on the others.")


def test_context_rising_over_more_than_two_offsets_says_what_the_amount_of_data_predicts():
    rising = sweep({0: [0.6], 10: [0.61], 20: [0.62], 200: [0.63]})
    scarce = "Sorscher et al. (2022) predict this for scarce data, and these are {:,} images"
    assert offsets.context(rising, PROFILE) == RISES.format("200", scarce.format(1_000))  # smoke: a subset too
    assert offsets.context(rising, SCARCE) == RISES.format("200", scarce.format(2_500))
    laptop = replace(get_profile("laptop"), offsets=PROFILE.offsets)
    assert offsets.context(sweep({0: [0.6], 1000: [0.61], 6000: [0.63]}), laptop) == RISES.format("6,000", FULL)


def test_context_best_window_when_not_rising_at_every_step():
    dips = sweep({0: [0.6], 10: [0.65], 20: [0.62], 200: [0.63]})
    assert offsets.context(dips, PROFILE) == best("10", "1.0%")
    flat = sweep({0: [0.6], 10: [0.6], 20: [0.6]})  # ties count as rising (monotonic, not strictly)
    assert offsets.context(flat, PROFILE).startswith("Accuracy rises")


def test_context_best_window_with_only_two_offsets():
    assert offsets.context(sweep({0: [0.6], 200: [0.63]}), PROFILE) == best("200", "20.0%")


def test_context_averages_the_seeds():
    # seed means: 0.60, 0.62, 0.61 -> best at 10 though its first seed is the lowest
    assert offsets.context(sweep({0: [0.6, 0.6], 10: [0.59, 0.65], 20: [0.61, 0.61]}), PROFILE) == best("10", "1.0%")


def test_facts_numbers_and_table():
    tables = {"offsets": sweep({0: [0.6, 0.62], 200: [0.63, 0.65]}, random=(0.5, 0.52)),
              "full": pd.DataFrame({"seed": [0], "test_acc": [0.7]})}
    facts = offsets.facts(tables, PROFILE)
    assert (facts["runs"], facts["window"], facts["window_share"]) == ("6", "400", "40%")
    assert (facts["random"], facts["full"]) == ("51.00%", "70.00%")
    table = facts["table"].data
    assert list(table.index) == ["0 (0%)", "200 (20%)"]
    assert table["test accuracy"].round(4).tolist() == [0.61, 0.64] and table["runs"].tolist() == [2, 2]
    assert facts["context"] == best("200", "20.0%")


def test_window_size_thousands():
    laptop = get_profile("laptop")
    profile = replace(laptop, offsets=replace(laptop.offsets, window_fraction=0.4))
    tables = {"offsets": sweep({0: [0.6]}), "full": pd.DataFrame({"test_acc": [0.7]})}
    assert offsets.facts(tables, profile)["window"] == "20,000"


def test_verdict_is_the_window_rule():
    # chosen on seed 0: offset 10 (1% skipped); on seeds 1 and 2 it beats offset 0 and random by 9.5 and 20 points
    windows = sweep({0: [0.6, 0.6, 0.61], 10: [0.7, 0.71, 0.69], 200: [0.63, 0.62, 0.64]}, random=(0.5, 0.51, 0.49))
    (verdict,) = offsets.verdicts({"offsets": windows, "full": None, "seed_noise": NOISE.table()}, PROFILE)
    assert verdict.claim_id == "window_cifar10" and verdict.verdict == "reproduced"
    assert "best offset on seed 0: 10 of 1,000 (1.0%)" in verdict.ours
    assert offsets.CLAIMS == ("window_cifar10",)


def test_verdict_with_one_seed_is_inconclusive():
    # the best window cannot be chosen and judged on the same seed without a winner's curse
    one_seed = {"offsets": sweep({0: [0.6], 10: [0.7], 200: [0.63]}), "full": None, "seed_noise": NOISE.table()}
    (verdict,) = offsets.verdicts(one_seed, PROFILE)
    assert verdict.verdict == "inconclusive" and "separate retraining seeds" in verdict.reason
