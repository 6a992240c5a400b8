"""Label-noise math (the paper's Sec. 5): how well scores flag corrupted labels, and which windows skip them.

The noise page (`analysis.chapters.noise`) runs the study; this module holds the measures it reads.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import rankdata
from torch import Tensor

from analysis import prune


def noise_detection_report(scores: Tensor, is_noisy: Tensor, bins: int = 10) -> dict:
    """How well high `scores` (N,) flag the examples of the bool mask `is_noisy` (N,).

    Returns `auroc` (Mann-Whitney U / (n_noisy n_clean), average ranks for ties, +inf allowed; NaN
    without both kinds), `k` (= n_noisy) and `precision_at_k` (noisy share of the k highest scores,
    ties by lower index first as `prune.hardest_first`; NaN for k = 0), `noise_rate`, and over
    `bins` equal-count bins of ascending score: `bin_counts` (bins,) and `bin_noisy_fraction` (bins,).
    """
    values = torch.as_tensor(scores, dtype=torch.float64).cpu()
    noisy = torch.as_tensor(is_noisy, dtype=torch.bool).cpu().numpy()
    n, k = len(noisy), int(noisy.sum())
    ranks = rankdata(values.numpy())
    auroc = (ranks[noisy].sum() - k * (k + 1) / 2) / (k * (n - k)) if 0 < k < n else float("nan")
    order = prune.hardest_first(values).numpy()
    precision = float(noisy[order[:k]].mean()) if k else float("nan")
    parts = np.array_split(order[::-1], bins)
    return {
        "auroc": float(auroc), "k": k, "precision_at_k": precision, "noise_rate": k / n,
        "bin_counts": np.array([len(p) for p in parts]),
        "bin_noisy_fraction": np.array([noisy[p].mean() if len(p) else np.nan for p in parts]),
    }


def noise_offsets(n_noisy: int, n: int, size: int) -> list[int]:
    """Window offsets 0, n_noisy/2, n_noisy, 2 n_noisy, clipped so a window of `size` fits in `n` (unique)."""
    return sorted({min(round(m * n_noisy), n - size) for m in (0.0, 0.5, 1.0, 2.0)})
