"""Training on real CIFAR-10 at a tiny scale: learning, caching, resuming, and bad input."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from analysis.profiles import get_profile
from analysis.store import RunStore
from analysis.train import (
    DataSpec,
    NonFiniteLossError,
    TrainConfig,
    checkpoint_path,
    load_checkpoint,
    run_training,
    subset_config,
)

TINY = TrainConfig(
    data=DataSpec("cifar10", train_per_class=100, test_examples=1000), model="resnet18", width=8,
    steps=150, batch_size=64, eval_every=50, save_steps=(0, 50),
)


def test_training_clearly_beats_chance(results_dir):
    result = run_training(TINY, RunStore("unit", results_dir))
    assert result.metrics["final_test_acc"] > 0.2  # chance is 0.1 on 10 balanced classes
    assert [s for s, _ in result.metrics["test_acc"]] == [50, 100, 150]
    assert result.arrays["forget_counts"].shape == (1000,)
    scratch = RunStore("unit", results_dir).scratch("train", TINY.key_dict())
    assert (scratch / "step_0.pt").exists() and (scratch / "step_50.pt").exists()
    assert not (scratch / "resume.pt").exists()
    # the initialisation is rebuilt from the seed, identical to the saved step-0 checkpoint
    saved = torch.load(checkpoint_path(RunStore("unit", results_dir), TINY, 0))["model"]
    rebuilt = load_checkpoint(TINY, 0, RunStore("unit", results_dir)).state_dict()
    assert saved.keys() == rebuilt.keys() and all(torch.equal(saved[k], rebuilt[k]) for k in saved)


def test_rerun_is_a_cache_hit(results_dir, monkeypatch):
    config = replace(TINY, steps=20, eval_every=20)
    store = RunStore("unit", results_dir)
    first = run_training(config, store)

    def must_not_train(*args, **kwargs):
        raise AssertionError("a cached config was retrained")

    monkeypatch.setattr("analysis.train._train", must_not_train)
    assert run_training(config, store).metrics == first.metrics


class Killed(Exception):
    pass


def test_interrupted_run_resumes_to_the_same_result(results_dir, tmp_path):
    config = replace(TINY, steps=60, eval_every=20)
    reference = run_training(config, RunStore("reference", tmp_path))
    store = RunStore("unit", results_dir)

    def kill_at_40(step):
        if step == 40:
            raise Killed

    with pytest.raises(Killed):
        run_training(config, store, on_eval=kill_at_40)
    assert store.load("train", config.key_dict()) is None, "no partial result after a kill"
    assert (store.scratch("train", config.key_dict()) / "resume.pt").exists()
    resumed = run_training(config, store)
    for key in ("test_acc", "train_acc_running", "loss_running", "final_train_acc"):
        assert resumed.metrics[key] == reference.metrics[key]
    assert np.array_equal(resumed.arrays["forget_counts"], reference.arrays["forget_counts"])


def test_subset_runs_same_steps_and_checks_digest(results_dir):
    subset = torch.arange(0, 1000, 2)
    config = subset_config(replace(TINY, steps=16, eval_every=16), subset)
    result = run_training(config, RunStore("unit", results_dir), subset)
    assert result.metrics["train_examples"] == 500
    assert result.metrics["epochs"] == pytest.approx(16 / (500 // 64))
    assert set(np.flatnonzero(result.arrays["forget_counts"] + result.arrays["ever_correct"])) <= set(subset.tolist())
    with pytest.raises(ValueError, match="digest"):
        run_training(config, RunStore("unit", results_dir), torch.arange(500))


def test_nan_loss_stops_the_run_and_stores_nothing(results_dir):
    config = replace(TINY, steps=20, eval_every=10, lr=1e12)
    store = RunStore("unit", results_dir)
    with pytest.raises(NonFiniteLossError, match="lower the learning rate"):
        run_training(config, store)
    assert store.load("train", config.key_dict()) is None


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown profile 'laptop'"):
        get_profile("laptop")
    with pytest.raises(ValueError, match="Unknown model 'resnet7'"):
        run_training(replace(TINY, model="resnet7"), RunStore("unit"))
