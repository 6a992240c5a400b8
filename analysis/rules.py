"""The claim rules: each of the paper's claims judged from a page's tables by a stated rule.

One function per claim, named by the claim's id in `published_results.yaml` (and in the store and
the glue keys). Accuracy differences count only by `analysis.statistics` (two standard errors, with the
seed noise pooled within each arm's condition; a match needs a 90% interval within one point).
Rules read tables, never the book: a page applies them (`analysis.chapters.<page>.verdicts`).

Four outcomes. A claim holding in several conditions (fractions, budgets, epochs) is *reproduced* when
it holds in all of them, *partly* when it holds in more than it fails, *not reproduced* otherwise -
and *inconclusive*, with the reason, when the runs cannot tell: too few seeds to separate or to match
(in at least half the conditions), a precondition that fails at this scale, or no runs at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.reference import claim, kirsch_accuracy, published
from analysis.statistics import (
    MARGIN,
    SeedNoise,
    accuracies,
    compare,
    contrast,
    difference,
    equivalent,
    interval,
    projected_words,
    sign,
    spearman_brown,
    word,
)

REPRODUCED, PARTLY, NOT, INCONCLUSIVE = "reproduced", "partly", "not reproduced", "inconclusive"
OUTCOMES = (REPRODUCED, PARTLY, NOT, INCONCLUSIVE)
NOT_ATTEMPTED = "not attempted"  # a claim no page of the book tests (an inconclusive verdict's reason says why)
SMALL_TAIL = 0.05  # the largest offset (share of the training set) that counts as skipping "a small tail"
PAPER_SPEARMAN = 0.75  # one run's GraNd against the paper's mean of its score runs (claim single_run)
SPEARMAN_TOLERANCE = 0.1  # a single run's Spearman within 0.1 of the paper's 0.75 matches it


@dataclass(frozen=True)
class Verdict:
    claim_id: str
    chapter: str  # the book page that shows the evidence
    ours: str  # our number, in words
    paper: str  # the paper's (or Kirsch's) number
    verdict: str
    reason: str

    @property
    def claim(self) -> str:
        return claim(self.claim_id)


def tally(held: Sequence[bool | None]) -> str:
    """The outcome of a claim over conditions: True where it held, False where it failed, None where the
    runs could not tell. Inconclusive unless the runs told at least half the conditions (one decided condition
    among many undecided is too little to call either way). Then: reproduced if it held in all; partly if it
    held in more than it failed; not reproduced if it failed in at least as many as it held."""
    held = [None if h is None else bool(h) for h in held]
    yes, no = held.count(True), held.count(False)
    if 2 * (yes + no) < len(held) or not held:
        return INCONCLUSIVE
    if yes == len(held):
        return REPRODUCED
    return PARTLY if yes > no else NOT


def beats(a, b, noise: SeedNoise | Sequence[SeedNoise]) -> bool | None:
    """Whether arm `a` beats arm `b`: True beyond two standard errors; False if it loses, or if the 90%
    interval excludes a gain of one point; None (cannot tell) otherwise. `noise`: one pool, or one per arm
    (`SeedNoise.vs_random` where `b` is random pruning)."""
    return _held(difference(a, b, noise))


def _held(estimate: tuple[float, float, float]) -> bool | None:
    """A positive contrast: True beyond two standard errors, False if negative beyond them or if its 90% interval
    ends below one point, None otherwise."""
    if direction := sign(estimate):
        return direction > 0
    return False if interval(estimate)[1] < MARGIN else None


def _told(held: bool | None) -> str:
    """One condition's outcome in words: 'holds', 'fails' or 'cannot tell'."""
    return "cannot tell" if held is None else ("holds" if held else "fails")


def _seeds(**arms) -> str:
    """Each arm's seed count, by name (underscores read as spaces)."""
    return "seeds: " + ", ".join(f"{name.replace('_', ' ')} {len(a)}" for name, a in arms.items())


def _kirsch(method: str, fraction: float, source: str) -> float | None:
    """Kirsch's mean test accuracy (0-1) for `method` (our name) at `fraction` pruned, if published."""
    table = kirsch_accuracy(source)
    hit = table[(table["method"] == method) & (table["fraction"] == fraction)]
    return float(hit["test_acc"].iloc[0]) if len(hit) else None


def cifar10_half(curves: pd.DataFrame, full: pd.DataFrame, noise: SeedNoise, fraction: float = 0.5) -> Verdict:
    """Claim cifar10_half: keeping the highest-EL2N half matches the full data.

    One condition: reproduced if EL2N matches the full data (90% interval within one point) or beats it;
    partly if it matches but is also below it beyond two standard errors (a loss, if under a point); not
    reproduced if it loses to it otherwise (the reason says how it does against random); inconclusive if the
    difference is neither significant nor within the margin.
    """
    el2n = accuracies(curves, method="el2n", fraction=fraction)
    rnd = accuracies(curves, method="random", fraction=fraction)
    fd = full["test_acc"].to_numpy()
    if not (len(el2n) and len(fd)):
        return Verdict("cifar10_half", "pruning_curves", "no runs", _paper_half(fraction), INCONCLUSIVE,
                       "No EL2N or full-data runs at this fraction.")
    vs_full, vs_random = compare(el2n, fd, noise), compare(el2n, rnd, noise.vs_random)
    match = equivalent(el2n, fd, noise)
    if match and vs_full < 0:
        verdict, why = PARTLY, f"matches the full data within {MARGIN:.0%} but is below it beyond two standard errors"
    elif match or vs_full > 0:
        verdict, why = REPRODUCED, "matches the full data" if match else "beats the full data"
    elif vs_full < 0:
        verdict, why = NOT, f"loses to the full data; it is {word(vs_random)} random"
    else:
        verdict = INCONCLUSIVE
        why = (f"within noise of the full data, but the 90% interval reaches beyond {MARGIN:.0%}: too few seeds to "
               "call it a match")
    return Verdict(
        "cifar10_half", "pruning_curves",
        f"EL2N {fraction:.0%} pruned: {el2n.mean():.2%}; full data {fd.mean():.2%}; random {rnd.mean():.2%}",
        _paper_half(fraction), verdict, f"EL2N {why} ({_seeds(EL2N=el2n, full_data=fd, random=rnd)}). A match needs "
        f"the 90% interval of the difference within {MARGIN * 100:g} point; a loss or a win lies beyond two standard "
        "errors.",
    )


def _paper_half(fraction: float) -> str:
    torch_el2n, torch_rnd = _kirsch("el2n", fraction, "kirsch_pytorch"), _kirsch("random", fraction, "kirsch_pytorch")
    jax_el2n, jax_rnd = _kirsch("el2n", fraction, "kirsch_jax"), _kirsch("random", fraction, "kirsch_jax")
    text = "no loss at 50% pruned"
    if torch_el2n is not None:
        text += (f"; Kirsch's reproductions, EL2N against random: PyTorch {torch_el2n:.2%} vs {torch_rnd:.2%} "
                 f"(full data {published()['kirsch_pytorch']['full_data'] / 100:.2%})")
        text += f", JAX {jax_el2n:.2%} vs {jax_rnd:.2%}" if jax_el2n is not None else ""
    return text


def grand_init_beats_random(curves: pd.DataFrame, noise: SeedNoise) -> Verdict:
    """Claim grand_init_beats_random: GraNd at initialisation beats random pruning (Kirsch: it does not).

    Per fraction pruned, `beats`; the fractions tallied (`tally`).
    """
    fractions = sorted(curves.loc[curves["method"] == "grand_init", "fraction"].unique())
    held = [beats(accuracies(curves, method="grand_init", fraction=f), accuracies(curves, method="random", fraction=f),
                  noise.vs_random) for f in fractions]
    kirsch = _kirsch("grand_init", 0.5, "kirsch_pytorch"), _kirsch("random", 0.5, "kirsch_pytorch")
    return Verdict(
        "grand_init_beats_random", "pruning_curves",
        f"GraNd at init beats random at {held.count(True)} of {len(held)} fractions, fails at {held.count(False)}",
        f"better than random (Kirsch, PyTorch: worse, {kirsch[0]:.2%} vs {kirsch[1]:.2%} at 50%)", tally(held),
        "Per fraction: a win (95% interval above zero) holds; a loss, or a gain of one point excluded (90% "
        "interval), fails; the fractions are tallied.",
    )


def early(sweep: pd.DataFrame, score_epoch: float, noise: SeedNoise) -> Verdict:
    """Claim early: EL2N becomes effective after a few epochs - it beats EL2N at initialisation and random.

    Inconclusive if EL2N at the score epoch does not beat random (the precondition: scores that prune
    well at this scale); other epochs that beat random are not judged (choosing one would select on the result).
    """
    late, init, rnd = (accuracies(sweep, score="el2n", epoch=score_epoch), accuracies(sweep, score="el2n", epoch=0.0),
                       accuracies(sweep, score="random"))
    vs_init, vs_random = beats(late, init, noise), beats(late, rnd, noise.vs_random)
    ours = f"EL2N at epoch {score_epoch:g}: {late.mean():.2%}; at init {init.mean():.2%}; random {rnd.mean():.2%}"
    if vs_random is not True:
        return Verdict("early", "score_epochs", ours, "EL2N effective after a few epochs", INCONCLUSIVE,
                       f"Precondition failed at this scale: EL2N at the score epoch ({score_epoch:g}) does not beat "
                       "random pruning, so this rule, which reads the profile's score epoch, cannot tell when EL2N "
                       f"becomes effective ({_seeds(score_epoch=late, init=init, random=rnd)}).")
    verdict = {True: REPRODUCED, False: NOT, None: INCONCLUSIVE}[vs_init]
    return Verdict("early", "score_epochs", ours, "EL2N effective after a few epochs", verdict,
                   f"EL2N at the score epoch against EL2N at init, same fraction, given that it beats random "
                   f"({_seeds(score_epoch=late, init=init, random=rnd)}).")


def single_run(single: pd.DataFrame, seeds: pd.DataFrame, random: pd.DataFrame, score_epoch: float,
               noise: SeedNoise, runs: int) -> Verdict:
    """Claim single_run: one run's GraNd has Spearman ~0.75 with the paper's mean of `runs` runs, and selects a
    worse subset than the mean of the most seeds.

    Spearman: the mean over seeds of each seed against the mean of the other seeds (`single`, leave one out; the
    seeds' range reported beside it), projected to a mean of `runs` (`spearman_brown`) under both readings of the
    paper's mean, without the run and with it. Within `SPEARMAN_TOLERANCE` of 0.75 under both matches, outside
    under both fails, else cannot tell.
    Worse: tested only where GraNd's subsets of one and of the most seeds, together, beat `random` pruning (the
    claim's premise: an averaged selection worth having; the two together, so that passing the gate does not
    favour the most seeds' arm).
    """
    at_epoch = single.query("score == 'grand' and epoch == @score_epoch")
    rho, others = at_epoch["spearman_to_mean"].mean(), at_epoch["seed"].nunique() - 1
    one, most = seeds["n_seeds"].min(), seeds["n_seeds"].max()
    at_one, at_most = accuracies(seeds, n_seeds=one), accuracies(seeds, n_seeds=most)
    premise = beats(np.concatenate([at_one, at_most]), accuracies(random), noise.vs_random)
    worse = beats(at_most, at_one, noise) if most > one and premise else None
    if rho != rho or others < 1:  # NaN: no single-run Spearman here
        close, projected = None, "No single-run GraNd Spearman at the score epoch (it needs two score seeds)"
    else:
        readings = spearman_brown(rho, others, runs)
        within = {abs(r - PAPER_SPEARMAN) <= SPEARMAN_TOLERANCE for r in readings}
        close = within.pop() if len(within) == 1 else None
        against = "the other seed" if others == 1 else f"the mean of the other {others} seeds"
        per_seed = at_epoch["spearman_to_mean"]
        spread = f" ({per_seed.min():.2f} to {per_seed.max():.2f} over {others + 1} seeds)"
        projected = (f"Single-seed GraNd Spearman {rho:.2f}{spread} to {against}; projected, "
                     f"{projected_words(readings, runs)}")
    if most > one and not premise:
        shown = "do not beat" if premise is False else "are not shown to beat"
        seed_words = f"against {most}: not tested, as GraNd's subsets {shown} random pruning"
    else:
        seed_words = (f"{'worse than' if worse else 'not shown worse than' if worse is None else 'not worse than'} "
                      f"{most} seeds")
    return Verdict(
        "single_run", "seeds", f"{projected}; 1 seed {seed_words}",
        "Spearman ~0.75; single run selects a worse subset", tally([close, worse]),
        f"Spearman projected to the paper's {runs} runs (Spearman-Brown), without the run and with it: within "
        f"{SPEARMAN_TOLERANCE:g} of {PAPER_SPEARMAN} under both readings matches, outside under both fails, and "
        "where they disagree the runs cannot tell; worse: the most seeds beat one beyond two standard errors, "
        "judged only where the subsets of one and of the most seeds together beat random pruning.",
    )


def transfer(df: pd.DataFrame, noise: Mapping[str, SeedNoise]) -> Verdict:
    """Claim transfer: scores from another architecture or hyperparameters prune as well as the target's own.

    Foreign cells only (source != target, random excluded), each target with its own seed noise (`noise`, by
    target). A cell holds if it matches or beats the target's own scores and beats random pruning (a match with
    scores no better than random transfers nothing); it fails if it loses to the own scores or does not beat
    random. Targets whose own scores do not beat random are left out (precondition: scores that prune well there;
    the own scores alone, as a foreign source that loses would otherwise hide its own failure by failing the gate);
    if none is left, inconclusive.
    """
    held, skipped, means = [], [], []
    for target, t in df.groupby("target"):
        noise_t = noise[target]
        own, rnd = accuracies(t, source=target), accuracies(t, source="random")
        if beats(own, rnd, noise_t.vs_random) is not True:
            skipped.append(str(target))
            continue
        cells = [accuracies(t, source=s) for s in t["source"].unique() if s not in ("random", target)]
        means.append(f"{target}: own {own.mean():.2%}, random {rnd.mean():.2%} ({_seeds(own=own, random=rnd)})")
        for cell in cells:
            as_own, over_random = compare(cell, own, noise_t), beats(cell, rnd, noise_t.vs_random)
            if as_own < 0 or over_random is False:
                held.append(False)
            elif over_random and (as_own > 0 or equivalent(cell, own, noise_t)):
                held.append(True)
            else:
                held.append(None)
    paper = "scores transfer across architectures and hyperparameters"
    if not held:
        return Verdict("transfer", "transfer", f"own scores beat random at no target ({', '.join(skipped)})", paper,
                       INCONCLUSIVE, "Precondition failed at this scale: no target's own scores beat random pruning, "
                       "so whether foreign scores do as well says nothing about transfer.")
    return Verdict("transfer", "transfer",
                   f"{held.count(True)} of {len(held)} foreign source->target cells match or beat the target's own "
                   f"scores and beat random pruning, {held.count(False)} fail; {'; '.join(means)}"
                   + (f"; targets left out: {', '.join(skipped)}" if skipped else ""),
                   paper, tally(held),
                   "Each foreign cell against the target's own scores and against random pruning: a match (90% "
                   "interval within one point) or a win over the own scores, with a win over random, holds; a loss "
                   "to the own scores, or no gain over random, fails. Targets whose own scores do not beat random "
                   "are left out.")


def window_cifar10(offsets: pd.DataFrame, n_train: int, noise: SeedNoise) -> Verdict:
    """Claim window_cifar10: the best window skips only a small top tail (~1% of CIFAR-10).

    The best offset is chosen on the first retraining seed and judged on the others (no winner's curse). Where it
    lies is the claim: a choice outside the small tail (offset 0, or more than `SMALL_TAIL` of the data) that no
    other window beats on the judging seeds fails the claim (one that another window beats there tells nothing).
    A choice inside the tail must survive the judging seeds (no other window beats it beyond two standard
    errors), beat the window at offset 0 and beat random pruning there; the three are tallied. Inconclusive with a
    single seed.
    """
    windows = offsets[offsets["selection"] == "window"]
    seeds = sorted(windows["seed"].unique())
    paper = "best window skips ~500 of 50,000 (1%)"
    if len(seeds) < 2:
        seed_word = "seed" if len(seeds) == 1 else "seeds"
        return Verdict("window_cifar10", "offsets", f"{len(seeds)} retraining {seed_word} per window", paper,
                       INCONCLUSIVE, "Choosing the best window and judging it need separate retraining seeds; "
                       f"these runs have {'one' if seeds else 'none'}.")
    chosen = windows[windows["seed"] == seeds[0]].set_index("offset")["test_acc"]
    if (chosen == chosen.max()).sum() > 1:
        return Verdict("window_cifar10", "offsets", f"best offsets on seed {seeds[0]} tie at {chosen.max():.2%}",
                       paper, INCONCLUSIVE, "The seed that chooses the best window ties between windows: no choice "
                       "to judge on the other seeds.")
    best = float(chosen.idxmax())
    judged = windows[windows["seed"].isin(seeds[1:])]
    at_best, at_zero = accuracies(judged, offset=best), accuracies(judged, offset=0)
    rnd = accuracies(offsets, selection="random")
    share = best / n_train
    overturned = [o for o in sorted(judged["offset"].unique()) if o != best
                  and compare(accuracies(judged, offset=o), at_best, noise) > 0]
    if not 0 < share <= SMALL_TAIL:
        outcome = INCONCLUSIVE if overturned else NOT
    else:
        outcome = tally([not overturned, beats(at_best, at_zero, noise), beats(at_best, rnd, noise.vs_random)])
    n_judging = len(seeds) - 1
    return Verdict(
        "window_cifar10", "offsets",
        f"best offset on seed {seeds[0]}: {best:,.0f} of {n_train:,} ({share:.1%}); on the other "
        f"{'seed' if n_judging == 1 else f'{n_judging} seeds'} {at_best.mean():.2%} vs offset 0 "
        f"{at_zero.mean():.2%}, random {rnd.mean():.2%} ({_seeds(random=rnd)}); "
        + (f"beaten there by offset {', '.join(f'{o:,.0f}' for o in overturned)}" if overturned
           else "no other window beats it there"), paper, outcome,
        f"Chosen on one seed, judged on {n_judging}. A small tail skips more than 0 and at most {SMALL_TAIL:.0%}: a "
        "choice outside it fails unless another window beats it on the judging seeds (then the runs cannot tell); "
        "a choice inside it must not be beaten by another window there and must beat offset 0 and random "
        "pruning there (beyond two standard errors), tallied.",
    )


def noise_tail(bins: pd.DataFrame, pruning: pd.DataFrame, under_noise: SeedNoise, on_clean: SeedNoise) -> Verdict:
    """Claim noise_tail: corrupted labels pile up in the top EL2N bin, skipping that tail helps, and keeping the
    highest GraNd at initialisation does worse than random pruning under noise.

    Three parts, tallied. Concentrated: the top EL2N bin's noisy share exceeds twice the noise rate. Skipping
    helps: the gain of the smallest offset > 0 over offset 0 under noise beats the same gain on clean labels
    (selection `clean`, the control: at small scale accuracy rises with the offset even without noise), each arm
    with its condition's seed noise (`under_noise`, `on_clean`). GraNd at init: random pruning (selection
    `random`) beats the highest GraNd at initialisation (`grand_init`), both on the noisy labels. A part whose
    arms are missing cannot tell.
    """
    paper = ("noisy examples concentrate at the highest EL2N; the best window skips them; keeping the highest GraNd "
             "at init can do worse than random")
    el2n = bins[bins["score"] == "el2n"]
    if el2n.empty:
        return Verdict("noise_tail", "noise", "no EL2N bins", paper, INCONCLUSIVE,
                       "No EL2N scores of the noisy-label runs to bin.")
    top, rate = float(el2n.loc[el2n["bin"].idxmax(), "noisy_fraction"]), float(el2n["noise_rate"].iloc[0])
    concentrated = top > 2 * rate
    noisy, clean = pruning[pruning["selection"] == "el2n"], pruning[pruning["selection"] == "clean"]
    skip = min((o for o in noisy["offset"].unique() if o > 0), default=None)
    if skip is None or skip not in set(clean["offset"]) or 0 not in set(clean["offset"]):
        skips, gain = None, "no clean-label control at the same offsets"
    else:
        arms = [accuracies(noisy, offset=skip), accuracies(clean, offset=0)], [accuracies(noisy, offset=0),
                                                                               accuracies(clean, offset=skip)]
        estimate = contrast(*arms, [under_noise, on_clean, under_noise, on_clean])  # gain under noise - on clean
        skips, (low, high) = _held(estimate), interval(estimate, 0.95)
        noisy_gain = arms[0][0].mean() - arms[1][0].mean()
        clean_gain = arms[1][1].mean() - arms[0][1].mean()
        gain = (f"skipping the top {skip:,.0f}: {noisy_gain:+.2%} under noise vs {clean_gain:+.2%} on clean labels, "
                f"difference {estimate[0]:+.2%} (95% interval {low:+.2%} to {high:+.2%})")
    grand_init, rnd = accuracies(pruning, selection="grand_init"), accuracies(pruning, selection="random")
    if len(grand_init) and len(rnd):
        worse = beats(rnd, grand_init, under_noise.vs_random[::-1])
        init = f"highest GraNd at init {grand_init.mean():.2%} vs random {rnd.mean():.2%}"
    else:
        worse, init = None, "no GraNd-at-init or random arm"
    return Verdict(
        "noise_tail", "noise", f"top EL2N bin {top:.0%} noisy (noise rate {rate:.0%}); {gain}; {init}", paper,
        tally([concentrated, skips, worse]),
        "Concentrated: top-bin noisy share above twice the noise rate. Skipping helps: its gain under noise beats "
        "the clean-label gain at the same offsets beyond two standard errors. GraNd at init: random pruning beats "
        "keeping its highest scores on the noisy labels beyond two standard errors. Three parts, tallied; here "
        f"concentrated {_told(concentrated)}, skipping helps {_told(skips)}, GraNd at init {_told(worse)}.",
    )


def hard_vs_easy(sweep: pd.DataFrame, fraction: float, noise: Mapping[float, SeedNoise], axis: str) -> pd.Series:
    """Per value of `axis` (ascending; index named `axis`): +1 where keeping the hardest beats keeping the easiest
    at `fraction` pruned beyond two standard errors, -1 where it loses, 0 within them. `sweep` is one of the regime
    page's tables; `axis` its column varied (`size` in training images, or `budget_epochs`); `noise` the seed noise
    at each value of it."""
    points = sorted(sweep.loc[sweep["fraction"] == fraction, axis].unique())
    signs = [compare(accuracies(sweep, **{axis: x}, fraction=fraction, selection="hard"),
                     accuracies(sweep, **{axis: x}, fraction=fraction, selection="easy"), noise[x]) for x in points]
    return pd.Series(signs, index=pd.Index(points, dtype=float, name=axis), dtype=int)


def crossover(sweep: pd.DataFrame, fraction: float, noise: Mapping[float, SeedNoise], axis: str) -> float | None:
    """The smallest value of `axis` from which keeping the hardest beats keeping the easiest at `fraction` pruned
    at every larger value too (`hard_vs_easy`), or None if it does not win at the largest."""
    start = None
    for x, won in hard_vs_easy(sweep, fraction, noise, axis)[::-1].items():
        if won <= 0:
            break
        start = float(x)
    return start


def regime(sizes: pd.DataFrame, noise: Mapping[float, SeedNoise], fraction: float | None = None) -> Verdict:
    """Claim regime (Sorscher et al. 2022, not the paper's): easy wins at the smallest training set, hard at the
    largest.

    `sizes` is the regime page's data-size table (`size`: training images before pruning); compared at
    `fraction` pruned (default: the largest), each size with its own seed noise (`noise`, by size).
    """
    f = float(sizes.loc[sizes["selection"] != "full", "fraction"].max()) if fraction is None else fraction  # nan: none
    points = sorted(sizes.loc[sizes["fraction"] == f, "size"].unique())
    paper = ("not in the paper; Sorscher et al. (2022): keeping the easiest wins when data is scarce, the hardest when "
             "it is abundant (curves only)")
    if len(points) < 2:
        ran = f"one training-set size ({points[0]:,.0f} images)" if points else "no pruned runs"
        return Verdict("regime", "regime", ran, paper, INCONCLUSIVE,
                       "The claim compares small and large training sets; this profile ran fewer than two sizes.")
    small, large = points[0], points[-1]

    def arm(size: int, selection: str):
        return accuracies(sizes, size=size, fraction=f, selection=selection)

    def gap(size: int) -> str:
        hard, easy = arm(size, "hard"), arm(size, "easy")
        estimate = difference(hard, easy, noise[size])
        low, high = interval(estimate, 0.95)
        return f"{estimate[0]:+.2%} (95% interval {low:+.2%} to {high:+.2%}; {_seeds(hard=hard, easy=easy)})"

    held = [beats(arm(small, "easy"), arm(small, "hard"), noise[small]),
            beats(arm(large, "hard"), arm(large, "easy"), noise[large])]
    return Verdict(
        "regime", "regime",
        f"{f:.0%} pruned, hard minus easy: {gap(small)} at {small:,.0f} training images, {gap(large)} at "
        f"{large:,.0f}", paper, tally(held),
        "Easy must beat hard on the smallest training set and hard beat easy on the largest (95% interval); a "
        "side fails where it loses, or where a one-point win is excluded (90% interval).",
    )


def lmc_gaps(study: pd.DataFrame, eval_set: str = "test", bn_reset: bool = True) -> pd.DataFrame:
    """High- against low-EL2N error barriers at each spawn point after the first; `study` is the LMC page's table.

    Columns: high, low (mean barriers over pairs of children), pairs (the fewer of the two groups' pairs) and held:
    True where the 95% interval of the difference of the means (Welch's t, each group's own spread over its pairs)
    lies above zero, False below, None where it holds zero, where a group has one pair, or where neither group's
    pairs vary (a spread of zero is not evidence of no noise). Empty with one spawn point.
    """
    sel = study[(study["eval_set"] == eval_set) & (study["bn_reset"] == bn_reset) & np.isfinite(study["barrier"])]
    rows = []
    for e, cell in list(sel.groupby("spawn_epoch"))[1:]:
        high, low = (cell.loc[cell["group"] == g, "barrier"].to_numpy() for g in ("high", "low"))
        estimate = difference(high, low, SeedNoise(float("nan"), 0))  # no pooled noise: each group's own pairs
        rows.append({"spawn_epoch": e, "high": high.mean(), "low": low.mean(), "pairs": min(len(high), len(low)),
                     "held": {1: True, -1: False, 0: None}[sign(estimate)]})
    columns = ["spawn_epoch", "high", "low", "pairs", "held"]
    return pd.DataFrame(rows, columns=columns).set_index("spawn_epoch").astype({"held": object})


def lmc(study: pd.DataFrame, eval_set: str = "test", bn_reset: bool = True) -> Verdict:
    """Claim lmc: children trained on high-EL2N examples keep larger error barriers than low-EL2N ones.

    At every spawn point after the first, the high group's mean barrier against the low group's by the 95%
    interval over pairs of children (`lmc_gaps`), tallied over spawn points (`tally`).
    """
    gaps = lmc_gaps(study, eval_set, bn_reset)
    held = gaps["held"].tolist()
    pairs = int(gaps["pairs"].min()) if len(gaps) else 0
    spawns = ", ".join(f"{e:g}: {r['high']:.1%} vs {r['low']:.1%}" for e, r in gaps.iterrows())
    return Verdict(
        "lmc", "lmc", f"high vs low EL2N barrier ({eval_set} error, BN {'reset' if bn_reset else 'as trained'}) by "
        f"spawn epoch: {spawns} ({'one pair of children' if pairs == 1 else f'means of {pairs} pairs of children'}); "
        f"above at {held.count(True)} of {len(held)}, below at {held.count(False)}",
        "high-EL2N barriers stay larger for longer (figure only)", tally(held),
        "Spawn points after the first; above or below where the 95% interval of the difference of mean barriers "
        "over pairs of children lies above or below zero."
        + (" No spawn point after the first." if not len(gaps) else " Too few pairs: with one pair of children per "
           "group how much a barrier varies between pairs is not measured." if pairs < 2 else ""),
    )


def ntk_log_ratios(study: pd.DataFrame, after: float) -> pd.Series:
    """Log of the highest-EL2N group's kernel velocity over the lowest group's, indexed by (epoch, seed), at each
    epoch > `after` with a velocity (a velocity at an epoch is over the interval that ends there, so these cover
    training after `after`); `study` is the NTK page's table (a table without `seed` is one run)."""
    late = study[(study["epoch"] > after) & study["velocity"].notna()]
    if late.empty:
        return pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=["epoch", "seed"]))
    late = late if "seed" in late else late.assign(seed=0)
    v = late.pivot_table(index=["epoch", "seed"], columns="group", values="velocity")
    return np.log(v[v.columns.max()] / v[v.columns.min()])


def ntk_ratios(study: pd.DataFrame, after: float) -> pd.Series:
    """The highest-EL2N group's kernel velocity over the lowest group's by epoch (> `after`): the geometric mean
    over runs of `ntk_log_ratios`, the ratio the verdict states and the page's prose quotes."""
    return np.exp(ntk_log_ratios(study, after).groupby(level="epoch").mean())


def ntk(study: pd.DataFrame, after: float) -> Verdict:
    """Claim ntk: the highest-EL2N group's kernel keeps moving faster than the lowest group's after epoch `after`.

    At each epoch > `after` with a velocity (training after `after`), the top group is faster where the 95%
    interval of the mean log velocity ratio over the training runs (`ntk_log_ratios`) lies above zero, slower where
    it lies below; tallied (`tally`). With one run the ratio's run-to-run noise is unknown: inconclusive, whatever
    the ratios; inconclusive too with no velocity after `after`.
    """
    paper = "high-EL2N groups keep the kernel moving longer; low-EL2N stabilises early (figure only)"
    log_ratios = ntk_log_ratios(study, after)
    if log_ratios.empty:
        return Verdict("ntk", "ntk", f"no kernel velocity after epoch {after:g}", paper, INCONCLUSIVE,
                       f"No kernel velocity over training after epoch {after:g} to compare.")
    logs = log_ratios.groupby(level="epoch")
    means, runs = logs.mean(), int(logs.count().max())
    held = [None if n < 2 else {1: True, -1: False, 0: None}[sign((m, sd / np.sqrt(n), n - 1))]
            for m, sd, n in zip(means, logs.std(), logs.count(), strict=True)]
    run_word = "one training run" if runs == 1 else f"geometric mean of {runs} training runs"
    return Verdict(
        "ntk", "ntk", "highest / lowest EL2N group kernel velocity by epoch: "
        + ", ".join(f"{e:g}: {r:.2f}" for e, r in ntk_ratios(study, after).items())
        + f" ({run_word}); faster at {held.count(True)} of {len(held)}, slower at {held.count(False)}",
        paper, INCONCLUSIVE if runs < 2 else tally(held),
        f"Velocities over training after epoch {after:g}; faster where the 95% interval of the mean log velocity "
        "ratio over training runs lies above zero, slower below it."
        + (" Too few runs: with one training run how much the ratio varies between runs is not measured."
           if runs < 2 else ""),
    )


def not_attempted(claim_id: str, reason: str) -> Verdict:
    """A claim of the paper no page tests, on the scorecard with the reason."""
    return Verdict(claim_id, "scorecard", "not attempted", claim(claim_id), INCONCLUSIVE, f"Not attempted: {reason}")
