"""Do scores transfer? (the paper's appendix): EL2N from one network prunes the training set of another."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor

import numpy as np
import pandas as pd

from analysis import prune, rules
from analysis.profiles import Profile, Variant
from analysis.retraining import retrain, seed_noise, select
from analysis.rules import Verdict
from analysis.score_runs import compute_scores
from analysis.statistics import SeedNoise, accuracies, compare, equivalent, noise_table
from analysis.store import RunStore

CLAIMS = ("transfer",)
RANDOM = "random"  # the source name of random pruning


def network(model: str, width: int) -> str:
    """A source's or target's name: 'resnet18-w8'."""
    return f"{model}-w{width}"


def transfer_sources(profile: Profile) -> dict[str, Variant]:
    """Score sources: each model of the page's `models`, and the profile's model with lr/2 and wd/5."""
    sources = {network(m, w): Variant(model=m, width=w) for m, w in profile.transfer.models}
    sources[f"{network(profile.model, profile.width)} lr/2 wd/5"] = Variant(
        lr=profile.lr / 2, weight_decay=profile.train_config(0).weight_decay / 5)
    return sources


def transfer(profile: Profile, store: RunStore, executor: Executor | None = None) -> pd.DataFrame:
    """Transfer: EL2N from each source prunes `study_fraction` of the data to train each target model."""
    f = profile.study_fraction
    selections = []
    for name, source in transfer_sources(profile).items():
        scores = compute_scores(profile, store, "el2n", profile.score_epoch, variant=source, executor=executor)[0]
        selections.append(({"source": name}, prune.keep_hardest(scores, f)))
    selections.append(({"source": RANDOM}, select(profile, "random", f)))
    frames = []
    for model, width in profile.transfer.models:
        df = retrain(profile, store, selections, executor=executor, desc=f"transfer to {model}",
                     variant=Variant(model=model, width=width))
        frames.append(df.assign(target=network(model, width)))
    return pd.concat(frames, ignore_index=True)


def matrices(runs: pd.DataFrame, sources: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean test accuracy (rows: `sources` then random, columns: targets), and its difference from random
    pruning for the same target (random's row dropped)."""
    acc = runs.pivot_table(index="source", columns="target", values="test_acc", aggfunc="mean").loc[[*sources, RANDOM]]
    return acc, (acc - acc.loc[RANDOM]).drop(index=RANDOM)


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `runs` (source, seed, test_acc, train_acc, kept, target), `accuracy` (mean test accuracy,
    source x target, random pruning last), `gain` (accuracy minus random pruning's for the same target) and
    `seed_noise` (each target's, by `target`)."""
    runs = transfer(profile, store, executor=executor)
    acc, gain = matrices(runs, list(transfer_sources(profile)))
    noise = {network(m, w): seed_noise(profile, store, Variant(model=m, width=w)) for m, w in profile.transfer.models}
    return {"runs": runs, "accuracy": acc, "gain": gain, "seed_noise": noise_table(noise, "target")}


def counts(runs: pd.DataFrame, gain: pd.DataFrame, noise: Mapping[str, SeedNoise]) -> dict[str, int]:
    """Cells of `gain` (source x target) compared by `analysis.statistics` with each target's seed noise
    (`noise`): `cells`, `losses` (cells that lose to
    random pruning), `foreign` (cells whose target also scores as a source, other than itself) and `as_own`
    (foreign cells that match the target's own scores, 90% interval within one point, or beat them)."""
    def cell(source: str, target: str) -> np.ndarray:
        return accuracies(runs, source=source, target=target)

    pairs = [(s, t) for s in gain.index for t in gain.columns]
    foreign = [(s, t) for s, t in pairs if s != t]  # the target's own scores are the source named like the target
    return {
        "cells": len(pairs),
        "losses": sum(compare(cell(s, t), cell(RANDOM, t), noise[t].vs_random) < 0 for s, t in pairs),
        "foreign": sum(t in gain.index for _, t in foreign),
        "as_own": sum(compare(cell(s, t), cell(t, t), noise[t]) > 0 or equivalent(cell(s, t), cell(t, t), noise[t])
                      for s, t in foreign if t in gain.index),
    }


def context(runs: pd.DataFrame, gain: pd.DataFrame, noise: Mapping[str, SeedNoise]) -> str:
    n = counts(runs, gain, noise)
    return (
        f"{n['losses']} of {n['cells']} cells lose to random pruning beyond two standard errors (differences from "
        f"{gain.min().min():+.1%} to {gain.max().max():+.1%}). Against the target's own scores instead of random, "
        f"scores from another source match (within a point, at 90% confidence) or beat them in {n['as_own']} of "
        f"{n['foreign']} cells.")


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    return {
        "table": tables["accuracy"].rename_axis(index="source (scored)", columns="target (trained)")
        .style.format("{:.2%}"),
        "fraction": f"{profile.study_fraction:.0%}",
        "context": context(tables["runs"], tables["gain"], SeedNoise.by(tables["seed_noise"], "target")),
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    return [rules.transfer(tables["runs"], SeedNoise.by(tables["seed_noise"], "target"))]
