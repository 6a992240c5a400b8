import itertools

import pytest
import torch

from analysis import prune


def test_keep_hardest_and_easiest_sizes_and_ties():
    scores = torch.tensor([0.5, 0.9, 0.1, 0.9, 0.3, 0.7])
    assert prune.keep_hardest(scores, 0.5).tolist() == [1, 3, 5]
    assert prune.keep_easiest(scores, 0.5).tolist() == [0, 2, 4]
    assert prune.hardest_first(scores).tolist() == [1, 3, 5, 0, 4, 2]  # tie: lower index first
    assert len(prune.keep_hardest(torch.rand(1000), 0.3)) == 700
    assert prune.kept_size(50_000, 0.5) == 25_000


def test_window_counts_from_the_hardest_end():
    scores = torch.arange(10.0)  # example i has score i: the hardest is 9
    assert prune.keep_window(scores, 0, 3).tolist() == [7, 8, 9]
    assert prune.keep_window(scores, 2, 3).tolist() == [5, 6, 7]
    with pytest.raises(ValueError):
        prune.keep_window(scores, 8, 3)


def test_window_never_overlaps_the_excluded_top_tail():
    scores = torch.rand(500, generator=torch.Generator().manual_seed(0))
    for offset in (0, 10, 100, 250):
        top = set(prune.hardest_first(scores)[:offset].tolist())
        window = prune.keep_window(scores, offset, 200)
        assert len(window) == 200 and not top & set(window.tolist())


def test_random_subset_is_seeded():
    a, b = prune.random_subset(100, 30, seed=1), prune.random_subset(100, 30, seed=1)
    assert torch.equal(a, b) and len(set(a.tolist())) == 30
    assert not torch.equal(a, prune.random_subset(100, 30, seed=2))


def test_infinite_scores_rank_hardest_and_nan_is_refused():
    scores = torch.tensor([1.0, float("inf"), 2.0])
    assert prune.hardest_first(scores).tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="NaN"):
        prune.hardest_first(torch.tensor([1.0, float("nan")]))


def test_ccs_size_cut_and_coverage():
    scores = torch.rand(2000, generator=torch.Generator().manual_seed(0))
    keep = prune.ccs(scores, size=600, hard_cut=0.1, strata=10, seed=0)
    assert len(keep) == 600 and len(set(keep.tolist())) == 600
    cut = set(prune.hardest_first(scores)[:200].tolist())
    assert not cut & set(keep.tolist())
    kept_scores = scores[keep]
    pool = scores[prune.hardest_first(scores)[200:]]
    edges = torch.linspace(float(pool.min()), float(pool.max()), 11)
    for lo, hi in itertools.pairwise(edges):
        assert ((kept_scores >= lo) & (kept_scores <= hi)).any(), "every stratum contributes"


def test_ccs_gives_small_strata_everything_and_fills_the_budget():
    scores = torch.cat([torch.zeros(5), torch.ones(95)])  # two strata of 5 and 95 examples
    keep = prune.ccs(scores, size=40, hard_cut=0.0, strata=2, seed=0)
    assert len(keep) == 40 and set(range(5)) <= set(keep.tolist())


def test_class_coverage_counts_each_class_share():
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2])
    kept = torch.tensor([0, 1, 4, 5])
    assert prune.class_coverage(labels, kept).tolist() == [0.5, 1.0, 0.0]


def test_keep_hardest_per_class_keeps_each_classs_hardest_share():
    # class 0 holds the six highest scores, so class-agnostic pruning keeps none of class 1
    scores = torch.tensor([9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 0.5, 5.0, 4.0, 4.5, 0.1])
    labels = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
    assert prune.class_coverage(labels, prune.keep_hardest(scores, 0.5)).tolist() == [1.0, 0.0]
    kept = prune.keep_hardest_per_class(scores, labels, 0.5)
    assert kept.tolist() == [0, 2, 3, 4, 5, 9]  # class 0: scores 9, 8, 7; class 1: 4, 3, 2
    assert prune.class_coverage(labels, kept).tolist() == [0.5, 0.5]
    # one class: the class-agnostic selection
    assert torch.equal(prune.keep_hardest_per_class(scores, torch.zeros(12, dtype=torch.long), 0.25),
                       prune.keep_hardest(scores, 0.25))
    # classes of 5, 5 and 2 at 50% pruned: 6 kept as by keep_hardest, the odd halves rounded up for the lower classes
    odd = torch.tensor([0] * 5 + [1] * 5 + [2] * 2)
    kept = prune.keep_hardest_per_class(scores, odd, 0.5)
    assert len(kept) == len(prune.keep_hardest(scores, 0.5)) == 6
    assert torch.bincount(odd[kept]).tolist() == [3, 2, 1]
    with pytest.raises(ValueError, match="same examples"):
        prune.keep_hardest_per_class(scores, labels[:5], 0.5)
