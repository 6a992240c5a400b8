"""Subset selection from per-example scores. All indices refer to the dataset's own order.

Rankings count from the hardest end: rank 0 is the highest score. Ties are broken by dataset
index (lower index first), so every selection is deterministic.
"""

from __future__ import annotations

import torch
from torch import Tensor


def kept_size(n: int, fraction_pruned: float) -> int:
    """How many of `n` examples remain after pruning `fraction_pruned` of them."""
    if not 0.0 <= fraction_pruned < 1.0:
        raise ValueError(f"fraction_pruned must be in [0, 1), got {fraction_pruned}")
    return n - round(fraction_pruned * n)


def hardest_first(scores: Tensor) -> Tensor:
    """Dataset indices ordered from the highest score to the lowest (ties: lower index first)."""
    scores = torch.as_tensor(scores, dtype=torch.float64).cpu()
    if torch.isnan(scores).any():
        raise ValueError("scores contain NaN: recompute them (a diverged score run?) before pruning")
    return torch.sort(-scores, stable=True).indices


def keep_hardest(scores: Tensor, fraction_pruned: float) -> Tensor:
    """Sorted indices of the highest-scoring (1 - fraction_pruned) share, class-agnostic as in the paper."""
    return hardest_first(scores)[: kept_size(len(scores), fraction_pruned)].sort().values


def keep_hardest_per_class(scores: Tensor, labels: Tensor, fraction_pruned: float) -> Tensor:
    """Sorted indices of the highest-scoring examples of each class, each class keeping its share of the
    (1 - fraction_pruned) kept (shares rounded by largest remainder, so that as many are kept as `keep_hardest`
    keeps): a control for the class skew of `keep_hardest`, not the paper's selection."""
    labels = torch.as_tensor(labels).cpu()
    if len(labels) != len(scores):
        raise ValueError(f"{len(scores)} scores for {len(labels)} labels: score the same examples as are labelled")
    classes, counts = labels.unique(return_counts=True)
    total = kept_size(len(labels), fraction_pruned)
    exact = counts.double() * total / len(labels)
    quotas = exact.floor().long()
    quotas[torch.sort(quotas - exact, stable=True).indices[: total - int(quotas.sum())]] += 1  # largest remainders
    order = hardest_first(scores)
    ordered_labels = labels[order]
    return torch.cat([order[ordered_labels == c][:q] for c, q in zip(classes, quotas.tolist(), strict=True)]
                     ).sort().values


def keep_easiest(scores: Tensor, fraction_pruned: float) -> Tensor:
    """Sorted indices of the lowest-scoring (1 - fraction_pruned) share."""
    order = hardest_first(scores)
    return order[len(order) - kept_size(len(scores), fraction_pruned):].sort().values


def keep_window(scores: Tensor, offset: int, size: int) -> Tensor:
    """Sorted indices of ranks [offset, offset + size), counted from the hardest end.

    The authors' code counts offsets from the easiest end; here offset 0 keeps the hardest
    examples and offset k skips the k highest scores.
    """
    if offset < 0 or size <= 0 or offset + size > len(scores):
        raise ValueError(f"window [{offset}, {offset + size}) does not fit in {len(scores)} examples")
    return hardest_first(scores)[offset : offset + size].sort().values


def class_coverage(labels: Tensor, kept: Tensor) -> Tensor:
    """Share of each class's examples that the subset `kept` retains (one entry per class)."""
    labels = torch.as_tensor(labels).cpu()
    classes = int(labels.max()) + 1
    return (torch.bincount(labels[torch.as_tensor(kept).cpu()], minlength=classes)
            / torch.bincount(labels, minlength=classes).clamp(min=1))


def random_subset(n: int, size: int, seed: int) -> Tensor:
    """Sorted indices of `size` of `n` examples drawn uniformly without replacement under `seed`."""
    if not 0 < size <= n:
        raise ValueError(f"cannot draw {size} of {n} examples")
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:size].sort().values


def ccs(scores: Tensor, size: int, hard_cut: float, strata: int = 50, seed: int = 0) -> Tensor:
    """Coverage-centric coreset selection (Zheng et al., ICLR 2023).

    Drop the `hard_cut` fraction of highest scores, split the remaining score range into `strata`
    equal-width bins, then give each non-empty bin an equal share of the budget, smallest bins
    first (a bin with fewer examples than its share gives them all and passes on the rest), and
    sample uniformly within bins. Returns sorted indices.
    """
    order = hardest_first(scores)
    pool = order[round(hard_cut * len(order)):]
    if size > len(pool):
        raise ValueError(f"cannot keep {size} examples after cutting the hardest {hard_cut:.0%}")
    values = torch.as_tensor(scores, dtype=torch.float64).cpu()[pool]
    finite = torch.isfinite(values)
    lo, hi = values[finite].min(), values[finite].max()
    edges = torch.linspace(float(lo), float(hi), strata + 1, dtype=torch.float64)
    bins = torch.bucketize(values.clamp(lo, hi), edges[1:-1], right=True)
    members = [pool[bins == b] for b in range(strata)]
    members = sorted((m for m in members if len(m)), key=len)
    g = torch.Generator().manual_seed(seed)
    picks, budget = [], size
    for i, m in enumerate(members):
        share = min(len(m), budget // (len(members) - i))
        picks.append(m[torch.randperm(len(m), generator=g)[:share]])
        budget -= share
    return torch.cat(picks).sort().values
