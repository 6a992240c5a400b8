"""Pruning curves (the paper's Figure 1): test accuracy after pruning by each score, and the class balance kept."""

from __future__ import annotations

from concurrent.futures import Executor

import pandas as pd
from torch import Tensor

from analysis import prune, rules
from analysis.chapters import score_epochs
from analysis.data import class_names
from analysis.plots import method_name
from analysis.profiles import PAPER, Profile, Variant
from analysis.reference import kirsch_el2n_gap, kirsch_score_share, published
from analysis.retraining import (
    METHODS,
    PRIMARY_METHODS,
    RETRAIN_SEED_BASE,
    RandomSubset,
    Selection,
    full_data,
    method_scores,
    retrain,
    seed_noise,
    select,
)
from analysis.rules import Verdict
from analysis.score_runs import score_run_accuracy
from analysis.statistics import SeedNoise, accuracies, difference, equivalent, interval, sign, word
from analysis.store import RunStore

CLAIMS = ("cifar10_half", "grand_init_beats_random")
HALF = 0.5  # the paper's headline: half of CIFAR-10 pruned without loss
BALANCED = "el2n_per_class"  # the class-balanced control's method label (`class_balanced`)
BETTER = {1: "better than", 0: "within noise of", -1: "worse than"}
FITS = 0.99  # full-data train accuracy from which a network counts as fitting its training set


def selections(profile: Profile, store: RunStore, methods: tuple[str, ...] = tuple(METHODS),
               executor: Executor | None = None) -> list[Selection]:
    """Figure 1's subsets: ({method, fraction}, what is kept) for every method and fraction pruned."""
    chosen = []
    for method in methods:
        scores = None if method == "random" else method_scores(profile, store, method, executor=executor)
        chosen += [({"method": method, "fraction": f}, select(profile, method, f, scores))
                   for f in profile.pruning_curves.fractions]
    return chosen


def curves(profile: Profile, store: RunStore, methods: tuple[str, ...] = tuple(METHODS),
           executor: Executor | None = None) -> pd.DataFrame:
    """Test accuracy against the fraction pruned for every method (rows: method, fraction, seed, test_acc, ...).

    EL2N, GraNd and random (`PRIMARY_METHODS`) retrain with `retrain_seeds` seeds, the controls with
    `secondary_seeds`; the primary runs come first.
    """
    primary = tuple(m for m in methods if m in PRIMARY_METHODS)
    controls = tuple(m for m in methods if m not in PRIMARY_METHODS)
    frames = [retrain(profile, store, selections(profile, store, primary, executor), executor=executor,
                      desc="pruning curves")]
    if controls:
        frames.append(retrain(profile, store, selections(profile, store, controls, executor), profile.secondary_seeds,
                              executor, desc="pruning curves (controls)"))
    return pd.concat(frames, ignore_index=True)


def kirsch_steps(profile: Profile, store: RunStore, executor: Executor | None = None) -> pd.DataFrame:
    """EL2N and random pruning at half pruned, each run trained for the kept share of the full run's steps, as
    Kirsch's PyTorch code trains a pruned run (the paper, and our curves: the full run's steps): the curves' own
    subsets. Rows: method, fraction, seed, test_acc, train_acc, kept; `retrain_seeds` seeds."""
    half = [(labels, kept) for labels, kept in selections(profile, store, ("el2n", "random"), executor)
            if labels["fraction"] == HALF]
    return retrain(profile, store, half, executor=executor, desc="Kirsch's steps", variant=kirsch_variant(profile))


def kirsch_variant(profile: Profile) -> Variant:
    """The budget of a half-pruned run trained as Kirsch's code trains it: the full run's epochs of its subset."""
    return Variant(epochs=profile.epochs * (1 - HALF))


def kirsch_steps_sentence(steps: pd.DataFrame, curves: pd.DataFrame, steps_noise: SeedNoise,
                          noise: SeedNoise) -> str:
    """EL2N against random pruning at half pruned when trained for fewer steps, as Kirsch trains a pruned run
    (`steps_noise`: that budget's seed noise), beside the same comparison with the paper's step rule (`noise`), and
    whether the step rule accounts for his published difference."""
    el2n, rnd = accuracies(steps, method="el2n"), accuracies(steps, method="random")
    estimate = difference(el2n, rnd, steps_noise.vs_random)
    low, high = interval(estimate, 0.95)
    ours = accuracies(curves, method="el2n", fraction=HALF), accuracies(curves, method="random", fraction=HALF)
    gap = kirsch_el2n_gap(HALF)
    paper, his_rule = sign(difference(*ours, noise.vs_random)), sign(estimate)
    if his_rule == paper:
        tell = (f", so it does not explain {gap.why}" if paper else
                f", and with both within noise these runs cannot tell whether it explains {gap.why}")
        conclusion = "his step rule does not change the comparison" + ("" if paper == gap.side else tell)
    elif his_rule == gap.side:
        conclusion = f"his step rule turns the comparison to his own runs' side ({gap.points:+.1f} points)"
    else:
        conclusion = (f"under his step rule EL2N is {word(his_rule)} random pruning, where his own runs put it "
                      f"{gap.points:+.1f} points from it")
    return (f"Trained as his code trains a pruned run, for {1 - HALF:.0%} of the full run's steps at {HALF:.0%} "
            f"pruned, EL2N reaches {el2n.mean():.2%} and random pruning {rnd.mean():.2%}: {100 * estimate[0]:+.1f} "
            f"points (95% interval {100 * low:+.1f} to {100 * high:+.1f}; {len(el2n)} and {len(rnd)} seeds), "
            f"against {100 * (ours[0].mean() - ours[1].mean()):+.1f} points with the paper's rule "
            f"({ours[0].mean():.2%} and {ours[1].mean():.2%}): {conclusion}.")


def class_balanced(profile: Profile, store: RunStore, executor: Executor | None = None) -> pd.DataFrame:
    """EL2N at half pruned keeping the hardest half of each class (`prune.keep_hardest_per_class`), retrained under
    the protocol: a control for the class skew of the paper's class-agnostic selection. Rows: method, fraction,
    seed, test_acc, train_acc, kept; `retrain_seeds` seeds."""
    labels = profile.data().load()[0].train_labels
    kept = prune.keep_hardest_per_class(method_scores(profile, store, "el2n", executor=executor), labels, HALF)
    return retrain(profile, store, [({"method": BALANCED, "fraction": HALF}, kept)], executor=executor,
                   desc="class-balanced EL2N")


def balanced_sentence(balanced: pd.DataFrame, curves: pd.DataFrame, noise: SeedNoise) -> str:
    """Class-balanced EL2N at half pruned against random pruning and against the class-agnostic EL2N subset, and
    how much of a loss to random pruning the class skew accounts for."""
    ours = accuracies(balanced, method=BALANCED)
    agnostic, rnd = accuracies(curves, method="el2n", fraction=HALF), accuracies(curves, method="random", fraction=HALF)
    vs_random, vs_agnostic = difference(ours, rnd, noise.vs_random), difference(ours, agnostic, noise)
    (r_low, r_high), (a_low, a_high) = interval(vs_random, 0.95), interval(vs_agnostic, 0.95)
    text = (f"Keeping the hardest {1 - HALF:.0%} of each class instead, so that every class keeps "
            f"{1 - HALF:.0%} of its images, EL2N reaches {ours.mean():.2%} ({len(ours)} seeds): "
            f"{100 * vs_random[0]:+.1f} points from random pruning (95% interval {100 * r_low:+.1f} to "
            f"{100 * r_high:+.1f}) and {100 * vs_agnostic[0]:+.1f} points from the class-agnostic subset "
            f"({100 * a_low:+.1f} to {100 * a_high:+.1f}): {word(sign(vs_random))} random pruning and "
            f"{BETTER[sign(vs_agnostic)]} the paper's selection")
    if sign(difference(agnostic, rnd, noise.vs_random)) >= 0:
        return text + "."
    share = ("all" if sign(vs_random) >= 0 else "part" if sign(vs_agnostic) > 0 else "none")
    return f"{text}, so the class skew accounts for {share} of EL2N's loss to random pruning."


def forgetting_sentence(curves: pd.DataFrame, full: pd.DataFrame, noise: SeedNoise) -> str:
    """Forgetting scores at half pruned against the full data and against EL2N ('' where they were not run)."""
    forgetting = accuracies(curves, method="forgetting", fraction=HALF)
    if not len(forgetting):
        return ""
    el2n, fd = accuracies(curves, method="el2n", fraction=HALF), full["test_acc"].to_numpy()
    vs_full, vs_el2n = difference(forgetting, fd, noise), difference(forgetting, el2n, noise)
    (f_low, f_high), (e_low, e_high) = interval(vs_full, 0.95), interval(vs_el2n, 0.95)
    state = ("match the full data (90% interval within one point)" if equivalent(forgetting, fd, noise)
             else f"are {word(sign(vs_full))} the full data")
    seeds = f"{len(forgetting)} seed{'s' if len(forgetting) > 1 else ''}"
    return (f"Forgetting scores (Toneva et al., 2019), the baseline the paper compares EL2N and GraNd with, reach "
            f"{forgetting.mean():.2%} at {HALF:.0%} pruned ({seeds}): {100 * vs_full[0]:+.1f} points from the full "
            f"data (95% interval {100 * f_low:+.1f} to {100 * f_high:+.1f}) and {100 * vs_el2n[0]:+.1f} from EL2N "
            f"({100 * e_low:+.1f} to {100 * e_high:+.1f}): they {state} and are {BETTER[sign(vs_el2n)]} EL2N.")


def retraining_runs(profile: Profile, methods: tuple[str, ...] = tuple(METHODS)) -> int:
    """How many retraining runs `curves` trains at `profile` (score and full-data runs not counted)."""
    seeds = sum(profile.retrain_seeds if m in PRIMARY_METHODS else profile.secondary_seeds for m in methods)
    return seeds * len(profile.pruning_curves.fractions)


def class_coverage(profile: Profile, store: RunStore, methods: tuple[str, ...] = tuple(METHODS)) -> pd.DataFrame:
    """The share of each class kept, one row per method and fraction (columns: class names where known).

    Scores prune class-agnostically, as in the paper; a class whose examples all look easy loses most of them.
    Random pruning shows the first retraining seed's subset.
    """
    labels = profile.data().load()[0].train_labels
    n = profile.num_train

    def indices(kept: Tensor | RandomSubset) -> Tensor:
        return kept.draw(n, RETRAIN_SEED_BASE) if isinstance(kept, RandomSubset) else kept

    names = class_names(profile.dataset, int(labels.max()) + 1)
    rows = [{**labels_, **dict(zip(names, prune.class_coverage(labels, indices(kept)).tolist()))}
            for labels_, kept in selections(profile, store, methods)]
    return pd.DataFrame(rows).set_index(["method", "fraction"])


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `curves` (method, fraction, seed, test_acc, train_acc, kept), `full` (the full-data runs),
    `coverage` (share of each class kept at the study fraction, one row per method), `score_accuracy` (the score
    runs' training accuracy at the score epoch), `kirsch_steps` (`kirsch_steps`) with its seed noise
    (`kirsch_noise`), `balanced` (`class_balanced`), `timing` (EL2N's `score_epochs.score_epoch_sweep` at the
    `kirsch_epochs`, whose `kirsch_timing` the page states)."""
    return {"curves": curves(profile, store, executor=executor), "full": full_data(profile, store, executor=executor),
            "coverage": class_coverage(profile, store).xs(profile.study_fraction, level="fraction"),
            "score_accuracy": score_run_accuracy(profile, store, [profile.score_epoch], executor),
            "kirsch_steps": kirsch_steps(profile, store, executor),
            "kirsch_noise": seed_noise(profile, store, kirsch_variant(profile)).table(),
            "balanced": class_balanced(profile, store, executor),
            "timing": score_epochs.score_epoch_sweep(profile, store, score_epochs.selections(
                profile, store, ("el2n",), score_epochs.kirsch_epochs(profile), executor), executor),
            "seed_noise": seed_noise(profile, store).table()}


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    curves, full, coverage = tables["curves"], tables["full"], tables["coverage"]
    table = curves.pivot_table(index="method", columns="fraction", values="test_acc", aggfunc="mean")
    table = table.rename(columns=lambda f: f"{f:.0%} pruned")
    rarest = coverage.loc["el2n"].idxmin()
    return {
        "table": table.rename_axis(index="pruned by", columns=None).style.format("{:.2%}").format_index(method_name),
        "full": f"{full['test_acc'].mean():.2%}",
        "full_train": f"{full['train_acc'].mean():.1%}",
        "full_test": f"{full['test_acc'].mean():.1%}",
        "study": f"{profile.study_fraction:.0%}",
        "score_epoch": f"{profile.score_epoch:g}",
        "score_share": f"{profile.score_share:.0%}",
        "score_train_acc": f"{tables['score_accuracy']['train_acc'].mean():.0%}",
        "rare_class": str(rarest),
        "rare_el2n": f"{coverage.loc['el2n', rarest]:.0%}",
        "rare_random": f"{coverage.loc['random', rarest]:.0%}",
        "n_train": f"{profile.num_train:,} training images",
        "regime": ("a data-scarce regime, where Sorscher et al. (2022) predict that keeping the hardest examples "
                   "helps less than keeping the easiest" if profile.train_per_class else "the paper's full training set"
                   + ("" if full["train_acc"].mean() >= FITS else f", on a network that does not fit it within "
                      f"its training budget (train accuracy below {FITS:.0%})")),
        "paper_runs": f"{retraining_runs(PAPER):,} retraining runs of {PAPER.epochs:g} epochs",
        "regime_sizes": str(len(profile.regime.sizes)),
        "budgets": str(len(profile.regime.epochs)),
        "kirsch_protocol": kirsch_protocol(profile),
        "kirsch_steps": kirsch_steps_sentence(tables["kirsch_steps"], curves, SeedNoise.of(tables["kirsch_noise"]),
                                              SeedNoise.of(tables["seed_noise"])),
        "balanced": balanced_sentence(tables["balanced"], curves, SeedNoise.of(tables["seed_noise"])),
        "forgetting": forgetting_sentence(curves, full, SeedNoise.of(tables["seed_noise"])),
        "kirsch_timing": score_epochs.kirsch_timing(tables["timing"], SeedNoise.of(tables["seed_noise"]), profile),
    }


def later_el2n(timing: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The `timing` runs of EL2N read at an epoch other than the score epoch, labelled "EL2N read at <share> of
    training" (for the figure)."""
    later = timing[(timing["score"] == "el2n") & (timing["epoch"] != profile.score_epoch)]
    return later.assign(label=[f"EL2N read at {e / profile.epochs:.0%} of training" for e in later["epoch"]])


def kirsch_protocol(profile: Profile) -> str:
    """How Kirsch's PyTorch reproduction, the top panel's reference, departs from the protocol we follow (read
    from his code: `published_results.yaml`, `kirsch_pytorch.protocol`)."""
    theirs = published()["kirsch_pytorch"]["protocol"]
    return (f"His protocol departs from the paper's, which we follow, in two ways that bear on the comparison: he "
            f"reads the scores after {theirs['score_after_epochs']:g} of {theirs['train_epochs']:g} epochs "
            f"({kirsch_score_share():.0%} of training; ours at "
            f"{profile.score_share:.0%}, as the paper's), and his pruned runs train "
            f"{theirs['train_epochs']:g} epochs of their subset, so fewer steps than his full-data run, where ours "
            "train for the full run's number of steps.")


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    noise = SeedNoise.of(tables["seed_noise"])
    return [rules.cifar10_half(tables["curves"], tables["full"], noise, fraction=HALF),
            rules.grand_init_beats_random(tables["curves"], noise)]
