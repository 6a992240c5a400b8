"""Training on real CIFAR-10 at a tiny scale: learning, caching, resuming, and bad input."""

import json
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from analysis.profiles import get_profile
from analysis.store import Result, RunStore, config_key
from analysis.train import (
    DataSpec,
    NonFiniteLossError,
    TrainConfig,
    checkpoint_path,
    load_checkpoint,
    memory_format,
    new_model,
    new_optimizer,
    run_training,
    set_lr,
    subset_config,
    whitening_images,
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


def test_lost_checkpoints_are_retrained_with_the_stored_thread_count(results_dir):
    config = replace(TINY, steps=30, eval_every=30, save_steps=(0, 15, 30))
    store = RunStore("unit", results_dir)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        stored = run_training(config, store)
    finally:
        torch.set_num_threads(threads)
    scratch = store.scratch("train", config.key_dict())
    for step in (15, 30):
        (scratch / f"step_{step}.pt").unlink()
    assert run_training(config, store).metrics == stored.metrics, "without `checkpoints`, the stored result serves"
    assert not (scratch / "step_15.pt").exists()
    again = run_training(config, store, checkpoints=True)
    assert (scratch / "step_15.pt").exists() and (scratch / "step_30.pt").exists()
    assert again.metrics["provenance"]["threads"] == 1 and torch.get_num_threads() == threads
    for key in ("test_acc", "train_acc_running", "loss_running", "final_train_acc"):
        assert again.metrics[key] == stored.metrics[key]


def test_a_retrained_run_that_changed_drops_what_was_computed_from_it(results_dir):
    config = replace(TINY, steps=20, eval_every=20, save_steps=(0, 20))
    store = RunStore("unit", results_dir)
    run_training(config, store)
    key = config_key("train", config.key_dict())
    folder = store.path("train", config.key_dict())
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["final_test_acc"] += 0.1  # as if an older code had stored another number under this key
    (folder / "metrics.json").write_text(json.dumps(metrics))
    store.save("scores", {"train": key, "score": "el2n", "step": 20}, Result({}))
    (store.scratch("train", key) / "step_20.pt").unlink()
    with pytest.warns(UserWarning, match="results computed from the old one are deleted"):
        again = run_training(config, store, checkpoints=True)
    assert again.metrics["final_test_acc"] == pytest.approx(metrics["final_test_acc"] - 0.1)
    assert list(store.configs("scores")) == []


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
    started = time.perf_counter()
    resumed = run_training(config, store)
    second_session = time.perf_counter() - started
    for key in ("test_acc", "train_acc_running", "loss_running", "final_train_acc"):
        assert resumed.metrics[key] == reference.metrics[key]
    assert np.array_equal(resumed.arrays["forget_counts"], reference.arrays["forget_counts"])
    assert (reference.metrics["resumed_at"], resumed.metrics["resumed_at"]) == ([], [40])
    assert resumed.metrics["wall_s"] > second_session, "the wall time counts the first session too"
    assert resumed.metrics["provenance"]["wall_time_s"] > second_session


def test_a_run_is_not_resumed_under_another_thread_count(results_dir):
    """A stored run has one thread count (its provenance's), so a state saved under another is not resumed."""
    config = replace(TINY, steps=40, eval_every=20)
    store = RunStore("unit", results_dir)

    def kill_at_20(step):
        if step == 20:
            raise Killed

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1 if threads > 1 else 2)
        with pytest.raises(Killed):
            run_training(config, store, on_eval=kill_at_20)
    finally:
        torch.set_num_threads(threads)
    with pytest.warns(UserWarning, match="not resuming its saved state"):
        result = run_training(config, store)
    assert result.metrics["resumed_at"] == [] and result.metrics["provenance"]["threads"] == threads


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


def test_unknown_names_are_clear_errors(results_dir):
    with pytest.raises(ValueError, match="Unknown profile 'cpu'"):
        get_profile("cpu")
    with pytest.raises(ValueError, match="Unknown model 'resnet7'"):
        run_training(replace(TINY, model="resnet7"), RunStore("unit", results_dir))


def test_linear_schedule_warms_up_then_decays_to_zero():
    config = TrainConfig(steps=100, lr=0.2, schedule="linear", lr_warmup=0.25)
    assert [config.lr_at(s) for s in (0, 10, 25, 50, 100)] == pytest.approx([0.0, 0.08, 0.2, 0.2 * 50 / 75, 0.0])
    with pytest.raises(ValueError, match="'step' or 'linear'"):
        TrainConfig(schedule="cosine")


def test_recipe_fields_change_the_key_only_when_set():
    """Fields added after the first results stay out of the key at the value earlier runs had."""
    legacy = replace(TINY, init="torch")
    assert {"init", "label_smoothing", "schedule", "lr_warmup", "bias_lr_scale"}.isdisjoint(legacy.key_dict())
    assert TINY.key_dict()["init"] == "lecun"
    keys = {config_key("train", c.key_dict()) for c in (legacy, TINY, replace(TINY, label_smoothing=0.1),
                                                          replace(TINY, schedule="linear"),
                                                          replace(TINY, bias_lr_scale=64.0))}
    assert len(keys) == 5


def test_label_smoothing_changes_training(results_dir):
    config = replace(TINY, steps=3, eval_every=3, save_steps=(3,))
    store = RunStore("unit", results_dir)
    plain, smoothed = (load_checkpoint(c, 3, store).state_dict()
                       for c in (config, replace(config, label_smoothing=0.1)))
    assert not torch.equal(plain["fc.weight"], smoothed["fc.weight"])


@pytest.mark.parametrize("name,width,layout", [
    ("resnet18", 4, torch.contiguous_format),
    ("resnet18", 8, torch.channels_last),
    ("airbench", 24, torch.channels_last),
])
def test_layout_avoids_channels_last_below_eight_channels(name, width, layout):
    """oneDNN's channels_last backward corrupts memory for 4-channel convolutions on CPU (see memory_format)."""
    model = new_model(TrainConfig(model=name, width=width), 10, torch.device("cpu"))
    assert memory_format(model) is layout
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=layout)


def test_batchnorm_shifts_step_at_their_rate_multiple_with_the_same_decay_per_step():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    plain = new_optimizer(model, TINY)
    assert len(plain.param_groups) == 1 and plain.param_groups[0]["params"] == list(model.parameters())
    config = replace(TINY, bias_lr_scale=64.0, momentum=0.0, nesterov=False, weight_decay=0.0)
    scaled = new_optimizer(model, replace(config, weight_decay=5e-4))
    assert [g["weight_decay"] * g["lr"] for g in scaled.param_groups] == pytest.approx([5e-4 * 0.1, 5e-4 * 0.1 / 64])
    optimizer = new_optimizer(model, config)
    set_lr(optimizer, config, 0)
    before = [p.detach().clone() for p in model.parameters()]
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()
    moved = {name: (b - p).mean().item() for (name, p), b in zip(model.named_parameters(), before)}
    assert moved["1.bias"] == pytest.approx(64 * 0.1) and moved["1.weight"] == pytest.approx(0.1)
    assert moved["0.weight"] == pytest.approx(0.1) and moved["0.bias"] == pytest.approx(0.1)


def test_airbench_init_whitens_the_run_s_own_images_and_is_rebuilt_from_them(results_dir):
    config = replace(TINY, model="airbench", width=8, init="airbench", bias_lr_scale=64.0, steps=20, eval_every=20,
                     save_steps=(0, 20))
    store = RunStore("unit", results_dir)
    data, _ = config.data.load()
    with pytest.raises(ValueError, match="train_images"):
        new_model(config, 10, torch.device("cpu"))
    half = torch.arange(500, 1000)
    run = subset_config(config, half)
    assert run_training(run, store, half).metrics["final_train_acc"] > 0.1
    saved = torch.load(checkpoint_path(store, run, 0))["model"]
    rebuilt = load_checkpoint(run, 0, store, half).state_dict()
    assert all(torch.equal(saved[k], rebuilt[k]) for k in saved)
    other = new_model(config, 10, torch.device("cpu"), whitening_images(config, data)).state_dict()
    assert not torch.equal(saved["features.0.weight"], other["features.0.weight"])  # fit on other images
    assert whitening_images(TINY, data) is None
