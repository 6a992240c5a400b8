"""The lmc page: its EL2N groups, and every number and sentence its prose shows, on hand-made barrier tables."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
import torch

from analysis.chapters import lmc
from analysis.profiles import SCARCE, SMOKE
from analysis.rules import INCONCLUSIVE, NOT, PARTLY, REPRODUCED

PROFILE = replace(SMOKE, lmc=replace(SMOKE.lmc, spawn_epochs=(0, 1, 2), pairs=2))
GROUPS = ("low", "high", "random", "full")
SPREAD = 0.005  # pairs at +-0.5 points: 95% interval of a 2-against-2 difference +-3.04 points (t(0.975, 2) 4.30)


def _study(own_high: dict[float, float], own_low: dict[float, float],
           test: dict[tuple[float, str], float] | None = None,
           other: float = 0.01, profile=PROFILE) -> pd.DataFrame:
    """Barriers at spawn epochs 0, 1, 2, the mean of each cell's pairs (`lmc.pairs`, spread by +-`SPREAD`):
    `own_high` / `own_low` on the groups' own images (BatchNorm recomputed), `test` for (epoch, group) on test
    error (BatchNorm recomputed), `other` everywhere else."""
    test = test or {}
    rows = []
    for e in profile.lmc.spawn_epochs:
        for g in GROUPS:
            n = lmc.pairs(profile, e, g)
            for k in range(n):
                for eval_set in ("test", "own train"):
                    for bn_reset in (False, True):
                        barrier = other
                        if bn_reset and eval_set == "own train" and g in ("high", "low"):
                            barrier = (own_high if g == "high" else own_low)[e]
                        elif bn_reset and eval_set == "test":
                            barrier = test.get((e, g), other)
                        rows.append({"spawn_epoch": e, "group": g, "pair": k, "eval_set": eval_set,
                                     "bn_reset": bn_reset, "barrier": barrier + (SPREAD * (2 * k - 1) if n > 1 else 0)})
    return pd.DataFrame(rows)


def _context(study: pd.DataFrame) -> str:
    return lmc.facts({"study": study}, PROFILE)["context"]


def test_pairs_go_where_the_verdict_compares_and_the_first_pair_keeps_its_seeds():
    assert [lmc.pairs(PROFILE, e, g) for e in (0, 1) for g in GROUPS] == [1, 1, 1, 1, 2, 2, 1, 1]
    assert [lmc.child_seeds(k) for k in range(3)] == [(1, 2), (3, 4), (5, 6)]  # the parent is seed 0


def test_groups_are_equal_sized_and_ordered_by_score():
    scores = torch.rand(SCARCE.num_train, generator=torch.Generator().manual_seed(0))
    groups = lmc.groups(SCARCE, scores)
    size = round(SCARCE.lmc.group_fraction * SCARCE.num_train)
    assert groups["full"] is None
    assert all(len(groups[g]) == size for g in ("low", "high", "random"))
    assert scores[groups["low"]].max() <= scores[groups["high"]].min()
    assert not set(groups["low"].tolist()) & set(groups["high"].tolist())


def test_context_says_the_pattern_holds_when_high_is_above_low_by_the_interval_after_the_first_spawn():
    # at spawn 0 the high group is below the low one: the first spawn point does not count
    text = _context(_study(own_high={0: 0.0, 1: 0.30, 2: 0.25}, own_low={0: 0.5, 1: 0.10, 2: 0.20}))
    assert text.endswith("barriers are 30.0%, 25.0% against 10.0%, 20.0% for the low-EL2N children at those epochs "
                         "(means of 2 pairs): there, the paper's pattern holds at every spawn point (95% interval).")


@pytest.mark.parametrize("low_at_2", [0.23, 0.25, 0.3])  # within the interval, level, above
def test_context_leaves_the_pattern_out_when_high_is_not_above_by_the_interval_at_any_later_spawn(low_at_2):
    text = _context(_study(own_high={0: 0.5, 1: 0.30, 2: 0.25}, own_low={0: 0.0, 1: 0.10, 2: low_at_2}))
    assert text.endswith("for the low-EL2N children at those epochs (means of 2 pairs).")
    assert "pattern" not in text


def test_context_says_one_pair_cannot_tell():
    one = replace(PROFILE, lmc=replace(PROFILE.lmc, pairs=1))
    text = lmc.facts({"study": _study({0: 0.5, 1: 0.9, 2: 0.9}, {0: 0.0, 1: 0.0, 2: 0.0}, profile=one)}, one)["context"]
    assert text.endswith("barriers are 90.0%, 90.0% against 0.0%, 0.0% for the low-EL2N children at those epochs, "
                         "from one pair of children each: too few to tell whether they differ.")


def test_context_numbers_on_test_error_read_only_later_spawns_with_batchnorm_recomputed():
    test = {(0, "high"): 0.9, (1, "high"): 0.07, (1, "low"): 0.02, (2, "random"): 0.12, (2, "low"): 0.03}
    text = _context(_study(own_high={0: 0, 1: 0, 2: 0}, own_low={0: 0, 1: 0, 2: 0}, test=test, other=0.01))
    # max over groups and spawns 1, 2: 12%; largest |high - low|: 7% - 2% at spawn 1 (spawn 0's 90% excluded)
    assert text.startswith("On test error, every group's mean barrier at spawn epochs 1, 2 is at most 12.0%, and the "
                           "high and low groups differ by at most 5.0%. On each group's own training images (BatchNorm "
                           "recomputed) the high-EL2N children's barriers are 0.0%, 0.0% against 0.0%, 0.0%")


def test_facts_show_the_setting_and_the_table():
    study = _study(own_high={0: 0.1, 1: 0.2, 2: 0.3}, own_low={0: 0.1, 1: 0.1, 2: 0.1})
    facts = lmc.facts({"study": study}, PROFILE)
    assert facts["runs"] == str(2 * (4 + 2 * 6))  # two children a pair: 4 pairs at spawn 0, 6 at each later one
    assert facts["group"] == f"{PROFILE.lmc.group_fraction:.0%}"
    assert facts["points"] == str(PROFILE.lmc.points)
    assert facts["test"] == "2,000 test images" and facts["bn"] == "1,000 training images"
    table = facts["table"].data
    assert list(table.columns) == [0, 1, 2] and table.loc[("own train", True, "high"), 2] == pytest.approx(0.3)
    assert "30.0%" in facts["table"].to_html()


@pytest.mark.parametrize(("high", "verdict"), [
    ({0: 0.0, 1: 0.30, 2: 0.30}, REPRODUCED),  # above at both later spawns
    ({0: 0.0, 1: 0.30, 2: 0.22}, PARTLY),  # above at one, within the interval at the other
    ({0: 0.0, 1: 0.30, 2: 0.01}, NOT),  # above at one, below at the other: as many failures as successes
    ({0: 0.9, 1: 0.11, 2: 0.01}, NOT),  # within the interval at one, below at the other: above nowhere
    ({0: 0.9, 1: 0.11, 2: 0.21}, INCONCLUSIVE),  # within the interval at both
])
def test_verdict_reads_test_error_with_batchnorm_recomputed(high, verdict):
    low = {0: 0.5, 1: 0.10, 2: 0.20}
    test = {**{(e, "high"): v for e, v in high.items()}, **{(e, "low"): v for e, v in low.items()}}
    (judged,) = lmc.verdicts({"study": _study(own_high=high, own_low=low, test=test)}, PROFILE)
    assert judged.claim_id == "lmc" and lmc.CLAIMS == ("lmc",)
    assert judged.verdict == verdict and "(means of 2 pairs of children)" in judged.ours


def test_verdict_with_one_pair_is_inconclusive_however_large_the_gap():
    one = replace(PROFILE, lmc=replace(PROFILE.lmc, pairs=1))
    test = {(1, "high"): 0.9, (2, "high"): 0.9}
    (judged,) = lmc.verdicts({"study": _study({0: 0, 1: 0, 2: 0}, {0: 0, 1: 0, 2: 0}, test=test, profile=one)}, one)
    assert judged.verdict == INCONCLUSIVE and "Too few pairs" in judged.reason and "one pair of children" in judged.ours
