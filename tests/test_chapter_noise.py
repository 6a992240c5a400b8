"""The noise page's facts and sentence choices on hand-made tables (no training)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis.chapters import noise
from analysis.profiles import Noise, get_profile

PROFILE = replace(get_profile("smoke"), noise=Noise(fraction=0.1), score_epoch=0.5, study_fraction=0.5)
N = PROFILE.num_train  # 1,000: 10% noisy is 100 examples


def pruning(windows: dict[int, float], random: float = 0.5, grand_init: float = 0.6) -> pd.DataFrame:
    """`noise_study`-shaped pruning rows, one seed each: EL2N windows (offset -> accuracy), GraNd at init, random."""
    rows = [{"selection": "el2n", "offset": o, "seed": 0, "test_acc": a} for o, a in windows.items()]
    rows += [{"selection": "grand_init", "offset": 0, "seed": 0, "test_acc": grand_init},
             {"selection": "random", "offset": np.nan, "seed": 0, "test_acc": random}]
    return pd.DataFrame(rows).assign(train_acc=1.0, kept=500)


RISES = ("Accuracy rises with every step of the offset up to the largest tested (200 skipped, 2.0 times the number "
         "of noisy examples): past the noisy tail, skipping the hardest clean examples helps too, as it does without "
         "noise on the sliding-windows page.")


def below(random: str) -> str:
    return (f"Every EL2N window stays below random pruning ({random}) beyond two standard errors, so the noisy tail "
            "is only part of why keeping the highest EL2N hurts at this scale.")


def test_context_rising_windows_above_random():
    assert noise.context(pruning({0: 0.6, 50: 0.61, 100: 0.62, 200: 0.63}), 0.1, N) == RISES


def test_context_rising_windows_below_random_says_both():
    assert noise.context(pruning({0: 0.3, 50: 0.31, 100: 0.32, 200: 0.33}), 0.1, N) == RISES + " " + below("50.00%")


def test_context_rising_needs_more_than_two_offsets_and_every_step_up():
    two = pruning({0: 0.6, 200: 0.63})
    assert noise.context(two, 0.1, N) == "The best window skips the top 200 examples."
    dips = pruning({0: 0.6, 50: 0.65, 100: 0.62, 200: 0.63})
    assert noise.context(dips, 0.1, N) == "The best window skips the top 50 examples."


def test_context_below_random_needs_every_window_beyond_tolerance():
    all_below = pruning({0: 0.45, 50: 0.44, 100: 0.40}, random=0.5)
    assert noise.context(all_below, 0.1, N) == below("50.00%")
    one_within = pruning({0: 0.45, 50: 0.497, 100: 0.40}, random=0.5)  # 0.3 points: within the tolerance
    assert noise.context(one_within, 0.1, N) == "The best window skips the top 50 examples."


def test_context_offsets_are_formatted_with_thousands():
    rises = noise.context(pruning({0: 0.6, 500: 0.61, 1000: 0.62, 2000: 0.63}), 0.1, 10_000)
    assert rises.startswith("Accuracy rises with every step of the offset up to the largest tested (2,000 skipped, "
                            "2.0 times the number of noisy examples)")


def tables() -> dict[str, pd.DataFrame]:
    bins = pd.concat([pd.DataFrame({"score": s, "bin": range(10), "count": 100, "noise_rate": 0.093,
                                    "noisy_fraction": [0.0] * 9 + [top]}) for s, top in (("el2n", 0.456),
                                                                                        ("grand", 0.2))])
    detection = pd.DataFrame({"detector": ["el2n", "el2n", "grand", "forgetting"], "epoch": [0.5, 5.0, 0.5, 5.0],
                              "auroc": [0.876, 0.6, 0.7, 0.8], "precision_at_k": [0.5, 0.4, 0.3, 0.2]})
    full = pd.DataFrame({"seed": [0, 1], "test_acc": [0.71, 0.72]})
    return {"bins": bins, "detection": detection, "pruning": pruning({0: 0.6, 47: 0.61, 93: 0.62, 186: 0.63}),
            "full": full, "distributions": pd.DataFrame()}


def test_noise_rate_is_read_from_the_el2n_bins():
    assert noise.noise_rate(tables()["bins"]) == pytest.approx(0.093)


def test_facts_numbers_and_tables():
    facts = noise.facts(tables(), PROFILE)
    assert (facts["runs"], facts["noise"], facts["rate"], facts["top"]) == ("6", "10%", "9.3%", "46%")
    assert (facts["auroc"], facts["score_epoch"], facts["study_fraction"]) == ("0.88", "0.5", "50%")
    assert facts["full"] == "71.50%"
    assert facts["context"].startswith("Accuracy rises with every step of the offset up to the largest tested "
                                       "(186 skipped, 2.0 times the number of noisy examples)")
    table = facts["pruning"].data["test accuracy"]
    assert list(table.index) == [("el2n", "0"), ("el2n", "47"), ("el2n", "93"), ("el2n", "186"),
                                 ("grand_init", "0"), ("random", "–")]
    assert facts["detection"].data.loc["el2n", ("auroc", 5.0)] == pytest.approx(0.6)
    assert np.isnan(facts["detection"].data.loc["grand", ("auroc", 5.0)])


def test_verdict_is_the_noise_tail_rule():
    (verdict,) = noise.verdicts(tables(), PROFILE)
    assert verdict.claim_id == "noise_tail" and verdict.verdict == "reproduced"
    assert noise.CLAIMS == ("noise_tail",)
