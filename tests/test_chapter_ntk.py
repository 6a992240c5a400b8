"""The ntk page: its EL2N groups, and every number and sentence its prose shows, on hand-made velocity tables."""

from __future__ import annotations

import itertools
import math
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch

from analysis import score_runs
from analysis.chapters import ntk
from analysis.profiles import SCARCE, SMOKE, Ntk
from analysis.rules import INCONCLUSIVE
from analysis.score_runs import score_run_config
from analysis.store import RunStore, config_key

REPO = Path(__file__).parents[1]

PROFILE = replace(SMOKE, ntk=Ntk(groups=3, per_group=8, epochs=(0, 1, 2, 4), runs=1), score_epoch=1)


def _study(velocities: dict[int, list[float]], seed: int = 0) -> pd.DataFrame:
    """Rows of run `seed` for epochs 0, 1, 2, 4: `velocities[group]` at epochs 1, 2, 4 (NaN at epoch 0)."""
    return pd.DataFrame([{"seed": seed, "epoch": e, "group": g, "velocity": v, "distance_from_start": 0.1 * i}
                         for g, vs in velocities.items()
                         for i, (e, v) in enumerate(zip(PROFILE.ntk.epochs, [math.nan, *vs]))])


def _context(velocities: dict[int, list[float]]) -> str:
    return ntk.facts({"study": _study(velocities)}, PROFILE)["context"]


def test_groups_partition_the_ranking():
    scores = torch.rand(SCARCE.num_train, generator=torch.Generator().manual_seed(0))
    groups = ntk.groups(SCARCE, scores)
    assert len(groups) == SCARCE.ntk.groups and all(len(g) == SCARCE.ntk.per_group for g in groups)
    for low, high in itertools.pairwise(groups):
        assert scores[low].max() < scores[high].min()


def test_context_gives_the_range_of_top_over_bottom_velocity_ratios_after_the_score_epoch():
    # epoch 1 (the interval up to the score epoch) has ratio 100 and is left out; epochs 2 and 4 give 3 and 1.5
    text = _context({0: [0.01, 0.02, 0.01], 1: [0.5, 0.5, 0.5], 2: [1.0, 0.06, 0.015]})
    assert text.startswith("After epoch 1, the highest-EL2N group's kernel moves 1.50 to 3.00 times as fast as the "
                           "lowest group's")
    # the fastest kernel: 0.5 (group 1) at epoch 2, 0.5 at epoch 4
    assert ": the fastest kernel moves 0.5 per epoch at epoch 2 and 0.5 at epoch 4." in text
    assert text.endswith("Each velocity comes from one training run and 8 examples per group; the page does not "
                         "measure how much these ratios vary between runs or samples.")


def test_context_says_every_group_slows_down_only_when_every_group_does():
    slowing = _context({0: [0.1, 0.02, 0.01], 1: [0.1, 0.05, 0.04], 2: [0.1, 0.06, 0.015]})
    assert "lowest group's, while every group slows down: the fastest" in slowing
    one_speeds_up = _context({0: [0.1, 0.02, 0.01], 1: [0.1, 0.05, 0.05], 2: [0.1, 0.06, 0.015]})
    assert "lowest group's: the fastest kernel moves 0.06 per epoch at epoch 2 and 0.05 at epoch 4" in one_speeds_up
    assert "slows down" not in one_speeds_up


def test_facts_show_the_setting_and_the_table():
    facts = ntk.facts({"study": _study({0: [1, 2, 3], 1: [4, 5, 6], 2: [7, 8, 9.5]})}, PROFILE)
    assert facts["epochs"] == "0, 1, 2, 4" and facts["after"] == "1"
    assert facts["per_group"] == "8" and facts["groups"] == "3"
    table = facts["table"].data
    # the first epoch has no velocity: pivot_table leaves out its all-NaN column
    assert list(table.index) == [0, 1, 2] and list(table.columns) == [1, 2, 4]
    assert table.loc[2, 4] == 9.5 and table.loc[0, 1] == 1
    assert "9.5" in facts["table"].to_html()


def test_the_verdict_of_one_training_run_is_inconclusive_whatever_the_ratios():
    (judged,) = ntk.verdicts({"study": _study({0: [0.1, 0.1, 0.1], 1: [1.0, 1.0, 1.0], 2: [0.1, 0.2, 0.3]})},
                             PROFILE)
    assert judged.claim_id == "ntk" and ntk.CLAIMS == ("ntk",)
    assert judged.verdict == INCONCLUSIVE and "Too few runs" in judged.reason
    # epochs after the score epoch (1): ratios 2 and 3, neither counted
    assert judged.ours.endswith("2: 2.00, 4: 3.00 (one training run); faster at 0 of 2, slower at 0")


def test_several_runs_give_mean_velocities_geometric_mean_ratios_and_say_so():
    # top / bottom ratios at epochs 2 and 4: run 0 gives 2 and 1, run 1 gives 8 and 4; geometric means 4 and 2,
    # where the ratios of the mean velocities would be 5 and 2.5
    study = pd.concat([_study({0: [1.0, 1.0, 1.0], 1: [1.0, 1.0, 1.0], 2: [1.0, 2.0, 1.0]}, seed=0),
                       _study({0: [1.0, 1.0, 1.0], 1: [1.0, 1.0, 1.0], 2: [1.0, 8.0, 4.0]}, seed=1)])
    facts = ntk.facts({"study": study}, replace(PROFILE, ntk=replace(PROFILE.ntk, runs=2)))
    assert facts["runs"] == "2"
    assert facts["table"].data.loc[2, 2] == 5.0 and facts["table"].data.loc[2, 4] == 2.5
    assert facts["context"].startswith("After epoch 1, the highest-EL2N group's kernel moves 2.00 to 4.00 times")
    assert facts["context"].endswith("Each velocity is the mean over 2 training runs, on the same 8 examples per "
                                     "group in each, and each ratio the geometric mean of the runs' ratios; the "
                                     "verdict weighs how much the ratios vary between runs, not between samples of "
                                     "examples.")
    (judged,) = ntk.verdicts({"study": study}, PROFILE)
    assert judged.ours.startswith("highest / lowest EL2N group kernel velocity by epoch: 2: 4.00, 4: 2.00 "
                                  "(geometric mean of 2 training runs)")


def test_only_runs_missing_a_kernel_after_initialisation_train_again_for_checkpoints(results_dir, monkeypatch):
    """Every run is served (its compute counts on the page); checkpoints are asked for where a kernel after step 0
    is missing, since step 0 is rebuilt from the seed."""
    shutil.copytree(REPO / "results" / "smoke", results_dir / "smoke", ignore=shutil.ignore_patterns("scratch"))
    store = RunStore("smoke", results_dir)
    submitted = []
    monkeypatch.setattr(score_runs, "run_all", lambda tasks, *a, **k: submitted.append(list(tasks)) or [])

    def asked() -> list[bool]:
        submitted.clear()
        ntk.kernel_runs(SMOKE, store)
        return [t.checkpoints for t in submitted[-1]]  # the last call: the kernels' runs (before it, EL2N's)

    assert asked() == [False] * SMOKE.ntk.runs
    run1 = config_key("train", score_run_config(SMOKE, 1).key_dict())
    kernels = {c["step"]: store.path("ntk", c) for c, _ in store.configs("ntk") if c["train"] == run1}
    shutil.rmtree(kernels[0])
    assert asked() == [False] * SMOKE.ntk.runs
    shutil.rmtree(kernels[max(kernels)])
    assert asked() == [False, True]
