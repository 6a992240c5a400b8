"""Noise detection metrics on hand-made score vectors (no training)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from analysis.noise import noise_detection_report, noise_offsets
from analysis.rules import NOT, PARTLY, REPRODUCED, noise_tail
from analysis.statistics import SeedNoise


def pairwise_auroc(scores: list[float], noisy: list[bool]) -> float:
    """P(noisy score > clean score) + P(tie) / 2 over all noisy/clean pairs."""
    pairs = [(a > b) + 0.5 * (a == b) for a, p in zip(scores, noisy) if p for b, q in zip(scores, noisy) if not q]
    return sum(pairs) / len(pairs)


def test_perfect_and_inverted_detectors():
    noisy = torch.tensor([False, True, False, True, False])
    perfect = noise_detection_report(torch.tensor([0.1, 0.9, 0.2, 0.8, 0.3]), noisy, bins=5)
    assert perfect["auroc"] == 1.0 and perfect["precision_at_k"] == 1.0 and perfect["k"] == 2
    inverted = noise_detection_report(torch.tensor([0.9, 0.1, 0.8, 0.2, 0.7]), noisy, bins=5)
    assert inverted["auroc"] == 0.0 and inverted["precision_at_k"] == 0.0


def test_ties_use_average_ranks_and_lower_index_first():
    noisy = torch.tensor([True, False, False, True])
    report = noise_detection_report(torch.ones(4), noisy, bins=2)
    assert report["auroc"] == 0.5  # all tied: every noisy/clean pair counts one half
    assert report["precision_at_k"] == 0.5  # top-2 among ties: indices 0 and 1
    scores = torch.tensor([2.0, 1.0, 2.0, math.inf, 0.0, 1.0])
    noisy = torch.tensor([True, False, False, True, False, True])
    report = noise_detection_report(scores, noisy)
    assert report["auroc"] == pytest.approx(pairwise_auroc(scores.tolist(), noisy.tolist()))
    assert report["precision_at_k"] == pytest.approx(2 / 3)  # top 3: index 3 (inf), then 0 and 2 (ties)


def test_bins_partition_the_data():
    g = torch.Generator().manual_seed(0)
    scores, noisy = torch.rand(1003, generator=g), torch.rand(1003, generator=g) < 0.1
    report = noise_detection_report(scores, noisy, bins=10)
    assert report["bin_counts"].sum() == 1003 and report["bin_counts"].max() - report["bin_counts"].min() <= 1
    assert (report["bin_counts"] * report["bin_noisy_fraction"]).sum() == pytest.approx(int(noisy.sum()))
    assert report["noise_rate"] == pytest.approx(noisy.float().mean().item())


def test_top_bin_holds_the_highest_scores():
    scores = torch.arange(20.0)
    noisy = scores >= 18
    report = noise_detection_report(scores, noisy, bins=10)
    np.testing.assert_array_equal(report["bin_noisy_fraction"], [0] * 9 + [1])


def test_degenerate_cases_are_nan():
    report = noise_detection_report(torch.rand(5), torch.zeros(5, dtype=torch.bool), bins=2)
    assert math.isnan(report["auroc"]) and math.isnan(report["precision_at_k"])


def test_noise_offsets_clip_to_fit():
    assert noise_offsets(100, 1000, 500) == [0, 50, 100, 200]
    assert noise_offsets(100, 1000, 850) == [0, 50, 100, 150]


def test_auroc_matches_pair_counting_with_many_ties():
    g = torch.Generator().manual_seed(1)
    scores = (torch.rand(200, generator=g) * 5).round()
    noisy = torch.rand(200, generator=g) < 0.3
    report = noise_detection_report(scores, noisy)
    assert report["auroc"] == pytest.approx(pairwise_auroc(scores.tolist(), noisy.tolist()))


def noise_tables(top_share: float, skip_gain: float, init: float = 0.7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`noise_study`-shaped bins (noise rate 10%) and pruning rows with one seed per selection, with the clean-label
    control flat across offsets and random pruning at 75% (GraNd at init: `init`)."""
    bins = pd.DataFrame({"score": "el2n", "bin": range(10), "count": 100, "noise_rate": 0.1,
                         "noisy_fraction": [0.0] * 9 + [top_share]})
    pruning = pd.DataFrame({"selection": ["el2n", "el2n", "el2n", "grand_init", "random", "clean", "clean", "clean"],
                            "offset": [0, 50, 100, 0, np.nan, 0, 50, 100], "seed": 0,
                            "test_acc": [0.8, 0.8 + skip_gain, 0.8, init, 0.75, 0.85, 0.85, 0.85]})
    return bins, pruning


def test_noise_tail_verdict():
    noise = SeedNoise(sd=0.01, dof=40)  # four single-seed arms: the contrast counts beyond 4 points
    assert noise_tail(*noise_tables(0.5, 0.06), noise, noise).verdict == REPRODUCED
    assert noise_tail(*noise_tables(0.5, 0.0), noise, noise).verdict == PARTLY  # skipping: within noise, cannot tell
    assert noise_tail(*noise_tables(0.15, 0.06), noise, noise).verdict == PARTLY  # holds twice, fails once
    assert noise_tail(*noise_tables(0.15, -0.06), noise, noise).verdict == NOT  # holds once, fails twice
    # GraNd at init level with random pruning: one part of three cannot tell; above it: that part fails
    assert noise_tail(*noise_tables(0.5, 0.06, init=0.75), noise, noise).verdict == PARTLY
    assert noise_tail(*noise_tables(0.15, 0.06, init=0.8), noise, noise).verdict == NOT
