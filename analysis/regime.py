"""Hard or easy examples by training budget (Sorscher et al., NeurIPS 2022): where does keeping the hardest win?

For each budget, EL2N comes from score runs of that budget (scored at 10% of it, as the paper's
epoch 20 of 200), and every pruned run trains for that same budget.
"""

from __future__ import annotations

from concurrent.futures import Executor

import pandas as pd

from analysis import prune
from analysis.experiments import retrain
from analysis.profiles import Profile
from analysis.score_runs import compute_scores, score_run_config, score_runs
from analysis.verdicts import accuracies, compare

COLUMNS = ["budget_epochs", "fraction", "selection", "seed", "test_acc", "train_acc"]


def regime_sweep(profile: Profile, executor: Executor | None = None) -> pd.DataFrame:
    """Accuracy of keep-hardest, keep-easiest, random (and CCS at the largest fraction) per budget and fraction.

    Rows: budget_epochs, fraction (pruned; 0 for the full-data runs), selection in {hard, easy,
    random, ccs, full}, seed, test_acc, train_acc (final, on the run's own training examples).
    Pruned subsets train with `secondary_seeds` seeds; the full-data rows are the score runs.
    """
    seeds = min(2, profile.score_seeds)
    configs = {b: [score_run_config(profile, s, epochs=b) for s in range(seeds)] for b in profile.regime_epochs}
    metrics = score_runs(profile, [c for cs in configs.values() for c in cs], executor)
    frames = [pd.DataFrame({"budget_epochs": [b for b in configs for _ in configs[b]], "fraction": 0.0,
                            "selection": "full", "seed": [s for b in configs for s in range(len(configs[b]))],
                            "test_acc": [m["final_test_acc"] for m in metrics],
                            "train_acc": [m["final_train_acc"] for m in metrics]})]
    n, largest = profile.num_train, max(profile.regime_fractions)
    for budget in profile.regime_epochs:
        scores = compute_scores(profile, "el2n", budget / 10, seeds, epochs=budget, executor=executor)[0]
        selections = []
        for f in profile.regime_fractions:
            size = prune.kept_size(n, f)
            selections += [({"fraction": f, "selection": "hard"}, prune.keep_hardest(scores, f)),
                           ({"fraction": f, "selection": "easy"}, prune.keep_easiest(scores, f)),
                           ({"fraction": f, "selection": "random"}, prune.random_subset(n, size, seed=size))]
            if f == largest:
                selections.append(({"fraction": f, "selection": "ccs"}, prune.ccs(scores, size, profile.ccs_hard_cut)))
        df = retrain(profile, selections, profile.secondary_seeds, executor, desc=f"regime {budget:g} epochs",
                     epochs=budget)
        frames.append(df.assign(budget_epochs=budget))
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def hard_vs_easy(df: pd.DataFrame, fraction: float) -> pd.Series:
    """Per budget (epochs, ascending): +1 where keeping the hardest beats keeping the easiest at
    `fraction` pruned beyond `verdicts.tolerance`, -1 where it loses, 0 within it."""
    budgets = sorted(df.loc[df["fraction"] == fraction, "budget_epochs"].unique())
    signs = [compare(accuracies(df, budget_epochs=b, fraction=fraction, selection="hard"),
                     accuracies(df, budget_epochs=b, fraction=fraction, selection="easy")) for b in budgets]
    return pd.Series(signs, index=pd.Index(budgets, dtype=float, name="budget_epochs"), dtype=int)


def crossover(df: pd.DataFrame, fraction: float) -> float | None:
    """The smallest budget (epochs) from which keeping the hardest beats keeping the easiest at
    `fraction` pruned at every longer budget too, or None if it does not win at the longest."""
    signs = hard_vs_easy(df, fraction)
    start = None
    for budget, sign in signs[::-1].items():
        if sign <= 0:
            break
        start = float(budget)
    return start
