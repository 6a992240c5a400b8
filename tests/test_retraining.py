"""Retraining sweeps: which subsets and seeds each run gets (the runs themselves are stubbed out)."""

import pytest
import torch

from analysis import prune, retraining
from analysis.profiles import SMOKE
from analysis.retraining import RETRAIN_SEED_BASE, RandomSubset, retrain, select
from analysis.store import array_digest


@pytest.fixture
def submitted(monkeypatch):
    """The tasks `retrain` submits, each 'trained' to a fixed accuracy."""
    tasks = []

    def fake_run_all(batch, executor=None, desc=""):
        tasks.extend(batch)
        return [{"final_test_acc": 0.5, "final_train_acc": 0.9, "train_examples": len(t.subset)} for t in batch]

    monkeypatch.setattr(retraining, "run_all", fake_run_all)
    return tasks


def test_random_pruning_draws_a_fresh_subset_for_every_retraining_seed(submitted, store):
    kept = select(SMOKE, "random", 0.3)
    assert kept == RandomSubset(prune.kept_size(SMOKE.num_train, 0.3))
    df = retrain(SMOKE, store("smoke"), [({"method": "random"}, kept)], seeds=3)
    subsets = [t.subset for t in submitted]
    assert len({array_digest(s) for s in subsets}) == 3  # three different subsets ...
    for seed, (task, subset) in enumerate(zip(submitted, subsets)):  # ... each drawn with its run's seed
        assert task.config.seed == RETRAIN_SEED_BASE + seed
        assert torch.equal(torch.as_tensor(subset), prune.random_subset(SMOKE.num_train, kept.size, task.config.seed))
        assert task.config.subset == array_digest(subset)
    assert list(df["seed"]) == [0, 1, 2] and set(df["kept"]) == {kept.size}


def test_a_scored_subset_is_the_same_for_every_seed(submitted, store):
    scores = torch.arange(SMOKE.num_train, dtype=torch.float32)
    kept = select(SMOKE, "el2n", 0.5, scores)
    retrain(SMOKE, store("smoke"), [({"method": "el2n"}, kept)], seeds=2)
    assert [t.config.subset for t in submitted] == [array_digest(kept)] * 2
    assert torch.equal(kept, torch.arange(SMOKE.num_train // 2, SMOKE.num_train))  # the highest scores
