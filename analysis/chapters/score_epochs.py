"""When scores become useful (the paper's Figure 2): pruning by EL2N and GraNd taken at several epochs."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor

import numpy as np
import pandas as pd
from torch import Tensor

from analysis import prune, rules
from analysis.data import class_names
from analysis.plots import method_name
from analysis.profiles import PAPER, Profile
from analysis.reference import SOURCES, kirsch_el2n_gap, kirsch_score_share
from analysis.retraining import retrain, seed_noise, select
from analysis.rules import Verdict
from analysis.score_runs import compute_scores, score_run_accuracy
from analysis.statistics import SeedNoise, accuracies, compare, difference, interval, sign, word
from analysis.store import RunStore

CLAIMS = ("early",)
SCORES = ("el2n", "grand")


def selections(profile: Profile, store: RunStore, scores: tuple[str, ...] = SCORES,
               epochs: Sequence[float] | None = None, executor: Executor | None = None) -> list[tuple[dict, Tensor]]:
    """The `study_fraction` pruned by each score taken at each of `epochs` (default: `score_epochs`):
    ({score, epoch}, kept)."""
    return [({"score": s, "epoch": e},
             prune.keep_hardest(compute_scores(profile, store, s, e, executor=executor)[0], profile.study_fraction))
            for s in scores for e in (profile.score_epochs.epochs if epochs is None else epochs)]


def score_epoch_sweep(profile: Profile, store: RunStore, chosen: list[tuple[dict, Tensor]],
                      executor: Executor | None = None) -> pd.DataFrame:
    """Figure 2: accuracy after pruning by each of the `selections` `chosen`, and by random pruning of the same size.

    One row per run (score, epoch, seed, test_acc, train_acc, kept); random pruning has score "random", epoch NaN.
    """
    random = ({"score": "random", "epoch": np.nan}, select(profile, "random", profile.study_fraction))
    return retrain(profile, store, [*chosen, random], executor=executor, desc="score epochs")


def class_skew(chosen: list[tuple[dict, Tensor]], labels: Tensor, names: Sequence) -> pd.DataFrame:
    """The class each subset of `chosen` keeps the smallest share of: one row per subset (its labels, class,
    kept)."""
    rows = []
    for where, kept in chosen:
        coverage = prune.class_coverage(labels, kept)
        least = int(coverage.argmin())
        rows.append({**where, "class": names[least], "kept": float(coverage[least])})
    return pd.DataFrame(rows)


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `sweep` (score, epoch, seed, test_acc, train_acc, kept; random pruning as score "random"),
    `accuracy` (the score runs' `score_run_accuracy` at each score epoch) and `skew` (`class_skew` of each score's
    subset at each epoch)."""
    labels = profile.data().load()[0].train_labels
    names = class_names(profile.dataset, int(labels.max()) + 1)
    chosen = selections(profile, store, executor=executor)
    return {"sweep": score_epoch_sweep(profile, store, chosen, executor),
            "accuracy": score_run_accuracy(profile, store, profile.score_epochs.epochs, executor),
            "skew": class_skew(chosen, labels, names),
            "seed_noise": seed_noise(profile, store).table()}


def epoch_words(epoch: float) -> str:
    """A score epoch in words: "initialisation" or "epoch <e>"."""
    return "initialisation" if epoch == 0 else f"epoch {epoch:g}"


def accuracy_sentence(accuracy: pd.DataFrame) -> str:
    """The score runs' training accuracy at each score epoch, in words."""
    means = accuracy.groupby("epoch")["train_acc"].mean()
    at = [f"{acc:.0%} at {epoch_words(e)}" for e, acc in means.items()]
    runs = accuracy.groupby("epoch")["seed"].nunique().min()
    return (f"The share of the training images the score runs' networks classify correctly when the scores are "
            f"read (eval mode, without augmentation; mean of {runs} runs): {', '.join(at)}.")


def skew_sentence(skew: pd.DataFrame, fraction: float) -> str:
    """The class each score's subset keeps least of at each epoch, and the share of it kept, in words."""
    per_score = [f"{method_name(score)}: " + ", ".join(f"{r['class']} {r['kept']:.0%} at {epoch_words(r['epoch'])}"
                                                       for _, r in rows.sort_values("epoch").iterrows())
                 for score, rows in skew.groupby("score", sort=False)]
    return (f"The selection prunes class-agnostically, as in the paper; the class each subset keeps least of, and "
            f"the share of its images kept (random pruning keeps about {1 - fraction:.0%} of each): "
            f"{'; '.join(per_score)}.")


def against_random(sweep: pd.DataFrame, noise: SeedNoise, side: int) -> list[str]:
    """The (score, epoch) subsets whose accuracy lies above (`side` +1) or below (-1) random pruning's beyond two
    standard errors, as "<score> at epoch <e>"."""
    scored, rnd = sweep[sweep["score"] != "random"], sweep[sweep["score"] == "random"]
    return [f"{method_name(s)} at epoch {e:g}" for (s, e), g in scored.groupby(["score", "epoch"])
            if compare(g["test_acc"], rnd["test_acc"], noise.vs_random) == side]


def context(sweep: pd.DataFrame, noise: SeedNoise) -> str:
    """The sentence under the table: which subsets beat random pruning, or that none does and which lose to it."""
    if beats := against_random(sweep, noise, +1):
        return f"Subsets that beat random pruning beyond two standard errors: {', '.join(beats)}."
    loses = against_random(sweep, noise, -1)
    return ("No score from any epoch beats random pruning beyond two standard errors here; "
            + (f"{', '.join(loses)} {'falls' if len(loses) == 1 else 'fall'} below it." if loses
               else "every one is within noise of it."))


def kirsch_epochs(profile: Profile) -> list[float]:
    """The score epochs on either side of the share of training at which Kirsch's PyTorch reproduction reads its
    scores: one where an epoch falls on it, or where none lies on one side."""
    share, epochs = kirsch_score_share(), sorted(profile.score_epochs.epochs)
    before = [e for e in epochs if e / profile.epochs <= share][-1:]
    after = [e for e in epochs if e / profile.epochs >= share][:1]
    return list(dict.fromkeys(before + after))


def published_score_times(profile: Profile) -> dict[str, float]:
    """The epochs of `profile` at the shares of training after which the paper (epoch 20 of 200) and Kirsch's
    PyTorch reproduction (2 of 12.6 epochs) read their scores, labelled for the figure."""
    paper, kirsch = PAPER.score_epoch / PAPER.epochs, kirsch_score_share()
    return {f"{SOURCES['paper']}: {paper:.0%} of training": paper * profile.epochs,
            f"Kirsch (PyTorch): {kirsch:.0%} of training": kirsch * profile.epochs}


def kirsch_timing(sweep: pd.DataFrame, noise: SeedNoise, profile: Profile) -> str:
    """EL2N read at `kirsch_epochs` against random pruning (rows of a `score_epoch_sweep`), and whether reading the
    scores when Kirsch's PyTorch reproduction does could account for his runs' side of random pruning (the sign of
    his published difference)."""
    share, epochs = kirsch_score_share(), kirsch_epochs(profile)
    shares = [e / profile.epochs for e in epochs]
    rnd = accuracies(sweep, score="random")
    sides, parts = [], []
    for e in epochs:
        el2n = accuracies(sweep, score="el2n", epoch=e)
        if not len(el2n):
            raise ValueError(f"The sweep has no EL2N runs at epoch {e:g}: build it from `kirsch_epochs`.")
        estimate = difference(el2n, rnd, noise.vs_random)
        low, high = interval(estimate, 0.95)
        sides.append(sign(estimate))
        parts.append(f"{el2n.mean():.2%} at epoch {e:g} ({e / profile.epochs:.0%} of training), "
                     f"{100 * estimate[0]:+.1f} points from random pruning (95% interval {100 * low:+.1f} to "
                     f"{100 * high:+.1f}; {len(el2n)} seeds)")
    at = f"his score time ({share:.0%} of training)"
    lead = (f"Read at {at}" if shares == [share] else f"Read on either side of {at}" if len(epochs) == 2
            else f"Read at the last score epoch before {at}" if shares[0] < share
            else f"Read at the first score epoch after {at}")
    text = f"{lead}, EL2N reaches {' and '.join(parts)}"
    if max(shares) < share:
        return f"{text}. No score epoch of this profile comes as late as his, so his timing cannot be tested here."
    gap = kirsch_el2n_gap(profile.study_fraction)
    his_side = None if gap is None else gap.side
    if len(set(sides)) > 1:
        turn = f"{text}: {word(sides[0])} random pruning, then {word(sides[1])} it"
        return (f"{turn}, so reading the scores at his score time could account for {gap.why}." if his_side in sides
                else f"{turn}; the comparison changes between these epochs.")
    where = ("on both sides of his score time" if len(sides) == 2 else
             "at his score time" if shares == [share] else "just after his score time")
    found = f"{text}: {word(sides[0])} random pruning {where}"
    if his_side is None:
        return f"{found}."
    if sides[0] == his_side:
        return f"{found}, as in his own runs ({gap.points:+.1f} points)."
    if sides[0] == 0:
        return f"{found}, so these runs cannot tell whether the timing explains {gap.why}."
    return f"{found}, so the timing does not explain {gap.why}."


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    sweep = tables["sweep"]
    scored, rnd = sweep[sweep["score"] != "random"], sweep[sweep["score"] == "random"]
    table = scored.pivot_table(index="score", columns="epoch", values="test_acc", aggfunc="mean")
    return {
        "table": table.rename_axis(index="pruned by", columns="score epoch").style.format("{:.2%}")
        .format_index("{:g}", axis=1).format_index(method_name),
        "random": f"{rnd['test_acc'].mean():.2%}",
        "fraction": f"{profile.study_fraction:.0%}",
        "context": context(sweep, SeedNoise.of(tables["seed_noise"])),
        "score_accuracy": accuracy_sentence(tables["accuracy"]),
        "skew": skew_sentence(tables["skew"], profile.study_fraction),
        "kirsch_timing": kirsch_timing(sweep, SeedNoise.of(tables["seed_noise"]), profile),
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    return [rules.early(tables["sweep"], profile.score_epoch, SeedNoise.of(tables["seed_noise"]))]
