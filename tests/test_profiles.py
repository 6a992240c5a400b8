"""The paper profile is pinned to the paper's protocol, read from the published reference file."""

import json
import re
from dataclasses import replace

import pytest

from analysis.profiles import (
    LAPTOP,
    LAPTOP_CALIBRATION,
    PAPER,
    PROFILES,
    SCARCE,
    SCARCE_CALIBRATION,
    SMOKE,
    Variant,
    get_profile,
)
from analysis.reference import published
from analysis.store import REPO_ROOT, RunStore
from analysis.train import DataSpec, run_training


def test_paper_profile_matches_the_published_protocol():
    protocol = published()["paper"]["protocol"]
    config = PAPER.train_config(seed=0)
    assert PAPER.epochs == protocol["epochs"] == 200
    assert PAPER.batch_size == protocol["batch_size"]["cifar10"] == 128
    assert config.steps == 78_000 == 200 * (50_000 // 128)  # "78,000 steps on CIFAR-10"
    assert (config.lr, config.momentum, config.nesterov, config.weight_decay) == (0.1, 0.9, True, 5e-4)
    # lr x0.2 at epochs 60, 120, 160
    assert [config.lr_at(PAPER.step(e)) for e in (59, 60, 120, 160)] == pytest.approx([0.1, 0.02, 0.004, 0.0008])
    assert PAPER.score_epoch == int(str(protocol["score_epoch"]).split()[0]) == 20
    assert PAPER.score_share == LAPTOP.score_share == 0.1  # the default profile reads scores where the paper does
    assert PAPER.score_seeds == 10 and PAPER.retrain_seeds == 4
    assert (PAPER.model, PAPER.width, PAPER.train_per_class, PAPER.test_examples) == ("resnet18", 64, 0, 0)
    assert config.augment


def test_paper_profile_other_datasets():
    assert (PAPER.on("cifar100").model, PAPER.on("cifar100").batch_size) == ("resnet50", 128)
    assert (PAPER.on("cinic10").model, PAPER.on("cinic10").batch_size) == ("resnet18", 256)
    assert PAPER.on("cinic10").num_train == 180_000
    with pytest.raises(ValueError):
        SCARCE.on("cifar100")


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))
def test_score_epoch_is_ten_percent_and_checkpointed(profile):
    assert profile.score_epoch == pytest.approx(profile.epochs / 10)
    assert profile.score_epoch in profile.checkpoint_epochs()
    assert set(profile.score_epochs.epochs) | set(profile.ntk.epochs) | set(profile.lmc.spawn_epochs) <= set(
        profile.checkpoint_epochs())


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))
def test_the_ntk_page_follows_several_score_runs(profile):
    """Its verdict needs the ratios' run-to-run spread, and its kernels come from score runs the profile trains."""
    assert 2 <= profile.ntk.runs <= profile.score_seeds


def test_paper_code_path_runs_at_tiny_scale(results_dir):
    """The paper profile's own config, shrunk only in data, width and steps, trains end to end."""
    config = replace(PAPER.train_config(seed=0), data=DataSpec("cifar10", train_per_class=13, test_examples=64),
                     width=4, steps=3, eval_every=3)
    metrics = run_training(config, RunStore("paper", results_dir)).metrics
    assert metrics["train_examples"] == 130 and len(metrics["test_acc"]) == 1


def test_profile_switch(monkeypatch):
    monkeypatch.setenv("DATADIET_PROFILE", "smoke")
    assert get_profile() is SMOKE
    assert get_profile("paper") is PAPER
    monkeypatch.delenv("DATADIET_PROFILE")
    assert get_profile() is LAPTOP
    with pytest.raises(ValueError, match="choose one of smoke, laptop, scarce, paper"):
        get_profile("cpu")


def test_laptop_profile_keeps_the_criterion_fixed_before_calibration():
    """All of CIFAR-10, the paper's optimiser family and step rule, and the seed counts the issue fixed."""
    config = LAPTOP.train_config(seed=0)
    assert (LAPTOP.dataset, LAPTOP.train_per_class, LAPTOP.test_examples, LAPTOP.num_train) == ("cifar10", 0, 0, 50_000)
    assert (config.momentum, config.nesterov, config.weight_decay) == (0.9, True, 5e-4)
    # airbench94's initialisation and BatchNorm-shift rate for its own network (the calibrated recipe); the
    # authors' LeCun-normal initialisation and one rate for every parameter elsewhere (a transfer target)
    target = LAPTOP.train_config(0, Variant(model="vgg11", width=32))
    assert (config.init, config.bias_lr_scale) == ("airbench", 64.0)
    assert (target.init, target.bias_lr_scale) == ("lecun", 1.0)
    assert LAPTOP.score_epoch == LAPTOP.epochs / 10
    assert LAPTOP.score_seeds >= 4 and LAPTOP.retrain_seeds >= 3 and LAPTOP.secondary_seeds >= 2
    assert {0.3, 0.5, 0.6} <= set(LAPTOP.pruning_curves.fractions)  # Kirsch's PyTorch fractions, drawn beside ours
    kirsch = published()["kirsch_pytorch"]["test_accuracy"]["fraction_pruned"]
    assert set(kirsch) <= set(LAPTOP.pruning_curves.fractions)
    gaps = {round(b - a, 9) for a, b in zip(LAPTOP.ntk.epochs, LAPTOP.ntk.epochs[1:])}
    assert len(gaps) == 1  # kernel velocities over equal gaps


def _table_rows(table: str, pattern: str) -> dict[tuple, list[str]]:
    """The cells of each row of a calibration table, keyed by the groups of `pattern` in its first cell and steps."""
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and (match := re.search(pattern, cells[0])) and cells[1].replace(",", "").isdigit():
            rows[(*match.groups(), int(cells[1].replace(",", "")))] = cells
    return rows


def test_calibration_tables_state_the_stored_calibration_runs():
    """Each stored calibration run's accuracies stand in its own row (a random half: in its full run's row)."""
    laptop = _table_rows(LAPTOP_CALIBRATION, r"width (\d+), .*(fast|airbench)")
    scarce = _table_rows(SCARCE_CALIBRATION, r"w(\d+), ([\d,]+) images")
    runs = sorted((REPO_ROOT / "results" / "calibration" / "train").glob("*/metrics.json"))
    assert runs, "no stored calibration runs"
    for path in runs:
        config, metrics = json.loads((path.parent / "config.json").read_text()), json.loads(path.read_text())
        test, train = f"{metrics['final_test_acc']:.1%}", f"{metrics['final_train_acc']:.1%}"
        if config["model"] == "airbench":
            recipe = "airbench" if config["init"] == "airbench" else "fast"
            row = laptop[(str(config["width"]), recipe, config["steps"])]
            cells = (row[4], row[5]) if config["subset"] == "full" else (row[6].split()[0],)
        else:
            images = f"{config['data']['train_per_class'] * 10:,}"
            row = scarce[(str(config["width"]), images, config["steps"])]
            cells = (row[2], row[3])
        assert cells == ((train, test) if config["subset"] == "full" else (test,)), f"{path.parent.name}: {row}"


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))
def test_regime_sizes_are_class_balanced_subsets_that_include_the_profiles_own_set(profile):
    sizes = profile.regime.sizes
    assert len(sizes) >= 2 and len(set(sizes)) == len(sizes) and profile.train_per_class in sizes
    for per_class in sizes:
        sized = profile.at_size(per_class)
        assert sized.data().train_per_class == per_class and sized.epochs == profile.epochs
        assert sized.num_train == (per_class * 10 if per_class else 50_000)
        # the score run of that size keeps the checkpoint its EL2N is read at (10% of its budget)
        assert sized.step(sized.epochs / 10) in sized.train_config(0, save_epochs=(sized.epochs / 10,)).save_steps
        assert sized.steps_per_epoch >= 1


def test_laptop_regime_spans_2500_images_to_the_whole_set_at_fewer_steps_for_smaller_sets():
    sized = [LAPTOP.at_size(s) for s in LAPTOP.regime.sizes]
    assert [p.num_train for p in sized] == [2_500, 10_000, 25_000, 50_000]
    assert [p.steps for p in sized] == [90, 390, 970, 1_950]  # 10 epochs of each set, batch 256
    assert LAPTOP.at_size(0) == LAPTOP and SCARCE.at_size(250) == SCARCE  # the profile's own runs


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))
def test_every_regime_budget_sweep_is_a_sweep_ending_at_the_full_budget(profile):
    budgets = profile.regime.epochs
    assert len(budgets) >= 2 and list(budgets) == sorted(set(budgets))  # one budget would be a panel of one point
    assert budgets[-1] == profile.epochs


@pytest.mark.parametrize("per_class", [5_000, 6_000, -1])
def test_a_size_beyond_the_dataset_says_what_to_do(per_class):
    with pytest.raises(ValueError, match="choose fewer, or 0 for the whole training set") as error:
        LAPTOP.at_size(per_class)
    assert "\n" not in str(error.value) and "5,000 per class" in str(error.value)
    with pytest.raises(ValueError, match=r"cifar100 \(500 per class\)"):
        PAPER.on("cifar100").at_size(1_000)
