"""Scores averaged over initialisations: train (or load) one score run per seed, score its checkpoints.

A score run is the profile's full-data training run with checkpoints at every epoch some study
reads, so scores at several epochs, forgetting (end of training) and the full-data accuracy all
come from the same runs. Each (run, score, step) result is cached in the run store.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import Executor
from functools import partial

import pandas as pd
import torch
from torch import Tensor

from analysis.profiles import PROTOCOL, Profile, Variant
from analysis.scores import correct, el2n, forgetting_from_counts, grand, input_norm, loss
from analysis.store import Result, RunStore, array_digest, config_key
from analysis.sweep import RunTask, run_all
from analysis.train import TrainConfig, load_checkpoint, resolve_device, run_training

FROM_CHECKPOINT = {"el2n": el2n, "grand": grand, "loss": loss, "correct": correct}  # correct: 1 if classified right
SCORES = (*FROM_CHECKPOINT, "forgetting", "input_norm")


def score_run_config(profile: Profile, seed: int, variant: Variant = PROTOCOL) -> TrainConfig:
    """The full-data run of `seed` (`variant` of the protocol) whose checkpoints the scores are read from."""
    budget = profile.epochs if variant.epochs is None else variant.epochs
    return profile.train_config(
        seed, variant, save_epochs=(*(e for e in profile.checkpoint_epochs() if e <= budget), budget, budget / 10))


def score_runs(
    profile: Profile, store: RunStore, configs: list[TrainConfig], executor: Executor | None = None,
    checkpoints: bool | Collection[TrainConfig] = False,
) -> list[dict]:
    """Train (or load) score runs, in parallel where the executor allows; `checkpoints`: with them on disk (every
    run, or the runs listed)."""
    tasks = [RunTask(store, c, checkpoints=checkpoints if isinstance(checkpoints, bool) else c in checkpoints)
             for c in configs]
    return run_all(tasks, executor, desc="score runs")


def score_of_run(
    profile: Profile, store: RunStore, config: TrainConfig, score: str, step: int, squared: bool = False,
    positions: Tensor | None = None,
) -> Tensor:
    """One run's per-example `score` at `step` (cached), on the training set or its `positions`.

    `forgetting` uses the end of training.
    """
    if score not in SCORES:
        raise ValueError(f"Unknown score {score!r}: choose one of {', '.join(SCORES)}.")
    device = resolve_device()
    data, _ = config.data.load(device)
    images, labels = data.train_images, data.train_labels
    if positions is not None:
        images, labels = images[positions.to(images.device)], labels[positions.to(labels.device)]
    if score == "input_norm":
        return input_norm(data.normalize(images))
    if score == "forgetting":
        run = run_training(config, store)
        scores = forgetting_from_counts(run.arrays["forget_counts"], run.arrays["ever_correct"])
        return scores if positions is None else scores[positions]

    def compute() -> Result:
        model = load_checkpoint(config, step, store)
        fn = partial(el2n, squared=squared) if score == "el2n" else FROM_CHECKPOINT[score]
        return Result({"score": score, "step": step}, {"scores": fn(model, data.normalize(images), labels).numpy()})

    key = _score_key(config, score, step, squared, positions)
    return torch.as_tensor(store.get_or_compute("scores", key, compute, device=str(device)).arrays["scores"])


def _score_key(config: TrainConfig, score: str, step: int, squared: bool, positions: Tensor | None) -> dict:
    key = {"train": config_key("train", config.key_dict()), "score": score, "step": step, "squared": squared}
    if positions is not None:
        key["positions"] = array_digest(positions)
    return key


def compute_scores(
    profile: Profile, store: RunStore, score: str, epoch: float, seeds: int | list[int] | None = None, *,
    variant: Variant = PROTOCOL, squared: bool = False, positions: Tensor | None = None,
    executor: Executor | None = None,
) -> tuple[Tensor, Tensor]:
    """Per-example mean of `score` at `epoch` (0: initialisation) over seeds, and the (seeds, N) matrix.

    The score runs follow the profile's protocol as `variant` departs from it; `positions` scores only
    those training examples.
    """
    seeds = range(profile.score_seeds if seeds is None else seeds) if not isinstance(seeds, list) else seeds
    configs = [score_run_config(profile, s, variant) for s in seeds]
    step = profile.step(epoch)
    if score in FROM_CHECKPOINT and step not in configs[0].save_steps:
        raise ValueError(f"epoch {epoch:g} is not a checkpointed epoch of profile {profile.name!r}: choose one of "
                         f"{', '.join(f'{e:g}' for e in profile.checkpoint_epochs())}")
    if score == "forgetting" or (score != "input_norm" and step > 0):  # the initialisation needs no training
        # every run is served, stored or not, so that it counts in the page's compute (`RunStore.compute_seconds`)
        # however much is cached; checkpoints only where a score is missing
        unscored = [] if score == "forgetting" else [
            c for c in configs if not store.has("scores", _score_key(c, score, step, squared, positions))]
        score_runs(profile, store, configs, executor, checkpoints=unscored)
    per_seed = torch.stack([score_of_run(profile, store, c, score, step, squared, positions) for c in configs])
    return per_seed.mean(0), per_seed


def score_run_accuracy(profile: Profile, store: RunStore, epochs: Collection[float],
                       executor: Executor | None = None) -> pd.DataFrame:
    """How far the score runs have learnt when scores are read: their accuracy on the training images (eval mode,
    un-augmented) at each of `epochs`. One row per epoch and score run (epoch, seed, train_acc)."""
    rows = []
    for e in epochs:
        per_seed = compute_scores(profile, store, "correct", e, executor=executor)[1]
        rows += [{"epoch": e, "seed": s, "train_acc": float(acc)} for s, acc in enumerate(per_seed.mean(1))]
    return pd.DataFrame(rows)
