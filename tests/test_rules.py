"""The statistical rule and the verdict rules on hand-made results with known answers, and the scorecard's
bookkeeping."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import rules, statistics
from analysis.chapters import scorecard
from analysis.profiles import get_profile
from analysis.statistics import SeedNoise

NOISE = SeedNoise(sd=0.01, dof=10)  # one point of single-run noise, well estimated
EVERYWHERE = defaultdict(lambda: NOISE)  # that noise in every condition (target, size)
NONE = SeedNoise(sd=math.nan, dof=0)  # no two runs of the profile differ only by seed
PRECISE = SeedNoise(sd=0.002, dof=30)  # a profile whose runs vary by a fifth of a point


def _curves(el2n: list[float], random: list[float], fraction: float = 0.5) -> pd.DataFrame:
    rows = [{"method": "el2n", "fraction": fraction, "test_acc": a} for a in el2n]
    return pd.DataFrame(rows + [{"method": "random", "fraction": fraction, "test_acc": a} for a in random])


def _full(*accs: float) -> pd.DataFrame:
    return pd.DataFrame({"test_acc": list(accs)})


def test_pooled_seed_noise_weights_groups_by_their_degrees_of_freedom():
    noise = SeedNoise.pooled([[0.5, 0.7], [0.1, 0.3, 0.2], [0.9]])  # a single run carries no information
    assert noise.dof == 3
    assert noise.sd == pytest.approx(math.sqrt((0.02 + 0.02) / 3))
    assert SeedNoise.pooled([[0.5], [0.6]]).dof == 0 and math.isnan(SeedNoise.pooled([]).sd)


def test_single_seed_arms_use_the_pooled_noise_never_zero():
    diff, se, dof = statistics.difference([0.9], [0.8], NOISE)
    # both arms borrow the one pooled estimate: one variance term, with the pool's degrees of freedom
    assert (diff, se, dof) == (pytest.approx(0.1), pytest.approx(math.sqrt(2e-4)), pytest.approx(10))
    assert statistics.compare([0.9], [0.8], NOISE) == 1
    assert statistics.compare([0.81], [0.80], NOISE) == 0  # one point against 1.4 points of standard error
    assert statistics.compare([0.80], [0.90], NOISE) == -1
    # without an estimate a single run cannot be judged: nothing counts, nothing matches
    assert statistics.compare([0.99], [0.10], NONE) == 0
    assert not statistics.equivalent([0.80], [0.80], NONE)
    # an arm's own seeds decide its error only where they carry more degrees of freedom than the pool
    assert statistics.compare([0.910, 0.912], [0.900, 0.902], NONE) == 1  # +-0.61 points: 4.30 x 0.14
    assert statistics.compare([0.910, 0.912], [0.900, 0.902], NOISE) == 0  # two steady seeds: the pool's 1 point


def test_seeds_that_all_agree_are_no_estimate_of_noise():
    for noise in (NONE, SeedNoise(sd=0.0, dof=4)):
        diff, se, dof = statistics.difference([0.91, 0.91], [0.90, 0.90], noise)
        assert diff == pytest.approx(0.01) and se == math.inf and dof == 0
        assert statistics.compare([0.91, 0.91], [0.90, 0.90], noise) == 0
        assert not statistics.equivalent([0.90, 0.90], [0.90, 0.90], noise)
    assert statistics.interval((0.01, 0.0, 3.0)) == (-math.inf, math.inf)  # an estimate made outside `contrast`


def test_a_match_needs_the_90_percent_interval_inside_one_point():
    tight = [0.800, 0.801, 0.799, 0.800]
    assert statistics.equivalent(tight, [0.802, 0.803, 0.801, 0.802], PRECISE)
    assert not statistics.equivalent(tight, [0.802, 0.803, 0.801, 0.802], NOISE)  # steady seeds, noisy profile
    # not significant, yet not a match: one run each leaves an interval of +-2.4 points
    assert statistics.compare([0.80], [0.80], NOISE) == 0
    half = stats.t.ppf(0.95, 10) * math.sqrt(2e-4)
    assert statistics.interval(statistics.difference([0.80], [0.80], NOISE)) == (pytest.approx(-half),
                                                                                 pytest.approx(half))
    assert not statistics.equivalent([0.80], [0.80], NOISE)
    assert statistics.no_gain([0.70], [0.80], NOISE) and not statistics.no_gain([0.80], [0.80], NOISE)


def test_a_contrast_of_four_arms_adds_their_variances():
    diff, se, dof = statistics.contrast([[0.9], [0.5]], [[0.7], [0.6]], NOISE)
    assert diff == pytest.approx(0.1) and se == pytest.approx(math.sqrt(4e-4)) and dof == pytest.approx(10)


def test_arms_of_different_conditions_borrow_their_own_pools():
    wide = SeedNoise(sd=0.02, dof=5)
    diff, se, dof = statistics.contrast([[0.9]], [[0.7]], [NOISE, wide])
    # one term per pool, combined by Welch-Satterthwaite: 1e-4 (10 dof) + 4e-4 (5 dof)
    assert (diff, se) == (pytest.approx(0.2), pytest.approx(math.sqrt(5e-4)))
    assert dof == pytest.approx(5e-4**2 / (1e-4**2 / 10 + 4e-4**2 / 5))
    # arms of one pool share its term, as with a single estimate
    assert statistics.contrast([[0.9], [0.5]], [[0.7], [0.6]], [NOISE] * 4) == pytest.approx(
        statistics.contrast([[0.9], [0.5]], [[0.7], [0.6]], NOISE))
    with pytest.raises(ValueError, match="3 seed-noise estimates for 2 arms"):
        statistics.contrast([[0.9]], [[0.7]], [NOISE] * 3)


def test_random_arms_borrow_the_pool_of_random_arms_where_it_has_an_estimate():
    with_random = SeedNoise(sd=0.01, dof=10, random=SeedNoise(sd=0.03, dof=4))
    assert with_random.vs_random == (with_random, with_random.random)
    # 1e-4 (the fixed arm's pool, 10 dof) + 9e-4 (the random arms' pool, 4 dof)
    _, se, _ = statistics.difference([0.9], [0.7], with_random.vs_random)
    assert se == pytest.approx(math.sqrt(1e-3))
    # a comparison that counts with the fixed pool alone does not once the subsets' spread is in
    assert statistics.compare([0.84], [0.80], NOISE) == 1
    assert statistics.compare([0.84], [0.80], with_random.vs_random) == 0
    # no random arm with two seeds: the condition's own pool, as one term
    for lacking in (NOISE, SeedNoise(sd=0.01, dof=10, random=NONE)):
        assert lacking.of_random is lacking
        assert statistics.difference([0.9], [0.7], lacking.vs_random) == statistics.difference([0.9], [0.7], lacking)
    assert rules.grand_init_beats_random(_grand([0.84], [0.80]), NOISE).verdict == rules.REPRODUCED
    assert rules.grand_init_beats_random(_grand([0.84], [0.80]), with_random).verdict == rules.INCONCLUSIVE


def _grand(grand: list[float], random: list[float]) -> pd.DataFrame:
    rows = [{"method": "grand_init", "fraction": 0.5, "test_acc": a} for a in grand]
    return pd.DataFrame(rows + [{"method": "random", "fraction": 0.5, "test_acc": a} for a in random])


def test_a_difference_counts_beyond_the_95_percent_t_interval():
    # one seed each against a pool of 10 degrees of freedom: t(0.975, 10) = 2.23 standard errors of 1.41 points
    assert statistics.compare([0.832], [0.80], NOISE) == 1 and statistics.compare([0.830], [0.80], NOISE) == 0
    # a pool of 2 degrees of freedom: t(0.975, 2) = 4.3 standard errors
    assert statistics.compare([0.832], [0.80], SeedNoise(sd=0.01, dof=2)) == 0


def test_tally_holds_the_majority_and_says_when_nothing_could_be_told():
    assert rules.tally([True, True]) == rules.REPRODUCED
    assert rules.tally([True, True, False]) == rules.PARTLY
    assert rules.tally([True, None]) == rules.PARTLY  # half the conditions told
    # fewer than half told: one condition either way among undecided ones is no verdict
    assert rules.tally([True, None, None]) == rules.tally([False, None, None]) == rules.INCONCLUSIVE
    assert rules.tally([False, False, None]) == rules.NOT
    assert rules.tally([True, False]) == rules.NOT  # as many failures as successes: not "partly"
    assert rules.tally([True, False, False, False]) == rules.NOT
    assert rules.tally([None, None]) == rules.INCONCLUSIVE
    assert rules.tally([]) == rules.INCONCLUSIVE


def test_pruning_half_verdicts_cover_all_four_outcomes_and_a_small_significant_loss():
    seeds3 = _full(0.800, 0.801, 0.799)
    assert rules.cifar10_half(_curves([0.800, 0.802, 0.801], [0.7] * 3), seeds3, PRECISE).verdict == rules.REPRODUCED
    # one condition: a loss to the full data fails the claim, however it does against random (said in the reason)
    beats_random = rules.cifar10_half(_curves([0.75, 0.751, 0.749], [0.70, 0.701, 0.699]), seeds3, PRECISE)
    assert beats_random.verdict == rules.NOT and "above random" in beats_random.reason
    assert rules.cifar10_half(_curves([0.70, 0.701, 0.699], [0.72, 0.721, 0.719]), seeds3,
                              PRECISE).verdict == rules.NOT
    # half a point below the full data: within a point (a match) yet below it beyond two standard errors (0.33)
    small_loss = rules.cifar10_half(_curves([0.795, 0.796, 0.794], [0.7] * 3), seeds3, PRECISE)
    assert small_loss.verdict == rules.PARTLY and "below it beyond two standard errors" in small_loss.reason
    # within noise of the full data, but one noisy seed each cannot show a match
    verdict = rules.cifar10_half(_curves([0.80], [0.70]), _full(0.80), NOISE)
    assert verdict.verdict == rules.INCONCLUSIVE and "too few seeds" in verdict.reason
    # read from the published results
    assert "EL2N against random: PyTorch 92.56% vs 91.39% (full data 93.97%), JAX" in verdict.paper


def test_grand_init_fails_where_a_gain_is_excluded_and_is_inconclusive_where_it_is_not():
    curves = _grand
    assert rules.grand_init_beats_random(curves([0.8] * 3, [0.7] * 3), NOISE).verdict == rules.REPRODUCED
    steady_tie = curves([0.700, 0.701, 0.699], [0.700, 0.702, 0.698])
    assert rules.grand_init_beats_random(steady_tie, PRECISE).verdict == rules.NOT  # a gain of a point is excluded
    assert rules.grand_init_beats_random(steady_tie, NOISE).verdict == rules.INCONCLUSIVE  # not with 1-point noise
    assert rules.grand_init_beats_random(curves([0.70], [0.70]), NOISE).verdict == rules.INCONCLUSIVE


def test_early_is_inconclusive_when_el2n_does_not_beat_random_at_this_scale():
    def sweep(late: float, init: float, random: float) -> pd.DataFrame:
        return pd.DataFrame([{"score": "el2n", "epoch": 7.0, "test_acc": late + d} for d in (-1e-3, 0, 1e-3)]
                            + [{"score": "el2n", "epoch": 0.0, "test_acc": init + d} for d in (-1e-3, 0, 1e-3)]
                            + [{"score": "random", "epoch": 0.0, "test_acc": random + d} for d in (-1e-3, 0, 1e-3)])

    assert rules.early(sweep(0.8, 0.7, 0.7), 7.0, NOISE).verdict == rules.REPRODUCED
    # as good at initialisation: training adds nothing (given that it beats random, only init is judged)
    assert rules.early(sweep(0.8, 0.8, 0.7), 7.0, PRECISE).verdict == rules.NOT
    assert rules.early(sweep(0.8, 0.8, 0.7), 7.0, NOISE).verdict == rules.INCONCLUSIVE
    failed = rules.early(sweep(0.6, 0.5, 0.7), 7.0, NOISE)
    assert failed.verdict == rules.INCONCLUSIVE and "Precondition failed" in failed.reason


def _transfer(cells: dict[tuple[str, str], float]) -> pd.DataFrame:
    return pd.DataFrame([{"source": s, "target": t, "test_acc": a + d} for (s, t), a in cells.items()
                         for d in (-1e-3, 0, 1e-3)])


def test_transfer_is_judged_against_the_targets_own_scores_without_self_cells():
    base = {("resnet", "resnet"): 0.80, ("random", "resnet"): 0.70, ("vgg", "vgg"): 0.80, ("random", "vgg"): 0.70}
    # foreign scores beat random by far but lose to the target's own: transfer does not hold
    verdict = rules.transfer(_transfer({**base, ("vgg", "resnet"): 0.75, ("resnet", "vgg"): 0.75}), EVERYWHERE)
    assert verdict.verdict == rules.NOT and verdict.ours.startswith("0 of 2 foreign")
    assert rules.transfer(_transfer({**base, ("vgg", "resnet"): 0.80, ("resnet", "vgg"): 0.801}),
                          defaultdict(lambda: PRECISE)).verdict == rules.REPRODUCED
    # where the target's own scores do not beat random, the target is left out; none left: inconclusive
    weak = {("resnet", "resnet"): 0.70, ("random", "resnet"): 0.70, ("vgg", "resnet"): 0.60}
    assert rules.transfer(_transfer(weak), EVERYWHERE).verdict == rules.INCONCLUSIVE


def _offsets(by_seed: dict[int, dict[int, float]], random: float) -> pd.DataFrame:
    rows = [{"offset": o, "selection": "window", "seed": s, "test_acc": a}
            for s, accs in by_seed.items() for o, a in accs.items()]
    rows += [{"offset": math.nan, "selection": "random", "seed": s, "test_acc": random} for s in by_seed]
    return pd.DataFrame(rows)


def test_the_best_window_is_chosen_on_one_seed_and_judged_on_the_others():
    curve = {0: 0.70, 500: 0.80, 10_000: 0.72}
    verdict = rules.window_cifar10(_offsets({0: curve, 1: curve, 2: curve}, random=0.71), 50_000, NOISE)
    assert verdict.verdict == rules.REPRODUCED and "best offset on seed 0: 500" in verdict.ours
    # seed 0's best window is a fluke: on the other seeds it beats neither offset 0 nor random
    fluke = rules.window_cifar10(_offsets({0: curve, 1: {0: 0.75, 500: 0.70, 10_000: 0.72},
                                           2: {0: 0.75, 500: 0.70, 10_000: 0.72}}, random=0.71), 50_000, NOISE)
    assert fluke.verdict == rules.NOT
    # offset 0 skips nothing: it is not a small tail
    hardest = {0: 0.80, 500: 0.70, 10_000: 0.70}
    assert rules.window_cifar10(_offsets({0: hardest, 1: hardest}, random=0.6), 50_000, NOISE).verdict == rules.NOT
    single = rules.window_cifar10(_offsets({0: curve}, random=0.71), 50_000, NOISE)
    assert single.verdict == rules.INCONCLUSIVE and "separate retraining seeds" in single.reason


def test_skipping_the_noisy_tail_is_judged_against_the_clean_label_curve():
    bins = pd.DataFrame({"score": "el2n", "bin": [0, 1], "noisy_fraction": [0.02, 0.5], "noise_rate": 0.1})

    def pruning(noisy_gain: float, clean_gain: float | None, init_gap: float | None = 0.05) -> pd.DataFrame:
        rows = [{"selection": "el2n", "offset": 0, "test_acc": 0.70},
                {"selection": "el2n", "offset": 100, "test_acc": 0.70 + noisy_gain}]
        if init_gap is not None:  # random pruning `init_gap` above keeping the highest GraNd at init
            rows += [{"selection": "random", "offset": np.nan, "test_acc": 0.75},
                     {"selection": "grand_init", "offset": 0, "test_acc": 0.75 - init_gap}]
        if clean_gain is not None:
            rows += [{"selection": "clean", "offset": 0, "test_acc": 0.80},
                     {"selection": "clean", "offset": 100, "test_acc": 0.80 + clean_gain}]
        return pd.DataFrame(rows)

    controlled = rules.noise_tail(bins, pruning(0.10, 0.0), NOISE, NOISE)
    assert controlled.verdict == rules.REPRODUCED
    # the clean-label arms with five points of seed noise of their own: the 10-point gain is no longer told
    assert rules.noise_tail(bins, pruning(0.10, 0.0), NOISE, SeedNoise(sd=0.05, dof=10)).verdict == rules.PARTLY
    # four single-seed arms borrow the pool: standard error 2 x 1 point, 10 degrees of freedom (t = 2.228)
    assert "difference +10.00% (95% interval +5.54% to +14.46%)" in controlled.ours
    # the same gain without noise: skipping helps, but not because of the noisy tail
    assert rules.noise_tail(bins, pruning(0.10, 0.10), NOISE, NOISE).verdict == rules.PARTLY
    uncontrolled = rules.noise_tail(bins, pruning(0.10, None), NOISE, NOISE)
    assert uncontrolled.verdict == rules.PARTLY and "no clean-label control" in uncontrolled.ours
    # precise runs where skipping gains as much on clean labels as under noise: a one-point gain from the noisy
    # tail is excluded, so that part fails
    assert rules.noise_tail(bins, pruning(0.0, 0.0), PRECISE, PRECISE).verdict == rules.PARTLY
    assert rules.noise_tail(bins, pruning(0.0, 0.0, init_gap=-0.05), PRECISE, PRECISE).verdict == rules.NOT
    # a top bin at most twice the noise rate is no concentration: one part of three fails
    spread = bins.assign(noisy_fraction=[0.05, 0.15])
    unconcentrated = rules.noise_tail(spread, pruning(0.10, 0.0), NOISE, NOISE)
    assert unconcentrated.verdict == rules.PARTLY and unconcentrated.ours.startswith("top EL2N bin 15% noisy")


def test_keeping_the_highest_grand_at_init_under_noise_is_judged_against_random_pruning():
    bins = pd.DataFrame({"score": "el2n", "bin": [0, 1], "noisy_fraction": [0.02, 0.5], "noise_rate": 0.1})
    windows = [{"selection": s, "offset": o, "test_acc": a}
               for s, o, a in [("el2n", 0, 0.70), ("el2n", 100, 0.80), ("clean", 0, 0.80), ("clean", 100, 0.80)]]

    def verdict(grand_init: float | None, random: float | None, noise: SeedNoise = NOISE) -> rules.Verdict:
        rows = windows + [{"selection": s, "offset": o, "test_acc": a}
                          for s, o, a in [("grand_init", 0, grand_init), ("random", np.nan, random)] if a is not None]
        return rules.noise_tail(bins, pd.DataFrame(rows), noise, NOISE)

    worse = verdict(0.70, 0.75)
    assert worse.verdict == rules.REPRODUCED and worse.ours.endswith("highest GraNd at init 70.00% vs random 75.00%")
    assert verdict(0.80, 0.75).verdict == rules.PARTLY  # GraNd at init above random: that part fails
    undecided = verdict(0.745, 0.75)  # half a point, one seed each: cannot tell
    assert undecided.verdict == rules.PARTLY and undecided.reason.endswith(
        "here concentrated holds, skipping helps holds, GraNd at init cannot tell.")
    # random pruning's own spread (its seeds draw the subsets) widens the comparison until it cannot tell
    wide = SeedNoise(sd=0.01, dof=10, random=SeedNoise(sd=0.05, dof=10))
    assert verdict(0.70, 0.75, wide).verdict == rules.PARTLY
    missing = verdict(0.70, None)
    assert missing.verdict == rules.PARTLY and missing.ours.endswith("no GraNd-at-init or random arm")


def test_lmc_and_ntk_are_partly_only_when_the_majority_agrees():
    def lmc(gaps: list[float]) -> pd.DataFrame:
        """Three pairs per group at -0.5, 0, +0.5 points: a gap counts beyond 2.78 x 0.0041 = 1.1 points
        (Welch, dof 4)."""
        rows = []
        for e, g in enumerate([0.0, *gaps]):
            cell = {"spawn_epoch": float(e), "eval_set": "test", "bn_reset": True}
            rows += [{**cell, "group": group, "pair": k, "barrier": 0.1 + d + (k - 1) * 0.005}
                     for group, d in (("high", g), ("low", 0.0)) for k in range(3)]
        return pd.DataFrame(rows)

    assert rules.lmc(lmc([0.03, 0.03])).verdict == rules.REPRODUCED
    assert rules.lmc(lmc([0.03, 0.03, -0.03])).verdict == rules.PARTLY
    assert rules.lmc(lmc([0.03, -0.03])).verdict == rules.NOT
    assert rules.lmc(lmc([0.01, 0.03])).verdict == rules.PARTLY  # 1 point is within the interval

    def cells(high: list[list[float]], low: list[list[float]]) -> pd.DataFrame:
        """Barriers of each spawn point's pairs (spawn 0 first), on test error with BatchNorm recomputed."""
        return pd.DataFrame([{"spawn_epoch": float(e), "eval_set": "test", "bn_reset": True, "group": g, "barrier": b}
                             for e, (hs, ls) in enumerate(zip(high, low)) for g, bs in (("high", hs), ("low", ls))
                             for b in bs])

    gaps = rules.lmc_gaps(cells([[0.5], [0.2, 0.3, 0.25], [0.2, 0.3, 0.25], [0.1, 0.1], [0.24, 0.26, np.nan]],
                                [[0.5], [0.0, 0.0, 0.0], [0.2], [0.05, 0.05], [0.0, 0.01]]))
    assert list(gaps.index) == [1.0, 2.0, 3.0, 4.0] and gaps["pairs"].tolist() == [3, 1, 2, 2]
    # 3 against 3, the low group constant: t(0.975, 2) x 0.05 / sqrt(3) = 0.124 < 0.25; one pair cannot tell; both
    # groups constant: no spread measured, however large the gap; a NaN barrier is left out (2 pairs against 2)
    assert gaps["held"].tolist() == [True, None, None, True]
    assert gaps.loc[4.0, "high"] == pytest.approx(0.25)
    one_spawn = rules.lmc(cells([[0.5]], [[0.1]]))
    assert one_spawn.verdict == rules.INCONCLUSIVE and "No spawn point after the first" in one_spawn.reason

    def ntk(ratios: list[float], spread: float = 1.1) -> pd.DataFrame:
        """Three training runs whose top/bottom velocity ratios are each of `ratios` times spread^-1, 1 and spread."""
        return pd.DataFrame([{"epoch": float(e), "seed": s, "group": g, "velocity": r * spread ** (s - 1) if g else 1.0}
                             for e, r in enumerate(ratios, 1) for s in range(3) for g in (0, 4)])

    # the stated ratio is the runs' geometric mean: r x spread^(-1, 0, 1) averages to r
    assert np.allclose(rules.ntk_ratios(ntk([2.0, 0.5, 3.0], spread=1.5), after=1.0), [0.5, 3.0])
    assert "1: 2.00, 2: 0.50, 3: 0.50, 4: 0.50" in rules.ntk(ntk([2.0, 0.5, 0.5, 0.5]), after=0.0).ours
    assert rules.ntk(ntk([2.0, 0.5, 0.5, 0.5]), after=0.0).verdict == rules.NOT  # faster at 1 of 4, slower at 3
    assert rules.ntk(ntk([2.0, 2.0, 1.0]), after=0.0).verdict == rules.PARTLY
    # log ratios log(r) + (-1, 0, 1) log(spread): standard error log(spread) / sqrt(3), t(0.975, 2) = 4.30
    assert rules.ntk(ntk([1.5, 1.5]), after=0.0).verdict == rules.REPRODUCED  # 0.405 > 4.30 x 0.055
    assert rules.ntk(ntk([1.5, 1.5], spread=1.3), after=0.0).verdict == rules.INCONCLUSIVE  # 0.405 < 4.30 x 0.151
    assert rules.ntk(ntk([1.5, 1.5]).query("seed == 0"), after=0.0).verdict == rules.INCONCLUSIVE  # one run
    # a velocity at an epoch covers the interval that ends there: the one ending at `after` is not after it
    assert rules.ntk(ntk([0.5, 1.5, 1.5]), after=1.0).verdict == rules.REPRODUCED
    assert list(rules.ntk_ratios(ntk([0.5, 1.5, 1.5]), after=1.0).index) == [2.0, 3.0]
    # no velocity after `after`: nothing to judge
    late = rules.ntk(ntk([1.5, 1.5]), after=2.0)
    assert late.verdict == rules.INCONCLUSIVE and late.ours == "no kernel velocity after epoch 2"


def test_scorecard_collects_recorded_verdicts_and_lists_pending_chapters(store):
    smoke = store("smoke")
    assert scorecard.recorded(smoke).empty
    assert "pruning_curves" in scorecard.pending(scorecard.recorded(smoke))
    assert not {"galleries", "scorecard"} & set(scorecard.pending(scorecard.recorded(smoke)))  # they judge nothing
    seeds3 = _full(0.800, 0.801, 0.799)
    scorecard.record(smoke, rules.cifar10_half(_curves([0.800, 0.802, 0.801], [0.7] * 3), seeds3, PRECISE))
    card = scorecard.recorded(smoke)
    assert card[["claim_id", "chapter", "verdict"]].values.tolist() == [
        ["cifar10_half", "pruning_curves", rules.REPRODUCED]]
    assert "pruning_curves" not in scorecard.pending(card)
    assert scorecard.recorded(store("scarce-test")).empty  # profiles keep separate scorecards


# every page that judges a claim, in book order, then the claim no page tests
JUDGING = ("pruning_curves", "score_epochs", "seeds", "transfer", "regime", "noise", "offsets", "lmc", "ntk")
VERDICTS = [rules.REPRODUCED] * 4 + [rules.PARTLY] * 3 + [rules.NOT] * 2 + [rules.INCONCLUSIVE]


def _card(chapters: tuple[str, ...]) -> pd.DataFrame:
    rows = [{"claim_id": f"{c}_claim", "claim": f"claim of {c}", "ours": "ours", "paper": "paper", "verdict": v,
             "reason": "why", "chapter": c} for c, v in zip((*chapters, "scorecard"), VERDICTS)]
    return pd.DataFrame(rows, columns=scorecard.COLUMNS)


def test_scorecard_facts_count_each_verdict_and_say_every_chapter_has_run():
    facts = scorecard.facts({"card": _card(JUDGING)}, get_profile("smoke"))
    assert facts["pending"] == "Every chapter has run at the smoke profile."
    assert (facts["claims"], facts["reproduced"], facts["partly"], facts["not"], facts["inconclusive"]) == (
        "10", "4", "3", "2", "1")
    # Kirsch's accuracies at 50% pruned, from the reference file
    assert (facts["kirsch_el2n"], facts["kirsch_random"], facts["kirsch_grand_init"], facts["kirsch_rho"]) == (
        "95.22%", "93.54%", "92.19%", "0.96")
    html = facts["table"].to_html()
    assert '<a href="ntk.html">ntk</a>' in html and "color: #cf222e" in html  # the not-reproduced rows in red


def test_scorecard_facts_name_the_pending_chapters_in_book_order():
    ran = tuple(c for c in JUDGING if c not in ("seeds", "ntk"))
    facts = scorecard.facts({"card": _card(ran)}, get_profile("smoke"))
    assert facts["pending"].startswith("Not yet run at this profile: seeds, ntk. Those pages still show")
    assert (facts["claims"], facts["reproduced"], facts["partly"], facts["not"], facts["inconclusive"]) == (
        "8", "4", "3", "1", "0")


def test_pruning_half_says_when_el2n_beats_the_full_data_or_has_no_runs():
    seeds3 = _full(0.800, 0.801, 0.799)
    beats_full = rules.cifar10_half(_curves([0.850, 0.851, 0.849], [0.7] * 3), seeds3, PRECISE)
    assert beats_full.verdict == rules.REPRODUCED and "EL2N beats the full data" in beats_full.reason
    below = rules.cifar10_half(_curves([0.70, 0.701, 0.699], [0.72, 0.721, 0.719]), seeds3, PRECISE)
    assert "below random" in below.reason
    empty = rules.cifar10_half(_curves([], [0.7] * 3), seeds3, PRECISE)
    assert (empty.verdict, empty.ours) == (rules.INCONCLUSIVE, "no runs")


def test_an_arm_without_seeds_has_no_estimate():
    diff, se, dof = statistics.contrast([[0.9], []], [[0.7]], NOISE)
    assert math.isnan(diff) and se == math.inf and dof == 0
    assert statistics.interval((diff, se, dof)) == (-math.inf, math.inf)
    assert statistics.compare([0.9], [], NOISE) == 0 and not statistics.equivalent([0.9], [], NOISE)


def _seed_counts(by_count: dict[int, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"n_seeds": n, "test_acc": a} for n, accs in by_count.items() for a in accs])


def _spearman(pair: float, others: int = 3) -> pd.DataFrame:
    """The single-seed table of runs whose pairwise correlation is `pair`: each seed against the mean of the
    `others` other seeds."""
    rho = pair / math.sqrt(pair + (1 - pair) / others)
    return pd.DataFrame([{"score": score, "epoch": 7.0, "seed": s, "spearman_to_mean": rho if score == "grand" else 0.1}
                         for score in ("grand", "el2n") for s in range(others + 1)])  # EL2N: not read


def _random(mean: float) -> pd.DataFrame:
    return pd.DataFrame({"method": "random", "test_acc": [mean - 0.001, mean, mean + 0.001]})


def _single_run(pair: float, seeds: pd.DataFrame, random: float = 0.70, epoch: float = 7.0,
                noise: statistics.SeedNoise = NOISE, single: pd.DataFrame | None = None) -> rules.Verdict:
    single = _spearman(pair) if single is None else single
    return rules.single_run(single, seeds, _random(random), epoch, noise, runs=10)


BETTER = _seed_counts({1: [0.700, 0.701, 0.699], 4: [0.800, 0.801, 0.799]})


def test_single_run_needs_a_projected_spearman_near_075_and_more_seeds_to_select_better():
    # pairs at 0.55: 0.66 against 3 others, 0.71 against 10 others, 0.77 against 10 including it
    verdict = _single_run(0.55, BETTER, random=0.60)
    assert verdict.verdict == rules.REPRODUCED
    assert verdict.ours == ("Single-seed GraNd Spearman 0.66 (0.66 to 0.66 over 4 seeds) to the mean of the other 3 "
                            "seeds; projected, 0.71 against a mean of 10 runs without it, 0.77 with it; 1 seed worse "
                            "than 4 seeds")
    # the verdict reads the seeds' mean; the seeds' range is reported beside it
    spread = _spearman(0.55).assign(spearman_to_mean=lambda t: t["spearman_to_mean"] + 0.02 * (t["seed"] - 1.5))
    assert "Spearman 0.66 (0.63 to 0.69 over 4 seeds)" in _single_run(0.55, BETTER, random=0.60, single=spread).ours
    assert "where they disagree the runs cannot tell" in verdict.reason
    # pairs at 0.3 (0.49 and 0.61) and at 0.8 (0.88 and 0.91): outside under both readings
    assert _single_run(0.3, BETTER, random=0.60).verdict == rules.NOT
    assert _single_run(0.8, BETTER, random=0.60).verdict == rules.NOT
    # pairs at 0.45: 0.63 without the run, 0.71 with it - the readings disagree, so the Spearman cannot tell
    assert _single_run(0.45, BETTER, random=0.60).verdict == rules.PARTLY
    # the same pairs measured against one other seed: 0.55, projected alike
    one_other = _single_run(0.55, BETTER, random=0.60, single=_spearman(0.55, others=1))
    assert one_other.verdict == rules.REPRODUCED
    assert "0.55 (0.55 to 0.55 over 2 seeds) to the other seed;" in one_other.ours
    # steady seeds exclude a one-point gain from more seeds: that part fails
    same = _seed_counts({1: [0.700, 0.701, 0.699], 4: [0.700, 0.702, 0.698]})
    steady = _single_run(0.55, same, random=0.60, noise=PRECISE)
    assert steady.verdict == rules.NOT and "1 seed not worse than 4 seeds" in steady.ours
    # one run each under one point of noise cannot tell
    unsure = _single_run(0.55, _seed_counts({1: [0.70], 4: [0.70]}), random=0.60)
    assert unsure.verdict == rules.PARTLY and "1 seed not shown worse than 4 seeds" in unsure.ours
    # a single seed count compares nothing; no single-run GraNd Spearman at the score epoch tells nothing either
    assert _single_run(0.55, _seed_counts({1: [0.70, 0.71]})).verdict == rules.PARTLY
    assert _single_run(0.55, BETTER, random=0.60, epoch=3.0).verdict == rules.PARTLY
    assert _single_run(0.55, _seed_counts({1: [0.7]}), epoch=3.0).verdict == rules.INCONCLUSIVE


def test_single_run_without_a_common_ranking_or_a_second_seed():
    # a Spearman of zero or below: no common ranking, so 0 against 10 other runs and 1/sqrt(10) with the run
    flat = _single_run(0.3, BETTER, random=0.60, single=_spearman(0.3).assign(spearman_to_mean=-0.05))
    assert flat.verdict == rules.NOT and "0.00 against a mean of 10 runs without it, 0.32 with it" in flat.ours
    lone = _single_run(0.55, BETTER, random=0.60, single=_spearman(0.55).query("seed == 0"))
    assert lone.verdict == rules.PARTLY and "it needs two score seeds" in lone.ours


def test_single_run_tests_more_seeds_only_where_the_averaged_subsets_beat_random_pruning():
    # more seeds select better, but GraNd's subsets lose to random pruning: the claim's premise fails here
    verdict = _single_run(0.55, BETTER, random=0.85)
    assert verdict.verdict == rules.PARTLY  # the Spearman matches; the other half is not tested
    assert "1 seed against 4: not tested, as GraNd's subsets do not beat random pruning" in verdict.ours
    assert _single_run(0.3, BETTER, random=0.85).verdict == rules.NOT
    # the gate reads both arms, 75% on average, so a lucky most-seeds arm alone does not open it
    assert "are not shown to beat" in _single_run(0.55, BETTER, random=0.745).ours
    # and it reads random pruning's own, wider pool: 3 points of single-run noise with 2 dof cannot tell
    wide = statistics.SeedNoise(0.002, 30, random=statistics.SeedNoise(0.03, 2))
    gated = _single_run(0.55, BETTER, random=0.73, noise=wide)
    assert "are not shown to beat" in gated.ours
    assert "1 seed worse than 4 seeds" in _single_run(0.55, BETTER, random=0.73, noise=PRECISE).ours


def test_transfer_cells_within_noise_tell_nothing_and_left_out_targets_are_named():
    own = {("resnet", "resnet"): 0.80, ("random", "resnet"): 0.70}
    # one point below the target's own scores, three seeds under one point of noise: neither a loss nor a match
    unsure = rules.transfer(_transfer({**own, ("vgg", "resnet"): 0.79}), EVERYWHERE)
    assert unsure.verdict == rules.INCONCLUSIVE and unsure.ours.startswith("0 of 1 foreign") and "0 fail" in unsure.ours
    weak_vgg = {("vgg", "vgg"): 0.70, ("random", "vgg"): 0.70, ("resnet", "vgg"): 0.75}
    verdict = rules.transfer(_transfer({**own, ("vgg", "resnet"): 0.85, **weak_vgg}), EVERYWHERE)
    assert verdict.verdict == rules.REPRODUCED and verdict.ours.endswith("; targets left out: vgg")


def test_a_foreign_cell_that_matches_the_own_scores_must_also_beat_random():
    # own scores 0.6 points above random, beyond two standard errors of a fifth of a point's noise; a foreign cell
    # level with random is within a point of the own scores, yet transfers nothing
    noise = defaultdict(lambda: statistics.SeedNoise(0.002, 30, random=statistics.SeedNoise(0.002, 30)))
    cells = {("resnet", "resnet"): 0.806, ("random", "resnet"): 0.80, ("vgg", "resnet"): 0.80}
    verdict = rules.transfer(_transfer(cells), noise)
    assert verdict.verdict == rules.NOT and verdict.ours.startswith("0 of 1 foreign") and "1 fail" in verdict.ours
    assert "resnet: own 80.60%, random 80.00% (seeds: own 3, random 3)" in verdict.ours
    assert rules.transfer(_transfer({**cells, ("vgg", "resnet"): 0.806}), noise).verdict == rules.REPRODUCED


def test_the_chosen_window_must_survive_the_judging_seeds():
    # seed 0 chooses 500 (1%); on seeds 1 and 2 the window at 10,000 beats it: the choice does not hold up
    judging = {0: 0.70, 500: 0.80, 10_000: 0.85}
    overturned = rules.window_cifar10(_offsets({0: {0: 0.70, 500: 0.80, 10_000: 0.72}, 1: judging, 2: judging},
                                               random=0.71), 50_000, NOISE)
    assert overturned.verdict == rules.PARTLY and overturned.ours.endswith("beaten there by offset 10,000")
    # seed 0 chooses 10,000 (20%), outside the small tail: where no window beats it on the other seeds the claim
    # fails; where the window at 500 beats it there, the runs cannot tell where the best window lies
    wide = {0: 0.70, 500: 0.72, 10_000: 0.80}
    assert rules.window_cifar10(_offsets({0: wide, 1: wide, 2: wide}, random=0.71), 50_000, NOISE).verdict == rules.NOT
    small = {0: 0.70, 500: 0.85, 10_000: 0.72}
    assert rules.window_cifar10(_offsets({0: wide, 1: small, 2: small}, random=0.71), 50_000,
                                NOISE).verdict == rules.INCONCLUSIVE


def test_a_small_tail_is_at_most_five_percent_of_the_data():
    def verdict(best: int) -> str:
        curve = {0: 0.70, best: 0.80}
        return rules.window_cifar10(_offsets({0: curve, 1: curve, 2: curve}, random=0.71), 50_000, NOISE).verdict

    assert verdict(2_500) == rules.REPRODUCED  # 5.0%
    assert verdict(2_600) == rules.NOT  # 5.2%: beats offset 0 and random, but skips more than a small tail


def test_a_window_chosen_from_a_tie_is_no_choice():
    windows = pd.DataFrame([{"selection": "window", "offset": o, "seed": s, "test_acc": a}
                            for s, accs in enumerate(([0.70, 0.70, 0.65], [0.60, 0.75, 0.65]))
                            for o, a in zip((0, 10, 20), accs, strict=True)]
                           + [{"selection": "random", "offset": np.nan, "seed": 0, "test_acc": 0.5}])
    verdict = rules.window_cifar10(windows, 1_000, NOISE)
    assert (verdict.verdict, verdict.ours) == (rules.INCONCLUSIVE, "best offsets on seed 0 tie at 70.00%")


def test_regime_with_one_training_set_size_is_inconclusive():
    sizes = pd.DataFrame([{"size": 1000, "fraction": 0.5, "selection": s, "test_acc": a}
                          for s, a in (("hard", 0.6), ("easy", 0.7))])
    verdict = rules.regime(sizes, EVERYWHERE)
    assert verdict.verdict == rules.INCONCLUSIVE and verdict.ours == "one training-set size (1,000 images)"
    empty = rules.regime(sizes.iloc[:0], EVERYWHERE)
    assert (empty.verdict, empty.ours) == (rules.INCONCLUSIVE, "no pruned runs")


def test_noise_tail_gives_the_noisy_and_the_clean_arms_their_own_pools():
    bins = pd.DataFrame({"score": "el2n", "bin": [0, 1], "noisy_fraction": [0.02, 0.5], "noise_rate": 0.1})
    noisy = {0: [0.70], 100: [0.78]}  # one seed a window under noise
    clean = {0: [0.799, 0.80, 0.801], 100: [0.799, 0.80, 0.801]}  # three seeds a window on clean labels
    pruning = pd.DataFrame([{"selection": sel, "offset": o, "test_acc": a}
                            for sel, arms in (("el2n", noisy), ("clean", clean)) for o, accs in arms.items()
                            for a in accs])
    under, on_clean = SeedNoise(sd=0.01, dof=10), SeedNoise(sd=0.05, dof=10)
    # the noisy arms borrow one point, the clean ones five: unequal seeds make a swap visible
    expected = statistics.contrast([[0.78], clean[0]], [[0.70], clean[100]], [under, on_clean, under, on_clean])
    low, high = statistics.interval(expected, 0.95)
    verdict = rules.noise_tail(bins, pruning, under, on_clean)
    assert f"(95% interval {low:+.2%} to {high:+.2%})" in verdict.ours
    swapped = statistics.interval(statistics.contrast([[0.78], clean[0]], [[0.70], clean[100]],
                                                      [on_clean, under, on_clean, under]), 0.95)
    assert f"{swapped[0]:+.2%}" not in verdict.ours


def test_noise_tail_without_el2n_bins_is_inconclusive():
    bins = pd.DataFrame({"score": "grand", "bin": [0, 1], "noisy_fraction": [0.02, 0.5], "noise_rate": 0.1})
    verdict = rules.noise_tail(bins, pd.DataFrame(columns=["selection", "offset", "test_acc"]), NOISE, NOISE)
    assert (verdict.verdict, verdict.ours) == (rules.INCONCLUSIVE, "no EL2N bins")


def test_a_clean_control_at_other_offsets_is_no_control():
    bins = pd.DataFrame({"score": "el2n", "bin": [0, 1], "noisy_fraction": [0.02, 0.5], "noise_rate": 0.1})
    pruning = pd.DataFrame([{"selection": "el2n", "offset": 0, "test_acc": 0.70},
                            {"selection": "el2n", "offset": 100, "test_acc": 0.80},
                            {"selection": "clean", "offset": 0, "test_acc": 0.80},
                            {"selection": "clean", "offset": 200, "test_acc": 0.80},
                            {"selection": "grand_init", "offset": 0, "test_acc": 0.70},
                            {"selection": "random", "offset": np.nan, "test_acc": 0.75}])
    verdict = rules.noise_tail(bins, pruning, NOISE, NOISE)
    assert verdict.verdict == rules.PARTLY and "no clean-label control at the same offsets" in verdict.ours
    # nor without the GraNd-at-init and random arms: one part of three told is too few
    no_init = rules.noise_tail(bins, pruning[pruning["selection"].isin(["el2n", "clean"])], NOISE, NOISE)
    assert no_init.verdict == rules.INCONCLUSIVE


def test_each_transfer_target_is_judged_with_its_own_seed_noise():
    # VGG's scores beat ResNet's own by 5 points; ResNet's lose to VGG's own by 3: beyond one point of seed noise
    # (1.8 points for three seeds a side), within five points (9 points)
    cells = {("resnet", "resnet"): 0.80, ("random", "resnet"): 0.70, ("vgg", "resnet"): 0.85,
             ("vgg", "vgg"): 0.80, ("random", "vgg"): 0.70, ("resnet", "vgg"): 0.77}
    assert rules.transfer(_transfer(cells), EVERYWHERE).verdict == rules.NOT  # one holds, one fails
    noisy_vgg = {"resnet": NOISE, "vgg": SeedNoise(sd=0.05, dof=10)}
    verdict = rules.transfer(_transfer(cells), noisy_vgg)
    assert verdict.verdict == rules.PARTLY and verdict.ours.startswith("1 of 2 foreign") and "0 fail" in verdict.ours
