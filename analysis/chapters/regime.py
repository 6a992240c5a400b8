"""Hard or easy examples by training budget (Sorscher et al., NeurIPS 2022): where does keeping the hardest win?

For each budget, EL2N comes from score runs of that budget (scored at 10% of it, as the paper's
epoch 20 of 200), and every pruned run trains for that same budget.
"""

from __future__ import annotations

from concurrent.futures import Executor

import pandas as pd

from analysis import prune, rules
from analysis.profiles import Profile, Variant
from analysis.retraining import RandomSubset, retrain, seed_noise
from analysis.rules import Verdict
from analysis.score_runs import compute_scores, score_run_config, score_runs
from analysis.statistics import SeedNoise, accuracies, compare

CLAIMS = ("regime",)
COLUMNS = ["budget_epochs", "fraction", "selection", "seed", "test_acc", "train_acc"]
OUTCOMES = (("easy wins", -1), ("hard wins", 1), ("within noise", 0))  # hard against easy, in the prose's order


def regime_sweep(profile: Profile, executor: Executor | None = None) -> pd.DataFrame:
    """Accuracy of keep-hardest, keep-easiest, random (and CCS at the largest fraction) per budget and fraction.

    Rows: budget_epochs, fraction (pruned; 0 for the full-data runs), selection in {hard, easy,
    random, ccs, full}, seed, test_acc, train_acc (final, on the run's own training examples).
    Pruned subsets train with `secondary_seeds` seeds; the full-data rows are the score runs.
    """
    seeds = score_seeds(profile)
    configs = {b: [score_run_config(profile, s, Variant(epochs=b)) for s in range(seeds)]
               for b in profile.regime.epochs}
    metrics = score_runs(profile, [c for cs in configs.values() for c in cs], executor)
    frames = [pd.DataFrame({"budget_epochs": [b for b in configs for _ in configs[b]], "fraction": 0.0,
                            "selection": "full", "seed": [s for b in configs for s in range(len(configs[b]))],
                            "test_acc": [m["final_test_acc"] for m in metrics],
                            "train_acc": [m["final_train_acc"] for m in metrics]})]
    n, largest = profile.num_train, max(profile.regime.fractions)
    for budget in profile.regime.epochs:
        scores = compute_scores(profile, "el2n", budget / 10, seeds, variant=Variant(epochs=budget),
                                executor=executor)[0]
        selections = []
        for f in profile.regime.fractions:
            size = prune.kept_size(n, f)
            selections += [({"fraction": f, "selection": "hard"}, prune.keep_hardest(scores, f)),
                           ({"fraction": f, "selection": "easy"}, prune.keep_easiest(scores, f)),
                           ({"fraction": f, "selection": "random"}, RandomSubset(size))]
            if f == largest:
                selections.append(({"fraction": f, "selection": "ccs"},
                                   prune.ccs(scores, size, profile.regime.ccs_hard_cut)))
        df = retrain(profile, selections, profile.secondary_seeds, executor, desc=f"regime {budget:g} epochs",
                     variant=Variant(epochs=budget))
        frames.append(df.assign(budget_epochs=budget))
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def score_seeds(profile: Profile) -> int:
    """Score runs per budget (their seed mean is the EL2N each budget prunes by)."""
    return min(2, profile.score_seeds)


def run(profile: Profile, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `sweep` (budget_epochs, fraction, selection, seed, test_acc, train_acc; see `regime_sweep`)."""
    return {"sweep": regime_sweep(profile, executor)}


def crossings(sweep: pd.DataFrame, fractions, noise: SeedNoise) -> dict[float, float | None]:
    """Per fraction pruned: the budget from which keeping the hardest wins for good (`rules.crossover`)."""
    return {f: rules.crossover(sweep, f, noise) for f in fractions}


def full_train(sweep: pd.DataFrame) -> pd.Series:
    """The full-data runs' mean train accuracy per budget (ascending)."""
    return sweep[sweep["selection"] == "full"].groupby("budget_epochs")["train_acc"].mean()


def budgets_where(signs: pd.Series, sign: int) -> str:
    """The budgets (epochs) at which hard against easy has `sign`, as '2.5, 5' ('' if none)."""
    return ", ".join(f"{b:g}" for b in signs.index[signs == sign])


def crossover_sentence(fraction: float, signs: pd.Series, crossing: float | None) -> str:
    """Hard against easy at one fraction pruned, in words: who wins at which budgets, and from where hard wins."""
    outcomes = ", ".join(f"{who} at {budgets_where(signs, sign)} epochs" for who, sign in OUTCOMES
                         if budgets_where(signs, sign))
    return (f"{fraction:.0%} pruned: " + outcomes
            + (f", so hard wins from {crossing:g} epochs on" if crossing is not None
               else ", so hard does not win at the longest budget"))


def mean_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """Mean test accuracy, rows (fraction, selection), columns budget_epochs."""
    return sweep.pivot_table(index=["fraction", "selection"], columns="budget_epochs", values="test_acc",
                             aggfunc="mean")


def context(sweep: pd.DataFrame, profile: Profile) -> str:
    """The verdict's context: whether easy's lead grows with the budget, how often random beats both ends,
    where CCS beats random, and whether the longest budget still leaves hard behind easy everywhere."""
    largest, noise = max(profile.regime.fractions), seed_noise(profile)
    signs = {f: rules.hard_vs_easy(sweep, f, noise) for f in profile.regime.fractions}
    train, table = full_train(sweep), mean_table(sweep)

    def acc(f: float, selection: str, budget: float):
        return accuracies(sweep, fraction=f, selection=selection, budget_epochs=budget)

    gaps = {f: table.loc[(f, "hard")] - table.loc[(f, "easy")] for f in profile.regime.fractions}
    growing = [f for f, g in gaps.items() if g.iloc[-1] < g.iloc[0] < 0]
    cells = [(f, b) for f in profile.regime.fractions for b in profile.regime.epochs]
    random_wins = sum(compare(acc(f, "random", b), acc(f, "hard", b), noise) > 0
                      and compare(acc(f, "random", b), acc(f, "easy", b), noise) > 0 for f, b in cells)
    ccs_wins = [f"{b:g}" for b in profile.regime.epochs
                if compare(acc(largest, "ccs", b), acc(largest, "random", b), noise) > 0]
    sentences = []
    if growing:
        spans = [f"{100 * gaps[f].iloc[0]:+.1f} to {100 * gaps[f].iloc[-1]:+.1f} points at {f:.0%} pruned"
                 for f in growing]
        sentences.append(f"Easy's lead over hard grows with the budget instead of shrinking: hard minus easy goes "
                         f"from {' and '.join(spans)}.")
    sentences.append(f"Random pruning beats both the hardest and the easiest subset in {random_wins} of {len(cells)} "
                     f"fraction-budget cells; at {largest:.0%} pruned, CCS beats random at "
                     + (f"{', '.join(ccs_wins)} epochs." if ccs_wins else "no budget."))
    if all(s.iloc[-1] < 0 for s in signs.values()):
        sentences.append(f"Training longer does not reach the regime where the hardest examples pay: at the longest "
                         f"budget the full data reaches {train.iloc[-1]:.0%} train accuracy and hard still loses to "
                         "easy.")
    return " ".join(sentences)


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    sweep = tables["sweep"]
    table = mean_table(sweep)
    noise = seed_noise(profile)
    crossing = crossings(sweep, profile.regime.fractions, noise)
    train = full_train(sweep)
    return {
        "table": table.style.format("{:.2%}").format_index("{:.0%}", level="fraction").format_index("{:g}", axis=1),
        "runs": str(len(sweep)),
        "seeds": str(profile.secondary_seeds),
        "ccs_cut": f"{profile.regime.ccs_hard_cut:.0%}",
        "score_seeds": str(score_seeds(profile)),
        "budgets": ", ".join(f"{b:g}" for b in profile.regime.epochs),
        "largest": f"{max(profile.regime.fractions):.0%}",
        "crossover": "; ".join(crossover_sentence(f, rules.hard_vs_easy(sweep, f, noise), crossing[f])
                               for f in profile.regime.fractions),
        "train_range": f"{train.iloc[0]:.1%} at {train.index[0]:g} epochs to "
                       f"{train.iloc[-1]:.1%} at {train.index[-1]:g} epochs",
        "context": context(sweep, profile),
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    return [rules.regime(tables["sweep"], seed_noise(profile))]
