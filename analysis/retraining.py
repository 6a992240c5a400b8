"""Retraining on selected subsets, shared by every page: what each pruning method keeps, and one sweep to train it.

A page computes (cached) scores, selects subsets here, and retrains them through `retrain`, with the
same step budget as the full-data run, as in the paper.
"""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from functools import lru_cache

import pandas as pd
from torch import Tensor

from analysis import prune
from analysis.profiles import PROTOCOL, Profile, Variant, train_size
from analysis.score_runs import compute_scores, score_run_config, score_runs
from analysis.statistics import SeedNoise
from analysis.store import RunStore, array_digest
from analysis.sweep import RunTask, run_all
from analysis.train import subset_config

# Pruning methods of Figure 1: (score, epoch) where epoch None means the profile's score epoch.
METHODS: dict[str, tuple[str, float | None] | None] = {
    "el2n": ("el2n", None),
    "grand": ("grand", None),
    "grand_init": ("grand", 0.0),
    "forgetting": ("forgetting", None),  # read at the end of training
    "input_norm": ("input_norm", 0.0),
    "random": None,
}
RETRAIN_SEED_BASE = 1000  # retraining seeds never coincide with score-run seeds
PRIMARY_METHODS = ("el2n", "grand", "random")  # Figure 1's points with the profile's full retraining seeds


@dataclass(frozen=True)
class RandomSubset:
    """Random pruning to `size` examples: a fresh subset for every retraining seed, drawn with that seed
    (as the authors do), so the random baseline's spread includes the choice of subset."""

    size: int

    def draw(self, n: int, retrain_seed: int) -> Tensor:
        return prune.random_subset(n, self.size, seed=retrain_seed)


Selection = tuple[dict, Tensor | RandomSubset | None]  # (labels for the table, kept indices; None: all the data)


def method_scores(profile: Profile, store: RunStore, method: str, seeds: int | None = None,
                  executor: Executor | None = None) -> Tensor:
    """The seed-averaged scores that `method` prunes by."""
    if METHODS.get(method) is None:
        raise ValueError(f"Method {method!r} has no scores; scored methods: {[m for m in METHODS if METHODS[m]]}")
    score, epoch = METHODS[method]
    return compute_scores(profile, store, score, profile.score_epoch if epoch is None else epoch, seeds,
                          executor=executor)[0]


def select(profile: Profile, method: str, fraction: float, scores: Tensor | None = None) -> Tensor | RandomSubset:
    """What `method` keeps at `fraction` pruned: the indices of the highest `scores` (its `method_scores`), or a
    `RandomSubset`."""
    if method == "random":
        return RandomSubset(prune.kept_size(profile.num_train, fraction))
    if scores is None:
        raise ValueError(f"Method {method!r} prunes by scores: pass its method_scores.")
    return prune.keep_hardest(scores, fraction)


def retrain(
    profile: Profile, store: RunStore, selections: list[Selection], seeds: int | None = None,
    executor: Executor | None = None, desc: str = "retraining", variant: Variant = PROTOCOL,
) -> pd.DataFrame:
    """Train on each selected subset for every retraining seed (`variant` of the protocol): one row per run,
    labels as columns."""
    tasks = []
    for labels, kept in selections:
        for s in range(profile.retrain_seeds if seeds is None else seeds):
            config = profile.train_config(RETRAIN_SEED_BASE + s, variant)
            subset = kept.draw(profile.num_train, config.seed) if isinstance(kept, RandomSubset) else kept
            if subset is not None:
                config = subset_config(config, subset)
            tasks.append(RunTask(store, config, None if subset is None else subset.numpy(),
                                 {**labels, "seed": s}))
    metrics = run_all(tasks, executor, desc=desc)
    return pd.DataFrame([{**t.labels, "test_acc": m["final_test_acc"], "train_acc": m["final_train_acc"],
                          "kept": m["train_examples"]} for t, m in zip(tasks, metrics)])


def full_data(profile: Profile, store: RunStore, executor: Executor | None = None,
              variant: Variant = PROTOCOL) -> pd.DataFrame:
    """The score runs are the full-data runs: their final accuracies, one row per seed."""
    configs = [score_run_config(profile, s, variant) for s in range(profile.score_seeds)]
    metrics = score_runs(profile, store, configs, executor)
    return pd.DataFrame([{"seed": s, "test_acc": m["final_test_acc"], "train_acc": m["final_train_acc"]}
                         for s, m in enumerate(metrics)])


def seed_noise(profile: Profile, store: RunStore, variant: Variant = PROTOCOL) -> SeedNoise:
    """The single-run standard deviation of test accuracy in one condition, `profile`'s protocol as `variant`
    departs from it (`condition_noise`)."""
    return condition_noise(json.loads(json.dumps(profile.train_config(0, variant).key_dict())), store)


def condition_noise(config: dict, store: RunStore) -> SeedNoise:
    """The single-run standard deviation of test accuracy in the condition of `config` (a run's stored key
    dict), pooled over every stored run of that condition that differs from another only by its seed (score
    runs, and retraining arms on one subset); its `random` pool, over the condition's random-pruning arms (one
    group per subset size), whose seeds also draw their subsets. Runs of another training set, size, label noise,
    network, budget or learning rate are other conditions, with noise of their own. LMC children are left out:
    spawned from one parent checkpoint, they share all but their data order, so their spread understates a run's."""
    condition = _condition(config)
    fixed, drawn = defaultdict(list), defaultdict(list)
    for stored, metrics in store.configs("train"):
        if stored["init_from"] or _condition(stored) != condition:
            continue
        if _drawn_at_random(stored, metrics["train_examples"]):
            drawn[metrics["train_examples"]].append(metrics["final_test_acc"])
        else:
            fixed[json.dumps({k: v for k, v in stored.items() if k != "seed"}, sort_keys=True)].append(
                metrics["final_test_acc"])
    return replace(SeedNoise.pooled(fixed.values()), random=SeedNoise.pooled(drawn.values()))


def _drawn_at_random(config: dict, kept: int) -> bool:
    """Whether a run (its stored key dict) trained on the subset of `kept` examples that `RandomSubset` draws
    with its seed: a random-pruning arm."""
    if config["subset"] == "full":
        return False
    n = train_size(config["data"]["dataset"], config["data"]["train_per_class"])
    return kept < n and config["subset"] == _random_digest(n, kept, config["seed"])


@lru_cache(maxsize=4096)
def _random_digest(n: int, kept: int, seed: int) -> str:
    return array_digest(RandomSubset(kept).draw(n, seed))


def _condition(config: dict) -> dict:
    """What makes runs one condition: their config but for the seed, the subset trained on and the checkpoints."""
    return {k: v for k, v in config.items() if k not in ("seed", "subset", "save_steps")}
