"""Seed-averaged scores from score runs: initialisations need no training, samples match the full set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from analysis import prune
from analysis.chapters import score_agreement
from analysis.profiles import get_profile
from analysis.score_runs import compute_scores, score_run_config
from analysis.store import RunStore


@pytest.fixture
def no_training(monkeypatch):
    def must_not_train(*args, **kwargs):
        raise AssertionError("scoring an initialisation trained a network")

    monkeypatch.setattr("analysis.train._train", must_not_train)


def test_scores_at_initialisation_train_nothing_and_sample_consistently(no_training, store):
    profile = get_profile("smoke")
    sample = prune.random_subset(profile.num_train, 50, seed=3)
    full_mean, full = compute_scores(profile, store("smoke"), "grand", 0.0, 2)
    sample_mean, part = compute_scores(profile, store("smoke"), "grand", 0.0, 2, positions=sample)
    assert full.shape == (2, profile.num_train) and part.shape == (2, 50)
    torch.testing.assert_close(part, full[:, sample], rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(sample_mean, full_mean[sample], rtol=1e-4, atol=1e-6)
    assert not torch.equal(full[0], full[1])  # two seeds, two initialisations


def test_grand_init_vs_input_norm_by_width(no_training, store):
    profile = get_profile("smoke")
    assert score_agreement.init_networks(profile) == tuple(("resnet18", w) for w in (4, 8, 16, 32, 64))
    assert score_agreement.init_networks(get_profile("paper")) == (("resnet18", 64),)
    assert score_agreement.init_networks(get_profile("laptop")) == (("airbench", 24), ("airbench", 48),
                                                                    ("airbench", 64), ("resnet18", 64))
    table = score_agreement.grand_init_vs_input_norm(profile, store("smoke"))
    n = profile.score_seeds
    assert len(table) == 5 * (n + 1) and set(table["model"]) == {"resnet18"}
    assert table.groupby("width")["seeds"].apply(sorted).tolist() == [[1] * n + [n]] * 5
    assert table["spearman"].between(-1, 1).all()


def test_cached_scores_still_count_the_runs_they_come_from(no_training, results_dir):
    """A page's compute is the same whether its scores were computed now or loaded: the score runs are served."""
    profile = get_profile("smoke")
    shutil.copytree(Path(__file__).parents[1] / "results" / "smoke", results_dir / "smoke",
                    ignore=shutil.ignore_patterns("scratch"))
    store = RunStore("smoke", results_dir)
    compute_scores(profile, store, "el2n", profile.score_epoch)
    runs = [store.path("train", score_run_config(profile, s).key_dict()) for s in range(profile.score_seeds)]
    assert {str(p) for p in runs} <= set(store.used)
    assert min(store.used[str(p)] for p in runs) > 0
