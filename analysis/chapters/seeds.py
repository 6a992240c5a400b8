"""How many initialisations? (the paper's Figure 4): GraNd averaged over more score runs, pruned and retrained."""

from __future__ import annotations

from concurrent.futures import Executor

import pandas as pd
from scipy.stats import spearmanr

from analysis import prune, rules
from analysis.chapters import score_agreement
from analysis.profiles import PAPER, Profile
from analysis.retraining import retrain, seed_noise, select
from analysis.rules import Verdict
from analysis.score_runs import compute_scores
from analysis.statistics import SeedNoise, compare
from analysis.store import RunStore

CLAIMS = ("single_run",)
SCORE = "grand"  # the score the paper averages in Figure 4


def seed_count_sweep(profile: Profile, store: RunStore, score: str = "el2n",
                     executor: Executor | None = None) -> pd.DataFrame:
    """Figure 4: pruning accuracy, and Spearman to the all-seed mean, against the number of averaged seeds."""
    _, per_seed = compute_scores(profile, store, score, profile.score_epoch, executor=executor)
    full_mean = per_seed.mean(0)
    selections, rhos = [], {}
    for k in profile.seeds.counts:
        mean_k = per_seed[:k].mean(0)
        rhos[k] = spearmanr(mean_k.numpy(), full_mean.numpy()).statistic
        selections.append(({"score": score, "n_seeds": k}, prune.keep_hardest(mean_k, profile.study_fraction)))
    df = retrain(profile, store, selections, executor=executor, desc="seed counts")
    df["spearman_to_all"] = df["n_seeds"].map(rhos)
    return df


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `seeds` (score, n_seeds, seed, test_acc, train_acc, kept, spearman_to_all), `single` (each score
    seed against the seed mean, from the score agreement page) and `random` (random pruning of `study_fraction`,
    the pruning curves' runs)."""
    seeds = seed_count_sweep(profile, store, score=SCORE, executor=executor)
    single = score_agreement.score_agreement(profile, store, executor=executor)[1]
    kept_at_random = select(profile, "random", profile.study_fraction)
    random = retrain(profile, store, [({"method": "random"}, kept_at_random)], executor=executor)
    return {"seeds": seeds, "single": single, "random": random,
            "seed_noise": seed_noise(profile, store).table()}


def context(seeds: pd.DataFrame, random: pd.DataFrame, noise: SeedNoise) -> str:
    """The sentence after the table: whether every seed count loses to random pruning beyond two standard errors."""
    by_count = seeds.groupby("n_seeds")["test_acc"].mean()
    worse = all(compare(seeds.loc[seeds["n_seeds"] == k, "test_acc"], random["test_acc"], noise.vs_random) < 0
                for k in by_count.index)
    return (
        f"Every GraNd subset here ({by_count.min():.2%} to {by_count.max():.2%}) is worse than random pruning beyond "
        "two standard errors, so more "
        "initialisations can only sharpen a selection that hurts: at this scale the page cannot show the paper's "
        "effect of averaging on accuracy, only its effect on the ranking (right)."
        if worse else f"GraNd subsets reach {by_count.min():.2%} to {by_count.max():.2%} across initialisation counts.")


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    seeds, random = tables["seeds"], tables["random"]
    table = seeds.groupby("n_seeds").agg(test_acc=("test_acc", "mean"), spearman=("spearman_to_all", "first"))
    table.columns = ["mean test accuracy", "Spearman to the all-seed mean"]
    table = table.rename_axis(index="initialisations averaged")
    return {
        "table": table.style.format({table.columns[0]: "{:.2%}", table.columns[1]: "{:.3f}"}),
        "fraction": f"{profile.study_fraction:.0%}",
        "seeds": str(profile.score_seeds),
        "random": f"{random['test_acc'].mean():.2%}",
        "context": context(seeds, random, SeedNoise.of(tables["seed_noise"])),
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    noise = SeedNoise.of(tables["seed_noise"])
    return [rules.single_run(tables["single"], tables["seeds"], tables["random"], profile.score_epoch, noise,
                             runs=PAPER.score_seeds)]
