"""Hard or easy examples by the amount of data (Sorscher et al., NeurIPS 2022), and by the training budget.

Data size, the axis Sorscher et al. vary: class-balanced training sets of `Regime.sizes` images per class at the
profile's network and recipe (`Profile.at_size`). Step budget: each size's full-data runs train the profile's
number of epochs over their own set, so a set of s images per class trains about s * classes / N of the whole
set's steps; each pruned run trains its size's full-data steps (the paper's rule). Each size has its own score
runs; its EL2N is their seed mean at 10% of that budget, and `study_fraction` is pruned.

Training budget, the second panel: for each budget, EL2N comes from score runs of that budget (scored at 10% of
it, as the paper's epoch 20 of 200), and every pruned run trains for that same budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor

import pandas as pd

from analysis import prune, rules
from analysis.plots import method_name
from analysis.profiles import Profile, Variant
from analysis.retraining import RandomSubset, retrain, seed_noise
from analysis.rules import Verdict
from analysis.score_runs import compute_scores, score_run_config, score_runs
from analysis.statistics import SeedNoise, accuracies, compare, contrast, noise_table, sign
from analysis.store import RunStore

CLAIMS = ("regime",)
SIZE, BUDGET = "size", "budget_epochs"  # the axes: training images before pruning; training budget in epochs
SIZE_COLUMNS = [SIZE, "fraction", "selection", "seed", "test_acc", "train_acc"]
BUDGET_COLUMNS = [BUDGET, "fraction", "selection", "seed", "test_acc", "train_acc"]
UNITS = {SIZE: "images", BUDGET: "epochs"}
LAST = {SIZE: "the largest size", BUDGET: "the longest budget"}
OUTCOMES = (("easy wins", -1), ("hard wins", 1), ("within noise", 0))  # hard against easy, in the prose's order


def score_seeds(profile: Profile) -> int:
    """Score runs per size and per budget (their seed mean is the EL2N each prunes by)."""
    return min(2, profile.score_seeds)


def full_runs(axis: str, points: list[float], seeds: int, metrics: list[dict]) -> pd.DataFrame:
    """The score runs as full-data rows (fraction 0): `seeds` runs per point of `axis`, `metrics` in that order."""
    return pd.DataFrame({axis: [x for x in points for _ in range(seeds)], "fraction": 0.0, "selection": "full",
                         "seed": [s for _ in points for s in range(seeds)],
                         "test_acc": [m["final_test_acc"] for m in metrics],
                         "train_acc": [m["final_train_acc"] for m in metrics]})


def sized(profile: Profile) -> list[Profile]:
    """The profile at each training-set size of the size sweep (`Profile.at_size`), smallest first."""
    return sorted((profile.at_size(s) for s in profile.regime.sizes), key=lambda p: p.num_train)


def size_sweep(profile: Profile, store: RunStore, executor: Executor | None = None) -> pd.DataFrame:
    """Accuracy of keep-hardest, keep-easiest and random at `study_fraction` pruned, per training-set size.

    Rows: size (training images before pruning), fraction (pruned; 0 for the full-data runs), selection in
    {hard, easy, random, full}, seed, test_acc, train_acc. Pruned subsets train with `secondary_seeds` seeds
    for their size's full-data steps; the full-data rows are that size's score runs.
    """
    seeds, f, profiles = score_seeds(profile), profile.study_fraction, sized(profile)
    metrics = score_runs(profile, store, [score_run_config(p, s) for p in profiles for s in range(seeds)], executor)
    frames = [full_runs(SIZE, [p.num_train for p in profiles], seeds, metrics)]
    for p in profiles:
        scores = compute_scores(p, store, "el2n", p.epochs / 10, seeds, executor=executor)[0]
        selections = [({"selection": "hard"}, prune.keep_hardest(scores, f)),
                      ({"selection": "easy"}, prune.keep_easiest(scores, f)),
                      ({"selection": "random"}, RandomSubset(prune.kept_size(p.num_train, f)))]
        df = retrain(p, store, selections, profile.secondary_seeds, executor, desc=f"regime {p.num_train:,} images")
        frames.append(df.assign(**{SIZE: p.num_train, "fraction": f}))
    return pd.concat(frames, ignore_index=True)[SIZE_COLUMNS]


def budget_sweep(profile: Profile, store: RunStore, executor: Executor | None = None) -> pd.DataFrame:
    """Accuracy of keep-hardest, keep-easiest, random (and CCS at the largest fraction) per budget and fraction.

    Rows: budget_epochs, fraction (pruned; 0 for the full-data runs), selection in {hard, easy,
    random, ccs, full}, seed, test_acc, train_acc (final, on the run's own training examples).
    Pruned subsets train with `secondary_seeds` seeds; the full-data rows are the score runs.
    """
    seeds, budgets = score_seeds(profile), list(profile.regime.epochs)
    configs = [score_run_config(profile, s, Variant(epochs=b)) for b in budgets for s in range(seeds)]
    frames = [full_runs(BUDGET, budgets, seeds, score_runs(profile, store, configs, executor))]
    n, largest = profile.num_train, max(profile.regime.fractions)
    for budget in budgets:
        scores = compute_scores(profile, store, "el2n", budget / 10, seeds, variant=Variant(epochs=budget),
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
        df = retrain(profile, store, selections, profile.secondary_seeds, executor, desc=f"regime {budget:g} epochs",
                     variant=Variant(epochs=budget))
        frames.append(df.assign(**{BUDGET: budget}))
    return pd.concat(frames, ignore_index=True)[BUDGET_COLUMNS]


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `sizes` (see `size_sweep`), `budgets` (see `budget_sweep`), and the seed noise of each size
    (`size_noise`) and budget (`budget_noise`)."""
    return {"sizes": size_sweep(profile, store, executor), "budgets": budget_sweep(profile, store, executor),
            "size_noise": noise_table({p.num_train: seed_noise(p, store) for p in sized(profile)}, SIZE),
            "budget_noise": noise_table({b: seed_noise(profile, store, Variant(epochs=b))
                                         for b in profile.regime.epochs}, BUDGET)}


def crossings(sweep: pd.DataFrame, fractions, noise: Mapping[float, SeedNoise], axis: str) -> dict[float, float | None]:
    """Per fraction pruned: the value of `axis` from which keeping the hardest wins for good (`rules.crossover`)."""
    return {f: rules.crossover(sweep, f, noise, axis) for f in fractions}


def full_mean(sweep: pd.DataFrame, axis: str, column: str = "train_acc") -> pd.Series:
    """The full-data runs' mean `column` per value of `axis` (ascending)."""
    return sweep[sweep["selection"] == "full"].groupby(axis)[column].mean()


def point(value: float, axis: str) -> str:
    """A value of `axis` as the prose writes it: '2,500' (images) or '2.5' (epochs)."""
    return f"{value:,.0f}" if axis == SIZE else f"{value:g}"


def listing(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' ('' for none)."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def where(signs: pd.Series, sign: int) -> str:
    """The values of the axis (`signs.index.name`) at which hard against easy has `sign`, as '2,500 and 10,000'
    ('' if none)."""
    return listing([point(x, signs.index.name) for x in signs.index[signs == sign]])


def crossover_sentence(fraction: float, signs: pd.Series, crossing: float | None) -> str:
    """Hard against easy at one fraction pruned, in words: who wins where on the axis (`signs.index.name`), and from
    where hard wins."""
    axis = signs.index.name
    outcomes = ", ".join(f"{who} at {where(signs, sign)} {UNITS[axis]}" for who, sign in OUTCOMES
                         if where(signs, sign))
    return (f"{fraction:.0%} pruned: " + outcomes
            + (f", so hard wins from {point(crossing, axis)} {UNITS[axis]} on" if crossing is not None
               else f", so hard does not win at {LAST[axis]}"))


def random_wins(sweep: pd.DataFrame, fraction: float, noise: Mapping[float, SeedNoise], axis: str) -> list[float]:
    """The values of `axis` at which random pruning beats both keeping the hardest and the easiest at `fraction`
    (`noise`: the seed noise at each value)."""
    def acc(x: float, selection: str):
        return accuracies(sweep, **{axis: x}, fraction=fraction, selection=selection)

    points = sorted(sweep.loc[sweep["fraction"] == fraction, axis].unique())
    return [x for x in points if compare(acc(x, "hard"), acc(x, "random"), noise[x].vs_random) < 0
            and compare(acc(x, "easy"), acc(x, "random"), noise[x].vs_random) < 0]


def mean_table(sweep: pd.DataFrame, axis: str) -> pd.DataFrame:
    """Mean test accuracy, rows (fraction, selection), columns the values of `axis`."""
    return sweep.pivot_table(index=["fraction", "selection"], columns=axis, values="test_acc", aggfunc="mean")


def _readable(table: pd.DataFrame) -> pd.DataFrame:
    """`mean_table` with headers in words."""
    return table.rename_axis(index=["fraction pruned", "selection"],
                             columns={SIZE: "training images", BUDGET: "budget (epochs)"}[table.columns.name])


def size_context(sizes: pd.DataFrame, fraction: float, noise: Mapping[float, SeedNoise]) -> str:
    """Where random pruning beats both ends of the ranking in the size sweep."""
    wins = [point(x, SIZE) for x in random_wins(sizes, fraction, noise, SIZE)]
    return (f"At {fraction:.0%} pruned, random pruning beats both the hardest and the easiest subset at "
            + (f"{listing(wins)} images." if wins else "no size."))


def closing_on_random(sweep: pd.DataFrame, profile: Profile, noise: Mapping[float, SeedNoise]) -> dict[float, tuple]:
    """Per fraction pruned where keeping the hardest loses to random pruning at the shortest budget and random's
    lead narrows by the longest (the change's 95% interval above zero): random minus hard at those two budgets."""
    short, long = min(profile.regime.epochs), max(profile.regime.epochs)
    closing = {}
    for f in profile.regime.fractions:
        hard, random = ({b: accuracies(sweep, fraction=f, selection=s, budget_epochs=b) for b in (short, long)}
                        for s in ("hard", "random"))
        narrowing = contrast([random[short], hard[long]], [hard[short], random[long]],
                             [noise[short].of_random, noise[long], noise[short], noise[long].of_random])
        if compare(hard[short], random[short], noise[short].vs_random) < 0 and sign(narrowing) > 0:
            closing[f] = tuple(random[b].mean() - hard[b].mean() for b in (short, long))
    return closing


def budget_context(sweep: pd.DataFrame, profile: Profile, noise: Mapping[float, SeedNoise]) -> str:
    """The budget sweep in words: whether easy's lead grows with the budget, whether hard closes on random pruning,
    how often random beats both ends, where CCS beats random, and whether the longest budget still leaves hard
    behind easy everywhere."""
    largest = max(profile.regime.fractions)
    signs = {f: rules.hard_vs_easy(sweep, f, noise, BUDGET) for f in profile.regime.fractions}
    train, table = full_mean(sweep, BUDGET), mean_table(sweep, BUDGET)

    gaps = {f: table.loc[(f, "hard")] - table.loc[(f, "easy")] for f in profile.regime.fractions}
    growing = [f for f, g in gaps.items() if g.iloc[-1] < g.iloc[0] < 0]
    cells = len(profile.regime.fractions) * len(profile.regime.epochs)
    random = sum(len(random_wins(sweep, f, noise, BUDGET)) for f in profile.regime.fractions)
    ccs_wins = [f"{b:g}" for b in profile.regime.epochs
                if compare(accuracies(sweep, fraction=largest, selection="ccs", budget_epochs=b),
                           accuracies(sweep, fraction=largest, selection="random", budget_epochs=b),
                           noise[b].vs_random) > 0]
    sentences = []
    if growing:
        spans = [f"{100 * gaps[f].iloc[0]:+.1f} to {100 * gaps[f].iloc[-1]:+.1f} points at {f:.0%} pruned"
                 for f in growing]
        sentences.append(f"Easy's lead over hard grows with the budget instead of shrinking: hard minus easy goes "
                         f"from {' and '.join(spans)}.")
    if closing := closing_on_random(sweep, profile, noise):
        spans = [f"{100 * a:+.1f} to {100 * b:+.1f} points at {f:.0%} pruned" for f, (a, b) in closing.items()]
        sentences.append(f"Hard closes on random pruning as the budget grows: random minus hard goes from "
                         f"{' and '.join(spans)} (the narrowing's 95% interval excludes zero).")
    sentences.append(f"Random pruning beats both the hardest and the easiest subset in {random} of {cells} "
                     f"fraction-budget cells; at {largest:.0%} pruned, CCS beats random at "
                     + (f"{', '.join(ccs_wins)} epochs." if ccs_wins else "no budget."))
    if all(s.iloc[-1] < 0 for s in signs.values()):
        sentences.append(f"Training longer does not reach the regime where the hardest examples pay: at the longest "
                         f"budget the full data reaches {train.iloc[-1]:.0%} train accuracy and hard still loses to "
                         "easy.")
    return " ".join(sentences)


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    sizes, budgets = tables["sizes"], tables["budgets"]
    f, noise = profile.study_fraction, SeedNoise.by(tables["size_noise"], SIZE)
    budget_noise = SeedNoise.by(tables["budget_noise"], BUDGET)
    crossing = crossings(budgets, profile.regime.fractions, budget_noise, BUDGET)
    full, train = full_mean(sizes, SIZE, "test_acc"), full_mean(budgets, BUDGET)
    return {
        "size_table": _readable(mean_table(sizes, SIZE)).style.format("{:.2%}")
        .format_index("{:.0%}", level="fraction pruned").format_index(method_name, level="selection")
        .format_index("{:,.0f}", axis=1),
        "sizes": listing([point(x, SIZE) for x in full.index]),
        "size_steps": listing([f"{p.steps:,} steps at {p.num_train:,}" for p in sized(profile)]) + " images",
        "size_fraction": f"{f:.0%}",
        "size_full": f"{full.iloc[0]:.1%} at {full.index[0]:,.0f} images to {full.iloc[-1]:.1%} at "
                     f"{full.index[-1]:,.0f} images",
        "size_crossover": crossover_sentence(f, rules.hard_vs_easy(sizes, f, noise, SIZE),
                                             rules.crossover(sizes, f, noise, SIZE)),
        "size_context": size_context(sizes, f, noise),
        "budget_table": _readable(mean_table(budgets, BUDGET)).style.format("{:.2%}")
        .format_index("{:.0%}", level="fraction pruned").format_index(method_name, level="selection")
        .format_index("{:g}", axis=1),
        "runs": str(len(sizes) + len(budgets)),
        "seeds": str(profile.secondary_seeds),
        "ccs_cut": f"{profile.regime.ccs_hard_cut:.0%}",
        "score_seeds": str(score_seeds(profile)),
        "budgets": ", ".join(f"{b:g}" for b in profile.regime.epochs),
        "largest": f"{max(profile.regime.fractions):.0%}",
        "budget_crossover": "; ".join(crossover_sentence(g, rules.hard_vs_easy(budgets, g, budget_noise, BUDGET),
                                                         crossing[g]) for g in profile.regime.fractions),
        "train_range": f"{train.iloc[0]:.1%} at {train.index[0]:g} epochs to "
                       f"{train.iloc[-1]:.1%} at {train.index[-1]:g} epochs",
        "budget_context": budget_context(budgets, profile, budget_noise),
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    return [rules.regime(tables["sizes"], SeedNoise.by(tables["size_noise"], SIZE))]
