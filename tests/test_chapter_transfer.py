"""The transfer page: the accuracy and gain matrices, the cell counts in its prose, and its verdict."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.chapters import transfer
from analysis.profiles import Variant, get_profile
from analysis.statistics import SeedNoise, noise_table

# three retraining seeds around each mean: their own standard deviation, 0.2 points, sets each arm's standard
# error: a difference counts beyond 2 * sqrt(2 / 3) * 0.2 = 0.33 points, a match needs |difference| below
# 1 - t(0.95, 4) * 0.16 = 0.65 points
SPREAD = (-0.002, 0.0, 0.002)
NOISE = SeedNoise(sd=0.002, dof=30)  # runs that vary by a fifth of a point, as these tables' seeds do
BOTH = {"a": NOISE, "b": NOISE}  # that noise for both targets
SOURCES = ["a", "b", "a lr/2"]  # sources a and b are also the targets
# mean test accuracy: {target: {source: mean}}
MEANS = {
    "a": {"a": 0.70, "b": 0.72, "a lr/2": 0.66, "random": 0.68},
    "b": {"a": 0.60, "b": 0.65, "a lr/2": 0.652, "random": 0.64},
}


def runs(means: dict = MEANS) -> pd.DataFrame:
    return pd.DataFrame([{"source": s, "seed": i, "test_acc": m + d, "target": t}
                         for t, row in means.items() for s, m in row.items() for i, d in enumerate(SPREAD)])


def test_sources_are_the_transfer_models_and_other_hyperparameters():
    profile = get_profile("smoke")
    assert transfer.transfer_sources(profile) == {
        "resnet18-w4": Variant(model="resnet18", width=4), "vgg11-w8": Variant(model="vgg11", width=8),
        "resnet18-w4 lr/2 wd/5": Variant(lr=0.05, weight_decay=1e-4)}
    laptop = get_profile("laptop")  # the halved rate is the profile's own (0.2 there), as the source's name says
    assert transfer.transfer_sources(laptop)["airbench-w24 lr/2 wd/5"] == Variant(lr=0.1, weight_decay=1e-4)


def test_matrices_order_the_sources_and_subtract_random():
    acc, gain = transfer.matrices(runs(), SOURCES)
    assert list(acc.index) == [*SOURCES, "random"] and list(acc.columns) == ["a", "b"]
    assert list(gain.index) == SOURCES
    assert gain.loc["b", "a"] == pytest.approx(0.04) and gain.loc["a", "b"] == pytest.approx(-0.04)


def test_counts():
    _, gain = transfer.matrices(runs(), SOURCES)
    # vs random: target a - a +2, b +4, a lr/2 -2 points; target b - a -4, b +1, a lr/2 +1.2: two losses of six.
    # vs the target's own scores: (b -> a) +2 beats them and (a lr/2 -> b) +0.2 matches them; (a -> b) and
    # (a lr/2 -> a) lose: two of the four foreign cells whose target also scores.
    assert transfer.counts(runs(), gain, BOTH) == {"cells": 6, "losses": 2, "foreign": 4, "as_own": 2}
    # one seed a cell on a noisy profile (1 point, 10 degrees of freedom): a difference counts beyond 3.2 points
    # (t 2.23 x 1.41) and the 90% interval is +-2.6 points, too wide for a match - only (a -> b)'s 4-point loss
    # to random counts, and no foreign cell matches or beats its target's own scores
    one = runs()[lambda d: d["seed"] == 1]
    noisy = dict.fromkeys("ab", SeedNoise(sd=0.01, dof=10))
    assert transfer.counts(one, gain, noisy) == {"cells": 6, "losses": 1, "foreign": 4, "as_own": 0}


def test_context():
    _, gain = transfer.matrices(runs(), SOURCES)
    assert transfer.context(runs(), gain, BOTH) == (
        "2 of 6 cells lose to random pruning beyond two standard errors (differences from -4.0% to +4.0%). "
        "Against the target's own scores instead of random, scores from another source match (within a point, at "
        "90% confidence) or beat them in 2 of 4 cells.")


def test_facts_and_verdict():
    profile = get_profile("smoke")
    acc, gain = transfer.matrices(runs(), SOURCES)
    tables = {"runs": runs(), "accuracy": acc, "gain": gain, "seed_noise": noise_table(BOTH, "target")}
    facts = transfer.facts(tables, profile)
    table = facts["table"].data
    assert (table.index.name, table.columns.name) == ("source (scored)", "target (trained)")
    assert list(table.index) == [*SOURCES, "random"] and ">72.00%</td>" in facts["table"].to_html()
    assert facts["fraction"] == f"{profile.study_fraction:.0%}"
    verdicts = transfer.verdicts(tables, profile)
    assert [v.claim_id for v in verdicts] == list(transfer.CLAIMS) == ["transfer"]
    # judged against the target's own scores, not random: two foreign cells hold, two lose - as many failures as
    # successes is not reproduced
    assert verdicts[0].verdict == "not reproduced" and verdicts[0].ours.startswith("2 of 4 foreign")
    # (a lr/2 -> a) at -0.3 points matches the target's own scores instead: three of four hold
    better = {**MEANS, "a": {**MEANS["a"], "a lr/2": 0.697}}
    assert transfer.verdicts({**tables, "runs": runs(better)}, profile)[0].verdict == "partly"
