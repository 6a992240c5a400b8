"""The core studies (the paper's Figures 1-4 and the transfer study), each returning a tidy DataFrame.

Every study is: compute (cached) scores, select subsets with `analysis.prune`, retrain through one
sweep. Retraining uses the same step budget as the full-data run, as in the paper.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr
from torch import Tensor

from analysis import prune
from analysis.profiles import PAPER, Profile
from analysis.score_runs import compute_scores, score_run_config, score_runs
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


def method_scores(profile: Profile, method: str, seeds: int | None = None, **kwargs) -> Tensor:
    """The seed-averaged scores that `method` prunes by."""
    if METHODS.get(method) is None:
        raise ValueError(f"Method {method!r} has no scores; scored methods: {[m for m in METHODS if METHODS[m]]}")
    score, epoch = METHODS[method]
    return compute_scores(profile, score, profile.score_epoch if epoch is None else epoch, seeds, **kwargs)[0]


def select(profile: Profile, method: str, fraction: float, scores: Tensor | None = None) -> Tensor:
    """Indices kept by `method` at `fraction` pruned: the highest scores, or random.

    Random pruning draws one subset per fraction (seeded by it), shared by every study that prunes
    that fraction at random; retraining seeds vary the training, not the subset.
    """
    n = profile.num_train
    if method == "random":
        return prune.random_subset(n, prune.kept_size(n, fraction), seed=int(fraction * 1000))
    return prune.keep_hardest(method_scores(profile, method) if scores is None else scores, fraction)


def retrain(
    profile: Profile, selections: list[tuple[dict, Tensor | None]], seeds: int | None = None,
    executor: Executor | None = None, desc: str = "retraining", **config_kwargs,
) -> pd.DataFrame:
    """Train on each selected subset for every retraining seed: one row per run, labels as columns.

    `config_kwargs` go to `Profile.train_config` (model, width, label_noise, epochs).
    """
    tasks = []
    for labels, subset in selections:
        for s in range(profile.retrain_seeds if seeds is None else seeds):
            config = profile.train_config(RETRAIN_SEED_BASE + s, **config_kwargs)
            if subset is not None:
                config = subset_config(config, subset)
            tasks.append(RunTask(profile.name, config, None if subset is None else subset.numpy(),
                                 {**labels, "seed": s}))
    metrics = run_all(tasks, executor, desc=desc)
    return pd.DataFrame([{**t.labels, "test_acc": m["final_test_acc"], "train_acc": m["final_train_acc"],
                          "kept": m["train_examples"]} for t, m in zip(tasks, metrics)])


def full_data(profile: Profile, executor: Executor | None = None, **kwargs) -> pd.DataFrame:
    """The score runs are the full-data runs: their final accuracies, one row per seed."""
    configs = [score_run_config(profile, s, **kwargs) for s in range(profile.score_seeds)]
    metrics = score_runs(profile, configs, executor)
    return pd.DataFrame([{"seed": s, "test_acc": m["final_test_acc"], "train_acc": m["final_train_acc"]}
                         for s, m in enumerate(metrics)])


def pruning_selections(profile: Profile, methods: tuple[str, ...] = tuple(METHODS),
                       executor: Executor | None = None) -> list[tuple[dict, Tensor]]:
    """Figure 1's subsets: ({method, fraction}, kept indices) for every method and fraction pruned."""
    selections = []
    for method in methods:
        scores = None if method == "random" else method_scores(profile, method, executor=executor)
        for f in profile.fractions:
            selections.append(({"method": method, "fraction": f}, select(profile, method, f, scores)))
    return selections


def pruning_curves(profile: Profile, methods: tuple[str, ...] = tuple(METHODS),
                   executor: Executor | None = None) -> pd.DataFrame:
    """Figure 1: test accuracy against the fraction pruned for every method (rows: method, fraction, seed)."""
    return retrain(profile, pruning_selections(profile, methods, executor), executor=executor, desc="pruning curves")


def kept_class_coverage(profile: Profile, methods: tuple[str, ...] = tuple(METHODS)) -> pd.DataFrame:
    """Class balance of Figure 1's subsets: the share of each class kept, one row per method and fraction.

    Scores prune class-agnostically, as in the paper; a class whose examples all look easy loses most of them.
    """
    labels = profile.data().load()[0].train_labels
    rows = [{**selection, **{c: float(v) for c, v in enumerate(prune.class_coverage(labels, kept))}}
            for selection, kept in pruning_selections(profile, methods)]
    return pd.DataFrame(rows).set_index(["method", "fraction"])


def score_epoch_sweep(profile: Profile, scores: tuple[str, ...] = ("el2n", "grand"),
                      executor: Executor | None = None) -> pd.DataFrame:
    """Figure 2: accuracy after pruning `study_fraction` by scores taken at each epoch of `score_epochs`."""
    f = profile.study_fraction
    selections = [
        ({"score": s, "epoch": e}, prune.keep_hardest(compute_scores(profile, s, e, executor=executor)[0], f))
        for s in scores for e in profile.score_epochs
    ]
    selections.append(({"score": "random", "epoch": np.nan}, select(profile, "random", f)))
    return retrain(profile, selections, executor=executor, desc="score epochs")


def spearman_matrix(vectors: dict[str, Tensor]) -> pd.DataFrame:
    """Spearman rank correlations between named per-example score vectors."""
    names = list(vectors)
    ranks = rankdata(np.stack([vectors[n].numpy() for n in names], axis=1), axis=0)  # +inf ranks last
    return pd.DataFrame(np.corrcoef(ranks, rowvar=False), index=names, columns=names)


def score_agreement(profile: Profile, executor: Executor | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Figure 3: Spearman matrix of all scores and epochs, and each single seed against the seed mean."""
    vectors, single = {}, []
    for score in ("el2n", "grand"):
        for e in profile.score_epochs:
            mean, per_seed = compute_scores(profile, score, e, executor=executor)
            vectors[f"{score}@{e:g}"] = mean
            for s, row in enumerate(per_seed):
                single.append({"score": score, "epoch": e, "seed": s,
                               "spearman_to_mean": spearmanr(row.numpy(), mean.numpy()).statistic})
    vectors["forgetting"] = method_scores(profile, "forgetting", executor=executor)
    vectors["input_norm"] = method_scores(profile, "input_norm")
    return spearman_matrix(vectors), pd.DataFrame(single)


def init_widths(profile: Profile) -> tuple[int, ...]:
    """Network widths of the initialisation check: doubling from the profile's up to the paper's."""
    widths = [profile.width]
    while widths[-1] < PAPER.width:
        widths.append(widths[-1] * 2)
    return tuple(widths)


def grand_init_vs_input_norm(profile: Profile) -> pd.DataFrame:
    """Kirsch's control by network width: Spearman of GraNd at initialisation with the input norm.

    On a fixed random sample of `init_check_examples` training images, for each width of
    `init_widths`: one row per single initialisation (`seeds` 1) and one for the mean over all
    `score_seeds` (`seeds` n). No training is needed: only initialisations are scored.
    """
    sample = prune.random_subset(profile.num_train, min(profile.init_check_examples, profile.num_train), seed=0)
    norm = compute_scores(profile, "input_norm", 0.0, 1, positions=sample)[0].numpy()
    rows = []
    for width in init_widths(profile):
        mean, per_seed = compute_scores(profile, "grand", 0.0, width=width, positions=sample)
        rows += [{"width": width, "seeds": 1, "seed": s, "spearman": spearmanr(g.numpy(), norm).statistic}
                 for s, g in enumerate(per_seed)]
        rows.append({"width": width, "seeds": len(per_seed), "seed": np.nan,
                     "spearman": spearmanr(mean.numpy(), norm).statistic})
    return pd.DataFrame(rows)


def seed_count_sweep(profile: Profile, score: str = "el2n", executor: Executor | None = None) -> pd.DataFrame:
    """Figure 4: pruning accuracy, and Spearman to the all-seed mean, against the number of averaged seeds."""
    _, per_seed = compute_scores(profile, score, profile.score_epoch, executor=executor)
    full_mean = per_seed.mean(0)
    selections, rhos = [], {}
    for k in profile.seed_counts:
        mean_k = per_seed[:k].mean(0)
        rhos[k] = spearmanr(mean_k.numpy(), full_mean.numpy()).statistic
        selections.append(({"score": score, "n_seeds": k}, prune.keep_hardest(mean_k, profile.study_fraction)))
    df = retrain(profile, selections, executor=executor, desc="seed counts")
    df["spearman_to_all"] = df["n_seeds"].map(rhos)
    return df


def transfer_sources(profile: Profile) -> dict[str, dict]:
    """Score sources: each model of `transfer_models`, and the profile's model with lr/2 and wd/5."""
    sources = {f"{m}-w{w}": {"model": m, "width": w} for m, w in profile.transfer_models}
    sources[f"{profile.model}-w{profile.width} lr/2 wd/5"] = {"lr": 0.05, "weight_decay": 1e-4}
    return sources


def transfer(profile: Profile, executor: Executor | None = None) -> pd.DataFrame:
    """Transfer: EL2N from each source prunes `study_fraction` of the data to train each target model."""
    f = profile.study_fraction
    selections = []
    for name, kwargs in transfer_sources(profile).items():
        scores = compute_scores(profile, "el2n", profile.score_epoch, executor=executor, **kwargs)[0]
        selections.append(({"source": name}, prune.keep_hardest(scores, f)))
    selections.append(({"source": "random"}, select(profile, "random", f)))
    frames = []
    for model, width in profile.transfer_models:
        df = retrain(profile, selections, executor=executor, desc=f"transfer to {model}", model=model, width=width)
        frames.append(df.assign(target=f"{model}-w{width}"))
    return pd.concat(frames, ignore_index=True)


def offset_sweep(profile: Profile, label_noise: float = 0.0, executor: Executor | None = None) -> pd.DataFrame:
    """Figure 5: windows of `window_fraction` of the EL2N ranking at increasing offsets from the hardest end."""
    n = profile.num_train
    size = round(profile.window_fraction * n)
    scores = compute_scores(profile, "el2n", profile.score_epoch, label_noise=label_noise, executor=executor)[0]
    selections = [({"offset": round(o * n), "selection": "window"}, prune.keep_window(scores, round(o * n),
                                                                                           size))
                  for o in profile.offsets if round(o * n) + size <= n]
    selections.append(({"offset": np.nan, "selection": "random"}, prune.random_subset(n, size, seed=size)))
    return retrain(profile, selections, seeds=profile.secondary_seeds, executor=executor, desc="windows",
                   label_noise=label_noise)
