"""What the book costs at a profile, before running it: every training run each page would start, counted dry.

Each page's `run` is called with the training sweeps and the score computations replaced by stand-ins
(stored scores where they exist, else random ones; placeholder accuracies), so nothing trains. The runs
the pages submit are collected, deduplicated by key across pages (score runs serve several pages), and
counted in run-equivalents (steps over the full-data run's steps, times the run's network's multiply-adds per
image over the profile network's: a transfer target's VGG-11 at width 32 counts 1.93 times the `laptop` network per
step, whose bare training loop measured 1.95 times as long, 2026-11-30), with how many are already stored. A
stored run whose checkpoints a page needs but this machine lacks (LMC parents, the NTK page's score runs
without stored kernels) is trained again, once, and counted so.

    python benchmarks/plan_book.py --profile laptop [--minutes-per-run 6.3]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import ExitStack, contextmanager
from functools import cache
from unittest import mock

import numpy as np
import pandas as pd
import torch

from analysis import chapters, retraining, score_runs
from analysis.chapters import lmc, ntk
from analysis.models import build_model, multiply_adds
from analysis.profiles import Profile, get_profile
from analysis.statistics import SeedNoise
from analysis.store import RunStore, config_key, results_root
from analysis.sweep import RunTask
from analysis.train import checkpoints_missing


@cache
def step_cost(model: str, width: int) -> int:
    """What a training step's time scales with: the multiply-adds of one image's forward pass
    (`models.multiply_adds`)."""
    return multiply_adds(build_model(model, 10, width))


def _rng(*parts) -> np.random.Generator:
    return np.random.default_rng(int(config_key("stand-in", {"parts": [str(p) for p in parts]}), 16) % 2**32)


def stand_in_metrics(task: RunTask, profile: Profile) -> dict:
    """A training run's result, drawn from its key: test accuracy about 85% with a point of seed noise."""
    rng = _rng(config_key("train", task.config.key_dict()))
    n = profile.num_train if task.subset is None else len(task.subset)
    return {"final_test_acc": 0.85 + 0.01 * rng.standard_normal(), "final_train_acc": 0.9 + 0.01 * rng.random(),
            "train_examples": n}


def lmc_barriers(profile: Profile, children: list, subset, store: RunStore) -> list[dict]:
    """The LMC page's barriers between two children (`lmc._barriers`), drawn, not measured; nothing stored."""
    rng = _rng(*(config_key("train", c.key_dict()) for c in children))
    return [{"eval_set": name, "bn_reset": reset, "barrier": float(rng.uniform(0.0, 0.05))}
            for name in ("test", "own train") for reset in (False, True)]


def ntk_study(profile: Profile, store: RunStore, executor: Executor | None = None) -> pd.DataFrame:
    """The NTK page's training (`ntk.kernel_runs`), with drawn kernel velocities and distances in the shape of
    `ntk.study`; no kernel is computed or stored."""
    runs, samples = ntk.kernel_runs(profile, store, executor)
    epochs, rng = sorted(profile.ntk.epochs), _rng(profile.name, "ntk")
    return pd.DataFrame([{"seed": s, "epoch": e, "group": g, "velocity": rng.uniform(0.001, 0.1) if i else np.nan,
                          "distance_from_start": rng.uniform(0.0, 1.0) if i else 0.0}
                         for s in range(len(runs)) for i, e in enumerate(epochs) for g in range(len(samples))])


@contextmanager
def dry_training(profile: Profile, store: RunStore, on_run: Callable[[RunTask], None] = lambda task: None):
    """Within: every training sweep returns `stand_in_metrics` (each task passed to `on_run` first), scores not
    in `store` are random stand-ins, LMC barriers and NTK kernels are drawn, and every condition's seed noise is
    one point over 10 degrees of freedom (so that comparisons are decided both ways). Nothing trains, nothing
    drawn is stored; input norms and scores already stored are real."""

    def run_all(tasks, executor=None, desc=""):
        tasks = list(tasks)
        for task in tasks:
            on_run(task)
        return [stand_in_metrics(task, profile) for task in tasks]

    real_score_of_run = score_runs.score_of_run

    def score_of_run(profile_, store_, config, score, step, squared=False, positions=None):
        """The stored score where there is one (so stored subsets are recognised), else a random stand-in."""
        key = score_runs._score_key(config, score, step, squared, positions)
        trained = store.has("train", config.key_dict())
        if score == "input_norm" or store.has("scores", key) or (score == "forgetting" and trained):
            return real_score_of_run(profile_, store_, config, score, step, squared, positions)
        n = len(positions) if positions is not None else config.data.load("cpu")[0].train_labels.shape[0]
        seed = int(config_key(score, {"train": config.key_dict(), "step": step}), 16) % 2**31
        return torch.rand(n, generator=torch.Generator().manual_seed(seed))

    with ExitStack() as stack:
        for module in (score_runs, lmc, retraining):
            stack.enter_context(mock.patch.object(module, "run_all", run_all))
        stack.enter_context(mock.patch.object(score_runs, "score_of_run", score_of_run))
        stack.enter_context(mock.patch.object(lmc, "_barriers", lmc_barriers))
        stack.enter_context(mock.patch.object(ntk, "study", ntk_study))
        stack.enter_context(mock.patch.object(retraining, "condition_noise", lambda *args: SeedNoise(0.01, 10)))
        yield


def plan(profile_name: str) -> pd.DataFrame:
    """One row per page: runs it submits, new to this plan and not yet stored, in run-equivalents."""
    profile = get_profile(profile_name)
    store = RunStore(profile.name, results_root())
    seen: set[str] = set()
    regenerated: set[str] = set()
    on_page: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    page = ""

    def count(task: RunTask) -> None:
        key = config_key("train", task.config.key_dict())
        share = ((task.config.steps - task.config.start_step()) / profile.steps  # LMC children: spawn to end
                 * step_cost(task.config.model, task.config.width) / step_cost(profile.model, profile.width))
        if key not in on_page[page]:  # a page reads some runs several times (score runs)
            on_page[page].add(key)
            counts[page]["runs"] += 1
            counts[page]["run-equivalents"] += share
        stored = store.has("train", task.config.key_dict())
        if key not in seen:
            seen.add(key)
            counts[page]["new runs"] += 1
            counts[page]["new run-equivalents"] += share
            counts[page]["to train (run-equivalents)"] += 0 if stored else share
        if stored and task.checkpoints and key not in regenerated and checkpoints_missing(task.config, store):
            regenerated.add(key)
            counts[page]["to train (run-equivalents)"] += share

    rows = []
    with dry_training(profile, store, count):
        for page in chapters.PAGES:
            chapters.module(page).run(profile, store)
            rows.append({"page": page, **counts[page]})
    return pd.DataFrame(rows).set_index("page").fillna(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="laptop")
    parser.add_argument("--minutes-per-run", type=float, default=10.7,
                        help="wall minutes per run-equivalent with the sweep's executor (laptop on this project's "
                             "2-core CPU, two single-threaded workers: its first ten runs took 1,281 s each on "
                             "average, 2026-11-29)")
    args = parser.parse_args()
    table = plan(args.profile)
    print(table.round(2).to_string())
    total, todo = table["run-equivalents"].sum(), table["to train (run-equivalents)"].sum()
    print(f"\nprofile {args.profile}: {table['new runs'].sum():.0f} distinct runs, "
          f"{table['new run-equivalents'].sum():.1f} run-equivalents in all, "
          f"{table.loc[:, 'to train (run-equivalents)'].sum():.1f} run-equivalents still to train "
          f"(about {todo * args.minutes_per_run / 60:.1f} h at {args.minutes_per_run:g} min each); pages submit "
          f"{total:.1f} run-equivalents counting shared runs once per page")


if __name__ == "__main__":
    main()
