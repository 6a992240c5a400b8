"""The noise page's facts and sentence choices on hand-made tables (no training)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis.chapters import noise
from analysis.profiles import Noise, get_profile
from analysis.statistics import SeedNoise, noise_table

PROFILE = replace(get_profile("smoke"), noise=Noise(fraction=0.1), score_epoch=0.5, study_fraction=0.5)
N = PROFILE.num_train  # 1,000: 10% noisy is 100 examples
# one point of single-run noise: a difference of two one-seed arms counts beyond 2 * sqrt(2) * 1 = 2.8 points
NOISE = SeedNoise(sd=0.01, dof=10)


def pruning(windows: dict[int, float], random: float = 0.5, grand_init: float = 0.4,
            clean: dict[int, float] | None = None) -> pd.DataFrame:
    """`noise_study`-shaped pruning rows, one seed each: EL2N windows (offset -> accuracy), GraNd at init, random,
    then the clean-label control's windows (offset -> accuracy), if any."""
    rows = [{"selection": "el2n", "offset": o, "seed": 0, "test_acc": a} for o, a in windows.items()]
    rows += [{"selection": "grand_init", "offset": 0, "seed": 0, "test_acc": grand_init},
             {"selection": "random", "offset": np.nan, "seed": 0, "test_acc": random}]
    rows += [{"selection": "clean", "offset": o, "seed": 0, "test_acc": a} for o, a in (clean or {}).items()]
    return pd.DataFrame(rows).assign(train_acc=1.0, kept=500)


RISES = ("Accuracy rises with every step of the offset up to the largest tested (200 skipped, 2.0 times the number "
         "of noisy examples): past the noisy tail, skipping more of the hardest examples still raises it.")


def below(random: str) -> str:
    return (f"Every EL2N window stays below random pruning ({random}) beyond two standard errors, so the noisy tail "
            "is only part of why keeping the highest EL2N hurts at this scale.")


def test_context_rising_windows_above_random():
    assert noise.context(pruning({0: 0.6, 50: 0.61, 100: 0.62, 200: 0.63}), 0.1, N, NOISE) == RISES


def test_context_rising_windows_set_beside_the_clean_control():
    windows = pruning({0: 0.6, 50: 0.61, 100: 0.62, 200: 0.63}, clean={0: 0.7, 50: 0.69, 200: 0.72})
    assert noise.context(windows, 0.1, N, NOISE) == RISES + (" With clean labels the same windows go from 70.00% "
                                                             "(0 skipped) to 72.00% (200 skipped).")


def test_context_rising_windows_below_random_says_both():
    windows = pruning({0: 0.3, 50: 0.31, 100: 0.32, 200: 0.33})
    assert noise.context(windows, 0.1, N, NOISE) == RISES + " " + below("50.00%")


def test_context_rising_needs_more_than_two_offsets_and_every_step_up():
    two = pruning({0: 0.6, 200: 0.63})
    assert noise.context(two, 0.1, N, NOISE) == "The best window skips the top 200 examples."
    dips = pruning({0: 0.6, 50: 0.65, 100: 0.62, 200: 0.63})
    assert noise.context(dips, 0.1, N, NOISE) == "The best window skips the top 50 examples."


def test_context_below_random_needs_every_window_beyond_two_standard_errors():
    all_below = pruning({0: 0.45, 50: 0.44, 100: 0.40}, random=0.5)  # 5 to 10 points below: beyond 2.8
    assert noise.context(all_below, 0.1, N, NOISE) == below("50.00%")
    one_within = pruning({0: 0.45, 50: 0.48, 100: 0.40}, random=0.5)  # 2 points: within 2.8
    assert noise.context(one_within, 0.1, N, NOISE) == "The best window skips the top 50 examples."
    # without a noise estimate, one run a side cannot be told from random
    no_estimate = SeedNoise(sd=math.nan, dof=0)
    assert noise.context(all_below, 0.1, N, no_estimate) == "The best window skips the top 0 examples."


def test_context_offsets_are_formatted_with_thousands():
    rises = noise.context(pruning({0: 0.6, 500: 0.61, 1000: 0.62, 2000: 0.63}), 0.1, 10_000, NOISE)
    assert rises.startswith("Accuracy rises with every step of the offset up to the largest tested (2,000 skipped, "
                            "2.0 times the number of noisy examples)")


def tables() -> dict[str, pd.DataFrame]:
    bins = pd.concat([pd.DataFrame({"score": s, "bin": range(10), "count": 100, "noise_rate": 0.093,
                                    "noisy_fraction": [0.0] * 9 + [top]}) for s, top in (("el2n", 0.456),
                                                                                        ("grand", 0.2))])
    detection = pd.DataFrame({"detector": ["el2n", "el2n", "grand", "forgetting"], "epoch": [0.5, 5.0, 0.5, 5.0],
                              "auroc": [0.876, 0.6, 0.7, 0.8], "precision_at_k": [0.5, 0.4, 0.3, 0.2]})
    full = pd.DataFrame({"seed": [0, 1], "test_acc": [0.71, 0.72]})
    # skipping the top 47 gains 6 points under noise and none on clean labels: beyond two standard errors of the
    # four one-seed arms' contrast, 2 * sqrt(4) * 1 = 4 points
    windows = pruning({0: 0.55, 47: 0.61, 93: 0.62, 186: 0.63}, clean={0: 0.70, 47: 0.70, 93: 0.71, 186: 0.72})
    return {"bins": bins, "detection": detection, "pruning": windows, "full": full, "distributions": pd.DataFrame(),
            "seed_noise": noise_table({0.0: NOISE, PROFILE.noise.fraction: NOISE}, "label_noise")}


def test_noise_rate_is_read_from_the_el2n_bins():
    assert noise.noise_rate(tables()["bins"]) == pytest.approx(0.093)


def test_facts_numbers_and_tables():
    facts = noise.facts(tables(), PROFILE)
    assert (facts["runs"], facts["noise"], facts["rate"], facts["top"]) == ("10", "10%", "9.3%", "46%")
    assert (facts["auroc"], facts["score_epoch"], facts["study_fraction"]) == ("0.88", "0.5", "50%")
    assert facts["full"] == "71.50%"
    assert facts["context"].startswith("Accuracy rises with every step of the offset up to the largest tested "
                                       "(186 skipped, 2.0 times the number of noisy examples)")
    table = facts["pruning"].data["test accuracy"]
    assert list(table.index) == [("el2n", "0"), ("el2n", "47"), ("el2n", "93"), ("el2n", "186"),
                                 ("grand_init", "0"), ("random", "–"), ("clean", "0"), ("clean", "47"),
                                 ("clean", "93"), ("clean", "186")]
    assert table[("clean", "186")] == pytest.approx(0.72)
    assert facts["detection"].data.loc["el2n", ("AUROC", "epoch 5")] == pytest.approx(0.6)
    assert np.isnan(facts["detection"].data.loc["grand", ("AUROC", "epoch 5")])
    assert facts["pruning"].data.index.names == ["selection", "examples skipped"]


def test_verdict_is_the_noise_tail_rule():
    (verdict,) = noise.verdicts(tables(), PROFILE)
    assert verdict.claim_id == "noise_tail" and verdict.verdict == "reproduced"
    assert noise.CLAIMS == ("noise_tail",)


def test_verdict_without_the_clean_label_control_is_only_partly():
    # concentrated holds, but a gain from skipping cannot be told from the gain without noise
    uncontrolled = {**tables(), "pruning": pruning({0: 0.55, 47: 0.61, 93: 0.62, 186: 0.63})}
    (verdict,) = noise.verdicts(uncontrolled, PROFILE)
    assert verdict.verdict == "partly" and "no clean-label control" in verdict.ours


def test_the_verdict_gives_each_label_condition_its_own_pool(monkeypatch):
    clean, noisy = SeedNoise(sd=0.02, dof=7), SeedNoise(sd=0.03, dof=5)
    given = tables() | {"seed_noise": noise_table({0.0: clean, PROFILE.noise.fraction: noisy}, "label_noise")}
    calls = []
    monkeypatch.setattr(noise.rules, "noise_tail", lambda *args: calls.append(args[2:]) or "verdict")
    assert noise.verdicts(given, PROFILE) == ["verdict"] and calls == [(noisy, clean)]
