"""Retraining sweeps: which subsets and seeds each run gets (the runs themselves are stubbed out)."""

from dataclasses import replace

import pytest
import torch

from analysis import prune, retraining
from analysis.profiles import SMOKE, Variant
from analysis.retraining import RETRAIN_SEED_BASE, RandomSubset, retrain, seed_noise, select
from analysis.statistics import SeedNoise
from analysis.store import Result, array_digest
from analysis.train import subset_config


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


def test_seed_noise_pools_the_runs_of_one_condition(store):
    """Runs that differ only by seed (on one subset, with or without checkpoints) form the groups of a condition;
    another budget, label noise or network is another condition, and LMC children are left out."""
    runs = store(SMOKE.name)

    def stored(config, acc: float, kept: int = SMOKE.num_train) -> None:
        runs.save("train", config.key_dict(), Result({"final_test_acc": acc, "train_examples": kept}))

    subset = torch.arange(100)
    for seed, acc in ((0, 0.50), (1, 0.52)):  # full data, with checkpoints: one group
        stored(replace(SMOKE.train_config(seed), save_steps=(10,)), acc)
    for seed, acc in ((0, 0.40), (1, 0.44), (2, 0.42)):  # one subset: another group of the same condition
        stored(subset_config(SMOKE.train_config(RETRAIN_SEED_BASE + seed), subset), acc, len(subset))
    for variant in (Variant(epochs=1), Variant(label_noise=0.1), Variant(width=8)):  # other conditions
        for seed, acc in ((0, 0.1), (1, 0.9)):
            stored(SMOKE.train_config(seed, variant), acc)
    stored(replace(SMOKE.train_config(2), init_from="parent"), 0.9)  # an LMC child
    noise = seed_noise(SMOKE, runs)
    assert noise.dof == 1 + 2 and noise.sd == pytest.approx(((0.01**2 * 2 + 0.02**2 * 2) / 3) ** 0.5)
    other = seed_noise(SMOKE, runs, Variant(label_noise=0.1))
    assert other.dof == 1 and other.sd == pytest.approx(0.8 / 2**0.5)


def test_random_arms_pool_apart_with_the_spread_of_their_subsets(store):
    """A random-pruning arm's seeds also draw its subset: its runs are no group of the fixed-subset pool, and the
    random arms of a condition (one group per size) pool into `random`, which `of_random` lends them."""
    runs = store(SMOKE.name)
    n = SMOKE.num_train
    for seed, acc in ((0, 0.50), (1, 0.52)):
        runs.save("train", SMOKE.train_config(seed).key_dict(), Result({"final_test_acc": acc, "train_examples": n}))
    for size, accs in ((n // 2, (0.40, 0.46, 0.43)), (n // 4, (0.30, 0.34))):
        for s, acc in enumerate(accs):
            config = SMOKE.train_config(RETRAIN_SEED_BASE + s)
            kept = RandomSubset(size).draw(n, config.seed)
            runs.save("train", subset_config(config, kept).key_dict(),
                      Result({"final_test_acc": acc, "train_examples": size}))
    noise = seed_noise(SMOKE, runs)
    assert noise.dof == 1 and noise.sd == pytest.approx(0.02 / 2**0.5)
    assert noise.random.dof == 2 + 1
    assert noise.random.sd == pytest.approx(((0.03**2 * 2 + 0.02**2 * 2) / 3) ** 0.5)
    assert noise.vs_random == (noise, noise.random)
    assert SeedNoise.of(noise.table()) == noise  # a page's table keeps both pools


def test_the_runs_retrain_draws_at_random_are_the_ones_seed_noise_pools_as_random(submitted, store):
    runs = store(SMOKE.name)
    scores = torch.arange(SMOKE.num_train, dtype=torch.float32)
    retrain(SMOKE, runs, [({"method": "random"}, select(SMOKE, "random", 0.5)),
                          ({"method": "el2n"}, select(SMOKE, "el2n", 0.5, scores))], seeds=3)
    for task, acc in zip(submitted, (0.40, 0.46, 0.43, 0.50, 0.51, 0.52), strict=True):
        runs.save("train", task.config.key_dict(), Result({"final_test_acc": acc, "train_examples": len(task.subset)}))
    noise = seed_noise(SMOKE, runs)
    assert (noise.dof, noise.random.dof) == (2, 2)
    assert noise.sd == pytest.approx(0.01) and noise.random.sd == pytest.approx(0.03)
